/*
 * Unit tests for the TURN allocation engine (turn/engine.c and the TURN
 * layer of turn/alloc.h), driven through the network seam of
 * turn/engine.h with the engine fixture this test shares with the turn fuzz
 * target (tests/lib/turn_fixture.h): no listening socket, a transport that
 * records what the engine sends to the client, and clocks that only move
 * when the test moves them.  The relayed sockets are real (ferry binds
 * them on 127.0.0.1), and so are the peers: UDP sockets on 127.0.0.1.
 *
 * Timeline (seconds after the Allocate, both clocks moved together unless
 * a test says otherwise):
 *     0  Allocate (600 s), retransmission, CreatePermission peer1
 *   299  peer1's datagrams still reach the client
 *   301  permission expired: dropped;  Refresh (600 s -> 901)
 *   301  ChannelBind 0x4000 -> peer1, data both ways as ChannelData
 *   600  the original lifetime has passed: the Refresh kept it alive
 *   700  CreatePermission peer1 and Refresh (-> 1300)
 *   901  channel expired: Data indications; quarantine refuses rebinding
 *  1201  quarantine over: 0x4000 -> peer2 accepted
 *  1300  turn_tick ends the allocation; its port is free
 *  then  a new Allocate; a nonce 600 s old (wall clock) gets 438.
 */
#include "auth/auth.h"
#include "conf/conf.h"
#include "core/net.h"
#include "turn/alloc.h"
#include "turn/ports.h"
#include "turn/engine.h"
#include "turn/stats.h"
#include "stun/stun.h"
#include "../tap.h"
#include "../../lib/turn_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define REALM "test"
#define PORT_MIN 50000
#define PORT_MAX 50100

/* ------------------------------------------------------------ clocks */

/* Both clocks (the fixture's) to t0 + rel_ms milliseconds, wall by whole
 * seconds elapsed. */
static uint64_t t0;                             /* mono at the Allocate */
static void set_time(uint64_t rel_ms)
{
	uint64_t target = t0 + rel_ms;

	fixture_wall_now += (time_t)(target / 1000 - fixture_mono_now / 1000);
	fixture_mono_now = target;
}

/* ------------------------------------------------------ the transport */

struct rec {
	struct srv_transport t;
	int nsent;
	uint8_t last[70000];
	size_t last_len;
	net_addr last_to, last_from;
};

static int rec_send(struct srv_transport *t, const net_addr *local,
		    const net_addr *to, const void *buf, size_t len)
{
	struct rec *r = (struct rec *)t;

	if (len > sizeof(r->last))
		return -1;
	memcpy(r->last, buf, len);
	r->last_len = len;
	r->last_to = *to;
	r->last_from = *local;
	r->nsent++;
	return 0;
}

/* --------------------------------------------------------- the world */

static struct event_base *base;
static struct auth *auth;
static struct ferry_conf *conf;
static struct fixture_engine fx;
static struct rec tr;
static net_addr client, local;
static uint8_t key[STUN_MD5_LEN];
static char nonce[AUTH_NONCE_MAX];
static size_t nonce_len;

/* ------------------------------------------------------ requests */

struct req {
	uint8_t buf[1024];
	struct stun_builder b;
	uint8_t tid[STUN_TID_LEN];
};

static uint32_t tid_counter;

static void req_init(struct req *q, uint16_t method)
{
	memset(q->tid, 0xA5, sizeof(q->tid));
	tid_counter++;
	memcpy(q->tid, &tid_counter, sizeof(tid_counter));
	stun_build_init(&q->b, q->buf, sizeof(q->buf),
			stun_type(method, STUN_CLASS_REQUEST), q->tid);
}

/* USERNAME, REALM, NONCE and MESSAGE-INTEGRITY, with the nonce held. */
static void req_sign(struct req *q)
{
	stun_build_attr(&q->b, STUN_ATTR_USERNAME, "alice", 5);
	stun_build_attr(&q->b, STUN_ATTR_REALM, REALM, strlen(REALM));
	stun_build_attr(&q->b, STUN_ATTR_NONCE, nonce, nonce_len);
	stun_build_integrity(&q->b, key, sizeof(key));
}

static void peer_attr(struct req *q, const net_addr *peer)
{
	stun_build_xor_addr(&q->b, STUN_ATTR_XOR_PEER_ADDRESS, &peer->u.sa);
}

/* Feed buf to the engine from the client; the parsed answer in *m (which
 * points into tr.last), or -1 when the engine sent nothing. */
static int exchange(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	int before = tr.nsent;

	srv_input(fx.srv, &tr.t, &local, &client, buf, len);
	if (tr.nsent == before)
		return -1;
	return stun_parse(tr.last, tr.last_len, m) == 0 ? 0 : -1;
}

/* The answer's class and code: 0 for success, the ERROR-CODE for an
 * error, -1 for nothing or something else. */
static int send_req(struct req *q, struct stun_msg *m)
{
	int code;

	if (exchange(q->buf, q->b.len, m) != 0 || memcmp(m->tid, q->tid, 12) != 0)
		return -1;
	if (m->cls == STUN_CLASS_SUCCESS)
		return 0;
	if (m->cls == STUN_CLASS_ERROR && stun_get_error(m, &code, NULL, NULL) == 0)
		return code;
	return -1;
}

/* Take the NONCE (and check REALM) of a 401 or 438 answer. */
static int take_nonce(const struct stun_msg *m)
{
	const char *s;
	size_t n;

	if (stun_get_string(m, STUN_ATTR_REALM, &s, &n) != 0 ||
	    n != strlen(REALM) || memcmp(s, REALM, n) != 0)
		return -1;
	if (stun_get_string(m, STUN_ATTR_NONCE, &s, &n) != 0 || n >= sizeof(nonce))
		return -1;
	memcpy(nonce, s, n);
	nonce_len = n;
	return 0;
}

/* A fresh nonce: any TURN request without credentials gets 401. */
static int fresh_nonce(void)
{
	struct req q;
	struct stun_msg m;

	req_init(&q, STUN_METHOD_REFRESH);
	if (send_req(&q, &m) != 401)
		return -1;
	return take_nonce(&m);
}

static int create_permission(const net_addr *peer)
{
	struct req q;
	struct stun_msg m;

	req_init(&q, STUN_METHOD_CREATE_PERMISSION);
	peer_attr(&q, peer);
	req_sign(&q);
	return send_req(&q, &m);
}

static int channel_bind(uint16_t num, const net_addr *peer)
{
	struct req q;
	struct stun_msg m;

	req_init(&q, STUN_METHOD_CHANNEL_BIND);
	stun_build_u16(&q.b, STUN_ATTR_CHANNEL_NUMBER, num);
	peer_attr(&q, peer);
	req_sign(&q);
	return send_req(&q, &m);
}

/* Refresh asking for lifetime seconds; the LIFETIME granted, or -code. */
static long refresh(uint32_t lifetime)
{
	struct req q;
	struct stun_msg m;
	uint32_t got;
	int code;

	req_init(&q, STUN_METHOD_REFRESH);
	stun_build_u32(&q.b, STUN_ATTR_LIFETIME, lifetime);
	req_sign(&q);
	code = send_req(&q, &m);
	if (code < 0)
		return -1;
	if (code != 0)
		return -(long)code;
	if (stun_get_u32(&m, STUN_ATTR_LIFETIME, &got) != 0)
		return -1;
	return got;
}

/* Allocate; 0 with the relayed address in *relay, or the error code. */
static int allocate(net_addr *relay, uint32_t *lifetime, struct req *q,
		    uint8_t *resp, size_t *resp_len)
{
	struct stun_msg m;
	struct sockaddr_storage ss;
	int code;

	req_init(q, STUN_METHOD_ALLOCATE);
	stun_build_u8(&q->b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
	req_sign(q);
	code = send_req(q, &m);
	if (code != 0)
		return code;
	if (stun_check_integrity(&m, key, sizeof(key)) != 0 ||
	    stun_get_xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS, &ss) != 0 ||
	    stun_get_u32(&m, STUN_ATTR_LIFETIME, lifetime) != 0)
		return -1;
	net_addr_from_sa(relay, (struct sockaddr *)&ss);
	if (resp) {
		memcpy(resp, tr.last, tr.last_len);
		*resp_len = tr.last_len;
	}
	return 0;
}

/* ------------------------------------------------------ the data path */

/*
 * Send payload from the peer socket to the relay, then run the event loop
 * until the engine has either sent something to the client or counted a
 * dropped packet (bounded: about 2 s).  Returns 1 delivered (tr.last holds
 * it), 0 dropped, -1 neither happened.
 */
static int peer_to_client(int peer_fd, const net_addr *relay, const char *payload)
{
	int sent0 = tr.nsent, i;
	uint64_t drop0 = stat_get(&fx.stats, ST_RELAY_DROPPED_PACKETS);

	if (sendto(peer_fd, payload, strlen(payload), 0, &relay->u.sa, relay->len) < 0)
		return -1;
	for (i = 0; i < 2000; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (tr.nsent != sent0)
			return 1;
		if (stat_get(&fx.stats, ST_RELAY_DROPPED_PACKETS) != drop0)
			return 0;
		poll(NULL, 0, 1);
	}
	return -1;
}

/* Did the client get payload from peer as a Data indication? */
static int got_data_indication(const net_addr *peer, const char *payload)
{
	struct stun_msg m;
	struct sockaddr_storage ss;
	const struct stun_attr *d;

	if (tr.last_len < 4 || stun_parse(tr.last, tr.last_len, &m) != 0 ||
	    m.method != STUN_METHOD_DATA || m.cls != STUN_CLASS_INDICATION)
		return 0;
	if (!net_equal(&tr.last_to.u.sa, &client.u.sa) ||
	    !net_equal(&tr.last_from.u.sa, &local.u.sa))
		return 0;
	if (stun_get_xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &ss) != 0 ||
	    !net_equal((struct sockaddr *)&ss, &peer->u.sa))
		return 0;
	d = stun_find(&m, STUN_ATTR_DATA);
	return d && d->len == strlen(payload) && memcmp(d->value, payload, d->len) == 0;
}

/* Did the client get payload as ChannelData on channel num? */
static int got_channel_data(uint16_t num, const char *payload)
{
	struct stun_chandata cd;

	if (stun_chandata_parse(tr.last, tr.last_len, &cd) != 0)
		return 0;
	return cd.channel == num && cd.len == strlen(payload) &&
	       memcmp(cd.data, payload, cd.len) == 0 &&
	       net_equal(&tr.last_to.u.sa, &client.u.sa);
}

/* Client -> ChannelData on num; the bytes the peer socket received
 * (0 when none), into buf. */
static ssize_t client_chandata(uint16_t num, const char *payload, int peer_fd,
			       char *buf, size_t cap)
{
	uint8_t frame[256];
	size_t n = strlen(payload);
	struct pollfd p = { .fd = peer_fd, .events = POLLIN };

	stun_chandata_header(frame, num, (uint16_t)n);
	memcpy(frame + 4, payload, n);
	srv_input(fx.srv, &tr.t, &local, &client, frame, 4 + n);
	/* The engine sends synchronously: what was sent is queued on the
	 * loopback socket by now, so a short wait suffices. */
	if (poll(&p, 1, 200) != 1)
		return 0;
	return recv(peer_fd, buf, cap, MSG_DONTWAIT);
}

static void drain(int fd)
{
	char buf[2048];
	int i;

	for (i = 0; i < 100 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

/* ------------------------------------------------------------- tests */

static int setup(void)
{
	static const char text[] =
		"relay-ip = 127.0.0.1\n"
		"allow-loopback-peers = yes\n"
		"relay-ports = 50000-50100\n"
		"user = alice:pw\n"
		"realm = test\n"
		"database = /tmp/ferry-test-turn-unused.db\n";

	conf = conf_load_string("test_turn.conf", text, NULL, NULL);
	if (!conf || conf->n_users != 1)
		return -1;
	fixture_mono_now = 1000000;             /* ms; arbitrary origin */
	fixture_wall_now = 1700000000;
	base = event_base_new();
	auth = fixture_auth_new(conf, NULL, NULL);
	if (!base || !auth || fixture_engine_start(&fx, conf, base, auth) != 0)
		return -1;

	tr.t.kind = SRV_UDP;
	tr.t.send = rec_send;
	fixture_addr(&client, "127.0.0.1", 40000); /* never bound: the fake sends */
	fixture_addr(&local, "127.0.0.1", 3478);
	stun_key_md5("alice", 5, REALM, strlen(REALM), "pw", 2, key);
	return 0;
}

int main(void)
{
	struct stun_msg m;
	struct req q, q2;
	net_addr relay, relay2, peer1, peer2;
	uint8_t resp[1024];
	size_t resp_len = 0;
	uint32_t lifetime = 0;
	int p1, p2, sent;
	uint16_t relay_port;
	char buf[256];
	ssize_t n;

	if (setup() != 0) {
		ok(0, "set up conf, auth, pool and engine");
		return tap_done();
	}
	p1 = fixture_udp_socket("127.0.0.1", &peer1);
	p2 = fixture_udp_socket("127.0.0.1", &peer2);
	ok(p1 >= 0 && p2 >= 0, "two peer sockets on 127.0.0.1");

	/* ---- authentication and Allocate */
	req_init(&q, STUN_METHOD_ALLOCATE);
	stun_build_u8(&q.b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
	is_int(send_req(&q, &m), 401, "Allocate without credentials: 401");
	ok(take_nonce(&m) == 0, "the 401 carries REALM test and a NONCE");
	is_int(turn_count(fx.turn), 0, "no allocation after the 401");

	t0 = fixture_mono_now;
	is_int(allocate(&relay, &lifetime, &q, resp, &resp_len), 0,
	       "authenticated Allocate succeeds (response MI verifies)");
	relay_port = net_port(&relay.u.sa);
	{
		char ip[NET_ADDRSTRLEN];
		net_fmt_ip(&relay.u.sa, ip, sizeof(ip));
		is_str(ip, "127.0.0.1", "XOR-RELAYED-ADDRESS is on 127.0.0.1");
	}
	ok(relay_port >= PORT_MIN && relay_port <= PORT_MAX,
	   "relayed port is inside relay-ports 50000-50100");
	is_int(lifetime, 600, "LIFETIME 600");
	is_int(turn_count(fx.turn), 1, "one allocation");
	is_int(relay_ports_in_use(fx.pool), 1, "one relay port in use");

	/* ---- retransmission */
	sent = tr.nsent;
	srv_input(fx.srv, &tr.t, &local, &client, q.buf, q.b.len);
	ok(tr.nsent == sent + 1 && tr.last_len == resp_len &&
	   memcmp(tr.last, resp, resp_len) == 0,
	   "a retransmitted Allocate gets the byte-identical response");
	is_int(turn_count(fx.turn), 1, "... and no second allocation");
	is_int(relay_ports_in_use(fx.pool), 1, "... nor a second port");

	/* A new transaction from the same 5-tuple is a second Allocate. */
	is_int(allocate(&relay2, &lifetime, &q2, NULL, NULL), 437,
	       "a new Allocate on the same 5-tuple: 437");

	/* ---- permissions */
	ok(peer_to_client(p1, &relay, "early") == 0,
	   "a peer without permission is dropped");
	is_int(create_permission(&peer1), 0, "CreatePermission for peer1");
	ok(peer_to_client(p1, &relay, "hello") == 1 &&
	   got_data_indication(&peer1, "hello"),
	   "peer1's datagram reaches the client as a Data indication");
	/* Permissions are per IP address, ports ignored (RFC 8656 §9). */
	ok(peer_to_client(p2, &relay, "other") == 1 &&
	   got_data_indication(&peer2, "other"),
	   "peer2 (same IP, other port) is covered by peer1's permission");
	set_time(299000);
	ok(peer_to_client(p1, &relay, "at 299 s") == 1 &&
	   got_data_indication(&peer1, "at 299 s"),
	   "at 299 s the permission still holds");
	set_time(301000);
	ok(peer_to_client(p1, &relay, "at 301 s") == 0,
	   "at 301 s the permission has expired: dropped");

	/* ---- Refresh */
	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(refresh(600), 600, "Refresh at 301 s grants 600 s");

	/* ---- channels */
	is_int(channel_bind(0x4000, &peer1), 0, "ChannelBind 0x4000 -> peer1");
	ok(peer_to_client(p1, &relay, "via channel") == 1 &&
	   got_channel_data(0x4000, "via channel"),
	   "peer1 -> client as ChannelData 0x4000");
	drain(p1);
	n = client_chandata(0x4000, "to peer", p1, buf, sizeof(buf));
	ok(n == 7 && memcmp(buf, "to peer", 7) == 0,
	   "client ChannelData 0x4000 reaches peer1");

	set_time(600000);
	turn_tick(fx.turn);
	is_int(turn_count(fx.turn), 1, "past the first 600 s the refreshed allocation lives");
	set_time(700000);
	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(create_permission(&peer1), 0, "CreatePermission peer1 again at 700 s");
	is_int(refresh(600), 600, "Refresh at 700 s");

	set_time(900999);
	ok(peer_to_client(p1, &relay, "c 900") == 1 && got_channel_data(0x4000, "c 900"),
	   "at 900.999 s the channel is bound");
	set_time(901000);
	ok(peer_to_client(p1, &relay, "c 901") == 1 &&
	   got_data_indication(&peer1, "c 901"),
	   "at 901 s the channel has expired: Data indication instead");
	drain(p1);
	{
		uint64_t drop0 = stat_get(&fx.stats, ST_RELAY_DROPPED_PACKETS);
		n = client_chandata(0x4000, "late", p1, buf, sizeof(buf));
		ok(n == 0 && stat_get(&fx.stats, ST_RELAY_DROPPED_PACKETS) == drop0 + 1,
		   "client ChannelData on the expired channel is dropped");
	}

	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(channel_bind(0x4000, &peer2), 400,
	       "quarantine: 0x4000 -> another peer refused (400)");
	is_int(channel_bind(0x4001, &peer1), 400,
	       "quarantine: peer1 -> another number refused (400)");
	set_time(1200999);
	is_int(channel_bind(0x4000, &peer2), 400,
	       "quarantine still at 1200.999 s");
	set_time(1201000);
	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(channel_bind(0x4000, &peer2), 0,
	       "after the 5-minute quarantine 0x4000 -> peer2 is accepted");
	ok(peer_to_client(p2, &relay, "p2 chan") == 1 && got_channel_data(0x4000, "p2 chan"),
	   "peer2 -> client on 0x4000");

	/* ---- allocation expiry */
	set_time(1299999);
	turn_tick(fx.turn);
	is_int(turn_count(fx.turn), 1, "alive at 1299.999 s");
	set_time(1300000);
	turn_tick(fx.turn);
	is_int(turn_count(fx.turn), 0, "turn_tick ends the allocation at its lifetime");
	is_int(relay_ports_in_use(fx.pool), 0, "its relay port is back in the pool");
	{
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		ok(fd >= 0 && bind(fd, &relay.u.sa, relay.len) == 0,
		   "the relayed address can be bound again (socket closed)");
		if (fd >= 0)
			close(fd);
	}
	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(refresh(600), -437, "Refresh after expiry: 437");

	/* ---- nonce staleness (wall clock only) */
	ok(fresh_nonce() == 0, "a fresh nonce");
	is_int(allocate(&relay2, &lifetime, &q2, NULL, NULL), 0, "a new Allocate");
	fixture_wall_now += 599;
	is_int(refresh(600), 600, "a 599 s old nonce is accepted");
	fixture_wall_now += 1;
	{
		char old[AUTH_NONCE_MAX];
		size_t old_len = nonce_len;
		struct req r;

		memcpy(old, nonce, nonce_len);
		req_init(&r, STUN_METHOD_REFRESH);
		req_sign(&r);
		is_int(send_req(&r, &m), 438, "a 600 s old nonce: 438");
		ok(take_nonce(&m) == 0 &&
		   (nonce_len != old_len || memcmp(nonce, old, old_len) != 0),
		   "the 438 carries REALM and a new NONCE");
		ok(stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY) == NULL,
		   "the 438 is not integrity-protected");
	}
	is_int(refresh(600), 600, "the new nonce is accepted");
	is_int(refresh(0), 0, "Refresh 0 deletes the allocation");
	is_int(turn_count(fx.turn), 0, "no allocations left");
	is_int(relay_ports_in_use(fx.pool), 0, "no ports in use");

	fixture_engine_stop(&fx);
	auth_free(auth);
	conf_free(conf);
	event_base_free(base);
	close(p1);
	close(p2);
	return tap_done();
}
