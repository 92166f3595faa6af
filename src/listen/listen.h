/*
 * listen — the STUN/TURN listening sockets (UDP and TCP).
 *
 * listeners_bind() runs on the main thread before privileges are dropped:
 * for every `listen` address it binds one UDP and one TCP socket per worker
 * (SO_REUSEPORT), all on the same port; a port of 0 is resolved once, by
 * the first UDP socket, and reused.  listeners_attach() then puts worker
 * i's sockets on worker i's event base, feeding its protocol engine.
 */
#ifndef FERRY_LISTEN_H
#define FERRY_LISTEN_H

#include <stddef.h>
#include "core/net.h"

struct event_base;
struct ferry_conf;
struct srv;

struct listener_set;

/* NULL with err on failure (nothing stays bound). */
struct tls;

/* tls (may be NULL) serves TLS and DTLS on every port when cert and key
 * are configured. */
struct listener_set *listeners_bind(const struct ferry_conf *conf, int nworkers,
				    struct tls *tls, char *err, size_t errlen);
/* Start serving worker `id`'s sockets on base, feeding srv. */
int listeners_attach(struct listener_set *ls, int id, struct event_base *base,
		     struct srv *srv, char *err, size_t errlen);
/* End worker `id`'s TCP/TLS connections and DTLS sessions (the engine
 * hears turn_conn_closed for each).  Call on that worker's thread or after
 * it has stopped. */
void listeners_drop_connections(struct listener_set *ls, int id);
/* The same, then stop and free its UDP and listening sockets: the engine
 * must be gone by then, since its allocations point at the UDP sockets. */
void listeners_detach(struct listener_set *ls, int id);
void listeners_free(struct listener_set *ls);

/* The addresses actually bound (ports resolved), for logs and tests. */
size_t listeners_count(const struct listener_set *ls);
const net_addr *listeners_addr(const struct listener_set *ls, size_t i);

#endif
