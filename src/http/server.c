/* http — see server.h. */
#include "http/server.h"
#include "conf/conf.h"
#include "http/parse.h"
#include "http/https.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <microhttpd.h>

/* Bounded costs per client: connections in all and per address (from
 * max-tcp-connections[-per-address]; "no limit" is this ceiling), the
 * memory one request may take (headers), and idle time. */
#define HTTP_CEILING 1000000
#define HTTP_REQUEST_MEMORY (32 * 1024)
#define HTTP_IDLE_SECONDS 10

struct http_daemon {
	struct http *h;
	struct MHD_Daemon *d;
	int fd;
	net_addr addr;
	struct event *io;          /* MHD's epoll descriptor */
	struct event *timer;       /* MHD's next timeout */
	int starved;               /* MHD said it is out of descriptors */
	int paused;                /* io not watched meanwhile */
};

struct http {
	struct http_env env;
	/* d[0..n-1] serve http-listen; d[n], when https-listen is set, is a
	 * daemon without a socket of its own, fed by https.c. */
	size_t n;
	struct http_daemon *d;
	struct https *hs;
	struct event *kick;
	uint64_t status[600];      /* responses by status code */
};

const struct ferry_conf *http_conf(const struct http *h)
{
	return h->env.conf;
}

void http_set_conf(struct http *h, const struct ferry_conf *conf)
{
	h->env.conf = conf;
}

void http_status_counts(const struct http *h, uint64_t counts[600])
{
	memcpy(counts, h->status, sizeof(h->status));
}

/* libmicrohttpd tells us, and only this way, that accept() failed for lack
 * of descriptors: its listening socket then stays readable and, left
 * alone, it would "busy wait" (its words) on our loop. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct http_daemon *hd = cls;
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (hd && (strstr(buf, "Too many open files") || strstr(buf, "resource limit"))) {
		if (!hd->starved)
			log_warn("http", NULL, "connection refused: out of file descriptors");
		hd->starved = 1;
	}
	log_debug("http", NULL, "%s", buf);
}

#define EMFILE_PAUSE_MS 100

static void run_daemon(struct http_daemon *hd)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (hd->paused) {
		event_add(hd->io, NULL);
		hd->paused = 0;
	}
	MHD_run(hd->d);
	if (hd->starved) {
		/* Out of descriptors: stop watching for a moment instead of
		 * spinning; pending clients wait in the backlog meanwhile. */
		struct timeval pause = { 0, EMFILE_PAUSE_MS * 1000 };
		hd->starved = 0;
		hd->paused = 1;
		event_del(hd->io);
		event_add(hd->timer, &pause);
		return;
	}
	if (MHD_get_timeout(hd->d, &ms) == MHD_YES) {
		struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
		event_add(hd->timer, &tv);
	} else {
		event_del(hd->timer);
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	run_daemon(arg);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	size_t i;

	for (i = 0; i < h->n + (h->hs != NULL); i++)
		if (h->d[i].d)
			run_daemon(&h->d[i]);
}

static void kick_cb(void *arg)
{
	http_kick(arg);
}

void http_kick(struct http *h)
{
	event_active(h->kick, EV_TIMEOUT, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_daemon *hd = cls;
	struct http_req *r = *con_cls;

	if (!r) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		r = xcalloc(1, sizeof(*r));
		r->h = hd->h;
		r->conn = conn;
		r->method = method;
		r->path = url;
		if (ci && ci->client_addr)
			net_addr_from_sa(&r->remote, ci->client_addr);
		{
			const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");

			r->bad_host = h && !hp_valid_host(h);
			if (!r->bad_host)
				hp_host_name(h, r->host, sizeof(r->host));
		}
		r->origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
		r->origin_ok = hp_origin_allowed(
			(const char *const *)hd->h->env.conf->allowed_origin.v,
			hd->h->env.conf->allowed_origin.n, r->origin);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (r->body_len + *upload_size > HTTP_MAX_BODY) {
			r->body_len = HTTP_MAX_BODY + 1;  /* remember: too big */
		} else {
			r->body = xrealloc(r->body, r->body_len + *upload_size + 1);
			memcpy(r->body + r->body_len, upload, *upload_size);
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->body_len > HTTP_MAX_BODY)
		return http_error(r, 413, "payload-too-large",
				  "The request body is larger than 64 KiB.") ? MHD_YES : MHD_NO;
	return hd->h->env.route(hd->h->env.route_ctx, r) ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct http_req *r = *con_cls;

	if (!r)
		return;
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* Common headers, CORS, count; queue.  Returns 1 on success. */
static int queue(struct http_req *r, int status, struct MHD_Response *resp,
		 int no_store)
{
	enum MHD_Result ok;

	if (!resp)
		return 0;
	if (no_store)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->origin && r->origin_ok) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin);
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	ok = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	if (status >= 100 && status < 600)
		r->h->status[status]++;
	return ok == MHD_YES;
}

/* obj (stolen) as the JSON body, with one optional extra header. */
static int json_response(struct http_req *r, int status, json_t *obj,
			 const char *hname, const char *hvalue)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	struct MHD_Response *resp;

	json_decref(obj);
	if (!text)
		return 0;
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return 0;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (hname)
		MHD_add_response_header(resp, hname, hvalue);
	return queue(r, status, resp, 1);
}

int http_json(struct http_req *r, int status, json_t *obj)
{
	return json_response(r, status, obj, NULL, NULL);
}

int http_error(struct http_req *r, int status, const char *code, const char *message)
{
	return http_error_with(r, status, code, message, NULL, NULL);
}

int http_error_with(struct http_req *r, int status, const char *code,
		    const char *message, const char *hname, const char *hvalue)
{
	return json_response(r, status,
			     json_pack("{s:s,s:s}", "error", code, "message", message),
			     hname, hvalue);
}

int http_text(struct http_req *r, int status, const char *type, const char *body,
	      size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return 0;
	MHD_add_response_header(resp, "Content-Type", type);
	return queue(r, status, resp, 1);
}

int http_file(struct http_req *r, int fd, uint64_t size, const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);

	if (!resp) {
		close(fd);
		return 0;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	return queue(r, 200, resp, 0);
}

const char *http_arg(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct http *http_new(const struct http_env *env, char *err, size_t errlen)
{
	const struct ferry_conf *c = env->conf;
	struct http *h = xcalloc(1, sizeof(*h));
	size_t i;

	h->env = *env;
	h->n = c->http_listen.n;
	h->d = xcalloc(h->n + 1, sizeof(*h->d));
	for (i = 0; i <= h->n; i++)
		h->d[i].fd = -1;
	h->kick = event_new(env->base, -1, 0, on_kick, h);
	for (i = 0; i < h->n; i++) {
		h->d[i].h = h;
		h->d[i].addr = c->http_listen.v[i];
		h->d[i].fd = net_tcp_listen(&h->d[i].addr, 0, 511, err, errlen);
		if (h->d[i].fd < 0) {
			http_free(h);
			return NULL;
		}
	}
	if (c->https_listen.n) {
		h->hs = https_new(c, env->base, env->tls, err, errlen);
		if (!h->hs) {
			http_free(h);
			return NULL;
		}
		h->d[h->n].h = h;
	}
	return h;
}

/* One MHD daemon on our loop: over fd, or (fd < 0) fed by https.c. */
static int start_daemon(struct http_daemon *hd, char *err, size_t errlen)
{
	struct http *h = hd->h;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;

	if (hd->fd < 0)
		flags |= MHD_USE_NO_LISTEN_SOCKET;
	else if (net_family(&hd->addr) == AF_INET6)
		flags |= MHD_USE_IPv6;
	const struct ferry_conf *c = h->env.conf;
	long total = c->max_tcp_connections, per = c->max_tcp_connections_per_address;
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_CONNECTION_LIMIT, total > 0 ? total : HTTP_CEILING, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, per > 0 ? per : HTTP_CEILING, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_SECONDS, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_REQUEST_MEMORY, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		/* last, so that a daemon fed by https.c can leave it out */
		{ MHD_OPTION_LISTEN_SOCKET, hd->fd, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (hd->fd < 0)
		opts[ARRAY_LEN(opts) - 2].option = MHD_OPTION_END;
	hd->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, hd,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, hd,
		MHD_OPTION_ARRAY, opts,
		MHD_OPTION_END);
	if (!hd->d) {
		snprintf(err, errlen, "cannot start libmicrohttpd");
		return -1;
	}
	hd->fd = -1;                       /* MHD owns it now */
	info = MHD_get_daemon_info(hd->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
		return -1;
	}
	hd->io = event_new(h->env.base, info->epoll_fd, EV_READ | EV_PERSIST, on_io, hd);
	hd->timer = event_new(h->env.base, -1, 0, on_io, hd);
	event_add(hd->io, NULL);
	run_daemon(hd);
	return 0;
}

int http_start(struct http *h, char *err, size_t errlen)
{
	char a[NET_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (start_daemon(&h->d[i], err, errlen) < 0)
			return -1;
		log_info("http", NULL, "HTTP API, signaling and web app on %s",
			 net_fmt(&h->d[i].addr.u.sa, a, sizeof(a)));
	}
	if (h->hs) {
		if (start_daemon(&h->d[h->n], err, errlen) < 0)
			return -1;
		https_start(h->hs, h->d[h->n].d, kick_cb, h);
	}
	return 0;
}

void http_stop_listening(struct http *h)
{
	size_t i;

	https_stop_listening(h->hs);
	for (i = 0; i < h->n; i++) {
		if (h->d[i].d) {
			MHD_socket s = MHD_quiesce_daemon(h->d[i].d);
			if (s != MHD_INVALID_SOCKET)
				close(s);
		}
	}
}

void http_free(struct http *h)
{
	size_t i;

	if (!h)
		return;
	https_free(h->hs);
	for (i = 0; i <= h->n; i++) {
		struct http_daemon *hd = &h->d[i];
		if (hd->io)
			event_free(hd->io);
		if (hd->timer)
			event_free(hd->timer);
		if (hd->d)
			MHD_stop_daemon(hd->d);
		if (hd->fd >= 0)
			close(hd->fd);
	}
	if (h->kick)
		event_free(h->kick);
	free(h->d);
	free(h);
}
