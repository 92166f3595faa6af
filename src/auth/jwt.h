/*
 * jwt — JSON Web Tokens (RFC 7519) in JWS compact serialization (RFC 7515),
 * HMAC-SHA256 ("HS256") only: the signaling tokens ferry mints and checks.
 *
 * Only HS256 exists here on purpose: a verifier that lets the token pick
 * its algorithm can be talked into "none" or into an algorithm whose key
 * means something else, so the header's alg must be exactly "HS256".
 */
#ifndef FERRY_JWT_H
#define FERRY_JWT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

/* Tokens longer than this many characters are refused unread. */
#define JWT_MAX_LEN 8192

/*
 * Signs claims (a JSON object; borrowed, not modified) with the secretlen
 * bytes at secret (any length, binary allowed; secret may be NULL only
 * when secretlen is 0), under the header {"alg":"HS256",
 * "typ":"JWT"}.  Returns the token as a malloc'd NUL-terminated string the
 * caller frees, or NULL when claims is not an object or cannot be
 * serialized, or the result would exceed JWT_MAX_LEN.
 */
char *jwt_sign_hs256(const char *secret, size_t secretlen, json_t *claims);

/*
 * Verifies token (NUL-terminated) against the secretlen bytes at secret,
 * as for signing, at time now (seconds since the epoch).  claims_out may
 * be NULL when only the verdict matters.
 *
 * Returns 0 and stores the claims object in *claims_out (a new reference
 * the caller must json_decref) on success.  Returns -1 otherwise, leaving
 * *claims_out NULL and writing one of these fixed reasons into err (which
 * may be NULL; errlen includes the NUL):
 *
 *   "too long"         more than JWT_MAX_LEN characters
 *   "malformed"        not three base64url parts (unpadded), or the header
 *                      or payload is not a JSON object (duplicate keys are
 *                      refused), or the header has "crit", or "nbf" is
 *                      present but not a number
 *   "unsupported alg"  header alg missing, not a string or not "HS256"
 *                      (this includes "none")
 *   "bad signature"    the HMAC does not match (compared in constant time)
 *   "expired"          "exp" missing, not a number, or <= now
 *   "not yet valid"    "nbf" > now
 *
 * Length, shape and header are checked first, then the signature; the
 * payload's JSON is parsed only once the signature has matched, so
 * unauthenticated input never reaches it (a bad payload with a good
 * signature is "malformed"; with a bad one, "bad signature").
 */
int jwt_verify_hs256(const char *token, const char *secret, size_t secretlen,
		     time_t now, json_t **claims_out, char *err, size_t errlen);

#endif
