/* routes — see routes.h. */
#include "http/routes.h"
#include "core/names.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "http/server.h"
#include "http/parse.h"
#include "auth/ice_servers.h"
#include "auth/jwt.h"
#include "core/log.h"
#include "http/metrics.h"
#include "store/store.h"
#include "core/util.h"
#include "http/wsconn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

struct routes {
	struct routes_env env;
	struct worker **workers;
	int nworkers;
};

struct routes *routes_new(const struct routes_env *env)
{
	struct routes *rt = xcalloc(1, sizeof(*rt));

	rt->env = *env;
	return rt;
}

void routes_free(struct routes *rt)
{
	free(rt);
}

void routes_set_workers(struct routes *rt, struct worker **w, int n)
{
	rt->workers = w;
	rt->nworkers = n;
}

static const struct ferry_conf *CONF(struct http_req *r)
{
	return http_conf(r->h);
}

/* ------------------------------------------------------- authorization */

/* Who is asking for credentials: the open endpoint (neither api-key nor
 * signaling-secret configured), the call app's backend (an api-key), or
 * a client holding a signaling JWT, whose sub (if any) is kept. */
enum caller { CALLER_NONE, CALLER_OPEN, CALLER_KEY, CALLER_TOKEN };

struct authz {
	enum caller who;
	char *sub;                         /* CALLER_TOKEN: the sub, or NULL */
};

/* Is the request allowed to obtain credentials?  A bearer (or the draft's
 * `key` parameter) must be a configured api-key or a signaling JWT unless
 * the endpoint is open.  Free az->sub afterwards. */
static void authorize(struct http_req *r, const char *key_param, struct authz *az)
{
	const struct ferry_conf *c = CONF(r);
	const char *cred;
	size_t i, len;

	az->who = CALLER_NONE;
	az->sub = NULL;
	if (c->api_key.n == 0 && !c->signaling_secret) {
		az->who = CALLER_OPEN;
		return;
	}
	cred = hp_bearer(http_header(r, "Authorization"), key_param);
	if (!cred)
		return;
	len = strlen(cred);
	for (i = 0; i < c->api_key.n; i++)
		if (strlen(c->api_key.v[i]) == len && ct_equal(c->api_key.v[i], cred, len)) {
			az->who = CALLER_KEY;
			return;
		}
	if (c->signaling_secret) {
		json_t *claims = NULL;
		char err[64];
		if (jwt_verify_hs256(cred, c->signaling_secret, strlen(c->signaling_secret),
				     wall_s(), &claims, err, sizeof(err)) == 0) {
			/* A signaling token names its room (or "*"). */
			const char *s = json_string_value(json_object_get(claims, "sub"));

			if (json_is_string(json_object_get(claims, "room"))) {
				az->who = CALLER_TOKEN;
				if (s && *s)
					az->sub = xstrdup(s);
			}
			json_decref(claims);
		}
	}
}

static int unauthorized(struct http_req *r)
{
	return http_error_with(r, 401, "unauthorized",
			       "A valid API key or signaling token is required as a Bearer credential.",
			       "WWW-Authenticate", "Bearer");
}

/*
 * The user part of the credential to issue, from what the caller may ask
 * (requested: the `user` or `username` parameter, or NULL).  An api-key
 * holder or the open endpoint names any user; a signaling token gets its
 * own sub only (a random id when it has none), and nothing at all when
 * that sub is revoked.  Returns 0 with *user set (NULL: a random id), or
 * -1 after answering (a 400 or 403; MHD's result in *answer).
 */
static int credential_user(struct routes *rt, struct http_req *r, const struct authz *az,
			   const char *requested, const char **user, int *answer)
{
	*user = requested;
	if (az->who == CALLER_TOKEN) {
		if (requested && (!az->sub || strcmp(requested, az->sub) != 0)) {
			*answer = http_error(r, 403, "forbidden",
				"A signaling token gets credentials only for its own sub.");
			return -1;
		}
		if (az->sub && auth_is_revoked(rt->env.auth, az->sub)) {
			*answer = http_error(r, 403, "forbidden",
				"The token's user has been revoked.");
			return -1;
		}
		*user = az->sub;
	}
	if (*user && !names_user_id(*user)) {
		*answer = http_error(r, 400, "bad-request",
			"user must be 1 to 128 printable ASCII characters without spaces or ':'.");
		return -1;
	}
	return 0;
}

static void signing_secret(struct routes *rt, char *out, size_t n, int *have)
{
	*have = auth_signing_secret(rt->env.auth, out, n) == 0;
}

/* GET/POST /api/ice-servers[?user=U&ttl=S] */
static int ice_servers(struct routes *rt, struct http_req *r)
{
	const char *user = http_arg(r, "user"), *ttl_s = http_arg(r, "ttl");
	json_t *body = NULL, *out;
	struct ice_creds creds;
	struct authz az;
	char secret[1024];
	long ttl = 0;
	int have, ok;

	authorize(r, NULL, &az);
	if (az.who == CALLER_NONE)
		return unauthorized(r);
	if (r->body_len) {
		/* POST may carry the same parameters as a JSON object. */
		body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(body)) {
			json_decref(body);
			free(az.sub);
			return http_error(r, 400, "bad-request",
					  "The request body is not a JSON object.");
		}
		json_t *bu = json_object_get(body, "user"), *bt = json_object_get(body, "ttl");

		if ((bu && !json_is_string(bu)) ||
		    (bt && (!json_is_integer(bt) || json_integer_value(bt) < 1 ||
			    json_integer_value(bt) > HP_TTL_MAX))) {
			json_decref(body);
			free(az.sub);
			return http_error(r, 400, "bad-request",
					  "user must be a string and ttl a whole number of seconds from 1.");
		}
		if (!user && bu)
			user = json_string_value(bu);
		if (!ttl_s && bt)
			ttl = (long)json_integer_value(bt);
	}
	if (ttl_s && hp_parse_ttl(ttl_s, &ttl) < 0) {
		ok = http_error(r, 400, "bad-request",
				"ttl must be a whole number of seconds from 1.");
		goto out;
	}
	if (credential_user(rt, r, &az, user, &user, &ok) < 0)
		goto out;
	signing_secret(rt, secret, sizeof(secret), &have);
	ice_make_creds(CONF(r), have ? secret : NULL, user, ttl, wall_s(), &creds);
	out = json_pack("{s:o,s:I,s:I}",
			"iceServers", ice_server_list(CONF(r), r->host, have ? &creds : NULL),
			"ttl", (json_int_t)creds.ttl, "expires", (json_int_t)creds.expires);
	ok = http_json(r, 200, out);
out:
	json_decref(body);
	free(az.sub);
	return ok;
}

/* GET /api/turn?service=turn&username=U&key=K (draft-uberti-behave-turn-rest-00) */
static int api_turn(struct routes *rt, struct http_req *r)
{
	const char *service = http_arg(r, "service"), *user = http_arg(r, "username");
	struct ice_creds creds;
	struct authz az;
	char secret[1024];
	int have, ok;

	authorize(r, http_arg(r, "key"), &az);
	if (az.who == CALLER_NONE)
		return unauthorized(r);
	if (!service || strcmp(service, "turn") != 0) {
		ok = http_error(r, 400, "bad-request", "service=turn is required.");
		goto out;
	}
	if (credential_user(rt, r, &az, user, &user, &ok) < 0)
		goto out;
	signing_secret(rt, secret, sizeof(secret), &have);
	if (!have) {
		ok = http_error(r, 503, "no-secret",
				"No auth-secret is configured, so no TURN credentials can be issued.");
		goto out;
	}
	ice_make_creds(CONF(r), secret, user, 0, wall_s(), &creds);
	ok = http_json(r, 200, json_pack("{s:s,s:s,s:I,s:o}",
		"username", creds.username, "password", creds.password,
		"ttl", (json_int_t)creds.ttl, "uris", ice_turn_uris(CONF(r), r->host)));
out:
	free(az.sub);
	return ok;
}

static int healthz(struct routes *rt, struct http_req *r)
{
	char err[256];

	/* The error format, plus the part that fails; the details (paths)
	 * go to the log, not to whoever asks. */
	if (store_check(rt->env.store, err, sizeof(err)) != 0) {
		log_warn("http", NULL, "healthz: database: %s", err);
		return http_json(r, 503, json_pack("{s:s,s:s,s:s}", "error", "unavailable",
			"message", "The database does not answer.", "failing", "database"));
	}
	if (rt->nworkers <= 0 || !rt->workers)
		return http_json(r, 503, json_pack("{s:s,s:s,s:s}", "error", "unavailable",
			"message", "The relay workers are not running.", "failing", "listeners"));
	return http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int metrics(struct routes *rt, struct http_req *r)
{
	const struct ferry_conf *c = CONF(r);
	net_addr canon;
	size_t i;
	char *text;
	size_t len;
	int ok;

	net_canonical(&r->remote, &canon);
	for (i = 0; i < c->metrics_allow.n; i++)
		if (net_cidr_match(&c->metrics_allow.v[i], &canon.u.sa))
			break;
	if (i == c->metrics_allow.n)
		return http_error(r, 403, "forbidden",
				  "Metrics are not available from this address.");
	struct metrics_src src = {
		.workers = rt->workers, .nworkers = rt->nworkers,
		.pool = rt->env.pool, .sig = rt->env.sig, .http = r->h,
	};

	text = metrics_render(&src, &len);
	ok = http_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	return ok;
}

/* -------------------------------------------------------- static files */

static const char *mime_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".webmanifest", "application/manifest+json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".wasm", "application/wasm" },
		{ ".woff2", "font/woff2" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot && !strchr(dot, '/'))
		for (i = 0; i < ARRAY_LEN(types); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static int not_found(struct http_req *r)
{
	return http_error(r, 404, "not-found", "There is nothing at this path.");
}

/* Files under web-root only: no ".." segment (libmicrohttpd has already
 * decoded %2e%2e), no backslash, and the resolved path (symlinks
 * followed) must still lie under the resolved root. */
static int static_file(struct http_req *r)
{
	const char *root = CONF(r)->web_root;
	char rel[1024], full[PATH_MAX], real[PATH_MAX], realroot[PATH_MAX];
	const char *p = r->path;
	struct stat st;
	size_t n;
	int fd;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		return http_error_with(r, 405, "method-not-allowed",
				       "Static files are read with GET.", "Allow", "GET, HEAD");
	if (!root || hp_static_path(p, strlen(p), rel, sizeof(rel)) < 0)
		return not_found(r);
	if ((size_t)snprintf(full, sizeof(full), "%s/%s", root, rel) >= sizeof(full) ||
	    !realpath(root, realroot) || !realpath(full, real))
		return not_found(r);
	n = strlen(realroot);
	if (strncmp(real, realroot, n) != 0 || (real[n] != '/' && real[n] != '\0'))
		return not_found(r);
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return not_found(r);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(r);
	}
	return http_file(r, fd, (uint64_t)st.st_size, mime_type(real));
}

/* ------------------------------------------------------------- routing */

static int preflight(struct http_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (!r->origin || !r->origin_ok)
		return http_error(r, 403, "forbidden", "This origin is not allowed.");
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"Authorization, Content-Type");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	MHD_add_response_header(resp, "Vary", "Origin");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ok = MHD_queue_response(r->conn, 204, resp);
	MHD_destroy_response(resp);
	r->status = 204;
	return ok == MHD_YES;
}

static int method_is(struct http_req *r, const char *a, const char *b)
{
	return strcmp(r->method, a) == 0 || (b && strcmp(r->method, b) == 0);
}

/* The API's routes: a path, the two methods it takes, and the answer to
 * any other method (405 with Allow). */
static const struct route {
	const char *path;
	const char *m1, *m2;
	const char *use, *allow;
	int (*answer)(struct routes *rt, struct http_req *r);
} api[] = {
	{ "/api/ice-servers", "GET", "POST", "Use GET or POST.", "GET, POST", ice_servers },
	{ "/api/turn", "GET", "POST", "Use GET or POST.", "GET, POST", api_turn },
	{ "/healthz", "GET", "HEAD", "Use GET.", "GET, HEAD", healthz },
	{ "/metrics", "GET", "HEAD", "Use GET.", "GET, HEAD", metrics },
};

int routes_answer(void *ctx, struct http_req *r)
{
	struct routes *rt = ctx;
	const char *p = r->path;

	/* It would end up in the URLs handed out (RFC 9110 §7.2: 400). */
	if (r->bad_host)
		return http_error(r, 400, "bad-request", "The Host header is not a valid host name.");
	if (strcmp(r->method, "OPTIONS") == 0)
		return preflight(r);
	if (r->origin && !r->origin_ok)
		return http_error(r, 403, "forbidden", "This origin is not allowed.");
	if (strcmp(p, "/ws") == 0)
		return wsconn_upgrade(rt->env.ws, r);
	for (size_t i = 0; i < ARRAY_LEN(api); i++) {
		if (strcmp(p, api[i].path) != 0)
			continue;
		if (!method_is(r, api[i].m1, api[i].m2))
			return http_error_with(r, 405, "method-not-allowed", api[i].use,
					       "Allow", api[i].allow);
		return api[i].answer(rt, r);
	}
	if (strncmp(p, "/api/", 5) == 0 || strcmp(p, "/api") == 0)
		return not_found(r);
	return static_file(r);
}
