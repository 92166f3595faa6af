/* quota — see quota.h.  A chained hash map from user to count. */
#include "auth/quota.h"
#include "auth/lookup.h"
#include "auth/state.h"
#include "core/hash.h"
#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct quota_entry {
	struct quota_entry *next;
	uint64_t hash;
	long count;
	char name[];
};

void auth_quota_init(struct auth_quota_table *q)
{
	pthread_mutex_init(&q->lock, NULL);
	/* User names are the client's choice: a seed per table keeps them
	 * from aiming at one bucket (core/hash.h). */
	random_bytes(&q->seed, sizeof(q->seed));
	q->nbucket = 64;
	q->bucket = xcalloc(q->nbucket, sizeof(*q->bucket));
	q->n = 0;
	q->total = 0;
}

void auth_quota_fini(struct auth_quota_table *q)
{
	size_t i;

	for (i = 0; i < q->nbucket; i++) {
		struct quota_entry *e = q->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(q->bucket);
	pthread_mutex_destroy(&q->lock);
}

static uint64_t quota_hash(const struct auth_quota_table *q, const char *user)
{
	return hash_finish(hash_bytes(HASH_INIT ^ q->seed, user, strlen(user)));
}

/* Where user's entry is, or would be linked in when it is absent. */
static struct quota_entry **quota_slot(struct auth_quota_table *q, uint64_t h,
				       const char *user)
{
	struct quota_entry **pp = &q->bucket[h & (q->nbucket - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->hash == h && strcmp((*pp)->name, user) == 0)
			break;
	}
	return pp;
}

static void quota_grow(struct auth_quota_table *q)
{
	size_t nb = q->nbucket * 2, i;
	struct quota_entry **b = xcalloc(nb, sizeof(*b));

	for (i = 0; i < q->nbucket; i++) {
		struct quota_entry *e = q->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(q->bucket);
	q->bucket = b;
	q->nbucket = nb;
}

static struct quota_entry *quota_entry_new(uint64_t h, const char *user)
{
	size_t len = strlen(user);
	struct quota_entry *e = xmalloc(sizeof(*e) + len + 1);

	e->next = NULL;
	e->hash = h;
	e->count = 0;
	memcpy(e->name, user, len + 1);
	return e;
}

int auth_quota_take(struct auth *a, const char *user, long user_quota,
		    long total_quota)
{
	struct auth_quota_table *q = &a->q;
	uint64_t h;
	struct quota_entry **pp;
	int r = -1;

	if (!user)
		user = "";
	h = quota_hash(q, user);
	pthread_mutex_lock(&q->lock);
	pp = quota_slot(q, h, user);
	if (total_quota > 0 && q->total >= total_quota)
		goto out;
	if (user_quota > 0 && *pp && (*pp)->count >= user_quota)
		goto out;
	if (!*pp) {
		*pp = quota_entry_new(h, user);
		q->n++;
	}
	(*pp)->count++;
	q->total++;
	if (q->n > q->nbucket)
		quota_grow(q);
	r = 0;
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}

void auth_quota_release(struct auth *a, const char *user)
{
	struct auth_quota_table *q = &a->q;
	struct quota_entry **pp, *e;
	uint64_t h;

	if (!user)
		user = "";
	h = quota_hash(q, user);
	pthread_mutex_lock(&q->lock);
	pp = quota_slot(q, h, user);
	e = *pp;
	/* Releasing what was never taken is a caller bug, but counting
	 * below zero would hand the user extra allocations: ignore it. */
	if (e) {
		e->count--;
		if (q->total > 0)
			q->total--;
		if (e->count <= 0) {
			*pp = e->next;
			free(e);
			q->n--;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

long auth_quota_count(struct auth *a, const char *user)
{
	struct auth_quota_table *q = &a->q;
	struct quota_entry **pp;
	uint64_t h;
	long n;

	if (!user)
		user = "";
	h = quota_hash(q, user);
	pthread_mutex_lock(&q->lock);
	pp = quota_slot(q, h, user);
	n = *pp ? (*pp)->count : 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

long auth_quota_total(struct auth *a)
{
	long n;

	pthread_mutex_lock(&a->q.lock);
	n = a->q.total;
	pthread_mutex_unlock(&a->q.lock);
	return n;
}

const char *auth_quota_id(const struct auth_keys *k)
{
	return k->user[0] ? k->user : k->name;
}
