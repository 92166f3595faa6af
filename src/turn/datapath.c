/* datapath — see datapath.h. */
#include "turn/datapath.h"
#include "conf/conf.h"
#include "stun/stun.h"
#include "turn/perm.h"
#include "turn/ports.h"
#include "turn/state.h"
#include "turn/stats.h"

#include <string.h>

/* Token bucket for max-bps: 1 when len bytes may pass now. */
static int rate_ok(struct alloc *a, size_t len, uint64_t now)
{
	long bps = a->tn->env.conf->max_bps;

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

/* DONT-FRAGMENT: relayed datagrams leave with the DF bit (IPv4) or are
 * never fragmented (IPv6).  It is a socket setting, so once a client
 * asks, the allocation keeps it. */
void dp_dont_fragment(struct alloc *a)
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

/* ------------------------------------------------- peer to client */

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
		uint8_t hdr[STUN_DATA_IND_HDR_MAX], tid[STUN_TID_LEN];
		uint64_t r1 = next_rand(a->tn), r2 = next_rand(a->tn);
		size_t dpad = (4 - len % 4) % 4;
		int n;

		memcpy(tid, &r1, 8);
		memcpy(tid + 8, &r2, 4);
		n = stun_data_indication_header(hdr, sizeof(hdr), tid, &peer->u.sa, len);
		if (n < 0)
			return -1;
		start = data - n;
		memcpy(start, hdr, (size_t)n);
		memset(data + len, 0, dpad);
		total = (size_t)n + len + dpad;
	}
	*out = start;
	*outlen = total;
	return 0;
}

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

	stat_add(tn->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
	stat_add(tn->env.stats, ST_RELAY_TO_PEER_BYTES, len);
	if (!perm_ok(b, &from->shown.u.sa, now) || !rate_ok(b, len, now)) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	memcpy(buf, data, len);
	if (frame_for_client(b, &from->shown, buf, len, now, &frame, &flen) < 0 ||
	    b->t->send(b->t, &b->local, &b->client, frame, flen) < 0) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	stat_add(tn->env.stats, ST_RELAY_TO_CLIENT_PACKETS, 1);
	stat_add(tn->env.stats, ST_RELAY_TO_CLIENT_BYTES, len);
	stat_add(tn->env.stats, ST_RELAY_IN_MEMORY_PACKETS, 1);
}

/* Point the receive slots at their buffers for one recvmmsg. */
static void arm_slots(struct turn *tn)
{
	int i;

	for (i = 0; i < RELAY_BATCH; i++) {
		tn->iov[i].iov_base = tn->slots + (size_t)i * SLOT + HEADROOM;
		tn->iov[i].iov_len = 65536;
		memset(&tn->msgs[i].msg_hdr, 0, sizeof(tn->msgs[i].msg_hdr));
		tn->msgs[i].msg_hdr.msg_name = &tn->from[i];
		tn->msgs[i].msg_hdr.msg_namelen = sizeof(tn->from[i]);
		tn->msgs[i].msg_hdr.msg_iov = &tn->iov[i];
		tn->msgs[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Send the nout frames gathered from one batch to the client in one go;
 * payload[i] is the relayed bytes of frame i, for the counters. */
static void send_gathered(struct alloc *a, const struct iovec *out,
			  const size_t *payload, int nout)
{
	struct stats *st = a->tn->env.stats;
	uint64_t bytes = 0;
	int sent, i;

	sent = a->t->send_batch(a->t, &a->local, &a->client, out, nout);
	if (sent < 0)
		sent = 0;
	for (i = 0; i < sent; i++)
		bytes += payload[i];
	stat_add(st, ST_RELAY_TO_CLIENT_PACKETS, (uint64_t)sent);
	stat_add(st, ST_RELAY_TO_CLIENT_BYTES, bytes);
	if (sent < nout)
		stat_add(st, ST_RELAY_DROPPED_PACKETS, (uint64_t)(nout - sent));
}

void dp_relay_readable(evutil_socket_t fd, short what, void *arg)
{
	struct relay *rl = arg;
	struct alloc *a = rl->a;
	struct turn *tn = a->tn;
	const struct ferry_conf *c = tn->env.conf;
	struct stats *st = tn->env.stats;
	/* Every datagram of a batch goes to the same client over the same
	 * transport: over UDP they leave in one sendmmsg. */
	int batch = a->t->send_batch != NULL;
	int i, n, rounds;

	for (rounds = 0; rounds < 4; rounds++) {
		struct iovec out[RELAY_BATCH];
		size_t payload[RELAY_BATCH];	/* relayed bytes of each frame */
		int nout = 0;
		uint64_t now;

		arm_slots(tn);
		n = recvmmsg(fd, tn->msgs, RELAY_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = turn_now(tn);
		for (i = 0; i < n; i++) {
			size_t len = tn->msgs[i].msg_len, flen;
			uint8_t *frame;
			net_addr peer;

			net_addr_from_sa(&peer, (struct sockaddr *)&tn->from[i]);
			if (c->n_external && relay_is_own(c, &peer.u.sa))
				relay_to_public(c, &peer, &peer);
			if (!perm_ok(a, &peer.u.sa, now) || !rate_ok(a, len, now) ||
			    frame_for_client(a, &peer, tn->iov[i].iov_base, len, now,
					     &frame, &flen) < 0) {
				stat_add(st, ST_RELAY_DROPPED_PACKETS, 1);
				continue;
			}
			if (batch) {
				out[nout].iov_base = frame;
				out[nout].iov_len = flen;
				payload[nout++] = len;
			} else if (a->t->send(a->t, &a->local, &a->client, frame, flen) == 0) {
				stat_add(st, ST_RELAY_TO_CLIENT_PACKETS, 1);
				stat_add(st, ST_RELAY_TO_CLIENT_BYTES, len);
			} else {
				stat_add(st, ST_RELAY_DROPPED_PACKETS, 1);
			}
		}
		if (nout)
			send_gathered(a, out, payload, nout);
		if (n < RELAY_BATCH)
			return;
	}
}

/* ------------------------------------------------- client to peer */

void dp_flush(struct turn *tn)
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
		stat_add(tn->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
		stat_add(tn->env.stats, ST_RELAY_TO_PEER_BYTES, tn->pend_iov[i].iov_len);
	}
	if (done < tn->npend)
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS,
			 (uint64_t)(tn->npend - done));
	tn->npend = 0;
}

void turn_batch_begin(struct turn *tn)
{
	tn->batching = 1;
}

void turn_batch_end(struct turn *tn)
{
	tn->batching = 0;
	dp_flush(tn);
}

/* Add one datagram to the pending sendmmsg of relay socket fd; what is
 * pending for another socket leaves first. */
static void gather(struct turn *tn, int fd, const net_addr *dst, const void *data,
		   size_t len)
{
	struct mmsghdr *mm;

	if (tn->npend && (tn->pend_fd != fd || tn->npend == PEND_MAX))
		dp_flush(tn);
	tn->pend_fd = fd;
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
}

/*
 * One datagram from the client to a peer.  While the listener hands over a
 * batch of datagrams (turn_batch_begin), those for the same relay socket
 * are gathered and leave in one sendmmsg when the batch ends, the socket
 * changes, or a request is handled; the data stays in the listener's
 * buffers until then.
 */
static void to_peer(struct alloc *a, const net_addr *dst, const void *data,
		    size_t len, uint64_t now)
{
	struct turn *tn = a->tn;
	struct relay *rl = alloc_relay_for(a, dst->u.sa.sa_family), *peer_rl;

	if (!rl || !rate_ok(a, len, now)) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	if (len <= 65536 && (peer_rl = alloc_own_relay(tn, dst)) != NULL &&
	    peer_rl->a != a) {
		hop(tn, rl, peer_rl, data, len, now);
		return;
	}
	/* Only plain UDP input lies in the listener's batch buffers (DTLS
	 * records are decrypted into one reused buffer). */
	if (tn->batching && a->t->kind == SRV_UDP) {
		gather(tn, rl->fd, dst, data, len);
		return;
	}
	if (sendto(rl->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   &dst->u.sa, dst->len) < 0) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	stat_add(tn->env.stats, ST_RELAY_TO_PEER_PACKETS, 1);
	stat_add(tn->env.stats, ST_RELAY_TO_PEER_BYTES, len);
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
	a = alloc_find(tn, t, client, local);
	if (!a)
		return;
	now = turn_now(tn);
	ch = chan_by_num(a, cd.channel);
	if (!ch || ch->expires <= now || !perm_ok(a, &ch->peer.u.sa, now)) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
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
	struct alloc *a = alloc_find(tn, t, client, local);
	uint64_t now = turn_now(tn);

	if (!a || !data ||
	    stun_get_xor_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &ss) != 0)
		return;
	net_addr_from_sa(&peer, (struct sockaddr *)&ss);
	/* Permissions are per IP (RFC 8656 §9): one made for another relay
	 * of ours covers every port of the relay IP, so the peer filter,
	 * which lets only our relays' ports of that IP through, is applied
	 * to each datagram as well.  ChannelData needs no such check: a
	 * channel names its peer's port and was checked when bound. */
	if (!perm_ok(a, &peer.u.sa, now) || !perm_peer_allowed(tn, &peer)) {
		stat_add(tn->env.stats, ST_RELAY_DROPPED_PACKETS, 1);
		return;
	}
	relay_from_public(tn->env.conf, &peer, &dst);
	if (!a->dont_fragment && stun_find(m, STUN_ATTR_DONT_FRAGMENT))
		dp_dont_fragment(a);
	to_peer(a, &dst, data->value, data->len, now);
}
