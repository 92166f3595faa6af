/*
 * revoked — the user parts (core/names.h names_user_id) whose ephemeral
 * credentials and join tokens are refused.  Included by store/store.h,
 * which describes errors and callbacks; callers include that.
 */
#ifndef FERRY_STORE_REVOKED_H
#define FERRY_STORE_REVOKED_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Refuse ephemeral credentials whose user part is user.  STORE_EXISTS when
 * already revoked, STORE_INVALID for a bad user name. */
int store_revoke(struct store *st, const char *user, char *err, size_t errlen);
/* STORE_NOT_FOUND when user was not revoked. */
int store_unrevoke(struct store *st, const char *user, char *err, size_t errlen);
/* 1 when revoked, 0 when not, STORE_ERROR on failure. */
int store_is_revoked(struct store *st, const char *user, char *err, size_t errlen);
/* user is valid only during the call. */
typedef int (*store_revoked_fn)(void *ctx, const char *user, int64_t created);
/* Every revoked user in name order. */
int store_revoked_foreach(struct store *st, store_revoked_fn fn, void *ctx,
			  char *err, size_t errlen);

#endif
