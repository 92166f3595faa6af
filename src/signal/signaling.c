/*
 * signaling — rooms, peers and message routing (doc/signaling.md).
 *
 * Every inbound text message is parsed, then checked against the table of
 * message types below (which types exist, when each is allowed and the
 * members each takes) before any handler sees it; every refusal maps to
 * one of the spec's stable error codes.  Handlers may therefore read their
 * members without checking them again.
 *
 * State: rooms live in a hash table by name and exist only while they
 * have peers (their settings live in the store).  A room keeps its peers
 * in a list in join order, which is the "oldest first" order of welcome.
 * A peer is present (conn set) or absent (conn NULL, on the absent list
 * with a deadline) during its reconnect grace; messages addressed to an
 * absent peer wait in its queue.
 *
 * Everything runs on the main thread and every send is a call into the
 * transport, so the order in which we call send() is the order in which a
 * receiver gets messages: per-sender order holds without sequence numbers.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#include "core/names.h"
#include "core/hash.h"
#endif

#include "signal/signaling.h"
#include "signal/jscan.h"
#include "core/utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "store/store.h"
#include "core/util.h"

#define SUBJ "signaling"

/* Characters (not bytes) of a peer name. */
#define SIG_NAME_MAX 64
/* 128 random bits as unpadded base64url are 22 characters. */
#define RESUME_BYTES 16
#define RESUME_LEN 22

/* WebSocket close statuses we use. */
#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
#define CLOSE_POLICY 1008
#define CLOSE_REPLACED 4000
#define CLOSE_KICKED 4001

/* sig_conn.sig_state.  The transport zeroes it, so CONN_NEW is 0. */
enum {
	CONN_NEW = 0,   /* sig_conn_open() not called yet */
	CONN_OPEN,      /* input is handled, sends go out */
	CONN_CLOSING,   /* we asked for a close, or a send failed: input is
			 * ignored and nothing more is sent */
	CONN_GONE,      /* sig_conn_gone() was called */
};

/* A message waiting for an absent peer, serialized once. */
struct sig_msg {
	struct sig_msg *next;
	size_t len;
	char text[];
};

struct sig_room;

struct sig_peer {
	struct sig_room *room;
	struct sig_peer *prev, *next;     /* room's peers, oldest first */
	struct sig_peer *aprev, *anext;   /* s->absent, while absent */
	struct sig_conn *conn;            /* NULL while absent */
	int absent;
	uint64_t deadline_ms;             /* absent: when the place is lost */
	const char *gone_reason;          /* absent: "timeout" or "closed" */
	char id[32];
	char *name;                       /* valid UTF-8, <= SIG_NAME_MAX chars */
	char *sub;                        /* the join token's sub, or NULL: the
					   * TURN user and revocation identity */
	char resume[RESUME_LEN + 1];      /* the one token that resumes */
	net_addr remote;                  /* of the latest connection, for logs */
	struct sig_msg *qhead, *qtail;
	size_t qlen;
};

struct sig_room {
	struct sig_room *hnext;           /* hash chain */
	struct sig_peer *head, *tail;
	size_t npeers;                    /* present and absent */
	int max_peers;
	/* 0 when sig_rooms_changed() found the row gone: the next join asks
	 * the store again, as for a room that is not live. */
	int in_store;
	char name[NAMES_ROOM_MAX + 1];
};

struct sig {
	struct sig_env env;
	struct sig_stats stats;
	struct sig_room **buckets;
	size_t nbuckets;
	struct sig_conn *conns;           /* every open connection */
	struct sig_peer *absent, *absent_tail;
	uint32_t id_prefix;
	uint64_t id_next;
	/* > 0 while we are inside one of our entry points: a transport that
	 * calls sig_conn_gone() from inside send() must not make us free a
	 * peer or room that the caller up the stack is walking. */
	int depth;
	struct event *tick;
};

static uint64_t now_ms(const struct sig *s)
{
	return s->env.mono_ms ? s->env.mono_ms() : mono_ms();
}

static time_t now_wall(const struct sig *s)
{
	return s->env.wall ? s->env.wall() : wall_s();
}

/* NULL for a connection whose address the transport did not fill. */
static const struct sockaddr *log_addr(const net_addr *a)
{
	return a->u.sa.sa_family != AF_UNSPEC ? &a->u.sa : NULL;
}

/* ---------------------------------------------------------------- rooms */

static size_t room_hash(const char *name)
{
	return (size_t)hash_finish(hash_str(HASH_INIT, name));
}

static struct sig_room *room_find(struct sig *s, const char *name)
{
	struct sig_room *r = s->buckets[room_hash(name) & (s->nbuckets - 1)];

	while (r && strcmp(r->name, name) != 0)
		r = r->hnext;
	return r;
}

/* Doubles the table when rooms outnumber buckets (nbuckets stays a power
 * of two). */
static void rooms_grow(struct sig *s)
{
	size_t n = s->nbuckets * 2;
	struct sig_room **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r = s->buckets[i], *next;

		for (; r; r = next) {
			size_t h = room_hash(r->name) & (n - 1);

			next = r->hnext;
			r->hnext = b[h];
			b[h] = r;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static struct sig_room *room_new(struct sig *s, const char *name, int max_peers)
{
	struct sig_room *r = xcalloc(1, sizeof(*r));
	size_t h;

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->max_peers = max_peers;
	r->in_store = 1;
	if (s->stats.rooms >= s->nbuckets)
		rooms_grow(s);
	h = room_hash(name) & (s->nbuckets - 1);
	r->hnext = s->buckets[h];
	s->buckets[h] = r;
	s->stats.rooms++;
	return r;
}

/* A room with no peers is forgotten; its row in the store stays. */
static void room_free(struct sig *s, struct sig_room *r)
{
	struct sig_room **pp = &s->buckets[room_hash(r->name) & (s->nbuckets - 1)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	s->stats.rooms--;
	free(r);
}

/* The peer of room r called id, or NULL. */
static struct sig_peer *room_peer(struct sig_room *r, const char *id)
{
	struct sig_peer *p;

	for (p = r->head; p; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	return NULL;
}

/* ------------------------------------------------------------- sending */

/* Hands text to a live connection.  A failed send makes the connection
 * CLOSING (the transport is closing it), so nothing more goes to it. */
static int conn_send(struct sig_conn *c, const char *text, size_t len)
{
	if (c->sig_state != CONN_OPEN)
		return -1;
	if (c->ops->send(c, text, len) < 0) {
		c->sig_state = CONN_CLOSING;
		return -1;
	}
	return 0;
}

static void conn_close(struct sig_conn *c, int code, const char *reason)
{
	if (c->sig_state != CONN_OPEN)
		return;
	c->sig_state = CONN_CLOSING;
	c->ops->close(c, code, reason);
}

/* Serializes and frees obj (NULL is accepted: a failed json_pack). */
static char *dump(json_t *obj)
{
	char *text;

	if (!obj)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}

/* A reply to the connection itself (welcome, pong, error): not queued,
 * since only a peer has a queue and a reply makes no sense on another
 * socket. */
static void reply(struct sig_conn *c, json_t *obj)
{
	char *text = dump(obj);

	if (text)
		conn_send(c, text, strlen(text));
	free(text);
}

/* Takes the oldest queued message of p off its queue (the caller frees
 * it), keeping the memory count right. */
static struct sig_msg *queue_pop(struct sig *s, struct sig_peer *p)
{
	struct sig_msg *m = p->qhead;

	if (!m)
		return NULL;
	p->qhead = m->next;
	if (!p->qhead)
		p->qtail = NULL;
	p->qlen--;
	s->stats.queue_bytes -= m->len;
	return m;
}

static void queue_msg(struct sig *s, struct sig_peer *p, const char *text,
		      size_t len)
{
	long cap = s->env.conf->signaling_queue;
	long mem = s->env.conf->signaling_queue_memory;
	struct sig_msg *m;

	/* Oldest first: by count for this peer, and by the bytes all
	 * absent peers hold together (this peer's own oldest go first). */
	while (p->qhead && ((long)p->qlen >= cap ||
			    (mem > 0 && s->stats.queue_bytes + len > (uint64_t)mem))) {
		free(queue_pop(s, p));
		s->stats.messages_dropped++;
	}
	if (cap <= 0 || (mem > 0 && s->stats.queue_bytes + len > (uint64_t)mem)) {
		s->stats.messages_dropped++;
		return;
	}
	m = xmalloc(sizeof(*m) + len + 1);
	m->next = NULL;
	m->len = len;
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	if (p->qtail)
		p->qtail->next = m;
	else
		p->qhead = m;
	p->qtail = m;
	p->qlen++;
	s->stats.queue_bytes += len;
	s->stats.messages_queued++;
}

/* Every message addressed to a peer goes through here: relayed messages
 * and our own peer-joined/peer-left notices alike, so that an absent peer
 * learns on resume everything the others learnt meanwhile, in order.  A
 * peer whose queue is not empty has no working socket (see flush_queue),
 * so sending directly can never overtake what is queued. */
static void deliver(struct sig *s, struct sig_peer *p, const char *text,
		    size_t len)
{
	if (p->conn && conn_send(p->conn, text, len) == 0) {
		s->stats.messages_relayed++;
		return;
	}
	queue_msg(s, p, text, len);
}

/* Sends what waited for p over its (new) connection, oldest first.  On a
 * failed send the rest stays queued for the next resume. */
static void flush_queue(struct sig *s, struct sig_peer *p)
{
	struct sig_msg *m;

	while ((m = p->qhead) != NULL) {
		if (!p->conn || conn_send(p->conn, m->text, m->len) < 0)
			return;
		free(queue_pop(s, p));
		s->stats.messages_relayed++;
	}
}

/* Sends obj (freed here) to every peer of r but except. */
static void deliver_room(struct sig *s, struct sig_room *r,
			 const struct sig_peer *except, json_t *obj)
{
	char *text = dump(obj);
	struct sig_peer *p;
	size_t len;

	if (!text)
		return;
	len = strlen(text);
	for (p = r->head; p; p = p->next)
		if (p != except)
			deliver(s, p, text, len);
	free(text);
}

/* A copy of text fit for a log line: at most n - 1 bytes, control
 * characters (a client's, e.g. in an unknown type) shown as '?'. */
static const char *log_safe(const char *text, char *buf, size_t n)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < n; i++)
		buf[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ?
			 '?' : text[i];
	buf[i] = '\0';
	return buf;
}

/*
 * Refuses a message with one of the spec's codes.  ref is the offending
 * message's type, or NULL when it is not known (the member is then left
 * out).  fmt makes one sentence for people; clients act on code.
 */
__attribute__((format(printf, 5, 6)))
static void send_error(struct sig *s, struct sig_conn *c, const char *code,
		       const char *ref, const char *fmt, ...)
{
	char msg[256], lref[40], lmsg[256];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug(SUBJ, log_addr(&c->remote), "refused %s: %s: %s",
		  log_safe(ref ? ref : "message", lref, sizeof(lref)), code,
		  log_safe(msg, lmsg, sizeof(lmsg)));
	e = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code,
		      "message", msg);
	if (e && ref)
		json_object_set_new(e, "ref", json_string(ref));
	s->stats.errors++;
	reply(c, e);
}

/* unauthorized always ends the connection (spec: closed with 1008). */
__attribute__((format(printf, 3, 4)))
static void refuse_join(struct sig *s, struct sig_conn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(s, c, "unauthorized", "join", "%s", msg);
	conn_close(c, CLOSE_POLICY, "unauthorized");
}

/* --------------------------------------------------------------- peers */

static void new_resume_token(struct sig_peer *p)
{
	uint8_t raw[RESUME_BYTES];

	random_bytes(raw, sizeof(raw));
	b64url_encode(raw, sizeof(raw), p->resume, sizeof(p->resume));
}

static void absent_unlink(struct sig *s, struct sig_peer *p)
{
	if (!p->absent)
		return;
	if (p->aprev)
		p->aprev->anext = p->anext;
	else
		s->absent = p->anext;
	if (p->anext)
		p->anext->aprev = p->aprev;
	else
		s->absent_tail = p->aprev;
	p->aprev = p->anext = NULL;
	p->absent = 0;
}

static void absent_link(struct sig *s, struct sig_peer *p)
{
	p->absent = 1;
	p->anext = NULL;
	p->aprev = s->absent_tail;
	if (s->absent_tail)
		s->absent_tail->anext = p;
	else
		s->absent = p;
	s->absent_tail = p;
}

static void peer_free(struct sig *s, struct sig_peer *p)
{
	while (p->qhead)
		free(queue_pop(s, p));
	free(p->name);
	free(p->sub);
	free(p);
}

static json_t *peer_json(const struct sig_peer *p)
{
	return json_pack("{s:s,s:s}", "id", p->id, "name", p->name);
}

/* Takes p out of its room, tells the others why, and frees it (and the
 * room when it was the last).  p's connection, if any, is left alone
 * except that it no longer carries a peer. */
static void peer_remove(struct sig *s, struct sig_peer *p, const char *reason)
{
	struct sig_room *r = p->room;

	absent_unlink(s, p);
	if (p->prev)
		p->prev->next = p->next;
	else
		r->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		r->tail = p->prev;
	r->npeers--;
	s->stats.peers--;
	if (p->conn)
		p->conn->peer = NULL;
	log_info(SUBJ, log_addr(&p->remote), "peer %s left room %s (%s)",
		 p->id, r->name, reason);
	if (r->head)
		deliver_room(s, r, NULL, json_pack("{s:s,s:s,s:s}",
			     "type", "peer-left", "id", p->id, "reason", reason));
	else
		room_free(s, r);
	peer_free(s, p);
}

static void send_welcome(struct sig *s, struct sig_conn *c,
			 struct sig_peer *p, const char *user, int resumed)
{
	json_t *peers = json_array(), *ice = NULL;
	struct sig_peer *q;

	for (q = p->room->head; q; q = q->next)
		if (q != p)
			json_array_append_new(peers, peer_json(q));
	if (s->env.ice_servers)
		ice = s->env.ice_servers(s->env.ice_ctx, c->host, user);
	if (!ice)
		ice = json_array();
	reply(c, json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:I,s:b}",
			   "type", "welcome", "id", p->id,
			   "room", p->room->name, "peers", peers,
			   "iceServers", ice, "resume", p->resume,
			   "reconnectGrace",
			   (json_int_t)s->env.conf->reconnect_grace,
			   "resumed", resumed));
}

/* ------------------------------------------------------- parameter table */

/* Sets of JSON types a member may have. */
#define JT(t) (1u << (t))
#define T_STRING JT(JSON_STRING)
#define T_CANDIDATE (JT(JSON_OBJECT) | JT(JSON_NULL))
#define T_ANY (JT(JSON_OBJECT) | JT(JSON_ARRAY) | JT(JSON_STRING) | \
	       JT(JSON_INTEGER) | JT(JSON_REAL) | JT(JSON_TRUE) | \
	       JT(JSON_FALSE) | JT(JSON_NULL))

struct param {
	const char *member;
	unsigned types;
	int required;
	const char *expect;               /* the types, for error messages */
	/* NULL, or a further check of a value of the right type: returns
	 * NULL when it is fine, else what it must be. */
	const char *(*check)(json_t *v);
};

static const char *check_room(json_t *v)
{
	return names_room(json_string_value(v)) ? NULL :
	       "1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'";
}

/* Characters of a string jansson handed us (always valid UTF-8). */
static size_t name_chars(const char *p)
{
	return utf8_chars(p, strlen(p));
}

static const char *check_name(json_t *v)
{
	return name_chars(json_string_value(v)) <= SIG_NAME_MAX ? NULL :
	       "a string of at most 64 characters";
}

static const struct param join_params[] = {
	{ "room", T_STRING, 1, "a string", check_room },
	{ "name", T_STRING, 0, "a string", check_name },
	/* Required when signaling-secret is set; its absence is then
	 * "unauthorized", not "bad-message", so the table says optional. */
	{ "token", T_STRING, 0, "a string", NULL },
	{ "resume", T_STRING, 0, "a string", NULL },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct param sdp_params[] = {
	{ "to", T_STRING, 1, "a string", NULL },
	{ "sdp", T_STRING, 1, "a string", NULL },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct param candidate_params[] = {
	{ "to", T_STRING, 1, "a string", NULL },
	{ "candidate", T_CANDIDATE, 1, "an object or null", NULL },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct param broadcast_params[] = {
	{ "data", T_ANY, 1, "any JSON value", NULL },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct param ping_params[] = {
	{ "id", T_ANY, 0, "any JSON value", NULL },
	{ NULL, 0, 0, NULL, NULL },
};

static const struct param no_params[] = {
	{ NULL, 0, 0, NULL, NULL },
};

/* When a type is accepted. */
enum when {
	W_ANY,        /* ping */
	W_UNJOINED,   /* join */
	W_JOINED,     /* everything else */
};

struct msg_type {
	const char *name;
	enum when when;
	const struct param *params;
	/* Called only after the checks passed; c->peer is set for W_JOINED. */
	void (*handle)(struct sig *s, struct sig_conn *c, json_t *m,
		       const char *type);
};

/* 0 when m has every member its type needs, with the right types;
 * otherwise sends bad-message and returns -1. */
static int check_params(struct sig *s, struct sig_conn *c, json_t *m,
			const char *type, const struct param *pt)
{
	for (; pt->member; pt++) {
		json_t *v = json_object_get(m, pt->member);
		const char *want = NULL;

		if (!v) {
			if (!pt->required)
				continue;
			send_error(s, c, "bad-message", type,
				   "A %s message needs member \"%s\".",
				   type, pt->member);
			return -1;
		}
		if (!(pt->types & JT(json_typeof(v))))
			want = pt->expect;
		else if (pt->check)
			want = pt->check(v);
		if (want) {
			send_error(s, c, "bad-message", type,
				   "Member \"%s\" of %s must be %s.",
				   pt->member, type, want);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------- handlers */

/*
 * Checks the join token against signaling-secret.  Returns 0 and sets
 * *claims (a new reference, or NULL when no secret is set: joins are then
 * anonymous and a token sent anyway is ignored, since nothing could vouch
 * for its claims); -1 after refusing the join.
 */
static int join_auth(struct sig *s, struct sig_conn *c, json_t *m,
		     const char *room, json_t **claims)
{
	const char *secret = s->env.conf->signaling_secret;
	const char *token = json_string_value(json_object_get(m, "token"));
	json_t *rc, *nm, *sub;
	char why[64];

	*claims = NULL;
	if (!secret)
		return 0;
	if (!token) {
		refuse_join(s, c, "This server needs a token to join a room.");
		return -1;
	}
	if (jwt_verify_hs256(token, secret, strlen(secret), now_wall(s),
			     claims, why, sizeof(why)) < 0) {
		refuse_join(s, c, "The token was refused: %s.", why);
		return -1;
	}
	rc = json_object_get(*claims, "room");
	if (!json_is_string(rc) ||
	    (strcmp(json_string_value(rc), "*") != 0 &&
	     strcmp(json_string_value(rc), room) != 0)) {
		refuse_join(s, c, "The token is not valid for room %s.", room);
		goto fail;
	}
	/* The token is ours, but a claim we cannot use as the spec says is
	 * refused rather than silently dropped: a name beyond the limit, or
	 * a sub that cannot be a TURN user (it becomes "<expiry>:<sub>"). */
	nm = json_object_get(*claims, "name");
	if (nm && (!json_is_string(nm) ||
		   name_chars(json_string_value(nm)) > SIG_NAME_MAX)) {
		refuse_join(s, c, "The token's name claim is not a string of at most 64 characters.");
		goto fail;
	}
	sub = json_object_get(*claims, "sub");
	if (sub && !(json_is_string(sub) &&
		     names_user_id(json_string_value(sub)))) {
		refuse_join(s, c, "The token's sub claim is not a usable user name.");
		goto fail;
	}
	return 0;
fail:
	json_decref(*claims);
	*claims = NULL;
	return -1;
}

/*
 * The capacity of a room that is not live (or whose row vanished), from
 * the store.  A missing room is created when auto-create-rooms is set.
 * When it is not, joining a missing room is refused as `unauthorized`
 * (and the socket closed): the spec has no code of its own for it, and a
 * room that must be made beforehand with `ferryctl room add` is a matter
 * of permission, like a token for the wrong room.  A store failure is
 * `server-busy`: the client may try again later.  Returns 0 or -1 (after
 * the error was sent).  Without a store every room exists with
 * room-max-peers.
 */
static int room_settings(struct sig *s, struct sig_conn *c, const char *room,
			 int *max_peers)
{
	const struct ferry_conf *conf = s->env.conf;
	char err[256];
	int rc;

	*max_peers = (int)conf->room_max_peers;
	if (!s->env.store)
		return 0;
	if (conf->auto_create_rooms)
		rc = store_room_ensure(s->env.store, room,
				       (int)conf->room_max_peers, max_peers,
				       err, sizeof(err));
	else
		rc = store_room_get(s->env.store, room, max_peers,
				    err, sizeof(err));
	if (rc < 0) {
		log_warn(SUBJ, log_addr(&c->remote), "room %s: %s", room, err);
		send_error(s, c, "server-busy", "join",
			   "The room could not be looked up; try again later.");
		return -1;
	}
	if (rc == 1 && conf->auto_create_rooms) {
		*max_peers = (int)conf->room_max_peers;
		log_info(SUBJ, log_addr(&c->remote), "room %s created", room);
	}
	if (rc == 0 && !conf->auto_create_rooms) {
		refuse_join(s, c, "Room %s does not exist.", room);
		return -1;
	}
	return 0;
}

/* The peer of live room r whose current resume token is token, or NULL. */
static struct sig_peer *find_resumable(struct sig_room *r, const char *token)
{
	struct sig_peer *p;

	if (!r || strlen(token) != RESUME_LEN)
		return NULL;
	for (p = r->head; p; p = p->next)
		if (ct_equal(p->resume, token, RESUME_LEN))
			return p;
	return NULL;
}

/* 1 when the peer's token named a user (sub) that is revoked now. */
static int peer_revoked(struct sig *s, const struct sig_peer *p)
{
	return p->sub && s->env.revoked && s->env.revoked(s->env.revoked_ctx, p->sub);
}

/*
 * Ends p's place for good: its connection, if any, hears `kicked` and is
 * closed with 4001, the others get peer-left with reason "kicked", and
 * nothing is kept for a resume.  why is the sentence the peer reads.
 */
static void kick_peer(struct sig *s, struct sig_peer *p, const char *why)
{
	struct sig_conn *c = p->conn;

	if (c) {
		send_error(s, c, "kicked", NULL, "%s", why);
		conn_close(c, CLOSE_KICKED, "kicked");
	}
	peer_remove(s, p, "kicked");
}

/*
 * A join that names the peer's current resume token: the same id and
 * place, the socket swapped.  The resume token proves the place, so no
 * join token is needed (a call outlives its token's exp), but a peer
 * whose user was revoked meanwhile is refused and loses the place.  The
 * name stays what the others were told (no peer-joined goes out, so a new
 * name could never reach them).  An old socket still open is closed with
 * 4000 and no longer carries the peer, so its later sig_conn_gone() does
 * not touch it.
 */
static void resume_peer(struct sig *s, struct sig_conn *c, struct sig_peer *p)
{
	struct sig_conn *old = p->conn;

	if (peer_revoked(s, p)) {
		refuse_join(s, c, "The user of this place has been revoked.");
		kick_peer(s, p, "Your user has been revoked.");
		return;
	}
	if (old) {
		old->peer = NULL;
		conn_close(old, CLOSE_REPLACED, "replaced");
	}
	absent_unlink(s, p);
	p->conn = c;
	p->remote = c->remote;
	c->peer = p;
	new_resume_token(p);
	s->stats.joins++;               /* a resume is a successful join too */
	log_info(SUBJ, log_addr(&c->remote), "peer %s resumed in room %s%s",
		 p->id, p->room->name, old ? " (old socket replaced)" : "");
	send_welcome(s, c, p, p->sub ? p->sub : p->id, 1);
	flush_queue(s, p);
}

static void on_join(struct sig *s, struct sig_conn *c, json_t *m,
		    const char *type)
{
	const char *room = json_string_value(json_object_get(m, "room"));
	const char *resume = json_string_value(json_object_get(m, "resume"));
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *user;
	struct sig_room *r;
	struct sig_peer *p;
	json_t *claims;
	int max_peers;

	(void)type;
	r = room_find(s, room);
	/* A resume needs no token; an unknown, used or expired resume token
	 * makes an ordinary join, which does. */
	if (resume && (p = find_resumable(r, resume)) != NULL) {
		resume_peer(s, c, p);
		return;
	}
	if (join_auth(s, c, m, room, &claims) < 0)
		return;
	user = json_string_value(json_object_get(claims, "sub"));
	if (claims && json_object_get(claims, "name"))
		name = json_string_value(json_object_get(claims, "name"));
	if (user && s->env.revoked && s->env.revoked(s->env.revoked_ctx, user)) {
		refuse_join(s, c, "The token's user has been revoked.");
		goto out;
	}
	/* Before the database: a refused join must not write a room. */
	if ((s->env.conf->max_signaling_peers > 0 &&
	     s->stats.peers >= (uint64_t)s->env.conf->max_signaling_peers) ||
	    (!r && s->env.conf->max_rooms > 0 &&
	     s->stats.rooms >= (size_t)s->env.conf->max_rooms)) {
		s->stats.busy++;
		send_error(s, c, "server-busy", "join",
			   "The server has as many %s as it accepts; try again later.",
			   r ? "peers" : "rooms");
		goto out;
	}
	if (r && r->in_store) {
		max_peers = r->max_peers;
	} else {
		if (room_settings(s, c, room, &max_peers) < 0)
			goto out;
		if (r) {
			r->max_peers = max_peers;
			r->in_store = 1;
		}
	}
	if (r && r->npeers >= (size_t)max_peers) {
		send_error(s, c, "room-full", "join",
			   "Room %s is full (%d peers).", room, max_peers);
		goto out;
	}
	if (!r)
		r = room_new(s, room, max_peers);

	p = xcalloc(1, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%08" PRIx32 "-%" PRIx64,
		 s->id_prefix, ++s->id_next);
	p->name = xstrdup(name ? name : "");
	p->sub = user ? xstrdup(user) : NULL;
	new_resume_token(p);
	p->remote = c->remote;
	p->room = r;
	p->conn = c;
	c->peer = p;
	p->prev = r->tail;
	if (r->tail)
		r->tail->next = p;
	else
		r->head = p;
	r->tail = p;
	r->npeers++;
	s->stats.peers++;
	s->stats.joins++;
	log_info(SUBJ, log_addr(&c->remote), "peer %s joined room %s (%zu there)",
		 p->id, r->name, r->npeers);
	send_welcome(s, c, p, user ? user : p->id, 0);
	deliver_room(s, r, p, json_pack("{s:s,s:o}", "type", "peer-joined",
					"peer", peer_json(p)));
out:
	json_decref(claims);
}

/* offer, answer and candidate: to one peer of the room, with `from`. */
static void on_relay(struct sig *s, struct sig_conn *c, json_t *m,
		     const char *type)
{
	struct sig_peer *p = c->peer, *to;
	const char *member = strcmp(type, "candidate") == 0 ? "candidate" : "sdp";
	char *text;

	to = room_peer(p->room, json_string_value(json_object_get(m, "to")));
	if (!to || to == p) {
		send_error(s, c, "unknown-peer", type, to ?
			   "A peer cannot send to itself." :
			   "The \"to\" peer is not in this room.");
		return;
	}
	text = dump(json_pack("{s:s,s:s,s:O}", "type", type, "from", p->id,
			      member, json_object_get(m, member)));
	if (text)
		deliver(s, to, text, strlen(text));
	free(text);
}

static void on_broadcast(struct sig *s, struct sig_conn *c, json_t *m,
			 const char *type)
{
	struct sig_peer *p = c->peer;

	deliver_room(s, p->room, p, json_pack("{s:s,s:s,s:O}", "type", type,
		     "from", p->id, "data", json_object_get(m, "data")));
}

static void on_leave(struct sig *s, struct sig_conn *c, json_t *m,
		     const char *type)
{
	(void)m;
	(void)type;
	peer_remove(s, c->peer, "left");
	conn_close(c, CLOSE_NORMAL, "left");
}

/* pong always has `id`: null when the ping had none. */
static void on_ping(struct sig *s, struct sig_conn *c, json_t *m,
		    const char *type)
{
	json_t *id = json_object_get(m, "id");

	(void)s;
	(void)type;
	reply(c, json_pack("{s:s,s:O}", "type", "pong", "id",
			   id ? id : json_null()));
}

static const struct msg_type msg_types[] = {
	{ "join", W_UNJOINED, join_params, on_join },
	{ "offer", W_JOINED, sdp_params, on_relay },
	{ "answer", W_JOINED, sdp_params, on_relay },
	{ "candidate", W_JOINED, candidate_params, on_relay },
	{ "broadcast", W_JOINED, broadcast_params, on_broadcast },
	{ "leave", W_JOINED, no_params, on_leave },
	{ "ping", W_ANY, ping_params, on_ping },
};

/* Checks in the order the codes are listed by the spec: shape, type,
 * state, members; only then does a handler run. */
static void dispatch(struct sig *s, struct sig_conn *c, json_t *m)
{
	const struct msg_type *t = NULL;
	const char *type;

	if (!json_is_object(m)) {
		send_error(s, c, "bad-message", NULL,
			   "A message must be a JSON object.");
		return;
	}
	type = json_string_value(json_object_get(m, "type"));
	if (!type) {
		send_error(s, c, "bad-message", NULL,
			   "A message needs a string member \"type\".");
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(msg_types) && !t; i++)
		if (strcmp(msg_types[i].name, type) == 0)
			t = &msg_types[i];
	if (!t) {
		send_error(s, c, "unknown-type", type,
			   "The message type is not one this server knows.");
		return;
	}
	if (t->when == W_JOINED && !c->peer) {
		send_error(s, c, "not-joined", type,
			   "Join a room before sending %s.", type);
		return;
	}
	if (t->when == W_UNJOINED && c->peer) {
		send_error(s, c, "already-joined", type,
			   "This connection has already joined room %s.",
			   c->peer->room->name);
		return;
	}
	if (check_params(s, c, m, type, t->params) < 0)
		return;
	t->handle(s, c, m, type);
}

/* --------------------------------------------------------- entry points */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sig_tick(arg);
}

struct sig *sig_new(const struct sig_env *env)
{
	struct sig *s = xcalloc(1, sizeof(*s));

	s->env = *env;
	s->nbuckets = 64;
	s->buckets = xcalloc(s->nbuckets, sizeof(*s->buckets));
	/* A prefix random per process keeps ids unique across restarts too,
	 * so a client holding an id from before one cannot hit a new peer. */
	random_bytes(&s->id_prefix, sizeof(s->id_prefix));
	if (env->base) {
		struct timeval second = { 1, 0 };

		s->tick = event_new(env->base, -1, EV_PERSIST, tick_cb, s);
		if (!s->tick || event_add(s->tick, &second) < 0) {
			log_error(SUBJ, NULL, "cannot start the grace timer");
			sig_free(s);
			return NULL;
		}
	}
	return s;
}

void sig_free(struct sig *s)
{
	struct sig_conn *c;

	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	/* Connections belong to the transport; they merely lose their peer. */
	for (c = s->conns; c; c = c->sig_next)
		c->peer = NULL;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r, *rnext;

		for (r = s->buckets[i]; r; r = rnext) {
			struct sig_peer *p, *pnext;

			rnext = r->hnext;
			for (p = r->head; p; p = pnext) {
				pnext = p->next;
				peer_free(s, p);
			}
			free(r);
		}
	}
	free(s->buckets);
	free(s);
}

void sig_set_conf(struct sig *s, const struct ferry_conf *conf)
{
	s->env.conf = conf;
}

const struct sig_stats *sig_stats(const struct sig *s)
{
	return &s->stats;
}

void sig_conn_open(struct sig *s, struct sig_conn *c)
{
	if (c->sig_state != CONN_NEW)
		return;
	c->sig_state = CONN_OPEN;
	c->peer = NULL;
	c->sig_prev = NULL;
	c->sig_next = s->conns;
	if (s->conns)
		s->conns->sig_prev = c;
	s->conns = c;
	s->stats.connections++;
}

/*
 * signaling-rate: a token bucket per connection.  Its burst is ten
 * seconds' worth, because joining a mesh is bursty by nature: a newcomer
 * to 15 peers answers 15 offers and trickles a dozen candidates to each.  A message over the rate is dropped; the sender hears
 * `rate-limited` at most once a second, so refusing a flood does not
 * become a flood of errors.  Returns 1 when the message may go on.
 */
static int within_rate(struct sig *s, struct sig_conn *c)
{
	long rate = s->env.conf->signaling_rate;
	uint64_t now = now_ms(s), cap;

	if (rate <= 0)
		return 1;
	cap = (uint64_t)rate * 10000;
	if (c->rate_stamp == 0) {
		c->rate_tokens = cap;
	} else if (now > c->rate_stamp) {
		c->rate_tokens += (now - c->rate_stamp) * (uint64_t)rate;
		if (c->rate_tokens > cap)
			c->rate_tokens = cap;
	}
	c->rate_stamp = now ? now : 1;
	if (c->rate_tokens >= 1000) {
		c->rate_tokens -= 1000;
		return 1;
	}
	s->stats.rate_limited++;
	if (c->rate_warned == 0 || now - c->rate_warned >= 1000) {
		c->rate_warned = now ? now : 1;
		send_error(s, c, "rate-limited", NULL,
			   "Too many messages: at most %ld a second; some were dropped.",
			   rate);
	}
	return 0;
}

/* A member of a scanned message, by name (raw, unescaped names only). */
static const struct jscan_member *member(const struct jscan_member *m, size_t n,
					 const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (m[i].keylen == len && memcmp(m[i].key, name, len) == 0)
			return &m[i];
	return NULL;
}

/*
 * The bulk of signaling, relayed without building a JSON tree: an offer,
 * answer or candidate from a joined peer to another peer of its room.  The
 * SDP (or the candidate object) goes out as the very bytes that came in,
 * so kilobytes of escaped text are neither unescaped nor escaped again.
 * Returns 1 when relayed; 0 hands the message to the full path, which
 * answers every other case, every error included, as before.
 */
static int fast_relay(struct sig *s, struct sig_conn *c, const char *text, size_t len)
{
	static const char head[] = "{\"type\":\"", mid[] = "\",\"from\":\"";
	struct jscan_member m[JSCAN_MAX_MEMBERS], inner[JSCAN_MAX_MEMBERS];
	const struct jscan_member *type, *to, *val;
	struct sig_peer *p = c->peer, *dst;
	char id[sizeof(p->id)], stackbuf[4096], *out;
	const char *tname, *vname;
	size_t n, i, tlen, vlen, idlen, need, o;

	/* A candidate is an object: one level of nesting. */
	if (jscan_object(text, len, 1, m, &n) < 0)
		return 0;
	type = member(m, n, "type");
	to = member(m, n, "to");
	if (!type || !to || type->kind != 's' || to->kind != 's' ||
	    type->val_escaped || to->val_escaped)
		return 0;
	if (type->vallen == 7 && memcmp(type->val, "\"offer\"", 7) == 0) {
		tname = "offer";
		vname = "sdp";
	} else if (type->vallen == 8 && memcmp(type->val, "\"answer\"", 8) == 0) {
		tname = "answer";
		vname = "sdp";
	} else if (type->vallen == 11 &&
		   memcmp(type->val, "\"candidate\"", 11) == 0) {
		tname = "candidate";
		vname = "candidate";
	} else {
		return 0;
	}
	val = member(m, n, vname);
	if (!val)
		return 0;
	for (i = 0; i < n; i++)
		if (&m[i] != val && (m[i].kind == 'o' || m[i].kind == 'a'))
			return 0;
	if (vname[0] == 's' ? val->kind != 's' :
	    val->kind != 'z' && val->kind != 'o')
		return 0;
	/* jansson refuses duplicate keys inside the candidate too; a scan of
	 * it on its own checks that, and that its members are scalars. */
	if (val->kind == 'o' && jscan_object(val->val, val->vallen, 0, inner, &i) < 0)
		return 0;
	if (to->vallen - 2 >= sizeof(id))
		return 0;
	memcpy(id, to->val + 1, to->vallen - 2);
	id[to->vallen - 2] = '\0';
	dst = room_peer(p->room, id);
	if (!dst || dst == p)
		return 0;

	/* {"type":"T","from":"ID","V":VALUE} */
	tlen = strlen(tname);
	vlen = strlen(vname);
	idlen = strlen(p->id);
	need = sizeof(head) - 1 + tlen + sizeof(mid) - 1 + idlen + 5 + vlen +
	       val->vallen + 1;
	out = need <= sizeof(stackbuf) ? stackbuf : xmalloc(need);
	o = 0;
	memcpy(out + o, head, sizeof(head) - 1);
	o += sizeof(head) - 1;
	memcpy(out + o, tname, tlen);
	o += tlen;
	memcpy(out + o, mid, sizeof(mid) - 1);
	o += sizeof(mid) - 1;
	memcpy(out + o, p->id, idlen);
	o += idlen;
	memcpy(out + o, "\",\"", 3);
	o += 3;
	memcpy(out + o, vname, vlen);
	o += vlen;
	out[o++] = '"';
	out[o++] = ':';
	memcpy(out + o, val->val, val->vallen);
	o += val->vallen;
	out[o++] = '}';
	deliver(s, dst, out, o);
	if (out != stackbuf)
		free(out);
	return 1;
}

void sig_text(struct sig *s, struct sig_conn *c, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *m;

	/* A transport that skipped sig_conn_open() still gets a consistent
	 * state; one that is closing gets its remaining input ignored. */
	sig_conn_open(s, c);
	if (c->sig_state != CONN_OPEN || !within_rate(s, c))
		return;
	s->depth++;
	if (c->peer && fast_relay(s, c, text, len)) {
		s->depth--;
		return;
	}
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
		send_error(s, c, "bad-json", NULL,
			   "The message is not valid JSON (%s at character %d).",
			   why, jerr.position);
	} else
		dispatch(s, c, m);
	json_decref(m);
	s->depth--;
}

void sig_binary(struct sig *s, struct sig_conn *c)
{
	sig_conn_open(s, c);
	if (c->sig_state != CONN_OPEN || !within_rate(s, c))
		return;
	s->depth++;
	send_error(s, c, "bad-message", NULL,
		   "Messages must be text frames holding JSON, not binary frames.");
	s->depth--;
}

void sig_conn_gone(struct sig *s, struct sig_conn *c)
{
	struct sig_peer *p = c->peer;
	long grace = s->env.conf->reconnect_grace;

	if (c->sig_state == CONN_NEW || c->sig_state == CONN_GONE)
		return;
	if (c->sig_prev)
		c->sig_prev->sig_next = c->sig_next;
	else
		s->conns = c->sig_next;
	if (c->sig_next)
		c->sig_next->sig_prev = c->sig_prev;
	c->sig_prev = c->sig_next = NULL;
	c->sig_state = CONN_GONE;
	c->peer = NULL;
	s->stats.connections--;
	if (!p || p->conn != c)
		return;

	p->conn = NULL;
	p->deadline_ms = now_ms(s) + (uint64_t)grace * 1000;
	p->gone_reason = grace > 0 ? "timeout" : "closed";
	absent_link(s, p);
	if (grace == 0 && s->depth == 0) {
		peer_remove(s, p, "closed");
		return;
	}
	/* With no grace but called from inside our own send(), the peer is
	 * removed (reason "closed") at the next tick instead. */
	log_info(SUBJ, log_addr(&p->remote),
		 "peer %s of room %s dropped; its place is kept for %ld s",
		 p->id, p->room->name, grace);
}

void sig_tick(struct sig *s)
{
	uint64_t now = now_ms(s);
	struct sig_peer *p, *next;

	s->depth++;
	for (p = s->absent; p; p = next) {
		next = p->anext;
		if (p->deadline_ms <= now)
			peer_remove(s, p, p->gone_reason);
	}
	s->depth--;
}

void sig_shutdown(struct sig *s)
{
	struct sig_conn *c;

	for (c = s->conns; c; c = c->sig_next)
		conn_close(c, CLOSE_GOING_AWAY, "going away");
}

void sig_recheck_revocations(struct sig *s)
{
	struct sig_peer **gone = NULL;
	size_t n = 0, cap = 0;

	if (!s->env.revoked)
		return;
	/* Collected first: kicking a room's last peer frees the room. */
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r;
		struct sig_peer *p;

		for (r = s->buckets[i]; r; r = r->hnext)
			for (p = r->head; p; p = p->next) {
				if (!peer_revoked(s, p))
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					gone = xrealloc(gone, cap * sizeof(*gone));
				}
				gone[n++] = p;
			}
	}
	s->depth++;
	for (size_t i = 0; i < n; i++) {
		log_info(SUBJ, log_addr(&gone[i]->remote), "peer %s: user %s revoked",
			 gone[i]->id, gone[i]->sub);
		kick_peer(s, gone[i], "Your user has been revoked.");
	}
	s->depth--;
	free(gone);
}

void sig_rooms_changed(struct sig *s)
{
	char err[256];

	if (!s->env.store)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct sig_room *r;

		for (r = s->buckets[i]; r; r = r->hnext) {
			int max = 0;
			int rc = store_room_get(s->env.store, r->name, &max,
						err, sizeof(err));

			if (rc < 0)
				log_warn(SUBJ, NULL, "room %s: %s", r->name, err);
			else if (rc == 0)
				r->in_store = 0;
			else
				r->max_peers = max;
		}
	}
}
