/*
 * ephemeral — the TURN REST form of ephemeral credentials
 * (draft-uberti-behave-turn-rest-00): the username "<expiry>[:<user>]",
 * the password base64(HMAC-SHA1(secret, username)).  Pure functions on
 * their arguments; ice_servers.c mints with them and lookup.c checks.
 * Included by auth/auth.h; callers include that.
 */
#ifndef FERRY_AUTH_EPHEMERAL_H
#define FERRY_AUTH_EPHEMERAL_H

#include <stddef.h>
#include <time.h>

/* The password for an ephemeral name: base64(HMAC-SHA1(secret, username))
 * into out (28 characters and the NUL).  When HMAC-SHA1 is unavailable out
 * is "", which matches no client. */
void auth_ephemeral_password(const char *secret, size_t secretlen,
			     const char *username, size_t ulen, char out[29]);

/* Parses the expiry of "<digits>[:<user>]" (name need not be
 * NUL-terminated).  Returns 1 and fills *expiry and *colon (the first
 * colon's offset, or len when there is none) when the name has that form,
 * 0 when its first part is empty or not all digits (not ephemeral), -1
 * when the number does not fit a time_t. */
int auth_ephemeral_parse(const char *name, size_t len, time_t *expiry,
			 size_t *colon);

#endif
