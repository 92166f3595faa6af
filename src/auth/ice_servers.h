/*
 * ice — the ICE servers a client should use, with fresh ephemeral TURN
 * credentials (doc/http-api.md, draft-uberti-behave-turn-rest-00).  Used
 * by /api/ice-servers, /api/turn, the signaling welcome and ferryctl.
 */
#ifndef FERRY_ICE_H
#define FERRY_ICE_H

#include <time.h>
#include <jansson.h>

struct ferry_conf;

struct ice_creds {
	char username[320];          /* "<expiry>:<user>" */
	char password[32];           /* base64(HMAC-SHA1(secret, username)) */
	long ttl;                    /* seconds, as applied */
	time_t expires;
};

/* Credentials for user (NULL or "": a random id) valid for ttl seconds
 * (<= 0 or above credential-ttl: credential-ttl).  secret NULL leaves the
 * password empty. */
void ice_make_creds(const struct ferry_conf *c, const char *secret,
		    const char *user, long ttl, time_t now, struct ice_creds *out);

/* The RTCIceServer[] for clients reaching us through host (public-host
 * wins when set): stun: URLs for the listeners, and turn:/turns: URLs with
 * creds when creds is non-NULL.  A new reference. */
json_t *ice_server_list(const struct ferry_conf *c, const char *host,
			const struct ice_creds *creds);

/* The URLs alone (for the draft's "uris"), a new array. */
json_t *ice_turn_uris(const struct ferry_conf *c, const char *host);

#endif
