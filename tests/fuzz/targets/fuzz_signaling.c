/*
 * fuzz_signaling — the signaling state machine on arbitrary client input.
 *
 * The input is split on '\n' into messages, delivered round-robin to three
 * fake connections of one struct sig (a new one per input, so inputs do
 * not depend on each other; the sqlite store is opened once per process,
 * in a fixed temporary path, because opening it is slow).
 *
 * So that short inputs reach relays and resumes, whose ids and tokens are
 * random, a message may say "$0", "$1" or "$2" for the latest peer id
 * welcomed on that connection slot (it outlives the connection, so a
 * message can address a peer that is absent), "$a", "$b" or "$c" for the
 * latest resume token given in slot 0, 1 or 2, "$r" for the latest
 * given in any, and "$t" for a valid join token for room "r" ("$T": for
 * any room, with name and sub claims) under the '!' configuration.  A line whose first byte is a control character drives the
 * transport or the clock instead of sending text:
 *
 *   \x01  the connection goes (sig_conn_gone) and a new one takes its slot
 *   \x02  a binary frame
 *   \x03  the clock moves 4 s and sig_tick runs
 *   \x04  the connection's sends fail from now on (the transport closes it)
 *   \x05  sig_shutdown
 *   \x06  sig_rooms_changed
 *   \x07  as \x04, but the transport calls sig_conn_gone() from inside the
 *         failing send(), which signaling must survive
 *
 * An input whose first byte is '!' runs with a signaling-secret and
 * auto-create-rooms = no (only room "r" exists); otherwise joins are
 * anonymous.  Like the real transport, the harness calls sig_conn_gone()
 * for a connection that was closed once the current message is done.
 *
 * Checked throughout: everything sent is a JSON object with a string
 * "type" (errors with a known code), nothing is sent after a close, and
 * the gauges agree with the harness.  A violation aborts; so does a leak
 * under the fuzzer's LeakSanitizer.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "signal/signaling.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define NCONN 3
#define LINE_MAX_LEN 4096

struct fconn {
	struct sig_conn *c;
	int slot;
	int closed;
	int fail;                   /* 1: sends fail; 2: ...and go inside */
	int gone;                   /* sig_conn_gone() was called */
};

static struct fconn *conns[NCONN];
static char slot_id[NCONN][64], slot_tok[NCONN][64], resume_tok[64];
static uint64_t clk = 1000000;
/* Filled by hand rather than parsed: conf.c needs configure's config.h,
 * which the libFuzzer build (run-fuzz.sh) does not have, and signaling
 * reads only these fields. */
static struct ferry_conf conf_anon = {
	.auto_create_rooms = 1,
	.room_max_peers = 2,
	.reconnect_grace = 5,
	.signaling_queue = 3,
};
static struct ferry_conf conf_secret = {
	.signaling_secret = (char *)"fuzz",
	.auto_create_rooms = 0,
	.room_max_peers = 16,
	.reconnect_grace = 0,
	.signaling_queue = 256,
};
static struct store *store;
static struct sig *cur;             /* the one of the current input */
static char db_path[256];
static char *tok_r, *tok_any;

static uint64_t fake_mono(void)
{
	return clk;
}

static time_t fake_wall(void)
{
	return 1800000000;
}

static json_t *fake_ice(void *ctx, const char *host, const char *user)
{
	(void)ctx;
	CHECK(host && user && *user);
	return json_pack("[{s:s}]", "urls", "turn:fuzz.test");
}

static void check_output(struct fconn *f, const char *text, size_t len)
{
	static const char *const codes[] = {
		"bad-json", "bad-message", "unknown-type", "not-joined",
		"already-joined", "unauthorized", "room-full", "unknown-peer",
		"rate-limited", "server-busy",
	};
	json_t *m = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	const char *type;

	CHECK(m && json_is_object(m));
	type = json_string_value(json_object_get(m, "type"));
	CHECK(type);
	if (strcmp(type, "error") == 0) {
		const char *code = json_string_value(json_object_get(m, "code"));
		int known = 0;

		CHECK(code && json_is_string(json_object_get(m, "message")));
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			known |= strcmp(code, codes[i]) == 0;
		CHECK(known);
	} else if (strcmp(type, "welcome") == 0) {
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *tok = json_string_value(json_object_get(m, "resume"));

		CHECK(id && tok && strlen(id) < sizeof(slot_id[0]));
		CHECK(strlen(tok) < sizeof(resume_tok));
		CHECK(json_is_array(json_object_get(m, "peers")));
		CHECK(json_is_boolean(json_object_get(m, "resumed")));
		snprintf(slot_id[f->slot], sizeof(slot_id[0]), "%s", id);
		snprintf(slot_tok[f->slot], sizeof(slot_tok[0]), "%s", tok);
		snprintf(resume_tok, sizeof(resume_tok), "%s", tok);
	}
	json_decref(m);
}

static int f_send(void *ctx, const char *text, size_t len)
{
	struct fconn *f = ctx;

	CHECK(!f->closed);
	if (f->fail) {
		f->closed = 1;
		if (f->fail == 2 && !f->gone) {
			f->gone = 1;
			sig_conn_gone(cur, f->c);
		}
		return -1;
	}
	check_output(f, text, len);
	return 0;
}

static void f_close(void *ctx, int code, const char *reason)
{
	struct fconn *f = ctx;

	CHECK(!f->closed);
	CHECK(code == 1000 || code == 1001 || code == 1008 || code == 4000);
	CHECK(reason != NULL);
	f->closed = 1;
}

static const struct sig_conn_ops fops = { f_send, f_close };

static struct fconn *conn_new(struct sig *s, int slot)
{
	struct fconn *f = calloc(1, sizeof(*f));

	CHECK(f);
	f->slot = slot;
	f->c = sig_conn_open(s, &fops, f, "fuzz.test", NULL);
	return f;
}

static void conn_gone(struct sig *s, int i)
{
	if (!conns[i]->gone)
		sig_conn_gone(s, conns[i]->c);
	free(conns[i]);
	conns[i] = conn_new(s, i);
}

static void remove_db(void)
{
	char p[300];

	store_close(store);
	free(tok_r);
	free(tok_any);
	unlink(db_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

static void init_once(void)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
			  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char err[256];
	json_t *claims;

	log_set_level(LOG_LVL_ERROR);
	/* Per process, so that parallel fuzzing jobs do not share it. */
	snprintf(db_path, sizeof(db_path), "%s/ferry-fuzz-signaling-%ld.sqlite",
		 tmp, (long)getpid());
	unlink(db_path);
	store = store_open(db_path, err, sizeof(err));
	if (!store) {
		fprintf(stderr, "fuzz_signaling: %s\n", err);
		abort();
	}
	store_room_add(store, "r", 2, NULL, 0);
	claims = json_pack("{s:s,s:I}", "room", "r", "exp", (json_int_t)1900000000);
	tok_r = jwt_sign_hs256("fuzz", 4, claims);
	json_decref(claims);
	claims = json_pack("{s:s,s:I,s:s,s:s}", "room", "*", "exp",
			   (json_int_t)1900000000, "name", "N", "sub", "fuzzer");
	tok_any = jwt_sign_hs256("fuzz", 4, claims);
	json_decref(claims);
	CHECK(tok_r && tok_any);
	atexit(remove_db);
}

/* Copies line into out with $0..$2 and $r replaced; returns the length. */
static size_t expand(const uint8_t *line, size_t len, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outsz; i++) {
		const char *sub = NULL;

		if (line[i] == '$' && i + 1 < len) {
			uint8_t k = line[i + 1];

			if (k >= '0' && k < '0' + NCONN)
				sub = slot_id[k - '0'];
			else if (k >= 'a' && k < 'a' + NCONN)
				sub = slot_tok[k - 'a'];
			else if (k == 'r')
				sub = resume_tok;
			else if (k == 't')
				sub = tok_r;
			else if (k == 'T')
				sub = tok_any;
		}
		if (sub) {
			size_t n = strlen(sub);

			if (o + n >= outsz)
				break;
			memcpy(out + o, sub, n);
			o += n;
			i++;
		} else {
			out[o++] = (char)line[i];
		}
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[LINE_MAX_LEN + 256];
	struct sig_env env;
	struct sig *s;
	size_t start = 0;
	int slot = 0;

	if (!store)
		init_once();
	memset(&env, 0, sizeof(env));
	env.conf = size > 0 && data[0] == '!' ? &conf_secret : &conf_anon;
	env.store = store;
	env.ice_servers = fake_ice;
	env.mono_ms = fake_mono;
	env.wall = fake_wall;
	s = sig_new(&env);
	CHECK(s);
	cur = s;
	memset(slot_id, 0, sizeof(slot_id));
	memset(slot_tok, 0, sizeof(slot_tok));
	resume_tok[0] = '\0';
	for (int i = 0; i < NCONN; i++)
		conns[i] = conn_new(s, i);

	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = (nl ? (size_t)(nl - data) : size) - start;
		const uint8_t *line = data + start;
		struct fconn *f = conns[slot];

		start += len + 1;
		if (len > LINE_MAX_LEN)
			len = LINE_MAX_LEN;
		if (len > 0 && line[0] < 0x08 && line[0] != 0) {
			switch (line[0]) {
			case 1: f->closed = 1; break;
			case 2: sig_binary(s, f->c); break;
			case 3: clk += 4000; sig_tick(s); break;
			case 4: f->fail = 1; break;
			case 5: sig_shutdown(s); break;
			case 6: sig_rooms_changed(s); break;
			case 7: f->fail = 2; break;
			}
		} else {
			size_t n = expand(line, len, buf, sizeof(buf));

			sig_text(s, f->c, buf, n);
		}
		/* As the transport does, once the message is handled. */
		for (int i = 0; i < NCONN; i++)
			if (conns[i]->closed)
				conn_gone(s, i);
		CHECK(sig_stats(s)->connections == NCONN);
		CHECK(sig_stats(s)->peers < 1000000);
		CHECK(sig_stats(s)->rooms <= sig_stats(s)->peers);
		slot = (slot + 1) % NCONN;
	}

	/* Let every grace run out: all peers leave. */
	for (int i = 0; i < NCONN; i++) {
		if (!conns[i]->gone)
			sig_conn_gone(s, conns[i]->c);
		free(conns[i]);
		conns[i] = NULL;
	}
	clk += 3600 * 1000;
	sig_tick(s);
	CHECK(sig_stats(s)->peers == 0 && sig_stats(s)->rooms == 0);
	CHECK(sig_stats(s)->connections == 0);
	sig_free(s);
	return 0;
}
