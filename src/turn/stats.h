/*
 * stats — counters for /metrics.
 *
 * Each worker owns one struct stats and is its only writer, so a counter
 * is bumped with a relaxed load and store (no locked instruction on the
 * packet path); any thread may read it with a relaxed load.  Totals are
 * the sum over workers.
 */
#ifndef FERRY_STATS_H
#define FERRY_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define STATS_LIST(X) \
	X(ALLOCATIONS_TOTAL) \
	X(ALLOCATIONS_CURRENT) \
	X(RELAY_TO_PEER_BYTES) \
	X(RELAY_TO_PEER_PACKETS) \
	X(RELAY_TO_CLIENT_BYTES) \
	X(RELAY_TO_CLIENT_PACKETS) \
	X(RELAY_DROPPED_PACKETS) \
	X(RELAY_IN_MEMORY_PACKETS) \
	X(REQ_BINDING) \
	X(REQ_ALLOCATE) \
	X(REQ_REFRESH) \
	X(REQ_CREATE_PERMISSION) \
	X(REQ_CHANNEL_BIND) \
	X(IND_SEND) \
	X(REQ_OTHER) \
	X(AUTH_FAIL_MISSING) \
	X(AUTH_FAIL_STALE_NONCE) \
	X(AUTH_FAIL_UNKNOWN_USER) \
	X(AUTH_FAIL_EXPIRED) \
	X(AUTH_FAIL_REVOKED) \
	X(AUTH_FAIL_INTEGRITY) \
	X(AUTH_FAIL_BAD_REQUEST) \
	X(AUTH_FAIL_WRONG_CREDENTIALS) \
	X(QUOTA_REJECTED) \
	X(ADDRESS_LIMIT_REJECTED) \
	X(TCP_REFUSED) \
	X(UNAUTH_RATE_DROPPED)

enum stat_id {
#define STAT_ENUM(name) ST_##name,
	STATS_LIST(STAT_ENUM)
#undef STAT_ENUM
	ST__COUNT
};

struct stats {
	_Atomic uint64_t v[ST__COUNT];
};

/* Single writer: the owning worker. */
static inline void stat_add(struct stats *s, enum stat_id id, uint64_t n)
{
	if (!s)
		return;
	atomic_store_explicit(&s->v[id],
			      atomic_load_explicit(&s->v[id], memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t stat_get(const struct stats *s, enum stat_id id)
{
	return atomic_load_explicit(&((struct stats *)s)->v[id], memory_order_relaxed);
}

#endif
