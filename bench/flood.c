/*
 * flood — TURN load generator for bench/run.
 *
 *   flood alloc -s ADDR:PORT [-u USER -w PASS -r REALM] -N COUNT [-W WINDOW]
 *               [-P SERVERPID] [-H HOLDSECONDS]
 *       Makes COUNT allocations, each with its own client socket, as a
 *       browser does: Allocate (401) -> authenticated Allocate ->
 *       CreatePermission -> ChannelBind, WINDOW clients in flight at a time.
 *       Prints the rate of completed sequences and, with -P, the server's
 *       RSS before and after (VmRSS) and its CPU time.
 *
 *   flood rate -s ADDR:PORT [-u -w] -N ALLOCS -l PAYLOAD [-d SECONDS]
 *              [-R STARTRATE] [-M MAXRATE] [-i STEPS] [-P SERVERPID] [--raw]
 *       Makes ALLOCS allocations whose channel 0x4000 points at a sink
 *       socket of our own, then sends ChannelData (4-byte header + PAYLOAD
 *       bytes) round robin over the allocations with sendmmsg at an offered
 *       rate, counting what the sink receives with recvmmsg.  It searches
 *       for the highest rate with less than 1% loss: doubling from
 *       STARTRATE, then bisecting.  --raw skips TURN: the same datagrams go
 *       to ADDR:PORT (bench/forwarder), which sends them on to the sink.
 *
 * Output is "key=value" lines that bench/run reads.  Every loop is bounded
 * in count and in time.  STUN encoding, MESSAGE-INTEGRITY (HMAC-SHA1 with
 * the long-term key MD5(user:realm:pass)) are done here, on OpenSSL.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define MAGIC 0x2112A442u
#define BATCH 64
#define MAXPKT 2048

static void die(const char *m)
{
	perror(m);
	exit(2);
}

/* ---- server process figures ---- */

static double proc_cpu(int pid)
{
	char path[64], buf[2048];
	FILE *f;
	size_t n;
	char *p;
	unsigned long ut = 0, st = 0;
	int i;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2;
	/* field 3 is the state; utime and stime are fields 14 and 15 */
	for (i = 3; i < 14 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static long proc_rss_kib(int pid)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- STUN ---- */

struct msg {
	uint8_t b[1024];
	size_t len;
};

static void put16(uint8_t *p, unsigned v) { p[0] = v >> 8; p[1] = v; }
static unsigned get16(const uint8_t *p) { return (p[0] << 8) | p[1]; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void msg_start(struct msg *m, unsigned type, const uint8_t tid[12])
{
	put16(m->b, type);
	put16(m->b + 2, 0);
	put32(m->b + 4, MAGIC);
	memcpy(m->b + 8, tid, 12);
	m->len = 20;
}

static void msg_attr(struct msg *m, unsigned type, const void *v, size_t n)
{
	put16(m->b + m->len, type);
	put16(m->b + m->len + 2, n);
	memcpy(m->b + m->len + 4, v, n);
	m->len += 4 + n;
	while (m->len % 4)
		m->b[m->len++] = 0;
	put16(m->b + 2, m->len - 20);
}

static void msg_xor_addr(struct msg *m, unsigned type, const struct sockaddr_in *a)
{
	uint8_t v[8];
	uint32_t ip = ntohl(a->sin_addr.s_addr) ^ MAGIC;

	v[0] = 0;
	v[1] = 1;
	put16(v + 2, ntohs(a->sin_port) ^ (MAGIC >> 16));
	put32(v + 4, ip);
	msg_attr(m, type, v, 8);
}

static void msg_integrity(struct msg *m, const uint8_t key[16])
{
	unsigned int hl = 20;
	uint8_t mac[20];

	put16(m->b + 2, m->len - 20 + 24);
	HMAC(EVP_sha1(), key, 16, m->b, m->len, mac, &hl);
	msg_attr(m, 0x0008, mac, 20);
}

/* Finds attribute type in a response; returns its length or -1. */
static int msg_find(const uint8_t *b, size_t len, unsigned type, const uint8_t **val)
{
	size_t off = 20, end;

	if (len < 20)
		return -1;
	end = 20 + get16(b + 2);
	if (end > len)
		end = len;
	while (off + 4 <= end) {
		unsigned t = get16(b + off), l = get16(b + off + 2);
		if (off + 4 + l > end)
			return -1;
		if (t == type) {
			*val = b + off + 4;
			return l;
		}
		off += 4 + ((l + 3) & ~3u);
	}
	return -1;
}

/* ---- allocations ---- */

struct cfg {
	struct sockaddr_in server, sink;
	const char *user, *pass;
	int server_pid;
};

enum { ST_IDLE, ST_ALLOC0, ST_ALLOC, ST_PERM, ST_CHAN, ST_DONE, ST_FAIL };

struct client {
	int fd;
	int state;
	uint8_t tid[12];
	char realm[128], nonce[256];
	uint8_t key[16];
	struct msg out;
	double sent_at;
	int tries;
};

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void new_tid(struct client *c)
{
	uint64_t a = rng(), b = rng();
	memcpy(c->tid, &a, 8);
	memcpy(c->tid + 8, &b, 4);
}

static void add_auth(struct client *c, const struct cfg *g)
{
	msg_attr(&c->out, 0x0006, g->user, strlen(g->user));
	msg_attr(&c->out, 0x0014, c->realm, strlen(c->realm));
	msg_attr(&c->out, 0x0015, c->nonce, strlen(c->nonce));
	msg_integrity(&c->out, c->key);
}

static void build(struct client *c, const struct cfg *g)
{
	static const uint8_t udp[4] = { 17, 0, 0, 0 };
	uint8_t ch[4] = { 0x40, 0x00, 0, 0 };

	new_tid(c);
	switch (c->state) {
	case ST_ALLOC0:
		msg_start(&c->out, 0x0003, c->tid);
		msg_attr(&c->out, 0x0019, udp, 4);
		break;
	case ST_ALLOC:
		msg_start(&c->out, 0x0003, c->tid);
		msg_attr(&c->out, 0x0019, udp, 4);
		add_auth(c, g);
		break;
	case ST_PERM:
		msg_start(&c->out, 0x0008, c->tid);
		msg_xor_addr(&c->out, 0x0012, &g->sink);
		add_auth(c, g);
		break;
	case ST_CHAN:
		msg_start(&c->out, 0x0009, c->tid);
		msg_attr(&c->out, 0x000C, ch, 4);
		msg_xor_addr(&c->out, 0x0012, &g->sink);
		add_auth(c, g);
		break;
	}
}

static void csend(struct client *c)
{
	c->sent_at = now();
	if (send(c->fd, c->out.b, c->out.len, MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS)
		c->state = ST_FAIL;
}

static void derive_key(struct client *c, const struct cfg *g)
{
	char s[512];
	unsigned int n = 16;

	snprintf(s, sizeof(s), "%s:%s:%s", g->user, c->realm, g->pass);
	EVP_Digest(s, strlen(s), c->key, &n, EVP_md5(), NULL);
}

static void copy_attr(char *dst, size_t cap, const uint8_t *v, int l)
{
	if (l < 0)
		l = 0;
	if ((size_t)l >= cap)
		l = cap - 1;
	memcpy(dst, v, l);
	dst[l] = 0;
}

/* Handle one datagram for c; returns 1 when c reached ST_DONE/ST_FAIL. */
static int on_response(struct client *c, const struct cfg *g,
		       const uint8_t *b, size_t len, int *errors)
{
	unsigned type, cls;
	const uint8_t *v;
	int l;

	if (len < 20 || memcmp(b + 8, c->tid, 12) != 0)
		return 0;  /* stale retransmission answer */
	type = get16(b);
	cls = type & 0x0110;
	if (cls == 0x0110) {  /* error response */
		int code = 0;
		if ((l = msg_find(b, len, 0x0009, &v)) >= 4)
			code = (v[2] & 7) * 100 + v[3];
		if ((code == 401 && c->state == ST_ALLOC0) || code == 438) {
			if ((l = msg_find(b, len, 0x0014, &v)) >= 0)
				copy_attr(c->realm, sizeof(c->realm), v, l);
			if ((l = msg_find(b, len, 0x0015, &v)) >= 0)
				copy_attr(c->nonce, sizeof(c->nonce), v, l);
			derive_key(c, g);
			if (c->state == ST_ALLOC0)
				c->state = ST_ALLOC;
			c->tries = 0;
			build(c, g);
			csend(c);
			return 0;
		}
		if (++*errors <= 5)
			fprintf(stderr, "flood: state %d: error %d\n", c->state, code);
		c->state = ST_FAIL;
		return 1;
	}
	if (cls != 0x0100)
		return 0;
	c->tries = 0;
	switch (c->state) {
	case ST_ALLOC0:  /* server without auth: fine */
	case ST_ALLOC:
		c->state = ST_PERM;
		break;
	case ST_PERM:
		c->state = ST_CHAN;
		break;
	case ST_CHAN:
		c->state = ST_DONE;
		return 1;
	default:
		return 0;
	}
	build(c, g);
	csend(c);
	return 0;
}

static int open_client(const struct sockaddr_in *to, int bufsz)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in lo = { .sin_family = AF_INET };

	if (fd < 0)
		die("socket");
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&lo, sizeof(lo)) < 0)
		die("bind");
	if (bufsz) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	}
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0)
		die("connect");
	return fd;
}

/*
 * Runs the four-step sequence on n clients with at most window in flight.
 * Returns the number completed; *secs the wall time.
 */
static int allocate_all(struct client *cl, int n, int window, const struct cfg *g,
			double *secs)
{
	int ep = epoll_create1(0), next = 0, active = 0, done = 0, failed = 0;
	int errors = 0, i;
	struct epoll_event evs[256];
	uint8_t buf[MAXPKT];
	double t0 = now(), deadline = t0 + 120 + n / 100.0, last_scan = t0;
	double last_progress = t0;
	int last_count = 0;

	if (ep < 0)
		die("epoll");
	while (done + failed < n && now() < deadline) {
		while (active < window && next < n) {
			struct client *c = &cl[next];
			struct epoll_event e = { .events = EPOLLIN, .data.u32 = next };
			c->fd = open_client(&g->server, 0);
			if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
				die("epoll_ctl");
			c->state = ST_ALLOC0;
			build(c, g);
			csend(c);
			active++;
			next++;
		}
		int k = epoll_wait(ep, evs, 256, 50);
		for (i = 0; i < k; i++) {
			struct client *c = &cl[evs[i].data.u32];
			ssize_t r;
			int guard;
			for (guard = 0; guard < 8; guard++) {
				r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (r <= 0)
					break;
				if (c->state == ST_DONE || c->state == ST_FAIL)
					continue;
				if (on_response(c, g, buf, r, &errors)) {
					active--;
					if (c->state == ST_DONE)
						done++;
					else
						failed++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				}
			}
		}
		double t = now();
		if (done + failed != last_count) {
			last_count = done + failed;
			last_progress = t;
		} else if (t - last_progress > 5) {
			fprintf(stderr, "flood: no progress for 5 s, giving up\n");
			break;
		}
		if (t - last_scan > 0.1) {  /* retransmit after 500 ms, 6 tries */
			last_scan = t;
			for (i = 0; i < next; i++) {
				struct client *c = &cl[i];
				if (c->state == ST_DONE || c->state == ST_FAIL ||
				    t - c->sent_at < 0.5)
					continue;
				if (++c->tries > 6) {
					c->state = ST_FAIL;
					failed++;
					active--;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					continue;
				}
				csend(c);
			}
		}
	}
	*secs = now() - t0;
	close(ep);
	if (failed || done < n)
		fprintf(stderr, "flood: %d of %d allocation sequences failed\n",
			n - done, n);
	return done;
}

static int open_sink(struct sockaddr_in *addr, int port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), sz = 64 << 20;
	socklen_t sl = sizeof(*addr);

	if (fd < 0)
		die("socket");
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr->sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0)
		die("bind sink");
	getsockname(fd, (struct sockaddr *)addr, &sl);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	return fd;
}

/* ---- rate search ---- */

struct sink {
	int fd;
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	uint8_t buf[BATCH][MAXPKT];
};

static long sink_drain(struct sink *s)
{
	long got = 0;
	int i, n;

	for (i = 0; i < 100000; i++) {
		n = recvmmsg(s->fd, s->m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

struct trial {
	double offered, sent_rate, recv_rate, loss, cpu;
	long sent, recv;
};

/*
 * Offer `rate` datagrams/s for secs over the client sockets, round robin,
 * BATCH per sendmmsg call on one socket.  Counts what the sink gets until
 * 300 ms after the last send.
 */
static void run_trial(int *fds, int nfds, struct sink *s, const uint8_t *pkt,
		      size_t plen, double rate, double secs, int pid,
		      struct trial *res)
{
	struct mmsghdr m[BATCH];
	struct iovec iov = { (void *)pkt, plen };
	long sent = 0, recv = 0, want;
	double t0, t, cpu0, end;
	int i, cur = 0, chunk;

	for (i = 0; i < BATCH; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	sink_drain(s);
	cpu0 = proc_cpu(pid);
	t0 = now();
	end = t0 + secs;
	/* chunk: how many datagrams one socket gets in a row */
	chunk = rate / nfds / 2000;
	if (chunk < 1)
		chunk = 1;
	if (chunk > BATCH)
		chunk = BATCH;
	while ((t = now()) < end) {
		want = (long)((t - t0) * rate) - sent;
		if (want <= 0) {
			recv += sink_drain(s);
			if ((long)((now() - t0) * rate) - sent <= 0) {
				struct timespec ts = { 0, 50000 };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		/* send at most a few batches before draining the sink again */
		for (i = 0; i < 8 && want > 0; i++) {
			int k = want < chunk ? want : chunk;
			int r = sendmmsg(fds[cur], m, k, MSG_DONTWAIT);
			if (r > 0) {
				sent += r;
				want -= r;
			} else if (r < 0 && errno != EAGAIN && errno != ENOBUFS &&
				   errno != ECONNREFUSED) {
				die("sendmmsg");
			}
			if (++cur == nfds)
				cur = 0;
		}
		recv += sink_drain(s);
	}
	double send_secs = now() - t0;
	double drain_end = now() + 0.3;
	while (now() < drain_end) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		poll(&p, 1, 20);
		recv += sink_drain(s);
	}
	res->cpu = proc_cpu(pid) - cpu0;
	res->offered = rate;
	res->sent = sent;
	res->recv = recv;
	res->sent_rate = sent / send_secs;
	res->recv_rate = recv / send_secs;
	res->loss = sent ? 1.0 - (double)recv / sent : 1;
	if (res->loss < 0)
		res->loss = 0;
	printf("trial offered=%.0f sent=%ld recv=%ld sent_rate=%.0f recv_rate=%.0f loss=%.4f server_cpu=%.2f\n",
	       rate, sent, recv, res->sent_rate, res->recv_rate, res->loss, res->cpu);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr, "usage: flood alloc|rate -s ADDR:PORT [options] (see flood.c)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct cfg g = { .user = "bench", .pass = "bench" };
	const char *mode;
	int sink_port = 0, n = 100, window = 64, payload = 100, raw = 0, steps = 10, i;
	double secs = 2, start_rate = 20000, max_rate = 2e6, hold = 0;
	struct rlimit rl = { 65536, 65536 };

	if (argc < 2)
		usage();
	mode = argv[1];
	memset(&g.server, 0, sizeof(g.server));
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--raw")) { raw = 1; continue; }
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-s")) { if (parse_addr(v, &g.server)) usage(); }
		else if (!strcmp(a, "-u")) g.user = v;
		else if (!strcmp(a, "-w")) g.pass = v;
		else if (!strcmp(a, "-N")) n = atoi(v);
		else if (!strcmp(a, "-W")) window = atoi(v);
		else if (!strcmp(a, "-l")) payload = atoi(v);
		else if (!strcmp(a, "-d")) secs = atof(v);
		else if (!strcmp(a, "-R")) start_rate = atof(v);
		else if (!strcmp(a, "-M")) max_rate = atof(v);
		else if (!strcmp(a, "-i")) steps = atoi(v);
		else if (!strcmp(a, "-P")) g.server_pid = atoi(v);
		else if (!strcmp(a, "-H")) hold = atof(v);
		else if (!strcmp(a, "-k")) sink_port = atoi(v);
		else usage();
	}
	if (!g.server.sin_port || n < 1 || n > 60000 || payload < 1 ||
	    payload > 1400 || steps < 1 || steps > 30 || secs <= 0 || secs > 60)
		usage();
	setrlimit(RLIMIT_NOFILE, &rl);
	rng_state ^= (uint64_t)getpid() << 20 ^ (uint64_t)(now() * 1e9);

	struct sink *sk = calloc(1, sizeof(*sk));
	struct client *cl = calloc(n, sizeof(*cl));
	if (!sk || !cl)
		die("calloc");
	sk->fd = open_sink(&g.sink, sink_port);
	for (i = 0; i < BATCH; i++) {
		sk->iov[i].iov_base = sk->buf[i];
		sk->iov[i].iov_len = MAXPKT;
		sk->m[i].msg_hdr.msg_iov = &sk->iov[i];
		sk->m[i].msg_hdr.msg_iovlen = 1;
	}

	if (!strcmp(mode, "alloc")) {
		long rss0 = proc_rss_kib(g.server_pid), rss1;
		double cpu0 = proc_cpu(g.server_pid), t;
		int done = allocate_all(cl, n, window, &g, &t);
		double cpu = proc_cpu(g.server_pid) - cpu0;
		/* let the server settle (timers, lazily freed buffers) */
		usleep(500000);
		rss1 = proc_rss_kib(g.server_pid);
		printf("allocations=%d of %d\nseconds=%.3f\nrate=%.1f\n", done, n, t,
		       done / t);
		printf("server_cpu=%.3f\nrss_before_kib=%ld\nrss_after_kib=%ld\n",
		       cpu, rss0, rss1);
		if (done > 0)
			printf("rss_per_alloc_bytes=%.0f\n",
			       (rss1 - rss0) * 1024.0 / done);
		fflush(stdout);
		if (hold > 0)
			usleep((useconds_t)(hold * 1e6));
		return done == n ? 0 : 1;
	}
	if (strcmp(mode, "rate"))
		usage();

	/* the sockets that carry the flood */
	int *fds = calloc(n, sizeof(int));
	if (!fds)
		die("calloc");
	if (raw) {
		for (i = 0; i < n; i++)
			fds[i] = open_client(&g.server, 4 << 20);
	} else {
		double t;
		int done = allocate_all(cl, n, window, &g, &t);
		if (done < n)
			return 1;
		int sz = 4 << 20;
		for (i = 0; i < n; i++) {
			fds[i] = cl[i].fd;
			setsockopt(fds[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz));
		}
	}
	uint8_t *pkt = calloc(1, 4 + payload);
	pkt[0] = 0x40;
	pkt[1] = 0x00;
	put16(pkt + 2, payload);
	for (i = 0; i < payload; i++)
		pkt[4 + i] = 'a' + i % 26;
	size_t plen = 4 + payload;

	/* warm up: short trial at a low rate */
	struct trial t, best = { 0 };
	run_trial(fds, n, sk, pkt, plen, start_rate / 4, 0.5, g.server_pid, &t);
	double lo = 0, hi = 0, r = start_rate;
	int k;
	for (k = 0; k < steps; k++) {
		run_trial(fds, n, sk, pkt, plen, r, secs, g.server_pid, &t);
		/* the trial counts only when we really offered the rate; a failed
		 * one is tried once more, as a host's hiccup can spoil one trial */
		int ok = t.loss < 0.01 && t.sent_rate > 0.97 * r;
		if (!ok) {
			usleep(200000);
			run_trial(fds, n, sk, pkt, plen, r, secs, g.server_pid, &t);
			ok = t.loss < 0.01 && t.sent_rate > 0.97 * r;
		}
		if (ok) {
			if (t.recv_rate > best.recv_rate)
				best = t;
			lo = r;
		} else {
			hi = r;
		}
		if (!hi)
			r = r * 2 > max_rate ? max_rate : r * 2;
		else
			r = (lo + hi) / 2;
		if (hi && lo && (hi - lo) / hi < 0.04)
			break;
		if (!hi && lo >= max_rate)
			break;
		usleep(200000);
	}
	printf("best_offered=%.0f\nbest_rate=%.0f\nbest_loss=%.4f\n",
	       best.offered, best.recv_rate, best.loss);
	if (best.recv)
		printf("server_cpu_per_100k=%.3f\n", best.cpu * 1e5 / best.recv);
	printf("limit_hint=%s\n", hi ? "loss" : "max-rate");
	return 0;
}
