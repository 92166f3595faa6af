/* cmd_tokens — see cmd_tokens.h. */
#include "ctl/cmd_tokens.h"
#include "ctl/args.h"
#include "ctl/output.h"
#include "ctl/setup.h"
#include "auth/ice_servers.h"
#include "auth/jwt.h"
#include "conf/conf.h"
#include "core/names.h"
#include "core/net.h"
#include "core/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* --ttl into *ttl, 0 when not given.  Returns 0, or -1 after reporting. */
static int parse_ttl(const struct args *a, const char *what, long *ttl)
{
	const char *v = args_value(a, O_TTL);

	*ttl = 0;
	if (v && parse_long(v, 1, 0x7fffffffL, ttl) < 0) {
		out_fail("%s: --ttl must be a whole number of seconds from 1, not '%s'", what, v);
		return -1;
	}
	return 0;
}

/* --name as a JSON string in *out (NULL when not given).  Returns 0, or
 * -1 after reporting. */
static int display_name(const struct args *a, json_t **out)
{
	const char *name = args_value(a, O_NAME), *p;
	size_t chars = 0;

	*out = NULL;
	for (p = name; p && *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	if (name && (chars > 64 || !(*out = json_string(name)))) {
		out_fail("token: --name must be UTF-8 of at most 64 characters");
		return -1;
	}
	return 0;
}

/* token ROOM [--name N] [--ttl S]: a join token (RFC 7519, HS256 with
 * signaling-secret) for ROOM ("*" for any room), valid for S seconds
 * (default one hour); doc/signaling.md. */
int cmd_token(struct ctl *c, const struct args *a)
{
	const struct ferry_conf *conf = setup_settings(c);
	const char *room = a->pos[0];
	json_t *claims, *jname;
	char *token;
	long ttl;

	if (!conf)
		return 1;
	if (parse_ttl(a, "token", &ttl) < 0)
		return 1;
	if (!conf->signaling_secret) {
		out_fail("token: no signaling-secret is configured (give the config with -c)");
		return 1;
	}
	if (strcmp(room, "*") != 0 && !names_room(room)) {
		out_fail("token: room names are 1 to 64 of A-Z a-z 0-9 _ . -, not '%s'", room);
		return 1;
	}
	if (display_name(a, &jname) < 0)
		return 1;
	claims = json_pack("{s:s,s:I}", "room", room,
			   "exp", (json_int_t)(wall_s() + (ttl ? ttl : 3600)));
	if (jname)
		json_object_set_new(claims, "name", jname);
	token = jwt_sign_hs256(conf->signaling_secret, strlen(conf->signaling_secret),
			       claims);
	json_decref(claims);
	if (!token) {
		out_fail("token: cannot sign the token");
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

/* The secret that signs: the config's first auth-secret, else the
 * database's oldest, copied into *db_secret for the caller to free.
 * NULL after reporting when there is none or the database fails. */
static const char *signing_secret(struct ctl *c, const struct ferry_conf *conf,
				  char **db_secret)
{
	char err[512];

	*db_secret = NULL;
	if (conf->auth_secret.n)
		return conf->auth_secret.v[0];
	if (setup_store(c) < 0)
		return NULL;
	if (store_secret_foreach(c->st, first_secret, db_secret, err,
				 sizeof(err)) < 0) {
		out_fail("%s", err);
		return NULL;
	}
	if (!*db_secret)
		out_fail("credentials: no auth-secret in the config and no secret in the database");
	return *db_secret;
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

/* credentials [--user U] [--ttl S]: what /api/ice-servers returns
 * (doc/http-api.md). */
int cmd_credentials(struct ctl *c, const struct args *a)
{
	const struct ferry_conf *conf = setup_settings(c);
	const char *user = args_value(a, O_USER), *secret;
	char host[256], *db_secret, *text;
	struct ice_creds creds;
	json_t *out;
	long ttl;

	if (!conf || parse_ttl(a, "credentials", &ttl) < 0)
		return 1;
	/* The rule of the HTTP API's user= */
	if (user && !names_user_id(user)) {
		out_fail("credentials: --user must be 1 to 128 printable ASCII characters without spaces or ':'");
		return 1;
	}
	if (!(secret = signing_secret(c, conf, &db_secret)))
		return 1;
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
