/* store — the connection's life: open, close, health, change polling.
 * See store.h; the tables are in schema.c and one file each. */
#include "store/store.h"
#include "store/db.h"
#include "store/schema.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

/* How long a statement waits for another connection's lock before it
 * fails.  ferryd and ferryctl write the same file; writes are single short
 * statements, so 5 s is only ever reached when something is wrong. */
#define STORE_BUSY_MS 5000

/* ------------------------------------------------------------------ open */

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
			db_seterr(err, errlen, "%s: cannot create the database: "
				  "its folder does not exist", path);
		else
			db_seterr(err, errlen, "%s: cannot open the database: %s",
				  path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int connect_db(struct store *st, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(st->path, &st->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		db_seterr(err, errlen, "%s: cannot open the database: %s", st->path,
			  st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	return 0;
}

/* The first read of the file tells a non-database apart; sqlite's own
 * words ("file is not a database") are kept in the message. */
static int probe_db(struct store *st, char *err, size_t errlen)
{
	int64_t dummy;
	char why[256];

	if (db_query_int(st, "SELECT count(*) FROM sqlite_master", &dummy,
			 why, sizeof(why)) == 0)
		return 0;
	if (sqlite3_errcode(st->db) == SQLITE_NOTADB)
		db_seterr(err, errlen, "%s: not a ferry database "
			  "(the file is not an sqlite database)", st->path);
	else
		db_seterr(err, errlen, "%s", why);
	return -1;
}

/* WAL lets ferryd read while ferryctl writes; FULL makes every commit
 * durable (NORMAL in WAL mode may lose the last commits on power loss).
 * journal_mode is persistent in the file; the others are per
 * connection. */
static int set_durability(struct store *st, char *err, size_t errlen)
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
		db_seterr(err, errlen, "%s: cannot switch the database to WAL mode: %s",
			  st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return db_exec(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
		       err, errlen);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *st;

	if (!path || !*path) {
		db_seterr(err, errlen, "no database path given");
		return NULL;
	}
	if (create_file(path, err, errlen) < 0)
		return NULL;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (connect_db(st, err, errlen) < 0 ||
	    probe_db(st, err, errlen) < 0 ||
	    set_durability(st, err, errlen) < 0 ||
	    schema_migrate(st, err, errlen) < 0 ||
	    db_prepare(st, err, errlen) < 0 ||
	    db_query_int(st, "PRAGMA data_version", &st->data_version,
			 err, errlen) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	db_finalize(st);
	/* sqlite3_close_v2 is not needed: every statement is finalised. */
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* -------------------------------------------------------------- health */

int store_changed(struct store *st)
{
	sqlite3_stmt *s = db_stmt(st, S_DATA_VERSION);
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
	sqlite3_stmt *s = db_stmt(st, S_CHECK);
	int rc = sqlite3_step(s);

	if (rc != SQLITE_ROW)
		db_seterr(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? STORE_OK : STORE_ERROR;
}
