/*
 * state — the private types of the TURN layer (turn/alloc.h), for its
 * files only: struct turn, the allocations it holds and their relays,
 * permissions and channels; and the table's lookups, inline because the
 * data path makes them for every datagram (the table's changes are in
 * alloc.c).
 *
 * Ownership: struct turn (turn_new/turn_free) owns every allocation in
 * its table; an allocation owns its relay sockets (given back to the
 * pool), its permission and channel arrays, its last answer and its two
 * names, all freed by alloc_free().
 */
#ifndef FERRY_TURN_STATE_H
#define FERRY_TURN_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include "core/hash.h"
#include "core/net.h"
#include "turn/alloc.h"
#include "turn/transport.h"

/* Peer datagrams are received into slots with room in front for the
 * ChannelData or Data indication header, so they are framed in place. */
#define RELAY_BATCH 16
#define HEADROOM 64
#define SLOT (HEADROOM + 65536 + 4)
/* Client-to-peer datagrams gathered for one sendmmsg. */
#define PEND_MAX 64

struct event;

struct relay {
	int fd;
	net_addr bound;                 /* where the socket is bound */
	net_addr shown;                 /* XOR-RELAYED-ADDRESS (external-ip) */
	struct event *ev;
	struct alloc *a;
};

struct perm {
	net_addr ip;                    /* port 0 */
	uint64_t expires;
};

struct chan {
	uint16_t num;
	net_addr peer;                  /* as the client named it */
	net_addr dst;                   /* where datagrams go (external-ip mapped) */
	uint64_t expires;               /* bound until; quarantined 5 min more */
};

struct alloc {
	struct alloc *hnext;            /* 5-tuple hash chain */
	struct alloc *prev, *next;      /* every allocation of the worker */
	struct turn *tn;
	struct srv_transport *t;
	net_addr client, local;
	uint64_t expires;               /* monotonic ms */
	time_t cred_expires;            /* strict-expiry: wall s; 0 = none */
	char *username;                 /* USERNAME that created it */
	char *user;                     /* quota and revocation identity */
	int ephemeral;
	int nrelay;
	struct relay relay[2];
	uint16_t nperms, nchans;
	struct perm *perms;
	struct chan *chans;
	/* the last answer given, for retransmissions */
	uint8_t last_tid[12];
	uint16_t last_len;
	uint8_t *last;
	/* max-bps token bucket, in bytes */
	uint64_t tokens;
	uint64_t refilled;
	int dont_fragment;              /* DF set on the relay sockets */
};

struct turn {
	struct turn_env env;
	/* client-to-peer datagrams gathered during a listener batch */
	int batching;                   /* inside turn_batch_begin/end */
	int pend_fd, npend;
	struct mmsghdr pend[PEND_MAX];
	struct iovec pend_iov[PEND_MAX];
	net_addr pend_to[PEND_MAX];
	/* the table: 5-tuple hash (a power of two of buckets) and a list */
	struct alloc **buckets;
	size_t nbuckets, count;
	struct alloc *all;
	struct event *tick_ev;
	uint64_t rng;
	/* This worker's relay sockets by port, [0] IPv4 and [1] IPv6 (made
	 * on first use): a datagram from one of our relays to another of
	 * this worker's is handed over in memory. */
	struct relay **by_port[2];
	uint8_t *hop;                   /* HEADROOM + one datagram */
	/* recvmmsg state for relayed sockets, shared by all of them */
	uint8_t *slots;
	struct mmsghdr msgs[RELAY_BATCH];
	struct iovec iov[RELAY_BATCH];
	struct sockaddr_storage from[RELAY_BATCH];
};

static inline uint64_t turn_now(const struct turn *tn)
{
	return tn->env.mono();
}

static inline size_t alloc_hash(const struct turn *tn, const struct srv_transport *t,
				const net_addr *client, const net_addr *local)
{
	uint64_t h = HASH_INIT;
	uintptr_t tp = (uintptr_t)t;
	uint16_t lp = net_port(&local->u.sa), cp = net_port(&client->u.sa);

	if (client->u.sa.sa_family == AF_INET)
		h = hash_bytes(h, &client->u.in4.sin_addr, 4);
	else
		h = hash_bytes(h, &client->u.in6.sin6_addr, 16);
	h = hash_bytes(h, &cp, 2);
	h = hash_bytes(h, &lp, 2);
	h = hash_bytes(h, &tp, sizeof(tp));
	return (size_t)hash_finish(h) & (tn->nbuckets - 1);
}

/* The allocation of a 5-tuple (transport, client, local), or NULL. */
static inline struct alloc *alloc_find(const struct turn *tn,
				       const struct srv_transport *t,
				       const net_addr *client, const net_addr *local)
{
	struct alloc *a = tn->buckets[alloc_hash(tn, t, client, local)];

	for (; a; a = a->hnext)
		if (a->t == t && net_equal(&a->client.u.sa, &client->u.sa) &&
		    net_equal(&a->local.u.sa, &local->u.sa))
			return a;
	return NULL;
}

/* The allocation's relay of an address family, or NULL. */
static inline struct relay *alloc_relay_for(struct alloc *a, int family)
{
	int i;
	for (i = 0; i < a->nrelay; i++)
		if (a->relay[i].bound.u.sa.sa_family == family)
			return &a->relay[i];
	return NULL;
}

/* The relay socket of this worker bound to dst, if any. */
static inline struct relay *alloc_own_relay(const struct turn *tn, const net_addr *dst)
{
	struct relay **tab = tn->by_port[dst->u.sa.sa_family == AF_INET6];
	struct relay *rl;

	if (!tab)
		return NULL;
	rl = tab[net_port(&dst->u.sa)];
	return rl && net_ip_equal(&rl->bound.u.sa, &dst->u.sa) ? rl : NULL;
}

#endif
