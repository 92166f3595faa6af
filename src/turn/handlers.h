/*
 * handlers — the TURN requests (RFC 8656 §7-§12): Allocate, Refresh,
 * CreatePermission and ChannelBind, answered with req_*() (turn/request.h).
 * Each answer is kept on its allocation, so that a retransmission gets the
 * same bytes again.
 */
#ifndef FERRY_TURN_HANDLERS_H
#define FERRY_TURN_HANDLERS_H

#include "core/net.h"

struct request;
struct srv_transport;
struct stun_msg;
struct turn;

/* An authenticated Allocate, Refresh, CreatePermission or ChannelBind
 * (anything else gets 400).  What is pending on the data path leaves
 * first, since the request may end an allocation. */
void turn_request(struct turn *tn, struct request *r);
/* 1 when m repeats the transaction that produced the last answer on its
 * allocation: that answer has been sent again.  0 otherwise. */
int turn_retransmission(struct turn *tn, struct srv_transport *t,
			const net_addr *local, const net_addr *client,
			const struct stun_msg *m);

#endif
