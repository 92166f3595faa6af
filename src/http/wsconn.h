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
struct wsconns;

/* The WebSocket connections of one ferryd, carrying peers of sig on base.
 * wsconns_free() ends every connection still open at once (no closing
 * handshake) and frees the set; NULL is accepted. */
struct wsconns *wsconns_new(struct sig *sig, struct event_base *base);
void wsconns_free(struct wsconns *set);

/* Validate the handshake of a request for /ws and queue the 101 response
 * (or 400/426/405 with a JSON reason); the upgraded connection joins set.
 * Returns as routes_answer() does. */
int wsconn_upgrade(struct wsconns *set, struct http_req *r);

#endif
