/*
 * join — entering a room (doc/signaling.md §4 `join`, §7, §8): the join
 * token against signaling-secret, the room's settings from the store,
 * capacity, the welcome and peer-joined, resuming a place with its resume
 * token, and ending the places of revoked users.
 */
#ifndef FERRY_SIGNAL_JOIN_H
#define FERRY_SIGNAL_JOIN_H

#include <jansson.h>

#include "signal/state.h"

/* The handler of `join` in the message table: m's members were checked
 * against the table already (room a valid name, name at most
 * SIG_NAME_MAX characters, token and resume strings when present), and c
 * carries no peer.  Every refusal is answered here. */
void join_handle(struct sig *s, struct sig_conn *c, json_t *m,
		 const char *type);
/* Peers whose token's sub is revoked now are kicked: error `kicked`,
 * close 4001, peer-left with reason "kicked", and no resume. */
void join_kick_revoked(struct sig *s);

#endif
