/* db — see db.h. */
#include "store/db.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const stmt_sql[S_COUNT] = {
	[S_DATA_VERSION] = "PRAGMA data_version",
	[S_CHECK] = "SELECT count(*) FROM sqlite_master",
	[S_USER_ADD] = "INSERT INTO users (name, realm, key_md5, key_sha256, created)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_USER_DEL] = "DELETE FROM users WHERE name = ?1",
	[S_USER_GET] = "SELECT name, realm, key_md5, key_sha256, created"
		       " FROM users WHERE name = ?1",
	[S_USER_ALL] = "SELECT name, realm, key_md5, key_sha256, created"
		       " FROM users ORDER BY name",
	[S_SECRET_ADD] = "INSERT INTO secrets (value, created) VALUES (?1, ?2)",
	[S_SECRET_DEL] = "DELETE FROM secrets WHERE id = ?1",
	[S_SECRET_ALL] = "SELECT id, value, created FROM secrets ORDER BY id",
	[S_REVOKE] = "INSERT INTO revoked (user, created) VALUES (?1, ?2)",
	[S_UNREVOKE] = "DELETE FROM revoked WHERE user = ?1",
	[S_IS_REVOKED] = "SELECT 1 FROM revoked WHERE user = ?1",
	[S_REVOKED_ALL] = "SELECT user, created FROM revoked ORDER BY user",
	[S_ROOM_ADD] = "INSERT INTO rooms (name, max_peers, created) VALUES (?1, ?2, ?3)",
	[S_ROOM_ADD_IGNORE] = "INSERT OR IGNORE INTO rooms (name, max_peers, created)"
			      " VALUES (?1, ?2, ?3)",
	[S_ROOM_DEL] = "DELETE FROM rooms WHERE name = ?1",
	[S_ROOM_GET] = "SELECT max_peers FROM rooms WHERE name = ?1",
	[S_ROOM_ALL] = "SELECT name, max_peers, created FROM rooms ORDER BY name",
};

void db_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------- outside the set */

int db_exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		db_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

int db_query_int(struct store *st, const char *sql, int64_t *out,
		 char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	else
		db_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* ------------------------------------------------------ the prepared set */

int db_prepare(struct store *st, char *err, size_t errlen)
{
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			db_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
			return -1;
		}
	}
	return 0;
}

void db_finalize(struct store *st)
{
	/* sqlite3_finalize(NULL) is a no-op: a half-prepared set is fine. */
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
}

sqlite3_stmt *db_stmt(struct store *st, enum db_stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

void db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

int db_run(struct store *st, sqlite3_stmt *s, const char *what,
	   char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		db_seterr(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc;
}

int db_is_constraint(int rc)
{
	return (rc & 0xff) == SQLITE_CONSTRAINT;
}

int db_delete_one(struct store *st, sqlite3_stmt *s, const char *what,
		  const char *missing, char *err, size_t errlen)
{
	if (db_run(st, s, what, err, errlen) != SQLITE_DONE)
		return STORE_ERROR;
	if (sqlite3_changes(st->db) == 0) {
		db_seterr(err, errlen, "%s", missing);
		return STORE_NOT_FOUND;
	}
	return STORE_OK;
}

/* Stepping stops early when fn asks to; the statement is reset either way
 * so that no read transaction stays open. */
int db_foreach(struct store *st, sqlite3_stmt *s, const char *what,
	       int (*fn)(sqlite3_stmt *s, void *ctx), void *ctx,
	       char *err, size_t errlen)
{
	int rc, ret = STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((ret = fn(s, ctx)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_seterr(err, errlen, "cannot list %s: %s", what,
			  sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	}
	sqlite3_reset(s);
	return ret;
}
