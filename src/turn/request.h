/*
 * request — a STUN request being answered: who sent it, how it was
 * authenticated, and the response built for it.  Made by the engine
 * (engine.c) for each request and handed to the TURN handlers
 * (handlers.c); both answer with req_*().  Not for other modules.
 *
 * A struct request lives on the engine's stack for one request and owns
 * nothing: the message, transport and addresses are the caller's, and
 * the response is built in `out`, a buffer of the engine (one per
 * worker, so no allocation), which the next request reuses.
 */
#ifndef FERRY_REQUEST_H
#define FERRY_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "auth/auth.h"
#include "core/net.h"
#include "stun/stun.h"
#include "turn/transport.h"

struct request {
	struct srv_transport *t;
	const net_addr *local;
	const net_addr *client;
	const struct stun_msg *m;
	uint8_t *out;                      /* where responses are built */
	size_t outcap;
	struct stun_builder b;
	/* Set by authentication: the key that verified the request, which
	 * also protects the response. */
	int authed;
	int mi_sha256;                     /* the request used MI-SHA256 */
	const uint8_t *key;
	size_t keylen;
	struct auth_keys keys;
};

/* Start a response of class cls to r->m (same method and transaction)
 * in r->out. */
void req_begin(struct request *r, enum stun_class cls);
/* Finish (MESSAGE-INTEGRITY when authenticated, SOFTWARE, FINGERPRINT when
 * the request had one) and send. Returns the finished message length;
 * r->b still holds the message, until the next req_begin(). */
size_t req_send(struct request *r);
/* Answer with an error response: ERROR-CODE code and its reason. */
void req_error(struct request *r, int code);

#endif
