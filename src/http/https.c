/* https — see https.h. */
#include "http/https.h"
#include "conf/conf.h"
#include "core/log.h"
#include "listen/tls.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <openssl/err.h>

/* A handshake must finish, and a client must keep sending, within this. */
#define HANDSHAKE_SECONDS 10
/* Bytes buffered one way before reading the other side pauses. */
#define BRIDGE_HIGH (1024 * 1024)

struct lsn {
	struct https *hs;
	int fd;
	net_addr addr;
	struct event *ev;
};

struct bridge {
	struct https *hs;
	struct bridge *prev, *next;       /* every open bridge, for exit */
	struct bufferevent *tls;          /* the client, through OpenSSL */
	struct bufferevent *plain;        /* our end of the socketpair to MHD */
	net_addr remote;
	int draining;                     /* MHD closed: flush, then go */
	int freeing;
};

struct https {
	struct event_base *base;
	struct tls *tls;
	size_t n;
	struct lsn *l;
	struct MHD_Daemon *d;
	void (*kick)(void *);
	void *kick_arg;
	struct bridge *bridges;
};

static void bridge_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;

	if (b->prev)
		b->prev->next = b->next;
	else
		b->hs->bridges = b->next;
	if (b->next)
		b->next->prev = b->prev;
	if (b->plain)
		bufferevent_free(b->plain);
	bufferevent_free(b->tls);
	free(b);
}

/* Never free inside a bufferevent's own callback. */
static void bridge_close(struct bridge *b)
{
	if (b->freeing)
		return;
	b->freeing = 1;
	bufferevent_disable(b->tls, EV_READ | EV_WRITE);
	if (b->plain)
		bufferevent_disable(b->plain, EV_READ | EV_WRITE);
	event_base_once(b->hs->base, -1, EV_TIMEOUT, bridge_free_cb, b, NULL);
}

/* Move what src has read to dst's output; pause src while dst is full. */
static void pump(struct bufferevent *src, struct bufferevent *dst)
{
	struct evbuffer *out = bufferevent_get_output(dst);

	evbuffer_add_buffer(out, bufferevent_get_input(src));
	if (evbuffer_get_length(out) >= BRIDGE_HIGH)
		bufferevent_disable(src, EV_READ);
}

static void from_client(struct bufferevent *bev, void *arg)
{
	struct bridge *b = arg;

	if (b->plain)
		pump(b->tls, b->plain);
}

static void from_mhd(struct bufferevent *bev, void *arg)
{
	struct bridge *b = arg;

	pump(b->plain, b->tls);
}

/* An output drained below the mark: let the other side read again; a
 * bridge whose MHD side has closed goes once the client has it all. */
static void client_drained(struct bufferevent *bev, void *arg)
{
	struct bridge *b = arg;

	if (b->draining && evbuffer_get_length(bufferevent_get_output(b->tls)) == 0) {
		bridge_close(b);
		return;
	}
	if (b->plain && !b->draining)
		bufferevent_enable(b->plain, EV_READ);
}

static void mhd_drained(struct bufferevent *bev, void *arg)
{
	struct bridge *b = arg;

	bufferevent_enable(b->tls, EV_READ);
}

static void mhd_event(struct bufferevent *bev, short what, void *arg)
{
	struct bridge *b = arg;

	/* MHD has closed (or failed): finish sending, then close. */
	b->draining = 1;
	pump(b->plain, b->tls);
	if (evbuffer_get_length(bufferevent_get_output(b->tls)) == 0)
		bridge_close(b);
}

static void handed_over(struct bridge *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("https", &b->remote.u.sa, "socketpair: %s", strerror(errno));
		bridge_close(b);
		return;
	}
	if (MHD_add_connection(b->hs->d, sv[1], &b->remote.u.sa, b->remote.len) != MHD_YES) {
		/* MHD closed sv[1]; it refuses beyond its connection limits. */
		close(sv[0]);
		log_info("https", &b->remote.u.sa, "refused by the HTTP connection limits");
		bridge_close(b);
		return;
	}
	b->plain = bufferevent_socket_new(b->hs->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b->plain, from_mhd, mhd_drained, mhd_event, b);
	bufferevent_setwatermark(b->plain, EV_WRITE, BRIDGE_HIGH / 4, 0);
	bufferevent_enable(b->plain, EV_READ | EV_WRITE);
	/* Past the handshake, MHD's own timeouts govern. */
	bufferevent_set_timeouts(b->tls, NULL, NULL);
	pump(b->tls, b->plain);
	b->hs->kick(b->hs->kick_arg);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct bridge *b = arg;
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		handed_over(b);
		return;
	}
	if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		char why[160];
		ERR_error_string_n(e, why, sizeof(why));
		log_debug("https", &b->remote.u.sa, "closing: %s", why);
		while (bufferevent_get_openssl_error(bev))
			;
	}
	bridge_close(b);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lsn *l = arg;
	struct https *hs = l->hs;
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct timeval hto = { HANDSHAKE_SECONDS, 0 };
		struct bridge *b;
		SSL *ssl;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_warn("https", NULL, "accept: %s", strerror(errno));
			return;
		}
		ssl = tls_ssl(hs->tls, TLS_HTTPS);
		if (!ssl) {
			close(fd);
			continue;
		}
		b = xcalloc(1, sizeof(*b));
		b->hs = hs;
		b->next = hs->bridges;
		if (hs->bridges)
			hs->bridges->prev = b;
		hs->bridges = b;
		net_addr_from_sa(&b->remote, (struct sockaddr *)&ss);
		b->tls = bufferevent_openssl_socket_new(hs->base, fd, ssl,
							BUFFEREVENT_SSL_ACCEPTING,
							BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(b->tls, from_client, client_drained, client_event, b);
		bufferevent_setwatermark(b->tls, EV_WRITE, BRIDGE_HIGH / 4, 0);
		bufferevent_set_timeouts(b->tls, &hto, &hto);
		bufferevent_enable(b->tls, EV_READ | EV_WRITE);
	}
}

struct https *https_new(const struct ferry_conf *c, struct event_base *base,
			struct tls *tls, char *err, size_t errlen)
{
	struct https *hs = xcalloc(1, sizeof(*hs));
	size_t i;

	hs->base = base;
	hs->tls = tls;
	hs->n = c->https_listen.n;
	hs->l = xcalloc(hs->n ? hs->n : 1, sizeof(*hs->l));
	for (i = 0; i < hs->n; i++)
		hs->l[i].fd = -1;
	for (i = 0; i < hs->n; i++) {
		hs->l[i].hs = hs;
		hs->l[i].addr = c->https_listen.v[i];
		hs->l[i].fd = net_tcp_listen(&hs->l[i].addr, 0, 511, err, errlen);
		if (hs->l[i].fd < 0) {
			https_free(hs);
			return NULL;
		}
	}
	return hs;
}

void https_start(struct https *hs, struct MHD_Daemon *d, void (*kick)(void *), void *arg)
{
	char a[NET_ADDRSTRLEN];
	size_t i;

	hs->d = d;
	hs->kick = kick;
	hs->kick_arg = arg;
	for (i = 0; i < hs->n; i++) {
		hs->l[i].ev = event_new(hs->base, hs->l[i].fd, EV_READ | EV_PERSIST,
					on_accept, &hs->l[i]);
		event_add(hs->l[i].ev, NULL);
		log_info("https", NULL, "HTTPS API, wss:// signaling and web app on %s",
			 net_fmt(&hs->l[i].addr.u.sa, a, sizeof(a)));
	}
}


void https_stop_listening(struct https *hs)
{
	size_t i;

	for (i = 0; hs && i < hs->n; i++) {
		if (hs->l[i].ev) {
			event_free(hs->l[i].ev);
			hs->l[i].ev = NULL;
		}
		if (hs->l[i].fd >= 0) {
			close(hs->l[i].fd);
			hs->l[i].fd = -1;
		}
	}
}

void https_free(struct https *hs)
{
	if (!hs)
		return;
	https_stop_listening(hs);
	while (hs->bridges)
		bridge_free_cb(-1, 0, hs->bridges);
	free(hs->l);
	free(hs);
}
