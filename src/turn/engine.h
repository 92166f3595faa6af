/*
 * server — the STUN/TURN protocol engine of one worker thread.
 *
 * This is the network seam: the engine never reads a listening socket.
 * Listeners hand it each datagram or framed TCP message with the transport
 * it came on; it answers through the transport's send function.  Relayed
 * sockets, which belong to allocations, are the engine's own and live on
 * the worker's event base.  Tests drive it with a transport that records
 * what was sent, and a clock they control (srv_set_clock).
 */
#ifndef FERRY_SERVER_H
#define FERRY_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/uio.h>
#include "core/net.h"

struct auth;
struct event_base;
struct ferry_conf;
struct relay_pool;
struct srv;
struct stats;

enum srv_kind { SRV_UDP, SRV_TCP, SRV_TLS, SRV_DTLS };

/*
 * A way back to a client.  For UDP one transport serves a whole socket and
 * `local` (the address the request was sent to) varies per packet; for TCP
 * and TLS a transport is one connection.  Owned by the listener; the engine
 * may keep a pointer until srv_conn_closed() says it is gone.
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

/* What an engine works with; everything outlives the engine except conf,
 * which the caller replaces with srv_set_conf() and keeps alive until the
 * next call or srv_free(). */
struct addr_counts;

struct srv_env {
	const struct ferry_conf *conf;
	struct event_base *base;
	struct auth *auth;
	struct relay_pool *pool;
	struct addr_counts *alloc_counts;  /* allocations by client address */
	struct stats *stats;               /* this worker's counters */
};

struct srv *srv_new(const struct srv_env *env);
void srv_free(struct srv *s);
void srv_set_conf(struct srv *s, const struct ferry_conf *conf);
const struct ferry_conf *srv_conf(const struct srv *s);
/* This engine's counters (the worker's). */
struct stats *srv_stats(struct srv *s);

/* Replace the clocks (tests): monotonic milliseconds and wall seconds. */
void srv_set_clock(struct srv *s, uint64_t (*mono)(void), time_t (*wall)(void));

/*
 * One STUN message or ChannelData frame from `client`, received on `local`.
 * For UDP, input that is neither is dropped silently.  Returns 0, or -1
 * when a stream transport should be closed (framing lost).
 */
int srv_input(struct srv *s, struct srv_transport *t, const net_addr *local,
	      const net_addr *client, const uint8_t *buf, size_t len);

/* A datagram listener hands over a batch: between these calls the engine
 * may keep pointers into the input buffers, which must stay untouched
 * until srv_batch_end() (it sends what was gathered). */
void srv_batch_begin(struct srv *s);
void srv_batch_end(struct srv *s);

/* A stream transport is gone: its allocations end. */
void srv_conn_closed(struct srv *s, struct srv_transport *t);

/* Periodic work (expiry, revocations), which the engine's own timer does
 * once a second when it has an event base; tests without one call it
 * after moving their clock. */
void srv_tick(struct srv *s);

/* End the allocations whose credential is gone now: ephemeral ones whose
 * user is revoked, long-term ones whose user was deleted (the main thread
 * posts this whenever it publishes new credential sets). */
void srv_recheck_credentials(struct srv *s);

size_t srv_allocations(const struct srv *s);

#endif
