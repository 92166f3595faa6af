/*
 * turn_fixture — the world the TURN engine tests (tests/unit/turn) and the
 * turn fuzz target (tests/fuzz/fuzz_turn.c) build around the engine, so
 * both drive it the same way through its network seam (turn/engine.h):
 * clocks that move only when the program moves them, addresses and bound
 * UDP sockets, credentials from the configuration, and an engine over a
 * relay pool of its own.  Each program brings its own transport: the
 * test records what was sent, the fuzz target checks it.
 *
 * Everything here is single-threaded test code; failures of the system
 * (a socket that cannot be bound) are returned, mistakes of the caller
 * (an address that is not a literal) abort.
 */
#ifndef FERRY_TESTS_TURN_FIXTURE_H
#define FERRY_TESTS_TURN_FIXTURE_H

#include <stdint.h>
#include <time.h>

#include "core/net.h"
#include "turn/stats.h"

struct auth;
struct event_base;
struct ferry_conf;
struct relay_pool;
struct srv;
struct turn;

/* The engine's clocks: monotonic ms and wall s, as the program sets them. */
extern uint64_t fixture_mono_now;
extern time_t fixture_wall_now;
uint64_t fixture_mono(void);
time_t fixture_wall(void);

/* An IPv4 or IPv6 literal and a port (aborts on anything else). */
void fixture_addr(net_addr *a, const char *ip, uint16_t port);
/* A non-blocking UDP socket bound to ip, port chosen by the kernel, its
 * address in *bound; -1 when ip cannot be bound (a host without IPv6).
 * The caller closes it. */
int fixture_udp_socket(const char *ip, net_addr *bound);

/* A struct auth with conf's `user` lines and realm, plus one shared
 * secret and one revoked user when not NULL; auth_free() frees it.  NULL
 * when it cannot be made. */
struct auth *fixture_auth_new(const struct ferry_conf *conf, const char *secret,
			      const char *revoked);

/* An engine on the fixture's clocks, over a relay pool of its own; conf,
 * base and auth are the caller's and must outlive it. */
struct fixture_engine {
	struct relay_pool *pool;
	struct stats stats;             /* the engine's counters, zeroed */
	struct srv *srv;
	struct turn *turn;              /* srv_turn(srv) */
};

/* Fill *e (all of it: counters start at zero); 0, or -1 when the pool
 * cannot be made.  fixture_engine_stop() ends every allocation and frees
 * the engine and the pool. */
int fixture_engine_start(struct fixture_engine *e, const struct ferry_conf *conf,
			 struct event_base *base, struct auth *auth);
void fixture_engine_stop(struct fixture_engine *e);

#endif
