/*
 * alloc — the TURN layer of one worker (RFC 8656): its allocations, the
 * 5-tuple table that finds them, and their lifetimes.  Everything here
 * runs on the worker thread that received the Allocate; nothing takes a
 * lock on the data path.
 *
 * The layer is cut by concern, one file each, the arrows running one
 * way (handlers -> alloc -> datapath -> perm -> state.h):
 *   alloc.c     the layer object, the table, the end of allocations
 *   handlers.c  Allocate, Refresh, CreatePermission, ChannelBind
 *   datapath.c  relayed datagrams, client to peer and peer to client
 *   perm.c      permissions, channels, which peers a relay may reach
 *   state.h     the private types they share
 * Entry points for the engine (turn/engine.h) and the listeners are named
 * turn_*, whichever file holds them; what one file of the layer offers
 * the others is named for it (alloc_, dp_, perm_ and chan_), apart from
 * the inline lookups of state.h.  Requests reach the layer already
 * authenticated.
 */
#ifndef FERRY_TURN_H
#define FERRY_TURN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct addr_counts;
struct alloc;
struct auth;
struct event_base;
struct ferry_conf;
struct relay_pool;
struct srv_transport;
struct stats;
struct turn;

/* What the layer works with.  Everything outlives the layer; conf is
 * replaced with turn_set_conf(), the clocks with turn_set_clock(). */
struct turn_env {
	const struct ferry_conf *conf;
	struct event_base *base;           /* relay sockets, the 1 s timer */
	struct auth *auth;                 /* quotas, revocations */
	struct relay_pool *pool;           /* relayed ports, shared */
	struct addr_counts *alloc_counts;  /* NULL: no per-address limit */
	struct stats *stats;               /* this worker's counters */
	uint64_t (*mono)(void);            /* monotonic ms */
	time_t (*wall)(void);              /* wall-clock s */
};

/* turn_new() copies env; with env->base it runs turn_tick() once a
 * second.  turn_free() ends every allocation (NULL is a no-op). */
struct turn *turn_new(const struct turn_env *env);
void turn_free(struct turn *tn);
void turn_set_conf(struct turn *tn, const struct ferry_conf *conf);
void turn_set_clock(struct turn *tn, uint64_t (*mono)(void), time_t (*wall)(void));

/* A stream transport is gone: its allocations end. */
void turn_conn_closed(struct turn *tn, struct srv_transport *t);
/* Periodic work: expired allocations and credentials end, expired port
 * reservations are dropped.  Tests without an event base call it after
 * moving their clock. */
void turn_tick(struct turn *tn);
/* End allocations whose credential is gone: ephemeral ones whose user is
 * revoked, long-term ones whose user was deleted (the main thread posts
 * this whenever it publishes new credential sets). */
void turn_recheck_credentials(struct turn *tn);
size_t turn_count(const struct turn *tn);

/* ------------------------------------ for the files of the TURN layer */

/* An allocation made by handlers.c (xcalloc, relays open, quota and
 * address count taken) goes live: its relays are watched and known by
 * port, it enters the table and the counters.  From then on it is the
 * layer's, and only alloc_free() ends it. */
void alloc_start(struct turn *tn, struct alloc *a);
/* End a live allocation (why is for the log): what is pending for it is
 * sent, its relays close, its quota and address count are given back. */
void alloc_free(struct alloc *a, const char *why);
/* Give back what an allocation that never started holds (relays, quota,
 * address count) and free it. */
void alloc_discard(struct turn *tn, struct alloc *a);

#endif
