/*
 * jscan: spans of a top-level object's members, and the promise that it
 * never accepts what jansson (with JSON_REJECT_DUPLICATES) would refuse,
 * checked on fixed cases and on random mutations of real messages.
 */
#include "signal/jscan.h"
#include "../tap.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int jansson_ok(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
	int ok = json_is_object(j);

	json_decref(j);
	return ok;
}

static int scan(const char *s, struct jscan_member *m, size_t *n)
{
	return jscan_object(s, strlen(s), 8, m, n);
}

static void fixed_cases(void)
{
	struct jscan_member m[JSCAN_MAX_MEMBERS];
	size_t n;
	static const char *const bad[] = {
		"", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1}x",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\x01\"}",
		"{\"a\":1,\"a\":2}", "{\"\\u0061\":1}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\uDFFF\"}",
		"{\"a\":[1,]}", "{\"a\":{\"b\"}}", "{'a':1}",
		"{\"a\":1e400}", "{\"a\":123456789012345678901}",
		"{\"a\":\"ba\xe3k\"}", "{\"a\":\"\xff\"}", "{\"\xc0\xaf\":1}",
	};
	size_t i;

	is_int(scan("{\"type\":\"offer\",\"to\":\"p-1\",\"sdp\":\"v=0\\r\\n\"}", m, &n), 0,
	       "an offer scans");
	is_int(n, 3, "three members");
	ok(m[2].keylen == 3 && memcmp(m[2].key, "sdp", 3) == 0, "third key is sdp");
	ok(m[2].vallen == strlen("\"v=0\\r\\n\"") &&
	   memcmp(m[2].val, "\"v=0\\r\\n\"", m[2].vallen) == 0,
	   "sdp span is the raw escaped string with its quotes");
	ok(m[2].kind == 's' && m[2].val_escaped, "sdp is an escaped string");
	ok(m[0].kind == 's' && !m[0].val_escaped, "type is a plain string");
	is_int(scan(" { \"a\" : 1.5e-3 , \"b\" : null , \"c\" : [1,{\"d\":true}] } ", m, &n), 0,
	       "white space, numbers, null, nesting");
	ok(n == 3 && m[0].kind == 'n' && m[1].kind == 'z' && m[2].kind == 'a',
	   "kinds recorded");
	ok(m[2].vallen == strlen("[1,{\"d\":true}]"), "array span");
	is_int(scan("{}", m, &n), 0, "empty object");
	is_int(n, 0, "no members");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[80];
		snprintf(name, sizeof(name), "refused: %.60s", bad[i]);
		is_int(jscan_object(bad[i], strlen(bad[i]), 8, m, &n), -1, name);
	}
	is_int(jscan_object("{\"a\":[[[1]]]}", 13, 1, m, &n), -1, "nesting deeper than allowed");
	is_int(jscan_object("{\"a\":[[[1]]]}", 13, 3, m, &n), 0, "nesting within the limit");
}

/* Deterministic mutations of real messages: whatever jscan accepts,
 * jansson must accept too. */
static void never_more_than_jansson(void)
{
	static const char *const seeds[] = {
		"{\"type\":\"offer\",\"to\":\"abc-1\",\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}",
		"{\"type\":\"candidate\",\"to\":\"abc-2\",\"candidate\":{\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 5 typ relay\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}",
		"{\"type\":\"broadcast\",\"data\":{\"kind\":\"chat\",\"text\":\"h\\u00e9llo\"}}",
		"{\"type\":\"ping\",\"id\":-12.5e+3}",
	};
	const char alphabet[] = "{}[]\":,\\u0123456789abcdefnrtlsx -.eE+\x01\xe3\xff\xc3\xa9";
	uint64_t x = 0x9E3779B97F4A7C15ull;
	struct jscan_member m[JSCAN_MAX_MEMBERS];
	unsigned long accepted = 0, wrong = 0, runs = 0;
	char buf[512];
	size_t n;
	int it;

	for (it = 0; it < 200000; it++) {
		const char *seed = seeds[it % 4];
		size_t len = strlen(seed), k;
		int edits;

		memcpy(buf, seed, len);
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		edits = 1 + (int)(x % 3);
		for (k = 0; k < (size_t)edits; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			size_t at = (size_t)(x % len);
			char ch = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
			switch ((x >> 40) % 3) {
			case 0: buf[at] = ch; break;                       /* replace */
			case 1: if (len < sizeof(buf) - 1) {               /* insert */
					memmove(buf + at + 1, buf + at, len - at);
					buf[at] = ch;
					len++;
				}
				break;
			default: if (len > 1) {                            /* delete */
					memmove(buf + at, buf + at + 1, len - at - 1);
					len--;
				}
			}
		}
		runs++;
		if (jscan_object(buf, len, 8, m, &n) == 0) {
			accepted++;
			if (!jansson_ok(buf, len)) {
				if (wrong++ < 3)
					diag("jscan accepted what jansson refuses: %.*s", (int)len, buf);
			}
		}
	}
	diag("%lu mutations, %lu accepted by jscan", runs, accepted);
	ok(accepted > 1000, "mutations reach the accepting paths");
	is_int(wrong, 0, "jscan never accepts what jansson refuses");
}

int main(void)
{
	fixed_cases();
	never_more_than_jansson();
	return tap_done();
}
