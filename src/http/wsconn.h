/*
 * wsconn — signaling WebSocket connections (RFC 6455) over sockets that
 * libmicrohttpd has upgraded, on the main event loop.
 *
 * A connection feeds complete text messages to signaling.c and offers it
 * send/close through struct sig_conn_ops.  It answers pings, pings an idle
 * client, drops one that stays silent for signaling-idle-timeout, bounds
 * what it queues for a slow reader, and performs the closing handshake.
 */
#ifndef FERRY_WSCONN_H
#define FERRY_WSCONN_H

#include <stddef.h>

struct event_base;
struct http_req;
struct sig;

/* Validate the handshake of a request for /ws and queue the 101 response
 * (or 400/426/405 with a JSON reason); the upgraded connection then runs
 * on base and carries a peer of sig.  Returns as routes_answer() does. */
int wsconn_upgrade(struct http_req *r, struct sig *sig, struct event_base *base);

/* At exit: end every connection now (no closing handshake). */
void wsconn_free_all(void);

#endif
