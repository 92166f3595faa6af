/*
 * signaling — the entry points (see signaling.h) and the grace timer.
 *
 * The work is done by the files of this folder, one concern each:
 * message.c (the message table, dispatch and the one relay path), join.c
 * (join, tokens, resume, revocation), room.c (rooms and their peers,
 * presence and grace), deliver.c (sending to a peer, or queueing for an
 * absent one) and conn.c (signaling's object per connection: state, rate
 * bucket, sends and closes).  Their shared types are in state.h.
 *
 * Every entry point that may send runs between enter() and leave(): a
 * transport that calls sig_conn_gone() from inside send() must not make
 * us free what a caller up the stack is still walking, so connections
 * gone meanwhile are freed by the outermost leave(), and a peer that
 * would leave at once (no grace) leaves at the next tick instead.
 */
#include "signal/signaling.h"
#include "signal/conn.h"
#include "signal/join.h"
#include "signal/message.h"
#include "signal/room.h"
#include "signal/state.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>

#include <event2/event.h>

static void enter(struct sig *s)
{
	s->depth++;
}

static void leave(struct sig *s)
{
	if (--s->depth == 0 && s->dead)
		conn_reap(s);
}

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
	if (!s)
		return;
	if (s->tick)
		event_free(s->tick);
	conn_free_all(s);
	room_free_all(s);
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

struct sig_conn *sig_conn_open(struct sig *s, const struct sig_conn_ops *ops,
			       void *ctx, const char *host,
			       const net_addr *remote)
{
	return conn_new(s, ops, ctx, host, remote);
}

/* A connection that is closing gets its remaining input ignored. */
void sig_text(struct sig *s, struct sig_conn *c, const char *text, size_t len)
{
	if (c->state != CONN_OPEN || !conn_within_rate(s, c))
		return;
	enter(s);
	msg_text(s, c, text, len);
	leave(s);
}

void sig_binary(struct sig *s, struct sig_conn *c)
{
	if (c->state != CONN_OPEN || !conn_within_rate(s, c))
		return;
	enter(s);
	conn_error(s, c, "bad-message", NULL,
		   "Messages must be text frames holding JSON, not binary frames.");
	leave(s);
}

void sig_conn_gone(struct sig *s, struct sig_conn *c)
{
	struct sig_peer *p = c->peer;
	int nested = s->depth > 0;

	if (c->state == CONN_GONE)
		return;
	enter(s);
	conn_gone(s, c);
	if (p && p->conn == c)
		room_detach(s, p, nested);
	leave(s);
}

void sig_tick(struct sig *s)
{
	enter(s);
	room_expire(s);
	leave(s);
}

void sig_shutdown(struct sig *s)
{
	struct sig_conn *c, *next;

	enter(s);
	for (c = s->conns; c; c = next) {
		next = c->next;
		conn_close(c, CLOSE_GOING_AWAY, "going away");
	}
	leave(s);
}

void sig_recheck_revocations(struct sig *s)
{
	enter(s);
	join_kick_revoked(s);
	leave(s);
}

void sig_rooms_changed(struct sig *s)
{
	room_reread(s);
}
