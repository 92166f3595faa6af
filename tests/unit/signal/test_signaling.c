/*
 * test_signaling — rooms, peers and routing driven through fake
 * connections: every message type and error code of doc/signaling.md,
 * tokens, capacity, ordering, the reconnect grace and resume, against a
 * real sqlite store in a temporary folder and a clock the test moves.
 *
 * The fake transport records every message sent (parsed back with
 * jansson, so what the server emits must be JSON) and every close.  Like
 * the real one, it calls sig_conn_gone() only when the test says the
 * socket went (fc_gone), never from inside send() or close() — except in
 * the one test that checks signaling copes when a transport does.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "conf/conf.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "signal/signaling.h"
#include "store/store.h"
#include "../tap.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_signaling.XXXXXX";
static char err[512];

/* ---------------------------------------------------------------- clock */

static uint64_t clk_ms = 5000000;
static time_t clk_wall = 1800000000;

static uint64_t fake_mono(void)
{
	return clk_ms;
}

static time_t fake_wall(void)
{
	return clk_wall;
}

/* ------------------------------------------------------------ ice stub */

static char ice_user[256], ice_host[256];
static int ice_calls;

static json_t *fake_ice(void *ctx, const char *host, const char *user)
{
	(void)ctx;
	ice_calls++;
	snprintf(ice_user, sizeof(ice_user), "%s", user);
	snprintf(ice_host, sizeof(ice_host), "%s", host);
	return json_pack("[{s:[s],s:s,s:s}]", "urls", "turn:fake.test:3478",
			 "username", user, "credential", "fake-credential");
}

/* ---------------------------------------------------- fake connections */

struct fconn {
	struct sig_conn *c;         /* signaling's; the ops get f */
	json_t *got;                /* every message sent to it, parsed */
	size_t rd;                  /* index of the next unread one */
	int closes, code;
	char reason[64];
	int fail;                   /* send() returns -1 */
	int gone_in_send;           /* ...and calls sig_conn_gone() inside */
	int after_close;            /* sends after a close: a bug */
	char id[64], resume[64];    /* from the last welcome */
	char raw[512];              /* the last message as sent, truncated */
};

static struct sig *S;
static struct ferry_conf *C;
static struct store *ST;
static int bad_output;              /* server sent something not JSON */

static int f_send(void *ctx, const char *text, size_t len)
{
	struct fconn *f = ctx;
	json_t *j;

	if (f->closes)
		f->after_close++;
	if (f->fail) {
		/* The transport closes the socket itself. */
		f->closes++;
		f->code = 1006;
		if (f->gone_in_send)
			sig_conn_gone(S, f->c);
		return -1;
	}
	snprintf(f->raw, sizeof(f->raw), "%.*s", (int)len, text);
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!j || !json_is_object(j)) {
		bad_output++;
		diag("server sent non-object: %.*s", (int)len, text);
		json_decref(j);
		j = json_pack("{s:s}", "type", "(bad output)");
	}
	json_array_append_new(f->got, j);
	return 0;
}

static void f_close(void *ctx, int code, const char *reason)
{
	struct fconn *f = ctx;

	f->closes++;
	f->code = code;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static const struct sig_conn_ops fops = { f_send, f_close };

static struct fconn *fc_open(void)
{
	static int n;
	struct fconn *f = xcalloc(1, sizeof(*f));
	net_addr remote;

	memset(&remote, 0, sizeof(remote));
	remote.u.in4.sin_family = AF_INET;
	remote.u.in4.sin_port = htons((uint16_t)(10000 + n++ % 50000));
	inet_pton(AF_INET, "192.0.2.7", &remote.u.in4.sin_addr);
	remote.len = sizeof(struct sockaddr_in);
	f->got = json_array();
	f->c = sig_conn_open(S, &fops, f, "signal.example", &remote);
	return f;
}

/* The socket went away (or the transport finished a close). */
static void fc_gone(struct fconn *f)
{
	sig_conn_gone(S, f->c);
	json_decref(f->got);
	free(f);
}

__attribute__((format(printf, 2, 3)))
static void say(struct fconn *f, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sig_text(S, f->c, buf, (size_t)n);
}

static size_t pending(const struct fconn *f)
{
	return json_array_size(f->got) - f->rd;
}

/* The next unread message (borrowed), or an empty object when none. */
static json_t *next(struct fconn *f)
{
	static json_t *none;

	if (f->rd < json_array_size(f->got))
		return json_array_get(f->got, f->rd++);
	if (!none)
		none = json_object();
	return none;
}

static const char *str(json_t *m, const char *key)
{
	const char *v = json_string_value(json_object_get(m, key));

	return v ? v : "(none)";
}

static void skip_all(struct fconn *f)
{
	f->rd = json_array_size(f->got);
}

/* Reads the next message and checks it is error code (ref: its "ref", or
 * NULL for none). */
static void expect_error(struct fconn *f, const char *code, const char *ref,
			 const char *what)
{
	json_t *m = next(f);
	char name[256];
	int good = strcmp(str(m, "type"), "error") == 0 &&
		   strcmp(str(m, "code"), code) == 0 &&
		   json_is_string(json_object_get(m, "message")) &&
		   (ref ? strcmp(str(m, "ref"), ref) == 0 :
			  json_object_get(m, "ref") == NULL);

	snprintf(name, sizeof(name), "%s: error %s", what, code);
	if (!ok(good, name)) {
		char *d = json_dumps(m, JSON_COMPACT);

		diag("got %s", d);
		free(d);
	}
}

/* Sends a join and reads the welcome; returns it (borrowed) and keeps the
 * id and resume token in f. */
static json_t *join_as(struct fconn *f, const char *room, const char *extra)
{
	json_t *w;

	say(f, "{\"type\":\"join\",\"room\":\"%s\"%s%s}", room,
	    extra ? "," : "", extra ? extra : "");
	w = next(f);
	snprintf(f->id, sizeof(f->id), "%s", str(w, "id"));
	snprintf(f->resume, sizeof(f->resume), "%s", str(w, "resume"));
	return w;
}

static int joined(struct fconn *f, const char *room, const char *extra)
{
	return strcmp(str(join_as(f, room, extra), "type"), "welcome") == 0;
}

static void setup(const char *conf_text)
{
	static int n;
	char path[300];
	struct sig_env env;

	C = conf_load_string("test.conf", conf_text, NULL, NULL);
	if (!C) {
		diag("conf refused: %s", conf_text);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/db%d.sqlite", dir, n++);
	ST = store_open(path, err, sizeof(err));
	if (!ST) {
		diag("store: %s", err);
		exit(1);
	}
	memset(&env, 0, sizeof(env));
	env.conf = C;
	env.store = ST;
	env.ice_servers = fake_ice;
	env.mono_ms = fake_mono;
	env.wall = fake_wall;
	S = sig_new(&env);
	ice_calls = 0;
}

static void teardown(void)
{
	sig_free(S);
	store_close(ST);
	conf_free(C);
	S = NULL;
}

static char *token(const char *secret, json_t *claims)
{
	char *t = jwt_sign_hs256(secret, strlen(secret), claims);

	json_decref(claims);
	return t;
}

/* ------------------------------------------------------------- tests */

static void test_shape_errors(void)
{
	struct fconn *a;
	json_t *m;

	setup("");
	a = fc_open();

	say(a, "{");
	expect_error(a, "bad-json", NULL, "truncated object");
	say(a, "hello");
	expect_error(a, "bad-json", NULL, "bare word");
	say(a, "{\"type\":\"ping\",\"type\":\"ping\"}");
	expect_error(a, "bad-json", NULL, "duplicate member");
	/* jansson quotes part of the é after the backslash: still answered */
	say(a, "{\"a\":\"\\\xc3\xa9\"}");
	expect_error(a, "bad-json", NULL, "bad escape before a non-ASCII character");
	say(a, "{\"type\":\"ping\"} x");
	expect_error(a, "bad-json", NULL, "trailing text");
	sig_text(S, a->c, "", 0);
	expect_error(a, "bad-json", NULL, "empty message");
	{
		/* Deeper than jansson's parser goes. */
		static char deep[4200];

		memset(deep, '[', 4096);
		sig_text(S, a->c, deep, 4096);
		expect_error(a, "bad-json", NULL, "nested too deep");
	}

	say(a, "[1,2]");
	expect_error(a, "bad-message", NULL, "array");
	say(a, "\"join\"");
	expect_error(a, "bad-message", NULL, "string");
	say(a, "42");
	expect_error(a, "bad-message", NULL, "number");
	say(a, "null");
	expect_error(a, "bad-message", NULL, "null");
	say(a, "{}");
	expect_error(a, "bad-message", NULL, "no type");
	say(a, "{\"type\":7}");
	expect_error(a, "bad-message", NULL, "numeric type");
	say(a, "{\"type\":null}");
	expect_error(a, "bad-message", NULL, "null type");
	sig_binary(S, a->c);
	expect_error(a, "bad-message", NULL, "binary frame");

	say(a, "{\"type\":\"dance\"}");
	expect_error(a, "unknown-type", "dance", "unknown type");
	say(a, "{\"type\":\"Join\",\"room\":\"r\"}");
	expect_error(a, "unknown-type", "Join", "types are case-sensitive");

	say(a, "{\"type\":\"offer\",\"to\":\"x\",\"sdp\":\"v=0\"}");
	expect_error(a, "not-joined", "offer", "offer before join");
	say(a, "{\"type\":\"answer\",\"to\":\"x\",\"sdp\":\"v=0\"}");
	expect_error(a, "not-joined", "answer", "answer before join");
	say(a, "{\"type\":\"candidate\",\"to\":\"x\",\"candidate\":null}");
	expect_error(a, "not-joined", "candidate", "candidate before join");
	say(a, "{\"type\":\"broadcast\",\"data\":1}");
	expect_error(a, "not-joined", "broadcast", "broadcast before join");
	say(a, "{\"type\":\"leave\"}");
	expect_error(a, "not-joined", "leave", "leave before join");
	say(a, "{\"type\":\"offer\"}");
	expect_error(a, "not-joined", "offer", "state is checked before members");

	say(a, "{\"type\":\"ping\",\"id\":{\"n\":[1,2]}}");
	m = next(a);
	is_str(str(m, "type"), "pong", "ping before join: pong");
	ok(json_integer_value(json_array_get(json_object_get(json_object_get(m, "id"), "n"), 1)) == 2,
	   "pong echoes a structured id");
	say(a, "{\"type\":\"ping\",\"id\":17,\"extra\":true}");
	m = next(a);
	is_int(json_integer_value(json_object_get(m, "id")), 17, "pong id 17 (unknown members ignored)");
	say(a, "{\"type\":\"ping\"}");
	m = next(a);
	ok(json_is_null(json_object_get(m, "id")), "pong without id has id null");

	is_int(a->closes, 0, "errors leave the connection open");
	is_int(pending(a), 0, "one answer per message");
	is_int(sig_stats(S)->errors, 23, "errors counted");
	is_int(sig_stats(S)->connections, 1, "connections gauge");
	fc_gone(a);
	is_int(sig_stats(S)->connections, 0, "connections gauge back to 0");
	teardown();
}

static void test_join_members(void)
{
	struct fconn *a, *b;
	char name[300], buf[400];
	json_t *w;

	setup("");
	a = fc_open();

	say(a, "{\"type\":\"join\"}");
	expect_error(a, "bad-message", "join", "join without room");
	say(a, "{\"type\":\"join\",\"room\":5}");
	expect_error(a, "bad-message", "join", "numeric room");
	say(a, "{\"type\":\"join\",\"room\":\"\"}");
	expect_error(a, "bad-message", "join", "empty room");
	say(a, "{\"type\":\"join\",\"room\":\"a b\"}");
	expect_error(a, "bad-message", "join", "room with a space");
	say(a, "{\"type\":\"join\",\"room\":\"a/b\"}");
	expect_error(a, "bad-message", "join", "room with a slash");
	say(a, "{\"type\":\"join\",\"room\":\"caf\\u00e9\"}");
	expect_error(a, "bad-message", "join", "room with a non-ASCII letter");
	memset(buf, 'r', 65);
	buf[65] = '\0';
	say(a, "{\"type\":\"join\",\"room\":\"%s\"}", buf);
	expect_error(a, "bad-message", "join", "room of 65 characters");
	say(a, "{\"type\":\"join\",\"room\":\"ok\",\"name\":3}");
	expect_error(a, "bad-message", "join", "numeric name");
	say(a, "{\"type\":\"join\",\"room\":\"ok\",\"name\":null}");
	expect_error(a, "bad-message", "join", "null name");
	say(a, "{\"type\":\"join\",\"room\":\"ok\",\"token\":1}");
	expect_error(a, "bad-message", "join", "numeric token");
	say(a, "{\"type\":\"join\",\"room\":\"ok\",\"resume\":[]}");
	expect_error(a, "bad-message", "join", "array resume");

	/* 65 two-byte characters: 130 bytes, refused by characters. */
	name[0] = '\0';
	for (int i = 0; i < 65; i++)
		strcat(name, "\xc3\xa9");
	say(a, "{\"type\":\"join\",\"room\":\"ok\",\"name\":\"%s\"}", name);
	expect_error(a, "bad-message", "join", "name of 65 characters");
	is_int(sig_stats(S)->peers, 0, "no peer after refused joins");

	/* 64 of them (128 bytes) are fine. */
	name[128] = '\0';
	memset(buf, 'r', 64);
	buf[64] = '\0';
	snprintf(buf + 64, sizeof(buf) - 64, "%s", "");
	{
		char extra[400];
		char room[80];

		snprintf(room, sizeof(room), "%.59s.A_-9", "Zz0123456789012345678901234567890123456789012345678901234567");
		snprintf(extra, sizeof(extra), "\"name\":\"%s\",\"future\":{}", name);
		w = join_as(a, room, extra);
		is_str(str(w, "type"), "welcome", "64-character name and 64-character room of every allowed class accepted");
		is_str(str(w, "room"), room, "welcome names the room");
	}
	b = fc_open();
	ok(joined(b, buf, NULL), "room of 64 characters");
	say(b, "{\"type\":\"join\",\"room\":\"other\"}");
	expect_error(b, "already-joined", "join", "second join");
	say(b, "{\"type\":\"join\"}");
	expect_error(b, "already-joined", "join", "second join, even malformed");
	is_int(b->closes, 0, "already-joined leaves the socket open");
	is_int(sig_stats(S)->rooms, 2, "two rooms live");
	fc_gone(a);
	fc_gone(b);
	teardown();
}

static void test_welcome_and_peers(void)
{
	struct fconn *a, *b, *c;
	json_t *w, *m, *peers;
	char bid[64];

	setup("reconnect-grace = 7\n");
	a = fc_open();
	b = fc_open();
	c = fc_open();
	w = join_as(a, "room1", "\"name\":\"Alice\"");
	is_str(str(w, "type"), "welcome", "A welcomed");
	is_int(json_array_size(json_object_get(w, "peers")), 0, "first peer sees nobody");
	is_str(ice_user, a->id, "TURN user is the peer id without a token");
	is_str(ice_host, "signal.example", "ICE servers for the connection's host");
	ok(json_is_false(json_object_get(w, "resumed")), "resumed false");
	is_int(json_integer_value(json_object_get(w, "reconnectGrace")), 7, "reconnectGrace from conf");
	is_int(strlen(a->resume), 22, "resume token is 128 bits in base64url");

	ok(joined(b, "room1", "\"name\":\"Bob\""), "B welcomed");
	m = next(a);
	is_str(str(m, "type"), "peer-joined", "A told of B");
	is_str(str(json_object_get(m, "peer"), "id"), b->id, "peer-joined id");
	is_str(str(json_object_get(m, "peer"), "name"), "Bob", "peer-joined name");

	w = join_as(c, "room1", NULL);
	is_str(str(w, "type"), "welcome", "C welcomed");
	is_str(str(w, "id"), c->id, "welcome id");
	peers = json_object_get(w, "peers");
	is_int(json_array_size(peers), 2, "C sees two peers");
	is_str(str(json_array_get(peers, 0), "id"), a->id, "oldest first: A");
	is_str(str(json_array_get(peers, 0), "name"), "Alice", "A's name");
	is_str(str(json_array_get(peers, 1), "id"), b->id, "then B");
	is_str(str(json_array_get(peers, 1), "name"), "Bob", "B's name");
	m = json_object_get(w, "iceServers");
	ok(json_is_array(m) && json_array_size(m) == 1 &&
	   strcmp(str(json_array_get(m, 0), "username"), c->id) == 0,
	   "iceServers from the callback");
	ok(strcmp(a->id, b->id) && strcmp(b->id, c->id) && strcmp(a->id, c->id),
	   "ids differ");
	ok(strcmp(a->resume, b->resume) != 0, "resume tokens differ");

	m = next(a);
	ok(strcmp(str(m, "type"), "peer-joined") == 0 &&
	   strcmp(str(json_object_get(m, "peer"), "id"), c->id) == 0 &&
	   strcmp(str(json_object_get(m, "peer"), "name"), "") == 0,
	   "A told of C (no name: empty)");
	m = next(b);
	ok(strcmp(str(m, "type"), "peer-joined") == 0, "B told of C");
	is_int(pending(c), 0, "C not told of itself");
	is_int(sig_stats(S)->peers, 3, "peers gauge");
	is_int(sig_stats(S)->joins, 3, "joins counter");

	/* A socket that closes without leave: grace, then timeout. */
	snprintf(bid, sizeof(bid), "%s", b->id);
	fc_gone(b);
	is_int(pending(a), 0, "no peer-left during grace");
	clk_ms += 6999;
	sig_tick(S);
	is_int(pending(a), 0, "nothing before the grace ends");
	clk_ms += 1;
	sig_tick(S);
	m = next(a);
	ok(strcmp(str(m, "type"), "peer-left") == 0 &&
	   strcmp(str(m, "id"), bid) == 0 &&
	   strcmp(str(m, "reason"), "timeout") == 0, "peer-left timeout after the grace");
	m = next(c);
	is_str(str(m, "reason"), "timeout", "C told too");
	is_int(sig_stats(S)->peers, 2, "peers gauge after timeout");

	/* leave */
	say(c, "{\"type\":\"leave\"}");
	m = next(a);
	is_str(str(m, "type"), "peer-left", "peer-left after leave");
	is_str(str(m, "id"), c->id, "peer-left id");
	is_str(str(m, "reason"), "left", "reason left");
	is_int(c->closes, 1, "leave closes");
	is_int(c->code, 1000, "with 1000");
	say(c, "{\"type\":\"ping\"}");
	is_int(pending(c), 0, "nothing read after leave");
	fc_gone(c);
	is_int(pending(a), 0, "the socket's end after leave says nothing more");

	say(a, "{\"type\":\"leave\"}");
	is_int(sig_stats(S)->rooms, 0, "an empty room is forgotten");
	is_int(sig_stats(S)->peers, 0, "no peers");
	ok(store_room_get(ST, "room1", NULL, err, sizeof(err)) == 1, "its row stays");
	fc_gone(a);
	teardown();
}

static void test_relay(void)
{
	struct fconn *a, *b, *c, *x;
	uint64_t relayed;
	json_t *m;

	setup("");
	a = fc_open();
	b = fc_open();
	c = fc_open();
	x = fc_open();
	joined(a, "relay", NULL);
	joined(b, "relay", NULL);
	joined(c, "relay", NULL);
	joined(x, "elsewhere", NULL);
	skip_all(a);
	skip_all(b);
	skip_all(c);
	relayed = sig_stats(S)->messages_relayed;

	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0 offer\",\"junk\":1}", b->id);
	m = next(b);
	is_str(str(m, "type"), "offer", "offer relayed");
	is_str(str(m, "from"), a->id, "with from");
	is_str(str(m, "sdp"), "v=0 offer", "with sdp");
	ok(!json_object_get(m, "to") && !json_object_get(m, "junk"),
	   "neither to nor unknown members forwarded");
	is_int(pending(c), 0, "C got nothing");
	is_int(pending(a), 0, "A got nothing");

	say(b, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":\"v=0 answer\"}", a->id);
	m = next(a);
	ok(strcmp(str(m, "type"), "answer") == 0 && strcmp(str(m, "from"), b->id) == 0 &&
	   strcmp(str(m, "sdp"), "v=0 answer") == 0, "answer relayed");

	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 192.0.2.1 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}", b->id);
	m = next(b);
	ok(strcmp(str(m, "type"), "candidate") == 0 && strcmp(str(m, "from"), a->id) == 0 &&
	   strcmp(str(json_object_get(m, "candidate"), "sdpMid"), "0") == 0,
	   "candidate object relayed");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":null}", b->id);
	m = next(b);
	ok(strcmp(str(m, "type"), "candidate") == 0 &&
	   json_is_null(json_object_get(m, "candidate")), "end-of-candidates null relayed");
	/* Candidates take the scanner's path unless they nest; both must
	 * answer the same. */
	say(a, "{\"to\":\"%s\", \"candidate\" : {\"usernameFragment\":\"u\\/f\",\"sdpMLineIndex\":1.5e2},\"type\":\"candidate\"}", b->id);
	m = next(b);
	ok(strcmp(str(m, "from"), a->id) == 0 &&
	   strcmp(str(json_object_get(m, "candidate"), "usernameFragment"), "u/f") == 0 &&
	   json_real_value(json_object_get(json_object_get(m, "candidate"), "sdpMLineIndex")) == 150.0 &&
	   !json_object_get(m, "to"), "candidate with escapes and spacing relayed");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"x\":{\"y\":[1]}}}", b->id);
	m = next(b);
	ok(json_integer_value(json_array_get(json_object_get(json_object_get(
	   json_object_get(m, "candidate"), "x"), "y"), 0)) == 1, "nested candidate relayed");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"a\":1,\"a\":2}}", b->id);
	expect_error(a, "bad-json", NULL, "duplicate member inside a candidate");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"a\":1,\"\\u0061\":2}}", b->id);
	expect_error(a, "bad-json", NULL, "escaped duplicate member inside a candidate");

	say(a, "{\"type\":\"broadcast\",\"data\":{\"muted\":true}}");
	m = next(b);
	ok(strcmp(str(m, "type"), "broadcast") == 0 && strcmp(str(m, "from"), a->id) == 0 &&
	   json_is_true(json_object_get(json_object_get(m, "data"), "muted")),
	   "broadcast to B");
	m = next(c);
	ok(strcmp(str(m, "type"), "broadcast") == 0, "broadcast to C");
	is_int(pending(a), 0, "not to the sender");
	is_int(pending(x), 0, "not to another room");
	say(a, "{\"type\":\"broadcast\",\"data\":null}");
	m = next(b);
	ok(json_is_null(json_object_get(m, "data")) && json_object_get(m, "data"),
	   "broadcast of null data");
	skip_all(c);

	/* mistyped members */
	say(a, "{\"type\":\"offer\",\"to\":\"%s\"}", b->id);
	expect_error(a, "bad-message", "offer", "offer without sdp");
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":5}", b->id);
	expect_error(a, "bad-message", "offer", "numeric sdp");
	say(a, "{\"type\":\"offer\",\"sdp\":\"x\"}");
	expect_error(a, "bad-message", "offer", "offer without to");
	say(a, "{\"type\":\"offer\",\"to\":[],\"sdp\":\"x\"}");
	expect_error(a, "bad-message", "offer", "array to");
	say(a, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":{}}", b->id);
	expect_error(a, "bad-message", "answer", "object sdp");
	say(a, "{\"type\":\"answer\",\"to\":null,\"sdp\":\"x\"}");
	expect_error(a, "bad-message", "answer", "null to");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\"}", b->id);
	expect_error(a, "bad-message", "candidate", "candidate missing");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":\"a=candidate\"}", b->id);
	expect_error(a, "bad-message", "candidate", "string candidate");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":[]}", b->id);
	expect_error(a, "bad-message", "candidate", "array candidate");
	say(a, "{\"type\":\"candidate\",\"candidate\":null}");
	expect_error(a, "bad-message", "candidate", "candidate without to");
	say(a, "{\"type\":\"broadcast\"}");
	expect_error(a, "bad-message", "broadcast", "broadcast without data");

	/* unknown-peer */
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"x\"}", a->id);
	expect_error(a, "unknown-peer", "offer", "offer to self");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":null}", x->id);
	expect_error(a, "unknown-peer", "candidate", "candidate to a peer of another room");
	say(a, "{\"type\":\"answer\",\"to\":\"nobody\",\"sdp\":\"x\"}");
	expect_error(a, "unknown-peer", "answer", "answer to no one");
	is_int(pending(b) + pending(c) + pending(x), 0, "refused messages go nowhere");
	is_int(a->closes, 0, "refusals keep the socket open");
	is_int(sig_stats(S)->messages_relayed - relayed, 10, "relayed counter");

	fc_gone(a);
	fc_gone(b);
	fc_gone(c);
	fc_gone(x);
	teardown();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One relay path: a message the scanner takes and one it leaves to
 * jansson (an escape in `to` or `type`, an object elsewhere) come out as
 * the same bytes, and are refused the same way.
 */
static void test_one_relay_path(void)
{
	struct fconn *a, *b, *c;
	char fast[512], idesc[64];

	setup("");
	a = fc_open();
	b = fc_open();
	c = fc_open();
	joined(a, "one", NULL);
	joined(b, "one", NULL);
	joined(c, "one", NULL);
	skip_all(a);
	skip_all(b);
	/* b's id with its first character as a \u escape */
	snprintf(idesc, sizeof(idesc), "\\u%04x%s", (unsigned char)b->id[0], b->id + 1);

	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0\\r\\n\"}", b->id);
	snprintf(fast, sizeof(fast), "%s", b->raw);
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"v=0\\r\\n\"}", idesc);
	is_str(b->raw, fast, "offer: the same bytes from either parser");
	say(a, "{\"type\":\"off\\u0065r\",\"to\":\"%s\",\"sdp\":\"v=0\\r\\n\"}", b->id);
	is_str(b->raw, fast, "offer with an escaped type: the same bytes");

	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}", b->id);
	snprintf(fast, sizeof(fast), "%s", b->raw);
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"candidate\":\"c\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0},\"x\":{}}", b->id);
	is_str(b->raw, fast, "candidate: the same bytes from either parser");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":null}", idesc);
	ok(strstr(b->raw, "\"candidate\":null}") != NULL, "null candidate by jansson");
	is_int(pending(c), 0, "nothing to the third peer");

	say(a, "{\"type\":\"offer\",\"to\":\"nobody\",\"sdp\":\"x\"}");
	snprintf(fast, sizeof(fast), "%s", a->raw);
	expect_error(a, "unknown-peer", "offer", "unknown peer from the scanner");
	say(a, "{\"type\":\"offer\",\"to\":\"nob\\u006fdy\",\"sdp\":\"x\"}");
	is_str(a->raw, fast, "the same refusal from jansson");
	expect_error(a, "unknown-peer", "offer", "unknown peer from jansson");
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"x\"}", a->id);
	expect_error(a, "unknown-peer", "offer", "to itself");

	skip_all(b);
	skip_all(c);
	say(a, "{\"type\":\"broadcast\",\"data\":{\"chat\" : \"hi\", \"n\":1E2}}");
	snprintf(fast, sizeof(fast), "{\"type\":\"broadcast\",\"from\":\"%s\",\"data\":{\"chat\":\"hi\",\"n\":100.0}}", a->id);
	is_str(b->raw, fast, "broadcast data as jansson writes it");
	is_str(c->raw, fast, "to every other peer");
	is_int(pending(a), 0, "not to the sender");

	fc_gone(a);
	fc_gone(b);
	/* c is left open: sig_free() frees signaling's object for it. */
	teardown();
	json_decref(c->got);
	free(c);
}

static void test_ids_and_order(void)
{
	enum { N = 1000 };
	char **ids = xcalloc(N, sizeof(*ids));
	struct fconn *a, *b, *c;
	int dup = 0, inorder = 1, fromc = 0;

	setup("");
	for (int i = 0; i < N; i++) {
		struct fconn *f = fc_open();

		joined(f, i % 2 ? "churn" : "churn2", NULL);
		ids[i] = xstrdup(f->id);
		if (i % 3)
			say(f, "{\"type\":\"leave\"}");
		fc_gone(f);
		/* Let the ones that dropped without leave time out. */
		clk_ms += 11000;
		sig_tick(S);
	}
	qsort(ids, N, sizeof(*ids), cmp_str);
	for (int i = 1; i < N; i++)
		dup += strcmp(ids[i - 1], ids[i]) == 0;
	is_int(dup, 0, "1000 joins and leaves: no id reused");
	for (int i = 0; i < N; i++)
		free(ids[i]);
	free(ids);
	is_int(sig_stats(S)->peers, 0, "all gone");

	a = fc_open();
	b = fc_open();
	c = fc_open();
	joined(a, "order", NULL);
	joined(b, "order", NULL);
	joined(c, "order", NULL);
	skip_all(a);
	skip_all(b);
	for (int i = 0; i < 100; i++) {
		say(a, "{\"type\":\"%s\",\"to\":\"%s\",\"sdp\":\"%d\"}",
		    i % 2 ? "offer" : "answer", b->id, i);
		if (i % 7 == 0)
			say(c, "{\"type\":\"broadcast\",\"data\":%d}", i);
		if (i % 5 == 0)
			say(a, "{\"type\":\"broadcast\",\"data\":%d}", i);
	}
	for (int want = 0, wantb = 0; pending(b);) {
		json_t *m = next(b);

		if (strcmp(str(m, "from"), c->id) == 0) {
			fromc++;
			continue;
		}
		if (strcmp(str(m, "type"), "broadcast") == 0) {
			if (json_integer_value(json_object_get(m, "data")) != wantb)
				inorder = 0;
			wantb += 5;
			continue;
		}
		if (atoi(str(m, "sdp")) != want++)
			inorder = 0;
		if (want > 100)
			inorder = 0;
	}
	ok(inorder, "100 messages from A reach B in the order sent");
	is_int(fromc, 15, "and C's broadcasts too");
	fc_gone(a);
	fc_gone(b);
	fc_gone(c);
	teardown();
}

static void test_resume(void)
{
	struct fconn *a, *b, *b2, *b3, *c;
	char bid[64], btok[64];
	json_t *w, *m;

	setup("reconnect-grace = 10\n");
	a = fc_open();
	b = fc_open();
	joined(a, "res", "\"name\":\"A\"");
	joined(b, "res", "\"name\":\"B\"");
	snprintf(bid, sizeof(bid), "%s", b->id);
	snprintf(btok, sizeof(btok), "%s", b->resume);
	skip_all(a);

	fc_gone(b);
	is_int(sig_stats(S)->peers, 2, "an absent peer still counts");
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"one\"}", bid);
	is_int(pending(a), 0, "sending to an absent peer is no error");
	say(a, "{\"type\":\"candidate\",\"to\":\"%s\",\"candidate\":{\"n\":2}}", bid);
	say(a, "{\"type\":\"broadcast\",\"data\":\"three\"}");
	c = fc_open();
	ok(joined(c, "res", NULL), "C joins during B's grace");
	w = json_array_get(c->got, 0);
	is_int(json_array_size(json_object_get(w, "peers")), 2, "C's welcome lists absent B too");
	skip_all(a);
	clk_ms += 9000;
	sig_tick(S);

	b2 = fc_open();
	w = join_as(b2, "res", NULL);
	is_str(str(w, "type"), "welcome", "a join without resume is ordinary");
	ok(strcmp(b2->id, bid) != 0, "with a new id");
	say(b2, "{\"type\":\"leave\"}");
	fc_gone(b2);
	skip_all(a);
	skip_all(c);

	b3 = fc_open();
	{
		char extra[128];

		snprintf(extra, sizeof(extra), "\"resume\":\"%s\",\"name\":\"ignored\"", btok);
		w = join_as(b3, "res", extra);
	}
	is_str(str(w, "type"), "welcome", "resume welcomed");
	is_str(b3->id, bid, "same id");
	ok(json_is_true(json_object_get(w, "resumed")), "resumed true");
	ok(strcmp(b3->resume, btok) != 0 && strlen(b3->resume) == 22, "a new resume token");
	m = json_object_get(w, "peers");
	ok(json_array_size(m) == 2 &&
	   strcmp(str(json_array_get(m, 0), "id"), a->id) == 0 &&
	   strcmp(str(json_array_get(m, 1), "id"), c->id) == 0,
	   "current peers, oldest first, without itself");
	ok(json_is_array(json_object_get(w, "iceServers")), "fresh iceServers");
	m = next(b3);
	ok(strcmp(str(m, "type"), "offer") == 0 && strcmp(str(m, "sdp"), "one") == 0 &&
	   strcmp(str(m, "from"), a->id) == 0, "queued 1: offer");
	m = next(b3);
	ok(strcmp(str(m, "type"), "candidate") == 0 &&
	   json_integer_value(json_object_get(json_object_get(m, "candidate"), "n")) == 2,
	   "queued 2: candidate");
	m = next(b3);
	ok(strcmp(str(m, "type"), "broadcast") == 0 && strcmp(str(m, "data"), "three") == 0,
	   "queued 3: broadcast");
	m = next(b3);
	ok(strcmp(str(m, "type"), "peer-joined") == 0 &&
	   strcmp(str(json_object_get(m, "peer"), "id"), c->id) == 0,
	   "queued 4: peer-joined C");
	m = next(b3);
	ok(strcmp(str(m, "type"), "peer-joined") == 0, "queued 5: the ordinary join's peer-joined");
	m = next(b3);
	ok(strcmp(str(m, "type"), "peer-left") == 0 &&
	   strcmp(str(m, "reason"), "left") == 0, "queued 6: its peer-left");
	is_int(pending(b3), 0, "nothing else");
	is_int(pending(a) + pending(c), 0, "others get no peer-left or peer-joined");
	is_int(sig_stats(S)->messages_queued, 6, "queued counter");
	is_int(sig_stats(S)->messages_dropped, 0, "nothing dropped");

	/* The resumed peer works as before, and kept its name. */
	say(b3, "{\"type\":\"answer\",\"to\":\"%s\",\"sdp\":\"back\"}", a->id);
	m = next(a);
	ok(strcmp(str(m, "from"), bid) == 0 && strcmp(str(m, "sdp"), "back") == 0,
	   "relay from the resumed peer");
	/* The grace that was running is over: no timeout later. */
	clk_ms += 60000;
	sig_tick(S);
	is_int(pending(a), 0, "no timeout after a resume");

	/* The used token is good no more. */
	say(b3, "{\"type\":\"leave\"}");
	fc_gone(b3);
	skip_all(a);
	b2 = fc_open();
	{
		char extra[128];

		snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", btok);
		w = join_as(b2, "res", extra);
	}
	ok(strcmp(str(w, "type"), "welcome") == 0 && json_is_false(json_object_get(w, "resumed")) &&
	   strcmp(b2->id, bid) != 0, "a used token gives an ordinary join");
	m = next(a);
	ok(strcmp(str(m, "type"), "peer-joined") == 0, "which others are told of");
	say(b2, "{\"type\":\"leave\"}");
	fc_gone(b2);
	skip_all(a);
	skip_all(c);

	/* Unknown token, and a token for another room. */
	b2 = fc_open();
	w = join_as(b2, "res", "\"resume\":\"AAAAAAAAAAAAAAAAAAAAAA\"");
	ok(json_is_false(json_object_get(w, "resumed")), "unknown token: ordinary join");
	say(b2, "{\"type\":\"leave\"}");
	fc_gone(b2);
	b2 = fc_open();
	{
		char extra[128];

		snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", a->resume);
		w = join_as(b2, "res-other", extra);
	}
	ok(json_is_false(json_object_get(w, "resumed")), "token of another room: ordinary join");
	fc_gone(b2);

	/* Expired: after the grace, the token is gone with the peer. */
	skip_all(a);
	skip_all(c);
	snprintf(bid, sizeof(bid), "%s", c->id);
	snprintf(btok, sizeof(btok), "%s", c->resume);
	fc_gone(c);
	clk_ms += 10000;
	sig_tick(S);
	m = next(a);
	ok(strcmp(str(m, "type"), "peer-left") == 0 && strcmp(str(m, "id"), bid) == 0 &&
	   strcmp(str(m, "reason"), "timeout") == 0, "C timed out");
	c = fc_open();
	{
		char extra[128];

		snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", btok);
		w = join_as(c, "res", extra);
	}
	ok(json_is_false(json_object_get(w, "resumed")) && strcmp(c->id, bid) != 0,
	   "expired token: ordinary join");
	fc_gone(a);
	fc_gone(c);
	teardown();
}

static void test_resume_replaces(void)
{
	struct fconn *a, *b, *b2;
	char extra[128];
	json_t *w, *m;

	setup("");
	a = fc_open();
	b = fc_open();
	joined(a, "rep", NULL);
	joined(b, "rep", NULL);
	skip_all(a);

	b2 = fc_open();
	snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", b->resume);
	w = join_as(b2, "rep", extra);
	ok(json_is_true(json_object_get(w, "resumed")) && strcmp(b2->id, b->id) == 0,
	   "resume while the old socket is open");
	is_int(b->closes, 1, "old socket closed");
	is_int(b->code, 4000, "with 4000");
	is_str(b->reason, "replaced", "reason replaced");
	say(b, "{\"type\":\"broadcast\",\"data\":1}");
	is_int(pending(a), 0, "the replaced socket's input is ignored");
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"new\"}", b2->id);
	ok(strcmp(str(next(b2), "sdp"), "new") == 0, "messages go to the new socket");
	fc_gone(b);
	clk_ms += 60000;
	sig_tick(S);
	is_int(pending(a), 0, "the old socket's end disturbs nothing");
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"still\"}", b2->id);
	m = next(b2);
	is_str(str(m, "sdp"), "still", "peer still present");
	is_int(sig_stats(S)->connections, 2, "connections gauge");
	fc_gone(a);
	fc_gone(b2);
	teardown();
}

static void test_queue_bound(void)
{
	struct fconn *a, *b, *b2;
	char extra[128];
	json_t *m;
	int good = 1;

	setup("signaling-queue = 3\n");
	a = fc_open();
	b = fc_open();
	joined(a, "q", NULL);
	joined(b, "q", NULL);
	{
		char bid[64];

		snprintf(bid, sizeof(bid), "%s", b->id);
		snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", b->resume);
		fc_gone(b);
		for (int i = 1; i <= 4; i++)
			say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"%d\"}", bid, i);
		say(a, "{\"type\":\"broadcast\",\"data\":5}");
	}
	is_int(sig_stats(S)->messages_queued, 5, "5 queued");
	is_int(sig_stats(S)->messages_dropped, 2, "2 dropped from a queue of 3");
	b2 = fc_open();
	m = join_as(b2, "q", extra);
	ok(json_is_true(json_object_get(m, "resumed")), "resumed");
	m = next(b2);
	good &= strcmp(str(m, "sdp"), "3") == 0;
	m = next(b2);
	good &= strcmp(str(m, "sdp"), "4") == 0;
	m = next(b2);
	good &= json_integer_value(json_object_get(m, "data")) == 5;
	ok(good && pending(b2) == 0, "the 3 newest, oldest dropped first");
	fc_gone(a);
	fc_gone(b2);
	teardown();
}

static void test_grace_zero(void)
{
	struct fconn *a, *b;
	json_t *m;

	setup("reconnect-grace = 0\nsignaling-queue = 0\n");
	a = fc_open();
	b = fc_open();
	joined(a, "g0", NULL);
	joined(b, "g0", NULL);
	skip_all(a);
	is_int(json_integer_value(json_object_get(json_array_get(b->got, 0), "reconnectGrace")), 0,
	       "reconnectGrace 0");
	fc_gone(b);
	m = next(a);
	ok(strcmp(str(m, "type"), "peer-left") == 0 &&
	   strcmp(str(m, "reason"), "closed") == 0, "no grace: peer-left closed at once");
	is_int(sig_stats(S)->peers, 1, "peer removed");

	/* A transport that calls sig_conn_gone() from inside a failing
	 * send(): the peer goes at the next tick, still "closed". */
	b = fc_open();
	joined(b, "g0", NULL);
	skip_all(a);
	b->fail = 1;
	b->gone_in_send = 1;
	say(a, "{\"type\":\"broadcast\",\"data\":1}");
	is_int(sig_stats(S)->peers, 2, "re-entrant gone is deferred");
	is_int(sig_stats(S)->messages_dropped, 1, "queue of 0 drops");
	sig_tick(S);
	m = next(a);
	ok(strcmp(str(m, "type"), "peer-left") == 0 &&
	   strcmp(str(m, "reason"), "closed") == 0, "deferred removal at the tick");
	is_int(sig_stats(S)->peers, 1, "peer removed");
	json_decref(b->got);
	free(b);
	fc_gone(a);
	teardown();
}

static void test_send_failure(void)
{
	struct fconn *a, *b, *b2;
	char extra[128], bid[64];
	json_t *m;

	setup("");
	a = fc_open();
	b = fc_open();
	joined(a, "sf", NULL);
	joined(b, "sf", NULL);
	snprintf(bid, sizeof(bid), "%s", b->id);
	snprintf(extra, sizeof(extra), "\"resume\":\"%s\"", b->resume);
	b->fail = 1;
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"1\"}", bid);
	say(a, "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"2\"}", bid);
	is_int(b->after_close, 0, "nothing more sent after the failed send");
	is_int(sig_stats(S)->messages_queued, 2, "kept for a resume");
	fc_gone(b);
	b2 = fc_open();
	m = join_as(b2, "sf", extra);
	ok(json_is_true(json_object_get(m, "resumed")), "resumed");
	m = next(b2);
	ok(strcmp(str(m, "sdp"), "1") == 0 && strcmp(str(next(b2), "sdp"), "2") == 0,
	   "the message whose send failed arrives after all, in order");
	fc_gone(a);
	fc_gone(b2);
	teardown();
}

static void test_tokens(void)
{
	const char *secret = "s3cret-for-tests";
	struct fconn *f, *g;
	char extra[1024], gres[64];
	char *t;
	json_t *w;

	setup("signaling-secret = s3cret-for-tests\n");

	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\"}");
	expect_error(f, "unauthorized", "join", "missing token");
	ok(f->closes == 1 && f->code == 1008, "closed with 1008");
	say(f, "{\"type\":\"ping\"}");
	is_int(pending(f), 0, "nothing answered after unauthorized");
	fc_gone(f);

	t = token("other-secret", json_pack("{s:s,s:I}", "room", "tok", "exp", (json_int_t)clk_wall + 60));
	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"%s\"}", t);
	expect_error(f, "unauthorized", "join", "bad signature");
	is_int(f->code, 1008, "closed with 1008");
	fc_gone(f);
	free(t);

	t = token(secret, json_pack("{s:s,s:I}", "room", "tok", "exp", (json_int_t)clk_wall));
	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"%s\"}", t);
	expect_error(f, "unauthorized", "join", "expired token");
	fc_gone(f);
	free(t);

	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"not.a.jwt\"}");
	expect_error(f, "unauthorized", "join", "garbage token");
	fc_gone(f);

	t = token(secret, json_pack("{s:s,s:I}", "room", "other", "exp", (json_int_t)clk_wall + 60));
	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"%s\"}", t);
	expect_error(f, "unauthorized", "join", "token for another room");
	fc_gone(f);
	free(t);

	t = token(secret, json_pack("{s:I}", "exp", (json_int_t)clk_wall + 60));
	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"%s\"}", t);
	expect_error(f, "unauthorized", "join", "token without room claim");
	fc_gone(f);
	free(t);

	t = token(secret, json_pack("{s:s,s:I,s:s}", "room", "*", "exp", (json_int_t)clk_wall + 60,
				    "sub", "bad:user"));
	f = fc_open();
	say(f, "{\"type\":\"join\",\"room\":\"tok\",\"token\":\"%s\"}", t);
	expect_error(f, "unauthorized", "join", "sub that cannot be a TURN user");
	fc_gone(f);
	free(t);

	/* "*" works for any room; name and sub claims apply. */
	t = token(secret, json_pack("{s:s,s:I,s:s,s:s}", "room", "*", "exp", (json_int_t)clk_wall + 60,
				    "name", "Claimed", "sub", "alice"));
	f = fc_open();
	snprintf(extra, sizeof(extra), "\"token\":\"%s\",\"name\":\"Asked\"", t);
	w = join_as(f, "tok", extra);
	is_str(str(w, "type"), "welcome", "\"*\" room claim accepted");
	is_str(ice_user, "alice", "TURN user is the token's sub");
	is_str(str(json_array_get(json_object_get(w, "iceServers"), 0), "username"), "alice",
	       "welcome carries those iceServers");
	g = fc_open();
	free(t);
	t = token(secret, json_pack("{s:s,s:I}", "room", "tok", "exp", (json_int_t)clk_wall + 60));
	snprintf(extra, sizeof(extra), "\"token\":\"%s\",\"name\":\"Gee\"", t);
	w = join_as(g, "tok", extra);
	is_str(str(w, "type"), "welcome", "exact room claim accepted");
	is_str(ice_user, g->id, "no sub: TURN user is the peer id");
	is_str(str(json_array_get(json_object_get(w, "peers"), 0), "name"), "Claimed",
	       "name claim overrides join.name");
	is_str(str(json_object_get(next(f), "peer"), "name"), "Gee",
	       "join.name used without a name claim");

	/* A resume needs no token: the resume token proves the place, so a
	 * call outlives its join token's exp. */
	snprintf(gres, sizeof(gres), "%s", g->resume);
	fc_gone(g);
	g = fc_open();
	say(g, "{\"type\":\"join\",\"room\":\"tok\",\"resume\":\"%s\"}", gres);
	w = next(g);
	is_str(str(w, "type"), "welcome", "resume without a token");
	ok(json_is_true(json_object_get(w, "resumed")), "resumed true without a token");
	snprintf(gres, sizeof(gres), "%s", str(w, "resume"));
	fc_gone(g);
	clk_wall += 120;                /* t has expired */
	g = fc_open();
	{
		char buf[1024];

		snprintf(buf, sizeof(buf), "\"token\":\"%s\",\"resume\":\"%s\"", t, gres);
		w = join_as(g, "tok", buf);
	}
	ok(json_is_true(json_object_get(w, "resumed")),
	   "resume with an expired join token carries on");
	is_int(pending(f), 0, "others hear nothing of the resumes");
	{
		struct fconn *h = fc_open();
		char buf[1024];

		snprintf(buf, sizeof(buf), "\"token\":\"%s\"", t);
		say(h, "{\"type\":\"join\",\"room\":\"tok\",%s}", buf);
		expect_error(h, "unauthorized", "join", "a new join with the expired token");
		fc_gone(h);
	}
	clk_wall -= 120;
	free(t);
	fc_gone(f);
	fc_gone(g);
	teardown();

	/* Without a secret a token is ignored, whatever it holds. */
	setup("");
	f = fc_open();
	ok(joined(f, "anon", "\"token\":\"whatever\""), "no secret: token ignored");
	is_str(ice_user, f->id, "and its sub is not used");
	fc_gone(f);
	teardown();
}

static const char *revoked_user;

static int fake_revoked(void *ctx, const char *user)
{
	(void)ctx;
	return revoked_user && strcmp(user, revoked_user) == 0;
}

/* A revoked sub cannot join or resume, and its peers are kicked. */
static void test_revoked_sub(void)
{
	const char *secret = "rev-secret";
	struct fconn *a, *b, *c, *d;
	char extra[1024], ares[64];
	char *ta, *tb;
	json_t *m;

	setup("signaling-secret = rev-secret\nreconnect-grace = 10\n");
	sig_free(S);
	{
		struct sig_env env = { .conf = C, .store = ST, .ice_servers = fake_ice,
				       .revoked = fake_revoked, .mono_ms = fake_mono,
				       .wall = fake_wall };
		S = sig_new(&env);
	}
	ta = token(secret, json_pack("{s:s,s:I,s:s}", "room", "rv", "exp",
				     (json_int_t)clk_wall + 60, "sub", "user42"));
	tb = token(secret, json_pack("{s:s,s:I,s:s}", "room", "rv", "exp",
				     (json_int_t)clk_wall + 60, "sub", "other"));
	revoked_user = "user42";
	a = fc_open();
	snprintf(extra, sizeof(extra), "{\"type\":\"join\",\"room\":\"rv\",\"token\":\"%s\"}", ta);
	say(a, "%s", extra);
	expect_error(a, "unauthorized", "join", "revoked sub joins");
	is_int(a->code, 1008, "closed with 1008");
	is_int(sig_stats(S)->peers, 0, "no place for a revoked sub");
	fc_gone(a);

	revoked_user = NULL;
	a = fc_open();
	snprintf(extra, sizeof(extra), "\"token\":\"%s\"", ta);
	ok(joined(a, "rv", extra), "user42 joins before the revocation");
	b = fc_open();
	snprintf(extra, sizeof(extra), "\"token\":\"%s\"", tb);
	ok(joined(b, "rv", extra), "another user joins");
	skip_all(a);
	revoked_user = "user42";
	sig_recheck_revocations(S);
	expect_error(a, "kicked", NULL, "revoked peer");
	is_int(a->code, 4001, "kicked with 4001");
	m = next(b);
	ok(strcmp(str(m, "type"), "peer-left") == 0 && strcmp(str(m, "id"), a->id) == 0 &&
	   strcmp(str(m, "reason"), "kicked") == 0, "others get peer-left kicked");
	is_int(sig_stats(S)->peers, 1, "the kicked place is gone");
	snprintf(ares, sizeof(ares), "%s", a->resume);
	fc_gone(a);
	c = fc_open();
	say(c, "{\"type\":\"join\",\"room\":\"rv\",\"resume\":\"%s\"}", ares);
	m = next(c);
	ok(strcmp(str(m, "type"), "welcome") != 0 || !json_is_true(json_object_get(m, "resumed")),
	   "a kicked place is not resumable");
	fc_gone(c);
	revoked_user = NULL;
	sig_recheck_revocations(S);
	is_int(pending(b), 0, "a recheck with nobody revoked kicks nobody");

	/* Revoked while absent: the resume is refused and the place ends. */
	a = fc_open();
	snprintf(extra, sizeof(extra), "\"token\":\"%s\"", ta);
	ok(joined(a, "rv", extra), "user42 joins again once unrevoked");
	snprintf(ares, sizeof(ares), "%s", a->resume);
	skip_all(b);
	fc_gone(a);
	revoked_user = "user42";
	d = fc_open();
	say(d, "{\"type\":\"join\",\"room\":\"rv\",\"resume\":\"%s\"}", ares);
	expect_error(d, "unauthorized", "join", "resume of a revoked sub");
	m = next(b);
	ok(strcmp(str(m, "type"), "peer-left") == 0 &&
	   strcmp(str(m, "reason"), "kicked") == 0, "its place ends as kicked");
	fc_gone(d);
	revoked_user = NULL;
	free(ta);
	free(tb);
	fc_gone(b);
	teardown();
}

static void test_rooms_from_store(void)
{
	struct fconn *f[4];
	json_t *m;

	setup("auto-create-rooms = no\n");
	f[0] = fc_open();
	say(f[0], "{\"type\":\"join\",\"room\":\"made\"}");
	expect_error(f[0], "unauthorized", "join", "unknown room without auto-create");
	is_int(f[0]->code, 1008, "closed with 1008");
	fc_gone(f[0]);
	ok(store_room_get(ST, "made", NULL, err, sizeof(err)) == 0, "room not created");

	ok(store_room_add(ST, "made", 2, err, sizeof(err)) == 0, "ferryctl room add");
	for (int i = 0; i < 3; i++)
		f[i] = fc_open();
	ok(joined(f[0], "made", NULL), "added room: first join");
	ok(joined(f[1], "made", NULL), "second join");
	say(f[2], "{\"type\":\"join\",\"room\":\"made\"}");
	expect_error(f[2], "room-full", "join", "third join, max-peers 2 from the store");
	is_int(f[2]->closes, 0, "room-full leaves the socket open");

	/* An absent peer keeps its place. */
	fc_gone(f[1]);
	say(f[2], "{\"type\":\"join\",\"room\":\"made\"}");
	expect_error(f[2], "room-full", "join", "absent peer still counts");
	clk_ms += 10000;
	sig_tick(S);
	ok(joined(f[2], "made", NULL), "after its grace there is room");

	/* Capacity raised by another process. */
	ok(store_room_del(ST, "made", err, sizeof(err)) == 0 &&
	   store_room_add(ST, "made", 3, err, sizeof(err)) == 0, "max-peers changed to 3");
	f[3] = fc_open();
	say(f[3], "{\"type\":\"join\",\"room\":\"made\"}");
	expect_error(f[3], "room-full", "join", "live room keeps its setting until told");
	sig_rooms_changed(S);
	ok(joined(f[3], "made", NULL), "sig_rooms_changed re-reads max-peers");

	/* Deleted while live: no new joins without auto-create. */
	ok(store_room_del(ST, "made", err, sizeof(err)) == 0, "room deleted");
	sig_rooms_changed(S);
	f[1] = fc_open();
	say(f[1], "{\"type\":\"join\",\"room\":\"made\"}");
	expect_error(f[1], "unauthorized", "join", "deleted room refuses joins");
	fc_gone(f[1]);
	m = next(f[0]);
	ok(strcmp(str(m, "type"), "peer-joined") == 0, "peers still there");
	for (int i = 0; i < 4; i++)
		if (i != 1)
			fc_gone(f[i]);
	teardown();

	/* auto-create: rooms get room-max-peers, and keep a stored one. */
	setup("room-max-peers = 2\n");
	ok(store_room_add(ST, "big", 3, err, sizeof(err)) == 0, "a room of 3");
	for (int i = 0; i < 4; i++)
		f[i] = fc_open();
	ok(joined(f[0], "auto", NULL) && joined(f[1], "auto", NULL), "two in auto");
	{
		int max = 0;

		ok(store_room_get(ST, "auto", &max, err, sizeof(err)) == 1 && max == 2,
		   "auto-created with room-max-peers");
	}
	say(f[2], "{\"type\":\"join\",\"room\":\"auto\"}");
	expect_error(f[2], "room-full", "join", "room-max-peers 2");
	ok(joined(f[2], "big", NULL) && joined(f[3], "big", NULL), "stored setting wins");
	for (int i = 0; i < 4; i++)
		fc_gone(f[i]);
	teardown();
}

static void test_shutdown_and_gauges(void)
{
	struct fconn *a, *b, *c;

	setup("");
	a = fc_open();
	b = fc_open();
	c = fc_open();
	joined(a, "sd", NULL);
	joined(b, "sd2", NULL);
	is_int(sig_stats(S)->connections, 3, "3 connections");
	is_int(sig_stats(S)->peers, 2, "2 peers");
	is_int(sig_stats(S)->rooms, 2, "2 rooms");
	sig_shutdown(S);
	ok(a->code == 1001 && b->code == 1001 && c->code == 1001 &&
	   a->closes == 1 && c->closes == 1, "shutdown closes every socket with 1001");
	is_str(c->reason, "going away", "reason going away");
	ok(!a->after_close && !b->after_close && !c->after_close, "nothing sent after");
	fc_gone(a);
	fc_gone(b);
	fc_gone(c);
	is_int(sig_stats(S)->connections, 0, "none left");
	teardown();
}

/* With an event base the grace timer is an event of it; freeing the sig
 * removes it (the base is then freed with no event left: the timer
 * belonged to us). */
static void test_timer(void)
{
	struct event_base *base = event_base_new();
	struct sig_env env;
	struct sig *s;

	memset(&env, 0, sizeof(env));
	C = conf_load_string("timer.conf", "", NULL, NULL);
	env.conf = C;
	env.base = base;
	s = sig_new(&env);
	ok(s != NULL, "sig_new with an event base");
	is_int(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), 1,
	       "one timer added");
	is_int(event_base_loop(base, EVLOOP_NONBLOCK), 0, "loop runs");
	sig_free(s);
	is_int(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED), 0,
	       "timer gone with the sig");
	event_base_free(base);
	conf_free(C);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_LVL_WARN);

	test_shape_errors();
	test_join_members();
	test_welcome_and_peers();
	test_relay();
	test_one_relay_path();
	test_ids_and_order();
	test_resume();
	test_resume_replaces();
	test_queue_bound();
	test_grace_zero();
	test_send_failure();
	test_tokens();
	test_revoked_sub();
	test_rooms_from_store();
	test_shutdown_and_gauges();
	test_timer();
	is_int(bad_output, 0, "everything the server sent was a JSON object");

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
