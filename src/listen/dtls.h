/*
 * dtls — TURN over DTLS 1.2 (RFC 8656 §3.1 and RFC 7350) on a worker's UDP
 * sockets.
 *
 * Datagrams whose first byte is 20..63 are DTLS (RFC 7983 demultiplexing),
 * whichever UDP port they reach.  A client's first ClientHello is answered
 * statelessly with a HelloVerifyRequest cookie (DTLSv1_listen); only a
 * ClientHello that returns a valid cookie, proving the source address,
 * creates a session.  Half-open sessions are bounded per source address
 * and per worker and expire after DTLS_HANDSHAKE_SECONDS.  An established
 * session is a transport like a TCP connection: each record carries one
 * STUN message or ChannelData frame for the engine.
 */
#ifndef FERRY_DTLS_H
#define FERRY_DTLS_H

#include <stddef.h>
#include <stdint.h>
#include "core/net.h"

struct dtls;
struct event_base;
struct srv;
struct srv_transport;
struct tls;

#define DTLS_HANDSHAKE_SECONDS 10
#define DTLS_HALF_OPEN_PER_ADDRESS 8
#define DTLS_HALF_OPEN_PER_WORKER 1024
#define DTLS_SESSIONS_PER_WORKER 20000

struct dtls *dtls_new(struct tls *tls, struct srv *srv, struct event_base *base);
void dtls_free(struct dtls *d);

/* One datagram from client that arrived on the UDP socket `under` (whose
 * send function carries our records back) at local. */
void dtls_input(struct dtls *d, struct srv_transport *under, const net_addr *local,
		const net_addr *client, const uint8_t *buf, size_t len);

/* 1 when buf starts like a DTLS record (RFC 7983: first byte 20..63). */
static inline int dtls_looks_like(const uint8_t *buf, size_t len)
{
	return len >= 13 && buf[0] >= 20 && buf[0] <= 63;
}

#endif
