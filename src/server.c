/*
 * server — the STUN/TURN protocol engine of one worker; see server.h.
 *
 * srv_input() is the only way in.  It validates the message, answers what
 * is wrong with the request itself (400, 420), and dispatches by method.
 */
#include "config.h"
#include "server.h"
#include "conf.h"
#include "log.h"
#include "stun.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define SOFTWARE "ferry/" PACKAGE_VERSION
#define MAX_UNKNOWN 16

struct srv {
	const struct ferry_conf *conf;
	/* Responses are built here: one buffer per worker, no allocation. */
	uint8_t out[65536 + 64];
};

struct srv *srv_new(const struct ferry_conf *conf)
{
	struct srv *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	return s;
}

void srv_free(struct srv *s)
{
	free(s);
}

void srv_set_conf(struct srv *s, const struct ferry_conf *conf)
{
	s->conf = conf;
}

void srv_conn_closed(struct srv *s, struct srv_transport *t)
{
	(void)s;
	(void)t;
}

/* A request being answered: where it came from and what it said. */
struct req {
	struct srv *s;
	struct srv_transport *t;
	const net_addr *local;
	const net_addr *client;
	const struct stun_msg *m;
	struct stun_builder b;
};

static void reply_begin(struct req *r, enum stun_class cls)
{
	stun_build_init(&r->b, r->s->out, sizeof(r->s->out),
			stun_type(r->m->method, cls), r->m->tid);
}

/* SOFTWARE and, when the request carried one, FINGERPRINT; then send. */
static void reply_send(struct req *r)
{
	stun_build_attr(&r->b, STUN_ATTR_SOFTWARE, SOFTWARE, strlen(SOFTWARE));
	if (r->m->fp_off >= 0)
		stun_build_fingerprint(&r->b);
	r->t->send(r->t, r->local, r->client, r->b.buf, r->b.len);
}

static void reply_error(struct req *r, int code)
{
	reply_begin(r, STUN_CLASS_ERROR);
	stun_build_error(&r->b, code, NULL);
	reply_send(r);
}

static void handle_binding(struct req *r)
{
	if (!r->s->conf->allow_anonymous_stun) {
		/* Binding with credentials arrives with the TURN
		 * authentication; until then a closed server refuses. */
		reply_begin(r, STUN_CLASS_ERROR);
		stun_build_error(&r->b, 401, NULL);
		stun_build_attr(&r->b, STUN_ATTR_REALM, r->s->conf->realm,
				strlen(r->s->conf->realm));
		reply_send(r);
		return;
	}
	reply_begin(r, STUN_CLASS_SUCCESS);
	stun_build_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->client->u.sa);
	reply_send(r);
}

int srv_input(struct srv *s, struct srv_transport *t, const net_addr *local,
	      const net_addr *client, const uint8_t *buf, size_t len)
{
	int stream = t->kind == SRV_TCP || t->kind == SRV_TLS;
	struct stun_msg m;
	struct req r = { .s = s, .t = t, .local = local, .client = client, .m = &m };
	uint16_t unknown[MAX_UNKNOWN];
	size_t nunknown;
	int rc;

	rc = stun_parse(buf, len, &m);
	if (rc < 0) {
		log_debug("stun", &client->u.sa, "dropped: %s", stun_strerror(rc));
		/* On a stream a frame that is not STUN means we have lost
		 * the message boundaries. */
		return stream ? -1 : 0;
	}
	if (m.fp_off >= 0 && stun_check_fingerprint(&m) != 0) {
		log_debug("stun", &client->u.sa, "dropped: bad FINGERPRINT");
		return 0;
	}
	if (m.cls != STUN_CLASS_REQUEST)
		return 0;       /* indications and stray responses: nothing to say */

	nunknown = stun_unknown_required(&m, unknown, MAX_UNKNOWN);
	if (nunknown > 0) {
		reply_begin(&r, STUN_CLASS_ERROR);
		stun_build_error(&r.b, 420, NULL);
		stun_build_unknown(&r.b, unknown,
				   nunknown < MAX_UNKNOWN ? nunknown : MAX_UNKNOWN);
		reply_send(&r);
		return 0;
	}
	switch (m.method) {
	case STUN_METHOD_BINDING:
		handle_binding(&r);
		break;
	default:
		log_debug("stun", &client->u.sa, "unknown method 0x%03x", m.method);
		reply_error(&r, 400);
		break;
	}
	return 0;
}
