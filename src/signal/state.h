/*
 * state — the private types of signaling (doc/signaling.md), for the files
 * of src/signal only: struct sig and the connections, rooms, peers and
 * queued messages it owns.  Main thread only.
 *
 * Ownership: struct sig owns all of them.  A connection object is made by
 * sig_conn_open() and freed by sig_conn_gone() (later when that is called
 * from inside one of our own entry points, see `dead`).  A room exists
 * only while it has peers (its settings live in the store) and keeps them
 * in join order, the "oldest first" order of welcome.  A peer is present
 * (conn set) or absent (conn NULL, on s->absent with a deadline) during
 * its reconnect grace; messages addressed to an absent peer wait in its
 * queue.
 */
#ifndef FERRY_SIGNAL_STATE_H
#define FERRY_SIGNAL_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "core/names.h"
#include "core/net.h"
#include "core/util.h"
#include "signal/signaling.h"

#define SUBJ "signaling"

/* Characters (not bytes) of a peer name. */
#define SIG_NAME_MAX 64
/* 128 random bits as unpadded base64url are 22 characters. */
#define RESUME_BYTES 16
#define RESUME_LEN 22

/* WebSocket close statuses we use (doc/signaling.md §3). */
#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
#define CLOSE_POLICY 1008
#define CLOSE_REPLACED 4000
#define CLOSE_KICKED 4001

/* sig_conn.state */
enum {
	CONN_OPEN = 1,  /* input is handled, sends go out */
	CONN_CLOSING,   /* we asked for a close, or a send failed: input is
			 * ignored and nothing more is sent */
	CONN_GONE,      /* sig_conn_gone() was called; freed once we are out
			 * of our entry points */
};

/* What signaling keeps of one connection of the transport. */
struct sig_conn {
	const struct sig_conn_ops *ops;
	void *ctx;                        /* the transport's, handed to ops */
	struct sig_conn *prev, *next;     /* s->conns; once gone, s->dead */
	int state;
	struct sig_peer *peer;            /* the peer on it, or NULL */
	/* signaling-rate bucket, in thousandths of a message */
	uint64_t rate_tokens, rate_stamp;
	uint64_t rate_warned;             /* when rate-limited was last sent */
	char host[256];                   /* Host header's name (ICE URLs) */
	net_addr remote;                  /* for log lines */
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
	size_t idlen;                     /* strlen(id) */
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
	struct sig_room **buckets;        /* room.c's hash table */
	size_t nbuckets;
	struct sig_conn *conns;           /* every open connection */
	/* Gone while depth > 0: freed when the outermost entry point
	 * returns, since a caller up the stack may still hold them. */
	struct sig_conn *dead;
	struct sig_peer *absent, *absent_tail;
	uint32_t id_prefix;
	uint64_t id_next;
	/* > 0 while we are inside one of our entry points: a transport that
	 * calls sig_conn_gone() from inside send() must not make us free a
	 * connection, peer or room that the caller up the stack is walking. */
	int depth;
	struct event *tick;
};

static inline uint64_t now_ms(const struct sig *s)
{
	return s->env.mono_ms ? s->env.mono_ms() : mono_ms();
}

static inline time_t now_wall(const struct sig *s)
{
	return s->env.wall ? s->env.wall() : wall_s();
}

/* NULL for a connection whose address the transport did not give. */
static inline const struct sockaddr *log_addr(const net_addr *a)
{
	return a->u.sa.sa_family != AF_UNSPEC ? &a->u.sa : NULL;
}

/* Serializes and frees obj (NULL is accepted: a failed json_pack).  The
 * caller frees the text; NULL when there is none. */
static inline char *json_text(json_t *obj)
{
	char *text;

	if (!obj)
		return NULL;
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}

#endif
