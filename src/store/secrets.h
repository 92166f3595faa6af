/*
 * secrets — the shared secrets of the database that sign ephemeral
 * credentials (after the config file's auth-secret lines).  Included by
 * store/store.h, which describes errors and callbacks; callers include
 * that.
 */
#ifndef FERRY_STORE_SECRETS_H
#define FERRY_STORE_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SECRET_MAX 512

struct store;

/* A shared secret: 1..STORE_SECRET_MAX bytes, printable ASCII without
 * spaces, so it can be listed in a column and pasted into a config.
 * NULL is not one. */
int store_valid_secret(const char *value);

struct store_secret {
	int64_t id;              /* assigned by the database, never reused */
	const char *value;
	int64_t created;
};

/* Add a shared secret for ephemeral credentials.  value NULL generates one
 * (32 random bytes as unpadded base64url, 43 characters).  On success the
 * new id goes to *id (when id is not NULL) and, when gen is not NULL, the
 * stored value is copied to gen (gensz >= STORE_SECRET_MAX + 1 always
 * suffices; a smaller buffer gets STORE_INVALID before anything is
 * written).  STORE_EXISTS when the same value is already stored,
 * STORE_INVALID when value fails store_valid_secret(). */
int store_secret_add(struct store *st, const char *value, int64_t *id,
		     char *gen, size_t gensz, char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no secret with that id. */
int store_secret_del(struct store *st, int64_t id, char *err, size_t errlen);
typedef int (*store_secret_fn)(void *ctx, const struct store_secret *s);
/* Every secret, oldest (lowest id) first. */
int store_secret_foreach(struct store *st, store_secret_fn fn, void *ctx,
			 char *err, size_t errlen);

#endif
