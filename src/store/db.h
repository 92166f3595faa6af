/*
 * db — the members of struct store and the helpers every file of store/
 * runs its statements with.  Inside store/ only; everyone else holds a
 * struct store * and calls the functions of store/store.h.
 *
 * Every statement used after open is prepared once, by db_prepare() at
 * the end of store_open(), and finalised by db_finalize() in
 * store_close().  db_stmt() hands one out reset and unbound; the helpers
 * leave it reset again, so that no read transaction stays open (it would
 * pin the WAL and hide other connections' commits).
 */
#ifndef FERRY_STORE_DB_H
#define FERRY_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* The prepared statements, by what they do; their SQL is in db.c. */
enum db_stmt_id {
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

struct store {
	sqlite3 *db;
	char *path;              /* for messages */
	sqlite3_stmt *stmt[S_COUNT];
	int64_t data_version;    /* as of the last store_changed() */
};

/* printf into err (when err is not NULL and errlen not 0). */
void db_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run sql (possibly several statements) outside the prepared set.
 * Returns 0, or -1 with "PATH: sqlite's message" in err. */
int db_exec(struct store *st, const char *sql, char *err, size_t errlen);
/* The single integer a query like "PRAGMA user_version" returns (0 when
 * it returns no row).  Returns 0, or -1 with the message in err; the
 * statement is prepared for this call and finalised before returning. */
int db_query_int(struct store *st, const char *sql, int64_t *out,
		 char *err, size_t errlen);

/* Prepare every statement of enum db_stmt_id; 0, or -1 with the message
 * in err.  db_finalize() finalises those prepared (any number of them). */
int db_prepare(struct store *st, char *err, size_t errlen);
void db_finalize(struct store *st);

/* Take a prepared statement, reset and without bindings, ready to bind. */
sqlite3_stmt *db_stmt(struct store *st, enum db_stmt_id id);
/* Bind a NUL-terminated string that outlives the statement's run. */
void db_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Run a statement that returns no rows.  Returns the sqlite result code
 * (SQLITE_DONE on success) and leaves the statement reset, with
 * "what: sqlite's message" in err on failure. */
int db_run(struct store *st, sqlite3_stmt *s, const char *what,
	   char *err, size_t errlen);
/* 1 when rc (extended or not) is a constraint violation. */
int db_is_constraint(int rc);
/* Run a DELETE by key: STORE_OK, STORE_NOT_FOUND with missing in err when
 * it removed nothing, or STORE_ERROR. */
int db_delete_one(struct store *st, sqlite3_stmt *s, const char *what,
		  const char *missing, char *err, size_t errlen);
/* Step s to its end, handing each row to fn until fn returns non-zero;
 * "cannot list WHAT: sqlite's message" in err on failure.  Returns
 * STORE_OK, fn's stop value or STORE_ERROR; s is left reset. */
int db_foreach(struct store *st, sqlite3_stmt *s, const char *what,
	       int (*fn)(sqlite3_stmt *s, void *ctx), void *ctx,
	       char *err, size_t errlen);

#endif
