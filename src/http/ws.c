/*
 * ws — RFC 6455 WebSocket codec, server side.  See ws.h for the contract.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/util.h"
#include "http/ws.h"
#include "core/utf8.h"

/* §1.3: the GUID a server appends to the client's key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* A message buffer grown beyond this is released once its message has been
 * delivered, so that an idle connection does not keep a large peak alive. */
#define WS_KEEP_CAP 4096

enum ws_state {
	ST_HDR,		/* reading a frame header */
	ST_PAYLOAD,	/* reading a frame payload */
	ST_CLOSED,	/* the peer's close frame was delivered */
	ST_FAILED,	/* a protocol error was reported */
};

/* ------------------------------------------------------------ handshake */

static int b64_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int ws_key_valid(const char *key)
{
	uint8_t raw[18];
	size_t i;

	if (!key)
		return 0;
	/* 16 bytes encode to 22 characters and two '=' of padding. */
	for (i = 0; i < 22; i++)
		if (!b64_char((unsigned char)key[i]))
			return 0;
	if (key[22] != '=' || key[23] != '=' || key[24] != '\0')
		return 0;
	return b64_decode(key, 24, raw, sizeof(raw)) == 16;
}

int ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1])
{
	char buf[24 + sizeof(ws_guid)];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char tmp[WS_ACCEPT_LEN + 1];

	if (!ws_key_valid(client_key))
		return -1;
	memcpy(buf, client_key, 24);
	memcpy(buf + 24, ws_guid, sizeof(ws_guid) - 1);
	if (!EVP_Digest(buf, 24 + sizeof(ws_guid) - 1, md, &mdlen,
			EVP_sha1(), NULL) || mdlen != 20)
		return -1;
	if (b64_encode(md, mdlen, tmp, sizeof(tmp)) != WS_ACCEPT_LEN)
		return -1;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/* --------------------------------------------------------------- parser */

void ws_parser_init(struct ws_parser *p, size_t max_message)
{
	memset(p, 0, sizeof(*p));
	p->max_message = max_message;
	p->state = ST_HDR;
	p->hdr_need = 2;
	utf8_init(&p->utf8);
}

void ws_parser_fini(struct ws_parser *p)
{
	free(p->msg);
	p->msg = NULL;
	p->msg_len = p->msg_cap = 0;
}

static int is_control(int opcode)
{
	return opcode & 0x8;
}

/* Records a protocol error; the parser stays failed from now on. */
static int fail(struct ws_parser *p, struct ws_event *ev, uint16_t code,
		const char *reason)
{
	p->failure.type = WS_EV_ERROR;
	p->failure.code = code;
	p->failure.data = (const uint8_t *)"";
	p->failure.len = 0;
	p->failure.reason = reason;
	p->state = ST_FAILED;
	ws_parser_fini(p);
	*ev = p->failure;
	return 1;
}

static void emit(struct ws_event *ev, enum ws_event_type type, uint16_t code,
		 const uint8_t *data, size_t len)
{
	ev->type = type;
	ev->code = code;
	ev->data = data;
	ev->len = len;
	ev->reason = NULL;
}

/* The frame length from a complete header's length fields. */
static uint64_t header_length(const struct ws_parser *p)
{
	uint64_t n = p->hdr[1] & 0x7f;
	int i;

	if (n == 126)
		return (uint64_t)p->hdr[2] << 8 | p->hdr[3];
	if (n == 127) {
		n = 0;
		for (i = 0; i < 8; i++)
			n = n << 8 | p->hdr[2 + i];
	}
	return n;
}

/* A data frame of n more bytes must fit beside what was reassembled so far;
 * checked on the header alone so that nobody makes us buffer a payload we
 * are going to refuse anyway. */
static int too_big(const struct ws_parser *p, uint64_t n)
{
	return !is_control(p->opcode) &&
	       n > (uint64_t)(p->max_message - p->msg_len);
}

/*
 * Checks the header after its byte number hdr_have arrived, so each error
 * is found as early as the bytes allow.  Returns 0 to go on (hdr_need may
 * have grown), or 1 with *ev set to the error.
 */
static int header_byte(struct ws_parser *p, struct ws_event *ev)
{
	size_t ext;
	uint64_t n;

	if (p->hdr_have == 1) {
		uint8_t b = p->hdr[0];

		p->fin = !!(b & 0x80);
		p->opcode = b & 0x0f;
		/* No extension is ever negotiated, so no RSV bit has a meaning. */
		if (b & 0x70)
			return fail(p, ev, WS_CLOSE_PROTOCOL, "reserved bits set");
		switch (p->opcode) {
		case WS_OP_CONT:
			if (!p->msg_opcode)
				return fail(p, ev, WS_CLOSE_PROTOCOL,
					    "continuation without a message");
			break;
		case WS_OP_TEXT:
		case WS_OP_BINARY:
			if (p->msg_opcode)
				return fail(p, ev, WS_CLOSE_PROTOCOL,
					    "new message inside a fragmented one");
			break;
		case WS_OP_CLOSE:
		case WS_OP_PING:
		case WS_OP_PONG:
			if (!p->fin)
				return fail(p, ev, WS_CLOSE_PROTOCOL,
					    "fragmented control frame");
			break;
		default:
			return fail(p, ev, WS_CLOSE_PROTOCOL, "unknown opcode");
		}
		return 0;
	}
	if (p->hdr_have == 2) {
		uint8_t b = p->hdr[1];

		/* §5.1: a server closes on any unmasked client frame. */
		if (!(b & 0x80))
			return fail(p, ev, WS_CLOSE_PROTOCOL,
				    "unmasked client frame");
		n = b & 0x7f;
		if (is_control(p->opcode) && n > WS_MAX_CONTROL)
			return fail(p, ev, WS_CLOSE_PROTOCOL,
				    "control frame over 125 bytes");
		ext = n == 126 ? 2 : n == 127 ? 8 : 0;
		p->hdr_need = 2 + ext + 4;
		if (!ext && too_big(p, n))
			return fail(p, ev, WS_CLOSE_TOO_BIG, "message too big");
		return 0;
	}
	ext = p->hdr_need - 6;
	if (ext && p->hdr_have == 2 + ext) {
		/* §5.2: the most significant bit of a 64-bit length is 0. */
		if (ext == 8 && (p->hdr[2] & 0x80))
			return fail(p, ev, WS_CLOSE_PROTOCOL,
				    "64-bit length with top bit set");
		if (too_big(p, header_length(p)))
			return fail(p, ev, WS_CLOSE_TOO_BIG, "message too big");
	}
	return 0;
}

/* The header is complete: set up reading the payload. */
static void start_payload(struct ws_parser *p)
{
	memcpy(p->mask, p->hdr + p->hdr_need - 4, 4);
	p->remaining = header_length(p);
	p->mask_pos = 0;
	p->state = ST_PAYLOAD;
	if (is_control(p->opcode)) {
		p->ctl_len = 0;
	} else if (p->opcode != WS_OP_CONT) {
		p->msg_opcode = p->opcode;
		p->msg_len = 0;
		utf8_init(&p->utf8);
	}
}

/* Makes room for n more payload bytes plus the terminating NUL; the header
 * check guarantees the total stays within max_message + 1. */
static void msg_reserve(struct ws_parser *p, size_t n)
{
	size_t want = p->msg_len + n + 1, cap;

	if (want <= p->msg_cap)
		return;
	cap = p->msg_cap ? p->msg_cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (cap > p->max_message + 1)
		cap = p->max_message + 1;
	if (cap < want)
		cap = want;
	p->msg = xrealloc(p->msg, cap);
	p->msg_cap = cap;
}

static int close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1011) ||
	       (code >= 3000 && code <= 4999);
}

/* The last payload byte of a frame arrived.  Returns 1 with *ev set when
 * the frame completes an event, 0 otherwise. */
static int frame_done(struct ws_parser *p, struct ws_event *ev)
{
	p->state = ST_HDR;
	p->hdr_have = 0;
	p->hdr_need = 2;

	if (is_control(p->opcode)) {
		uint8_t *c = p->ctl;
		size_t n = p->ctl_len;

		c[n] = '\0';
		p->delivered = 1;
		if (p->opcode == WS_OP_PING) {
			emit(ev, WS_EV_PING, 0, c, n);
			return 1;
		}
		if (p->opcode == WS_OP_PONG) {
			emit(ev, WS_EV_PONG, 0, c, n);
			return 1;
		}
		if (n == 0) {
			emit(ev, WS_EV_CLOSE, WS_CLOSE_NO_STATUS, c, 0);
		} else {
			unsigned code = (unsigned)c[0] << 8 | c[1];

			if (n == 1)
				return fail(p, ev, WS_CLOSE_PROTOCOL,
					    "close payload of 1 byte");
			if (!close_code_valid(code))
				return fail(p, ev, WS_CLOSE_PROTOCOL,
					    "invalid close code");
			if (!utf8_valid(c + 2, n - 2))
				return fail(p, ev, WS_CLOSE_BAD_DATA,
					    "close reason not UTF-8");
			emit(ev, WS_EV_CLOSE, (uint16_t)code, c + 2, n - 2);
		}
		p->state = ST_CLOSED;
		return 1;
	}

	if (!p->fin)
		return 0;
	if (p->msg_opcode == WS_OP_TEXT && !utf8_complete(&p->utf8))
		return fail(p, ev, WS_CLOSE_BAD_DATA,
			    "text ends inside a UTF-8 sequence");
	if (p->msg)
		p->msg[p->msg_len] = '\0';
	emit(ev, p->msg_opcode == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY, 0,
	     p->msg ? p->msg : (const uint8_t *)"", p->msg_len);
	p->msg_opcode = 0;
	p->msg_len = 0;
	p->delivered = 1;
	return 1;
}

/* Unmasks n payload bytes from in; returns 1 with *ev set on an error. */
static int payload_bytes(struct ws_parser *p, const uint8_t *in, size_t n,
			 struct ws_event *ev)
{
	uint8_t *dst, key[8];
	uint64_t kw;
	size_t i;

	if (is_control(p->opcode)) {
		dst = p->ctl + p->ctl_len;
		p->ctl_len += n;
	} else {
		msg_reserve(p, n);
		dst = p->msg + p->msg_len;
		p->msg_len += n;
	}
	/* Eight bytes at a time, with the key turned to where this
	 * stretch of payload starts. */
	for (i = 0; i < 8; i++)
		key[i] = p->mask[(p->mask_pos + i) & 3];
	memcpy(&kw, key, 8);
	for (i = 0; n - i >= 8; i += 8) {
		uint64_t w;

		memcpy(&w, in + i, 8);
		w ^= kw;
		memcpy(dst + i, &w, 8);
	}
	for (; i < n; i++)
		dst[i] = in[i] ^ key[i & 7];
	p->mask_pos = (p->mask_pos + n) & 3;

	/* Checked as the bytes arrive so that bad text fails fast, without
	 * waiting for the rest of a long message. */
	if (!is_control(p->opcode) && p->msg_opcode == WS_OP_TEXT &&
	    utf8_feed(&p->utf8, dst, n) < 0)
		return fail(p, ev, WS_CLOSE_BAD_DATA, "text is not UTF-8");
	return 0;
}

int ws_parser_feed(struct ws_parser *p, const void *buf, size_t len,
		   size_t *used, struct ws_event *ev)
{
	const uint8_t *in = buf;
	size_t pos = 0;

	if (p->delivered) {
		/* The previous event's data may now be reused. */
		p->delivered = 0;
		if (!p->msg_opcode && p->msg_cap > WS_KEEP_CAP)
			ws_parser_fini(p);
	}
	if (p->state == ST_FAILED) {
		*used = len;
		*ev = p->failure;
		return 1;
	}
	if (p->state == ST_CLOSED) {
		*used = len;
		return 0;
	}

	while (pos < len) {
		if (p->state == ST_HDR) {
			/* One byte at a time: headers are at most 14 bytes and
			 * each byte may decide an error or the header size. */
			p->hdr[p->hdr_have++] = in[pos++];
			if (header_byte(p, ev))
				goto out_event;
			if (p->hdr_have < p->hdr_need)
				continue;
			start_payload(p);
			if (p->remaining == 0 && frame_done(p, ev))
				goto out_event;
		} else {
			size_t n = len - pos;

			if (n > p->remaining)
				n = (size_t)p->remaining;
			if (payload_bytes(p, in + pos, n, ev)) {
				pos += n;
				goto out_event;
			}
			pos += n;
			p->remaining -= n;
			if (p->remaining == 0 && frame_done(p, ev))
				goto out_event;
		}
	}
	*used = pos;
	return 0;

out_event:
	*used = pos;
	return 1;
}

/* -------------------------------------------------------------- encoders */

size_t ws_frame_header(uint8_t *out, int opcode, uint64_t len)
{
	int i;

	out[0] = 0x80 | (opcode & 0x0f);
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

static size_t control_frame(uint8_t *out, int opcode, const void *payload,
			    size_t len)
{
	size_t h;

	if (len > WS_MAX_CONTROL)
		return 0;
	h = ws_frame_header(out, opcode, len);
	if (len)
		memcpy(out + h, payload, len);
	return h + len;
}

size_t ws_close_frame(uint8_t *out, uint16_t code, const char *reason)
{
	uint8_t payload[WS_MAX_CONTROL];
	size_t n = 0, max = WS_MAX_CONTROL - 2;

	if (code == 0)
		return control_frame(out, WS_OP_CLOSE, NULL, 0);
	payload[0] = (uint8_t)(code >> 8);
	payload[1] = (uint8_t)code;
	if (reason) {
		n = strlen(reason);
		if (n > max) {
			/* Cut before the continuation bytes of a character
			 * that would not fit whole. */
			n = max;
			while (n > 0 && ((uint8_t)reason[n] & 0xC0) == 0x80)
				n--;
		}
		memcpy(payload + 2, reason, n);
	}
	return control_frame(out, WS_OP_CLOSE, payload, 2 + n);
}

size_t ws_ping_frame(uint8_t *out, const void *payload, size_t len)
{
	return control_frame(out, WS_OP_PING, payload, len);
}

size_t ws_pong_frame(uint8_t *out, const void *payload, size_t len)
{
	return control_frame(out, WS_OP_PONG, payload, len);
}
