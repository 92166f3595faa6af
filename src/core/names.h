/*
 * names — the rules for the names people and programs give ferry, one
 * place each, applied by the config file, the store, ferryctl, the HTTP
 * API, signaling and the TURN side alike.  Each returns 1 when the string
 * is acceptable and 0 otherwise; NULL is never acceptable.
 */
#ifndef FERRY_NAMES_H
#define FERRY_NAMES_H

#define NAMES_USER_ID_MAX 128
#define NAMES_LOGIN_MAX 255
#define NAMES_ROOM_MAX 64

/* A credential user id: the user part of an ephemeral TURN username
 * "<expiry>:<user>", hence what quotas count and revocations name — the
 * HTTP API's `user`, a join token's `sub`, `ferryctl revoke USER`.  1 to
 * NAMES_USER_ID_MAX bytes, each printable ASCII other than space
 * (0x21-0x7e) and ':', which ends the expiry. */
int names_user_id(const char *s);

/* A long-term user's name (a `user` line, `ferryctl user add`): 1 to
 * NAMES_LOGIN_MAX bytes without ':' (which would make it look like an
 * ephemeral username) or control characters (refused as RFC 8265's
 * OpaqueString refuses them; they would also break one-line listings).
 * UTF-8 and spaces are allowed. */
int names_login(const char *s);

/* A signaling room: 1 to NAMES_ROOM_MAX characters of [A-Za-z0-9_.-]. */
int names_room(const char *s);

#endif
