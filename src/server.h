/*
 * server — the STUN/TURN protocol engine of one worker thread.
 *
 * This is the network seam: the engine never touches a socket.  Listeners
 * hand it each datagram or framed TCP message with the transport it came
 * on; it answers through the transport's send function.  Tests drive it
 * with a transport that records what was sent and a clock they control.
 */
#ifndef FERRY_SERVER_H
#define FERRY_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "net.h"

struct ferry_conf;
struct srv;

enum srv_kind { SRV_UDP, SRV_TCP, SRV_TLS, SRV_DTLS };

/*
 * A way back to a client.  For UDP one transport serves a whole socket and
 * `local` (the address the request was sent to) varies per packet; for TCP
 * and TLS a transport is one connection.  Owned by the listener; the engine
 * may keep a pointer only between srv_conn_open() and srv_conn_closed().
 */
struct srv_transport {
	enum srv_kind kind;
	/* Queue len bytes for `to`, sent from `local`.  Returns 0, or -1 when
	 * the transport cannot take them (the engine then drops them). */
	int (*send)(struct srv_transport *t, const net_addr *local,
		    const net_addr *to, const void *buf, size_t len);
	/* Stream transports: end the connection after what is queued. */
	void (*close)(struct srv_transport *t);
};

/* The engine reads settings through *conf; the caller keeps it alive
 * until the next srv_set_conf() or srv_free(). */
struct srv *srv_new(const struct ferry_conf *conf);
void srv_free(struct srv *s);
void srv_set_conf(struct srv *s, const struct ferry_conf *conf);

/*
 * One STUN message or ChannelData frame from `client`, received on `local`.
 * For UDP, input that is not STUN is dropped silently.  Returns 0, or -1
 * when a stream transport should be closed (bad framing or a protocol
 * violation that RFC 8489 says ends the connection).
 */
int srv_input(struct srv *s, struct srv_transport *t, const net_addr *local,
	      const net_addr *client, const uint8_t *buf, size_t len);

/* A stream transport is gone: drop what the engine tied to it. */
void srv_conn_closed(struct srv *s, struct srv_transport *t);

#endif
