/*
 * fuzz_turn — libFuzzer target for the whole TURN request path: requests
 * in through the network seam (turn/engine.h), responses and relay actions out,
 * with clocks the harness controls (the engine fixture it shares with
 * tests/unit/turn: tests/lib/turn_fixture.h).
 *
 * The input is a short program (at most 64 operations; tests/fuzz/
 * make-turn-seeds.py writes them).  Each operation starts with one byte
 * that selects it (modulo 12), then takes the bytes it needs (missing
 * bytes read as 0):
 *
 *   0-2  request  METHOD CRED FLAGS NATTR ATTR...
 *                 a STUN request the harness builds: the attributes the
 *                 input describes (see put_attr), then USERNAME (or
 *                 USERHASH), REALM, NONCE, PASSWORD-ALGORITHM(S) for the
 *                 credential chosen and a correct MESSAGE-INTEGRITY (or
 *                 -SHA256) with its key; FLAGS may leave it unsigned,
 *                 corrupt the integrity, drop the nonce, change the realm,
 *                 add FINGERPRINT or sane default attributes.
 *   3    raw      LEN BYTES       bytes handed to srv_input() as they are
 *   4    chan     CHAN LEN BYTES  a ChannelData frame (padded on TCP)
 *   5    send     PEER FLAGS LEN BYTES  a Send indication
 *   6    clock    N               both clocks forward, then turn_tick()
 *   7    client   N               the next input comes from client N%4
 *                                 (two IPv4 ports of one address, another
 *                                 IPv4 address, an IPv6 address)
 *   8    transport N              UDP, TCP connection A or B, or close the
 *                                 current TCP connection
 *   9    peer     WHICH LEN BYTES a datagram from a harness peer socket to
 *                                 a relayed address the engine gave us,
 *                                 then one turn of the event loop
 *   10   again                    retransmit the last request built
 *   11   nonce                    an unsigned Refresh: the 401's nonce
 *                                 is kept for this client
 *
 * The nonce of each client is taken from the 401/438 answers the fake
 * transport records (parsed with stun_parse); before the first signed
 * request of a client the harness asks for one.
 *
 * Engine, relay pool and allocations live for one input: srv_free() and
 * relay_pool_free() (fixture_engine_stop) end every allocation and
 * reservation, so the port
 * range (100 ports) never runs out.  Configuration, credentials and peer
 * sockets are made once per process.
 *
 * Safety: the relayed sockets are real.  The configuration denies every
 * peer (0.0.0.0/0, ::/0) except 127.0.0.0/8 and ::1, and the harness wraps
 * sendto(): a datagram to anything but loopback aborts — the engine let
 * through a peer its configuration denies.
 *
 * Other checks (abort on failure): everything sent to a client parses (as
 * STUN, with a good FINGERPRINT when it has one, or as ChannelData) and
 * goes to one of our clients from one of our local addresses; successful
 * TURN responses carry MESSAGE-INTEGRITY; relayed addresses are loopback
 * inside relay-ports; after the connections close no allocation, no quota
 * count and no descriptor is left open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "auth/auth.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/net.h"
#include "turn/alloc.h"
#include "turn/ports.h"
#include "turn/engine.h"
#include "turn/stats.h"
#include "stun/stun.h"
#include "../../lib/turn_fixture.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz_turn: check failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

#define REALM "fuzz"
#define PORT_MIN 47100
#define PORT_MAX 47199
#define SECRET "fuzz-secret"
#define MAX_OPS 64
#define NCLIENTS 4
#define NTRANSPORTS 3
#define MAX_RELAYS 16

static const char conf_text[] =
	"relay-ip = 127.0.0.1\n"
	"relay-ip = ::1\n"
	"relay-ports = 47100-47199\n"
	"allow-loopback-peers = yes\n"
	"denied-peer = 0.0.0.0/0\n"
	"denied-peer = ::/0\n"
	"allowed-peer = 127.0.0.0/8\n"
	"allowed-peer = ::1/128\n"
	"user = alice:pw\n"
	"realm = " REALM "\n"
	"auth-secret = " SECRET "\n"
	"strict-expiry = yes\n"
	"user-quota = 4\n"
	"max-bps = 20000\n"
	"max-allocation-lifetime = 3600\n"
	"database = /tmp/ferry-fuzz-turn-unused.db\n";

/* --------------------------------------------------- sendto() guard */

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return memcmp(in6->sin6_addr.s6_addr, mapped, 12) == 0 &&
		       in6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/* Every datagram this process sends with an address goes to loopback. */
ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t tolen)
{
	typedef ssize_t (*sendto_fn)(int, const void *, size_t, int,
				     const struct sockaddr *, socklen_t);
	static sendto_fn real;

	if (to && !is_loopback(to)) {
		char s[NET_ADDRSTRLEN];
		fprintf(stderr, "fuzz_turn: sendto %s, not loopback: the peer "
			"filter let a denied address through\n",
			net_fmt(to, s, sizeof(s)));
		abort();
	}
	if (!real)
		real = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
	CHECK(real);
	return real(fd, buf, len, flags, to, tolen);
}

/* ------------------------------------------------------------ world */

static struct event_base *base;
static struct auth *auth;
static struct ferry_conf *conf;
static int peer_fd[3] = { -1, -1, -1 };        /* v4, v4, v6 */
static net_addr peer_addr[3];
static net_addr clients[NCLIENTS], local4, local6;
static uint8_t alice_md5[STUN_MD5_LEN], alice_sha256[STUN_SHA256_LEN];
static uint8_t alice_hash[STUN_SHA256_LEN];
static int fd_first;                    /* lowest free descriptor at the start */
static int trace;                       /* FUZZ_TURN_TRACE set: log sends */

struct fake_tr {
	struct srv_transport t;
	int closed;                     /* the engine asked to close */
};

static struct fake_tr trs[NTRANSPORTS];

/* -------------------------------------------------- per-input state */

static struct fixture_engine fx;
static int cur_client, cur_tr;
static char nonces[NCLIENTS][AUTH_NONCE_MAX];
static size_t nonce_len[NCLIENTS];
static net_addr relays[MAX_RELAYS];
static size_t nrelays;
static uint8_t resv_token[8];
static int have_token;
static uint8_t last_req[2048];
static size_t last_req_len;
static uint32_t tid_counter;

/* --------------------------------------------------- input cursor */

struct cur {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct cur *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

/* Up to want bytes; *got how many there were. */
static const uint8_t *bytes(struct cur *c, size_t want, size_t *got)
{
	const uint8_t *p = c->p;

	*got = want < c->n ? want : c->n;
	c->p += *got;
	c->n -= *got;
	return p;
}

/* -------------------------------------------------------- addresses */

static const net_addr *cur_local(void)
{
	return net_family(&clients[cur_client]) == AF_INET6 ? &local6 : &local4;
}

/* The peer an attribute names, from one selector byte.  Only loopback
 * peers are allowed by the configuration; the others must be refused. */
static void pick_peer(uint8_t sel, net_addr *out)
{
	uint16_t p0 = net_port(&peer_addr[0].u.sa);

	switch (sel % 12) {
	case 0: case 1: *out = peer_addr[0]; break;
	case 2: *out = peer_addr[1]; break;
	case 3: fixture_addr(out, "127.0.0.2", p0); break;
	case 4:
		if (nrelays)
			*out = relays[(sel / 12) % nrelays];
		else
			*out = peer_addr[0];
		break;
	case 5: *out = peer_addr[2]; break;
	case 6: fixture_addr(out, "::ffff:127.0.0.1", p0); break;
	case 7: fixture_addr(out, "192.0.2.1", 9); break;        /* TEST-NET-1 */
	case 8: fixture_addr(out, "2001:db8::1", 9); break;      /* documentation */
	case 9: fixture_addr(out, (sel & 0x80) ? "0.0.0.0" : "::", p0); break;
	case 10: fixture_addr(out, "127.0.0.1", (uint16_t)(PORT_MIN + (sel / 12) % 100)); break;
	default: fixture_addr(out, (sel & 0x80) ? "255.255.255.255" : "224.0.0.1", p0); break;
	}
}

/* --------------------------------------------------- the transport */

static int client_index(const net_addr *to)
{
	for (int i = 0; i < NCLIENTS; i++)
		if (net_equal(&to->u.sa, &clients[i].u.sa))
			return i;
	return -1;
}

static void learn_relays(const struct stun_msg *m)
{
	const struct stun_attr *a = stun_find(m, STUN_ATTR_XOR_RELAYED_ADDRESS);

	for (; a; a = stun_find_next(m, a)) {
		struct sockaddr_storage ss;
		uint16_t port;

		CHECK(stun_attr_xor_addr(a, m->tid, &ss) == 0);
		CHECK(is_loopback((struct sockaddr *)&ss));
		port = net_port((struct sockaddr *)&ss);
		CHECK(port >= PORT_MIN && port <= PORT_MAX);
		if (nrelays < MAX_RELAYS)
			net_addr_from_sa(&relays[nrelays++], (struct sockaddr *)&ss);
	}
	a = stun_find(m, STUN_ATTR_RESERVATION_TOKEN);
	if (a && a->len == sizeof(resv_token)) {
		memcpy(resv_token, a->value, sizeof(resv_token));
		have_token = 1;
	}
}

/* Everything the engine sends to a client comes here. */
static int rec_send(struct srv_transport *t, const net_addr *from,
		    const net_addr *to, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct stun_msg m;
	int ci = client_index(to), code;

	CHECK(ci >= 0);
	CHECK(net_equal(&from->u.sa, &local4.u.sa) || net_equal(&from->u.sa, &local6.u.sa));
	CHECK(len >= 4 && len <= STUN_MAX_MSG_LEN + 4);
	if ((b[0] & 0xC0) == 0x40) {
		struct stun_chandata cd;
		CHECK(stun_chandata_parse(b, len, &cd) == 0);
		if (trace)
			fprintf(stderr, "-> client %d: ChannelData 0x%04x, %u bytes\n",
				ci, cd.channel, (unsigned)cd.len);
		return 0;
	}
	CHECK(stun_parse(b, len, &m) == 0);
	if (m.fp_off >= 0)
		CHECK(stun_check_fingerprint(&m) == 0);
	if (trace) {
		code = 0;
		(void)stun_get_error(&m, &code, NULL, NULL);
		fprintf(stderr, "-> client %d: %s %s %d\n", ci,
			stun_method_name(m.method), stun_class_name(m.cls), code);
	}
	if (m.cls == STUN_CLASS_ERROR && stun_get_error(&m, &code, NULL, NULL) == 0 &&
	    (code == 401 || code == 438)) {
		const char *s;
		size_t n;
		if (stun_get_string(&m, STUN_ATTR_NONCE, &s, &n) == 0 &&
		    n < AUTH_NONCE_MAX) {
			memcpy(nonces[ci], s, n);
			nonce_len[ci] = n;
		}
		CHECK(stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY) == NULL);
	}
	if (m.cls == STUN_CLASS_SUCCESS && m.method != STUN_METHOD_BINDING)
		CHECK(stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY) ||
		      stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
	if (m.cls == STUN_CLASS_SUCCESS && m.method == STUN_METHOD_ALLOCATE)
		learn_relays(&m);
	return 0;
}

static void rec_close(struct srv_transport *t)
{
	((struct fake_tr *)t)->closed = 1;
}

static void rec_busy(struct srv_transport *t, int busy)
{
	(void)t;
	CHECK(busy == 0 || busy == 1);
}

/* The listener's part: a closed stream ends its allocations. */
static void close_transport(int i)
{
	turn_conn_closed(fx.turn, &trs[i].t);
	trs[i].closed = 0;
}

static void input(const uint8_t *buf, size_t len)
{
	struct fake_tr *t = &trs[cur_tr];
	int rc = srv_input(fx.srv, &t->t, cur_local(), &clients[cur_client], buf, len);

	if (t->t.kind == SRV_UDP) {
		CHECK(rc == 0);
		return;
	}
	if (rc < 0 || t->closed)
		close_transport(cur_tr);
}

/* ----------------------------------------------------------- requests */

static void start(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type)
{
	uint8_t tid[STUN_TID_LEN];

	tid_counter++;
	memset(tid, 0x5A, sizeof(tid));
	memcpy(tid, &tid_counter, sizeof(tid_counter));
	CHECK(stun_build_init(b, buf, cap, type, tid) == 0);
}

static void ensure_nonce(void)
{
	uint8_t buf[64];
	struct stun_builder b;

	if (nonce_len[cur_client])
		return;
	start(&b, buf, sizeof(buf), stun_type(STUN_METHOD_REFRESH, STUN_CLASS_REQUEST));
	input(buf, b.len);
}

/* One attribute, described by the input. */
static void put_attr(struct stun_builder *b, struct cur *c)
{
	static const uint16_t known[] = {
		STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_USERNAME, STUN_ATTR_MESSAGE_INTEGRITY,
		STUN_ATTR_ERROR_CODE, STUN_ATTR_UNKNOWN_ATTRIBUTES, STUN_ATTR_CHANNEL_NUMBER,
		STUN_ATTR_LIFETIME, STUN_ATTR_XOR_PEER_ADDRESS, STUN_ATTR_DATA,
		STUN_ATTR_REALM, STUN_ATTR_NONCE, STUN_ATTR_XOR_RELAYED_ADDRESS,
		STUN_ATTR_REQUESTED_ADDRESS_FAMILY, STUN_ATTR_EVEN_PORT,
		STUN_ATTR_REQUESTED_TRANSPORT, STUN_ATTR_DONT_FRAGMENT,
		STUN_ATTR_MESSAGE_INTEGRITY_SHA256, STUN_ATTR_PASSWORD_ALGORITHM,
		STUN_ATTR_USERHASH, STUN_ATTR_XOR_MAPPED_ADDRESS,
		STUN_ATTR_RESERVATION_TOKEN, STUN_ATTR_PRIORITY, STUN_ATTR_USE_CANDIDATE,
		STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, STUN_ATTR_ADDRESS_ERROR_CODE,
		STUN_ATTR_ICMP, STUN_ATTR_PASSWORD_ALGORITHMS, STUN_ATTR_ALTERNATE_DOMAIN,
		STUN_ATTR_SOFTWARE, STUN_ATTR_ALTERNATE_SERVER, STUN_ATTR_FINGERPRINT,
		STUN_ATTR_ICE_CONTROLLED, STUN_ATTR_ICE_CONTROLLING,
	};
	static const uint32_t lifetimes[] = { 0, 1, 30, 599, 600, 3600, 3601, 0xFFFFFFFFu };
	uint8_t sel = byte(c), v = byte(c);
	const uint8_t *p;
	size_t n;
	net_addr peer;

	switch (sel % 14) {
	case 0:
		stun_build_u8(b, STUN_ATTR_REQUESTED_TRANSPORT,
			      (v & 1) ? v : STUN_TRANSPORT_UDP);
		break;
	case 1:
		stun_build_u32(b, STUN_ATTR_LIFETIME,
			       (v & 0x80) ? (uint32_t)(v & 0x7F) * 60u : lifetimes[v % 8]);
		break;
	case 2:
		pick_peer(v, &peer);
		stun_build_xor_addr(b, STUN_ATTR_XOR_PEER_ADDRESS, &peer.u.sa);
		break;
	case 3: {
		static const uint16_t odd[] = { 0x3FFF, 0x7FFF, 0x8000, 0x0000 };
		stun_build_u16(b, STUN_ATTR_CHANNEL_NUMBER,
			       (v & 0x80) ? odd[v % 4] : (uint16_t)(0x4000 + v % 4));
		break;
	}
	case 4:
		stun_build_u8(b, STUN_ATTR_EVEN_PORT, v);
		break;
	case 5:
		if ((v & 1) && have_token) {
			stun_build_attr(b, STUN_ATTR_RESERVATION_TOKEN, resv_token,
					sizeof(resv_token));
		} else {
			p = bytes(c, 8, &n);
			stun_build_attr(b, STUN_ATTR_RESERVATION_TOKEN, p, n);
		}
		break;
	case 6:
		stun_build_u8(b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
			      (v & 0x80) ? v : (uint8_t)(1 + v % 2));
		break;
	case 7:
		stun_build_u8(b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
			      (v & 0x80) ? v : (uint8_t)(1 + v % 2));
		break;
	case 8:
		stun_build_attr(b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
		break;
	case 9:
		p = bytes(c, v, &n);
		stun_build_attr(b, STUN_ATTR_DATA, p, n);
		break;
	case 10: {                          /* any type */
		uint16_t type = (uint16_t)(v << 8 | byte(c));
		p = bytes(c, byte(c), &n);
		stun_build_attr(b, type, p, n);
		break;
	}
	case 11:                            /* a known type, any value */
		p = bytes(c, byte(c) % 40, &n);
		stun_build_attr(b, known[v % (sizeof(known) / sizeof(known[0]))], p, n);
		break;
	case 12:
		stun_build_attr(b, STUN_ATTR_SOFTWARE, "fuzz", 4);
		break;
	default:
		stun_build_u32(b, STUN_ATTR_PRIORITY, v);
		break;
	}
}

struct cred {
	char name[64];
	uint8_t md5[STUN_MD5_LEN], sha256[STUN_SHA256_LEN];
	int sha256_key;                     /* PASSWORD-ALGORITHM SHA-256 */
	int algorithms;                     /* send PASSWORD-ALGORITHM(S) */
};

static void ephemeral(struct cred *k, long expiry, const char *user)
{
	char pw[29];

	snprintf(k->name, sizeof(k->name), "%ld:%s", expiry, user);
	auth_ephemeral_password(SECRET, strlen(SECRET), k->name, strlen(k->name), pw);
	stun_key_md5(k->name, strlen(k->name), REALM, strlen(REALM), pw, strlen(pw), k->md5);
	stun_key_sha256(k->name, strlen(k->name), REALM, strlen(REALM), pw, strlen(pw),
			k->sha256);
}

static void pick_cred(uint8_t sel, struct cred *k)
{
	memset(k, 0, sizeof(*k));
	switch (sel % 9) {
	default:
		strcpy(k->name, "alice");
		memcpy(k->md5, alice_md5, sizeof(k->md5));
		memcpy(k->sha256, alice_sha256, sizeof(k->sha256));
		k->algorithms = sel % 9 >= 2;
		k->sha256_key = sel % 9 == 3;
		break;
	case 4: ephemeral(k, (long)fixture_wall_now + 86400, "eve"); break;
	case 5: ephemeral(k, (long)fixture_wall_now + 20, "eve"); break;     /* strict-expiry */
	case 6: ephemeral(k, 1000, "eve"); break;                     /* expired */
	case 7: ephemeral(k, (long)fixture_wall_now + 86400, "rev"); break;  /* revoked */
	case 8:
		strcpy(k->name, "mallory");
		stun_key_md5("mallory", 7, REALM, strlen(REALM), "x", 1, k->md5);
		break;
	}
}

enum {
	F_INTEGRITY = 3,       /* 0, 1: MI; 2: MI-SHA256; 3: none */
	F_CORRUPT = 4,
	F_FINGERPRINT = 8,
	F_USERHASH = 16,
	F_NO_NONCE = 32,
	F_BAD_REALM = 64,
	F_DEFAULTS = 128,
};

static void op_request(struct cur *c)
{
	static const uint16_t methods[] = {
		STUN_METHOD_ALLOCATE, STUN_METHOD_REFRESH, STUN_METHOD_CREATE_PERMISSION,
		STUN_METHOD_CHANNEL_BIND, STUN_METHOD_BINDING, STUN_METHOD_ALLOCATE,
		STUN_METHOD_CREATE_PERMISSION, STUN_METHOD_CHANNEL_BIND,
		STUN_METHOD_SEND, 0x00A,
	};
	static const uint8_t algs[8] = { 0, 1, 0, 0, 0, 2, 0, 0 };
	uint8_t msel = byte(c), csel = byte(c), flags = byte(c), nattrs = byte(c) % 8;
	uint16_t method = methods[msel % 10];
	const uint8_t *key;
	size_t keylen;
	struct stun_builder b;
	struct cred k;
	net_addr peer;

	pick_cred(csel, &k);
	if ((flags & F_INTEGRITY) != 3)
		ensure_nonce();
	start(&b, last_req, sizeof(last_req), stun_type(method, STUN_CLASS_REQUEST));
	if (flags & F_DEFAULTS) {
		pick_peer(msel >> 4, &peer);
		if (method == STUN_METHOD_ALLOCATE)
			stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
		if (method == STUN_METHOD_CHANNEL_BIND)
			stun_build_u16(&b, STUN_ATTR_CHANNEL_NUMBER,
				       (uint16_t)(0x4000 + (msel >> 4) % 4));
		if (method == STUN_METHOD_CHANNEL_BIND ||
		    method == STUN_METHOD_CREATE_PERMISSION)
			stun_build_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer.u.sa);
	}
	while (nattrs--)
		put_attr(&b, c);
	if ((flags & F_INTEGRITY) != 3) {
		if (flags & F_USERHASH) {
			uint8_t h[STUN_SHA256_LEN];
			if (strcmp(k.name, "alice") == 0)
				memcpy(h, alice_hash, sizeof(h));
			else
				stun_userhash(k.name, strlen(k.name), REALM, strlen(REALM), h);
			stun_build_attr(&b, STUN_ATTR_USERHASH, h, sizeof(h));
		} else {
			stun_build_attr(&b, STUN_ATTR_USERNAME, k.name, strlen(k.name));
		}
		if (flags & F_BAD_REALM)
			stun_build_attr(&b, STUN_ATTR_REALM, "other", 5);
		else
			stun_build_attr(&b, STUN_ATTR_REALM, REALM, strlen(REALM));
		if (!(flags & F_NO_NONCE))
			stun_build_attr(&b, STUN_ATTR_NONCE, nonces[cur_client],
					nonce_len[cur_client]);
		if (k.algorithms) {
			uint8_t alg[4] = { 0, k.sha256_key ? 2 : 1, 0, 0 };
			stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHMS, algs, sizeof(algs));
			stun_build_attr(&b, STUN_ATTR_PASSWORD_ALGORITHM, alg, sizeof(alg));
		}
		key = k.sha256_key ? k.sha256 : k.md5;
		keylen = k.sha256_key ? sizeof(k.sha256) : sizeof(k.md5);
		if ((flags & F_INTEGRITY) == 2)
			stun_build_integrity_sha256(&b, key, keylen);
		else
			stun_build_integrity(&b, key, keylen);
		if ((flags & F_CORRUPT) && b.len > 24)
			last_req[b.len - 1 - csel % 8] ^= 0x01;
	}
	if (flags & F_FINGERPRINT)
		stun_build_fingerprint(&b);
	last_req_len = b.len;
	input(last_req, last_req_len);
}

static void op_raw(struct cur *c)
{
	size_t n;
	const uint8_t *p = bytes(c, byte(c), &n);
	uint8_t *copy = malloc(n ? n : 1);    /* exact size: ASan sees overreads */

	CHECK(copy);
	memcpy(copy, p, n);
	input(copy, n);
	free(copy);
}

static void op_chandata(struct cur *c)
{
	uint8_t frame[4 + 255 + 3];
	uint8_t sel = byte(c);
	uint16_t chan = (sel & 0x80) ? (uint16_t)(byte(c) << 8 | byte(c))
				     : (uint16_t)(0x4000 + sel % 4);
	size_t n, len;
	const uint8_t *p = bytes(c, byte(c), &n);

	stun_chandata_header(frame, chan, (uint16_t)n);
	memcpy(frame + 4, p, n);
	len = 4 + n;
	if (trs[cur_tr].t.kind != SRV_UDP)
		while (len % 4)
			frame[len++] = 0;
	input(frame, len);
}

static void op_send(struct cur *c)
{
	uint8_t buf[512];
	struct stun_builder b;
	uint8_t psel = byte(c), flags = byte(c);
	net_addr peer;
	size_t n;
	const uint8_t *p;

	pick_peer(psel, &peer);
	start(&b, buf, sizeof(buf), stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION));
	if (!(flags & 1))
		stun_build_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer.u.sa);
	if (flags & 2)
		stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	p = bytes(c, byte(c), &n);
	if (!(flags & 4))
		stun_build_attr(&b, STUN_ATTR_DATA, p, n);
	if (flags & 8)
		stun_build_fingerprint(&b);
	input(buf, b.len);
}

static void pump(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void op_clock(struct cur *c)
{
	uint8_t v = byte(c);
	uint64_t secs = v < 240 ? v : (uint64_t)(v - 239) * 300;

	fixture_mono_now += secs * 1000 + (v & 1) * 999;
	fixture_wall_now += (time_t)secs;
	turn_tick(fx.turn);
	if (v & 2)
		turn_recheck_credentials(fx.turn);
}

static void op_transport(struct cur *c)
{
	uint8_t v = byte(c) % 4;

	if (v < NTRANSPORTS)
		cur_tr = v;
	else if (cur_tr != 0)
		close_transport(cur_tr);
}

static void op_peer(struct cur *c)
{
	uint8_t sel = byte(c);
	size_t n;
	const uint8_t *p = bytes(c, byte(c), &n);
	const net_addr *to;
	int fd;

	if (!nrelays)
		return;
	to = &relays[sel % nrelays];
	fd = net_family(to) == AF_INET6 ? peer_fd[2] : peer_fd[(sel >> 4) & 1];
	(void)sendto(fd, p, n, MSG_DONTWAIT, &to->u.sa, to->len);
	pump();
}

/* ---------------------------------------------------------- lifecycle */

static void errfn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "fuzz_turn: conf: %s\n", msg);
}

static void init_once(void)
{
	trace = getenv("FUZZ_TURN_TRACE") != NULL;
	log_set_level(trace ? LOG_LVL_DEBUG : -1);  /* quiet: not even errors */
	conf = conf_load_string("fuzz_turn.conf", conf_text, errfn, NULL);
	CHECK(conf);
	base = event_base_new();
	auth = fixture_auth_new(conf, SECRET, "rev");  /* alice:pw from conf */
	CHECK(base && auth);

	peer_fd[0] = fixture_udp_socket("127.0.0.1", &peer_addr[0]);
	peer_fd[1] = fixture_udp_socket("127.0.0.1", &peer_addr[1]);
	peer_fd[2] = fixture_udp_socket("::1", &peer_addr[2]);
	CHECK(peer_fd[0] >= 0 && peer_fd[1] >= 0);
	if (peer_fd[2] < 0) {               /* no IPv6: its peer is IPv4 */
		peer_fd[2] = peer_fd[0];
		peer_addr[2] = peer_addr[0];
	}
	fixture_addr(&clients[0], "127.0.0.1", 40000);  /* never bound: fake sends */
	fixture_addr(&clients[1], "127.0.0.1", 40001);
	fixture_addr(&clients[2], "192.0.2.10", 5000);
	fixture_addr(&clients[3], "2001:db8::10", 6000);
	fixture_addr(&local4, "127.0.0.1", 3478);
	fixture_addr(&local6, "::1", 3478);
	stun_key_md5("alice", 5, REALM, strlen(REALM), "pw", 2, alice_md5);
	stun_key_sha256("alice", 5, REALM, strlen(REALM), "pw", 2, alice_sha256);
	stun_userhash("alice", 5, REALM, strlen(REALM), alice_hash);
	for (int i = 0; i < NTRANSPORTS; i++) {
		trs[i].t.kind = i == 0 ? SRV_UDP : SRV_TCP;
		trs[i].t.send = rec_send;
		trs[i].t.close = rec_close;
		trs[i].t.set_busy = rec_busy;
	}
}

/* Descriptors are allocated lowest first, so all an input opens lie at or
 * above the lowest free one at its start; none may still be open at its
 * end, except those that were open before (inherited ones, say).  256 is
 * more than an input can open (12 allocations, 2 relays and a
 * reservation each). */
#define FD_WINDOW 256
static unsigned char fd_was_open[FD_WINDOW];

static void note_open_fds(void)
{
	int fd = dup(0);

	CHECK(fd >= 0);
	close(fd);
	fd_first = fd;
	for (int i = 0; i < FD_WINDOW; i++)
		fd_was_open[i] = fcntl(fd_first + i, F_GETFD) != -1;
}

static void check_no_fd_left(void)
{
	for (int i = 0; i < FD_WINDOW; i++)
		if (!fd_was_open[i] && fcntl(fd_first + i, F_GETFD) != -1) {
			fprintf(stderr, "fuzz_turn: descriptor %d left open\n",
				fd_first + i);
			abort();
		}
}

static void drain_peers(void)
{
	char buf[2048];

	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 256 && recv(peer_fd[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0; k++)
			;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct cur c = { data, size };

	if (!ready) {
		init_once();
		ready = 1;
	}
	note_open_fds();
	fixture_mono_now = 1000000;
	fixture_wall_now = 1700000000;
	memset(nonce_len, 0, sizeof(nonce_len));
	nrelays = 0;
	have_token = 0;
	last_req_len = 0;
	cur_client = cur_tr = 0;
	for (int i = 0; i < NTRANSPORTS; i++)
		trs[i].closed = 0;

	CHECK(fixture_engine_start(&fx, conf, base, auth) == 0);

	for (int ops = 0; ops < MAX_OPS && c.n; ops++) {
		switch (byte(&c) % 12) {
		case 0: case 1: case 2: op_request(&c); break;
		case 3: op_raw(&c); break;
		case 4: op_chandata(&c); break;
		case 5: op_send(&c); break;
		case 6: op_clock(&c); break;
		case 7: cur_client = byte(&c) % NCLIENTS; break;
		case 8: op_transport(&c); break;
		case 9: op_peer(&c); break;
		case 10:
			if (last_req_len)
				input(last_req, last_req_len);
			break;
		default:
			nonce_len[cur_client] = 0;
			ensure_nonce();
			break;
		}
		CHECK(turn_count(fx.turn) <= NCLIENTS * NTRANSPORTS);
	}
	pump();

	/* Every connection goes (the UDP "connection" too: its
	 * allocations end the same way), then the engine. */
	for (int i = 0; i < NTRANSPORTS; i++)
		close_transport(i);
	CHECK(turn_count(fx.turn) == 0);
	CHECK(auth_quota_total(auth) == 0);
	fixture_engine_stop(&fx);
	drain_peers();
	check_no_fd_left();
	return 0;
}
