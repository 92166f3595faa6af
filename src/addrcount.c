/* addrcount — see addrcount.h. */
#include "addrcount.h"
#include "net.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint8_t key[17];                 /* family byte + address */
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

static void make_key(const struct sockaddr *sa, uint8_t key[17])
{
	net_addr a, c;

	memset(key, 0, 17);
	net_addr_from_sa(&a, sa);
	net_canonical(&a, &c);
	key[0] = (uint8_t)c.u.sa.sa_family;
	if (c.u.sa.sa_family == AF_INET)
		memcpy(key + 1, &c.u.in4.sin_addr, 4);
	else if (c.u.sa.sa_family == AF_INET6)
		memcpy(key + 1, &c.u.in6.sin6_addr, 16);
}

/* Seeded, so that a client cannot aim its addresses at one bucket. */
static size_t bucket(const struct addr_counts *ac, const uint8_t key[17])
{
	uint64_t h = ac->seed ^ 0xcbf29ce484222325ull;
	int i;

	for (i = 0; i < 17; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 32)) & (ac->nb - 1);
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
	uint8_t key[17];
	struct entry *e;
	size_t h;
	int rc = -1;

	make_key(addr, key);
	pthread_mutex_lock(&ac->lock);
	if (total > 0 && ac->total >= total)
		goto out;
	h = bucket(ac, key);
	for (e = ac->b[h]; e && memcmp(e->key, key, 17) != 0; e = e->next)
		;
	if (e && per_addr > 0 && e->n >= per_addr)
		goto out;
	if (!e) {
		if (ac->used + 1 > ac->nb) {
			grow(ac);
			h = bucket(ac, key);
		}
		e = xcalloc(1, sizeof(*e));
		memcpy(e->key, key, 17);
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
	uint8_t key[17];
	struct entry **pp, *e;

	make_key(addr, key);
	pthread_mutex_lock(&ac->lock);
	for (pp = &ac->b[bucket(ac, key)]; (e = *pp); pp = &e->next) {
		if (memcmp(e->key, key, 17) == 0) {
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


