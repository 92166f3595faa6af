/*
 * quota — allocation quotas, shared by all workers: how many allocations
 * each credential user holds, and how many there are in all.
 *
 * The counts change with every allocation and have nothing to do with the
 * credential snapshot, so they sit in their own hash map under a plain
 * mutex, inside struct auth.  Included by auth/auth.h; callers include
 * that.
 */
#ifndef FERRY_AUTH_QUOTA_H
#define FERRY_AUTH_QUOTA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct auth;
struct auth_keys;

/* take returns 0 and counts one allocation for user, or -1 when
 * user_quota (per user; 0 = none) or total_quota (0 = none) is already
 * reached.  release undoes one take; releasing what was never taken is
 * ignored.  A NULL user counts as "". */
int auth_quota_take(struct auth *a, const char *user, long user_quota,
		    long total_quota);
void auth_quota_release(struct auth *a, const char *user);
long auth_quota_count(struct auth *a, const char *user);  /* for tests */
long auth_quota_total(struct auth *a);

/* The name to count quotas under: k->user, or k->name when the user
 * part is empty (a bare "<expiry>" names no user, and all such names must
 * not share one count).  Points into k. */
const char *auth_quota_id(const struct auth_keys *k);

/* Inside auth/ only: the table struct auth embeds (auth/state.h).  Its
 * members belong to quota.c; auth_new() calls init and auth_free() fini,
 * which frees every entry. */
struct quota_entry;
struct auth_quota_table {
	pthread_mutex_t lock;
	uint64_t seed;                     /* of the name hash, per table */
	struct quota_entry **bucket;
	size_t nbucket;                    /* a power of two */
	size_t n;
	long total;
};
void auth_quota_init(struct auth_quota_table *q);
void auth_quota_fini(struct auth_quota_table *q);

#endif
