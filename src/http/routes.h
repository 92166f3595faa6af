/*
 * routes — what ferryd answers over HTTP (doc/http-api.md): ICE servers
 * and TURN credentials, health, metrics, the signaling upgrade and static
 * files.  The HTTP server (server.h) calls routes_answer() for every
 * complete request.
 */
#ifndef FERRY_ROUTES_H
#define FERRY_ROUTES_H

struct auth;
struct http_req;
struct relay_pool;
struct routes;
struct sig;
struct store;
struct worker;
struct wsconns;

/* What the routes answer from; the configuration comes with each request
 * (http_conf()). */
struct routes_env {
	struct auth *auth;                 /* signing secret, revocations */
	struct store *store;               /* /healthz asks it */
	struct sig *sig;                   /* /metrics */
	struct wsconns *ws;                /* /ws connections join it */
	struct relay_pool *pool;           /* /metrics */
};

/* Copies env; routes_free() frees what routes_new() made. */
struct routes *routes_new(const struct routes_env *env);
void routes_free(struct routes *rt);
/* The relay workers, for /metrics and /healthz, once they exist. */
void routes_set_workers(struct routes *rt, struct worker **w, int n);

/* struct http_env's route callback: ctx is the struct routes. */
int routes_answer(void *ctx, struct http_req *r);

#endif
