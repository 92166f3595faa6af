/* addrcount — see addrcount.h. */
#include "core/addrcount.h"
#include "core/hash.h"
#include "core/net.h"
#include "core/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint8_t key[NET_CLIENT_KEY_LEN];                 /* family byte + address */
	long n;
};

struct addr_counts {
	pthread_mutex_t lock;
	struct entry **b;
	size_t nb, used;
	long total;
	uint64_t seed;
};

struct addr_counts *addr_counts_new(void)
{
	struct addr_counts *ac = xcalloc(1, sizeof(*ac));

	pthread_mutex_init(&ac->lock, NULL);
	ac->nb = 256;
	ac->b = xcalloc(ac->nb, sizeof(*ac->b));
	random_bytes(&ac->seed, sizeof(ac->seed));
	return ac;
}

void addr_counts_free(struct addr_counts *ac)
{
	size_t i;
	struct entry *e, *n;

	if (!ac)
		return;
	for (i = 0; i < ac->nb; i++)
		for (e = ac->b[i]; e; e = n) {
			n = e->next;
			free(e);
		}
	free(ac->b);
	pthread_mutex_destroy(&ac->lock);
	free(ac);
}

/* Seeded, so that a client cannot aim its addresses at one bucket. */
static size_t bucket(const struct addr_counts *ac, const uint8_t key[NET_CLIENT_KEY_LEN])
{
	return (size_t)hash_finish(hash_bytes(ac->seed ^ HASH_INIT, key, NET_CLIENT_KEY_LEN)) &
	       (ac->nb - 1);
}

static void grow(struct addr_counts *ac)
{
	struct entry **old = ac->b, *e, *n;
	size_t oldn = ac->nb, i;

	ac->nb *= 2;
	ac->b = xcalloc(ac->nb, sizeof(*ac->b));
	for (i = 0; i < oldn; i++)
		for (e = old[i]; e; e = n) {
			size_t h = bucket(ac, e->key);
			n = e->next;
			e->next = ac->b[h];
			ac->b[h] = e;
		}
	free(old);
}

int addr_counts_take(struct addr_counts *ac, const struct sockaddr *addr,
		     long per_addr, long total)
{
	uint8_t key[NET_CLIENT_KEY_LEN];
	struct entry *e;
	size_t h;
	int rc = -1;

	net_client_key(addr, key);
	pthread_mutex_lock(&ac->lock);
	if (total > 0 && ac->total >= total)
		goto out;
	h = bucket(ac, key);
	for (e = ac->b[h]; e && memcmp(e->key, key, NET_CLIENT_KEY_LEN) != 0; e = e->next)
		;
	if (e && per_addr > 0 && e->n >= per_addr)
		goto out;
	if (!e) {
		if (ac->used + 1 > ac->nb) {
			grow(ac);
			h = bucket(ac, key);
		}
		e = xcalloc(1, sizeof(*e));
		memcpy(e->key, key, NET_CLIENT_KEY_LEN);
		e->next = ac->b[h];
		ac->b[h] = e;
		ac->used++;
	}
	e->n++;
	ac->total++;
	rc = 0;
out:
	pthread_mutex_unlock(&ac->lock);
	return rc;
}

void addr_counts_release(struct addr_counts *ac, const struct sockaddr *addr)
{
	uint8_t key[NET_CLIENT_KEY_LEN];
	struct entry **pp, *e;

	net_client_key(addr, key);
	pthread_mutex_lock(&ac->lock);
	for (pp = &ac->b[bucket(ac, key)]; (e = *pp); pp = &e->next) {
		if (memcmp(e->key, key, NET_CLIENT_KEY_LEN) == 0) {
			ac->total--;
			if (--e->n == 0) {
				*pp = e->next;
				free(e);
				ac->used--;
			}
			break;
		}
	}
	pthread_mutex_unlock(&ac->lock);
}


