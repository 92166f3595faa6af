/* metrics — see metrics.h. */
#include "http/metrics.h"
#include "http/server.h"
#include "turn/ports.h"
#include "signal/signaling.h"
#include "turn/stats.h"
#include "core/util.h"
#include "listen/worker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		o->cap = o->cap * 2 + (size_t)(n > 0 ? n : 0);
		o->buf = xrealloc(o->buf, o->cap);
	}
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct out *o, const char *name, const char *type, const char *help,
		unsigned long long v)
{
	head(o, name, type, help);
	put(o, "%s %llu\n", name, v);
}

/* A labelled family: one sample per row. */
struct labelled {
	enum stat_id id;
	const char *label;
};

static void family(struct out *o, const char *name, const char *help, const char *key,
		   const struct labelled *rows, size_t n, const uint64_t *sum)
{
	head(o, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		put(o, "%s{%s=\"%s\"} %llu\n", name, key, rows[i].label,
		    (unsigned long long)sum[rows[i].id]);
}

/* TURN and STUN, summed over the workers. */
static void turn_section(struct out *o, const struct metrics_src *src)
{
	static const struct labelled methods[] = {
		{ ST_REQ_BINDING, "binding" }, { ST_REQ_ALLOCATE, "allocate" },
		{ ST_REQ_REFRESH, "refresh" },
		{ ST_REQ_CREATE_PERMISSION, "create_permission" },
		{ ST_REQ_CHANNEL_BIND, "channel_bind" }, { ST_IND_SEND, "send_indication" },
		{ ST_REQ_OTHER, "other" },
	}, reasons[] = {
		{ ST_AUTH_FAIL_MISSING, "no_credentials" },
		{ ST_AUTH_FAIL_STALE_NONCE, "stale_nonce" },
		{ ST_AUTH_FAIL_UNKNOWN_USER, "unknown_user" },
		{ ST_AUTH_FAIL_EXPIRED, "expired" },
		{ ST_AUTH_FAIL_REVOKED, "revoked" },
		{ ST_AUTH_FAIL_INTEGRITY, "bad_integrity" },
		{ ST_AUTH_FAIL_BAD_REQUEST, "bad_request" },
		{ ST_AUTH_FAIL_WRONG_CREDENTIALS, "wrong_credentials" },
	}, to_peer_client[] = {
		{ ST_RELAY_TO_PEER_BYTES, "to_peer" }, { ST_RELAY_TO_CLIENT_BYTES, "to_client" },
	}, packets[] = {
		{ ST_RELAY_TO_PEER_PACKETS, "to_peer" }, { ST_RELAY_TO_CLIENT_PACKETS, "to_client" },
	};
	uint64_t sum[ST__COUNT] = { 0 };

	for (int w = 0; w < src->nworkers; w++) {
		const struct stats *st = worker_stats(src->workers[w]);
		for (size_t i = 0; i < ST__COUNT; i++)
			sum[i] += stat_get(st, (enum stat_id)i);
	}
	one(o, "ferry_allocations", "gauge", "TURN allocations now.",
	    (unsigned long long)sum[ST_ALLOCATIONS_CURRENT]);
	one(o, "ferry_allocations_total", "counter", "TURN allocations created.",
	    (unsigned long long)sum[ST_ALLOCATIONS_TOTAL]);
	one(o, "ferry_relay_ports_in_use", "gauge", "Relay ports held (including reservations).",
	    (unsigned long long)(src->pool ? relay_ports_in_use(src->pool) : 0));
	family(o, "ferry_relayed_bytes_total", "Relayed payload bytes, by direction.",
	       "direction", to_peer_client, ARRAY_LEN(to_peer_client), sum);
	family(o, "ferry_relayed_packets_total", "Relayed datagrams, by direction.",
	       "direction", packets, ARRAY_LEN(packets), sum);
	one(o, "ferry_relay_dropped_packets_total", "counter",
	    "Datagrams not relayed (no permission or channel, rate limit, send failure).",
	    (unsigned long long)sum[ST_RELAY_DROPPED_PACKETS]);
	one(o, "ferry_relay_in_memory_packets_total", "counter",
	    "Datagrams from one of ferry's relays to another of the same worker, handed over without the kernel.",
	    (unsigned long long)sum[ST_RELAY_IN_MEMORY_PACKETS]);
	family(o, "ferry_stun_requests_total", "STUN/TURN requests, by method.",
	       "method", methods, ARRAY_LEN(methods), sum);
	family(o, "ferry_auth_failures_total", "Requests refused by authentication, by reason.",
	       "reason", reasons, ARRAY_LEN(reasons), sum);
	one(o, "ferry_quota_rejections_total", "counter",
	    "Allocations refused by user-quota or total-quota (486).",
	    (unsigned long long)sum[ST_QUOTA_REJECTED]);
	one(o, "ferry_address_limit_rejections_total", "counter",
	    "Allocations refused by max-allocations-per-address (486).",
	    (unsigned long long)sum[ST_ADDRESS_LIMIT_REJECTED]);
	one(o, "ferry_tcp_refused_total", "counter",
	    "TCP/TLS connections refused (connection limits, no descriptors).",
	    (unsigned long long)sum[ST_TCP_REFUSED]);
	one(o, "ferry_unauthenticated_dropped_total", "counter",
	    "Unauthenticated requests left unanswered by unauth-rate.",
	    (unsigned long long)sum[ST_UNAUTH_RATE_DROPPED]);
}

static void signaling_section(struct out *o, const struct sig_stats *ss)
{
	one(o, "ferry_signaling_connections", "gauge",
	    "Open signaling WebSocket connections.",
	    (unsigned long long)ss->connections);
	one(o, "ferry_signaling_peers", "gauge",
	    "Peers in rooms, present or within their reconnect grace.",
	    (unsigned long long)ss->peers);
	one(o, "ferry_rooms", "gauge", "Rooms with at least one peer.",
	    (unsigned long long)ss->rooms);
	one(o, "ferry_signaling_joins_total", "counter", "Successful joins.",
	    (unsigned long long)ss->joins);
	head(o, "ferry_signaling_messages_total", "counter",
	     "Signaling messages to peers: relayed live, queued for an absent peer, "
	     "dropped from a full queue.");
	put(o, "ferry_signaling_messages_total{outcome=\"relayed\"} %llu\n",
	    (unsigned long long)ss->messages_relayed);
	put(o, "ferry_signaling_messages_total{outcome=\"queued\"} %llu\n",
	    (unsigned long long)ss->messages_queued);
	put(o, "ferry_signaling_messages_total{outcome=\"dropped\"} %llu\n",
	    (unsigned long long)ss->messages_dropped);
	one(o, "ferry_signaling_errors_total", "counter",
	    "Signaling error messages sent.", (unsigned long long)ss->errors);
	one(o, "ferry_signaling_rate_limited_total", "counter",
	    "Signaling messages dropped by signaling-rate.",
	    (unsigned long long)ss->rate_limited);
	one(o, "ferry_signaling_busy_total", "counter",
	    "Joins refused by max-rooms or max-signaling-peers (server-busy).",
	    (unsigned long long)ss->busy);
	one(o, "ferry_signaling_queue_bytes", "gauge",
	    "Bytes queued for absent peers.", (unsigned long long)ss->queue_bytes);
}

/* Only codes ferryd sends appear, so the label set stays small. */
static void http_section(struct out *o, const struct http *h)
{
	uint64_t status[600];

	http_status_counts(h, status);
	head(o, "ferry_http_responses_total", "counter", "HTTP responses, by status code.");
	for (size_t i = 100; i < 600; i++)
		if (status[i])
			put(o, "ferry_http_responses_total{code=\"%zu\"} %llu\n", i,
			    (unsigned long long)status[i]);
}

char *metrics_render(const struct metrics_src *src, size_t *len)
{
	struct out o = { .cap = 4096 };

	o.buf = xmalloc(o.cap);
	turn_section(&o, src);
	if (src->sig)
		signaling_section(&o, sig_stats(src->sig));
	if (src->http)
		http_section(&o, src->http);
	*len = o.len;
	return o.buf;
}
