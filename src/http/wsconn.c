/* wsconn — see wsconn.h. */
#include "http/wsconn.h"
#include "conf/conf.h"
#include "http/server.h"
#include "http/parse.h"
#include "core/log.h"
#include "signal/signaling.h"
#include "core/util.h"
#include "http/ws.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <microhttpd.h>

/* How long a closed connection waits for the client's end. */
#define LINGER_MS 2000

/* What may wait for a client that does not read, at the least. */
#define OUT_LIMIT_MIN (1024 * 1024)

/*
 * The socket is driven directly, not through a bufferevent: a read is one
 * recv(2) into a shared buffer, and what signaling sends is collected per
 * connection and written once per turn of the event loop, after every
 * ready connection has been read.  A message costs no epoll_ctl (the
 * write event is armed only while the kernel refuses more), and a peer
 * that several messages reach in one turn gets them in one write.
 */
/* The signaling WebSocket connections of one ferryd, and the two events
 * they share; main thread only. */
struct wsconns {
	struct sig *sig;
	struct event_base *base;
	struct wsconn *all;                /* every open connection */
	struct wsconn *dirty;              /* those with output to flush */
	struct event *sweep_ev, *flush_ev;
};

struct wsconn {
	struct sig_conn *sc;               /* signaling's, until sig_conn_gone() */
	net_addr remote;                   /* the client, for log lines */
	struct http *h;
	struct wsconns *set;
	MHD_socket fd;
	struct event *rev, *wev;
	uint8_t *out;                      /* out[out_off..out_len): not yet */
	size_t out_off, out_len, out_cap;  /* accepted by the kernel */
	struct MHD_UpgradeResponseHandle *urh;
	struct ws_parser parser;
	struct wsconn *prev, *next;        /* every connection */
	struct wsconn *dprev, *dnext;      /* those with output to flush */
	uint64_t last_rx, last_ping;
	int dirty;                         /* on the flush list */
	int blocked;                       /* the write event is armed */
	int closing;                       /* a close frame is queued */
	int draining;                      /* it is out: awaiting the end */
	uint64_t drain_since;
	int finishing;                     /* teardown scheduled */
	int gone;                          /* sig_conn_gone() called */
};

/* Handed from the upgrade request to the upgrade callback. */
struct pending {
	struct http *h;
	struct wsconns *set;
	char host[256];
	net_addr remote;
};


static const struct ferry_conf *CONF(struct wsconn *c)
{
	return http_conf(c->h);
}

static struct sig *SIG(struct wsconn *c)
{
	return c->set->sig;
}

static void undirty(struct wsconn *c)
{
	if (!c->dirty)
		return;
	c->dirty = 0;
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		c->set->dirty = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	c->dprev = c->dnext = NULL;
}

static void finish(evutil_socket_t fd, short what, void *arg)
{
	struct wsconn *c = arg;
	struct wsconns *set = c->set;

	if (!c->gone) {
		c->gone = 1;
		sig_conn_gone(SIG(c), c->sc);
	}
	undirty(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		set->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	free(c->out);
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	http_kick(c->h);
	ws_parser_fini(&c->parser);
	free(c);
	if (!set->all) {
		if (set->sweep_ev)
			event_free(set->sweep_ev);
		if (set->flush_ev)
			event_free(set->flush_ev);
		set->sweep_ev = set->flush_ev = NULL;
	}
}

/* Never free a connection inside its own callback: mark it, free it from
 * a fresh event. */
static void finish_soon(struct wsconn *c)
{
	if (c->finishing)
		return;
	c->finishing = 1;
	event_del(c->rev);
	event_del(c->wev);
	undirty(c);
	event_base_once(event_get_base(c->rev), -1, EV_TIMEOUT, finish, c, NULL);
}

struct wsconns *wsconns_new(struct sig *sig, struct event_base *base)
{
	struct wsconns *set = xcalloc(1, sizeof(*set));

	set->sig = sig;
	set->base = base;
	return set;
}

void wsconns_free(struct wsconns *set)
{
	if (!set)
		return;
	while (set->all)
		finish(-1, 0, set->all);
	free(set);
}

/* An emptied buffer is kept for the next messages unless it grew past
 * this (a burst); then it is given back. */
#define OUT_KEEP (16 * 1024)

/* Hand the kernel what it takes; arm the write event for the rest. */
static void write_out(struct wsconn *c)
{
	while (c->out_len > c->out_off) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			finish_soon(c);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	if (c->out_len > c->out_off) {
		if (!c->blocked) {
			c->blocked = 1;
			event_add(c->wev, NULL);
		}
		return;
	}
	c->out_off = c->out_len = 0;
	if (c->out_cap > OUT_KEEP) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	if (c->blocked) {
		c->blocked = 0;
		event_del(c->wev);
	}
	/* Everything is out, the close frame too.  Closing the socket now
	 * while the client still sends would answer with a reset, which can
	 * destroy the close frame before the client reads it; so send FIN,
	 * drop what still comes, and go at the client's end (or after
	 * LINGER_MS, see sweep()). */
	if (c->closing && !c->draining) {
		c->draining = 1;
		c->drain_since = mono_ms();
		if (shutdown(c->fd, SHUT_WR) < 0)
			finish_soon(c);
		else
			event_add(c->rev, NULL);
	}
}

/* After the loop's ready events: write what they queued. */
static void flush_all(evutil_socket_t fd, short what, void *arg)
{
	struct wsconns *set = arg;

	while (set->dirty) {
		struct wsconn *c = set->dirty;

		undirty(c);
		if (!c->blocked)
			write_out(c);
	}
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	write_out(arg);
}

static void queue(struct wsconn *c, const void *data, size_t len)
{
	if (c->out_cap - c->out_len < len) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_cap - c->out_len < len) {
			size_t cap = c->out_cap ? c->out_cap : 4096;

			while (cap - c->out_len < len)
				cap *= 2;
			c->out = xrealloc(c->out, cap);
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	if (c->dirty)
		return;
	c->dirty = 1;
	c->dprev = NULL;
	c->dnext = c->set->dirty;
	if (c->set->dirty)
		c->set->dirty->dprev = c;
	else
		event_active(c->set->flush_ev, EV_WRITE, 0);
	c->set->dirty = c;
}

static size_t out_limit(struct wsconn *c);

/* Queue one frame, unless the kernel refuses more and the client has
 * left too much unread: a reader this slow would make us hold unbounded
 * memory (pongs included), so it is dropped with its queue.  What one
 * loop turn produces for a reader that keeps up (a resume's whole queue,
 * say) is not counted against it.  0, or -1 when it was dropped. */
static int frame(struct wsconn *c, int opcode, const void *data, size_t len)
{
	uint8_t hdr[WS_MAX_HEADER];
	size_t n = ws_frame_header(hdr, opcode, len);

	if (c->blocked && c->out_len - c->out_off + n + len > out_limit(c)) {
		log_info("ws", &c->remote.u.sa, "outbound queue full, disconnecting");
		finish_soon(c);
		return -1;
	}
	queue(c, hdr, n);
	if (len)
		queue(c, data, len);
	return 0;
}

/* Queue a close frame; the socket goes once it has been written. */
static void close_with(struct wsconn *c, int code, const char *reason)
{
	uint8_t buf[WS_CONTROL_FRAME_MAX];
	size_t n;

	if (c->closing || c->finishing)
		return;
	c->closing = 1;
	n = ws_close_frame(buf, (uint16_t)code, reason);
	queue(c, buf, n);
	event_del(c->rev);
}

static size_t out_limit(struct wsconn *c)
{
	size_t four = 4 * (size_t)CONF(c)->signaling_max_message;
	return four > OUT_LIMIT_MIN ? four : OUT_LIMIT_MIN;
}

static int op_send(void *ctx, const char *text, size_t len)
{
	struct wsconn *c = ctx;

	if (c->closing || c->finishing)
		return -1;
	return frame(c, WS_OP_TEXT, text, len);
}

static void op_close(void *ctx, int code, const char *reason)
{
	close_with(ctx, code, reason);
}

static const struct sig_conn_ops ops = { .send = op_send, .close = op_close };

static void process(struct wsconn *c, const uint8_t *p, size_t len)
{
	size_t off = 0;

	c->last_rx = mono_ms();
	while (off < len && !c->closing && !c->finishing) {
		struct ws_event ev;
		size_t used = 0;
		int r = ws_parser_feed(&c->parser, p + off, len - off, &used, &ev);

		off += used;
		if (r == 0)
			break;
		switch (ev.type) {
		case WS_EV_TEXT:
			sig_text(SIG(c), c->sc, (const char *)ev.data, ev.len);
			break;
		case WS_EV_BINARY:
			sig_binary(SIG(c), c->sc);
			break;
		case WS_EV_PING:
			frame(c, WS_OP_PONG, ev.data, ev.len);
			break;
		case WS_EV_PONG:
			break;
		case WS_EV_CLOSE:
			/* Echo the client's status, as §5.5.1 asks. */
			close_with(c, ev.code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL
								      : ev.code, "");
			break;
		case WS_EV_ERROR:
			log_debug("ws", &c->remote.u.sa, "closing with %u: %s",
				  ev.code, ev.reason);
			close_with(c, ev.code, ev.reason);
			break;
		}
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	/* Main thread only; the parser copies what it keeps. */
	static uint8_t buf[64 * 1024];
	struct wsconn *c = arg;
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		if (!c->draining)
			process(c, buf, (size_t)n);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		finish_soon(c);	/* the client went, or the socket failed */
	}
}

/* Once a second: ping connections that have been quiet for a third of
 * signaling-idle-timeout, and drop those quiet for all of it (their peer
 * keeps its place for the reconnect grace). */
static void sweep(evutil_socket_t fd, short what, void *arg)
{
	struct wsconns *set = arg;
	struct wsconn *c;
	uint64_t now = mono_ms();

	for (c = set->all; c; c = c->next) {
		uint64_t idle = (uint64_t)CONF(c)->signaling_idle_timeout * 1000u;

		if (c->finishing)
			continue;
		if (c->draining) {
			if (now - c->drain_since >= LINGER_MS)
				finish_soon(c);
			continue;
		}
		if (now - c->last_rx >= idle) {
			log_info("ws", &c->remote.u.sa, "idle for %llus, dropping",
				 (unsigned long long)(idle / 1000));
			finish_soon(c);
		} else if (!c->closing && now - c->last_rx >= idle / 3 &&
			   now - c->last_ping >= idle / 3) {
			frame(c, WS_OP_PING, "ferry", 5);
			c->last_ping = now;
		}
	}
}

static void upgraded(void *cls, struct MHD_Connection *mc, void *con_cls,
		     const char *extra, size_t extra_len, MHD_socket sock,
		     struct MHD_UpgradeResponseHandle *urh)
{
	struct pending *pd = cls;
	struct wsconns *set = pd->set;
	struct wsconn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	c->remote = pd->remote;
	c->h = pd->h;
	c->set = set;
	/* sig_conn_open() sends nothing, so it may come before the events. */
	c->sc = sig_conn_open(set->sig, &ops, c, pd->host, &pd->remote);
	c->urh = urh;
	c->last_rx = c->last_ping = mono_ms();
	free(pd);
	ws_parser_init(&c->parser, (size_t)CONF(c)->signaling_max_message);
	/* MHD owns the socket: it closes it on MHD_UPGRADE_ACTION_CLOSE. */
	c->fd = sock;
	evutil_make_socket_nonblocking(sock);
	/* Output is gathered per loop turn already; Nagle would only hold
	 * a message back for the client's delayed ACK.  (The https bridge
	 * hands over a socketpair, where this fails harmlessly.) */
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->rev = event_new(set->base, sock, EV_READ | EV_PERSIST, on_readable, c);
	c->wev = event_new(set->base, sock, EV_WRITE | EV_PERSIST, on_writable, c);
	event_add(c->rev, NULL);
	c->next = set->all;
	if (set->all)
		set->all->prev = c;
	set->all = c;
	if (!set->sweep_ev) {
		struct timeval second = { 1, 0 };
		set->sweep_ev = event_new(set->base, -1, EV_PERSIST, sweep, set);
		event_add(set->sweep_ev, &second);
		set->flush_ev = event_new(set->base, -1, 0, flush_all, set);
	}
	if (extra_len)
		process(c, (const uint8_t *)extra, extra_len);
}

int wsconn_upgrade(struct wsconns *set, struct http_req *r)
{
	const char *upgrade = http_header(r, "Upgrade");
	const char *connection = http_header(r, "Connection");
	const char *version = http_header(r, "Sec-WebSocket-Version");
	const char *key = http_header(r, "Sec-WebSocket-Key");
	char accept[WS_ACCEPT_LEN + 1];
	struct MHD_Response *resp;
	struct pending *pd;
	enum MHD_Result ok;

	if (strcmp(r->method, "GET") != 0)
		return http_error_with(r, 405, "method-not-allowed",
				       "The signaling endpoint takes a WebSocket GET.", "Allow", "GET");
	if (!hp_has_token(upgrade, "websocket") || !hp_has_token(connection, "upgrade"))
		return http_error_with(r, 426, "upgrade-required",
				       "This endpoint speaks WebSocket only.", "Upgrade", "websocket");
	if (!version || strcmp(version, "13") != 0)
		return http_error_with(r, 426, "upgrade-required",
				       "Only WebSocket version 13 is supported.",
				       "Sec-WebSocket-Version", "13");
	if (!key || ws_accept_key(key, accept) != 0)
		return http_error(r, 400, "bad-request",
				  "Sec-WebSocket-Key is missing or not 16 bytes of base64.");
	pd = xcalloc(1, sizeof(*pd));
	pd->h = r->h;
	pd->set = set;
	memcpy(pd->host, r->host, sizeof(pd->host));
	pd->remote = r->remote;
	resp = MHD_create_response_for_upgrade(upgraded, pd);
	if (!resp) {
		free(pd);
		return 0;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	ok = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	r->status = 101;
	if (ok != MHD_YES)
		free(pd);
	return ok == MHD_YES;
}
