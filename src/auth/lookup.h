/*
 * lookup — the questions worker threads ask of the published credential
 * sets: which keys a USERNAME (or a USERHASH) may authenticate with, and
 * whether a name is a user or revoked.  Each runs under the read side of
 * the snapshot's lock (auth/state.h), which an auth_publish() waits for
 * only to swap a pointer.  Included by auth/auth.h; callers include that.
 */
#ifndef FERRY_AUTH_LOOKUP_H
#define FERRY_AUTH_LOOKUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AUTH_MAX_KEYS 16               /* secrets tried for one ephemeral name */
#define AUTH_NAME_MAX 256

struct auth;

enum auth_result {
	AUTH_OK = 0,
	AUTH_UNKNOWN,                      /* no such user, or no secret */
	AUTH_EXPIRED,                      /* ephemeral, past its expiry */
	AUTH_REVOKED,                      /* ephemeral, user part revoked */
	AUTH_BAD_NAME,                     /* too long, empty, not UTF-8 ... */
};
/* A static string for logs. */
const char *auth_result_name(enum auth_result r);

/* The keys a USERNAME may authenticate with.  A long-term user has one;
 * an ephemeral name "<expiry>:<user>" (or "<expiry>") has one per secret,
 * since any configured secret may have signed it.  Filled by lookup. */
struct auth_keys {
	size_t n;
	struct {
		uint8_t md5[16];
		uint8_t sha256[32];
	} k[AUTH_MAX_KEYS];
	char name[AUTH_NAME_MAX];          /* the full USERNAME */
	char user[AUTH_NAME_MAX];          /* quota and revocation identity:
					    * the user part of an ephemeral
					    * name, else the name; "" for a
					    * bare "<expiry>" (or "<expiry>:"),
					    * whose quota identity is then
					    * the whole name: see
					    * auth_quota_id() */
	int ephemeral;
	time_t expires;                    /* ephemeral: its expiry; else 0 */
};

/* Long-term users are found first, then the ephemeral form.  `realm` is the
 * REALM the client sent (keys are derived with it; a database user whose
 * stored realm differs is AUTH_UNKNOWN). */
/* Details of the contract (added with the implementation):
 * - A file user owns its name: under another realm than the configured
 *   one it is AUTH_UNKNOWN, and the name is not tried as ephemeral.
 * - An ephemeral name splits at its FIRST colon; a first part that is not
 *   all digits makes it AUTH_UNKNOWN, one too large for a time_t
 *   AUTH_BAD_NAME.  Checks run in the order expiry, revocation, secrets.
 * - out->name is filled for every result but AUTH_BAD_NAME; out->user,
 *   out->ephemeral and out->expires also for AUTH_EXPIRED and
 *   AUTH_REVOKED, for logs.  out->n is 0 unless AUTH_OK.
 * - The whole lookup runs under the snapshot's read lock, which an
 *   auth_publish() waits for only to swap a pointer. */
enum auth_result auth_lookup(struct auth *a, const char *username, size_t len,
			     const char *realm, size_t realmlen, time_t now,
			     struct auth_keys *out);
/* The same by USERHASH (SHA-256(name:realm), RFC 8489 §14.4); only
 * long-term users can be found this way. */
enum auth_result auth_lookup_userhash(struct auth *a, const uint8_t hash[32],
				      const char *realm, size_t realmlen,
				      struct auth_keys *out);

/* The secret that signs new ephemeral credentials: the first auth-secret
 * of the file, else the database's oldest.  Copied into out (NUL
 * terminated); -1 when there is none or it does not fit. */
int auth_signing_secret(struct auth *a, char *out, size_t outsz);

/* 1 when name is a long-term user now (the file's or the database's).
 * NULL is no user. */
int auth_is_user(struct auth *a, const char *name);

/* 1 when the user part is on the revocation list now.  NULL is not. */
int auth_is_revoked(struct auth *a, const char *user);

#endif
