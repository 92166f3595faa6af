/* schema — see schema.h. */
#include "store/schema.h"
#include "store/db.h"
#include "core/util.h"

#include <stdio.h>

#include <sqlite3.h>

/* Written to the file header by the first migration ("FRRY"), so that an
 * sqlite file belonging to some other program is recognised and left
 * alone instead of having ferry's tables added to it. */
#define STORE_APPLICATION_ID 0x46525259

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

/*
 * Bring the schema up to date.  Each migration runs in its own IMMEDIATE
 * transaction that re-reads user_version after taking the write lock, so
 * two processes opening a fresh file at once do not both apply it.
 */
int schema_migrate(struct store *st, char *err, size_t errlen)
{
	const int64_t latest = (int64_t)ARRAY_LEN(migrations);
	char sql[96];

	for (;;) {
		int64_t version, app_id, tables;

		if (db_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
			return -1;
		if (db_query_int(st, "PRAGMA user_version", &version, err, errlen) < 0 ||
		    db_query_int(st, "PRAGMA application_id", &app_id, err, errlen) < 0 ||
		    db_query_int(st, "SELECT count(*) FROM sqlite_master", &tables,
				 err, errlen) < 0)
			goto fail;
		if (app_id != STORE_APPLICATION_ID &&
		    (app_id != 0 || version != 0 || tables != 0)) {
			db_seterr(err, errlen, "%s: an sqlite database of some other "
				  "program, not ferry's; refusing to touch it",
				  st->path);
			goto fail;
		}
		if (version > latest) {
			db_seterr(err, errlen, "%s: database schema version %lld is "
				  "newer than this ferry knows (%lld); use a newer "
				  "ferry", st->path, (long long)version,
				  (long long)latest);
			goto fail;
		}
		if (version == latest)
			return db_exec(st, "COMMIT", err, errlen);

		if (db_exec(st, migrations[version], err, errlen) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld; "
			 "PRAGMA application_id = %d",
			 (long long)version + 1, STORE_APPLICATION_ID);
		if (db_exec(st, sql, err, errlen) < 0 ||
		    db_exec(st, "COMMIT", err, errlen) < 0)
			goto fail;
	}

fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
