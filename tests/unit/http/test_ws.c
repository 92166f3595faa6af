/*
 * test_ws — RFC 6455 codec: the RFC's own examples, every close code the
 * parser can produce, and the same input fed in chunks of many sizes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "core/util.h"
#include "core/utf8.h"
#include "http/ws.h"

/* ------------------------------------------------------------ helpers */

/* A growing byte string for building client input. */
struct bytes {
	uint8_t *d;
	size_t n, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 16;
		b->d = xrealloc(b->d, b->cap);
	}
	if (n)
		memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void reset(struct bytes *b)
{
	b->n = 0;
}

/* The masking key of the RFC's §5.7 examples. */
static const uint8_t rfc_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/*
 * Appends one client frame: first byte as given (FIN, RSV, opcode), masked
 * with rfc_mask when masked, and the length in the shortest form unless
 * force_len picks 126 or 127.
 */
static void frame_ex(struct bytes *b, uint8_t b0, int masked, int force_len,
		     const void *payload, size_t n)
{
	uint8_t h[14];
	size_t hl = 0, i;
	int lf = force_len ? force_len : n < 126 ? 0 : n <= 0xffff ? 126 : 127;
	const uint8_t *p = payload;

	h[hl++] = b0;
	if (lf == 0) {
		h[hl++] = (uint8_t)n;
	} else if (lf == 126) {
		h[hl++] = 126;
		h[hl++] = (uint8_t)(n >> 8);
		h[hl++] = (uint8_t)n;
	} else {
		h[hl++] = 127;
		for (i = 0; i < 8; i++)
			h[hl++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	if (masked) {
		h[1] |= 0x80;
		memcpy(h + hl, rfc_mask, 4);
		hl += 4;
	}
	put(b, h, hl);
	for (i = 0; i < n; i++) {
		uint8_t c = p[i] ^ (masked ? rfc_mask[i & 3] : 0);
		put(b, &c, 1);
	}
}

/* A masked frame: fin, opcode and payload. */
static void frame(struct bytes *b, int fin, int opcode, const void *payload,
		  size_t n)
{
	frame_ex(b, (uint8_t)((fin ? 0x80 : 0) | opcode), 1, 0, payload, n);
}

static void frame_s(struct bytes *b, int fin, int opcode, const char *s)
{
	frame(b, fin, opcode, s, strlen(s));
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Appends a short description of ev to out: T(text) B#len:hash P(..)
 * O(..) C1000(reason) E1002. */
static void describe(char *out, size_t outsz, const struct ws_event *ev)
{
	size_t o = strlen(out);
	const char *tag = "?";

	if (o && o + 1 < outsz)
		out[o++] = ' ';
	out[o] = '\0';
	switch (ev->type) {
	case WS_EV_TEXT:
		tag = "T";
		break;
	case WS_EV_BINARY:
		snprintf(out + o, outsz - o, "B#%zu:%08x", ev->len,
			 (unsigned)fnv1a(ev->data, ev->len));
		return;
	case WS_EV_PING:
		tag = "P";
		break;
	case WS_EV_PONG:
		tag = "O";
		break;
	case WS_EV_CLOSE:
		snprintf(out + o, outsz - o, "C%u(%.*s)", ev->code,
			 (int)ev->len, (const char *)ev->data);
		return;
	case WS_EV_ERROR:
		snprintf(out + o, outsz - o, "E%u", ev->code);
		return;
	}
	if (ev->len > 40)
		snprintf(out + o, outsz - o, "%s#%zu", tag, ev->len);
	else
		snprintf(out + o, outsz - o, "%s(%.*s)", tag, (int)ev->len,
			 (const char *)ev->data);
}

/*
 * Feeds in[0..n) to a fresh parser in chunks of `chunk` bytes and returns
 * the events as one string.  Also checks the feed contract: used never
 * exceeds what was offered, and 0 is only returned once all is consumed.
 */
static const char *run_chunked(size_t max, const uint8_t *in, size_t n,
			       size_t chunk)
{
	static char out[1024];
	struct ws_parser p;
	struct ws_event ev;
	size_t off = 0;

	out[0] = '\0';
	ws_parser_init(&p, max);
	while (off < n) {
		size_t avail = n - off < chunk ? n - off : chunk;
		const uint8_t *c = in + off;

		while (avail > 0) {
			size_t used = (size_t)-1;
			int r = ws_parser_feed(&p, c, avail, &used, &ev);

			if (used > avail) {
				strcpy(out, "USED-OVERFLOW");
				goto done;
			}
			c += used;
			avail -= used;
			off += used;
			if (r == 0) {
				if (avail) {
					strcpy(out, "LEFT-UNUSED");
					goto done;
				}
				break;
			}
			if (ev.type != WS_EV_ERROR && ev.data[ev.len] != '\0') {
				strcpy(out, "NOT-NUL-TERMINATED");
				goto done;
			}
			describe(out, sizeof(out), &ev);
			if (ev.type == WS_EV_ERROR)
				goto done;
		}
	}
done:
	ws_parser_fini(&p);
	return out;
}

/* The events for in, which must not depend on how the bytes are split;
 * a mismatch is reported in the returned string. */
static const char *events(size_t max, const uint8_t *in, size_t n)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 13, 64, 1000 };
	static char first[1024], res[1200];
	size_t i;

	snprintf(first, sizeof(first), "%s", run_chunked(max, in, n, n ? n : 1));
	for (i = 0; i < ARRAY_LEN(chunks); i++) {
		const char *r = run_chunked(max, in, n, chunks[i]);

		if (strcmp(r, first)) {
			snprintf(res, sizeof(res), "chunk %zu gave [%s], whole gave [%s]",
				 chunks[i], r, first);
			return res;
		}
	}
	return first;
}

#define EV(b) events(65536, (b)->d, (b)->n)

/* ------------------------------------------------------------ handshake */

static void test_handshake(void)
{
	char acc[WS_ACCEPT_LEN + 1] = "untouched";

	/* RFC 6455 §1.3 */
	is_int(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc), 0,
	       "accept key: RFC 6455 §1.3 example");
	is_str(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "accept key value");

	ok(ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=="), "key: 16 bytes valid");
	ok(!ws_key_valid(NULL), "key: NULL invalid");
	ok(!ws_key_valid(""), "key: empty invalid");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ="), "key: 23 chars invalid");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==="), "key: 25 chars invalid");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZQ== "), "key: trailing space invalid");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25j*Q=="), "key: bad character invalid");
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZR=="), "key: stray low bits invalid");
	/* 17 bytes: 24 characters with one '=' */
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZTE="), "key: 17 bytes invalid");
	/* 18 bytes: 24 characters, no padding */
	ok(!ws_key_valid("dGhlIHNhbXBsZSBub25jZTEy"), "key: 18 bytes invalid");

	strcpy(acc, "untouched");
	is_int(ws_accept_key("short", acc), -1, "accept key refuses a bad key");
	is_str(acc, "untouched", "output untouched on failure");
}

/* ------------------------------------------------------------ RFC 5.7 */

static void test_rfc_examples(void)
{
	static const uint8_t hello_unmasked[] = {
		0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t hello_masked[] = {
		0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t frag_unmasked[] = {
		0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
	static const uint8_t ping_unmasked[] = {
		0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t pong_masked[] = {
		0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	struct bytes b = { 0 };
	uint8_t *big = xmalloc(65536);
	char want[64];
	size_t i;

	is_str(events(100, hello_unmasked, sizeof(hello_unmasked)), "E1002",
	       "5.7 unmasked Hello refused with 1002 (we are a server)");
	is_str(events(100, hello_masked, sizeof(hello_masked)), "T(Hello)",
	       "5.7 masked Hello");
	is_str(events(100, frag_unmasked, sizeof(frag_unmasked)), "E1002",
	       "5.7 fragmented unmasked Hello refused with 1002");
	frame_s(&b, 0, WS_OP_TEXT, "Hel");
	frame_s(&b, 1, WS_OP_CONT, "lo");
	is_str(EV(&b), "T(Hello)", "5.7 fragmented Hello, masked");
	is_str(events(100, ping_unmasked, sizeof(ping_unmasked)), "E1002",
	       "5.7 unmasked ping refused with 1002");
	reset(&b);
	frame_s(&b, 1, WS_OP_PING, "Hello");
	is_str(EV(&b), "P(Hello)", "5.7 ping, masked");
	is_str(events(100, pong_masked, sizeof(pong_masked)), "O(Hello)",
	       "5.7 masked pong");

	for (i = 0; i < 65536; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	reset(&b);
	frame(&b, 1, WS_OP_BINARY, big, 256);
	ok(b.d[1] == (0x80 | 126) && b.d[2] == 0x01 && b.d[3] == 0x00,
	   "256-byte frame uses a 16-bit length");
	snprintf(want, sizeof(want), "B#256:%08x", (unsigned)fnv1a(big, 256));
	is_str(EV(&b), want, "5.7 256-byte binary, 16-bit length");

	reset(&b);
	frame(&b, 1, WS_OP_BINARY, big, 65536);
	ok(b.d[1] == (0x80 | 127) && b.d[7] == 0x01 && b.d[8] == 0 && b.d[9] == 0,
	   "64 KiB frame uses a 64-bit length");
	snprintf(want, sizeof(want), "B#65536:%08x", (unsigned)fnv1a(big, 65536));
	is_str(EV(&b), want, "5.7 64 KiB binary, 64-bit length");
	is_str(events(65535, b.d, b.n), "E1009",
	       "64 KiB binary over a 65535 limit: 1009");
	/* the 10 header bytes alone, no mask and no payload yet */
	is_str(events(65535, b.d, 10), "E1009", "1009 from the header alone");

	/* lengths in a longer form than needed are accepted */
	reset(&b);
	frame_ex(&b, 0x81, 1, 127, "Hello", 5);
	is_str(EV(&b), "T(Hello)", "non-minimal 64-bit length accepted");

	free(b.d);
	free(big);
}

/* -------------------------------------------------------- stream shapes */

static void test_streams(void)
{
	struct bytes b = { 0 };
	struct ws_parser p;
	struct ws_event ev;
	size_t used;
	int r;

	frame_s(&b, 1, WS_OP_TEXT, "one");
	frame_s(&b, 1, WS_OP_PING, "");
	frame(&b, 1, WS_OP_BINARY, "\x00\x01", 2);
	frame_s(&b, 1, WS_OP_TEXT, "");
	frame_s(&b, 1, WS_OP_PONG, "pp");
	frame_s(&b, 1, WS_OP_TEXT, "two");
	is_str(EV(&b), "T(one) P() B#2:1076963a T() O(pp) T(two)",
	       "several frames per chunk, any split");

	/* used stops right after the frame that completed an event */
	ws_parser_init(&p, 100);
	r = ws_parser_feed(&p, b.d, b.n, &used, &ev);
	ok(r == 1 && ev.type == WS_EV_TEXT && used == 9,
	   "feed stops after the first event");
	ws_parser_fini(&p);

	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "frag");
	frame_s(&b, 1, WS_OP_PING, "mid");
	frame_s(&b, 0, WS_OP_CONT, "men");
	frame_s(&b, 1, WS_OP_CLOSE, "");
	is_str(EV(&b), "P(mid) C1005()", "close between fragments");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "frag");
	frame_s(&b, 1, WS_OP_PING, "mid");
	frame_s(&b, 0, WS_OP_CONT, "men");
	frame_s(&b, 1, WS_OP_PONG, "x");
	frame_s(&b, 1, WS_OP_CONT, "ted");
	is_str(EV(&b), "P(mid) O(x) T(fragmented)",
	       "ping and pong between fragments");

	reset(&b);
	frame_s(&b, 0, WS_OP_BINARY, "");
	frame_s(&b, 0, WS_OP_CONT, "");
	frame_s(&b, 1, WS_OP_CONT, "");
	is_str(EV(&b), "B#0:811c9dc5", "empty fragments make an empty message");

	/* the message buffer is released between messages and reused */
	reset(&b);
	{
		uint8_t *m = xcalloc(1, 10000);

		frame(&b, 1, WS_OP_BINARY, m, 10000);
		frame_s(&b, 1, WS_OP_TEXT, "after");
		frame(&b, 1, WS_OP_BINARY, m, 10000);
		free(m);
	}
	is_str(events(10000, b.d, b.n), "B#10000:73d70505 T(after) B#10000:73d70505",
	       "messages of exactly max, buffer reused");

	free(b.d);
}

/* --------------------------------------------------------------- close */

static void test_close(void)
{
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008,
					 1009, 1010, 1011, 3000, 4000, 4999 };
	static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1012, 1015,
					1016, 2000, 2999, 5000, 65535 };
	struct bytes b = { 0 };
	char name[80], want[32];
	uint8_t pl[4];
	size_t i;

	frame_s(&b, 1, WS_OP_CLOSE, "");
	is_str(EV(&b), "C1005()", "empty close reports 1005");

	reset(&b);
	frame(&b, 1, WS_OP_CLOSE, "\x03\xe8" "bye", 5);
	frame_s(&b, 1, WS_OP_TEXT, "ignored");
	frame_s(&b, 1, 0x3, "not even parsed");
	is_str(EV(&b), "C1000(bye)", "close with code and reason; later input ignored");

	reset(&b);
	frame(&b, 1, WS_OP_CLOSE, "\x03", 1);
	is_str(EV(&b), "E1002", "1-byte close payload: 1002");

	for (i = 0; i < ARRAY_LEN(good); i++) {
		reset(&b);
		pl[0] = (uint8_t)(good[i] >> 8);
		pl[1] = (uint8_t)good[i];
		frame(&b, 1, WS_OP_CLOSE, pl, 2);
		snprintf(want, sizeof(want), "C%u()", good[i]);
		snprintf(name, sizeof(name), "close code %u accepted", good[i]);
		is_str(EV(&b), want, name);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		reset(&b);
		pl[0] = (uint8_t)(bad[i] >> 8);
		pl[1] = (uint8_t)bad[i];
		frame(&b, 1, WS_OP_CLOSE, pl, 2);
		snprintf(name, sizeof(name), "close code %u refused with 1002",
			 bad[i]);
		is_str(EV(&b), "E1002", name);
	}

	reset(&b);
	frame(&b, 1, WS_OP_CLOSE, "\x03\xe8\xc3\xa9t\xc3\xa9", 7);
	is_str(EV(&b), "C1000(\xc3\xa9t\xc3\xa9)", "UTF-8 close reason");
	reset(&b);
	frame(&b, 1, WS_OP_CLOSE, "\x03\xe8" "ab\xc3", 5);
	is_str(EV(&b), "E1007", "truncated UTF-8 close reason: 1007");
	reset(&b);
	frame(&b, 1, WS_OP_CLOSE, "\x03\xe8\xed\xa0\x80", 5);
	is_str(EV(&b), "E1007", "surrogate in close reason: 1007");

	free(b.d);
}

/* -------------------------------------------------------------- errors */

static void test_errors(void)
{
	static const int bad_ops[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };
	struct bytes b = { 0 };
	char big[256], name[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		reset(&b);
		frame_ex(&b, (uint8_t)(0x81 | (0x40 >> i)), 1, 0, "x", 1);
		snprintf(name, sizeof(name), "RSV%zu set: 1002", i + 1);
		is_str(EV(&b), "E1002", name);
	}
	reset(&b);
	frame_ex(&b, 0xC9, 1, 0, "x", 1);
	is_str(EV(&b), "E1002", "RSV1 on a ping: 1002");

	for (i = 0; i < ARRAY_LEN(bad_ops); i++) {
		reset(&b);
		frame(&b, 1, bad_ops[i], "x", 1);
		snprintf(name, sizeof(name), "opcode 0x%x: 1002", bad_ops[i]);
		is_str(EV(&b), "E1002", name);
	}

	reset(&b);
	frame_s(&b, 0, WS_OP_PING, "x");
	is_str(EV(&b), "E1002", "fragmented ping: 1002");
	reset(&b);
	frame_s(&b, 0, WS_OP_CLOSE, "");
	is_str(EV(&b), "E1002", "fragmented close: 1002");

	memset(big, 'a', sizeof(big));
	reset(&b);
	frame(&b, 1, WS_OP_PING, big, 125);
	is_str(EV(&b), "P#125", "125-byte ping accepted");
	reset(&b);
	frame(&b, 1, WS_OP_PING, big, 126);
	is_str(EV(&b), "E1002", "126-byte ping: 1002");
	reset(&b);
	frame_ex(&b, 0x8A, 1, 126, "x", 1);
	is_str(EV(&b), "E1002", "pong with a 16-bit length field: 1002");

	{
		static const uint8_t top[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0,
					       0, 1, 1, 2, 3, 4 };

		is_str(events(SIZE_MAX, top, sizeof(top)), "E1002",
		       "64-bit length with top bit set: 1002");
	}

	reset(&b);
	frame_s(&b, 1, WS_OP_CONT, "x");
	is_str(EV(&b), "E1002", "continuation without a message: 1002");
	reset(&b);
	frame_s(&b, 1, WS_OP_TEXT, "done");
	frame_s(&b, 1, WS_OP_CONT, "x");
	is_str(EV(&b), "T(done) E1002", "continuation after a final frame: 1002");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "a");
	frame_s(&b, 1, WS_OP_TEXT, "b");
	is_str(EV(&b), "E1002", "text inside a fragmented message: 1002");
	reset(&b);
	frame_s(&b, 0, WS_OP_BINARY, "a");
	frame_s(&b, 1, WS_OP_PING, "p");
	frame_s(&b, 1, WS_OP_BINARY, "b");
	is_str(EV(&b), "P(p) E1002", "binary inside a fragmented message: 1002");

	reset(&b);
	frame_ex(&b, 0x82, 0, 0, "abc", 3);
	is_str(EV(&b), "E1002", "unmasked binary: 1002");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "a");
	frame_ex(&b, 0x80, 0, 0, "b", 1);
	is_str(EV(&b), "E1002", "unmasked continuation: 1002");

	/* 1009: a single frame, and a message growing across fragments */
	reset(&b);
	frame(&b, 1, WS_OP_BINARY, big, 11);
	is_str(events(10, b.d, b.n), "E1009", "11 bytes over a 10-byte max: 1009");
	is_str(events(10, b.d, 2), "E1009", "... decided by the 2-byte header");
	reset(&b);
	frame(&b, 1, WS_OP_TEXT, big, 10);
	is_str(events(10, b.d, b.n), "T(aaaaaaaaaa)", "exactly max is fine");
	reset(&b);
	frame(&b, 0, WS_OP_TEXT, big, 6);
	frame(&b, 0, WS_OP_CONT, big, 4);
	frame(&b, 1, WS_OP_CONT, big, 1);
	is_str(events(10, b.d, b.n), "E1009", "fragments adding up over max: 1009");
	reset(&b);
	frame(&b, 0, WS_OP_TEXT, big, 6);
	frame(&b, 1, WS_OP_CONT, big, 200);
	is_str(events(10, b.d, 6 + 6 + 4), "E1009",
	       "fragment header announcing too much: 1009 before its payload");
	reset(&b);
	frame(&b, 1, WS_OP_PING, big, 20);
	is_str(events(10, b.d, b.n), "P(aaaaaaaaaaaaaaaaaaaa)",
	       "control frames are not bound by the message max");
	reset(&b);
	frame(&b, 1, WS_OP_TEXT, "", 0);
	is_str(events(0, b.d, b.n), "T()", "max 0 allows empty messages");

	/* an error is sticky */
	{
		struct ws_parser p;
		struct ws_event ev;
		size_t used;
		int r;

		reset(&b);
		frame_ex(&b, 0x81, 0, 0, "x", 1);
		ws_parser_init(&p, 100);
		r = ws_parser_feed(&p, b.d, b.n, &used, &ev);
		ok(r == 1 && ev.type == WS_EV_ERROR && ev.code == 1002 &&
		   ev.reason && used == 2, "error reported at the mask bit");
		diag("reason: %s", ev.reason ? ev.reason : "(null)");
		r = ws_parser_feed(&p, b.d + used, b.n - used, &used, &ev);
		ok(r == 1 && ev.type == WS_EV_ERROR && ev.code == 1002 &&
		   used == b.n - 2, "error repeats and swallows input");
		ws_parser_fini(&p);
	}
	free(b.d);
}

/* --------------------------------------------------------------- UTF-8 */

static void test_utf8(void)
{
	static const struct {
		const char *s;
		int valid;
		const char *name;
	} cases[] = {
		{ "plain ascii", 1, "ascii" },
		{ "\xc2\x80\xdf\xbf", 1, "2-byte bounds" },
		{ "\xe0\xa0\x80\xef\xbf\xbf", 1, "3-byte bounds" },
		{ "\xed\x9f\xbf\xee\x80\x80", 1, "around the surrogates" },
		{ "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 1, "4-byte bounds, U+10FFFF" },
		{ "\xf1\x80\x80\x80\xf3\xbf\xbf\xbf", 1, "4-byte, planes 4-15" },
		{ "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 1, "Greek kosme" },
		{ "\xc0\x80", 0, "overlong NUL" },
		{ "\xc1\xbf", 0, "overlong 2-byte" },
		{ "\xe0\x9f\xbf", 0, "overlong 3-byte" },
		{ "\xf0\x8f\xbf\xbf", 0, "overlong 4-byte" },
		{ "\xed\xa0\x80", 0, "high surrogate" },
		{ "\xed\xbf\xbf", 0, "low surrogate" },
		{ "\xf4\x90\x80\x80", 0, "above U+10FFFF" },
		{ "\xf5\x80\x80\x80", 0, "F5 lead" },
		{ "\xff", 0, "FF" },
		{ "\x80", 0, "lone continuation" },
		{ "a\xe2\x82", 0, "truncated at the end" },
		{ "\xe2\x28\xa1", 0, "bad continuation" },
	};
	struct bytes b = { 0 };
	char name[96];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *s = cases[i].s;

		snprintf(name, sizeof(name), "utf8_valid: %s", cases[i].name);
		is_int(utf8_valid(s, strlen(s)), cases[i].valid, name);
		reset(&b);
		frame_s(&b, 1, WS_OP_TEXT, s);
		snprintf(name, sizeof(name), "text frame: %s -> %s", cases[i].name,
			 cases[i].valid ? "delivered" : "1007");
		if (cases[i].valid)
			ok(EV(&b)[0] == 'T', name);
		else
			is_str(EV(&b), "E1007", name);
	}
	ok(utf8_valid("", 0), "utf8_valid: empty");
	ok(utf8_valid("a\0b", 3), "utf8_valid: NUL is a character");

	/* split across fragments, at every possible point */
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "price \xe2");
	frame_s(&b, 1, WS_OP_CONT, "\x82\xac");
	is_str(EV(&b), "T(price \xe2\x82\xac)", "euro sign split 1|2 across fragments");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "\xf0");
	frame_s(&b, 0, WS_OP_CONT, "\x9f\x98");
	frame_s(&b, 1, WS_OP_PING, "p");
	frame_s(&b, 1, WS_OP_CONT, "\x80!");
	is_str(EV(&b), "P(p) T(\xf0\x9f\x98\x80!)",
	       "4-byte character over three fragments with a ping between");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "\xe0");
	frame_s(&b, 1, WS_OP_CONT, "\x80\x80");
	is_str(EV(&b), "E1007", "overlong split across fragments: 1007");
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "ok \xe2\x82");
	frame_s(&b, 1, WS_OP_CONT, "");
	is_str(EV(&b), "E1007", "message ending inside a character: 1007");

	/* fail fast: the bad byte is refused before the message ends */
	reset(&b);
	frame_s(&b, 0, WS_OP_TEXT, "good \xff");
	is_str(EV(&b), "E1007", "invalid byte in an unfinished message: 1007 at once");
	reset(&b);
	frame_s(&b, 1, WS_OP_BINARY, "\xff\xfe");
	is_str(EV(&b), "B#2:d01ebb10", "binary is not checked for UTF-8");
	free(b.d);
}

/* ------------------------------------------------------------- encoders */

static void test_encoders(void)
{
	static const uint8_t bye[] = { 0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e' };
	uint8_t out[WS_CONTROL_FRAME_MAX + 8];
	char reason[200];
	size_t n;

	is_int(ws_frame_header(out, WS_OP_TEXT, 0), 2, "header, len 0: 2 bytes");
	ok(out[0] == 0x81 && out[1] == 0, "... FIN|text, unmasked");
	is_int(ws_frame_header(out, WS_OP_BINARY, 125), 2, "header, len 125: 2 bytes");
	ok(out[0] == 0x82 && out[1] == 125, "... bytes");
	is_int(ws_frame_header(out, WS_OP_TEXT, 126), 4, "header, len 126: 4 bytes");
	ok(out[1] == 126 && out[2] == 0 && out[3] == 126, "... 16-bit length");
	is_int(ws_frame_header(out, WS_OP_TEXT, 65535), 4, "header, len 65535: 4 bytes");
	ok(out[2] == 0xff && out[3] == 0xff, "... bytes");
	is_int(ws_frame_header(out, WS_OP_BINARY, 65536), 10, "header, len 65536: 10 bytes");
	ok(out[1] == 127 && out[2] == 0 && out[7] == 1 && out[8] == 0 && out[9] == 0,
	   "... 64-bit length");
	is_int(ws_frame_header(out, WS_OP_BINARY, 0x0102030405060708ull), 10,
	       "header, huge length");
	ok(out[2] == 1 && out[5] == 4 && out[9] == 8, "... big-endian");

	n = ws_close_frame(out, 1000, "bye");
	ok(n == sizeof(bye) && !memcmp(out, bye, n), "close frame 1000 \"bye\"");
	n = ws_close_frame(out, 1009, NULL);
	ok(n == 4 && out[0] == 0x88 && out[1] == 2 && out[2] == 0x03 && out[3] == 0xf1,
	   "close frame 1009, no reason");
	n = ws_close_frame(out, 0, "ignored");
	ok(n == 2 && out[0] == 0x88 && out[1] == 0, "close frame without a code");

	memset(reason, 'a', 122);
	strcpy(reason + 122, "\xc3\xa9zzz");
	n = ws_close_frame(out, 1000, reason);
	is_int(n, 2 + 2 + 122, "long reason cut before a split character");
	memset(reason, 'a', 121);
	strcpy(reason + 121, "\xc3\xa9zzz");
	n = ws_close_frame(out, 1000, reason);
	is_int(n, 2 + 125, "long reason cut to 123 bytes");
	ok(out[1] == 125 && utf8_valid(out + 4, 123), "... still UTF-8");

	n = ws_ping_frame(out, "abc", 3);
	ok(n == 5 && out[0] == 0x89 && out[1] == 3 && !memcmp(out + 2, "abc", 3),
	   "ping frame");
	n = ws_pong_frame(out, NULL, 0);
	ok(n == 2 && out[0] == 0x8a && out[1] == 0, "empty pong frame");
	memset(reason, 'x', sizeof(reason));
	is_int(ws_pong_frame(out, reason, 125), 127, "125-byte pong");
	is_int(ws_ping_frame(out, reason, 126), 0, "126-byte ping refused");
}

int main(void)
{
	test_handshake();
	test_rfc_examples();
	test_streams();
	test_close();
	test_errors();
	test_utf8();
	test_encoders();
	return tap_done();
}
