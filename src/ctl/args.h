/*
 * args — a ferryctl command's arguments after its name: positionals and
 * the --options the command allows.
 */
#ifndef FERRY_CTL_ARGS_H
#define FERRY_CTL_ARGS_H

/* The options, as bits of a command's allowed set and of struct args. */
enum args_opt {
	O_PASSWORD = 1 << 0,
	O_JSON = 1 << 1,
	O_MAX_PEERS = 1 << 2,
	O_NAME = 1 << 3,
	O_TTL = 1 << 4,
	O_USER = 1 << 5,
};
#define ARGS_N_OPTS 6
#define ARGS_MAX_POS 2

/* What a command accepts. */
struct args_spec {
	int min_pos, max_pos;           /* max_pos <= ARGS_MAX_POS */
	const char *pos_names;          /* for "missing NAME" messages */
	int allowed;                    /* enum args_opt */
};

/* The strings point into the argv given to args_parse(). */
struct args {
	const char *pos[ARGS_MAX_POS];
	int npos;
	int seen;                       /* enum args_opt */
	const char *val[ARGS_N_OPTS];
};

/*
 * Split argv into positionals and the options spec allows.  "--opt VALUE"
 * and "--opt=VALUE" are both accepted; "--" ends the options so that a
 * value starting with '-' can be passed.  what names the command in
 * messages.  Returns 0, 1 for --help, or -1 after reporting the problem.
 */
int args_parse(const struct args_spec *spec, const char *what, int argc,
	       char **argv, struct args *a);
/* The value given to the option opt (one enum args_opt bit), or NULL when
 * it was not given (or takes no value: see a->seen). */
const char *args_value(const struct args *a, int opt);

#endif
