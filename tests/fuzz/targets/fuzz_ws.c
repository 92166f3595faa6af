/*
 * fuzz_ws — the WebSocket frame parser on arbitrary client bytes.
 *
 * The input is parsed three ways: in one piece, split in two at a point
 * derived from the data, and one byte at a time.  All three must give the
 * same events (the parser's results may not depend on how TCP cut the
 * stream), and every event must keep the contract in ws.h.  A violation
 * aborts, which the fuzzer and the replayer both report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "http/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so that 1009 and buffer growth are reached by short inputs. */
#define FUZZ_MAX 200

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull;
}

static void check_event(const struct ws_event *ev)
{
	uint8_t frame[WS_CONTROL_FRAME_MAX];

	CHECK(ev->data != NULL);
	CHECK(ev->data[ev->len] == '\0');
	switch (ev->type) {
	case WS_EV_TEXT:
		CHECK(utf8_valid(ev->data, ev->len));
		/* fall through */
	case WS_EV_BINARY:
		CHECK(ev->len <= FUZZ_MAX);
		break;
	case WS_EV_PING:
	case WS_EV_PONG:
		CHECK(ev->len <= WS_MAX_CONTROL);
		/* answering a ping always fits */
		CHECK(ws_pong_frame(frame, ev->data, ev->len) == 2 + ev->len);
		break;
	case WS_EV_CLOSE:
		CHECK(ev->len <= WS_MAX_CONTROL - 2);
		CHECK(utf8_valid(ev->data, ev->len));
		CHECK(ev->code == WS_CLOSE_NO_STATUS ||
		      (ev->code >= 1000 && ev->code < 5000));
		CHECK(ws_close_frame(frame, ev->code, (const char *)ev->data) <=
		      sizeof(frame));
		break;
	case WS_EV_ERROR:
		CHECK(ev->code == WS_CLOSE_PROTOCOL ||
		      ev->code == WS_CLOSE_BAD_DATA ||
		      ev->code == WS_CLOSE_TOO_BIG);
		CHECK(ev->reason != NULL && ev->len == 0);
		break;
	default:
		abort();
	}
}

/* Feeds data byte by byte when bytewise, else in two pieces cut at `cut`
 * (cut == size: in one piece), and returns a digest of the events. */
static uint64_t run(const uint8_t *data, size_t size, size_t cut, int bytewise)
{
	struct ws_parser p;
	struct ws_event ev;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t off = 0, i;
	int failed = 0;

	ws_parser_init(&p, FUZZ_MAX);
	while (off < size && !failed) {
		size_t end = bytewise ? off + 1 : off < cut ? cut : size;
		size_t avail = end - off;
		const uint8_t *c = data + off;

		while (avail > 0) {
			size_t used = SIZE_MAX;
			int r = ws_parser_feed(&p, c, avail, &used, &ev);

			CHECK(used <= avail);
			c += used;
			avail -= used;
			off += used;
			if (r == 0) {
				CHECK(avail == 0);
				break;
			}
			check_event(&ev);
			h = mix(h, ev.type);
			h = mix(h, ev.code);
			h = mix(h, ev.len);
			for (i = 0; i < ev.len; i++)
				h = mix(h, ev.data[i]);
			if (ev.type == WS_EV_ERROR) {
				failed = 1;
				break;
			}
		}
	}
	ws_parser_fini(&p);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t whole, split;
	size_t cut;

	if (size == 0)
		return 0;
	cut = ((size_t)data[0] * 31 + size) % (size + 1);
	whole = run(data, size, size, 0);
	split = run(data, size, cut, 0);
	CHECK(whole == split);
	if (size <= 4096)
		CHECK(run(data, size, 0, 1) == whole);

	/* the handshake helpers on the same bytes as a header value */
	if (size <= 64) {
		char key[65], acc[WS_ACCEPT_LEN + 1];

		memcpy(key, data, size);
		key[size] = '\0';
		if (ws_key_valid(key))
			CHECK(ws_accept_key(key, acc) == 0 &&
			      strlen(acc) == WS_ACCEPT_LEN);
		else
			CHECK(ws_accept_key(key, acc) == -1);
	}
	return 0;
}
