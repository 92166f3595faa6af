/*
 * conn — signaling's object for one connection of the transport
 * (struct sig_conn, see signal/state.h): making and freeing it, its
 * state, its signaling-rate bucket, and every send and close, which go
 * through here so that nothing reaches a connection after it closed.
 */
#ifndef FERRY_SIGNAL_CONN_H
#define FERRY_SIGNAL_CONN_H

#include <stddef.h>
#include <jansson.h>

#include "signal/state.h"

/* A new open connection on s->conns (counted in stats.connections); never
 * NULL.  ops is kept; host (may be NULL) and remote (NULL: unknown) are
 * copied. */
struct sig_conn *conn_new(struct sig *s, const struct sig_conn_ops *ops,
			  void *ctx, const char *host, const net_addr *remote);
/* c is gone: off s->conns (uncounted, no longer carrying a peer) and onto
 * s->dead, to be freed by conn_reap() once no caller holds it. */
void conn_gone(struct sig *s, struct sig_conn *c);
/* Frees the connections on s->dead; for when s->depth is back at 0. */
void conn_reap(struct sig *s);
/* Frees every connection, open or dead (sig_free). */
void conn_free_all(struct sig *s);

/* Hands text to an open connection: 0, or -1 when it is not open or its
 * send failed (the connection is then CLOSING: the transport is closing
 * it, so nothing more goes to it). */
int conn_send(struct sig_conn *c, const char *text, size_t len);
/* Asks the transport to close an open connection (once). */
void conn_close(struct sig_conn *c, int code, const char *reason);
/* A reply to the connection itself (welcome, pong, error): obj is
 * serialized and freed (NULL, a failed json_pack, sends nothing).  Never
 * queued: only a peer has a queue, and a reply makes no sense on another
 * socket. */
void conn_reply(struct sig_conn *c, json_t *obj);
/* Refuses a message with one of the protocol's error codes (doc/signaling.md
 * §6).  ref is the offending message's type, or NULL when it is not known
 * (the member is then left out).  fmt makes one sentence for people;
 * clients act on code. */
__attribute__((format(printf, 5, 6)))
void conn_error(struct sig *s, struct sig_conn *c, const char *code,
		const char *ref, const char *fmt, ...);
/* signaling-rate: 1 when one more message of c may go on, 0 when it is to
 * be dropped (rate-limited was then sent, at most once a second). */
int conn_within_rate(struct sig *s, struct sig_conn *c);

#endif
