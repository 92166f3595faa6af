/*
 * turn — TURN allocations of one worker (RFC 8656): the 5-tuple table,
 * permissions, channels, lifetimes, and the relayed data path in both
 * directions.  Everything here runs on the worker thread that received
 * the Allocate; nothing takes a lock on the data path.
 *
 * Called by engine.c only; requests reach it already authenticated.
 */
#ifndef FERRY_TURN_H
#define FERRY_TURN_H

#include <stddef.h>
#include <stdint.h>
#include "core/net.h"

struct request;
struct srv;
struct srv_transport;
struct stun_msg;
struct turn;

struct turn *turn_new(struct srv *s);
void turn_free(struct turn *tn);

/* Allocate, Refresh, CreatePermission, ChannelBind (authenticated). */
void turn_request(struct turn *tn, struct request *r);
/* 1 when m repeats the transaction that produced the last answer on its
 * allocation: that answer has been sent again. */
int turn_retransmission(struct turn *tn, struct srv_transport *t,
			const net_addr *local, const net_addr *client,
			const struct stun_msg *m);
void turn_send_indication(struct turn *tn, struct srv_transport *t,
			  const net_addr *local, const net_addr *client,
			  const struct stun_msg *m);
void turn_channel_data(struct turn *tn, struct srv_transport *t,
		       const net_addr *local, const net_addr *client,
		       const uint8_t *buf, size_t len);

void turn_conn_closed(struct turn *tn, struct srv_transport *t);
/* Send the client-to-peer datagrams gathered during a batch. */
void turn_flush(struct turn *tn);
void turn_tick(struct turn *tn);
/* End allocations whose credential is gone: ephemeral ones whose user is
 * revoked, long-term ones whose user was deleted. */
void turn_recheck_credentials(struct turn *tn);
size_t turn_count(const struct turn *tn);

#endif
