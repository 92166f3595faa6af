/*
 * signaling — rooms, peers and message routing of the WebSocket signaling
 * protocol (doc/signaling.md).  Runs on the main thread only.
 *
 * This module never touches a socket: a transport (wsconn.c) hands it each
 * text message of a connection and is told what to send back and when to
 * close, through struct sig_conn_ops.  What signaling keeps per
 * connection (its peer, state, rate bucket) is its own object, opaque to
 * the transport.  Tests drive it with a fake connection and a clock they
 * control.
 */
#ifndef FERRY_SIGNALING_H
#define FERRY_SIGNALING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "core/net.h"

struct event_base;
struct ferry_conf;
struct sig;
struct sig_conn;                /* opaque: see sig_conn_open() */
struct store;

/* What signaling needs from a connection; ctx is the transport's own
 * pointer given to sig_conn_open(). */
struct sig_conn_ops {
	/* Queue one text message (a serialized JSON object).  Returns 0, or
	 * -1 when the connection's outbound queue is full: the transport
	 * then closes it and calls sig_conn_gone() (never from inside this
	 * call; signaling copes if it does, but only by deferring the
	 * peer's departure to the next sig_tick()).  Signaling sends nothing
	 * more on a connection whose send failed: what it would have sent
	 * is queued as for an absent peer, so a resume still gets it. */
	int (*send)(void *ctx, const char *text, size_t len);
	/* Close after what is queued, with a WebSocket status code and a
	 * reason.  The transport later calls sig_conn_gone() (never from
	 * inside this call). */
	void (*close)(void *ctx, int code, const char *reason);
};

/* Counters for /metrics (main thread only, read by the metrics route). */
struct sig_stats {
	uint64_t connections;            /* gauge: open connections with a peer or not */
	uint64_t peers;                  /* gauge: peers in rooms, present or absent */
	uint64_t rooms;                  /* gauge: rooms with at least one peer */
	uint64_t joins;                  /* counter */
	uint64_t messages_relayed;       /* counter: delivered to a live socket */
	uint64_t messages_queued;        /* counter: queued for an absent peer */
	uint64_t messages_dropped;       /* counter: oldest dropped from a full queue */
	uint64_t errors;                 /* counter: error messages sent */
	uint64_t rate_limited;           /* counter: messages refused by signaling-rate */
	uint64_t busy;                   /* counter: joins refused by max-rooms/peers */
	uint64_t queue_bytes;            /* gauge: bytes queued for absent peers */
};

struct sig_env {
	const struct ferry_conf *conf;   /* replaced with sig_set_conf() */
	struct store *store;             /* rooms table; main thread's connection */
	struct event_base *base;         /* for the periodic tick; NULL in tests */
	/* A fresh RTCIceServer[] for a peer joining through host, with TURN
	 * credentials for user (the JWT's sub, else the peer id).  Returns a
	 * new reference; NULL means an empty array. */
	json_t *(*ice_servers)(void *ctx, const char *host, const char *user);
	void *ice_ctx;
	/* 1 when user (a join token's sub) is revoked now; NULL: nobody is. */
	int (*revoked)(void *ctx, const char *user);
	void *revoked_ctx;
	uint64_t (*mono_ms)(void);       /* NULL: util's mono_ms */
	time_t (*wall)(void);            /* NULL: util's wall_s (token expiry) */
};

/* A new signaling state (env is copied), or NULL when the grace timer
 * cannot be set up.  sig_free() frees it with every room, peer and
 * connection object it still holds (NULL is accepted). */
struct sig *sig_new(const struct sig_env *env);
void sig_free(struct sig *s);
void sig_set_conf(struct sig *s, const struct ferry_conf *conf);
const struct sig_stats *sig_stats(const struct sig *s);

/*
 * A connection opened: returns signaling's object for it (never NULL),
 * which the transport hands to the calls below until sig_conn_gone().
 * ops (kept, not copied) and ctx are what signaling calls back; host (the
 * Host header's name, for ICE URLs) and remote (for log lines; NULL:
 * unknown) are copied.
 */
struct sig_conn *sig_conn_open(struct sig *s, const struct sig_conn_ops *ops,
			       void *ctx, const char *host,
			       const net_addr *remote);
/* One message of the connection. */
void sig_text(struct sig *s, struct sig_conn *c, const char *text, size_t len);
void sig_binary(struct sig *s, struct sig_conn *c);
/* The connection is gone (closed by either side, dropped, idle): a peer
 * that did not `leave` keeps its place for reconnect-grace seconds.
 * Called once per connection; c is freed by it (or, when called from
 * inside send(), once signaling is done with it) and may not be used
 * again.  sig_free() frees the connections that are still open. */
void sig_conn_gone(struct sig *s, struct sig_conn *c);

/* Grace expiries; called every second by an internal timer when env.base
 * is set, and by tests after moving their clock. */
void sig_tick(struct sig *s);
/* Shutdown: every open connection is closed with 1001. */
void sig_shutdown(struct sig *s);
/* The revocation list changed: peers whose token's sub is revoked now are
 * kicked (error `kicked`, close 4001, peer-left reason "kicked"). */
void sig_recheck_revocations(struct sig *s);
/* The rooms table changed (another process): live rooms re-read their
 * max-peers. */
void sig_rooms_changed(struct sig *s);

#endif
