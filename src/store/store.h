/*
 * store — ferry's sqlite database: long-term users, shared secrets for
 * ephemeral credentials, revoked ephemeral users and rooms.
 *
 * One struct store is one sqlite connection.  It is not thread-safe: it is
 * opened, used and closed by one thread.  Every thread or process that
 * needs the database (ferryd's main thread, each ferryctl run, a test)
 * opens its own; sqlite's locking, WAL mode and a busy timeout let them
 * read and write the same file concurrently.  Do not carry a struct store
 * across fork().
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so a
 * function that returned success has committed its row and it survives a
 * crash or power loss.
 *
 * Errors: functions that can fail take (char *err, size_t errlen), write
 * one sentence there (naming the thing acted on and, for database failures,
 * sqlite's own message) and return a negative enum store_status.  err may
 * be NULL when the caller does not want the text.
 *
 * Strings passed in are copied by sqlite; nothing is retained.  Records
 * handed to callbacks live only for the duration of the call.
 *
 * Callback for the *_foreach functions: return 0 to go on, anything else
 * to stop; the foreach then returns that value (else STORE_OK, or
 * STORE_ERROR when the rows cannot be read).  The record (and any strings
 * it points to) is valid only during the call.
 *
 * This is the header callers include.  The connection's life is declared
 * here; each table's functions in the header of the file that implements
 * them, all included here: store/schema.h (the schema version),
 * store/users.h, store/secrets.h, store/revoked.h and store/rooms.h.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/revoked.h"
#include "store/rooms.h"
#include "store/schema.h"
#include "store/secrets.h"
#include "store/users.h"

struct store;

enum store_status {
	STORE_OK = 0,
	STORE_ERROR = -1,      /* sqlite failed (I/O, locked too long, ...) */
	STORE_EXISTS = -2,     /* adding something that is already there */
	STORE_NOT_FOUND = -3,  /* deleting/looking up something absent */
	STORE_INVALID = -4,    /* a name or value fails validation */
};

/* Open (creating when missing, mode 0600) the database at path, apply every
 * pending migration, each in its own transaction, and prepare the
 * statements.  The folder must exist.  Returns NULL with a reason in err
 * when the file cannot be created or opened, is not an sqlite database, is
 * an sqlite database that is not ferry's, or has a schema newer than this
 * code.  The caller frees the result with store_close(). */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Close the connection and free st.  NULL is accepted. */
void store_close(struct store *st);

/* 1 when another connection (ferryctl, another process) has committed to
 * the file since the previous call (or since store_open for the first
 * call), 0 when not, STORE_ERROR when the question cannot be asked.  This
 * connection's own writes and any reads do not count.  ferryd polls it
 * about once a second and reloads what it caches when it returns 1. */
int store_changed(struct store *st);

/* 0 when the database answers a query touching the file (for /healthz),
 * STORE_ERROR otherwise, with the reason in err. */
int store_check(struct store *st, char *err, size_t errlen);

#endif
