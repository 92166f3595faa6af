/* join — see join.h. */
#include "signal/join.h"
#include "signal/conn.h"
#include "signal/deliver.h"
#include "signal/room.h"
#include "auth/jwt.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/names.h"
#include "core/utf8.h"
#include "core/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void new_resume_token(struct sig_peer *p)
{
	uint8_t raw[RESUME_BYTES];

	random_bytes(raw, sizeof(raw));
	b64url_encode(raw, sizeof(raw), p->resume, sizeof(p->resume));
}

/* unauthorized always ends the connection (doc/signaling.md §6: closed
 * with 1008). */
__attribute__((format(printf, 3, 4)))
static void refuse_join(struct sig *s, struct sig_conn *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_error(s, c, "unauthorized", "join", "%s", msg);
	conn_close(c, CLOSE_POLICY, "unauthorized");
}

static void send_welcome(struct sig *s, struct sig_conn *c,
			 struct sig_peer *p, const char *user, int resumed)
{
	json_t *peers = json_array(), *ice = NULL;
	struct sig_peer *q;

	for (q = p->room->head; q; q = q->next)
		if (q != p)
			json_array_append_new(peers, room_peer_json(q));
	if (s->env.ice_servers)
		ice = s->env.ice_servers(s->env.ice_ctx, c->host, user);
	if (!ice)
		ice = json_array();
	conn_reply(c, json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:I,s:b}",
				"type", "welcome", "id", p->id,
				"room", p->room->name, "peers", peers,
				"iceServers", ice, "resume", p->resume,
				"reconnectGrace",
				(json_int_t)s->env.conf->reconnect_grace,
				"resumed", resumed));
}

/* ------------------------------------------------------------ the token */

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
	/* The token is ours, but a claim we cannot use as doc/signaling.md says is
	 * refused rather than silently dropped: a name beyond the limit, or
	 * a sub that cannot be a TURN user (it becomes "<expiry>:<sub>"). */
	nm = json_object_get(*claims, "name");
	if (nm && (!json_is_string(nm) ||
		   utf8_chars(json_string_value(nm),
			      strlen(json_string_value(nm))) > SIG_NAME_MAX)) {
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

/* 1 when user (a token's sub; NULL: none) is revoked now. */
static int user_revoked(struct sig *s, const char *user)
{
	return user && s->env.revoked && s->env.revoked(s->env.revoked_ctx, user);
}

/* ------------------------------------------------------------- the room */

/*
 * The capacity of a room that is not live (or whose row vanished), from
 * the store.  A missing room is created when auto-create-rooms is set.
 * When it is not, joining a missing room is refused as `unauthorized`
 * (and the socket closed): the protocol has no code of its own for it, and a
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
		conn_error(s, c, "server-busy", "join",
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

/*
 * Whether one more peer may join room (r: it is live; NULL: it is not):
 * max-signaling-peers and max-rooms first, so that a refused join does not
 * write a room to the database, then the room's own max-peers.  Returns 0
 * with *max_peers set, or -1 after the error was sent.
 */
static int join_capacity(struct sig *s, struct sig_conn *c, struct sig_room *r,
			 const char *room, int *max_peers)
{
	const struct ferry_conf *conf = s->env.conf;

	if ((conf->max_signaling_peers > 0 &&
	     s->stats.peers >= (uint64_t)conf->max_signaling_peers) ||
	    (!r && conf->max_rooms > 0 &&
	     s->stats.rooms >= (size_t)conf->max_rooms)) {
		s->stats.busy++;
		conn_error(s, c, "server-busy", "join",
			   "The server has as many %s as it accepts; try again later.",
			   r ? "peers" : "rooms");
		return -1;
	}
	if (r && r->in_store) {
		*max_peers = r->max_peers;
	} else {
		if (room_settings(s, c, room, max_peers) < 0)
			return -1;
		if (r) {
			r->max_peers = *max_peers;
			r->in_store = 1;
		}
	}
	if (r && r->npeers >= (size_t)*max_peers) {
		conn_error(s, c, "room-full", "join",
			   "Room %s is full (%d peers).", room, *max_peers);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------ kick and resume */

/*
 * Ends p's place for good: its connection, if any, hears `kicked` and is
 * closed with 4001, the others get peer-left with reason "kicked", and
 * nothing is kept for a resume.  why is the sentence the peer reads.
 */
static void kick_peer(struct sig *s, struct sig_peer *p, const char *why)
{
	struct sig_conn *c = p->conn;

	if (c) {
		conn_error(s, c, "kicked", NULL, "%s", why);
		conn_close(c, CLOSE_KICKED, "kicked");
	}
	room_remove(s, p, "kicked");
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

	if (user_revoked(s, p->sub)) {
		refuse_join(s, c, "The user of this place has been revoked.");
		kick_peer(s, p, "Your user has been revoked.");
		return;
	}
	if (old) {
		old->peer = NULL;
		conn_close(old, CLOSE_REPLACED, "replaced");
	}
	room_attach(s, p, c);
	new_resume_token(p);
	s->stats.joins++;               /* a resume is a successful join too */
	log_info(SUBJ, log_addr(&c->remote), "peer %s resumed in room %s%s",
		 p->id, p->room->name, old ? " (old socket replaced)" : "");
	send_welcome(s, c, p, p->sub ? p->sub : p->id, 1);
	deliver_flush(s, p);
}

/* -------------------------------------------------------------- joining */

/* A new peer called name (NULL: "") for user (NULL: none), with a fresh
 * id and resume token; not in a room yet. */
static struct sig_peer *peer_new(struct sig *s, const char *name,
				 const char *user)
{
	struct sig_peer *p = xcalloc(1, sizeof(*p));

	p->idlen = (size_t)snprintf(p->id, sizeof(p->id), "%08" PRIx32 "-%" PRIx64,
				    s->id_prefix, ++s->id_next);
	p->name = xstrdup(name ? name : "");
	p->sub = user ? xstrdup(user) : NULL;
	new_resume_token(p);
	return p;
}

void join_handle(struct sig *s, struct sig_conn *c, json_t *m,
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
	if (user_revoked(s, user)) {
		refuse_join(s, c, "The token's user has been revoked.");
		goto out;
	}
	if (join_capacity(s, c, r, room, &max_peers) < 0)
		goto out;
	if (!r)
		r = room_new(s, room, max_peers);
	p = peer_new(s, name, user);
	room_add_peer(s, r, p);
	room_attach(s, p, c);
	s->stats.joins++;
	log_info(SUBJ, log_addr(&c->remote), "peer %s joined room %s (%zu there)",
		 p->id, r->name, r->npeers);
	send_welcome(s, c, p, user ? user : p->id, 0);
	deliver_room_json(s, r, p, json_pack("{s:s,s:o}", "type", "peer-joined",
					     "peer", room_peer_json(p)));
out:
	json_decref(claims);
}

/* -------------------------------------------------------------- revoked */

struct revoked {
	struct sig *s;
	struct sig_peer **gone;
	size_t n, cap;
};

static void collect_revoked(struct sig_peer *p, void *ctx)
{
	struct revoked *rv = ctx;

	if (!user_revoked(rv->s, p->sub))
		return;
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 16;
		rv->gone = xrealloc(rv->gone, rv->cap * sizeof(*rv->gone));
	}
	rv->gone[rv->n++] = p;
}

void join_kick_revoked(struct sig *s)
{
	struct revoked rv = { s, NULL, 0, 0 };

	if (!s->env.revoked)
		return;
	/* Collected first: kicking a room's last peer frees the room. */
	room_each_peer(s, collect_revoked, &rv);
	for (size_t i = 0; i < rv.n; i++) {
		log_info(SUBJ, log_addr(&rv.gone[i]->remote), "peer %s: user %s revoked",
			 rv.gone[i]->id, rv.gone[i]->sub);
		kick_peer(s, rv.gone[i], "Your user has been revoked.");
	}
	free(rv.gone);
}
