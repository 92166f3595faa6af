/*
 * https — TLS for the HTTP side.
 *
 * ferryd accepts on each https-listen address, performs the TLS handshake
 * with OpenSSL (the HTTPS context of tls.h, so certificates reload like
 * TURN's), and hands the plaintext to libmicrohttpd over a socketpair
 * (MHD_add_connection) with the client's real address.  The HTTP API, the
 * call page and wss:// signaling then run exactly as over plain HTTP.
 */
#ifndef FERRY_HTTPS_H
#define FERRY_HTTPS_H

#include <stddef.h>

struct event_base;
struct ferry_conf;
struct https;
struct MHD_Daemon;
struct tls;

/* Bind every https-listen address (NULL with err on failure; a struct
 * with no listeners when there are none). */
struct https *https_new(const struct ferry_conf *c, struct event_base *base,
			struct tls *tls, char *err, size_t errlen);
/* Accept, and give each connection to d; kick(arg) is called after each
 * hand-over so that MHD runs. */
void https_start(struct https *hs, struct MHD_Daemon *d,
		 void (*kick)(void *arg), void *arg);
void https_stop_listening(struct https *hs);
void https_free(struct https *hs);

#endif
