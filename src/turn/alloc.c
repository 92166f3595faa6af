/* turn — see alloc.h. */
#include "turn/alloc.h"
#include "core/hash.h"
#include "turn/request.h"
#include "core/addrcount.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/peerfilter.h"
#include "turn/ports.h"
#include "turn/stats.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#define DEFAULT_LIFETIME 600            /* seconds, RFC 8656 §7.2 */
#define PERM_LIFETIME_MS 300000u        /* RFC 8656 §9 */
#define CHAN_LIFETIME_MS 600000u        /* RFC 8656 §12 */
/* After a channel binding expires, neither its number nor its peer may be
 * bound to something else for another 5 minutes (RFC 8656 §12). */
#define CHAN_QUARANTINE_MS 300000u
#define CHAN_MIN STUN_CHANNEL_MIN
#define CHAN_MAX STUN_CHANNEL_MAX
/* Bounds on what one allocation may hold; beyond them, 508. */
#define MAX_PERMS 256
#define MAX_CHANS 256

#define ADDR_FAMILY_IPV4 0x01
#define ADDR_FAMILY_IPV6 0x02
#define PROTO_UDP 17

/* Peer datagrams are received into slots with room in front for the
 * ChannelData or Data indication header, so they are framed in place. */
#define RELAY_BATCH 16
#define HEADROOM 64
#define SLOT (HEADROOM + 65536 + 4)

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

#define PEND_MAX 64

struct turn {
	struct srv *s;
	/* client-to-peer datagrams gathered during a listener batch */
	int pend_fd, npend;
	struct mmsghdr pend[PEND_MAX];
	struct iovec pend_iov[PEND_MAX];
	net_addr pend_to[PEND_MAX];
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

static const struct ferry_conf *CONF(struct turn *tn)
{
	return tn->s->env.conf;
}

static uint64_t now_ms(struct turn *tn)
{
	return tn->s->mono();
}

/* ------------------------------------------------------------ the table */

static struct relay **port_slot(struct turn *tn, const net_addr *addr)
{
	int k = addr->u.sa.sa_family == AF_INET6;

	if (!tn->by_port[k])
		tn->by_port[k] = xcalloc(65536, sizeof(struct relay *));
	return &tn->by_port[k][net_port(&addr->u.sa)];
}

/* The relay socket of this worker bound to dst, if any. */
static struct relay *own_relay(struct turn *tn, const net_addr *dst)
{
	struct relay **tab = tn->by_port[dst->u.sa.sa_family == AF_INET6];
	struct relay *rl;

	if (!tab)
		return NULL;
	rl = tab[net_port(&dst->u.sa)];
	return rl && net_ip_equal(&rl->bound.u.sa, &dst->u.sa) ? rl : NULL;
}

static size_t tuple_hash(const struct turn *tn, const struct srv_transport *t,
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

static struct alloc *find_alloc(struct turn *tn, struct srv_transport *t,
				const net_addr *client, const net_addr *local)
{
	struct alloc *a = tn->buckets[tuple_hash(tn, t, client, local)];

	for (; a; a = a->hnext)
		if (a->t == t && net_equal(&a->client.u.sa, &client->u.sa) &&
		    net_equal(&a->local.u.sa, &local->u.sa))
			return a;
	return NULL;
}

static void rehash(struct turn *tn, size_t n)
{
	struct alloc **old = tn->buckets, *a;
	size_t oldn = tn->nbuckets, i;

	tn->buckets = xcalloc(n, sizeof(*tn->buckets));
	tn->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		while ((a = old[i])) {
			size_t h = tuple_hash(tn, a->t, &a->client, &a->local);
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
	h = tuple_hash(tn, a->t, &a->client, &a->local);
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
	struct alloc **pp = &tn->buckets[tuple_hash(tn, a->t, &a->client, &a->local)];

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

static void alloc_free(struct alloc *a, const char *why)
{
	struct turn *tn = a->tn;
	char c[NET_ADDRSTRLEN];
	int i;

	if (tn->npend)
		turn_flush(tn);
	log_info("turn", &a->client.u.sa, "allocation of %s ended (%s), relay %s",
		 a->username, why,
		 a->nrelay ? net_fmt(&a->relay[0].shown.u.sa, c, sizeof(c)) : "-");
	table_remove(tn, a);
	for (i = 0; i < a->nrelay; i++) {
		struct relay **slot = port_slot(tn, &a->relay[i].bound);
		if (*slot == &a->relay[i])
			*slot = NULL;
		if (a->relay[i].ev)
			event_free(a->relay[i].ev);
		relay_close(tn->s->env.pool, a->relay[i].fd, &a->relay[i].bound);
	}
	auth_quota_release(tn->s->env.auth, a->user);
	if (tn->s->env.alloc_counts)
		addr_counts_release(tn->s->env.alloc_counts, &a->client.u.sa);
	stat_add(tn->s->env.stats, ST_ALLOCATIONS_CURRENT, (uint64_t)-1);
	if (srv_stream(a->t) && a->t->set_busy)
		a->t->set_busy(a->t, 0);
	free(a->perms);
	free(a->chans);
	free(a->last);
	free(a->username);
	free(a->user);
	free(a);
}

/* ------------------------------------------------------ peers and policy */

static struct relay *relay_for(struct alloc *a, int family)
{
	int i;
	for (i = 0; i < a->nrelay; i++)
		if (a->relay[i].bound.u.sa.sa_family == family)
			return &a->relay[i];
	return NULL;
}

/* May a relay reach peer?  Our own relayed addresses always; otherwise
 * the peer filter (peerfilter.h): the built-in table of special-purpose
 * blocks plus the file's denied-peer and allowed-peer lines, with IPv6
 * forms that embed IPv4 (::ffff:127.0.0.1, 64:ff9b::a00:1, 6to4, Teredo)
 * judged by the IPv4 addresses inside.
 * "Our own" means a port the pool holds, not any port of relay-ports on a
 * relay IP: another process's socket there (a resolver's ephemeral port,
 * say, when relay-ip is a private address behind external-ip) is the
 * host itself, which the deny list must keep out of reach. */
static int peer_allowed(struct turn *tn, const net_addr *peer)
{
	const struct ferry_conf *c = CONF(tn);
	struct pf_policy pol;
	net_addr canon, priv;

	net_canonical(peer, &canon);
	if (relay_is_own(c, &canon.u.sa)) {
		relay_from_public(c, &canon, &priv);
		/* This worker's own relays are known without the pool's lock. */
		if (own_relay(tn, &priv) || relay_pool_holds(tn->s->env.pool, &priv))
			return 1;
	}
	pol.denied = c->denied_peer.v;
	pol.n_denied = c->denied_peer.n;
	pol.allowed = c->allowed_peer.v;
	pol.n_allowed = c->allowed_peer.n;
	pol.allow_loopback = c->allow_loopback_peers;
	return pf_allowed(&pol, &peer->u.sa);
}

static struct perm *perm_find(struct alloc *a, const struct sockaddr *peer)
{
	uint16_t i;
	for (i = 0; i < a->nperms; i++)
		if (net_ip_equal(&a->perms[i].ip.u.sa, peer))
			return &a->perms[i];
	return NULL;
}

static int perm_ok(struct alloc *a, const struct sockaddr *peer, uint64_t now)
{
	struct perm *p = perm_find(a, peer);
	return p && p->expires > now;
}

/* Install or refresh; -1 when the allocation holds MAX_PERMS live ones. */
static int perm_add(struct alloc *a, const net_addr *peer, uint64_t now)
{
	struct perm *p = perm_find(a, &peer->u.sa);
	uint16_t i, j;

	if (!p) {
		for (i = j = 0; i < a->nperms; i++)     /* drop expired ones */
			if (a->perms[i].expires > now)
				a->perms[j++] = a->perms[i];
		a->nperms = j;
		if (a->nperms >= MAX_PERMS)
			return -1;
		a->perms = xrealloc(a->perms, (a->nperms + 1u) * sizeof(*a->perms));
		p = &a->perms[a->nperms++];
		p->ip = *peer;
		net_set_port(&p->ip, 0);
	}
	p->expires = now + PERM_LIFETIME_MS;
	return 0;
}

static struct chan *chan_by_num(struct alloc *a, uint16_t num)
{
	uint16_t i;
	for (i = 0; i < a->nchans; i++)
		if (a->chans[i].num == num)
			return &a->chans[i];
	return NULL;
}

static struct chan *chan_by_peer(struct alloc *a, const struct sockaddr *peer)
{
	uint16_t i;
	for (i = 0; i < a->nchans; i++)
		if (net_equal(&a->chans[i].peer.u.sa, peer))
			return &a->chans[i];
	return NULL;
}

/* Token bucket for max-bps: 1 when len bytes may pass now. */
static int rate_ok(struct alloc *a, size_t len, uint64_t now)
{
	long bps = CONF(a->tn)->max_bps;

	if (bps <= 0)
		return 1;
	if (now > a->refilled) {
		a->tokens += (now - a->refilled) * (uint64_t)bps / 1000u;
		if (a->tokens > (uint64_t)bps)
			a->tokens = (uint64_t)bps;
		a->refilled = now;
	}
	if (a->tokens < len)
		return 0;
	a->tokens -= len;
	return 1;
}

/* DONT-FRAGMENT (RFC 8656 §7.2, §10.2): relayed datagrams leave with the
 * DF bit (IPv4) or are never fragmented (IPv6).  It is a socket setting,
 * so once a client asks, the allocation keeps it. */
static void set_dont_fragment(struct alloc *a)
{
	int i, on = 1, pmtu = IP_PMTUDISC_DO;

	for (i = 0; i < a->nrelay && !a->dont_fragment; i++) {
		if (a->relay[i].bound.u.sa.sa_family == AF_INET)
			setsockopt(a->relay[i].fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
				   sizeof(pmtu));
		else
			setsockopt(a->relay[i].fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on,
				   sizeof(on));
	}
	a->dont_fragment = 1;
}

/* --------------------------------------------------------- data path */

static int frame_for_client(struct alloc *a, const net_addr *peer, uint8_t *data,
			    size_t len, uint64_t now, uint8_t **out, size_t *outlen);

/*
 * A datagram from relay `from` to relay `to`, both this worker's: what the
 * kernel would carry from one socket to the other, handed over in memory
 * (the receiver's permission and rate checks apply as for any peer).
 */
static void hop(struct turn *tn, struct relay *from, struct relay *to,
		const void *data, size_t len, uint64_t now)
{
	struct alloc *b = to->a;
	uint8_t *frame, *buf = tn->hop + HEADROOM;
	size_t flen;

	stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
	stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_BYTES, len);
	if (!perm_ok(b, &from->shown.u.sa, now) || !rate_ok(b, len, now)) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	memcpy(buf, data, len);
	if (frame_for_client(b, &from->shown, buf, len, now, &frame, &flen) < 0 ||
	    b->t->send(b->t, &b->local, &b->client, frame, flen) < 0) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_PACKETS, 1);
	stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_BYTES, len);
	stat_add(tn->s->env.stats, ST_RELAY_IN_MEMORY_PACKETS, 1);
}

/* Send what is pending for one relay socket, in one sendmmsg. */
void turn_flush(struct turn *tn)
{
	int done = 0, r, i;

	while (done < tn->npend) {
		r = sendmmsg(tn->pend_fd, tn->pend + done, (unsigned)(tn->npend - done),
			     MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0)
			break;
		done += r;
	}
	for (i = 0; i < done; i++) {
		stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
		stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_BYTES, tn->pend_iov[i].iov_len);
	}
	if (done < tn->npend)
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS,
			 (uint64_t)(tn->npend - done));
	tn->npend = 0;
}

/*
 * One datagram from the client to a peer.  While the listener hands over a
 * batch of datagrams (srv_batch_begin), those for the same relay socket
 * are gathered and leave in one sendmmsg when the batch ends, the socket
 * changes, or a request is handled; the data stays in the listener's
 * buffers until then.
 */
static void to_peer(struct alloc *a, const net_addr *dst, const void *data,
		    size_t len, uint64_t now)
{
	struct turn *tn = a->tn;
	struct relay *rl = relay_for(a, dst->u.sa.sa_family), *peer_rl;

	if (!rl || !rate_ok(a, len, now)) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	if (len <= 65536 && (peer_rl = own_relay(tn, dst)) != NULL && peer_rl->a != a) {
		hop(tn, rl, peer_rl, data, len, now);
		return;
	}
	/* Only plain UDP input lies in the listener's batch buffers (DTLS
	 * records are decrypted into one reused buffer). */
	if (tn->s->batching && a->t->kind == SRV_UDP) {
		struct mmsghdr *mm;

		if (tn->npend && (tn->pend_fd != rl->fd || tn->npend == PEND_MAX))
			turn_flush(tn);
		tn->pend_fd = rl->fd;
		tn->pend_to[tn->npend] = *dst;
		tn->pend_iov[tn->npend].iov_base = (void *)data;
		tn->pend_iov[tn->npend].iov_len = len;
		mm = &tn->pend[tn->npend];
		memset(mm, 0, sizeof(*mm));
		mm->msg_hdr.msg_name = &tn->pend_to[tn->npend].u.sa;
		mm->msg_hdr.msg_namelen = dst->len;
		mm->msg_hdr.msg_iov = &tn->pend_iov[tn->npend];
		mm->msg_hdr.msg_iovlen = 1;
		tn->npend++;
		return;
	}
	if (sendto(rl->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   &dst->u.sa, dst->len) < 0) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
	stat_add(tn->s->env.stats, ST_RELAY_TO_PEER_BYTES, len);
}

void turn_channel_data(struct turn *tn, struct srv_transport *t,
		       const net_addr *local, const net_addr *client,
		       const uint8_t *buf, size_t len)
{
	struct stun_chandata cd;
	struct alloc *a;
	struct chan *ch;
	uint64_t now;

	if (stun_chandata_parse(buf, len, &cd) != 0)
		return;
	a = find_alloc(tn, t, client, local);
	if (!a)
		return;
	now = now_ms(tn);
	ch = chan_by_num(a, cd.channel);
	if (!ch || ch->expires <= now || !perm_ok(a, &ch->peer.u.sa, now)) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	to_peer(a, &ch->dst, cd.data, cd.len, now);
}

void turn_send_indication(struct turn *tn, struct srv_transport *t,
			  const net_addr *local, const net_addr *client,
			  const struct stun_msg *m)
{
	const struct stun_attr *data = stun_find(m, STUN_ATTR_DATA);
	struct sockaddr_storage ss;
	net_addr peer, dst;
	struct alloc *a = find_alloc(tn, t, client, local);
	uint64_t now = now_ms(tn);

	if (!a || !data ||
	    stun_get_xor_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &ss) != 0)
		return;
	net_addr_from_sa(&peer, (struct sockaddr *)&ss);
	/* Permissions are per IP (RFC 8656 §9): one made for another relay
	 * of ours covers every port of the relay IP, so the peer filter,
	 * which lets only our relays' ports of that IP through, is applied
	 * to each datagram as well.  ChannelData needs no such check: a
	 * channel names its peer's port and was checked when bound. */
	if (!perm_ok(a, &peer.u.sa, now) || !peer_allowed(tn, &peer)) {
		stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	relay_from_public(CONF(tn), &peer, &dst);
	if (!a->dont_fragment && stun_find(m, STUN_ATTR_DONT_FRAGMENT))
		set_dont_fragment(a);
	to_peer(a, &dst, data->value, data->len, now);
}

static uint64_t next_rand(struct turn *tn)
{
	/* xorshift64*: Data indication transaction ids need only be
	 * unpredictable enough not to collide. */
	tn->rng ^= tn->rng >> 12;
	tn->rng ^= tn->rng << 25;
	tn->rng ^= tn->rng >> 27;
	return tn->rng * 0x2545F4914F6CDD1Dull;
}

/* Frame one peer datagram (at data, len bytes, HEADROOM free before it)
 * for the client, in place: *out points at the frame of *outlen bytes.
 * Returns -1 when it cannot be framed. */
static int frame_for_client(struct alloc *a, const net_addr *peer, uint8_t *data,
			    size_t len, uint64_t now, uint8_t **out, size_t *outlen)
{
	struct turn *tn = a->tn;
	int stream = srv_stream(a->t);
	struct chan *ch = a->nchans ? chan_by_peer(a, &peer->u.sa) : NULL;
	uint8_t *start;
	size_t total, pad = stream ? (4 - len % 4) % 4 : 0;

	if (ch && ch->expires > now) {
		start = data - STUN_CHANDATA_HDR_LEN;
		stun_chandata_header(start, ch->num, (uint16_t)len);
		memset(data + len, 0, pad);
		total = STUN_CHANDATA_HDR_LEN + len + pad;
	} else {
		/* Data indication: header, XOR-PEER-ADDRESS, DATA. */
		uint8_t hdr[HEADROOM], tid[12];
		struct stun_builder b;
		uint64_t r1 = next_rand(tn), r2 = next_rand(tn);
		size_t dpad = (4 - len % 4) % 4;

		memcpy(tid, &r1, 8);
		memcpy(tid + 8, &r2, 4);
		stun_build_init(&b, hdr, sizeof(hdr),
				stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), tid);
		stun_build_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer->u.sa);
		hdr[b.len] = STUN_ATTR_DATA >> 8;
		hdr[b.len + 1] = STUN_ATTR_DATA & 0xff;
		hdr[b.len + 2] = (uint8_t)(len >> 8);
		hdr[b.len + 3] = (uint8_t)len;
		b.len += 4;
		total = b.len - STUN_HEADER_LEN + len + dpad;
		if (total > 0xffff)
			return -1;
		hdr[2] = (uint8_t)(total >> 8);
		hdr[3] = (uint8_t)total;
		start = data - b.len;
		memcpy(start, hdr, b.len);
		memset(data + len, 0, dpad);
		total = b.len + len + dpad;
	}
	*out = start;
	*outlen = total;
	return 0;
}

static void relay_readable(evutil_socket_t fd, short what, void *arg)
{
	struct relay *rl = arg;
	struct alloc *a = rl->a;
	struct turn *tn = a->tn;
	const struct ferry_conf *c = CONF(tn);
	/* Every datagram of a batch goes to the same client over the same
	 * transport: over UDP they leave in one sendmmsg. */
	int batch = a->t->send_batch != NULL;
	int i, n, rounds;

	for (rounds = 0; rounds < 4; rounds++) {
		struct iovec out[RELAY_BATCH];
		size_t payload[RELAY_BATCH];	/* relayed bytes of each frame */
		uint64_t bytes = 0;
		int nout = 0, sent;
		uint64_t now;

		for (i = 0; i < RELAY_BATCH; i++) {
			tn->iov[i].iov_base = tn->slots + (size_t)i * SLOT + HEADROOM;
			tn->iov[i].iov_len = 65536;
			memset(&tn->msgs[i].msg_hdr, 0, sizeof(tn->msgs[i].msg_hdr));
			tn->msgs[i].msg_hdr.msg_name = &tn->from[i];
			tn->msgs[i].msg_hdr.msg_namelen = sizeof(tn->from[i]);
			tn->msgs[i].msg_hdr.msg_iov = &tn->iov[i];
			tn->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, tn->msgs, RELAY_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = now_ms(tn);
		for (i = 0; i < n; i++) {
			net_addr peer;

			net_addr_from_sa(&peer, (struct sockaddr *)&tn->from[i]);
			if (c->n_external && relay_is_own(c, &peer.u.sa))
				relay_to_public(c, &peer, &peer);
			if (!perm_ok(a, &peer.u.sa, now) ||
			    !rate_ok(a, tn->msgs[i].msg_len, now)) {
				stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
				continue;
			}
			uint8_t *frame;
			size_t flen;
			if (frame_for_client(a, &peer, tn->iov[i].iov_base,
					     tn->msgs[i].msg_len, now, &frame, &flen) < 0) {
				stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
				continue;
			}
			if (batch) {
				out[nout].iov_base = frame;
				out[nout].iov_len = flen;
				payload[nout++] = tn->msgs[i].msg_len;
			} else if (a->t->send(a->t, &a->local, &a->client, frame, flen) == 0) {
				stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_PACKETS, 1);
				stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_BYTES,
					 tn->msgs[i].msg_len);
			} else {
				stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
			}
		}
		if (nout) {
			sent = a->t->send_batch(a->t, &a->local, &a->client, out, nout);
			if (sent < 0)
				sent = 0;
			for (i = 0; i < sent; i++)
				bytes += payload[i];
			stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_PACKETS, (uint64_t)sent);
			stat_add(tn->s->env.stats, ST_RELAY_TO_CLIENT_BYTES, bytes);
			if (sent < nout)
				stat_add(tn->s->env.stats, ST_RELAY_DROPPED_PACKETS,
					 (uint64_t)(nout - sent));
		}
		if (n < RELAY_BATCH)
			return;
	}
}

/* --------------------------------------------------------- requests */

/* RFC 8656 §7.2: min(requested, maximum), but never below the default. */
static uint32_t desired_lifetime(struct turn *tn, const struct stun_msg *m)
{
	uint32_t max = (uint32_t)CONF(tn)->max_allocation_lifetime;
	uint32_t def = DEFAULT_LIFETIME < max ? DEFAULT_LIFETIME : max;
	uint32_t v;

	if (stun_get_u32(m, STUN_ATTR_LIFETIME, &v) != 0)
		return def;
	if (v > max)
		v = max;
	return v > def ? v : def;
}

/* A LIFETIME that is not 4 bytes is a malformed attribute, refused with
 * 400 like the others; read as absent it would turn a broken "delete"
 * (LIFETIME 0) into a refresh to the default. */
static int lifetime_malformed(const struct stun_msg *m)
{
	const struct stun_attr *lt = stun_find(m, STUN_ATTR_LIFETIME);

	return lt && lt->len != 4;
}

static void remember(struct alloc *a, const struct request *r)
{
	if (r->b.len > 0xffff)
		return;
	a->last = xrealloc(a->last, r->b.len);
	memcpy(a->last, r->b.buf, r->b.len);
	a->last_len = (uint16_t)r->b.len;
	memcpy(a->last_tid, r->m->tid, 12);
}

int turn_retransmission(struct turn *tn, struct srv_transport *t,
			const net_addr *local, const net_addr *client,
			const struct stun_msg *m)
{
	struct alloc *a = find_alloc(tn, t, client, local);

	if (!a || !a->last || memcmp(a->last_tid, m->tid, 12) != 0)
		return 0;
	t->send(t, local, client, a->last, a->last_len);
	return 1;
}

static void add_address_error(struct request *r, int family, int code)
{
	const char *reason = stun_error_reason(code);
	uint8_t v[4 + 128];
	size_t n = reason ? strlen(reason) : 0;

	if (n > 124)
		n = 124;
	v[0] = (uint8_t)family;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, n);
	stun_build_attr(&r->b, STUN_ATTR_ADDRESS_ERROR_CODE, v, 4 + n);
}

static int open_relay(struct turn *tn, struct alloc *a, int family, int flags,
		      uint8_t token[RELAY_TOKEN_LEN])
{
	const net_addr *ip = relay_pool_ip(tn->s->env.pool, family);
	struct relay *rl = &a->relay[a->nrelay];

	if (!ip)
		return -1;
	rl->fd = relay_open(tn->s->env.pool, ip, flags, &rl->bound, token);
	if (rl->fd < 0)
		return -1;
	rl->a = a;
	a->nrelay++;
	return 0;
}

static void handle_allocate(struct turn *tn, struct request *r)
{
	const struct stun_msg *m = r->m;
	const struct ferry_conf *c = CONF(tn);
	const struct stun_attr *token = stun_find(m, STUN_ATTR_RESERVATION_TOKEN);
	const struct stun_attr *even = stun_find(m, STUN_ATTR_EVEN_PORT);
	const struct stun_attr *req_fam = stun_find(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	const struct stun_attr *add_fam = stun_find(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	uint8_t proto, fam = ADDR_FAMILY_IPV4, resv_token[RELAY_TOKEN_LEN];
	int family = AF_INET, dual = 0, flags = 0, v6_error = 0, i;
	uint32_t lifetime;
	struct alloc *a;
	uint64_t now = now_ms(tn);
	char relay_s[NET_ADDRSTRLEN];

	stat_add(tn->s->env.stats, ST_REQ_ALLOCATE, 1);
	if (find_alloc(tn, r->t, r->client, r->local)) {
		req_error(r, 437);
		return;
	}
	if (stun_get_u8(m, STUN_ATTR_REQUESTED_TRANSPORT, &proto) != 0) {
		req_error(r, 400);
		return;
	}
	if (proto != PROTO_UDP) {
		req_error(r, 442);       /* TCP relays (RFC 6062) are not offered */
		return;
	}
	if (lifetime_malformed(m)) {
		req_error(r, 400);
		return;
	}
	if (token && (even || req_fam || add_fam || token->len != RELAY_TOKEN_LEN)) {
		req_error(r, 400);
		return;
	}
	if (req_fam && add_fam) {
		req_error(r, 400);
		return;
	}
	if (req_fam) {
		if (stun_attr_u8(req_fam, &fam) != 0) {
			req_error(r, 400);
			return;
		}
		if (fam != ADDR_FAMILY_IPV4 && fam != ADDR_FAMILY_IPV6) {
			req_error(r, 440);
			return;
		}
		family = fam == ADDR_FAMILY_IPV4 ? AF_INET : AF_INET6;
	}
	if (add_fam) {
		uint8_t f;
		if (stun_attr_u8(add_fam, &f) != 0 || f != ADDR_FAMILY_IPV6) {
			req_error(r, 400);
			return;
		}
		dual = 1;
	}
	if (even) {
		uint8_t e;
		if (even->len < 1) {
			req_error(r, 400);
			return;
		}
		e = even->value[0];
		flags = RELAY_EVEN | ((e & 0x80) ? RELAY_RESERVE_NEXT : 0);
	}
	if (!token && !relay_pool_ip(tn->s->env.pool, family)) {
		req_error(r, 440);
		return;
	}
	if (auth_quota_take(tn->s->env.auth, auth_quota_id(&r->keys),
			    c->user_quota, c->total_quota) != 0) {
		stat_add(tn->s->env.stats, ST_QUOTA_REJECTED, 1);
		log_info("turn", &r->client->u.sa, "allocate refused for %s: quota",
			 r->keys.name);
		req_error(r, 486);
		return;
	}
	if (tn->s->env.alloc_counts &&
	    addr_counts_take(tn->s->env.alloc_counts, &r->client->u.sa,
			     c->max_allocations_per_address, 0) != 0) {
		auth_quota_release(tn->s->env.auth, auth_quota_id(&r->keys));
		stat_add(tn->s->env.stats, ST_ADDRESS_LIMIT_REJECTED, 1);
		log_info("turn", &r->client->u.sa, "allocate refused: %ld allocations "
			 "from this address", c->max_allocations_per_address);
		req_error(r, 486);
		return;
	}

	a = xcalloc(1, sizeof(*a));
	a->tn = tn;
	a->t = r->t;
	a->client = *r->client;
	a->local = *r->local;
	a->username = xstrdup(r->keys.name);
	a->user = xstrdup(auth_quota_id(&r->keys));
	a->ephemeral = r->keys.ephemeral;
	if (c->strict_expiry && r->keys.ephemeral)
		a->cred_expires = r->keys.expires;
	if (token) {
		struct relay *rl = &a->relay[0];
		rl->fd = relay_take_reserved(tn->s->env.pool, token->value, &rl->bound);
		if (rl->fd >= 0) {
			rl->a = a;
			a->nrelay = 1;
		}
	} else {
		open_relay(tn, a, family, flags, resv_token);
		if (dual && a->nrelay == 1 && open_relay(tn, a, AF_INET6, 0, NULL) < 0)
			v6_error = relay_pool_ip(tn->s->env.pool, AF_INET6) ? 508 : 440;
	}
	if (a->nrelay == 0) {
		auth_quota_release(tn->s->env.auth, a->user);
		if (tn->s->env.alloc_counts)
			addr_counts_release(tn->s->env.alloc_counts, &a->client.u.sa);
		free(a->username);
		free(a->user);
		free(a);
		log_warn("turn", &r->client->u.sa, "allocate refused: no free relay port");
		req_error(r, 508);
		return;
	}
	if (stun_find(m, STUN_ATTR_DONT_FRAGMENT))
		set_dont_fragment(a);
	for (i = 0; i < a->nrelay; i++) {
		struct relay *rl = &a->relay[i];
		relay_to_public(c, &rl->bound, &rl->shown);
		rl->ev = event_new(tn->s->env.base, rl->fd, EV_READ | EV_PERSIST,
				   relay_readable, rl);
		event_add(rl->ev, NULL);
		*port_slot(tn, &rl->bound) = rl;
	}
	lifetime = desired_lifetime(tn, m);
	a->expires = now + lifetime * 1000ull;
	a->tokens = (uint64_t)(c->max_bps > 0 ? c->max_bps : 0);
	a->refilled = now;
	table_insert(tn, a);
	stat_add(tn->s->env.stats, ST_ALLOCATIONS_TOTAL, 1);
	stat_add(tn->s->env.stats, ST_ALLOCATIONS_CURRENT, 1);
	if (srv_stream(r->t) && r->t->set_busy)
		r->t->set_busy(r->t, 1);

	req_begin(r, STUN_CLASS_SUCCESS);
	for (i = 0; i < a->nrelay; i++)
		stun_build_xor_addr(&r->b, STUN_ATTR_XOR_RELAYED_ADDRESS,
				    &a->relay[i].shown.u.sa);
	if (v6_error)
		add_address_error(r, ADDR_FAMILY_IPV6, v6_error);
	stun_build_u32(&r->b, STUN_ATTR_LIFETIME, lifetime);
	if (flags & RELAY_RESERVE_NEXT)
		stun_build_attr(&r->b, STUN_ATTR_RESERVATION_TOKEN, resv_token,
				RELAY_TOKEN_LEN);
	stun_build_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->client->u.sa);
	req_send(r);
	remember(a, r);
	log_info("turn", &r->client->u.sa, "allocation for %s: relay %s, %us",
		 a->username, net_fmt(&a->relay[0].shown.u.sa, relay_s, sizeof(relay_s)),
		 lifetime);
}

/* The allocation of the request's 5-tuple, checked to belong to the same
 * credentials; NULL after answering 437 or 441. */
static struct alloc *own_alloc(struct turn *tn, struct request *r)
{
	struct alloc *a = find_alloc(tn, r->t, r->client, r->local);

	if (!a) {
		req_error(r, 437);
		return NULL;
	}
	if (strcmp(a->username, r->keys.name) != 0) {
		stat_add(tn->s->env.stats, ST_AUTH_FAIL_WRONG_CREDENTIALS, 1);
		req_error(r, 441);
		return NULL;
	}
	return a;
}

static void handle_refresh(struct turn *tn, struct request *r)
{
	const struct stun_attr *fam = stun_find(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	struct alloc *a;
	uint32_t lifetime = 1;

	stat_add(tn->s->env.stats, ST_REQ_REFRESH, 1);
	if (!(a = own_alloc(tn, r)))
		return;
	if (lifetime_malformed(r->m)) {
		req_error(r, 400);
		goto out;
	}
	if (fam) {
		uint8_t f;
		if (stun_attr_u8(fam, &f) != 0 ||
		    (f != ADDR_FAMILY_IPV4 && f != ADDR_FAMILY_IPV6)) {
			req_error(r, 400);
			goto out;
		}
		if (!relay_for(a, f == ADDR_FAMILY_IPV4 ? AF_INET : AF_INET6)) {
			req_error(r, 443);
			goto out;
		}
	}
	if (stun_get_u32(r->m, STUN_ATTR_LIFETIME, &lifetime) == 0 && lifetime == 0) {
		req_begin(r, STUN_CLASS_SUCCESS);
		stun_build_u32(&r->b, STUN_ATTR_LIFETIME, 0);
		req_send(r);
		alloc_free(a, "deleted by client");
		return;
	}
	lifetime = desired_lifetime(tn, r->m);
	a->expires = now_ms(tn) + lifetime * 1000ull;
	req_begin(r, STUN_CLASS_SUCCESS);
	stun_build_u32(&r->b, STUN_ATTR_LIFETIME, lifetime);
	req_send(r);
out:
	remember(a, r);
}

/* Decode XOR-PEER-ADDRESS attribute pa and check it against the
 * allocation: 0, or the error code to answer. */
static int check_peer(struct turn *tn, struct alloc *a, const struct request *r,
		      const struct stun_attr *pa, net_addr *peer)
{
	struct sockaddr_storage ss;

	if (stun_attr_xor_addr(pa, r->m->tid, &ss) != 0) {
		log_debug("turn", &r->client->u.sa, "bad XOR-PEER-ADDRESS");
		return 400;
	}
	net_addr_from_sa(peer, (struct sockaddr *)&ss);
	if (!relay_for(a, peer->u.sa.sa_family))
		return 443;
	if (!peer_allowed(tn, peer)) {
		char p[NET_ADDRSTRLEN];
		log_info("turn", &r->client->u.sa, "peer %s refused by the peer filter",
			 net_fmt(&peer->u.sa, p, sizeof(p)));
		return 403;
	}
	return 0;
}

static void handle_create_permission(struct turn *tn, struct request *r)
{
	net_addr peers[32];
	const struct stun_attr *pa;
	size_t n = 0, i;
	struct alloc *a;
	uint64_t now = now_ms(tn);
	int code;

	stat_add(tn->s->env.stats, ST_REQ_CREATE_PERMISSION, 1);
	if (!(a = own_alloc(tn, r)))
		return;
	/* All or nothing: every peer is checked before any is installed. */
	for (pa = stun_find(r->m, STUN_ATTR_XOR_PEER_ADDRESS); pa;
	     pa = stun_find_next(r->m, pa)) {
		if (n == ARRAY_LEN(peers)) {
			req_error(r, 508);
			goto out;
		}
		if ((code = check_peer(tn, a, r, pa, &peers[n])) != 0) {
			req_error(r, code);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		req_error(r, 400);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (perm_add(a, &peers[i], now) < 0) {
			req_error(r, 508);
			goto out;
		}
	}
	req_begin(r, STUN_CLASS_SUCCESS);
	req_send(r);
out:
	remember(a, r);
}

static void handle_channel_bind(struct turn *tn, struct request *r)
{
	const struct stun_attr *pa = stun_find(r->m, STUN_ATTR_XOR_PEER_ADDRESS);
	struct alloc *a;
	struct chan *by_num, *by_peer;
	net_addr peer;
	uint16_t num = 0;
	uint64_t now = now_ms(tn);
	int code;

	stat_add(tn->s->env.stats, ST_REQ_CHANNEL_BIND, 1);
	if (!(a = own_alloc(tn, r)))
		return;
	if (stun_get_u16(r->m, STUN_ATTR_CHANNEL_NUMBER, &num) != 0 ||
	    num < CHAN_MIN || num > CHAN_MAX || !pa) {
		log_debug("turn", &r->client->u.sa, "ChannelBind: bad or missing "
			  "CHANNEL-NUMBER (0x%04x) or XOR-PEER-ADDRESS", num);
		req_error(r, 400);
		goto out;
	}
	if ((code = check_peer(tn, a, r, pa, &peer)) != 0) {
		req_error(r, code);
		goto out;
	}
	/* A number, or a peer, bound (or quarantined after expiry) to
	 * something else is refused; rebinding the same pair refreshes. */
	by_num = chan_by_num(a, num);
	by_peer = chan_by_peer(a, &peer.u.sa);
	if (by_num && by_num->expires + CHAN_QUARANTINE_MS <= now)
		by_num = NULL;
	if (by_peer && by_peer->expires + CHAN_QUARANTINE_MS <= now)
		by_peer = NULL;
	if (by_num != by_peer) {
		log_debug("turn", &r->client->u.sa, "ChannelBind: channel 0x%04x or "
			  "its peer is bound to something else", num);
		req_error(r, 400);
		goto out;
	}
	if (!by_num) {
		uint16_t i, j;
		for (i = j = 0; i < a->nchans; i++)  /* drop long-gone ones */
			if (a->chans[i].expires + CHAN_QUARANTINE_MS > now)
				a->chans[j++] = a->chans[i];
		a->nchans = j;
		if (a->nchans >= MAX_CHANS || perm_add(a, &peer, now) < 0) {
			req_error(r, 508);
			goto out;
		}
		a->chans = xrealloc(a->chans, (a->nchans + 1u) * sizeof(*a->chans));
		by_num = &a->chans[a->nchans++];
		by_num->num = num;
		by_num->peer = peer;
		relay_from_public(CONF(tn), &peer, &by_num->dst);
	} else if (perm_add(a, &peer, now) < 0) {
		req_error(r, 508);
		goto out;
	}
	by_num->expires = now + CHAN_LIFETIME_MS;
	req_begin(r, STUN_CLASS_SUCCESS);
	req_send(r);
out:
	remember(a, r);
}

void turn_request(struct turn *tn, struct request *r)
{
	/* A request may free an allocation (and its relay socket): what is
	 * pending for it leaves first. */
	if (tn->npend)
		turn_flush(tn);
	switch (r->m->method) {
	case STUN_METHOD_ALLOCATE:
		handle_allocate(tn, r);
		break;
	case STUN_METHOD_REFRESH:
		handle_refresh(tn, r);
		break;
	case STUN_METHOD_CREATE_PERMISSION:
		handle_create_permission(tn, r);
		break;
	case STUN_METHOD_CHANNEL_BIND:
		handle_channel_bind(tn, r);
		break;
	default:
		req_error(r, 400);
		break;
	}
}

/* ------------------------------------------------------------ lifecycle */

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
	uint64_t now = now_ms(tn);
	time_t wall = tn->s->wall();

	for (a = tn->all; a; a = next) {
		next = a->next;
		if (a->expires <= now)
			alloc_free(a, "lifetime expired");
		else if (a->cred_expires && a->cred_expires <= wall)
			alloc_free(a, "credential expired");
	}
	relay_expire_reservations(tn->s->env.pool);
}

void turn_recheck_credentials(struct turn *tn)
{
	struct auth *auth = tn->s->env.auth;
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

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	turn_tick(arg);
}

struct turn *turn_new(struct srv *s)
{
	struct turn *tn = xcalloc(1, sizeof(*tn));

	tn->s = s;
	tn->nbuckets = 64;
	tn->buckets = xcalloc(tn->nbuckets, sizeof(*tn->buckets));
	tn->slots = xmalloc((size_t)RELAY_BATCH * SLOT);
	tn->hop = xmalloc(SLOT);
	random_bytes(&tn->rng, sizeof(tn->rng));
	tn->rng |= 1;
	if (s->env.base) {
		struct timeval one = { 1, 0 };
		tn->tick_ev = event_new(s->env.base, -1, EV_PERSIST, tick_cb, tn);
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
