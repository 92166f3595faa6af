/*
 * ws — RFC 6455 WebSocket codec, server side.
 *
 * Pure: bytes in, events out.  No sockets, no event loop, no logging; the
 * connection code owns the transport and decides what to do with events.
 *
 * Receiving: a caller-owned struct ws_parser is fed whatever bytes arrived
 * (a frame may come one byte at a time, or several frames in one chunk) and
 * hands back one event per call (a pull API):
 *
 *	struct ws_event ev;
 *	size_t used;
 *
 *	while (len > 0) {
 *		int r = ws_parser_feed(&p, buf, len, &used, &ev);
 *		buf += used;
 *		len -= used;
 *		if (r == 0)
 *			break;		// all input consumed, need more bytes
 *		handle(&ev);		// may stop on WS_EV_CLOSE / WS_EV_ERROR
 *	}
 *
 * Sending: the server never masks, so frames are a header from
 * ws_frame_header() followed by the payload as is; close, ping and pong
 * frames are small enough to be built whole into a caller buffer.
 */
#ifndef FERRY_WS_H
#define FERRY_WS_H

#include "core/utf8.h"
#include <stddef.h>
#include <stdint.h>

/* Frame opcodes (RFC 6455 §5.2). */
enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close status codes (RFC 6455 §7.4.1) that ferry sends or reports. */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,	/* reported only: close frame had no code */
	WS_CLOSE_BAD_DATA = 1007,	/* text that is not UTF-8 */
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

/* "Sec-WebSocket-Accept" values are base64 of a SHA-1: 28 characters. */
#define WS_ACCEPT_LEN 28
/* Longest server frame header: 2 bytes + 64-bit length, never a mask. */
#define WS_MAX_HEADER 10
/* Control frame payloads are at most 125 bytes (§5.5). */
#define WS_MAX_CONTROL 125
/* A whole close/ping/pong frame fits in this many bytes. */
#define WS_CONTROL_FRAME_MAX (2 + WS_MAX_CONTROL)

/*
 * 1 when key is a valid Sec-WebSocket-Key: the padded base64 of exactly
 * 16 bytes (24 characters, §4.1 item 7), 0 otherwise (including NULL).
 * The caller strips the header value's surrounding whitespace first.
 */
int ws_key_valid(const char *key);

/*
 * Writes the Sec-WebSocket-Accept value for client_key (§4.2.2 item 5.4:
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))) into out as
 * a NUL-terminated string.  Returns 0, or -1 (out untouched) when
 * client_key is not ws_key_valid() or hashing failed.
 */
int ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1]);


enum ws_event_type {
	WS_EV_TEXT,	/* complete text message, valid UTF-8 */
	WS_EV_BINARY,	/* complete binary message */
	WS_EV_PING,	/* answer with a pong carrying the same payload */
	WS_EV_PONG,
	WS_EV_CLOSE,	/* peer's close: code and reason */
	WS_EV_ERROR,	/* protocol violation: send a close with code, drop */
};

/*
 * One event.  data/len point into memory owned by the parser and stay
 * valid until the next ws_parser_feed() or ws_parser_fini() on it; copy
 * what must live longer.  data is followed by a NUL byte not counted in
 * len, so a text message or a close reason can be used as a C string when
 * it has no embedded NUL.  len may be 0 (data is then "").
 *
 *  TEXT/BINARY  data/len = the message reassembled from its fragments
 *  PING/PONG    data/len = the control payload (0–125 bytes)
 *  CLOSE        code = the peer's status, WS_CLOSE_NO_STATUS (1005) when
 *               the frame had no payload; data/len = its UTF-8 reason
 *  ERROR        code = the status to send in our close frame (1002, 1007
 *               or 1009); reason = a short static English phrase for logs;
 *               data = "", len = 0
 */
struct ws_event {
	enum ws_event_type type;
	uint16_t code;
	const uint8_t *data;
	size_t len;
	const char *reason;	/* ERROR only, NULL otherwise */
};

/*
 * Incremental frame parser for frames sent by a client.  Caller-allocated
 * (embed it in the connection); the members are private.  It owns one
 * growing buffer for the message being reassembled, never larger than
 * max_message + 1 bytes.
 */
struct ws_parser {
	size_t max_message;
	int state;
	/* the frame header being read */
	uint8_t hdr[14];
	size_t hdr_have, hdr_need;
	/* the frame whose payload is being read */
	int opcode;
	int fin;
	uint8_t mask[4];
	uint64_t remaining;
	size_t mask_pos;
	/* the data message being reassembled across fragments */
	int msg_opcode;		/* 0 when no message is in progress */
	uint8_t *msg;
	size_t msg_len, msg_cap;
	struct utf8_state utf8;	/* incremental check of a text message */
	/* the control frame being read; +1 for a terminating NUL */
	uint8_t ctl[WS_MAX_CONTROL + 1];
	size_t ctl_len;
	int delivered;		/* an event's data must be released on next feed */
	struct ws_event failure; /* sticky once the parser has failed */
};

/*
 * Prepares p for a new connection.  max_message bounds a reassembled data
 * message (after unmasking); a frame header announcing more than that is
 * refused at once with 1009.  Allocates nothing.
 */
void ws_parser_init(struct ws_parser *p, size_t max_message);

/* Releases the message buffer.  p may be re-initialised afterwards. */
void ws_parser_fini(struct ws_parser *p);

/*
 * Consumes bytes from buf[0..len) until one event completes or the input
 * runs out.  *used is set to the number of bytes consumed (the rest belong
 * to later frames and must be fed again).  Returns 1 with *ev filled when
 * an event completed, 0 when all len bytes were consumed without one.
 *
 * After WS_EV_ERROR the parser is dead: every later call consumes all its
 * input and returns the same error again.  After WS_EV_CLOSE the peer may
 * send nothing more (§5.5.1), so later input is consumed and ignored
 * (return 0).  Neither ever loops a caller that stops at len == 0.
 */
int ws_parser_feed(struct ws_parser *p, const void *buf, size_t len,
		   size_t *used, struct ws_event *ev);

/*
 * Writes an unmasked, final (FIN) frame header for opcode and a payload of
 * len bytes into out (at least WS_MAX_HEADER bytes) and returns its length:
 * 2, 4 or 10.  The payload follows the header unchanged.
 */
size_t ws_frame_header(uint8_t *out, int opcode, uint64_t len);

/*
 * Builds a complete close frame into out (at least WS_CONTROL_FRAME_MAX
 * bytes) and returns its length.  code 0 sends an empty payload (and no
 * reason); otherwise code should be one a peer may receive (not 1005,
 * 1006 or 1015, which only describe a missing status) and reason (NULL
 * for none, else UTF-8) is cut to the 123 bytes that fit, at a character
 * boundary.
 */
size_t ws_close_frame(uint8_t *out, uint16_t code, const char *reason);

/*
 * Build a complete ping or pong frame with the given payload into out (at
 * least WS_CONTROL_FRAME_MAX bytes) and return its length, or 0 when len
 * exceeds WS_MAX_CONTROL.
 */
size_t ws_ping_frame(uint8_t *out, const void *payload, size_t len);
size_t ws_pong_frame(uint8_t *out, const void *payload, size_t len);

#endif
