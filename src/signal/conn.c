/* conn — see conn.h. */
#include "signal/conn.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sig_conn *conn_new(struct sig *s, const struct sig_conn_ops *ops,
			  void *ctx, const char *host, const net_addr *remote)
{
	struct sig_conn *c = xcalloc(1, sizeof(*c));

	c->ops = ops;
	c->ctx = ctx;
	c->state = CONN_OPEN;
	snprintf(c->host, sizeof(c->host), "%s", host ? host : "");
	if (remote)
		c->remote = *remote;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->stats.connections++;
	return c;
}

void conn_gone(struct sig *s, struct sig_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
	c->next = s->dead;
	s->dead = c;
	c->state = CONN_GONE;
	c->peer = NULL;
	s->stats.connections--;
}

static void free_list(struct sig_conn *c)
{
	struct sig_conn *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
}

void conn_reap(struct sig *s)
{
	free_list(s->dead);
	s->dead = NULL;
}

void conn_free_all(struct sig *s)
{
	conn_reap(s);
	free_list(s->conns);
	s->conns = NULL;
}

int conn_send(struct sig_conn *c, const char *text, size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (c->ops->send(c->ctx, text, len) < 0) {
		/* Unless the transport called sig_conn_gone() meanwhile. */
		if (c->state == CONN_OPEN)
			c->state = CONN_CLOSING;
		return -1;
	}
	return 0;
}

void conn_close(struct sig_conn *c, int code, const char *reason)
{
	if (c->state != CONN_OPEN)
		return;
	c->state = CONN_CLOSING;
	c->ops->close(c->ctx, code, reason);
}

void conn_reply(struct sig_conn *c, json_t *obj)
{
	char *text = json_text(obj);

	if (text)
		conn_send(c, text, strlen(text));
	free(text);
}

/* A copy of text fit for a log line: at most n - 1 bytes, control
 * characters (a client's, e.g. in an unknown type) shown as '?'. */
static const char *log_safe(const char *text, char *buf, size_t n)
{
	size_t i;

	for (i = 0; text[i] && i + 1 < n; i++)
		buf[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ?
			 '?' : text[i];
	buf[i] = '\0';
	return buf;
}

void conn_error(struct sig *s, struct sig_conn *c, const char *code,
		const char *ref, const char *fmt, ...)
{
	char msg[256], lref[40], lmsg[256];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug(SUBJ, log_addr(&c->remote), "refused %s: %s: %s",
		  log_safe(ref ? ref : "message", lref, sizeof(lref)), code,
		  log_safe(msg, lmsg, sizeof(lmsg)));
	e = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code,
		      "message", msg);
	if (e && ref)
		json_object_set_new(e, "ref", json_string(ref));
	s->stats.errors++;
	conn_reply(c, e);
}

/*
 * A token bucket per connection.  Its burst is ten seconds' worth,
 * because joining a mesh is bursty by nature: a newcomer to 15 peers
 * answers 15 offers and trickles a dozen candidates to each.  A message
 * over the rate is dropped; the sender hears `rate-limited` at most once
 * a second, so refusing a flood does not become a flood of errors.
 */
int conn_within_rate(struct sig *s, struct sig_conn *c)
{
	long rate = s->env.conf->signaling_rate;
	uint64_t now = now_ms(s), cap;

	if (rate <= 0)
		return 1;
	cap = (uint64_t)rate * 10000;
	if (c->rate_stamp == 0) {
		c->rate_tokens = cap;
	} else if (now > c->rate_stamp) {
		c->rate_tokens += (now - c->rate_stamp) * (uint64_t)rate;
		if (c->rate_tokens > cap)
			c->rate_tokens = cap;
	}
	c->rate_stamp = now ? now : 1;
	if (c->rate_tokens >= 1000) {
		c->rate_tokens -= 1000;
		return 1;
	}
	s->stats.rate_limited++;
	if (c->rate_warned == 0 || now - c->rate_warned >= 1000) {
		c->rate_warned = now ? now : 1;
		conn_error(s, c, "rate-limited", NULL,
			   "Too many messages: at most %ld a second; some were dropped.",
			   rate);
	}
	return 0;
}
