/* revoked — see revoked.h. */
#include "store/revoked.h"
#include "store/db.h"
#include "store/store.h"
#include "core/names.h"
#include "core/util.h"

#include <stdio.h>

int store_revoke(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (!names_user_id(user)) {
		db_seterr(err, errlen, "invalid user id (1-%d printable ASCII "
			  "characters, no spaces or ':')", NAMES_USER_ID_MAX);
		return STORE_INVALID;
	}
	s = db_stmt(st, S_REVOKE);
	db_bind_text(s, 1, user);
	sqlite3_bind_int64(s, 2, (int64_t)wall_s());
	rc = db_run(st, s, "cannot revoke", err, errlen);
	if (db_is_constraint(rc)) {
		db_seterr(err, errlen, "%s is already revoked", user);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_unrevoke(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_UNREVOKE);
	char missing[NAMES_LOGIN_MAX + 32];

	snprintf(missing, sizeof(missing), "%s is not revoked", user);
	db_bind_text(s, 1, user);
	return db_delete_one(st, s, "cannot unrevoke", missing, err, errlen);
}

int store_is_revoked(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_IS_REVOKED);
	int rc;

	db_bind_text(s, 1, user);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_seterr(err, errlen, "cannot read revocations: %s",
			  sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : STORE_ERROR;
}

struct revoked_walk {
	store_revoked_fn fn;
	void *ctx;
};

static int revoked_step(sqlite3_stmt *s, void *ctx)
{
	const struct revoked_walk *w = ctx;
	const char *user = (const char *)sqlite3_column_text(s, 0);

	if (!user)
		return 0;
	return w->fn(w->ctx, user, sqlite3_column_int64(s, 1));
}

int store_revoked_foreach(struct store *st, store_revoked_fn fn, void *ctx,
			  char *err, size_t errlen)
{
	struct revoked_walk w = { fn, ctx };

	return db_foreach(st, db_stmt(st, S_REVOKED_ALL), "revocations",
			  revoked_step, &w, err, errlen);
}
