/* ctl — ferryctl's commands; see ctl.h and doc/ferryctl.8. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#include "core/names.h"
#endif

#include "ctl/ctl.h"
#include "conf/conf.h"
#include "http/parse.h"
#include "auth/ice_servers.h"
#include "auth/jwt.h"
#include "store/store.h"
#include "core/util.h"
#include "core/utf8.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#ifndef FERRY_SYSCONFDIR
#define FERRY_SYSCONFDIR "/etc"
#endif
#ifndef FERRY_LOCALSTATEDIR
#define FERRY_LOCALSTATEDIR "/var"
#endif

#define DEFAULT_CONF     FERRY_SYSCONFDIR "/ferry/ferryd.conf"
#define DEFAULT_DATABASE FERRY_LOCALSTATEDIR "/lib/ferry/ferry.db"
/* The built-in defaults of `realm` and `room-max-peers` (ferryd.conf(5)),
 * used when no config file is read. */
#define DEFAULT_REALM     "ferry"
#define DEFAULT_MAX_PEERS 16

static const char usage_text[] =
	"Usage: ferryctl [-c FILE | -d DATABASE] COMMAND\n"
	"\n"
	"Manage the database of ferryd: TURN users, shared secrets, revoked\n"
	"users and signaling rooms.  A running ferryd sees changes within 2 s.\n"
	"\n"
	"Options:\n"
	"  -c FILE      read `database` and `realm` from FILE\n"
	"               (default " DEFAULT_CONF ")\n"
	"  -d DATABASE  use DATABASE; the realm comes from the default config\n"
	"               file when it exists, else \"" DEFAULT_REALM "\"\n"
	"  -h, --help   show this help\n"
	"\n"
	"Commands:\n"
	"  user add NAME [--password P]    add a TURN user (prompts when P is omitted)\n"
	"  user del NAME                   remove a TURN user (its relays end at once)\n"
	"  user list [--json]              list TURN users\n"
	"  secret add [VALUE]              add a shared secret (generated when omitted)\n"
	"  secret del ID                   remove a shared secret\n"
	"  secret list [--json]            list shared secrets, with their values\n"
	"  revoke USER                     refuse USER's credentials and tokens, end their\n"
	"                                  relays and kick their signaling peers\n"
	"  unrevoke USER                   accept them again\n"
	"  room add NAME [--max-peers N]   create a room (N from 1 to 1000)\n"
	"  room del NAME                   remove a room\n"
	"  room list [--json]              list rooms\n"
	"  token ROOM [--name N] [--ttl S] mint a signaling join token\n"
	"  credentials [--user U] [--ttl S]  print ICE servers with TURN credentials\n";

/* ------------------------------------------------------------- messages */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one line on stderr that every failure produces. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ferryctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------- arguments */

enum opt_bit {
	O_PASSWORD = 1 << 0,
	O_JSON = 1 << 1,
	O_MAX_PEERS = 1 << 2,
	O_NAME = 1 << 3,
	O_TTL = 1 << 4,
	O_USER = 1 << 5,
};

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

#define MAX_POS 2

/* A command's arguments after its name: positionals and --options. */
struct args {
	const char *pos[MAX_POS];
	int npos;
	int seen;                       /* enum opt_bit */
	const char *val[ARRAY_LEN(options)];
};

static const char *opt_value(const struct args *a, int bit)
{
	for (size_t i = 0; i < ARRAY_LEN(options); i++)
		if (options[i].bit == bit)
			return a->val[i];
	return NULL;
}

struct ctl;

struct command {
	const char *word1, *word2;      /* "user" "add"; word2 NULL for one word */
	int min_pos, max_pos;
	const char *pos_names;          /* for "missing NAME" messages */
	int allowed;                    /* enum opt_bit */
	int (*run)(struct ctl *c, const struct args *a);
};

/*
 * Split argv into positionals and the options cmd allows.  "--opt VALUE"
 * and "--opt=VALUE" are both accepted; "--" ends the options so that a
 * value starting with '-' can be passed.  Returns 0, 1 for --help, or -1
 * after reporting the problem.
 */
static int parse_args(const struct command *cmd, const char *what, int argc,
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
			const char *name = s + (s[1] == '-' ? 2 : 1);
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			size_t k;

			for (k = 0; k < ARRAY_LEN(options); k++)
				if (strlen(options[k].name) == len &&
				    strncmp(options[k].name, name, len) == 0 &&
				    s[1] == '-')
					break;
			if (k == ARRAY_LEN(options) || !(cmd->allowed & options[k].bit)) {
				fail("%s: unknown option %.*s", what,
				     (int)(eq ? (size_t)(eq - s) : strlen(s)), s);
				return -1;
			}
			if (a->seen & options[k].bit) {
				fail("%s: --%s given twice", what, options[k].name);
				return -1;
			}
			a->seen |= options[k].bit;
			if (!options[k].has_value) {
				if (eq) {
					fail("%s: --%s takes no value", what, options[k].name);
					return -1;
				}
			} else if (eq) {
				a->val[k] = eq + 1;
			} else if (i + 1 < argc) {
				a->val[k] = argv[++i];
			} else {
				fail("%s: --%s needs a value", what, options[k].name);
				return -1;
			}
			continue;
		}
		if (a->npos == cmd->max_pos) {
			fail("%s: unexpected argument '%s'", what, s);
			return -1;
		}
		a->pos[a->npos++] = s;
	}
	if (a->npos < cmd->min_pos) {
		fail("%s: missing %s", what, cmd->pos_names);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- configuration */

struct ctl {
	const char *conf_path;          /* -c, or NULL */
	const char *db_arg;             /* -d, or NULL */
	struct ferry_conf *conf;        /* loaded config, or NULL */
	const char *database;
	struct store *st;
};

/* Keeps the first error conf_load reports and counts the rest, so that a
 * broken config still yields one line. */
struct conf_errors {
	char first[512];
	int n;
};

static void conf_error(void *ctx, const char *msg)
{
	struct conf_errors *e = ctx;

	if (e->n++ == 0)
		snprintf(e->first, sizeof(e->first), "%s", msg);
}

static int load_conf(struct ctl *c, const char *path)
{
	struct conf_errors e = { .n = 0 };

	c->conf = conf_load(path, conf_error, &e);
	if (c->conf)
		return 0;
	if (e.n > 1)
		fail("%s (and %d more error%s)", e.first, e.n - 1, e.n > 2 ? "s" : "");
	else if (e.n == 1)
		fail("%s", e.first);
	else
		fail("%s: cannot load the configuration", path);
	return -1;
}

/* 1 when the default config file exists, 0 when it does not, -1 (after
 * reporting) when it cannot be told, e.g. a folder we may not search. */
static int default_conf_exists(void)
{
	struct stat sb;

	if (stat(DEFAULT_CONF, &sb) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	fail("%s: %s", DEFAULT_CONF, strerror(errno));
	return -1;
}

/* Decide the database path (see ctl.h); with -d the config is read only
 * when a command needs it (need_conf()), so a broken config file does not
 * stop `-d DB room list`. */
static int setup(struct ctl *c)
{
	if (c->conf_path) {
		if (load_conf(c, c->conf_path) < 0)
			return -1;
		c->database = c->conf->database;
	} else if (c->db_arg) {
		c->database = c->db_arg;
	} else {
		int e = default_conf_exists();

		if (e < 0)
			return -1;
		if (e == 1) {
			if (load_conf(c, DEFAULT_CONF) < 0)
				return -1;
			c->database = c->conf->database;
		} else {
			c->database = DEFAULT_DATABASE;
		}
	}
	if (!c->database || !*c->database) {
		fail("no database configured");
		return -1;
	}
	return 0;
}

/* For -d: read the default config, if there is one, for realm and room
 * defaults. */
static int need_conf(struct ctl *c)
{
	if (c->conf || c->conf_path || !c->db_arg)
		return 0;
	switch (default_conf_exists()) {
	case 1:
		return load_conf(c, DEFAULT_CONF);
	case 0:
		return 0;
	default:
		return -1;
	}
}

static int open_store(struct ctl *c)
{
	char err[512];

	c->st = store_open(c->database, err, sizeof(err));
	if (!c->st) {
		fail("%s", err);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ listing */

/*
 * A list is printed either as a JSON array or as a table: a header line
 * and left-aligned columns two spaces apart, widths taken from the widest
 * cell, counted in characters so UTF-8 user names line up.
 */
#define MAX_COLS 3

struct list {
	int json;
	json_t *arr;
	size_t ncols, nrows, cap;
	char **cells;                   /* nrows * ncols; row 0 is the header */
};

static void list_init(struct list *l, int json, size_t ncols, ...)
{
	va_list ap;

	memset(l, 0, sizeof(*l));
	l->json = json;
	l->ncols = ncols;
	if (json) {
		l->arr = json_array();
		return;
	}
	l->cap = 16;
	l->cells = xmalloc(l->cap * ncols * sizeof(char *));
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++)
		l->cells[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	l->nrows = 1;
}

static void list_row(struct list *l, ...)
{
	va_list ap;

	if (l->nrows == l->cap) {
		l->cap *= 2;
		l->cells = xrealloc(l->cells, l->cap * l->ncols * sizeof(char *));
	}
	va_start(ap, l);
	for (size_t i = 0; i < l->ncols; i++)
		l->cells[l->nrows * l->ncols + i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	l->nrows++;
}

/* Terminal columns of a cell, taken as one per character. */
static size_t utf8_width(const char *s)
{
	return utf8_chars(s, strlen(s));
}

static void list_print(struct list *l)
{
	size_t width[MAX_COLS] = { 0 };

	if (l->json) {
		char *s = json_dumps(l->arr, JSON_INDENT(2));

		if (s) {
			puts(s);
			free(s);
		}
		return;
	}
	for (size_t r = 0; r < l->nrows; r++)
		for (size_t i = 0; i < l->ncols; i++) {
			size_t w = utf8_width(l->cells[r * l->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r < l->nrows; r++) {
		for (size_t i = 0; i < l->ncols; i++) {
			const char *cell = l->cells[r * l->ncols + i];

			fputs(cell, stdout);
			/* No trailing blanks after the last column. */
			if (i + 1 < l->ncols)
				printf("%*s", (int)(width[i] - utf8_width(cell) + 2), "");
		}
		putchar('\n');
	}
}

static void list_free(struct list *l)
{
	json_decref(l->arr);
	for (size_t i = 0; i < l->nrows * l->ncols; i++)
		free(l->cells[i]);
	free(l->cells);
}

/* "2026-11-22T10:00:00Z" */
static const char *fmt_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)t);
	return buf;
}

/* -------------------------------------------------------------- users */

/* Read a password into a fresh string the caller cleanses and frees. */
static char *read_line(FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	return line;
}

/* Where a signal arriving during the prompt finds the terminal settings to
 * put back, so that a prompt ended by Ctrl-C does not leave echo off.
 * SIGTSTP is left alone: a job-control shell saves and restores a stopped
 * job's terminal modes itself. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;
static const int prompt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void restore_tty_and_die(int sig)
{
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static char *prompt_noecho(const char *prompt)
{
	struct sigaction sa, old[ARRAY_LEN(prompt_signals)];
	struct termios t;
	char *line;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty_and_die;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_LEN(prompt_signals); i++)
		sigaction(prompt_signals[i], &sa, &old[i]);

	/* Echo goes off before the prompt shows, so that nothing typed in
	 * answer to it can be echoed; what was typed earlier is discarded. */
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ECHONL;
	tty_changed = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	fputs(prompt, stderr);
	fflush(stderr);
	line = read_line(stdin);
	if (tty_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_changed = 0;

	for (size_t i = 0; i < ARRAY_LEN(prompt_signals); i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	return line;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

/* The password for `user add` without --password: asked twice on a
 * terminal, else one line of standard input (for scripts). */
static char *get_password(void)
{
	char *p1, *p2;

	if (!isatty(STDIN_FILENO)) {
		p1 = read_line(stdin);
		if (!p1)
			fail("user add: no password on standard input");
		return p1;
	}
	p1 = prompt_noecho("Password: ");
	if (!p1) {
		fail("user add: no password given");
		return NULL;
	}
	p2 = prompt_noecho("Retype password: ");
	if (!p2 || strcmp(p1, p2) != 0) {
		fail("user add: the passwords do not match");
		free_secret(p1);
		free_secret(p2);
		return NULL;
	}
	free_secret(p2);
	return p1;
}

static int cmd_user_add(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0];
	const char *given = opt_value(a, O_PASSWORD);
	const char *realm;
	char *password, err[512];
	int rc;

	if (!names_login(name)) {
		fail("user add: invalid user name '%s' (1-%d bytes, no ':' or "
		     "control characters)", name, NAMES_LOGIN_MAX);
		return 1;
	}
	if (need_conf(c) < 0)
		return 1;
	realm = c->conf ? c->conf->realm : DEFAULT_REALM;
	if (open_store(c) < 0)
		return 1;
	/* Say so before asking for a password that would be thrown away. */
	{
		struct store_user u;
		char buf[1024];

		if (store_user_lookup(c->st, name, &u, buf, sizeof(buf), err,
				      sizeof(err)) == STORE_OK) {
			fail("user %s already exists", name);
			return 1;
		}
	}
	password = given ? xstrdup(given) : get_password();
	if (!password)
		return 1;
	if (!*password) {
		fail("user add: the password must not be empty");
		free_secret(password);
		return 1;
	}
	rc = store_user_add(c->st, name, realm, password, err, sizeof(err));
	free_secret(password);
	if (rc < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int cmd_user_del(struct ctl *c, const struct args *a)
{
	char err[512];

	if (open_store(c) < 0)
		return 1;
	if (store_user_del(c->st, a->pos[0], err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_user(void *ctx, const struct store_user *u)
{
	struct list *l = ctx;
	char t[32];

	if (l->json)
		json_array_append_new(l->arr, json_pack("{s:s, s:s, s:I}", "name", u->name,
							"realm", u->realm,
							"created", (json_int_t)u->created));
	else
		list_row(l, u->name, u->realm, fmt_time(u->created, t, sizeof(t)));
	return 0;
}

/* Run a foreach into a list and print it; the shared tail of the list
 * commands. */
static int finish_list(struct list *l, int rc, const char *err)
{
	if (rc < 0)
		fail("%s", err);
	else
		list_print(l);
	list_free(l);
	return rc < 0 ? 1 : 0;
}

static int cmd_user_list(struct ctl *c, const struct args *a)
{
	struct list l;
	char err[512];

	if (open_store(c) < 0)
		return 1;
	list_init(&l, !!(a->seen & O_JSON), 3, "NAME", "REALM", "CREATED");
	return finish_list(&l, store_user_foreach(c->st, list_user, &l, err, sizeof(err)),
			   err);
}

/* ------------------------------------------------------------ secrets */

static int cmd_secret_add(struct ctl *c, const struct args *a)
{
	char value[STORE_SECRET_MAX + 1], err[512];
	int64_t id;

	if (a->npos == 1 && !store_valid_secret(a->pos[0])) {
		fail("secret add: invalid secret (1-%d printable ASCII characters, "
		     "no spaces)", STORE_SECRET_MAX);
		return 1;
	}
	if (open_store(c) < 0)
		return 1;
	if (store_secret_add(c->st, a->npos ? a->pos[0] : NULL, &id, value, sizeof(value),
			     err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	printf("secret %lld: %s\n", (long long)id, value);
	OPENSSL_cleanse(value, sizeof(value));
	return 0;
}

static int cmd_secret_del(struct ctl *c, const struct args *a)
{
	char err[512];
	long id;

	if (parse_long(a->pos[0], 1, LONG_MAX, &id) < 0) {
		fail("secret del: invalid id '%s' (see secret list)", a->pos[0]);
		return 1;
	}
	if (open_store(c) < 0)
		return 1;
	if (store_secret_del(c->st, id, err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_secret(void *ctx, const struct store_secret *s)
{
	struct list *l = ctx;
	char id[24], t[32];

	if (l->json) {
		json_array_append_new(l->arr, json_pack("{s:I, s:s, s:I}",
							"id", (json_int_t)s->id,
							"value", s->value,
							"created", (json_int_t)s->created));
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)s->id);
	list_row(l, id, s->value, fmt_time(s->created, t, sizeof(t)));
	return 0;
}

static int cmd_secret_list(struct ctl *c, const struct args *a)
{
	struct list l;
	char err[512];

	if (open_store(c) < 0)
		return 1;
	list_init(&l, !!(a->seen & O_JSON), 3, "ID", "SECRET", "CREATED");
	return finish_list(&l, store_secret_foreach(c->st, list_secret, &l,
						    err, sizeof(err)), err);
}

/* ------------------------------------------------------------ revoked */

static int cmd_revoke(struct ctl *c, const struct args *a)
{
	char err[512];

	if (!names_user_id(a->pos[0])) {
		fail("revoke: invalid user name '%s' (the user part of an ephemeral "
		     "username, without the expiry and ':')", a->pos[0]);
		return 1;
	}
	if (open_store(c) < 0)
		return 1;
	if (store_revoke(c->st, a->pos[0], err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int cmd_unrevoke(struct ctl *c, const struct args *a)
{
	char err[512];

	if (open_store(c) < 0)
		return 1;
	if (store_unrevoke(c->st, a->pos[0], err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

/* -------------------------------------------------------------- rooms */

static int cmd_room_add(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0], *max_s = opt_value(a, O_MAX_PEERS);
	char err[512];
	long max;

	if (!names_room(name)) {
		fail("room add: invalid room name '%s' (1-%d characters of "
		     "A-Z a-z 0-9 _ . -)", name, NAMES_ROOM_MAX);
		return 1;
	}
	if (max_s) {
		if (parse_long(max_s, STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX, &max) < 0) {
			fail("room add: --max-peers must be a number from %d to %d",
			     STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX);
			return 1;
		}
	} else {
		if (need_conf(c) < 0)
			return 1;
		max = c->conf ? c->conf->room_max_peers : DEFAULT_MAX_PEERS;
	}
	if (open_store(c) < 0)
		return 1;
	if (store_room_add(c->st, name, (int)max, err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int cmd_room_del(struct ctl *c, const struct args *a)
{
	char err[512];

	if (open_store(c) < 0)
		return 1;
	if (store_room_del(c->st, a->pos[0], err, sizeof(err)) < 0) {
		fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_room(void *ctx, const struct store_room *r)
{
	struct list *l = ctx;
	char max[16], t[32];

	if (l->json) {
		json_array_append_new(l->arr, json_pack("{s:s, s:i, s:I}", "name", r->name,
							"maxPeers", r->max_peers,
							"created", (json_int_t)r->created));
		return 0;
	}
	snprintf(max, sizeof(max), "%d", r->max_peers);
	list_row(l, r->name, max, fmt_time(r->created, t, sizeof(t)));
	return 0;
}

static int cmd_room_list(struct ctl *c, const struct args *a)
{
	struct list l;
	char err[512];

	if (open_store(c) < 0)
		return 1;
	list_init(&l, !!(a->seen & O_JSON), 3, "NAME", "MAX-PEERS", "CREATED");
	return finish_list(&l, store_room_foreach(c->st, list_room, &l, err, sizeof(err)),
			   err);
}

/* ------------------------------------------------- token, credentials */

/* The settings token and credentials need: the file given with -c, else
 * the default file when it exists, else the built-in defaults. */
static const struct ferry_conf *conf_or_defaults(struct ctl *c)
{
	if (!c->conf && need_conf(c) < 0)
		return NULL;
	if (!c->conf) {
		c->conf = conf_load_string("(defaults)", "", NULL, NULL);
		if (!c->conf)
			fail("cannot build the default settings");
	}
	return c->conf;
}

static int parse_ttl(const struct args *a, const char *what, long *ttl)
{
	const char *v = opt_value(a, O_TTL);

	*ttl = 0;
	if (v && parse_long(v, 1, 0x7fffffffL, ttl) < 0) {
		fail("%s: --ttl must be a whole number of seconds from 1, not '%s'", what, v);
		return -1;
	}
	return 0;
}

/* token ROOM [--name N] [--ttl S]: a join token (RFC 7519, HS256 with
 * signaling-secret) for ROOM ("*" for any room), valid for S seconds
 * (default one hour). */
static int cmd_token(struct ctl *c, const struct args *a)
{
	const struct ferry_conf *conf = conf_or_defaults(c);
	const char *room = a->pos[0], *name = opt_value(a, O_NAME), *p;
	json_t *claims, *jname = NULL;
	size_t chars = 0;
	char *token;
	long ttl;

	if (!conf)
		return 1;
	if (parse_ttl(a, "token", &ttl) < 0)
		return 1;
	if (!conf->signaling_secret) {
		fail("token: no signaling-secret is configured (give the config with -c)");
		return 1;
	}
	if (strcmp(room, "*") != 0 && !names_room(room)) {
		fail("token: room names are 1 to 64 of A-Z a-z 0-9 _ . -, not '%s'", room);
		return 1;
	}
	for (p = name; p && *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	if (name && (chars > 64 || !(jname = json_string(name)))) {
		fail("token: --name must be UTF-8 of at most 64 characters");
		return 1;
	}
	claims = json_pack("{s:s,s:I}", "room", room,
			   "exp", (json_int_t)(wall_s() + (ttl ? ttl : 3600)));
	if (jname)
		json_object_set_new(claims, "name", jname);
	token = jwt_sign_hs256(conf->signaling_secret, strlen(conf->signaling_secret),
			       claims);
	json_decref(claims);
	if (!token) {
		fail("token: cannot sign the token");
		return 1;
	}
	printf("%s\n", token);
	free(token);
	return 0;
}

static int first_secret(void *ctx, const struct store_secret *s)
{
	char **out = ctx;

	*out = xstrdup(s->value);
	return 1;                       /* stop after the oldest */
}

/* A host for the URLs when public-host is unset: the first listen address
 * that is not a wildcard, else this machine's name. */
static void default_host(const struct ferry_conf *conf, char *out, size_t n)
{
	size_t i;

	for (i = 0; i < conf->listen.n; i++) {
		if (!net_is_wildcard(&conf->listen.v[i].u.sa)) {
			net_fmt_ip(&conf->listen.v[i].u.sa, out, n);
			return;
		}
	}
	if (gethostname(out, n) != 0 || !*out)
		snprintf(out, n, "localhost");
	out[n - 1] = '\0';
}

/* credentials [--user U] [--ttl S]: what /api/ice-servers returns. */
static int cmd_credentials(struct ctl *c, const struct args *a)
{
	const struct ferry_conf *conf = conf_or_defaults(c);
	const char *user = opt_value(a, O_USER);
	char err[512], host[256], *db_secret = NULL, *text;
	const char *secret;
	struct ice_creds creds;
	json_t *out;
	long ttl;

	if (!conf || parse_ttl(a, "credentials", &ttl) < 0)
		return 1;
	/* The rule of the HTTP API's user= */
	if (user && !names_user_id(user)) {
		fail("credentials: --user must be 1 to 128 printable ASCII characters without spaces or ':'");
		return 1;
	}
	secret = conf->auth_secret.n ? conf->auth_secret.v[0] : NULL;
	if (!secret) {
		if (open_store(c) < 0)
			return 1;
		if (store_secret_foreach(c->st, first_secret, &db_secret, err,
					 sizeof(err)) < 0) {
			fail("%s", err);
			return 1;
		}
		secret = db_secret;
	}
	if (!secret) {
		fail("credentials: no auth-secret in the config and no secret in the database");
		return 1;
	}
	default_host(conf, host, sizeof(host));
	ice_make_creds(conf, secret, user, ttl, wall_s(), &creds);
	out = json_pack("{s:o,s:I,s:I}", "iceServers", ice_server_list(conf, host, &creds),
			"ttl", (json_int_t)creds.ttl, "expires", (json_int_t)creds.expires);
	text = json_dumps(out, JSON_INDENT(2));
	printf("%s\n", text);
	free(text);
	json_decref(out);
	free(db_secret);
	return 0;
}

/* ----------------------------------------------------------- dispatch */

static const struct command commands[] = {
	{ "user", "add", 1, 1, "NAME", O_PASSWORD, cmd_user_add },
	{ "user", "del", 1, 1, "NAME", 0, cmd_user_del },
	{ "user", "list", 0, 0, "", O_JSON, cmd_user_list },
	{ "secret", "add", 0, 1, "", 0, cmd_secret_add },
	{ "secret", "del", 1, 1, "ID", 0, cmd_secret_del },
	{ "secret", "list", 0, 0, "", O_JSON, cmd_secret_list },
	{ "revoke", NULL, 1, 1, "USER", 0, cmd_revoke },
	{ "unrevoke", NULL, 1, 1, "USER", 0, cmd_unrevoke },
	{ "room", "add", 1, 1, "NAME", O_MAX_PEERS, cmd_room_add },
	{ "room", "del", 1, 1, "NAME", 0, cmd_room_del },
	{ "room", "list", 0, 0, "", O_JSON, cmd_room_list },
	{ "token", NULL, 1, 1, "ROOM", O_NAME | O_TTL, cmd_token },
	{ "credentials", NULL, 0, 0, "", O_USER | O_TTL, cmd_credentials },
};

/* Find the command named by argv[0] (and argv[1]); *used is how many
 * words its name took.  NULL after reporting when there is none. */
static const struct command *find_command(int argc, char **argv, int *used)
{
	int group = 0;

	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[0], cmd->word1) != 0)
			continue;
		if (!cmd->word2) {
			*used = 1;
			return cmd;
		}
		group = 1;
		if (argc > 1 && strcmp(argv[1], cmd->word2) == 0) {
			*used = 2;
			return cmd;
		}
	}
	if (!group)
		fail("unknown command '%s' (see ferryctl --help)", argv[0]);
	else if (argc < 2)
		fail("%s: missing subcommand: add, del or list", argv[0]);
	else
		fail("%s: unknown subcommand '%s' (add, del or list)", argv[0], argv[1]);
	return NULL;
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const struct command *cmd;
	char what[32];
	struct args a;
	int i, used, rc;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(s, "-c") == 0 || strcmp(s, "-d") == 0) {
			if (c.conf_path || c.db_arg) {
				fail("give -c or -d once, not both");
				return 1;
			}
			if (i + 1 >= argc || !*argv[i + 1]) {
				fail("%s needs a file name", s);
				return 1;
			}
			if (s[1] == 'c')
				c.conf_path = argv[++i];
			else
				c.db_arg = argv[++i];
			continue;
		}
		if (s[0] == '-') {
			fail("unknown option %s (see ferryctl --help)", s);
			return 1;
		}
		break;
	}
	if (i == argc) {
		fail("no command given (see ferryctl --help)");
		return 1;
	}
	cmd = find_command(argc - i, argv + i, &used);
	if (!cmd)
		return 1;
	snprintf(what, sizeof(what), "%s%s%s", cmd->word1, cmd->word2 ? " " : "",
		 cmd->word2 ? cmd->word2 : "");
	rc = parse_args(cmd, what, argc - i - used, argv + i + used, &a);
	if (rc != 0) {
		if (rc > 0)
			fputs(usage_text, stdout);
		return rc > 0 ? 0 : 1;
	}

	rc = setup(&c) < 0 ? 1 : cmd->run(&c, &a);
	store_close(c.st);
	if (c.conf)
		conf_free(c.conf);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fail("cannot write the output: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}
