/* args — see args.h. */
#include "ctl/args.h"
#include "ctl/output.h"
#include "core/util.h"

#include <string.h>

static const struct {
	const char *name;
	int bit;
	int has_value;
} options[] = {
	{ "password", O_PASSWORD, 1 },
	{ "json", O_JSON, 0 },
	{ "max-peers", O_MAX_PEERS, 1 },
	{ "name", O_NAME, 1 },
	{ "ttl", O_TTL, 1 },
	{ "user", O_USER, 1 },
};
_Static_assert(ARRAY_LEN(options) == ARGS_N_OPTS, "one value slot per option");

const char *args_value(const struct args *a, int opt)
{
	for (size_t i = 0; i < ARRAY_LEN(options); i++)
		if (options[i].bit == opt)
			return a->val[i];
	return NULL;
}

/* The option s ("--name" or "--name=value", at argv[*i]), with its value
 * taken from the next argument when needed.  Returns 0, or -1 after
 * reporting the problem. */
static int take_option(const struct args_spec *spec, const char *what,
		       int argc, char **argv, int *i, struct args *a)
{
	const char *s = argv[*i];
	const char *name = s + (s[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	size_t k;

	for (k = 0; k < ARRAY_LEN(options); k++)
		if (strlen(options[k].name) == len &&
		    strncmp(options[k].name, name, len) == 0 &&
		    s[1] == '-')
			break;
	if (k == ARRAY_LEN(options) || !(spec->allowed & options[k].bit)) {
		out_fail("%s: unknown option %.*s", what,
			 (int)(eq ? (size_t)(eq - s) : strlen(s)), s);
		return -1;
	}
	if (a->seen & options[k].bit) {
		out_fail("%s: --%s given twice", what, options[k].name);
		return -1;
	}
	a->seen |= options[k].bit;
	if (!options[k].has_value) {
		if (eq) {
			out_fail("%s: --%s takes no value", what, options[k].name);
			return -1;
		}
	} else if (eq) {
		a->val[k] = eq + 1;
	} else if (*i + 1 < argc) {
		a->val[k] = argv[++*i];
	} else {
		out_fail("%s: --%s needs a value", what, options[k].name);
		return -1;
	}
	return 0;
}

int args_parse(const struct args_spec *spec, const char *what, int argc,
	       char **argv, struct args *a)
{
	int only_pos = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (!only_pos && strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (!only_pos && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0))
			return 1;
		if (!only_pos && s[0] == '-' && s[1] != 0) {
			if (take_option(spec, what, argc, argv, &i, a) < 0)
				return -1;
			continue;
		}
		if (a->npos == spec->max_pos) {
			out_fail("%s: unexpected argument '%s'", what, s);
			return -1;
		}
		a->pos[a->npos++] = s;
	}
	if (a->npos < spec->min_pos) {
		out_fail("%s: missing %s", what, spec->pos_names);
		return -1;
	}
	return 0;
}
