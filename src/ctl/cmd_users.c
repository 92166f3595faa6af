/* cmd_users — see cmd_users.h. */
#include "ctl/cmd_users.h"
#include "ctl/args.h"
#include "ctl/output.h"
#include "ctl/password.h"
#include "ctl/setup.h"
#include "conf/conf.h"
#include "core/names.h"
#include "core/util.h"
#include "store/store.h"

#include <jansson.h>

/* 1 after reporting that name is already a user. */
static int user_exists(struct ctl *c, const char *name)
{
	struct store_user u;
	char buf[1024], err[512];

	if (store_user_lookup(c->st, name, &u, buf, sizeof(buf), err,
			      sizeof(err)) != STORE_OK)
		return 0;
	out_fail("user %s already exists", name);
	return 1;
}

int cmd_user_add(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0];
	const char *given = args_value(a, O_PASSWORD);
	const struct ferry_conf *conf;
	char *password, err[512];
	int rc;

	if (!names_login(name)) {
		out_fail("user add: invalid user name '%s' (1-%d bytes, no ':' or "
			 "control characters)", name, NAMES_LOGIN_MAX);
		return 1;
	}
	/* The keys are made for the realm in force. */
	if (!(conf = setup_settings(c)) || setup_store(c) < 0)
		return 1;
	/* Say so before asking for a password that would be thrown away. */
	if (user_exists(c, name))
		return 1;
	password = given ? xstrdup(given) : password_get();
	if (!password)
		return 1;
	if (!*password) {
		out_fail("user add: the password must not be empty");
		password_free(password);
		return 1;
	}
	rc = store_user_add(c->st, name, conf->realm, password, err, sizeof(err));
	password_free(password);
	if (rc < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

int cmd_user_del(struct ctl *c, const struct args *a)
{
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	if (store_user_del(c->st, a->pos[0], err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_user(void *ctx, const struct store_user *u)
{
	struct out_list *l = ctx;
	char t[32];

	if (l->json)
		json_array_append_new(l->arr, json_pack("{s:s, s:s, s:I}", "name", u->name,
							"realm", u->realm,
							"created", (json_int_t)u->created));
	else
		out_list_row(l, u->name, u->realm, out_time(u->created, t, sizeof(t)));
	return 0;
}

int cmd_user_list(struct ctl *c, const struct args *a)
{
	struct out_list l;
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	out_list_init(&l, !!(a->seen & O_JSON), 3, "NAME", "REALM", "CREATED");
	return out_list_finish(&l, store_user_foreach(c->st, list_user, &l, err,
						      sizeof(err)), err);
}

/* ------------------------------------------------------------ revoked */

int cmd_revoke(struct ctl *c, const struct args *a)
{
	char err[512];

	if (!names_user_id(a->pos[0])) {
		out_fail("revoke: invalid user name '%s' (the user part of an ephemeral "
			 "username, without the expiry and ':')", a->pos[0]);
		return 1;
	}
	if (setup_store(c) < 0)
		return 1;
	if (store_revoke(c->st, a->pos[0], err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

int cmd_unrevoke(struct ctl *c, const struct args *a)
{
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	if (store_unrevoke(c->st, a->pos[0], err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}
