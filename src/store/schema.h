/*
 * schema — the tables of ferry's database, as an ordered list of
 * migrations, and the code that brings a file up to date.
 */
#ifndef FERRY_STORE_SCHEMA_H
#define FERRY_STORE_SCHEMA_H

#include <stddef.h>

struct store;

/* The schema version this code writes; a file whose PRAGMA user_version is
 * larger was written by a newer ferry and is refused.  Public, through
 * store/store.h. */
int store_schema_version(void);

/* Inside store/ only, for store_open(): apply every pending migration, each
 * in its own transaction.  Returns 0, or -1 with the reason in err (the
 * file is another program's sqlite database, or its schema is newer than
 * this code, or sqlite failed); a failed migration is rolled back. */
int schema_migrate(struct store *st, char *err, size_t errlen);

#endif
