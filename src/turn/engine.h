/*
 * server — the STUN/TURN protocol engine of one worker thread.
 *
 * This is the network seam: the engine never reads a listening socket.
 * Listeners hand it each datagram or framed TCP message with the transport
 * it came on (turn/transport.h); it answers through the transport's send
 * function.  STUN itself (validation, authentication, Binding) is done
 * here; TURN requests and data go to the engine's TURN layer
 * (turn/alloc.h), whose relayed sockets live on the worker's event base.
 * Listeners and the main thread reach that layer through srv_turn() for
 * what concerns allocations only: batches of datagrams, a connection
 * gone, credentials rechecked.  Tests drive the engine with a transport
 * that records what was sent, and a clock they control (srv_set_clock).
 */
#ifndef FERRY_SERVER_H
#define FERRY_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "core/net.h"
#include "turn/transport.h"

struct addr_counts;
struct auth;
struct event_base;
struct ferry_conf;
struct relay_pool;
struct srv;
struct stats;
struct turn;

/* What an engine works with; everything outlives the engine except conf,
 * which the caller replaces with srv_set_conf() and keeps alive until the
 * next call or srv_free(). */
struct srv_env {
	const struct ferry_conf *conf;
	struct event_base *base;
	struct auth *auth;
	struct relay_pool *pool;
	struct addr_counts *alloc_counts;  /* allocations by client address */
	struct stats *stats;               /* this worker's counters */
};

/* srv_new() copies env and makes the TURN layer; srv_free() ends every
 * allocation and frees both (NULL is a no-op). */
struct srv *srv_new(const struct srv_env *env);
void srv_free(struct srv *s);
/* The engine and its TURN layer switch to conf. */
void srv_set_conf(struct srv *s, const struct ferry_conf *conf);
const struct ferry_conf *srv_conf(const struct srv *s);
/* This engine's counters (the worker's). */
struct stats *srv_stats(struct srv *s);
/* The engine's TURN layer (turn/alloc.h), owned by the engine: valid
 * until srv_free(). */
struct turn *srv_turn(struct srv *s);

/* Replace the clocks of the engine and its TURN layer (tests): monotonic
 * milliseconds and wall seconds. */
void srv_set_clock(struct srv *s, uint64_t (*mono)(void), time_t (*wall)(void));

/*
 * One STUN message or ChannelData frame from `client`, received on `local`.
 * For UDP, input that is neither is dropped silently.  Returns 0, or -1
 * when a stream transport should be closed (framing lost).
 */
int srv_input(struct srv *s, struct srv_transport *t, const net_addr *local,
	      const net_addr *client, const uint8_t *buf, size_t len);

#endif
