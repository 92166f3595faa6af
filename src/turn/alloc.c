/* alloc — see alloc.h. */
#include "turn/alloc.h"
#include "auth/auth.h"
#include "core/addrcount.h"
#include "core/log.h"
#include "core/util.h"
#include "turn/datapath.h"
#include "turn/ports.h"
#include "turn/state.h"
#include "turn/stats.h"

#include <stdlib.h>

#include <event2/event.h>

/* ------------------------------------------------------------ the table */

static struct relay **port_slot(struct turn *tn, const net_addr *addr)
{
	int k = addr->u.sa.sa_family == AF_INET6;

	if (!tn->by_port[k])
		tn->by_port[k] = xcalloc(65536, sizeof(struct relay *));
	return &tn->by_port[k][net_port(&addr->u.sa)];
}

static void rehash(struct turn *tn, size_t n)
{
	struct alloc **old = tn->buckets, *a;
	size_t oldn = tn->nbuckets, i;

	tn->buckets = xcalloc(n, sizeof(*tn->buckets));
	tn->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		while ((a = old[i])) {
			size_t h = alloc_hash(tn, a->t, &a->client, &a->local);
			old[i] = a->hnext;
			a->hnext = tn->buckets[h];
			tn->buckets[h] = a;
		}
	}
	free(old);
}

static void table_insert(struct turn *tn, struct alloc *a)
{
	size_t h;

	if (tn->count + 1 > tn->nbuckets)
		rehash(tn, tn->nbuckets * 2);
	h = alloc_hash(tn, a->t, &a->client, &a->local);
	a->hnext = tn->buckets[h];
	tn->buckets[h] = a;
	a->next = tn->all;
	if (tn->all)
		tn->all->prev = a;
	tn->all = a;
	tn->count++;
}

static void table_remove(struct turn *tn, struct alloc *a)
{
	struct alloc **pp = &tn->buckets[alloc_hash(tn, a->t, &a->client, &a->local)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == a) {
			*pp = a->hnext;
			break;
		}
	}
	if (a->prev)
		a->prev->next = a->next;
	else
		tn->all = a->next;
	if (a->next)
		a->next->prev = a->prev;
	tn->count--;
}

/* ------------------------------------------------ start and end */

void alloc_start(struct turn *tn, struct alloc *a)
{
	int i;

	for (i = 0; i < a->nrelay; i++) {
		struct relay *rl = &a->relay[i];
		relay_to_public(tn->env.conf, &rl->bound, &rl->shown);
		rl->ev = event_new(tn->env.base, rl->fd, EV_READ | EV_PERSIST,
				   dp_relay_readable, rl);
		event_add(rl->ev, NULL);
		*port_slot(tn, &rl->bound) = rl;
	}
	table_insert(tn, a);
	stat_add(tn->env.stats, ST_ALLOCATIONS_TOTAL, 1);
	stat_add(tn->env.stats, ST_ALLOCATIONS_CURRENT, 1);
	if (srv_stream(a->t) && a->t->set_busy)
		a->t->set_busy(a->t, 1);
}

/* What an allocation holds outside itself, given back. */
static void give_back(struct turn *tn, struct alloc *a)
{
	int i;

	for (i = 0; i < a->nrelay; i++) {
		struct relay **slot = port_slot(tn, &a->relay[i].bound);
		if (*slot == &a->relay[i])
			*slot = NULL;
		if (a->relay[i].ev)
			event_free(a->relay[i].ev);
		relay_close(tn->env.pool, a->relay[i].fd, &a->relay[i].bound);
	}
	auth_quota_release(tn->env.auth, a->user);
	if (tn->env.alloc_counts)
		addr_counts_release(tn->env.alloc_counts, &a->client.u.sa);
}

static void free_fields(struct alloc *a)
{
	free(a->perms);
	free(a->chans);
	free(a->last);
	free(a->username);
	free(a->user);
	free(a);
}

void alloc_discard(struct turn *tn, struct alloc *a)
{
	give_back(tn, a);
	free_fields(a);
}

void alloc_free(struct alloc *a, const char *why)
{
	struct turn *tn = a->tn;
	char c[NET_ADDRSTRLEN];

	if (tn->npend)
		dp_flush(tn);
	log_info("turn", &a->client.u.sa, "allocation of %s ended (%s), relay %s",
		 a->username, why,
		 a->nrelay ? net_fmt(&a->relay[0].shown.u.sa, c, sizeof(c)) : "-");
	table_remove(tn, a);
	give_back(tn, a);
	stat_add(tn->env.stats, ST_ALLOCATIONS_CURRENT, (uint64_t)-1);
	if (srv_stream(a->t) && a->t->set_busy)
		a->t->set_busy(a->t, 0);
	free_fields(a);
}

/* ------------------------------------------------------------ lifetimes */

void turn_conn_closed(struct turn *tn, struct srv_transport *t)
{
	struct alloc *a, *next;

	for (a = tn->all; a; a = next) {
		next = a->next;
		if (a->t == t)
			alloc_free(a, "connection closed");
	}
}

void turn_tick(struct turn *tn)
{
	struct alloc *a, *next;
	uint64_t now = turn_now(tn);
	time_t wall = tn->env.wall();

	for (a = tn->all; a; a = next) {
		next = a->next;
		if (a->expires <= now)
			alloc_free(a, "lifetime expired");
		else if (a->cred_expires && a->cred_expires <= wall)
			alloc_free(a, "credential expired");
	}
	relay_expire_reservations(tn->env.pool);
}

void turn_recheck_credentials(struct turn *tn)
{
	struct auth *auth = tn->env.auth;
	struct alloc *a, *next;

	for (a = tn->all; a; a = next) {
		next = a->next;
		if (a->ephemeral ? auth_is_revoked(auth, a->user)
				 : !auth_is_user(auth, a->username))
			alloc_free(a, a->ephemeral ? "user revoked" : "user deleted");
	}
}

size_t turn_count(const struct turn *tn)
{
	return tn->count;
}

/* ------------------------------------------------------------ the layer */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	turn_tick(arg);
}

struct turn *turn_new(const struct turn_env *env)
{
	struct turn *tn = xcalloc(1, sizeof(*tn));

	tn->env = *env;
	tn->nbuckets = 64;
	tn->buckets = xcalloc(tn->nbuckets, sizeof(*tn->buckets));
	tn->slots = xmalloc((size_t)RELAY_BATCH * SLOT);
	tn->hop = xmalloc(SLOT);
	random_bytes(&tn->rng, sizeof(tn->rng));
	tn->rng |= 1;
	if (env->base) {
		struct timeval one = { 1, 0 };
		tn->tick_ev = event_new(env->base, -1, EV_PERSIST, tick_cb, tn);
		event_add(tn->tick_ev, &one);
	}
	return tn;
}

void turn_free(struct turn *tn)
{
	if (!tn)
		return;
	while (tn->all)
		alloc_free(tn->all, "shutdown");
	if (tn->tick_ev)
		event_free(tn->tick_ev);
	free(tn->buckets);
	free(tn->slots);
	free(tn->hop);
	free(tn->by_port[0]);
	free(tn->by_port[1]);
	free(tn);
}

void turn_set_conf(struct turn *tn, const struct ferry_conf *conf)
{
	tn->env.conf = conf;
}

void turn_set_clock(struct turn *tn, uint64_t (*mono)(void), time_t (*wall)(void))
{
	tn->env.mono = mono;
	tn->env.wall = wall;
}
