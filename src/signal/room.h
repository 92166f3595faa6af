/*
 * room — the live rooms (a hash table by name) and their peers: joining
 * a room, presence on a connection, absence during the reconnect grace
 * (s->absent, in the order peers went) and leaving for good, with the
 * peer-left notice the others get (doc/signaling.md §5, §7).
 *
 * Rooms and peers are owned by struct sig; a room is freed with its last
 * peer, its row in the store stays.
 */
#ifndef FERRY_SIGNAL_ROOM_H
#define FERRY_SIGNAL_ROOM_H

#include <stddef.h>
#include <jansson.h>

#include "signal/state.h"

/* The live room called name, or NULL. */
struct sig_room *room_find(struct sig *s, const char *name);
/* A new live room without peers; the caller adds one at once. */
struct sig_room *room_new(struct sig *s, const char *name, int max_peers);
/* The peer of r whose id is id[0..len), or NULL. */
struct sig_peer *room_peer(const struct sig_room *r, const char *id,
			   size_t len);
/* {"id":…,"name":…} of p (a new reference). */
json_t *room_peer_json(const struct sig_peer *p);

/* Appends p (filled in by the caller, which gave up its ownership) to r,
 * last in join order. */
void room_add_peer(struct sig *s, struct sig_room *r, struct sig_peer *p);
/* p is present on c from now on: off the absent list, c->peer set. */
void room_attach(struct sig *s, struct sig_peer *p, struct sig_conn *c);
/* p's connection went: p is absent for reconnect-grace seconds.  With no
 * grace it leaves at once ("closed"), unless defer: then at the next
 * room_expire(), as a caller up the stack may be walking its room. */
void room_detach(struct sig *s, struct sig_peer *p, int defer);
/* Takes p out of its room, tells the others why (peer-left), and frees p
 * (and the room when it was the last).  p's connection, if any, is left
 * alone except that it no longer carries a peer. */
void room_remove(struct sig *s, struct sig_peer *p, const char *reason);
/* Absent peers whose grace ran out leave. */
void room_expire(struct sig *s);

/* Calls fn for every peer of every live room; fn must not remove any. */
void room_each_peer(struct sig *s, void (*fn)(struct sig_peer *p, void *ctx),
		    void *ctx);
/* The rooms table changed: live rooms re-read their max-peers, and those
 * whose row is gone are marked so (see struct sig_room's in_store). */
void room_reread(struct sig *s);
/* Frees every room and peer (sig_free). */
void room_free_all(struct sig *s);

#endif
