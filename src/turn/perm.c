/* perm — see perm.h. */
#include "turn/perm.h"
#include "conf/conf.h"
#include "core/peerfilter.h"
#include "core/util.h"
#include "turn/ports.h"


#define PERM_LIFETIME_MS 300000u        /* RFC 8656 §9 */
#define CHAN_LIFETIME_MS 600000u        /* RFC 8656 §12 */
/* After a channel binding expires, neither its number nor its peer may be
 * bound to something else for another 5 minutes (RFC 8656 §12). */
#define CHAN_QUARANTINE_MS 300000u
/* Bounds on what one allocation may hold; beyond them, 508. */
#define MAX_PERMS 256
#define MAX_CHANS 256

int perm_add(struct alloc *a, const net_addr *peer, uint64_t now)
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

/* Our own relayed addresses always; otherwise the peer filter
 * (peerfilter.h): the built-in table of special-purpose blocks plus the
 * file's denied-peer and allowed-peer lines, with IPv6 forms that embed
 * IPv4 (::ffff:127.0.0.1, 64:ff9b::a00:1, 6to4, Teredo) judged by the
 * IPv4 addresses inside.
 * "Our own" means a port the pool holds, not any port of relay-ports on a
 * relay IP: another process's socket there (a resolver's ephemeral port,
 * say, when relay-ip is a private address behind external-ip) is the
 * host itself, which the deny list must keep out of reach. */
int perm_peer_allowed(struct turn *tn, const net_addr *peer)
{
	const struct ferry_conf *c = tn->env.conf;
	struct pf_policy pol;
	net_addr canon, priv;

	net_canonical(peer, &canon);
	if (relay_is_own(c, &canon.u.sa)) {
		relay_from_public(c, &canon, &priv);
		/* This worker's own relays are known without the pool's lock. */
		if (alloc_own_relay(tn, &priv) || relay_pool_holds(tn->env.pool, &priv))
			return 1;
	}
	pol.denied = c->denied_peer.v;
	pol.n_denied = c->denied_peer.n;
	pol.allowed = c->allowed_peer.v;
	pol.n_allowed = c->allowed_peer.n;
	pol.allow_loopback = c->allow_loopback_peers;
	return pf_allowed(&pol, &peer->u.sa);
}

int chan_bind(struct alloc *a, uint16_t num, const net_addr *peer, uint64_t now)
{
	struct chan *by_num = chan_by_num(a, num);
	struct chan *by_peer = chan_by_peer(a, &peer->u.sa);

	/* A number, or a peer, bound (or quarantined after expiry) to
	 * something else is refused; rebinding the same pair refreshes. */
	if (by_num && by_num->expires + CHAN_QUARANTINE_MS <= now)
		by_num = NULL;
	if (by_peer && by_peer->expires + CHAN_QUARANTINE_MS <= now)
		by_peer = NULL;
	if (by_num != by_peer)
		return 400;
	if (!by_num) {
		uint16_t i, j;
		for (i = j = 0; i < a->nchans; i++)  /* drop long-gone ones */
			if (a->chans[i].expires + CHAN_QUARANTINE_MS > now)
				a->chans[j++] = a->chans[i];
		a->nchans = j;
		if (a->nchans >= MAX_CHANS || perm_add(a, peer, now) < 0)
			return 508;
		a->chans = xrealloc(a->chans, (a->nchans + 1u) * sizeof(*a->chans));
		by_num = &a->chans[a->nchans++];
		by_num->num = num;
		by_num->peer = *peer;
		relay_from_public(a->tn->env.conf, peer, &by_num->dst);
	} else if (perm_add(a, peer, now) < 0) {
		return 508;
	}
	by_num->expires = now + CHAN_LIFETIME_MS;
	return 0;
}
