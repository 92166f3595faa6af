/*
 * datapath — relayed datagrams of the TURN layer (RFC 8656 §11, §12), both
 * ways: from the client (ChannelData, Send indications) out of a relay
 * socket to a peer, and from a peer into a relay socket and on to the
 * client (ChannelData, Data indications).  Per datagram nothing is
 * allocated, copied more than once or locked: datagrams in from peers are
 * framed in place in the layer's receive slots, those out to peers leave
 * from the listener's buffers, gathered into one sendmmsg per batch.
 * Between two relays of this worker a datagram is handed over in memory.
 */
#ifndef FERRY_TURN_DATAPATH_H
#define FERRY_TURN_DATAPATH_H

#include <stddef.h>
#include <stdint.h>
#include <event2/util.h>
#include "core/net.h"

struct alloc;
struct srv_transport;
struct stun_msg;
struct turn;

/* From the engine: a ChannelData frame, or a Send indication, from the
 * client of the 5-tuple (t, client, local).  Dropped (and counted) when
 * the 5-tuple has no allocation, the channel or permission is missing, or
 * max-bps is exceeded. */
void turn_channel_data(struct turn *tn, struct srv_transport *t,
		       const net_addr *local, const net_addr *client,
		       const uint8_t *buf, size_t len);
void turn_send_indication(struct turn *tn, struct srv_transport *t,
			  const net_addr *local, const net_addr *client,
			  const struct stun_msg *m);

/* A datagram listener hands over a batch: between these calls the layer
 * may keep pointers into the input buffers (of SRV_UDP transports), which
 * must stay untouched until turn_batch_end() sends what was gathered. */
void turn_batch_begin(struct turn *tn);
void turn_batch_end(struct turn *tn);

/* ------------------------------------ for the files of the TURN layer */

/* Send the client-to-peer datagrams gathered so far: before a relay
 * socket they name may close. */
void dp_flush(struct turn *tn);
/* The libevent callback of a relay socket (arg: its struct relay). */
void dp_relay_readable(evutil_socket_t fd, short what, void *arg);
/* DONT-FRAGMENT (RFC 8656 §7.2, §10.2) on the allocation's relays, from
 * now on. */
void dp_dont_fragment(struct alloc *a);

#endif
