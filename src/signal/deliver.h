/*
 * deliver — getting a message to a peer: straight to its connection when
 * it has a working one, else into its queue (signaling-queue messages,
 * signaling-queue-memory bytes for all absent peers together, oldest
 * dropped first; doc/signaling.md §7) until a resume flushes it.
 *
 * Every message addressed to a peer goes through here: relayed messages
 * and our own peer-joined/peer-left notices alike, so that an absent peer
 * learns on resume everything the others learnt meanwhile, in order.
 * Everything runs on the main thread and every send is a call into the
 * transport, so the order of these calls is the order in which a receiver
 * gets messages: per-sender order holds without sequence numbers.
 */
#ifndef FERRY_SIGNAL_DELIVER_H
#define FERRY_SIGNAL_DELIVER_H

#include <stddef.h>
#include <jansson.h>

#include "signal/state.h"

/* text[0..len) (copied when queued) to p. */
void deliver_peer(struct sig *s, struct sig_peer *p, const char *text,
		  size_t len);
/* text[0..len) to every peer of r but except (NULL: all). */
void deliver_room(struct sig *s, struct sig_room *r,
		  const struct sig_peer *except, const char *text, size_t len);
/* The same with obj, serialized and freed here (NULL sends nothing). */
void deliver_room_json(struct sig *s, struct sig_room *r,
		       const struct sig_peer *except, json_t *obj);
/* Sends what waited for p over its (new) connection, oldest first.  On a
 * failed send the rest stays queued for the next resume. */
void deliver_flush(struct sig *s, struct sig_peer *p);
/* Frees what waits for p (its place is gone). */
void deliver_drop(struct sig *s, struct sig_peer *p);

#endif
