/* listen — see listen.h. */
#include "listen/listen.h"
#include "core/addrcount.h"
#include "conf/conf.h"
#include "listen/dtls.h"
#include "listen/tls.h"
#include "core/log.h"
#include "turn/alloc.h"
#include "turn/datapath.h"
#include "turn/engine.h"
#include "turn/stats.h"
#include "stun/stun.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#define RECV_BATCH 16
/* The largest UDP payload; anything truncated to fit is dropped. */
#define RECV_SLOT 65536
/* Bytes queued towards one TCP client before further output is dropped
 * (TURN data is unreliable; a client that does not read loses it). */
#define TCP_OUT_LIMIT (1024 * 1024)
/* A STUN message over a stream may not announce more than this. */
#define TCP_MAX_FRAME (65535 + 4)

struct udp_sock {
	struct srv_transport t;        /* first: the engine hands it back */
	int fd;
	int wildcard;                  /* bound to 0.0.0.0/::: use PKTINFO */
	net_addr bound;
	struct event *ev;
	struct worker_io *io;
};

struct tcp_conn {
	struct srv_transport t;        /* first */
	struct bufferevent *bev;
	int busy;                      /* holds an allocation: no idle timeout */
	net_addr peer, local;
	struct worker_io *io;
	struct tcp_conn *prev, *next;
	int closing;
	int sniffed;                   /* first byte seen: TLS or plain decided */
};

struct tcp_lsn {
	int fd;
	struct event *ev;
	struct event *resume;          /* re-arms ev after an EMFILE pause */
	struct worker_io *io;
};

/* What one worker serves. */
struct worker_io {
	struct event_base *base;
	struct srv *srv;
	struct udp_sock *udp;          /* one per address */
	struct tcp_lsn *tcp;           /* one per address */
	struct tcp_conn *conns;
	struct dtls *dtls;             /* NULL without cert and key */
	struct tls *tls;
	struct addr_counts *counts;    /* TCP connections by address, all workers */
	int spare_fd;                  /* given up to accept-and-close at EMFILE */
	uint64_t last_refusal_log;
	/* recvmmsg buffers, reused for every batch: no allocation per packet */
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_storage from[RECV_BATCH];
	char ctrl[RECV_BATCH][128];
	uint8_t *bufs;
};

struct listener_set {
	struct tls *tls;
	struct addr_counts *tcp_counts;
	size_t naddr;
	int nworkers;
	net_addr *addrs;               /* resolved ports */
	int *udp_fd;                   /* [addr * nworkers + worker] */
	int *tcp_fd;
	struct worker_io *io;          /* [worker] */
};

/* ------------------------------------------------------------------ UDP */

static void enable_pktinfo(int fd, int family)
{
	int one = 1;
	if (family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
}

/* The address a datagram was sent to, from its IP_PKTINFO control data. */
static void dst_from_cmsg(struct msghdr *mh, const net_addr *bound, net_addr *local)
{
	struct cmsghdr *c;

	*local = *bound;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			local->u.in4.sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			local->u.in6.sin6_addr = pi.ipi6_addr;
		}
	}
}

/* The IP_PKTINFO/IPV6_PKTINFO control message that makes a reply leave
 * from the address the request reached (sockets bound to a wildcard). */
union pktinfo_ctrl {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

static void set_source(struct msghdr *mh, union pktinfo_ctrl *ctrl,
		       const net_addr *local, int family)
{
	struct cmsghdr *c;

	memset(ctrl, 0, sizeof(*ctrl));
	mh->msg_control = ctrl->buf;
	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = local->u.in4.sin_addr };
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = local->u.in6.sin6_addr };
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

static int udp_send(struct srv_transport *t, const net_addr *local,
		    const net_addr *to, const void *buf, size_t len)
{
	struct udp_sock *u = (struct udp_sock *)t;
	union pktinfo_ctrl ctrl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_name = (void *)&to->u.sa, .msg_namelen = to->len,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;

	if (u->wildcard && local)
		set_source(&mh, &ctrl, local, to->u.sa.sa_family);
	n = sendmsg(u->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n == (ssize_t)len ? 0 : -1;
}

/* Up to UDP_SEND_BATCH datagrams for one client in one sendmmsg. */
#define UDP_SEND_BATCH 64

static int udp_send_batch(struct srv_transport *t, const net_addr *local,
			  const net_addr *to, const struct iovec *iov, int n)
{
	struct udp_sock *u = (struct udp_sock *)t;
	struct mmsghdr mm[UDP_SEND_BATCH];
	union pktinfo_ctrl ctrl[UDP_SEND_BATCH];
	int i, done = 0;

	if (n > UDP_SEND_BATCH)
		n = UDP_SEND_BATCH;
	memset(mm, 0, sizeof(mm[0]) * (size_t)n);
	for (i = 0; i < n; i++) {
		struct msghdr *mh = &mm[i].msg_hdr;
		mh->msg_name = (void *)&to->u.sa;
		mh->msg_namelen = to->len;
		mh->msg_iov = (struct iovec *)&iov[i];
		mh->msg_iovlen = 1;
		if (u->wildcard && local)
			set_source(mh, &ctrl[i], local, to->u.sa.sa_family);
	}
	while (done < n) {
		int r = sendmmsg(u->fd, mm + done, (unsigned)(n - done),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0)
			break;
		done += r;
	}
	return done;
}

static void udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct udp_sock *u = arg;
	struct worker_io *io = u->io;
	struct turn *tn = srv_turn(io->srv);
	int rounds, i, n;

	/* A bounded number of batches per wake-up keeps one busy socket from
	 * starving the others on this worker. */
	for (rounds = 0; rounds < 8; rounds++) {
		for (i = 0; i < RECV_BATCH; i++) {
			io->iov[i].iov_base = io->bufs + (size_t)i * RECV_SLOT;
			io->iov[i].iov_len = RECV_SLOT;
			memset(&io->msgs[i].msg_hdr, 0, sizeof(io->msgs[i].msg_hdr));
			io->msgs[i].msg_hdr.msg_name = &io->from[i];
			io->msgs[i].msg_hdr.msg_namelen = sizeof(io->from[i]);
			io->msgs[i].msg_hdr.msg_iov = &io->iov[i];
			io->msgs[i].msg_hdr.msg_iovlen = 1;
			if (u->wildcard) {
				io->msgs[i].msg_hdr.msg_control = io->ctrl[i];
				io->msgs[i].msg_hdr.msg_controllen = sizeof(io->ctrl[i]);
			}
		}
		n = recvmmsg(fd, io->msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		turn_batch_begin(tn);
		for (i = 0; i < n; i++) {
			struct msghdr *mh = &io->msgs[i].msg_hdr;
			net_addr client, local;

			if (mh->msg_flags & MSG_TRUNC)
				continue;
			net_addr_from_sa(&client, (struct sockaddr *)&io->from[i]);
			if (!client.len)
				continue;
			if (u->wildcard)
				dst_from_cmsg(mh, &u->bound, &local);
			else
				local = u->bound;
			if (io->dtls && dtls_looks_like(io->iov[i].iov_base, io->msgs[i].msg_len))
				dtls_input(io->dtls, &u->t, &local, &client,
					   io->iov[i].iov_base, io->msgs[i].msg_len);
			else
				srv_input(io->srv, &u->t, &local, &client,
					  io->iov[i].iov_base, io->msgs[i].msg_len);
		}
		turn_batch_end(tn);
		if (n < RECV_BATCH)
			return;
	}
}

/* ------------------------------------------------------------------ TCP */

static void conn_free(struct tcp_conn *c)
{
	struct worker_io *io = c->io;

	turn_conn_closed(srv_turn(io->srv), &c->t);
	if (c->prev)
		c->prev->next = c->next;
	else
		io->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	addr_counts_release(io->counts, &c->peer.u.sa);
	if (c->t.kind == SRV_TLS) {
		/* A refused handshake leaves its fatal alert (RFC 7301's
		 * no_application_protocol, protocol_version...) in the output
		 * of the socket under TLS, frozen by libevent: send it before
		 * the socket goes, so the client learns why. */
		struct bufferevent *u = bufferevent_get_underlying(c->bev);
		if (u) {
			evbuffer_unfreeze(bufferevent_get_output(u), 1);
			evbuffer_write(bufferevent_get_output(u), bufferevent_getfd(u));
		}
	}
	bufferevent_free(c->bev);
	free(c);
}

static void conn_free_later(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

/* Never free a connection inside its own callback: mark it, free it from
 * a fresh event once the callback has returned. */
static void conn_close_soon(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	event_base_once(c->io->base, -1, EV_TIMEOUT, conn_free_later, c, NULL);
}

static int tcp_send(struct srv_transport *t, const net_addr *local,
		    const net_addr *to, const void *buf, size_t len)
{
	struct tcp_conn *c = (struct tcp_conn *)t;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->closing || evbuffer_get_length(out) + len > TCP_OUT_LIMIT)
		return -1;
	return bufferevent_write(c->bev, buf, len) == 0 ? 0 : -1;
}

/* Close after the queued output has gone (see tcp_written). */
static void tcp_close(struct srv_transport *t)
{
	struct tcp_conn *c = (struct tcp_conn *)t;

	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_close_soon(c);
	else
		c->closing = -1;       /* flushing, see tcp_written */
}

static void tcp_set_idle(struct tcp_conn *c)
{
	struct timeval idle = { srv_conf(c->io->srv)->tcp_idle_timeout, 0 };

	bufferevent_set_timeouts(c->bev, c->busy ? NULL : &idle, NULL);
}

/* An allocation lives as long as its lifetime says, not as long as the
 * client keeps talking: the engine lifts the idle timeout meanwhile. */
static void tcp_set_busy(struct srv_transport *t, int busy)
{
	struct tcp_conn *c = (struct tcp_conn *)t;

	c->busy = busy;
	tcp_set_idle(c);
}

static void tcp_written(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;

	if (c->closing == -1) {
		c->closing = 0;
		conn_close_soon(c);
	}
}

static void tcp_readable(struct bufferevent *bev, void *arg);
static void tcp_event(struct bufferevent *bev, short what, void *arg);

/* A TLS ClientHello (a handshake record, 0x16) as the first byte of a
 * connection makes it TURN over TLS, whichever port it reached; the TLS
 * layer then sits between the socket and the framing below. */
static int start_tls(struct tcp_conn *c)
{
	SSL *ssl = tls_ssl(c->io->tls, TLS_TURN);
	struct bufferevent *tb;

	if (!ssl)
		return -1;
	tb = bufferevent_openssl_filter_new(c->io->base, c->bev, ssl,
					    BUFFEREVENT_SSL_ACCEPTING,
					    BEV_OPT_CLOSE_ON_FREE);
	if (!tb) {
		SSL_free(ssl);
		return -1;
	}
	c->bev = tb;
	c->t.kind = SRV_TLS;
	bufferevent_setcb(tb, tcp_readable, NULL, tcp_event, c);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	tcp_set_idle(c);
	/* The ClientHello is already in the socket's buffer: hand it on. */
	bufferevent_trigger(bufferevent_get_underlying(tb), EV_READ, 0);
	return 0;
}

static void tcp_readable(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (!c->sniffed && evbuffer_get_length(in) > 0) {
		c->sniffed = 1;
		if (*evbuffer_pullup(in, 1) == 0x16 && c->io->tls) {
			if (start_tls(c) < 0)
				conn_close_soon(c);
			return;
		}
	}
	while (!c->closing) {
		size_t avail = evbuffer_get_length(in);
		size_t peek = avail < STUN_HEADER_LEN ? avail : STUN_HEADER_LEN;
		const uint8_t *p;
		int need;

		if (avail == 0)
			return;
		p = evbuffer_pullup(in, (ev_ssize_t)peek);
		need = stun_frame_len(p, peek, TCP_MAX_FRAME);
		if (need < 0) {
			log_debug("tcp", &c->peer.u.sa, "bad framing, closing");
			conn_close_soon(c);
			return;
		}
		if (need == 0 || (size_t)need > avail)
			return;
		p = evbuffer_pullup(in, (ev_ssize_t)need);
		if (srv_input(c->io->srv, &c->t, &c->local, &c->peer, p, (size_t)need) < 0) {
			evbuffer_drain(in, (size_t)need);
			tcp_close(&c->t);
			return;
		}
		evbuffer_drain(in, (size_t)need);
	}
}

static void tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *c = arg;
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED)
		return;                /* TLS handshake done */
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("tcp", &c->peer.u.sa, "idle, closing");
	else if (c->t.kind == SRV_TLS && (e = bufferevent_get_openssl_error(bev))) {
		char why[160];
		ERR_error_string_n(e, why, sizeof(why));
		log_debug("tls", &c->peer.u.sa, "closing: %s", why);
	}
	conn_close_soon(c);
}

/* Refusals are logged at most once a second per worker: a flood must not
 * become a flood of log lines. */
static void log_refusal(struct worker_io *io, const net_addr *peer, const char *why)
{
	uint64_t now = mono_ms();

	stat_add(srv_stats(io->srv), ST_TCP_REFUSED, 1);
	if (now - io->last_refusal_log < 1000)
		return;
	io->last_refusal_log = now;
	log_warn("tcp", peer ? &peer->u.sa : NULL, "connection refused: %s", why);
}

/* Accepts of every worker take this lock, so that the descriptor number
 * one worker frees in shed_one() is not taken by another worker's accept
 * before it is used (other threads opening files can still take it: then
 * the listener pauses, below). */
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

#define EMFILE_PAUSE_MS 100

static void resume_listening(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_lsn *l = arg;

	if (l->io->spare_fd < 0)
		l->io->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	event_add(l->ev, NULL);
}

/*
 * Out of descriptors: take the pending connection with the spare
 * descriptor and close it at once, so the client is refused and the
 * listening socket does not stay readable and spin the loop.  When the
 * spare cannot be had, stop watching this listener for a moment instead;
 * either way service resumes by itself when descriptors free up.
 */
static void shed_one(struct tcp_lsn *l)
{
	struct worker_io *io = l->io;
	int fd = -1;

	if (io->spare_fd >= 0) {
		close(io->spare_fd);
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		io->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	log_refusal(io, NULL, "out of file descriptors");
	if (fd < 0 || io->spare_fd < 0) {
		struct timeval pause = { 0, EMFILE_PAUSE_MS * 1000 };
		event_del(l->ev);
		event_add(l->resume, &pause);
	}
}

static void tcp_acceptable(evutil_socket_t lfd, short what, void *arg)
{
	struct tcp_lsn *l = arg;
	struct worker_io *io = l->io;
	int i;

	for (i = 0; i < 64; i++) {
		const struct ferry_conf *conf = srv_conf(io->srv);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct tcp_conn *c;
		net_addr peer;
		int fd;

		pthread_mutex_lock(&accept_lock);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE))
			shed_one(l);
		pthread_mutex_unlock(&accept_lock);
		if (fd < 0)
			return;
		net_addr_from_sa(&peer, (struct sockaddr *)&ss);
		if (addr_counts_take(io->counts, &peer.u.sa,
				     conf->max_tcp_connections_per_address,
				     conf->max_tcp_connections) < 0) {
			close(fd);
			log_refusal(io, &peer, "too many TCP connections");
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->t.kind = SRV_TCP;
		c->t.send = tcp_send;
		c->t.close = tcp_close;
		c->t.set_busy = tcp_set_busy;
		c->io = io;
		c->peer = peer;
		net_local_addr(fd, &c->local);
		c->bev = bufferevent_socket_new(io->base, fd, BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(c->bev, tcp_readable, tcp_written, tcp_event, c);
		tcp_set_idle(c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		c->next = io->conns;
		if (io->conns)
			io->conns->prev = c;
		io->conns = c;
	}
}

/* --------------------------------------------------------------- set-up */

/* Bind addr without SO_REUSEPORT on UDP and TCP, then let go.  Port 0 is
 * replaced by one free on both. */
static int probe_free(net_addr *addr, char *err, size_t errlen)
{
	int tries = net_port(&addr->u.sa) == 0 ? 20 : 1;

	while (tries-- > 0) {
		int u = net_udp_bind(addr, 0, err, errlen), t;
		net_addr got = *addr;

		if (u < 0)
			return -1;
		net_local_addr(u, &got);
		t = net_tcp_listen(&got, 0, 1, err, errlen);
		close(u);
		if (t >= 0) {
			close(t);
			*addr = got;
			return 0;
		}
	}
	return -1;
}

struct listener_set *listeners_bind(const struct ferry_conf *conf, int nworkers,
				    struct tls *tls, char *err, size_t errlen)
{
	struct listener_set *ls = xcalloc(1, sizeof(*ls));
	size_t a, naddr = conf->listen.n + conf->tls_listen.n;
	size_t total = naddr * (size_t)nworkers;
	int w;

	ls->tls = tls_wanted(conf) ? tls : NULL;
	ls->tcp_counts = addr_counts_new();
	ls->naddr = naddr;
	ls->nworkers = nworkers;
	ls->addrs = xcalloc(ls->naddr, sizeof(*ls->addrs));
	ls->udp_fd = xcalloc(total ? total : 1, sizeof(int));
	ls->tcp_fd = xcalloc(total ? total : 1, sizeof(int));
	ls->io = xcalloc((size_t)nworkers, sizeof(*ls->io));
	for (a = 0; a < total; a++)
		ls->udp_fd[a] = ls->tcp_fd[a] = -1;
	for (w = 0; w < nworkers; w++)
		ls->io[w].spare_fd = -1;

	for (a = 0; a < ls->naddr; a++) {
		/* tls-listen addresses take the same sockets as listen ones:
		 * every port tells TLS and DTLS from plain STUN by the first
		 * byte; they differ only in the URLs clients are given. */
		net_addr addr = a < conf->listen.n ? conf->listen.v[a]
						   : conf->tls_listen.v[a - conf->listen.n];
		/* SO_REUSEPORT would let us share a port that another process
		 * of the same user holds; a plain bind first proves it free
		 * (and resolves port 0 for the whole group). */
		if (probe_free(&addr, err, errlen) < 0)
			goto fail;
		for (w = 0; w < nworkers; w++) {
			size_t k = a * (size_t)nworkers + (size_t)w;
			ls->udp_fd[k] = net_udp_bind(&addr, 1, err, errlen);
			if (ls->udp_fd[k] < 0)
				goto fail;
			/* One socket takes every client of its worker. */
			net_set_buffers(ls->udp_fd[k], 4 << 20);
			ls->tcp_fd[k] = net_tcp_listen(&addr, 1, 128, err, errlen);
			if (ls->tcp_fd[k] < 0)
				goto fail;
		}
		/* Clients behind one address (one NAT, one office) land on
		 * one worker, so relaying between two of them, the usual
		 * reason both need TURN, never leaves that worker's memory.
		 * Without the program the kernel spreads by address and port. */
		if (nworkers > 1 &&
		    net_udp_steer_by_source(ls->udp_fd[a * (size_t)nworkers],
					    addr.u.sa.sa_family, (unsigned)nworkers) < 0)
			log_warn("listen", NULL, "cannot steer datagrams by source address: %s",
				 strerror(errno));
		ls->addrs[a] = addr;
	}
	return ls;
fail:
	listeners_free(ls);
	return NULL;
}

int listeners_attach(struct listener_set *ls, int id, struct event_base *base,
		     struct srv *srv, char *err, size_t errlen)
{
	struct worker_io *io = &ls->io[id];
	size_t a;

	io->base = base;
	io->srv = srv;
	io->tls = ls->tls;
	io->counts = ls->tcp_counts;
	io->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (ls->tls)
		io->dtls = dtls_new(ls->tls, srv, base);
	io->bufs = xmalloc((size_t)RECV_BATCH * RECV_SLOT);
	io->udp = xcalloc(ls->naddr ? ls->naddr : 1, sizeof(*io->udp));
	io->tcp = xcalloc(ls->naddr ? ls->naddr : 1, sizeof(*io->tcp));
	for (a = 0; a < ls->naddr; a++) {
		size_t k = a * (size_t)ls->nworkers + (size_t)id;
		struct udp_sock *u = &io->udp[a];
		struct tcp_lsn *l = &io->tcp[a];

		u->t.kind = SRV_UDP;
		u->t.send = udp_send;
		u->t.send_batch = udp_send_batch;
		u->fd = ls->udp_fd[k];
		u->io = io;
		u->bound = ls->addrs[a];
		u->wildcard = net_is_wildcard(&u->bound.u.sa);
		if (u->wildcard)
			enable_pktinfo(u->fd, u->bound.u.sa.sa_family);
		u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, udp_readable, u);
		l->fd = ls->tcp_fd[k];
		l->io = io;
		l->ev = event_new(base, l->fd, EV_READ | EV_PERSIST, tcp_acceptable, l);
		l->resume = evtimer_new(base, resume_listening, l);
		if (!u->ev || !l->ev || event_add(u->ev, NULL) || event_add(l->ev, NULL)) {
			snprintf(err, errlen, "worker %d: cannot watch listening sockets", id);
			return -1;
		}
	}
	return 0;
}

void listeners_drop_connections(struct listener_set *ls, int id)
{
	struct worker_io *io = &ls->io[id];

	while (io->conns)
		conn_free(io->conns);
	dtls_free(io->dtls);
	io->dtls = NULL;
}

void listeners_detach(struct listener_set *ls, int id)
{
	struct worker_io *io = &ls->io[id];
	size_t a;

	listeners_drop_connections(ls, id);
	if (io->spare_fd >= 0)
		close(io->spare_fd);
	io->spare_fd = -1;
	for (a = 0; io->udp && a < ls->naddr; a++) {
		if (io->udp[a].ev)
			event_free(io->udp[a].ev);
		if (io->tcp[a].ev)
			event_free(io->tcp[a].ev);
		if (io->tcp[a].resume)
			event_free(io->tcp[a].resume);
		io->udp[a].ev = io->tcp[a].ev = io->tcp[a].resume = NULL;
	}
	free(io->udp);
	free(io->tcp);
	free(io->bufs);
	io->udp = NULL;
	io->tcp = NULL;
	io->bufs = NULL;
}

void listeners_free(struct listener_set *ls)
{
	size_t k, total;

	if (!ls)
		return;
	total = ls->naddr * (size_t)ls->nworkers;
	for (k = 0; k < total; k++) {
		if (ls->udp_fd[k] >= 0)
			close(ls->udp_fd[k]);
		if (ls->tcp_fd[k] >= 0)
			close(ls->tcp_fd[k]);
	}
	free(ls->udp_fd);
	free(ls->tcp_fd);
	addr_counts_free(ls->tcp_counts);
	free(ls->addrs);
	free(ls->io);
	free(ls);
}

size_t listeners_count(const struct listener_set *ls)
{
	return ls->naddr;
}

const net_addr *listeners_addr(const struct listener_set *ls, size_t i)
{
	return &ls->addrs[i];
}
