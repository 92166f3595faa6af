/*
 * sigload — WebSocket signaling load for bench/run, on libevent.
 *
 *   sigload -m ferry|peerjs -a ADDR:PORT [-c PEERS] [-g PEERS_PER_ROOM]
 *           [-d SECONDS] [-k CHAINS] [-R HALF_RATE] [-b SOURCE_ADDRS]
 *   sigload -m ferry|peerjs -a ADDR:PORT -J JOINS [-j CONCURRENCY] ...
 *
 * Load mode: opens PEERS WebSockets (ferry: GET /ws then a `join` to room
 * "rN"; PeerJS: GET /peerjs?key=peerjs&id=pN&token=tN and its OPEN), in
 * groups of PEERS_PER_ROOM.  Then two phases:
 *
 *   saturation: every peer starts CHAINS exchanges with the next peer of
 *     its room; each received offer is answered with an answer, an answer
 *     with a candidate, a candidate with the next offer, back to the
 *     sender.  The relayed-message rate over SECONDS is the saturation rate.
 *   half: open loop at HALF_RATE messages/s (default: half the measured
 *     saturation rate), round robin over the peers, offer/answer/candidate
 *     in turn to the next peer of the room; nobody replies.
 *
 * Every message carries its send time (CLOCK_MONOTONIC, ns) and the
 * sender's index inside its payload ("ts=... i=..."), so delivery latency
 * is measured on receipt; p50/p99 are printed per phase.  Message sizes:
 * offer/answer SDP SDP_LEN bytes, candidate strings about 150 bytes; the
 * same for both servers (PeerJS gets them inside `payload`).
 *
 * Join mode: JOINS times connect, upgrade, join (or OPEN), then leave and
 * close, CONCURRENCY at a time; prints joins per second.
 *
 * Sockets are driven directly (read(2) into a per-peer buffer, write(2) at
 * once, the write event armed only while the kernel refuses more), so the
 * client spends little beside the kernel's own TCP work and does not
 * become the bottleneck before the server.
 *
 * Client frames are masked with a fresh key each (RFC 6455).  With -b N the
 * client sockets are bound to 127.0.0.1 ... 127.0.0.N in turn (all
 * loopback), as browsers come from many addresses; ferryd allows 1024
 * connections per address.  Every phase is bounded in time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define SDP_LEN 2000
#define MAX_SAMPLES (4u << 20)

enum { M_FERRY, M_PEERJS };
enum { S_CONNECTING, S_HANDSHAKE, S_OPENING, S_READY, S_CLOSED };
enum { P_SETUP, P_SAT, P_DRAIN, P_HALF, P_DONE };

struct peer {
	int idx;
	int state;
	int fd;                 /* -1 when closed */
	unsigned gen;           /* bumped when closed: stale callers stop */
	struct event *rev, *wev;
	uint8_t *in, *out;      /* received, not parsed; not yet written */
	size_t inlen, incap, outlen, outcap;
	char id[64];
	int type_cycle;
	int room;
};

static struct event_base *base;
static struct sockaddr_in server;
static int mode = M_FERRY, npeers = 5000, group = 5, chains = 1, nsrc = 8;
static double secs = 10, half_rate = 0;
static struct peer *peers;
static int phase = P_SETUP;
static int ready, closed, connecting, next_connect, errors_seen;
static long recv_count, sent_count, bad_count;
static float *lat[P_DONE];
static unsigned nlat[P_DONE];
static char padding[SDP_LEN + 1];
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static const char *host_hdr;
static int join_mode;
static long joins_target, joins_done, joins_started;
static void join_slot(int slot);
static int join_conc = 64;
static int stopping;            /* closing at exit: start nothing new */

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- sockets ---- */

static void grow(uint8_t **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 16384;
	*b = realloc(*b, *cap);
	if (!*b) {
		perror("realloc");
		exit(1);
	}
}

/* Write now; keep what the kernel does not take for the write event. */
static void out_write(struct peer *p, const void *data, size_t len)
{
	ssize_t n = 0;

	if (!p->outlen) {
		n = send(p->fd, data, len, MSG_NOSIGNAL);
		if (n < 0)
			n = 0;	/* EAGAIN; a dead socket is found by the read side */
		if ((size_t)n == len)
			return;
	}
	grow(&p->out, &p->outcap, p->outlen + len - n);
	memcpy(p->out + p->outlen, (const uint8_t *)data + n, len - n);
	p->outlen += len - n;
	event_add(p->wev, NULL);
}

/* ---- framing ---- */

static void ws_send(struct peer *p, int opcode, const char *data, size_t len)
{
	static uint8_t buf[SDP_LEN + 1024];
	size_t h = 2, i;
	uint32_t key = (uint32_t)rng();
	uint8_t mk[4];

	if (p->fd < 0 || len + 14 > sizeof(buf))
		return;
	buf[0] = 0x80 | opcode;
	if (len < 126) {
		buf[1] = 0x80 | len;
	} else if (len < 65536) {
		buf[1] = 0x80 | 126;
		buf[2] = len >> 8;
		buf[3] = len;
		h = 4;
	} else {
		return;
	}
	memcpy(mk, &key, 4);
	memcpy(buf + h, mk, 4);
	h += 4;
	uint64_t kw = (uint64_t)key << 32 | key, w;
	for (i = 0; len - i >= 8; i += 8) {
		memcpy(&w, data + i, 8);
		w ^= kw;
		memcpy(buf + h + i, &w, 8);
	}
	for (; i < len; i++)
		buf[h + i] = data[i] ^ mk[i & 3];
	out_write(p, buf, h + len);
}

static void send_text(struct peer *p, const char *s, size_t len)
{
	ws_send(p, 1, s, len);
}

/* ---- the message pattern ---- */

static int partner(int idx)
{
	int room = idx / group, slot = idx % group;
	int n = group;

	if ((room + 1) * group > npeers)
		n = npeers - room * group;
	if (n < 2)
		return -1;
	return room * group + (slot + 1) % n;
}

/* kind: 0 offer, 1 answer, 2 candidate */
static void send_msg(struct peer *p, int to, int kind)
{
	static char m[SDP_LEN + 512];
	char stamp[64];
	struct peer *q = &peers[to];
	int n, sl;

	if (p->state != S_READY || q->state != S_READY)
		return;
	sl = snprintf(stamp, sizeof(stamp), "ts=%llu i=%d ",
		      (unsigned long long)now_ns(), p->idx);
	if (kind < 2) {
		const char *t = kind == 0 ? "offer" : "answer";
		if (mode == M_FERRY)
			n = snprintf(m, sizeof(m),
				     "{\"type\":\"%s\",\"to\":\"%s\",\"sdp\":\"v=0 %s%.*s\"}",
				     t, q->id, stamp, SDP_LEN - sl - 4, padding);
		else
			n = snprintf(m, sizeof(m),
				     "{\"type\":\"%s\",\"dst\":\"%s\",\"payload\":{\"sdp\":\"v=0 %s%.*s\"}}",
				     kind == 0 ? "OFFER" : "ANSWER", q->id, stamp,
				     SDP_LEN - sl - 4, padding);
	} else {
		const char *cand =
			"\"candidate\":{\"candidate\":\"candidate:842163049 1 udp 1677729535 "
			"192.0.2.10 54321 typ srflx raddr 10.0.0.5 rport 54321 generation 0 "
			"ufrag abcd %s\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,"
			"\"usernameFragment\":\"abcd\"}";
		char c[512];
		snprintf(c, sizeof(c), cand, stamp);
		if (mode == M_FERRY)
			n = snprintf(m, sizeof(m), "{\"type\":\"candidate\",\"to\":\"%s\",%s}",
				     q->id, c);
		else
			n = snprintf(m, sizeof(m),
				     "{\"type\":\"CANDIDATE\",\"dst\":\"%s\",\"payload\":{%s}}",
				     q->id, c);
	}
	send_text(p, m, n);
	sent_count++;
}

static void record(int ph, uint64_t ts)
{
	uint64_t t = now_ns();
	if (!lat[ph] || nlat[ph] >= MAX_SAMPLES || t < ts)
		return;
	lat[ph][nlat[ph]++] = (t - ts) / 1000.0f;
}

static const char *memfind(const char *h, size_t hl, const char *n)
{
	return memmem(h, hl, n, strlen(n));
}

static void join_done(struct peer *p);

static void on_text(struct peer *p, const char *d, size_t len)
{
	const char *t = memfind(d, len, "\"type\":\"");
	char c;

	if (!t) {
		bad_count++;
		return;
	}
	t += 8;
	c = *t | 0x20;  /* lower case */
	if (p->state == S_OPENING) {
		if (mode == M_FERRY && !strncmp(t, "welcome", 7)) {
			const char *id = memfind(d, len, "\"id\":\"");
			const char *e = id ? memchr(id + 6, '"', d + len - id - 6) : NULL;
			if (!e || e - id - 6 >= (long)sizeof(p->id)) {
				bad_count++;
				return;
			}
			memcpy(p->id, id + 6, e - id - 6);
			p->id[e - id - 6] = 0;
		} else if (mode == M_PEERJS && !strncmp(t, "OPEN", 4)) {
			/* id is ours */
		} else {
			if (errors_seen++ < 5)
				fprintf(stderr, "sigload: peer %d: unexpected %.*s\n",
					p->idx, (int)(len > 200 ? 200 : len), d);
			return;
		}
		p->state = S_READY;
		ready++;
		if (join_mode)
			join_done(p);
		return;
	}
	if (c != 'o' && c != 'a' && !(c == 'c' && (t[1] | 0x20) == 'a')) {
		if (!strncmp(t, "error", 5) || !strncmp(t, "ERROR", 5)) {
			bad_count++;
			if (errors_seen++ < 5)
				fprintf(stderr, "sigload: peer %d: %.*s\n", p->idx,
					(int)(len > 200 ? 200 : len), d);
		}
		return;  /* peer-joined, HEARTBEAT, ... */
	}
	const char *ts = memfind(d, len, "ts=");
	const char *ip = ts ? memfind(ts, d + len - ts, " i=") : NULL;
	if (!ts || !ip) {
		bad_count++;
		return;
	}
	uint64_t stamp = strtoull(ts + 3, NULL, 10);
	int from = atoi(ip + 3);
	if (from < 0 || from >= npeers) {
		bad_count++;
		return;
	}
	recv_count++;
	record(phase, stamp);
	if (phase == P_SAT)
		send_msg(p, from, c == 'o' ? 1 : c == 'a' ? 2 : 0);
}

static void start_connect(int idx);
static void peer_close(struct peer *p);

/* Complete frames from p->in; returns the bytes used. */
static size_t on_frames(struct peer *p, size_t off)
{
	unsigned gen = p->gen;

	while (p->state == S_OPENING || p->state == S_READY) {
		size_t avail = p->inlen - off, h = 2, len;
		const uint8_t *f = p->in + off;
		if (avail < 2)
			break;
		len = f[1] & 0x7f;
		if (len == 126) {
			h = 4;
			if (avail < 4)
				break;
			len = (f[2] << 8) | f[3];
		} else if (len == 127) {
			h = 10;
			if (avail < 10)
				break;
			len = 0;
			for (int i = 2; i < 10; i++)
				len = (len << 8) | f[i];
		}
		if (f[1] & 0x80)
			h += 4;  /* servers do not mask, but be safe */
		if (avail < h + len)
			break;
		off += h + len;
		int op = f[0] & 0x0f;
		if (op == 1)
			on_text(p, (const char *)f + h, len);
		else if (op == 9)
			ws_send(p, 10, (const char *)f + h, len);
		else if (op == 8) {
			if (p->state != S_CLOSED && errors_seen++ < 5 && !join_mode)
				fprintf(stderr, "sigload: peer %d: closed by server (%u)\n",
					p->idx, len >= 2 ? (f[h] << 8) | f[h + 1] : 0);
		}
		if (p->gen != gen)
			return 0;	/* closed (and maybe reused) meanwhile */
	}
	return off;
}

static void on_handshake(struct peer *p)
{
	const uint8_t *e = memmem(p->in, p->inlen, "\r\n\r\n", 4);
	size_t used;

	if (!e)
		return;
	if (p->inlen < 12 || memcmp(p->in, "HTTP/1.1 101", 12) != 0) {
		if (errors_seen++ < 5)
			fprintf(stderr, "sigload: peer %d: upgrade refused: %.15s\n",
				p->idx, (const char *)p->in);
		peer_close(p);
		return;
	}
	used = (size_t)(e - p->in) + 4;
	memmove(p->in, p->in + used, p->inlen - used);
	p->inlen -= used;
	p->state = S_OPENING;
	connecting--;
	if (mode == M_FERRY) {
		char j[128];
		int n = snprintf(j, sizeof(j),
				 "{\"type\":\"join\",\"room\":\"r%d\",\"name\":\"n%d\"}",
				 p->room, p->idx);
		send_text(p, j, n);
	}
	if (!join_mode)
		while (connecting < 256 && next_connect < npeers)
			start_connect(next_connect++);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;
	unsigned gen = p->gen;
	ssize_t n;
	size_t used;

	(void)what;
	grow(&p->in, &p->incap, p->inlen + 16384);
	n = read(fd, p->in + p->inlen, p->incap - p->inlen);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (p->state != S_CLOSED && !join_mode && errors_seen++ < 5)
			fprintf(stderr, "sigload: peer %d: connection lost (%s)\n", p->idx,
				n == 0 ? "eof" : strerror(errno));
		peer_close(p);
		return;
	}
	p->inlen += (size_t)n;
	if (p->state == S_HANDSHAKE)
		on_handshake(p);
	if (p->gen != gen || (p->state != S_OPENING && p->state != S_READY))
		return;
	used = on_frames(p, 0);
	if (p->gen != gen)
		return;
	memmove(p->in, p->in + used, p->inlen - used);
	p->inlen -= used;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	(void)what;
	if (p->state == S_CONNECTING) {
		char req[512];
		int err = 0, one = 1, n;
		socklen_t el = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			if (!join_mode && errors_seen++ < 5)
				fprintf(stderr, "sigload: peer %d: connect: %s\n", p->idx,
					strerror(err));
			peer_close(p);
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (mode == M_FERRY)
			n = snprintf(req, sizeof(req),
				     "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
				     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				     "Sec-WebSocket-Version: 13\r\n\r\n", host_hdr);
		else
			n = snprintf(req, sizeof(req),
				     "GET /peerjs?key=peerjs&id=%s&token=t%d HTTP/1.1\r\nHost: %s\r\n"
				     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				     "Sec-WebSocket-Version: 13\r\n\r\n", p->id, p->idx, host_hdr);
		p->state = S_HANDSHAKE;
		event_del(p->wev);
		event_add(p->rev, NULL);
		out_write(p, req, n);
		return;
	}
	if (p->outlen) {
		ssize_t n = send(fd, p->out, p->outlen, MSG_NOSIGNAL);
		if (n > 0) {
			memmove(p->out, p->out + n, p->outlen - n);
			p->outlen -= n;
		}
	}
	if (!p->outlen)
		event_del(p->wev);
}

static void peer_close(struct peer *p)
{
	if (p->state == S_CLOSED)
		return;
	if (p->state == S_CONNECTING || p->state == S_HANDSHAKE)
		connecting--;
	if (p->state == S_READY)
		ready--;
	p->state = S_CLOSED;
	p->gen++;
	closed++;
	if (p->fd >= 0) {
		event_free(p->rev);
		event_free(p->wev);
		close(p->fd);
	}
	p->fd = -1;
	free(p->in);
	free(p->out);
	p->in = p->out = NULL;
	p->inlen = p->incap = p->outlen = p->outcap = 0;
	if (stopping)
		return;
	if (!join_mode)
		while (connecting < 256 && next_connect < npeers)
			start_connect(next_connect++);
	else
		join_slot(p->idx);
}

static void start_connect(int idx)
{
	struct peer *p = &peers[idx];
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	unsigned gen = p->gen;

	memset(p, 0, sizeof(*p));
	p->gen = gen;
	p->fd = -1;
	p->idx = idx;
	p->room = idx / group;
	p->state = S_CONNECTING;
	connecting++;
	if (mode == M_PEERJS)
		snprintf(p->id, sizeof(p->id), "p%d", idx);
	if (fd < 0) {
		perror("socket");
		p->state = S_CLOSED;
		connecting--;
		closed++;
		return;
	}
	src.sin_addr.s_addr = htonl(0x7f000001u + (unsigned)(idx % nsrc));
	bind(fd, (struct sockaddr *)&src, sizeof(src));
	p->fd = fd;
	p->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, p);
	p->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_writable, p);
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0 &&
	    errno != EINPROGRESS) {
		peer_close(p);
		return;
	}
	event_add(p->wev, NULL);	/* connected: on_writable */
}

/* ---- join mode ---- */

/* Each of the join_conc slots runs connect-upgrade-join-leave in a loop. */
static void join_slot(int slot)
{
	if (joins_started >= joins_target)
		return;
	long seq = joins_started++;
	start_connect(slot);
	peers[slot].room = (int)(seq % 1000);
	/* PeerJS ids must be fresh: a closed id may still be registered */
	if (mode == M_PEERJS)
		snprintf(peers[slot].id, sizeof(peers[slot].id), "j%ld", seq);
}

static void join_done(struct peer *p)
{
	joins_done++;
	if (mode == M_FERRY)
		send_text(p, "{\"type\":\"leave\"}", 16);
	peer_close(p);
}

/* ---- phases ---- */

static struct event *tick_ev;
static double phase_start, half_sent_start;
static long phase_recv0, half_cursor;

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (phase != P_HALF)
		return;
	long due = (long)((now() - phase_start) * half_rate) -
		   (sent_count - (long)half_sent_start);
	for (long i = 0; i < due && i < 100000; i++) {
		struct peer *p = &peers[half_cursor];
		int to = partner((int)half_cursor);
		if (to >= 0)
			send_msg(p, to, p->type_cycle++ % 3);
		if (++half_cursor == npeers)
			half_cursor = 0;
	}
}

static void run_for(double s)
{
	struct timeval tv = { (long)s, (long)((s - (long)s) * 1e6) };
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static int cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static void pct(const char *name, int ph)
{
	if (!nlat[ph]) {
		printf("%s_p50_ms=nan\n%s_p99_ms=nan\n", name, name);
		return;
	}
	qsort(lat[ph], nlat[ph], sizeof(float), cmpf);
	printf("%s_p50_ms=%.3f\n%s_p99_ms=%.3f\n%s_samples=%u\n", name,
	       lat[ph][nlat[ph] / 2] / 1000.0, name,
	       lat[ph][(size_t)(nlat[ph] * 0.99)] / 1000.0, name, nlat[ph]);
}

static void usage(void)
{
	fprintf(stderr, "usage: sigload -m ferry|peerjs -a ADDR:PORT [options] (see sigload.c)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 65536, 65536 };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-m")) mode = !strcmp(v, "peerjs") ? M_PEERJS : M_FERRY;
		else if (!strcmp(a, "-a")) { if (parse_addr(v, &server)) usage(); host_hdr = v; }
		else if (!strcmp(a, "-c")) npeers = atoi(v);
		else if (!strcmp(a, "-g")) group = atoi(v);
		else if (!strcmp(a, "-d")) secs = atof(v);
		else if (!strcmp(a, "-k")) chains = atoi(v);
		else if (!strcmp(a, "-R")) half_rate = atof(v);
		else if (!strcmp(a, "-b")) nsrc = atoi(v);
		else if (!strcmp(a, "-J")) { join_mode = 1; joins_target = atol(v); }
		else if (!strcmp(a, "-j")) join_conc = atoi(v);
		else usage();
	}
	if (!host_hdr || npeers < 2 || npeers > 60000 || group < 2 || secs <= 0 ||
	    secs > 120 || chains < 1 || chains > 16 || nsrc < 1 || nsrc > 250 ||
	    join_conc < 1 || join_conc > 4096 || joins_target < 0 || joins_target > 10000000)
		usage();
	setrlimit(RLIMIT_NOFILE, &rl);
	rng_state ^= (uint64_t)getpid() << 32 ^ now_ns();
	for (i = 0; i < SDP_LEN; i++)
		padding[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
	base = event_base_new();
	if (join_mode) {
		npeers = join_conc;
		peers = calloc(npeers, sizeof(*peers));
		for (i = 0; i < npeers; i++) {
			peers[i].state = S_CLOSED;
			peers[i].fd = -1;
		}
		double t0 = now(), c0 = cpu_self();
		for (i = 0; i < npeers; i++)
			join_slot(i);
		for (int k = 0; k < 12000 && joins_done < joins_target; k++) {
			run_for(0.01);
			if (now() - t0 > 120)
				break;
		}
		double t = now() - t0;
		printf("joins=%ld\nseconds=%.3f\njoins_per_s=%.0f\nclient_cpu=%.2f\n",
		       joins_done, t, joins_done / t, cpu_self() - c0);
		return joins_done == joins_target ? 0 : 1;
	}

	peers = calloc(npeers, sizeof(*peers));
	for (i = 0; i < npeers; i++)
		peers[i].fd = -1;
	for (i = 0; i < P_DONE; i++)
		lat[i] = malloc(MAX_SAMPLES * sizeof(float));
	/* set-up: bounded at 120 s */
	double t0 = now();
	while (connecting < 256 && next_connect < npeers)
		start_connect(next_connect++);
	for (i = 0; i < 12000 && ready + closed < npeers && now() - t0 < 120; i++)
		run_for(0.01);
	printf("peers_ready=%d of %d\nsetup_seconds=%.2f\n", ready, npeers, now() - t0);
	if (ready < npeers)
		fprintf(stderr, "sigload: only %d of %d peers ready\n", ready, npeers);
	fflush(stdout);

	/* saturation */
	phase = P_SAT;
	for (int k = 0; k < chains; k++)
		for (i = 0; i < npeers; i++) {
			int to = partner(i);
			if (to >= 0)
				send_msg(&peers[i], to, 0);
		}
	run_for(1.0);  /* warm-up */
	nlat[P_SAT] = 0;
	phase_recv0 = recv_count;
	double c0 = cpu_self(), ts0 = now();
	run_for(secs);
	double sat_secs = now() - ts0, sat_cpu = cpu_self() - c0;
	double sat_rate = (recv_count - phase_recv0) / sat_secs;
	phase = P_DRAIN;
	run_for(1.5);
	printf("sat_rate=%.0f\nsat_client_cpu_share=%.2f\n", sat_rate, sat_cpu / sat_secs);
	pct("sat", P_SAT);
	fflush(stdout);

	/* half of it, open loop */
	if (half_rate <= 0)
		half_rate = sat_rate / 2;
	tick_ev = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	struct timeval ms = { 0, 1000 };
	event_add(tick_ev, &ms);
	phase = P_HALF;
	phase_start = now();
	half_sent_start = sent_count;
	phase_recv0 = recv_count;
	c0 = cpu_self();
	run_for(secs);
	double half_secs = now() - phase_start;
	long half_sent = sent_count - (long)half_sent_start;
	phase = P_DRAIN;
	run_for(1.5);
	long half_recv = recv_count - phase_recv0;
	printf("half_rate_offered=%.0f\nhalf_sent=%ld\nhalf_recv=%ld\nhalf_client_cpu_share=%.2f\n",
	       half_rate, half_sent, half_recv, (cpu_self() - c0) / half_secs);
	pct("half", P_HALF);
	printf("bad_messages=%ld\npeers_closed=%d\n", bad_count, closed);
	event_free(tick_ev);
	stopping = 1;
	for (i = 0; i < npeers; i++)
		if (peers[i].fd >= 0)
			peer_close(&peers[i]);
	event_base_free(base);
	return 0;
}
