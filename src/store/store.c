/* store — see store.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#include "core/names.h"
#include "stun/stun.h"
#endif

#include "store/store.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sqlite3.h>

/* Written to the file header by the first migration ("FRRY"), so that an
 * sqlite file belonging to some other program is recognised and left
 * alone instead of having ferry's tables added to it. */
#define STORE_APPLICATION_ID 0x46525259

/* How long a statement waits for another connection's lock before it
 * fails.  ferryd and ferryctl write the same file; writes are single short
 * statements, so 5 s is only ever reached when something is wrong. */
#define STORE_BUSY_MS 5000

/*
 * The schema, as an ordered list of migrations.  Migration i takes the
 * file from user_version i to i + 1.  Entries are never edited once
 * released: a change is a new entry appended at the end.
 */
static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE users ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  realm TEXT NOT NULL,"
	"  key_md5 BLOB NOT NULL CHECK (length(key_md5) = 16),"
	"  key_sha256 BLOB NOT NULL CHECK (length(key_sha256) = 32),"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE secrets ("
	/* AUTOINCREMENT so that a deleted secret's id is never handed out
	 * again: operators refer to secrets by id in scripts. */
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  value TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE revoked ("
	"  user TEXT PRIMARY KEY NOT NULL,"
	"  created INTEGER NOT NULL"
	");"
	"CREATE TABLE rooms ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  max_peers INTEGER NOT NULL CHECK (max_peers BETWEEN 1 AND 1000),"
	"  created INTEGER NOT NULL"
	");",
};

int store_schema_version(void)
{
	return (int)ARRAY_LEN(migrations);
}

/* Every statement used after open, prepared once. */
enum stmt_id {
	S_DATA_VERSION,
	S_CHECK,
	S_USER_ADD,
	S_USER_DEL,
	S_USER_GET,
	S_USER_ALL,
	S_SECRET_ADD,
	S_SECRET_DEL,
	S_SECRET_ALL,
	S_REVOKE,
	S_UNREVOKE,
	S_IS_REVOKED,
	S_REVOKED_ALL,
	S_ROOM_ADD,
	S_ROOM_ADD_IGNORE,
	S_ROOM_DEL,
	S_ROOM_GET,
	S_ROOM_ALL,
	S_COUNT
};

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

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[S_COUNT];
	int64_t data_version;    /* as of the last store_changed() */
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ validation */

int store_valid_secret(const char *value)
{
	size_t n;

	if (!value)
		return 0;
	n = strlen(value);
	if (n == 0 || n > STORE_SECRET_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ open */

/* Run sql (possibly several statements) outside the prepared set. */
static int exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* The single integer a query like "PRAGMA user_version" returns. */
static int query_int(struct store *st, const char *sql, int64_t *out,
		     char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	else
		seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Bring the schema up to date.  Each migration runs in its own IMMEDIATE
 * transaction that re-reads user_version after taking the write lock, so
 * two processes opening a fresh file at once do not both apply it.
 */
static int migrate(struct store *st, char *err, size_t errlen)
{
	const int64_t latest = (int64_t)ARRAY_LEN(migrations);
	char sql[96];

	for (;;) {
		int64_t version, app_id, tables;

		if (exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
			return -1;
		if (query_int(st, "PRAGMA user_version", &version, err, errlen) < 0 ||
		    query_int(st, "PRAGMA application_id", &app_id, err, errlen) < 0 ||
		    query_int(st, "SELECT count(*) FROM sqlite_master", &tables,
			      err, errlen) < 0)
			goto fail;
		if (app_id != STORE_APPLICATION_ID &&
		    (app_id != 0 || version != 0 || tables != 0)) {
			seterr(err, errlen, "%s: an sqlite database of some other program, "
			       "not ferry's; refusing to touch it", st->path);
			goto fail;
		}
		if (version > latest) {
			seterr(err, errlen, "%s: database schema version %lld is newer than "
			       "this ferry knows (%lld); use a newer ferry",
			       st->path, (long long)version, (long long)latest);
			goto fail;
		}
		if (version == latest)
			return exec(st, "COMMIT", err, errlen);

		if (exec(st, migrations[version], err, errlen) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld; "
			 "PRAGMA application_id = %d",
			 (long long)version + 1, STORE_APPLICATION_ID);
		if (exec(st, sql, err, errlen) < 0 || exec(st, "COMMIT", err, errlen) < 0)
			goto fail;
	}

fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Create the file ourselves so that it is born 0600: sqlite would create
 * it with 0644 and the file holds credentials.  sqlite gives its -wal and
 * -shm files the same mode as the database file.
 */
static int create_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == ENOENT)
			seterr(err, errlen, "%s: cannot create the database: "
			       "its folder does not exist", path);
		else
			seterr(err, errlen, "%s: cannot open the database: %s",
			       path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *st;
	int rc;

	if (!path || !*path) {
		seterr(err, errlen, "no database path given");
		return NULL;
	}
	if (create_file(path, err, errlen) < 0)
		return NULL;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		seterr(err, errlen, "%s: cannot open the database: %s", path,
		       st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);

	/* The first read of the file tells a non-database apart; sqlite's
	 * own words ("file is not a database") are kept in the message. */
	{
		int64_t dummy;
		char why[256];

		if (query_int(st, "SELECT count(*) FROM sqlite_master", &dummy,
			      why, sizeof(why)) < 0) {
			rc = sqlite3_errcode(st->db);
			if (rc == SQLITE_NOTADB)
				seterr(err, errlen, "%s: not a ferry database "
				       "(the file is not an sqlite database)", path);
			else
				seterr(err, errlen, "%s", why);
			goto fail;
		}
	}

	/* WAL lets ferryd read while ferryctl writes; FULL makes every commit
	 * durable (NORMAL in WAL mode may lose the last commits on power
	 * loss).  journal_mode is persistent in the file; the others are
	 * per connection. */
	{
		sqlite3_stmt *s;
		const unsigned char *mode = NULL;
		int ok = 0;

		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
				       NULL) == SQLITE_OK) {
			if (sqlite3_step(s) == SQLITE_ROW)
				mode = sqlite3_column_text(s, 0);
			ok = mode && strcmp((const char *)mode, "wal") == 0;
			sqlite3_finalize(s);
		}
		if (!ok) {
			seterr(err, errlen, "%s: cannot switch the database to WAL mode: %s",
			       path, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	if (exec(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
		 err, errlen) < 0)
		goto fail;

	if (migrate(st, err, errlen) < 0)
		goto fail;

	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			seterr(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	if (query_int(st, "PRAGMA data_version", &st->data_version, err, errlen) < 0)
		goto fail;
	return st;

fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* sqlite3_close_v2 is not needed: every statement is finalised. */
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* ------------------------------------------------------------ statements */

/* Take a prepared statement, ready to bind. */
static sqlite3_stmt *stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows.  Returns the sqlite result code
 * (SQLITE_DONE on success) and leaves the statement reset, with the
 * message in err on failure. */
static int run(struct store *st, sqlite3_stmt *s, const char *what,
	       char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		seterr(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc;
}

static int is_constraint(int rc)
{
	return (rc & 0xff) == SQLITE_CONSTRAINT;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

int store_changed(struct store *st)
{
	sqlite3_stmt *s = stmt(st, S_DATA_VERSION);
	int64_t v;

	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return STORE_ERROR;
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (v == st->data_version)
		return 0;
	st->data_version = v;
	return 1;
}

int store_check(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_CHECK);
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW)
		seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}

/* ----------------------------------------------------------------- users */

int store_user_keys(const char *name, const char *realm, const char *password,
		    uint8_t key_md5[16], uint8_t key_sha256[32])
{
	size_t nn = strlen(name), nr = strlen(realm), np = strlen(password);

	return stun_key_md5(name, nn, realm, nr, password, np, key_md5) == 0 &&
	       stun_key_sha256(name, nn, realm, nr, password, np, key_sha256) == 0 ?
	       0 : -1;
}

int store_user_add(struct store *st, const char *name, const char *realm,
		   const char *password, char *err, size_t errlen)
{
	uint8_t md5[16], sha[32];
	sqlite3_stmt *s;
	int rc;

	if (!names_login(name)) {
		seterr(err, errlen, "invalid user name (1-%d bytes, no ':' or "
		       "control characters)", NAMES_LOGIN_MAX);
		return STORE_INVALID;
	}
	if (!realm || !*realm || strlen(realm) > STORE_REALM_MAX) {
		seterr(err, errlen, "user %s: invalid realm", name);
		return STORE_INVALID;
	}
	if (!password || !*password) {
		seterr(err, errlen, "user %s: the password must not be empty", name);
		return STORE_INVALID;
	}
	if (store_user_keys(name, realm, password, md5, sha) < 0) {
		seterr(err, errlen, "user %s: cannot compute the keys "
		       "(MD5 or SHA-256 unavailable in OpenSSL)", name);
		return STORE_ERROR;
	}

	s = stmt(st, S_USER_ADD);
	bind_text(s, 1, name);
	bind_text(s, 2, realm);
	sqlite3_bind_blob(s, 3, md5, sizeof(md5), SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, sha, sizeof(sha), SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (int64_t)wall_s());
	rc = run(st, s, "cannot add the user", err, errlen);
	sqlite3_clear_bindings(s);
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		seterr(err, errlen, "user %s already exists", name);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/* Run a DELETE by key; STORE_NOT_FOUND when it removed nothing. */
static int delete_one(struct store *st, sqlite3_stmt *s, const char *what,
		      const char *missing, char *err, size_t errlen)
{
	if (run(st, s, what, err, errlen) != SQLITE_DONE)
		return STORE_ERROR;
	if (sqlite3_changes(st->db) == 0) {
		seterr(err, errlen, "%s", missing);
		return STORE_NOT_FOUND;
	}
	return STORE_OK;
}

int store_user_del(struct store *st, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_USER_DEL);
	char missing[NAMES_LOGIN_MAX + 32];

	snprintf(missing, sizeof(missing), "user %s does not exist", name);
	bind_text(s, 1, name);
	return delete_one(st, s, "cannot delete the user", missing, err, errlen);
}

/* Read a users row; blobs of the wrong size (never written by us) are
 * reported rather than trusted. */
static int user_row(sqlite3_stmt *s, struct store_user *u)
{
	if (sqlite3_column_bytes(s, 2) != 16 || sqlite3_column_bytes(s, 3) != 32)
		return -1;
	u->name = (const char *)sqlite3_column_text(s, 0);
	u->realm = (const char *)sqlite3_column_text(s, 1);
	memcpy(u->key_md5, sqlite3_column_blob(s, 2), 16);
	memcpy(u->key_sha256, sqlite3_column_blob(s, 3), 32);
	u->created = sqlite3_column_int64(s, 4);
	return u->name && u->realm ? 0 : -1;
}

int store_user_lookup(struct store *st, const char *name, struct store_user *out,
		      char *buf, size_t bufsz, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_USER_GET);
	struct store_user u;
	int rc, ret;

	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		seterr(err, errlen, "user %s does not exist", name);
		ret = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		seterr(err, errlen, "cannot look up user %s: %s", name,
		       sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	} else if (user_row(s, &u) < 0) {
		seterr(err, errlen, "user %s: malformed row", name);
		ret = STORE_ERROR;
	} else {
		size_t nn = strlen(u.name) + 1, nr = strlen(u.realm) + 1;

		if (nn + nr > bufsz) {
			seterr(err, errlen, "user %s: lookup buffer too small", name);
			ret = STORE_ERROR;
		} else {
			*out = u;
			memcpy(buf, u.name, nn);
			memcpy(buf + nn, u.realm, nr);
			out->name = buf;
			out->realm = buf + nn;
			ret = STORE_OK;
		}
	}
	sqlite3_reset(s);
	return ret;
}

/*
 * The foreach functions step a statement and hand each row to a callback.
 * Stepping stops early when the callback asks to; the statement is reset
 * either way so that no read transaction stays open (it would pin the WAL
 * and hide other connections' commits).
 */
int store_user_foreach(struct store *st, store_user_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_USER_ALL);
	int rc, ret = STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_user u;

		if (user_row(s, &u) < 0)
			continue;       /* cannot be written by this code */
		if ((ret = fn(ctx, &u)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		seterr(err, errlen, "cannot list users: %s", sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	}
	sqlite3_reset(s);
	return ret;
}

/* --------------------------------------------------------------- secrets */

int store_secret_add(struct store *st, const char *value, int64_t *id,
		     char *gen, size_t gensz, char *err, size_t errlen)
{
	char made[64];
	sqlite3_stmt *s;
	int rc;

	if (!value) {
		uint8_t raw[32];

		random_bytes(raw, sizeof(raw));
		if (b64url_encode(raw, sizeof(raw), made, sizeof(made)) < 0) {
			seterr(err, errlen, "cannot encode the generated secret");
			return STORE_ERROR;
		}
		OPENSSL_cleanse(raw, sizeof(raw));
		value = made;
	} else if (!store_valid_secret(value)) {
		seterr(err, errlen, "invalid secret (1-%d printable characters "
		       "without spaces)", STORE_SECRET_MAX);
		return STORE_INVALID;
	}
	if (gen && strlen(value) >= gensz) {
		seterr(err, errlen, "secret buffer too small");
		return STORE_INVALID;
	}

	s = stmt(st, S_SECRET_ADD);
	bind_text(s, 1, value);
	sqlite3_bind_int64(s, 2, (int64_t)wall_s());
	rc = run(st, s, "cannot add the secret", err, errlen);
	sqlite3_clear_bindings(s);
	if (is_constraint(rc)) {
		seterr(err, errlen, "that secret is already stored");
		rc = STORE_EXISTS;
	} else if (rc != SQLITE_DONE) {
		rc = STORE_ERROR;
	} else {
		if (id)
			*id = sqlite3_last_insert_rowid(st->db);
		if (gen)
			strcpy(gen, value);
		rc = STORE_OK;
	}
	OPENSSL_cleanse(made, sizeof(made));
	return rc;
}

int store_secret_del(struct store *st, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_SECRET_DEL);
	char missing[64];

	snprintf(missing, sizeof(missing), "secret %lld does not exist", (long long)id);
	sqlite3_bind_int64(s, 1, id);
	return delete_one(st, s, "cannot delete the secret", missing, err, errlen);
}

int store_secret_foreach(struct store *st, store_secret_fn fn, void *ctx,
			 char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_SECRET_ALL);
	int rc, ret = STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_secret sec = {
			.id = sqlite3_column_int64(s, 0),
			.value = (const char *)sqlite3_column_text(s, 1),
			.created = sqlite3_column_int64(s, 2),
		};

		if (!sec.value)
			continue;
		if ((ret = fn(ctx, &sec)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		seterr(err, errlen, "cannot list secrets: %s", sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	}
	sqlite3_reset(s);
	return ret;
}

/* --------------------------------------------------------------- revoked */

int store_revoke(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	if (!names_user_id(user)) {
		seterr(err, errlen, "invalid user id (1-%d printable ASCII "
		       "characters, no spaces or ':')", NAMES_USER_ID_MAX);
		return STORE_INVALID;
	}
	s = stmt(st, S_REVOKE);
	bind_text(s, 1, user);
	sqlite3_bind_int64(s, 2, (int64_t)wall_s());
	rc = run(st, s, "cannot revoke", err, errlen);
	if (is_constraint(rc)) {
		seterr(err, errlen, "%s is already revoked", user);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_unrevoke(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_UNREVOKE);
	char missing[NAMES_LOGIN_MAX + 32];

	snprintf(missing, sizeof(missing), "%s is not revoked", user);
	bind_text(s, 1, user);
	return delete_one(st, s, "cannot unrevoke", missing, err, errlen);
}

int store_is_revoked(struct store *st, const char *user, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_IS_REVOKED);
	int rc;

	bind_text(s, 1, user);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		seterr(err, errlen, "cannot read revocations: %s", sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : STORE_ERROR;
}

int store_revoked_foreach(struct store *st, store_revoked_fn fn, void *ctx,
			  char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_REVOKED_ALL);
	int rc, ret = STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *user = (const char *)sqlite3_column_text(s, 0);

		if (!user)
			continue;
		if ((ret = fn(ctx, user, sqlite3_column_int64(s, 1))) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		seterr(err, errlen, "cannot list revocations: %s", sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	}
	sqlite3_reset(s);
	return ret;
}

/* ----------------------------------------------------------------- rooms */

static int check_room(const char *name, int max_peers, char *err, size_t errlen)
{
	if (!names_room(name)) {
		seterr(err, errlen, "invalid room name (1-%d characters of "
		       "A-Z a-z 0-9 _ . -)", NAMES_ROOM_MAX);
		return STORE_INVALID;
	}
	if (max_peers < STORE_MAX_PEERS_MIN || max_peers > STORE_MAX_PEERS_MAX) {
		seterr(err, errlen, "room %s: max-peers must be %d to %d", name,
		       STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX);
		return STORE_INVALID;
	}
	return STORE_OK;
}

int store_room_add(struct store *st, const char *name, int max_peers,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc = check_room(name, max_peers, err, errlen);

	if (rc < 0)
		return rc;
	s = stmt(st, S_ROOM_ADD);
	bind_text(s, 1, name);
	sqlite3_bind_int(s, 2, max_peers);
	sqlite3_bind_int64(s, 3, (int64_t)wall_s());
	rc = run(st, s, "cannot add the room", err, errlen);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		seterr(err, errlen, "room %s already exists", name);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_room_del(struct store *st, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_ROOM_DEL);
	char missing[NAMES_ROOM_MAX + 32];

	/* %.64s: the name may be anything the caller got; the message only
	 * needs to be recognisable. */
	snprintf(missing, sizeof(missing), "room %.64s does not exist", name);
	bind_text(s, 1, name);
	return delete_one(st, s, "cannot delete the room", missing, err, errlen);
}

int store_room_get(struct store *st, const char *name, int *max_peers,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_ROOM_GET);
	int rc;

	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && max_peers)
		*max_peers = sqlite3_column_int(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		seterr(err, errlen, "cannot read room %s: %s", name,
		       sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : STORE_ERROR;
}

int store_room_ensure(struct store *st, const char *name, int default_max,
		      int *max_peers, char *err, size_t errlen)
{
	int rc = check_room(name, default_max, err, errlen);

	if (rc < 0)
		return rc;
	/* Read first: joins of existing rooms should not cost a write (and
	 * an fsync).  A room deleted between the INSERT OR IGNORE and the
	 * second read is simply looked for again, a bounded number of times. */
	for (int tries = 0; tries < 3; tries++) {
		sqlite3_stmt *s;

		rc = store_room_get(st, name, max_peers, err, errlen);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		s = stmt(st, S_ROOM_ADD_IGNORE);
		bind_text(s, 1, name);
		sqlite3_bind_int(s, 2, default_max);
		sqlite3_bind_int64(s, 3, (int64_t)wall_s());
		if (run(st, s, "cannot create the room", err, errlen) != SQLITE_DONE)
			return STORE_ERROR;
		if (sqlite3_changes(st->db) == 1) {
			if (max_peers)
				*max_peers = default_max;
			return 1;
		}
	}
	seterr(err, errlen, "room %s: changing too fast to create", name);
	return STORE_ERROR;
}

int store_room_foreach(struct store *st, store_room_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	sqlite3_stmt *s = stmt(st, S_ROOM_ALL);
	int rc, ret = STORE_OK;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_room r = {
			.name = (const char *)sqlite3_column_text(s, 0),
			.max_peers = sqlite3_column_int(s, 1),
			.created = sqlite3_column_int64(s, 2),
		};

		if (!r.name)
			continue;
		if ((ret = fn(ctx, &r)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		seterr(err, errlen, "cannot list rooms: %s", sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	}
	sqlite3_reset(s);
	return ret;
}
