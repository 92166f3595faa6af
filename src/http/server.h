/*
 * http — the HTTP side: libmicrohttpd on ferryd's own libevent loop.
 *
 * One MHD daemon per http-listen address, each over a socket bound here
 * (before privileges are dropped) and run in "external" mode: its epoll
 * descriptor is watched by libevent and MHD_run() is called when it fires
 * or when MHD's own timeout expires.  No HTTP threads.
 *
 * Routes live in routes.c; WebSocket connections, once upgraded, in wsconn.c.
 */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "core/net.h"

struct event_base;
struct ferry_conf;
struct http;
struct http_req;
struct MHD_Connection;
struct tls;

/* What the HTTP server needs; what a request is answered with is the
 * route callback's business (routes.h), so this layer knows no route. */
struct http_env {
	const struct ferry_conf *conf;     /* replaced with http_set_conf() */
	struct event_base *base;
	struct tls *tls;                   /* for https-listen */
	/* Answers r: queues exactly one response and returns 1, or 0 when
	 * MHD could not take it (the connection is then closed). */
	int (*route)(void *ctx, struct http_req *r);
	void *route_ctx;
};

/* Bind every http-listen address.  NULL with err on failure. */
struct http *http_new(const struct http_env *env, char *err, size_t errlen);
/* Start serving (after workers and signaling exist). */
int http_start(struct http *h, char *err, size_t errlen);
/* Stop accepting new connections; open WebSockets stay until closed. */
void http_stop_listening(struct http *h);
void http_free(struct http *h);
void http_set_conf(struct http *h, const struct ferry_conf *conf);
/* The configuration in force (routes read theirs here). */
const struct ferry_conf *http_conf(const struct http *h);
/* Run MHD soon (after an upgraded socket was handed back). */
void http_kick(struct http *h);

/* ------------------------------------------------------------ for routes.c */

/* One HTTP request, as routes see it. */
struct http_req {
	struct http *h;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;                  /* decoded, without the query */
	const char *origin;                /* Origin header or NULL */
	int origin_ok;                     /* CORS allowed for it */
	net_addr remote;
	char host[256];                    /* Host header's name, no port */
	int bad_host;                      /* a Host header ferry refuses */
	/* a POST body, bounded by HTTP_MAX_BODY */
	char *body;
	size_t body_len;
	int status;                        /* set when queued, for metrics */
};

#define HTTP_MAX_BODY 65536

const char *http_arg(struct http_req *r, const char *name);
const char *http_header(struct http_req *r, const char *name);

/* Queue a JSON response (steals obj), with Cache-Control: no-store. */
int http_json(struct http_req *r, int status, json_t *obj);
/* {"error":code,"message":message} with status. */
int http_error(struct http_req *r, int status, const char *code,
	       const char *message);
/* The same with one extra response header. */
int http_error_with(struct http_req *r, int status, const char *code,
		    const char *message, const char *hname, const char *hvalue);
/* A text body (metrics), no-store. */
int http_text(struct http_req *r, int status, const char *type,
	      const char *body, size_t len);
/* A file (static files); takes fd. */
int http_file(struct http_req *r, int fd, uint64_t size, const char *type);

/* Responses sent, indexed by status code (100..599), for /metrics. */
void http_status_counts(const struct http *h, uint64_t counts[600]);

#endif
