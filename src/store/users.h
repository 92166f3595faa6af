/*
 * users — the long-term TURN users of the database (RFC 8489 §9.2): a
 * name, the realm its keys were made for, and the keys; never the
 * password.  Included by store/store.h, which describes errors and
 * callbacks; callers include that.
 */
#ifndef FERRY_STORE_USERS_H
#define FERRY_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8489 §14.9: a realm is fewer than 128 characters, at most 763 bytes.
 * User names follow core/names.h (names_login). */
#define STORE_REALM_MAX  763

struct store;

/* The RFC 8489 §9.2.2 long-term credential keys:
 *   key_md5    = MD5(name ":" realm ":" password)
 *   key_sha256 = SHA-256(name ":" realm ":" password)
 * The strings are used as the bytes given: ferry does not apply the
 * OpaqueString profile (RFC 8265), which leaves ASCII unchanged, so
 * clients must send the same bytes.  Returns 0, or -1 when OpenSSL fails
 * (e.g. MD5 unavailable in a FIPS-only configuration).  Used for the
 * database's users and for the config file's `user` lines alike. */
int store_user_keys(const char *name, const char *realm, const char *password,
		    uint8_t key_md5[16], uint8_t key_sha256[32]);

struct store_user {
	const char *name;
	/* The realm the keys were made for: a user stored under another
	 * realm than the server's can never authenticate, so ferryd skips
	 * (and logs) such rows rather than trying them. */
	const char *realm;
	uint8_t key_md5[16];
	uint8_t key_sha256[32];
	int64_t created;         /* seconds since the epoch */
};

/* Store name's keys for realm; the password itself is never stored.
 * STORE_EXISTS when the user is already there, STORE_INVALID for a bad
 * name, an empty password or a realm that is empty or too long. */
int store_user_add(struct store *st, const char *name, const char *realm,
		   const char *password, char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no such user. */
int store_user_del(struct store *st, const char *name, char *err, size_t errlen);
/* Fill *out with name's record.  Returns STORE_OK, STORE_NOT_FOUND or
 * STORE_ERROR.  out->name and out->realm point into buf (bufsz bytes; 1024
 * is always enough) and stay valid as long as buf does. */
int store_user_lookup(struct store *st, const char *name, struct store_user *out,
		      char *buf, size_t bufsz, char *err, size_t errlen);

typedef int (*store_user_fn)(void *ctx, const struct store_user *u);
/* Every user in name order.  STORE_OK, the callback's stop value, or
 * STORE_ERROR. */
int store_user_foreach(struct store *st, store_user_fn fn, void *ctx,
		       char *err, size_t errlen);

#endif
