/*
 * nonce — stateless nonces (RFC 8489 §9.2): an HMAC, under the random key
 * auth_new() draws, over the client's IP address and the time of issue.
 * Nothing is stored for a client that has not authenticated, and any
 * worker can check a nonce another issued.  Included by auth/auth.h;
 * callers include that.
 */
#ifndef FERRY_AUTH_NONCE_H
#define FERRY_AUTH_NONCE_H

#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#define AUTH_NONCE_LIFETIME 600        /* seconds */
#define AUTH_NONCE_MAX 64              /* bytes, including the NUL */
#define AUTH_NONCE_KEY_LEN 32          /* the key in struct auth */

struct auth;

/* The nonce starts with RFC 8489's cookie "obMatJos2" and the security
 * feature bits (password algorithms, username anonymity).
 * make returns the length written (NUL-terminated).  check returns 0 for a
 * nonce this process issued to this client's IP address less than
 * AUTH_NONCE_LIFETIME seconds ago, 1 for one that is stale or that we did
 * not issue (both answered with 438 and a fresh nonce); a NULL nonce is
 * one we did not issue. */
size_t auth_nonce_make(struct auth *a, const struct sockaddr *client,
		       time_t now, char out[AUTH_NONCE_MAX]);
int auth_nonce_check(struct auth *a, const struct sockaddr *client,
		     const char *nonce, size_t len, time_t now);
/* 1 when the nonce carries the password-algorithms feature bit, so the
 * client may (and, if it knows RFC 8489, will) use PASSWORD-ALGORITHM. */
int auth_nonce_has_pw_algorithms(const char *nonce, size_t len);

#endif
