/*
 * transport — the way back to a client, as listeners hand it to the
 * engine (turn/engine.h) with each message.  Shared by the engine, the
 * request helpers (turn/request.h) and the TURN layer (turn/alloc.h),
 * which keeps one per allocation.
 */
#ifndef FERRY_TRANSPORT_H
#define FERRY_TRANSPORT_H

#include <stddef.h>
#include <sys/uio.h>
#include "core/net.h"

enum srv_kind { SRV_UDP, SRV_TCP, SRV_TLS, SRV_DTLS };

/*
 * For UDP one transport serves a whole socket and `local` (the address the
 * request was sent to) varies per packet; for TCP and TLS a transport is
 * one connection.  Owned by the listener; the engine may keep a pointer
 * until turn_conn_closed() (turn/alloc.h) says it is gone.
 */
struct srv_transport {
	enum srv_kind kind;
	/* Send len bytes to `to`, from `local`.  Returns 0, or -1 when the
	 * transport cannot take them (the engine then drops them). */
	int (*send)(struct srv_transport *t, const net_addr *local,
		    const net_addr *to, const void *buf, size_t len);
	/* Optional (datagram transports): send n datagrams, all to `to`
	 * from `local`, in one go.  Returns how many left (from the first),
	 * or -1. */
	int (*send_batch)(struct srv_transport *t, const net_addr *local,
			  const net_addr *to, const struct iovec *iov, int n);
	/* Stream transports: end the connection after what is queued. */
	void (*close)(struct srv_transport *t);
	/* Stream transports: the engine holds state for this connection
	 * (an allocation) so the idle timeout must not apply. */
	void (*set_busy)(struct srv_transport *t, int busy);
};

/* A byte stream (TCP, TLS): frames are padded and lost framing is fatal. */
static inline int srv_stream(const struct srv_transport *t)
{
	return t->kind == SRV_TCP || t->kind == SRV_TLS;
}

#endif
