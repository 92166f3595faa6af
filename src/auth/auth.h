/*
 * auth — who may use the TURN server (RFC 8489 §9.2 long-term credentials).
 *
 * One struct auth serves the whole process.  The main thread publishes the
 * credential sets (users from the file and the database, shared secrets
 * for ephemeral credentials, the revocation list) whenever the file is
 * reloaded or the database changes; worker threads look names up
 * concurrently.  Publishing swaps a whole immutable snapshot under a
 * write lock, so a lookup never sees half of an update.
 *
 * Nonces are stateless: an HMAC, under a random key made at start, over
 * the client's IP address and the time of issue.  Nothing is stored for a
 * client that has not authenticated.
 */
#ifndef FERRY_AUTH_H
#define FERRY_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define AUTH_NONCE_LIFETIME 600        /* seconds */
#define AUTH_NONCE_MAX 64              /* bytes, including the NUL */
#define AUTH_MAX_KEYS 16               /* secrets tried for one ephemeral name */
#define AUTH_NAME_MAX 256

struct auth;

/* A long-term user whose keys are already derived (from the database). */
struct auth_user_keys {
	const char *name;
	const char *realm;                 /* the realm the keys were made for */
	uint8_t md5[16];                   /* MD5(name:realm:password) */
	uint8_t sha256[32];                /* SHA-256(name:realm:password) */
};

/* The credential sets, as the main thread assembles them.  auth_publish()
 * copies everything; the caller keeps ownership of its arrays. */
struct auth_config {
	const char *realm;
	/* `user = name:password` lines: keys derived with realm. */
	size_t n_plain;
	const char *const *plain_names;
	const char *const *plain_passwords;
	/* Users from the database. */
	size_t n_keyed;
	const struct auth_user_keys *keyed;
	/* auth-secret lines first, then the database's secrets. */
	size_t n_secrets;
	const char *const *secrets;
	/* User parts whose ephemeral credentials are refused. */
	size_t n_revoked;
	const char *const *revoked;
};

struct auth *auth_new(void);
void auth_free(struct auth *a);
void auth_publish(struct auth *a, const struct auth_config *cfg);

enum auth_result {
	AUTH_OK = 0,
	AUTH_UNKNOWN,                      /* no such user, or no secret */
	AUTH_EXPIRED,                      /* ephemeral, past its expiry */
	AUTH_REVOKED,                      /* ephemeral, user part revoked */
	AUTH_BAD_NAME,                     /* too long, empty, not UTF-8 ... */
};
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
/* The name to count quotas under: out->user, or out->name when the user
 * part is empty (a bare "<expiry>" names no user, and all such names must
 * not share one count).  Points into k. */
const char *auth_quota_id(const struct auth_keys *k);

/* The secret that signs new ephemeral credentials: the first auth-secret
 * of the file, else the database's oldest.  Copied into out (NUL
 * terminated); -1 when there is none or it does not fit. */
int auth_signing_secret(struct auth *a, char *out, size_t outsz);

/* 1 when name is a long-term user now (the file's or the database's). */
int auth_is_user(struct auth *a, const char *name);

/* 1 when the user part is on the revocation list now. */
int auth_is_revoked(struct auth *a, const char *user);

/* The draft-uberti-behave-turn-rest-00 password for an ephemeral name:
 * base64(HMAC-SHA1(secret, username)); out needs 29 bytes.  */
void auth_ephemeral_password(const char *secret, size_t secretlen,
			     const char *username, size_t ulen, char out[29]);

/* Nonces.  The nonce starts with RFC 8489's cookie "obMatJos2" and the
 * security feature bits (password algorithms, username anonymity).
 * make returns the length written (NUL-terminated).  check returns 0 for a
 * nonce this process issued to this client's IP address less than
 * AUTH_NONCE_LIFETIME seconds ago, 1 for one that is stale or that we did
 * not issue (both answered with 438 and a fresh nonce). */
size_t auth_nonce_make(struct auth *a, const struct sockaddr *client,
		       time_t now, char out[AUTH_NONCE_MAX]);
int auth_nonce_check(struct auth *a, const struct sockaddr *client,
		     const char *nonce, size_t len, time_t now);
/* 1 when the nonce carries the password-algorithms feature bit, so the
 * client may (and, if it knows RFC 8489, will) use PASSWORD-ALGORITHM. */
int auth_nonce_has_pw_algorithms(const char *nonce, size_t len);

/* Allocation quotas, shared by all workers.  take returns 0 and counts one
 * allocation for user, or -1 when user_quota (per user; 0 = none) or
 * total_quota (0 = none) is already reached.  release undoes one take. */
int auth_quota_take(struct auth *a, const char *user, long user_quota,
		    long total_quota);
void auth_quota_release(struct auth *a, const char *user);
long auth_quota_count(struct auth *a, const char *user);  /* for tests */
long auth_quota_total(struct auth *a);

#endif
