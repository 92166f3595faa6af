/* dtls — see dtls.h. */
#include "listen/dtls.h"
#include "core/hash.h"
#include "conf/conf.h"
#include "core/log.h"
#include "turn/alloc.h"
#include "turn/engine.h"
#include "listen/tls.h"
#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define DTLS_MTU 1200

/* The datagram plumbing under one SSL: where records go, and the single
 * datagram being read. */
struct dgram_io {
	struct srv_transport *under;
	const net_addr *local;
	const net_addr *client;
	const uint8_t *in;
	size_t inlen;
};

struct sess {
	struct srv_transport t;          /* first: the engine hands it back */
	struct dtls *d;
	struct sess *hnext, *prev, *next;
	struct dgram_io io;
	net_addr client, local;
	SSL *ssl;
	int established;
	int busy;                        /* holds an allocation */
	uint64_t started, last_rx;
};

struct dtls {
	struct tls *tls;
	struct srv *srv;
	struct event *tick;
	struct sess **buckets;
	size_t nbuckets, count, half_open;
	struct sess *all;
	uint8_t plain[16384 + 64];       /* one record's plaintext */
};

/* ------------------------------------------------------------- the BIO */

static BIO_METHOD *dgram_method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

/* Each write is one DTLS record or flight part: one datagram. */
static int bio_write(BIO *b, const char *data, int len)
{
	struct dgram_io *io = BIO_get_data(b);

	if (len <= 0)
		return 0;
	if (io->under->send(io->under, io->local, io->client, data, (size_t)len) < 0)
		log_debug("dtls", &io->client->u.sa, "datagram of %d bytes not sent", len);
	return len;                      /* UDP: a lost datagram is retransmitted */
}

/* Reads hand out the current datagram whole, once. */
static int bio_read(BIO *b, char *buf, int len)
{
	struct dgram_io *io = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!io->inlen) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = io->inlen < (size_t)len ? io->inlen : (size_t)len;
	memcpy(buf, io->in, n);
	io->inlen = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dgram_io *io = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return io ? (long)io->inlen : 0;
	case BIO_CTRL_WPENDING:
		return 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		return DTLS_MTU;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 28;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void make_method(void)
{
	dgram_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				    "ferry datagram");
	BIO_meth_set_write(dgram_method, bio_write);
	BIO_meth_set_read(dgram_method, bio_read);
	BIO_meth_set_ctrl(dgram_method, bio_ctrl);
	BIO_meth_set_create(dgram_method, bio_create);
}

static SSL *new_ssl(struct dtls *d, struct dgram_io *io, const net_addr *client)
{
	SSL *ssl = tls_ssl(d->tls, TLS_DTLS);
	BIO *b;

	if (!ssl)
		return NULL;
	pthread_once(&method_once, make_method);
	b = BIO_new(dgram_method);
	if (!b) {
		SSL_free(ssl);
		return NULL;
	}
	BIO_set_data(b, io);
	SSL_set_bio(ssl, b, b);
	SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
	SSL_set_mtu(ssl, DTLS_MTU);
	SSL_set_app_data(ssl, (void *)client);   /* for the cookie */
	return ssl;
}

/* ------------------------------------------------------------ sessions */

static size_t sess_hash(const struct dtls *d, const struct srv_transport *under,
			const net_addr *client)
{
	uintptr_t u = (uintptr_t)under;
	uint64_t h = hash_bytes(HASH_INIT, &u, sizeof(u));

	h = hash_bytes(h, &client->u, client->len);
	return (size_t)hash_finish(h) & (d->nbuckets - 1);
}

static struct sess *sess_find(struct dtls *d, struct srv_transport *under,
			      const net_addr *client, const net_addr *local)
{
	struct sess *s = d->buckets[sess_hash(d, under, client)];

	for (; s; s = s->hnext)
		if (s->io.under == under && net_equal(&s->client.u.sa, &client->u.sa) &&
		    net_equal(&s->local.u.sa, &local->u.sa))
			return s;
	return NULL;
}

static void sess_free(struct sess *s, const char *why)
{
	struct dtls *d = s->d;
	struct sess **pp = &d->buckets[sess_hash(d, s->io.under, &s->client)];

	log_debug("dtls", &s->client.u.sa, "session ends: %s", why);
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		d->all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	d->count--;
	if (!s->established)
		d->half_open--;
	if (s->established)
		turn_conn_closed(srv_turn(d->srv), &s->t);
	SSL_free(s->ssl);
	free(s);
}

static int sess_send(struct srv_transport *t, const net_addr *local,
		     const net_addr *to, const void *buf, size_t len)
{
	struct sess *s = (struct sess *)t;

	if (!s->established || len > 16384)
		return -1;
	return SSL_write(s->ssl, buf, (int)len) == (int)len ? 0 : -1;
}

static void sess_set_busy(struct srv_transport *t, int busy)
{
	((struct sess *)t)->busy = busy;
}

static size_t half_open_from(struct dtls *d, const net_addr *client)
{
	struct sess *s;
	size_t n = 0;

	for (s = d->all; s; s = s->next)
		if (!s->established && net_ip_equal(&s->client.u.sa, &client->u.sa))
			n++;
	return n;
}

/* Drive the handshake; 0 to keep the session, -1 when it failed. */
static int handshake(struct sess *s)
{
	char why[160];
	int r = SSL_accept(s->ssl);

	if (r == 1) {
		s->established = 1;
		s->d->half_open--;
		log_debug("dtls", &s->client.u.sa, "session established (%s)",
			  SSL_get_cipher_name(s->ssl));
		return 0;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return 0;
	default:
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		ERR_clear_error();
		log_debug("dtls", &s->client.u.sa, "handshake failed: %s", why);
		return -1;
	}
}

/* A ClientHello from a client without a session: answer it without
 * keeping anything, unless it carries a valid cookie. */
static void first_contact(struct dtls *d, struct srv_transport *under,
			  const net_addr *local, const net_addr *client,
			  const uint8_t *buf, size_t len)
{
	struct dgram_io io = { under, local, client, buf, len };
	SSL *ssl = new_ssl(d, &io, client);
	BIO_ADDR *peer;
	struct sess *s;
	size_t h;
	int r;

	if (!ssl)
		return;
	peer = BIO_ADDR_new();
	r = DTLSv1_listen(ssl, peer);
	BIO_ADDR_free(peer);
	ERR_clear_error();
	if (r <= 0) {                    /* HelloVerifyRequest sent, or junk */
		SSL_free(ssl);
		return;
	}
	if (d->count >= DTLS_SESSIONS_PER_WORKER ||
	    d->half_open >= DTLS_HALF_OPEN_PER_WORKER ||
	    half_open_from(d, client) >= DTLS_HALF_OPEN_PER_ADDRESS) {
		log_info("dtls", &client->u.sa, "too many DTLS handshakes; refused");
		SSL_free(ssl);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->t.kind = SRV_DTLS;
	s->t.send = sess_send;
	s->t.set_busy = sess_set_busy;
	s->d = d;
	s->client = *client;
	s->local = *local;
	s->io.under = under;
	s->io.local = &s->local;
	s->io.client = &s->client;
	s->ssl = ssl;
	BIO_set_data(SSL_get_rbio(ssl), &s->io);
	SSL_set_app_data(ssl, &s->client);
	s->started = s->last_rx = mono_ms();
	h = sess_hash(d, under, client);
	s->hnext = d->buckets[h];
	d->buckets[h] = s;
	s->next = d->all;
	if (d->all)
		d->all->prev = s;
	d->all = s;
	d->count++;
	d->half_open++;
	if (handshake(s) < 0)
		sess_free(s, "handshake failed");
}

void dtls_input(struct dtls *d, struct srv_transport *under, const net_addr *local,
		const net_addr *client, const uint8_t *buf, size_t len)
{
	struct sess *s = sess_find(d, under, client, local);
	int n;

	if (!s) {
		first_contact(d, under, local, client, buf, len);
		return;
	}
	s->io.in = buf;
	s->io.inlen = len;
	s->last_rx = mono_ms();
	if (!s->established) {
		if (handshake(s) < 0)
			sess_free(s, "handshake failed");
		return;
	}
	for (;;) {
		n = SSL_read(s->ssl, d->plain, sizeof(d->plain));
		if (n > 0) {
			srv_input(d->srv, &s->t, &s->local, &s->client, d->plain, (size_t)n);
			continue;
		}
		switch (SSL_get_error(s->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return;
		case SSL_ERROR_ZERO_RETURN:
			sess_free(s, "closed by the client");
			return;
		default:
			ERR_clear_error();
			sess_free(s, "protocol error");
			return;
		}
	}
}

/* Once a second: retransmit handshake flights, expire handshakes that
 * stall, and close idle sessions that hold no allocation. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct dtls *d = arg;
	struct sess *s, *next;
	uint64_t now = mono_ms();
	uint64_t idle = (uint64_t)srv_conf(d->srv)->tcp_idle_timeout * 1000u;

	for (s = d->all; s; s = next) {
		next = s->next;
		if (!s->established) {
			if (now - s->started >= DTLS_HANDSHAKE_SECONDS * 1000u)
				sess_free(s, "handshake timed out");
			else
				DTLSv1_handle_timeout(s->ssl);
		} else if (!s->busy && now - s->last_rx >= idle) {
			SSL_shutdown(s->ssl);
			sess_free(s, "idle");
		}
	}
}

struct dtls *dtls_new(struct tls *tls, struct srv *srv, struct event_base *base)
{
	struct dtls *d = xcalloc(1, sizeof(*d));
	struct timeval second = { 1, 0 };

	d->tls = tls;
	d->srv = srv;
	d->nbuckets = 256;
	d->buckets = xcalloc(d->nbuckets, sizeof(*d->buckets));
	d->tick = event_new(base, -1, EV_PERSIST, tick, d);
	event_add(d->tick, &second);
	return d;
}

void dtls_free(struct dtls *d)
{
	if (!d)
		return;
	while (d->all)
		sess_free(d->all, "shutdown");
	event_free(d->tick);
	free(d->buckets);
	free(d);
}

