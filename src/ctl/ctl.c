/*
 * ctl — ferryctl's command line: the global options, the table of
 * commands and the dispatch to them; see ctl.h and doc/ferryctl.8.  The
 * commands themselves are in cmd_*.c.
 */
#include "ctl/ctl.h"
#include "ctl/args.h"
#include "ctl/cmd_rooms.h"
#include "ctl/cmd_secrets.h"
#include "ctl/cmd_tokens.h"
#include "ctl/cmd_users.h"
#include "ctl/output.h"
#include "ctl/setup.h"
#include "conf/conf.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* printf'd with the default config file and the built-in realm, both
 * conf's. */
#define USAGE \
	"Usage: ferryctl [-c FILE | -d DATABASE] COMMAND\n" \
	"\n" \
	"Manage the database of ferryd: TURN users, shared secrets, revoked\n" \
	"users and signaling rooms.  A running ferryd sees changes within 2 s.\n" \
	"\n" \
	"Options:\n" \
	"  -c FILE      read `database` and `realm` from FILE\n" \
	"               (default %s)\n" \
	"  -d DATABASE  use DATABASE; the realm comes from the default config\n" \
	"               file when it exists, else \"%s\"\n" \
	"  -h, --help   show this help\n" \
	"\n" \
	"Commands:\n" \
	"  user add NAME [--password P]    add a TURN user (prompts when P is omitted)\n" \
	"  user del NAME                   remove a TURN user (its relays end at once)\n" \
	"  user list [--json]              list TURN users\n" \
	"  secret add [VALUE]              add a shared secret (generated when omitted)\n" \
	"  secret del ID                   remove a shared secret\n" \
	"  secret list [--json]            list shared secrets, with their values\n" \
	"  revoke USER                     refuse USER's credentials and tokens, end their\n" \
	"                                  relays and kick their signaling peers\n" \
	"  unrevoke USER                   accept them again\n" \
	"  room add NAME [--max-peers N]   create a room (N from 1 to 1000)\n" \
	"  room del NAME                   remove a room\n" \
	"  room list [--json]              list rooms\n" \
	"  token ROOM [--name N] [--ttl S] mint a signaling join token\n" \
	"  credentials [--user U] [--ttl S]  print ICE servers with TURN credentials\n"

static void usage(void)
{
	printf(USAGE, conf_default_path(), setup_builtin("realm"));
}

struct command {
	const char *word1, *word2;      /* "user" "add"; word2 NULL for one word */
	struct args_spec spec;
	int (*run)(struct ctl *c, const struct args *a);
};

static const struct command commands[] = {
	{ "user", "add", { 1, 1, "NAME", O_PASSWORD }, cmd_user_add },
	{ "user", "del", { 1, 1, "NAME", 0 }, cmd_user_del },
	{ "user", "list", { 0, 0, "", O_JSON }, cmd_user_list },
	{ "secret", "add", { 0, 1, "", 0 }, cmd_secret_add },
	{ "secret", "del", { 1, 1, "ID", 0 }, cmd_secret_del },
	{ "secret", "list", { 0, 0, "", O_JSON }, cmd_secret_list },
	{ "revoke", NULL, { 1, 1, "USER", 0 }, cmd_revoke },
	{ "unrevoke", NULL, { 1, 1, "USER", 0 }, cmd_unrevoke },
	{ "room", "add", { 1, 1, "NAME", O_MAX_PEERS }, cmd_room_add },
	{ "room", "del", { 1, 1, "NAME", 0 }, cmd_room_del },
	{ "room", "list", { 0, 0, "", O_JSON }, cmd_room_list },
	{ "token", NULL, { 1, 1, "ROOM", O_NAME | O_TTL }, cmd_token },
	{ "credentials", NULL, { 0, 0, "", O_USER | O_TTL }, cmd_credentials },
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
		out_fail("unknown command '%s' (see ferryctl --help)", argv[0]);
	else if (argc < 2)
		out_fail("%s: missing subcommand: add, del or list", argv[0]);
	else
		out_fail("%s: unknown subcommand '%s' (add, del or list)", argv[0], argv[1]);
	return NULL;
}

/* The options before the command: -c, -d and --help.  Returns the index of
 * the command's first word, 0 after printing the help, or -1 after
 * reporting a problem. */
static int parse_globals(int argc, char **argv, struct ctl *c)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
			usage();
			return 0;
		}
		if (strcmp(s, "-c") == 0 || strcmp(s, "-d") == 0) {
			if (c->conf_path || c->db_arg) {
				out_fail("give -c or -d once, not both");
				return -1;
			}
			if (i + 1 >= argc || !*argv[i + 1]) {
				out_fail("%s needs a file name", s);
				return -1;
			}
			if (s[1] == 'c')
				c->conf_path = argv[++i];
			else
				c->db_arg = argv[++i];
			continue;
		}
		if (s[0] == '-') {
			out_fail("unknown option %s (see ferryctl --help)", s);
			return -1;
		}
		break;
	}
	if (i == argc) {
		out_fail("no command given (see ferryctl --help)");
		return -1;
	}
	return i;
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const struct command *cmd;
	char what[32];
	struct args a;
	int i, used, rc;

	i = parse_globals(argc, argv, &c);
	if (i <= 0)
		return i < 0 ? 1 : 0;
	cmd = find_command(argc - i, argv + i, &used);
	if (!cmd)
		return 1;
	snprintf(what, sizeof(what), "%s%s%s", cmd->word1, cmd->word2 ? " " : "",
		 cmd->word2 ? cmd->word2 : "");
	rc = args_parse(&cmd->spec, what, argc - i - used, argv + i + used, &a);
	if (rc != 0) {
		if (rc > 0)
			usage();
		return rc > 0 ? 0 : 1;
	}

	rc = setup_database(&c) < 0 ? 1 : cmd->run(&c, &a);
	setup_free(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		out_fail("cannot write the output: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}
