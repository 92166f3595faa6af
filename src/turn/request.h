/*
 * request — internals shared by the STUN dispatcher (engine.c) and the
 * TURN handlers (alloc.c).  Not for other modules.
 */
#ifndef FERRY_REQUEST_H
#define FERRY_REQUEST_H

#include "auth/auth.h"
#include "turn/engine.h"
#include "stun/stun.h"

struct turn;

/* Token buckets of unauth-rate, one per hashed client address; a
 * collision shares a bucket, which only makes the limit stricter. */
#define UNAUTH_SLOTS 4096

struct unauth_bucket {
	uint8_t key[NET_CLIENT_KEY_LEN];
	uint64_t tokens;                   /* in thousandths of an answer */
	uint64_t stamp;                    /* ms */
};

struct srv {
	struct srv_env env;
	uint64_t (*mono)(void);
	time_t (*wall)(void);
	struct turn *turn;
	int batching;                      /* inside srv_batch_begin/end */
	uint64_t unauth_seed;
	struct unauth_bucket unauth[UNAUTH_SLOTS];
	/* Responses are built here: one buffer per worker, no allocation. */
	uint8_t out[65536 + 128];
};

/* A request being answered. */
struct request {
	struct srv *s;
	struct srv_transport *t;
	const net_addr *local;
	const net_addr *client;
	const struct stun_msg *m;
	struct stun_builder b;
	/* Set by authentication: the key that verified the request, which
	 * also protects the response. */
	int authed;
	int mi_sha256;                     /* the request used MI-SHA256 */
	const uint8_t *key;
	size_t keylen;
	struct auth_keys keys;
};

void req_begin(struct request *r, enum stun_class cls);
/* Finish (MESSAGE-INTEGRITY when authenticated, SOFTWARE, FINGERPRINT when
 * the request had one) and send. Returns the finished message length. */
size_t req_send(struct request *r);
void req_error(struct request *r, int code);

static inline int srv_stream(const struct srv_transport *t)
{
	return t->kind == SRV_TCP || t->kind == SRV_TLS;
}

#endif
