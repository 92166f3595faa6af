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
 *
 * This is the header callers include.  Each part of the interface is
 * declared in the header of the file that implements it:
 *   auth/lookup.h     the keys a USERNAME or USERHASH may use, and the
 *                     other questions asked of the published sets
 *   auth/ephemeral.h  the TURN REST form of ephemeral credentials
 *   auth/nonce.h      stateless nonces
 *   auth/quota.h      allocation quotas
 * and this one makes, frees and republishes the struct auth they all take.
 */
#ifndef FERRY_AUTH_H
#define FERRY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth/ephemeral.h"
#include "auth/lookup.h"
#include "auth/nonce.h"
#include "auth/quota.h"

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

/* A new struct auth with empty credential sets, a fresh nonce key and no
 * allocations counted; auth_free() frees it (NULL is accepted). */
struct auth *auth_new(void);
void auth_free(struct auth *a);
/* Replace the credential sets with cfg's (NULL: empty sets).  Lookups in
 * progress finish with the sets they started with. */
void auth_publish(struct auth *a, const struct auth_config *cfg);

#endif
