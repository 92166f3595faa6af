/*
 * perm — whom an allocation's relays may talk to (RFC 8656 §9, §12):
 * permissions (perm_*), one per peer IP address; channels (chan_*), a
 * number bound to one peer transport address; and the peer policy, which
 * peers a relay may reach at all.  For the files of the TURN layer.
 *
 * The arrays live in the allocation (struct alloc, state.h) and grow with
 * xrealloc up to their bounds; alloc_free() frees them.  The lookups are
 * inline: the data path makes them for every datagram.
 */
#ifndef FERRY_TURN_PERM_H
#define FERRY_TURN_PERM_H

#include <stdint.h>
#include "core/net.h"
#include "turn/state.h"

/* The permission for peer's IP (port ignored), live or not; NULL. */
static inline struct perm *perm_find(struct alloc *a, const struct sockaddr *peer)
{
	uint16_t i;
	for (i = 0; i < a->nperms; i++)
		if (net_ip_equal(&a->perms[i].ip.u.sa, peer))
			return &a->perms[i];
	return NULL;
}

/* 1 when peer's IP holds a live permission at now (ms). */
static inline int perm_ok(struct alloc *a, const struct sockaddr *peer, uint64_t now)
{
	struct perm *p = perm_find(a, peer);
	return p && p->expires > now;
}

/* The channel of a number, or bound to peer (address and port), bound or
 * quarantined; NULL when there is none. */
static inline struct chan *chan_by_num(struct alloc *a, uint16_t num)
{
	uint16_t i;
	for (i = 0; i < a->nchans; i++)
		if (a->chans[i].num == num)
			return &a->chans[i];
	return NULL;
}

static inline struct chan *chan_by_peer(struct alloc *a, const struct sockaddr *peer)
{
	uint16_t i;
	for (i = 0; i < a->nchans; i++)
		if (net_equal(&a->chans[i].peer.u.sa, peer))
			return &a->chans[i];
	return NULL;
}

/* Install or refresh the permission for peer's IP until now + 5 min;
 * -1 when the allocation holds its maximum of live ones. */
int perm_add(struct alloc *a, const net_addr *peer, uint64_t now);

/* May a relay of tn reach peer?  1 or 0 (see perm.c for the policy). */
int perm_peer_allowed(struct turn *tn, const net_addr *peer);

/* Bind channel num to peer, or refresh the binding, with the permission
 * that comes with it (RFC 8656 §12.2).  0; or the error code to answer:
 * 400 when num or peer is bound, or quarantined, to something else, 508
 * when the allocation holds its maximum of channels or permissions. */
int chan_bind(struct alloc *a, uint16_t num, const net_addr *peer, uint64_t now);

#endif
