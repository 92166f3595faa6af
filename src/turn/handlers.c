/* handlers — see handlers.h. */
#include "turn/handlers.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "core/addrcount.h"
#include "core/log.h"
#include "core/util.h"
#include "turn/alloc.h"
#include "turn/datapath.h"
#include "turn/perm.h"
#include "turn/ports.h"
#include "turn/request.h"
#include "turn/state.h"
#include "turn/stats.h"

#include <string.h>

#define DEFAULT_LIFETIME 600            /* seconds, RFC 8656 §7.2 */

/* ------------------------------------------------------------ common */

/* RFC 8656 §7.2: min(requested, maximum), but never below the default. */
static uint32_t desired_lifetime(struct turn *tn, const struct stun_msg *m)
{
	uint32_t max = (uint32_t)tn->env.conf->max_allocation_lifetime;
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

/* Keep the answer just sent, for a retransmission of its request. */
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
	struct alloc *a = alloc_find(tn, t, client, local);

	if (!a || !a->last || memcmp(a->last_tid, m->tid, 12) != 0)
		return 0;
	t->send(t, local, client, a->last, a->last_len);
	return 1;
}

/* The allocation of the request's 5-tuple, checked to belong to the same
 * credentials; NULL after answering 437 or 441. */
static struct alloc *own_alloc(struct turn *tn, struct request *r)
{
	struct alloc *a = alloc_find(tn, r->t, r->client, r->local);

	if (!a) {
		req_error(r, 437);
		return NULL;
	}
	if (strcmp(a->username, r->keys.name) != 0) {
		stat_add(tn->env.stats, ST_AUTH_FAIL_WRONG_CREDENTIALS, 1);
		req_error(r, 441);
		return NULL;
	}
	return a;
}

/* ------------------------------------------------------------ Allocate */

/* What an Allocate asks for, once its attributes are checked. */
struct want {
	const struct stun_attr *token;  /* RESERVATION-TOKEN, 8 bytes */
	int family;                     /* of the (first) relay */
	int dual;                       /* an IPv6 relay as well */
	int flags;                      /* RELAY_EVEN, RELAY_RESERVE_NEXT */
};

/* Check an Allocate's attributes (RFC 8656 §7.2): 0 with *w filled, or
 * the error code to answer. */
static int allocate_want(struct turn *tn, const struct request *r, struct want *w)
{
	const struct stun_msg *m = r->m;
	const struct stun_attr *even = stun_find(m, STUN_ATTR_EVEN_PORT);
	const struct stun_attr *req_fam = stun_find(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	const struct stun_attr *add_fam = stun_find(m, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
	uint8_t proto, fam;

	memset(w, 0, sizeof(*w));
	w->token = stun_find(m, STUN_ATTR_RESERVATION_TOKEN);
	w->family = AF_INET;
	if (alloc_find(tn, r->t, r->client, r->local))
		return 437;
	if (stun_get_u8(m, STUN_ATTR_REQUESTED_TRANSPORT, &proto) != 0)
		return 400;
	if (proto != STUN_TRANSPORT_UDP)
		return 442;     /* TCP relays (RFC 6062) are not offered */
	if (lifetime_malformed(m))
		return 400;
	if (w->token && (even || req_fam || add_fam || w->token->len != RELAY_TOKEN_LEN))
		return 400;
	if (req_fam && add_fam)
		return 400;
	if (req_fam) {
		if (stun_attr_u8(req_fam, &fam) != 0)
			return 400;
		if (fam != STUN_FAMILY_IPV4 && fam != STUN_FAMILY_IPV6)
			return 440;
		w->family = fam == STUN_FAMILY_IPV4 ? AF_INET : AF_INET6;
	}
	if (add_fam) {
		if (stun_attr_u8(add_fam, &fam) != 0 || fam != STUN_FAMILY_IPV6)
			return 400;
		w->dual = 1;
	}
	if (even) {
		if (even->len < 1)
			return 400;
		w->flags = RELAY_EVEN | ((even->value[0] & 0x80) ? RELAY_RESERVE_NEXT : 0);
	}
	if (!w->token && !relay_pool_ip(tn->env.pool, w->family))
		return 440;
	return 0;
}

/* The user's quota and the client address's limit: 0 with both taken, or
 * 486 with neither. */
static int allocate_admit(struct turn *tn, const struct request *r)
{
	const struct ferry_conf *c = tn->env.conf;

	if (auth_quota_take(tn->env.auth, auth_quota_id(&r->keys),
			    c->user_quota, c->total_quota) != 0) {
		stat_add(tn->env.stats, ST_QUOTA_REJECTED, 1);
		log_info("turn", &r->client->u.sa, "allocate refused for %s: quota",
			 r->keys.name);
		return 486;
	}
	if (tn->env.alloc_counts &&
	    addr_counts_take(tn->env.alloc_counts, &r->client->u.sa,
			     c->max_allocations_per_address, 0) != 0) {
		auth_quota_release(tn->env.auth, auth_quota_id(&r->keys));
		stat_add(tn->env.stats, ST_ADDRESS_LIMIT_REJECTED, 1);
		log_info("turn", &r->client->u.sa, "allocate refused: %ld allocations "
			 "from this address", c->max_allocations_per_address);
		return 486;
	}
	return 0;
}

static int open_relay(struct turn *tn, struct alloc *a, int family, int flags,
		      uint8_t token[RELAY_TOKEN_LEN])
{
	const net_addr *ip = relay_pool_ip(tn->env.pool, family);
	struct relay *rl = &a->relay[a->nrelay];

	if (!ip)
		return -1;
	rl->fd = relay_open(tn->env.pool, ip, flags, &rl->bound, token);
	if (rl->fd < 0)
		return -1;
	rl->a = a;
	a->nrelay++;
	return 0;
}

/* The relays an Allocate asked for: the reserved one, or a new one and,
 * for a dual allocation, an IPv6 one.  Returns the error to report in
 * ADDRESS-ERROR-CODE for the IPv6 relay, or 0; a->nrelay is 0 when not
 * even the first could be had. */
static int open_relays(struct turn *tn, struct alloc *a, const struct want *w,
		       uint8_t resv_token[RELAY_TOKEN_LEN])
{
	if (w->token) {
		struct relay *rl = &a->relay[0];
		rl->fd = relay_take_reserved(tn->env.pool, w->token->value, &rl->bound);
		if (rl->fd >= 0) {
			rl->a = a;
			a->nrelay = 1;
		}
		return 0;
	}
	open_relay(tn, a, w->family, w->flags, resv_token);
	if (w->dual && a->nrelay == 1 && open_relay(tn, a, AF_INET6, 0, NULL) < 0)
		return relay_pool_ip(tn->env.pool, AF_INET6) ? 508 : 440;
	return 0;
}

static struct alloc *new_alloc(struct turn *tn, const struct request *r)
{
	struct alloc *a = xcalloc(1, sizeof(*a));

	a->tn = tn;
	a->t = r->t;
	a->client = *r->client;
	a->local = *r->local;
	a->username = xstrdup(r->keys.name);
	a->user = xstrdup(auth_quota_id(&r->keys));
	a->ephemeral = r->keys.ephemeral;
	if (tn->env.conf->strict_expiry && r->keys.ephemeral)
		a->cred_expires = r->keys.expires;
	return a;
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

/* The success response (RFC 8656 §7.3), kept for retransmissions. */
static void allocate_answer(struct request *r, struct alloc *a, uint32_t lifetime,
			    int v6_error, int flags, const uint8_t *resv_token)
{
	char relay_s[NET_ADDRSTRLEN];
	int i;

	req_begin(r, STUN_CLASS_SUCCESS);
	for (i = 0; i < a->nrelay; i++)
		stun_build_xor_addr(&r->b, STUN_ATTR_XOR_RELAYED_ADDRESS,
				    &a->relay[i].shown.u.sa);
	if (v6_error)
		add_address_error(r, STUN_FAMILY_IPV6, v6_error);
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

static void handle_allocate(struct turn *tn, struct request *r)
{
	uint8_t resv_token[RELAY_TOKEN_LEN];
	uint64_t now = turn_now(tn);
	struct want w;
	struct alloc *a;
	uint32_t lifetime;
	int code, v6_error;

	stat_add(tn->env.stats, ST_REQ_ALLOCATE, 1);
	if ((code = allocate_want(tn, r, &w)) != 0 ||
	    (code = allocate_admit(tn, r)) != 0) {
		req_error(r, code);
		return;
	}
	a = new_alloc(tn, r);
	v6_error = open_relays(tn, a, &w, resv_token);
	if (a->nrelay == 0) {
		alloc_discard(tn, a);
		log_warn("turn", &r->client->u.sa, "allocate refused: no free relay port");
		req_error(r, 508);
		return;
	}
	if (stun_find(r->m, STUN_ATTR_DONT_FRAGMENT))
		dp_dont_fragment(a);
	lifetime = desired_lifetime(tn, r->m);
	a->expires = now + lifetime * 1000ull;
	a->tokens = (uint64_t)(tn->env.conf->max_bps > 0 ? tn->env.conf->max_bps : 0);
	a->refilled = now;
	alloc_start(tn, a);
	allocate_answer(r, a, lifetime, v6_error, w.flags, resv_token);
}

/* ------------------------------------------------ the other requests */

static void handle_refresh(struct turn *tn, struct request *r)
{
	const struct stun_attr *fam = stun_find(r->m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
	struct alloc *a;
	uint32_t lifetime = 1;

	stat_add(tn->env.stats, ST_REQ_REFRESH, 1);
	if (!(a = own_alloc(tn, r)))
		return;
	if (lifetime_malformed(r->m)) {
		req_error(r, 400);
		goto out;
	}
	if (fam) {
		uint8_t f;
		if (stun_attr_u8(fam, &f) != 0 ||
		    (f != STUN_FAMILY_IPV4 && f != STUN_FAMILY_IPV6)) {
			req_error(r, 400);
			goto out;
		}
		if (!alloc_relay_for(a, f == STUN_FAMILY_IPV4 ? AF_INET : AF_INET6)) {
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
	a->expires = turn_now(tn) + lifetime * 1000ull;
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
	if (!alloc_relay_for(a, peer->u.sa.sa_family))
		return 443;
	if (!perm_peer_allowed(tn, peer)) {
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
	uint64_t now = turn_now(tn);
	int code;

	stat_add(tn->env.stats, ST_REQ_CREATE_PERMISSION, 1);
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
	net_addr peer;
	uint16_t num = 0;
	uint64_t now = turn_now(tn);
	int code;

	stat_add(tn->env.stats, ST_REQ_CHANNEL_BIND, 1);
	if (!(a = own_alloc(tn, r)))
		return;
	if (stun_get_u16(r->m, STUN_ATTR_CHANNEL_NUMBER, &num) != 0 ||
	    num < STUN_CHANNEL_MIN || num > STUN_CHANNEL_MAX || !pa) {
		log_debug("turn", &r->client->u.sa, "ChannelBind: bad or missing "
			  "CHANNEL-NUMBER (0x%04x) or XOR-PEER-ADDRESS", num);
		req_error(r, 400);
		goto out;
	}
	if ((code = check_peer(tn, a, r, pa, &peer)) != 0) {
		req_error(r, code);
		goto out;
	}
	if ((code = chan_bind(a, num, &peer, now)) != 0) {
		if (code == 400)
			log_debug("turn", &r->client->u.sa, "ChannelBind: channel "
				  "0x%04x or its peer is bound to something else", num);
		req_error(r, code);
		goto out;
	}
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
		dp_flush(tn);
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
