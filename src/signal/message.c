/*
 * message — see message.h.
 *
 * The table below is the protocol's list of what a client may send: which
 * types exist, when each is allowed, the members each takes with their
 * JSON types, and what is done with it.  Every inbound message is checked
 * against it before anything is done, and every refusal maps to one of
 * the protocol's stable error codes (doc/signaling.md); handlers may therefore read their
 * members without checking them again.
 *
 * offer, answer, candidate and broadcast have no handler: the row says
 * where such a message goes (the peer its P_TO member names, else every
 * other peer of the room) and which members it carries (P_RELAY), and
 * relay() does that for all of them.  These are the bulk of signaling,
 * and their SDP is kilobytes of escaped text that a parse-and-dump round
 * trip would unescape and escape again; so a message from a joined peer
 * is first scanned with signal/jscan, and when the scanner vouches for
 * all the row asks (scan_relay), relay() gets the members' bytes as they
 * came, with no tree built.  Anything else goes to jansson and the same
 * row; the scanner is an optimisation, never a second set of rules.
 */
#include "signal/message.h"
#include "signal/conn.h"
#include "signal/deliver.h"
#include "signal/jscan.h"
#include "signal/join.h"
#include "signal/room.h"
#include "core/names.h"
#include "core/utf8.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- parameter table */

/* Sets of JSON types a member may have. */
#define JT(t) (1u << (t))
#define T_STRING JT(JSON_STRING)
#define T_CANDIDATE (JT(JSON_OBJECT) | JT(JSON_NULL))
#define T_ANY (JT(JSON_OBJECT) | JT(JSON_ARRAY) | JT(JSON_STRING) | \
	       JT(JSON_INTEGER) | JT(JSON_REAL) | JT(JSON_TRUE) | \
	       JT(JSON_FALSE) | JT(JSON_NULL))

/* struct param.flags */
#define P_REQUIRED 0x01   /* its absence is bad-message */
/* A relay goes to the peer whose id this (required, string) member holds;
 * a relay row without one goes to every other peer of the room. */
#define P_TO 0x02
/* Carried by the relayed message, after type and from, in table order
 * (doc/signaling.md §5, "Relayed messages"). */
#define P_RELAY 0x04
/* With P_RELAY: may be relayed as the very bytes that came, once the
 * scanner vouched for them.  Without it the member is what jansson
 * writes, and so its messages always take the jansson path: broadcast's
 * data may be any value nested to any depth, which the scanner cannot
 * check (it leaves duplicate keys below the first level to jansson). */
#define P_AS_SENT 0x08

/* Room for the pieces of a relay that come from the table: a row's head
 * (RELAY_HEAD) and a member's wire form.  relay() copies each whole, a
 * fixed size the compiler copies inline, so both are arrays of this size
 * (the compiler warns at a name too long for them). */
#define HEAD_MAX 32
#define WIRE_MAX 16

/* Members a type takes, at most: each row is an array of PARAMS_MAX (the
 * compiler warns at more initializers), its unused places zero. */
#define PARAMS_MAX 4

struct param {
	const char *member;               /* NULL: no more members */
	size_t len;                       /* strlen(member) */
	/* ,"member": for a relay, copied as a whole (see relay()) */
	char wire[WIRE_MAX];
	unsigned types;
	unsigned flags;
	const char *expect;               /* the types, for error messages */
	/* NULL, or a further check of a value of the right type: returns
	 * NULL when it is fine, else what it must be.  A member with one is
	 * never taken from the scanner. */
	const char *(*check)(json_t *v);
};

#define PARAM(member, types, flags, expect, check) \
	{ member, sizeof(member) - 1, ",\"" member "\":", types, flags, \
	  expect, check }

static const char *check_room(json_t *v)
{
	return names_room(json_string_value(v)) ? NULL :
	       "1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'";
}

/* jansson's strings are valid UTF-8 without a NUL. */
static const char *check_name(json_t *v)
{
	const char *name = json_string_value(v);

	return utf8_chars(name, strlen(name)) <= SIG_NAME_MAX ? NULL :
	       "a string of at most 64 characters";
}

static const struct param join_params[PARAMS_MAX] = {
	PARAM("room", T_STRING, P_REQUIRED, "a string", check_room),
	PARAM("name", T_STRING, 0, "a string", check_name),
	/* Required when signaling-secret is set; its absence is then
	 * "unauthorized", not "bad-message", so the table says optional. */
	PARAM("token", T_STRING, 0, "a string", NULL),
	PARAM("resume", T_STRING, 0, "a string", NULL),
};

static const struct param sdp_params[PARAMS_MAX] = {
	PARAM("to", T_STRING, P_REQUIRED | P_TO, "a string", NULL),
	PARAM("sdp", T_STRING, P_REQUIRED | P_RELAY | P_AS_SENT, "a string",
	      NULL),
};

/* doc/signaling.md §4: the candidate object (or null) "exactly as sent". */
static const struct param candidate_params[PARAMS_MAX] = {
	PARAM("to", T_STRING, P_REQUIRED | P_TO, "a string", NULL),
	PARAM("candidate", T_CANDIDATE, P_REQUIRED | P_RELAY | P_AS_SENT,
	      "an object or null", NULL),
};

static const struct param broadcast_params[PARAMS_MAX] = {
	PARAM("data", T_ANY, P_REQUIRED | P_RELAY, "any JSON value", NULL),
};

static const struct param ping_params[PARAMS_MAX] = {
	PARAM("id", T_ANY, 0, "any JSON value", NULL),
};

static const struct param no_params[PARAMS_MAX];

/* When a type is accepted. */
enum when {
	W_ANY,        /* ping */
	W_UNJOINED,   /* join */
	W_JOINED,     /* everything else */
};

struct msg_type {
	const char *name;
	size_t len;                       /* strlen(name) */
	/* {"type":"name","from":" — how a relay of it begins */
	char head[HEAD_MAX];
	size_t headlen;
	enum when when;
	const struct param *params;       /* PARAMS_MAX of them */
	/* Called only after the checks passed; c->peer is set for W_JOINED.
	 * NULL for a relay, which the params describe. */
	void (*handle)(struct sig *s, struct sig_conn *c, json_t *m,
		       const char *type);
};

static void on_leave(struct sig *s, struct sig_conn *c, json_t *m,
		     const char *type);
static void on_ping(struct sig *s, struct sig_conn *c, json_t *m,
		    const char *type);

#define RELAY_HEAD(name) "{\"type\":\"" name "\",\"from\":\""
#define MSG(name, when, params, handle) \
	{ name, sizeof(name) - 1, RELAY_HEAD(name), \
	  sizeof(RELAY_HEAD(name)) - 1, when, params, handle }

static const struct msg_type msg_types[] = {
	MSG("join", W_UNJOINED, join_params, join_handle),
	MSG("offer", W_JOINED, sdp_params, NULL),
	MSG("answer", W_JOINED, sdp_params, NULL),
	MSG("candidate", W_JOINED, candidate_params, NULL),
	MSG("broadcast", W_JOINED, broadcast_params, NULL),
	MSG("leave", W_JOINED, no_params, on_leave),
	MSG("ping", W_ANY, ping_params, on_ping),
};

/* a[0..n) == b[0..n).  Names and keys are short, and compared for every
 * member of every relayed message: up to 16 bytes are two loads of each
 * side (overlapping, never beyond n), cheaper than a call to memcmp. */
static inline int same(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;
	uint32_t c0, c1, d0, d1;

	if (n > 16)
		return memcmp(a, b, n) == 0;
	if (n >= 8) {
		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + n - 8, 8);
		memcpy(&b1, b + n - 8, 8);
		return a0 == b0 && a1 == b1;
	}
	if (n >= 4) {
		memcpy(&c0, a, 4);
		memcpy(&d0, b, 4);
		memcpy(&c1, a + n - 4, 4);
		memcpy(&d1, b + n - 4, 4);
		return c0 == d0 && c1 == d1;
	}
	if (n >= 2) {
		uint16_t e0, e1, f0, f1;

		memcpy(&e0, a, 2);
		memcpy(&f0, b, 2);
		memcpy(&e1, a + n - 2, 2);
		memcpy(&f1, b + n - 2, 2);
		return e0 == f0 && e1 == f1;
	}
	return n == 0 || a[0] == b[0];
}

/* The row of type name[0..len), or NULL. */
static const struct msg_type *find_type(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(msg_types); i++)
		if (msg_types[i].len == len && same(msg_types[i].name, name, len))
			return &msg_types[i];
	return NULL;
}

/* 1 when a message of type t may come on c now. */
static int allowed(const struct msg_type *t, const struct sig_conn *c)
{
	return t->when == W_ANY || (t->when == W_JOINED) == (c->peer != NULL);
}

/* ---------------------------------------------------------------- relay */

/* A relayed member's JSON text; text NULL: the member is absent. */
struct span {
	const char *text;
	size_t len;
};

static char *put(char *o, const char *src, size_t n)
{
	memcpy(o, src, n);
	return o + n;
}

/*
 * The relay of a message of type t from c's peer: to the peer whose id is
 * to[0..tolen) when t has a P_TO member (else to every other peer of the
 * room), as {"type":T,"from":ID,M:V,…} with vals[k] the JSON text of
 * t->params[k] for its P_RELAY members.  A `to` that names no peer of the
 * room, or the sender, is unknown-peer.
 */
static void relay(struct sig *s, struct sig_conn *c, const struct msg_type *t,
		  const char *to, size_t tolen, const struct span *vals)
{
	const struct param *pt = t->params;
	struct sig_peer *p = c->peer, *dst = NULL;
	size_t need, k;
	/* A relay of up to 4 KiB, with the slack, needs no allocation. */
	char stackbuf[4096 + HEAD_MAX + PARAMS_MAX * WIRE_MAX], *out, *o;

	if (to) {
		dst = room_peer(p->room, to, tolen);
		if (!dst || dst == p) {
			conn_error(s, c, "unknown-peer", t->name, dst ?
				   "A peer cannot send to itself." :
				   "The \"to\" peer is not in this room.");
			return;
		}
	}
	/* The table's pieces go in whole (see HEAD_MAX), the end then set
	 * back to their real length: need counts their full size. */
	need = HEAD_MAX + p->idlen + 2;
	for (k = 0; k < PARAMS_MAX && pt[k].member; k++)
		if ((pt[k].flags & P_RELAY) && vals[k].text)
			need += WIRE_MAX + vals[k].len;
	out = need <= sizeof(stackbuf) ? stackbuf : xmalloc(need);
	memcpy(out, t->head, HEAD_MAX);
	o = put(out + t->headlen, p->id, p->idlen);
	*o++ = '"';
	for (k = 0; k < PARAMS_MAX && pt[k].member; k++) {
		if (!(pt[k].flags & P_RELAY) || !vals[k].text)
			continue;
		memcpy(o, pt[k].wire, WIRE_MAX);
		o = put(o + pt[k].len + 4, vals[k].text, vals[k].len);
	}
	*o++ = '}';
	if (dst)
		deliver_peer(s, dst, out, (size_t)(o - out));
	else
		deliver_room(s, p->room, p, out, (size_t)(o - out));
	if (out != stackbuf)
		free(out);
}

/* The relay of a message that jansson parsed and check_params() passed:
 * each relayed member as jansson writes it. */
static void relay_tree(struct sig *s, struct sig_conn *c,
		       const struct msg_type *t, json_t *m)
{
	const struct param *pt = t->params;
	struct span vals[PARAMS_MAX];
	char *texts[PARAMS_MAX] = { NULL };
	const char *to = NULL;
	size_t k;
	int ok = 1;

	for (k = 0; k < PARAMS_MAX && pt[k].member; k++) {
		json_t *v = json_object_get(m, pt[k].member);

		if (pt[k].flags & P_TO)
			to = json_string_value(v);
		if (!(pt[k].flags & P_RELAY) || !v) {
			vals[k].text = NULL;
			continue;
		}
		texts[k] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		vals[k].text = texts[k];
		vals[k].len = texts[k] ? strlen(texts[k]) : 0;
		ok &= texts[k] != NULL;
	}
	if (ok)
		relay(s, c, t, to, to ? strlen(to) : 0, vals);
	for (k = 0; k < PARAMS_MAX; k++)
		free(texts[k]);
}

/* JSON types of a value the scanner found (its kinds, see jscan.h).  A
 * number's own type is not worked out: it counts as both, so that a
 * member taking only one of them is left to jansson. */
static unsigned kind_types(char kind)
{
	switch (kind) {
	case 's': return JT(JSON_STRING);
	case 'n': return JT(JSON_INTEGER) | JT(JSON_REAL);
	case 't': return JT(JSON_TRUE);
	case 'f': return JT(JSON_FALSE);
	case 'z': return JT(JSON_NULL);
	case 'o': return JT(JSON_OBJECT);
	default: return JT(JSON_ARRAY);
	}
}

/* Whether scanned member m is called name[0..len) (jscan refuses escaped
 * keys, so raw bytes compare). */
static int key_is(const struct jscan_member *m, const char *name, size_t len)
{
	return m->keylen == len && same(m->key, name, len);
}

/* The row of a scanned message, by its type member: NULL when it has none
 * that can be read without unescaping, or names no type. */
static const struct msg_type *scan_type(const struct jscan_member *m,
					size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (key_is(&m[i], "type", 4))
			return m[i].kind == 's' && !m[i].val_escaped ?
			       find_type(m[i].val + 1, m[i].vallen - 2) : NULL;
	return NULL;
}

/*
 * The table's checks read off jscan's spans, for a relay.  Returns 1 when
 * the message was carried out (relayed, or refused with unknown-peer just
 * as the jansson path would); 0 hands it to jansson, which decides all
 * that the scanner does not vouch for:
 *  - text jscan refuses (it accepts less than jansson, never more);
 *  - a type or P_TO member that is not a string without escapes (it
 *    would have to be unescaped to be read);
 *  - a type that is not a relay, or not allowed now;
 *  - a member missing, of a JSON type its row does not take, with a
 *    check of its own, or relayed without P_AS_SENT;
 *  - an object or array outside the relayed members, or a relayed object
 *    whose members are not scalars: jscan checks nested values for form
 *    only, and jansson refuses duplicate keys at any depth.
 */
static int scan_relay(struct sig *s, struct sig_conn *c, const char *text,
		      size_t len)
{
	struct jscan_member m[JSCAN_MAX_MEMBERS], inner[JSCAN_MAX_MEMBERS];
	struct span vals[PARAMS_MAX];
	const struct jscan_member *to = NULL;
	const struct msg_type *t;
	const struct param *pt;
	size_t n, nin, i, k;
	unsigned seen = 0;               /* bit k: pt[k] is there */

	/* A relayed object is one level of nesting. */
	if (jscan_object(text, len, 1, m, &n) < 0)
		return 0;
	t = scan_type(m, n);
	if (!t || t->handle || !allowed(t, c))
		return 0;
	pt = t->params;
	for (i = 0; i < n; i++) {
		const struct jscan_member *v = &m[i];

		for (k = 0; k < PARAMS_MAX && pt[k].member &&
			    !key_is(v, pt[k].member, pt[k].len); k++)
			;
		if (k == PARAMS_MAX || !pt[k].member) {
			/* Not the row's (type included): ignored. */
			if (v->kind == 'o' || v->kind == 'a')
				return 0;
			continue;
		}
		if ((kind_types(v->kind) & ~pt[k].types) || pt[k].check)
			return 0;
		seen |= 1u << k;
		if (pt[k].flags & P_RELAY) {
			if (!(pt[k].flags & P_AS_SENT) || (v->kind == 'o' &&
			    jscan_object(v->val, v->vallen, 0, inner, &nin) < 0))
				return 0;
			vals[k].text = v->val;
			vals[k].len = v->vallen;
		} else if (v->kind != 's' || v->val_escaped) {
			return 0;
		} else if (pt[k].flags & P_TO) {
			to = v;
		}
	}
	for (k = 0; k < PARAMS_MAX && pt[k].member; k++) {
		if (seen & 1u << k)
			continue;
		if (pt[k].flags & P_REQUIRED)
			return 0;
		vals[k].text = NULL;
	}
	relay(s, c, t, to ? to->val + 1 : NULL, to ? to->vallen - 2 : 0, vals);
	return 1;
}

/* ------------------------------------------------------------- handlers */

static void on_leave(struct sig *s, struct sig_conn *c, json_t *m,
		     const char *type)
{
	(void)m;
	(void)type;
	room_remove(s, c->peer, "left");
	conn_close(c, CLOSE_NORMAL, "left");
}

/* pong always has `id`: null when the ping had none. */
static void on_ping(struct sig *s, struct sig_conn *c, json_t *m,
		    const char *type)
{
	json_t *id = json_object_get(m, "id");

	(void)s;
	(void)type;
	conn_reply(c, json_pack("{s:s,s:O}", "type", "pong", "id",
				id ? id : json_null()));
}

/* ------------------------------------------------------------- dispatch */

/* 0 when m has every member its type needs, with the right types;
 * otherwise sends bad-message and returns -1. */
static int check_params(struct sig *s, struct sig_conn *c, json_t *m,
			const char *type, const struct param *params)
{
	const struct param *pt;

	for (pt = params; pt < params + PARAMS_MAX && pt->member; pt++) {
		json_t *v = json_object_get(m, pt->member);
		const char *want = NULL;

		if (!v) {
			if (!(pt->flags & P_REQUIRED))
				continue;
			conn_error(s, c, "bad-message", type,
				   "A %s message needs member \"%s\".",
				   type, pt->member);
			return -1;
		}
		if (!(pt->types & JT(json_typeof(v))))
			want = pt->expect;
		else if (pt->check)
			want = pt->check(v);
		if (want) {
			conn_error(s, c, "bad-message", type,
				   "Member \"%s\" of %s must be %s.",
				   pt->member, type, want);
			return -1;
		}
	}
	return 0;
}

/* Checks in the order the codes are listed in doc/signaling.md (§6):
 * shape, type, state, members; only then is the message carried
 * out. */
static void dispatch(struct sig *s, struct sig_conn *c, json_t *m)
{
	const struct msg_type *t;
	const char *type;

	if (!json_is_object(m)) {
		conn_error(s, c, "bad-message", NULL,
			   "A message must be a JSON object.");
		return;
	}
	type = json_string_value(json_object_get(m, "type"));
	if (!type) {
		conn_error(s, c, "bad-message", NULL,
			   "A message needs a string member \"type\".");
		return;
	}
	t = find_type(type, strlen(type));
	if (!t) {
		conn_error(s, c, "unknown-type", type,
			   "The message type is not one this server knows.");
		return;
	}
	if (!allowed(t, c)) {
		if (t->when == W_JOINED)
			conn_error(s, c, "not-joined", type,
				   "Join a room before sending %s.", type);
		else
			conn_error(s, c, "already-joined", type,
				   "This connection has already joined room %s.",
				   c->peer->room->name);
		return;
	}
	if (check_params(s, c, m, type, t->params) < 0)
		return;
	if (t->handle)
		t->handle(s, c, m, type);
	else
		relay_tree(s, c, t, m);
}

void msg_text(struct sig *s, struct sig_conn *c, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *m;

	/* Only a joined peer relays: others need not be scanned. */
	if (c->peer && scan_relay(s, c, text, len))
		return;
	m = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		       &jerr);
	if (!m) {
		/* jansson may quote part of a character of the input; only
		 * ASCII of its words goes into our message. */
		char why[sizeof(jerr.text)];
		size_t i;

		for (i = 0; jerr.text[i] && i + 1 < sizeof(why); i++)
			why[i] = (unsigned char)jerr.text[i] >= 0x80 ? '?' : jerr.text[i];
		why[i] = '\0';
		conn_error(s, c, "bad-json", NULL,
			   "The message is not valid JSON (%s at character %d).",
			   why, jerr.position);
		return;
	}
	dispatch(s, c, m);
	json_decref(m);
}
