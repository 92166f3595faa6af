/* room — see room.h. */
#include "signal/room.h"
#include "signal/deliver.h"
#include "conf/conf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- rooms */

static size_t room_hash(const char *name)
{
	return (size_t)hash_finish(hash_str(HASH_INIT, name));
}

struct sig_room *room_find(struct sig *s, const char *name)
{
	struct sig_room *r = s->buckets[room_hash(name) & (s->nbuckets - 1)];

	while (r && strcmp(r->name, name) != 0)
		r = r->hnext;
	return r;
}

/* Doubles the table when rooms outnumber buckets (nbuckets stays a power
 * of two). */
static void rooms_grow(struct sig *s)
{
	size_t n = s->nbuckets * 2;
	struct sig_room **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r = s->buckets[i], *next;

		for (; r; r = next) {
			size_t h = room_hash(r->name) & (n - 1);

			next = r->hnext;
			r->hnext = b[h];
			b[h] = r;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

struct sig_room *room_new(struct sig *s, const char *name, int max_peers)
{
	struct sig_room *r = xcalloc(1, sizeof(*r));
	size_t h;

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->max_peers = max_peers;
	r->in_store = 1;
	if (s->stats.rooms >= s->nbuckets)
		rooms_grow(s);
	h = room_hash(name) & (s->nbuckets - 1);
	r->hnext = s->buckets[h];
	s->buckets[h] = r;
	s->stats.rooms++;
	return r;
}

/* A room with no peers is forgotten; its row in the store stays. */
static void room_free(struct sig *s, struct sig_room *r)
{
	struct sig_room **pp = &s->buckets[room_hash(r->name) & (s->nbuckets - 1)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	s->stats.rooms--;
	free(r);
}

struct sig_peer *room_peer(const struct sig_room *r, const char *id,
			   size_t len)
{
	struct sig_peer *p;

	/* Ids share their first 9 bytes (the prefix of this process): the
	 * last byte tells most of them apart without a call to memcmp. */
	for (p = r->head; p; p = p->next)
		if (p->idlen == len && len > 0 && p->id[len - 1] == id[len - 1] &&
		    memcmp(p->id, id, len) == 0)
			return p;
	return NULL;
}

json_t *room_peer_json(const struct sig_peer *p)
{
	return json_pack("{s:s,s:s}", "id", p->id, "name", p->name);
}

/* --------------------------------------------------------------- peers */

static void absent_unlink(struct sig *s, struct sig_peer *p)
{
	if (!p->absent)
		return;
	if (p->aprev)
		p->aprev->anext = p->anext;
	else
		s->absent = p->anext;
	if (p->anext)
		p->anext->aprev = p->aprev;
	else
		s->absent_tail = p->aprev;
	p->aprev = p->anext = NULL;
	p->absent = 0;
}

static void absent_link(struct sig *s, struct sig_peer *p)
{
	p->absent = 1;
	p->anext = NULL;
	p->aprev = s->absent_tail;
	if (s->absent_tail)
		s->absent_tail->anext = p;
	else
		s->absent = p;
	s->absent_tail = p;
}

static void peer_free(struct sig *s, struct sig_peer *p)
{
	deliver_drop(s, p);
	free(p->name);
	free(p->sub);
	free(p);
}

void room_add_peer(struct sig *s, struct sig_room *r, struct sig_peer *p)
{
	p->room = r;
	p->prev = r->tail;
	p->next = NULL;
	if (r->tail)
		r->tail->next = p;
	else
		r->head = p;
	r->tail = p;
	r->npeers++;
	s->stats.peers++;
}

void room_attach(struct sig *s, struct sig_peer *p, struct sig_conn *c)
{
	absent_unlink(s, p);
	p->conn = c;
	p->remote = c->remote;
	c->peer = p;
}

void room_detach(struct sig *s, struct sig_peer *p, int defer)
{
	long grace = s->env.conf->reconnect_grace;

	p->conn = NULL;
	p->deadline_ms = now_ms(s) + (uint64_t)grace * 1000;
	p->gone_reason = grace > 0 ? "timeout" : "closed";
	absent_link(s, p);
	if (grace == 0 && !defer) {
		room_remove(s, p, "closed");
		return;
	}
	log_info(SUBJ, log_addr(&p->remote),
		 "peer %s of room %s dropped; its place is kept for %ld s",
		 p->id, p->room->name, grace);
}

void room_remove(struct sig *s, struct sig_peer *p, const char *reason)
{
	struct sig_room *r = p->room;

	absent_unlink(s, p);
	if (p->prev)
		p->prev->next = p->next;
	else
		r->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		r->tail = p->prev;
	r->npeers--;
	s->stats.peers--;
	if (p->conn)
		p->conn->peer = NULL;
	log_info(SUBJ, log_addr(&p->remote), "peer %s left room %s (%s)",
		 p->id, r->name, reason);
	if (r->head)
		deliver_room_json(s, r, NULL, json_pack("{s:s,s:s,s:s}",
				  "type", "peer-left", "id", p->id,
				  "reason", reason));
	else
		room_free(s, r);
	peer_free(s, p);
}

void room_expire(struct sig *s)
{
	uint64_t now = now_ms(s);
	struct sig_peer *p, *next;

	for (p = s->absent; p; p = next) {
		next = p->anext;
		if (p->deadline_ms <= now)
			room_remove(s, p, p->gone_reason);
	}
}

/* ------------------------------------------------------------ all rooms */

void room_each_peer(struct sig *s, void (*fn)(struct sig_peer *p, void *ctx),
		    void *ctx)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r;
		struct sig_peer *p;

		for (r = s->buckets[i]; r; r = r->hnext)
			for (p = r->head; p; p = p->next)
				fn(p, ctx);
	}
}

void room_reread(struct sig *s)
{
	char err[256];

	if (!s->env.store)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r;

		for (r = s->buckets[i]; r; r = r->hnext) {
			int max = 0;
			int rc = store_room_get(s->env.store, r->name, &max,
						err, sizeof(err));

			if (rc < 0)
				log_warn(SUBJ, NULL, "room %s: %s", r->name, err);
			else if (rc == 0)
				r->in_store = 0;
			else
				r->max_peers = max;
		}
	}
}

void room_free_all(struct sig *s)
{
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r, *rnext;

		for (r = s->buckets[i]; r; r = rnext) {
			struct sig_peer *p, *pnext;

			rnext = r->hnext;
			for (p = r->head; p; p = pnext) {
				pnext = p->next;
				peer_free(s, p);
			}
			free(r);
		}
	}
}
