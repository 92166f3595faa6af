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
 * Client frames are masked with a fresh key each (RFC 6455).  With -b N the
 * client sockets are bound to 127.0.0.1 ... 127.0.0.N in turn (all
 * loopback), as browsers come from many addresses; ferryd allows 1024
 * connections per address.  Every phase is bounded in time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
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

#define SDP_LEN 2000
#define MAX_SAMPLES (4u << 20)

enum { M_FERRY, M_PEERJS };
enum { S_CONNECTING, S_HANDSHAKE, S_OPENING, S_READY, S_CLOSED };
enum { P_SETUP, P_SAT, P_DRAIN, P_HALF, P_DONE };

struct peer {
	int idx;
	int state;
	struct bufferevent *bev;
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

static double now(void)
{
	return now_ns() / 1e9;
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- framing ---- */

static void ws_send(struct peer *p, int opcode, const char *data, size_t len)
{
	static uint8_t buf[SDP_LEN + 1024];
	size_t h = 2, i;
	uint32_t key = (uint32_t)rng();
	uint8_t mk[4];

	if (!p->bev || len + 14 > sizeof(buf))
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
	for (i = 0; i < len; i++)
		buf[h + i] = data[i] ^ mk[i & 3];
	bufferevent_write(p->bev, buf, h + len);
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

static void on_frames(struct peer *p, struct evbuffer *in)
{
	for (int guard = 0; guard < 100000; guard++) {
		size_t avail = evbuffer_get_length(in), h = 2, len;
		uint8_t hdr[14];
		if (avail < 2)
			return;
		evbuffer_copyout(in, hdr, avail < 14 ? avail : 14);
		len = hdr[1] & 0x7f;
		if (len == 126) {
			h = 4;
			if (avail < 4)
				return;
			len = (hdr[2] << 8) | hdr[3];
		} else if (len == 127) {
			h = 10;
			if (avail < 10)
				return;
			len = 0;
			for (int i = 2; i < 10; i++)
				len = (len << 8) | hdr[i];
		}
		if (hdr[1] & 0x80)
			h += 4;  /* servers do not mask, but be safe */
		if (avail < h + len)
			return;
		uint8_t *f = evbuffer_pullup(in, h + len);
		int op = hdr[0] & 0x0f;
		if (op == 1)
			on_text(p, (const char *)f + h, len);
		else if (op == 9)
			ws_send(p, 10, (const char *)f + h, len);
		else if (op == 8) {
			if (p->state != S_CLOSED && errors_seen++ < 5 && !join_mode)
				fprintf(stderr, "sigload: peer %d: closed by server (%u)\n",
					p->idx, len >= 2 ? (f[h] << 8) | f[h + 1] : 0);
		}
		evbuffer_drain(in, h + len);
	}
}

static void start_connect(int idx);
static void peer_close(struct peer *p);

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (p->state == S_HANDSHAKE) {
		struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		char line[16] = "";
		if (e.pos < 0)
			return;
		evbuffer_copyout(in, line, sizeof(line) - 1);
		if (strncmp(line, "HTTP/1.1 101", 12) != 0) {
			if (errors_seen++ < 5)
				fprintf(stderr, "sigload: peer %d: upgrade refused: %.15s\n",
					p->idx, line);
			peer_close(p);
			return;
		}
		evbuffer_drain(in, e.pos + 4);
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
	if (p->state == S_OPENING || p->state == S_READY)
		on_frames(p, in);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		char req[512];
		int fd = bufferevent_getfd(bev), one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		int n;
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
		bufferevent_write(bev, req, n);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (p->state != S_CLOSED && !join_mode && errors_seen++ < 5)
			fprintf(stderr, "sigload: peer %d: connection lost (%s)\n", p->idx,
				what & BEV_EVENT_EOF ? "eof" : strerror(errno));
		peer_close(p);
	}
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
	closed++;
	if (p->bev)
		bufferevent_free(p->bev);
	p->bev = NULL;
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

	memset(p, 0, sizeof(*p));
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
	p->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(p->bev, read_cb, NULL, event_cb, p);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&server,
				       sizeof(server)) < 0)
		peer_close(p);
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
	bufferevent_flush(p->bev, EV_WRITE, BEV_FLUSH);
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

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *c = strrchr(s, ':');

	if (!c || (size_t)(c - s) >= sizeof(host))
		return -1;
	memcpy(host, s, c - s);
	host[c - s] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(atoi(c + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
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
		for (i = 0; i < npeers; i++)
			peers[i].state = S_CLOSED;
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
	for (i = 0; i < npeers; i++)
		if (peers[i].bev)
			bufferevent_free(peers[i].bev);
	event_base_free(base);
	return 0;
}
