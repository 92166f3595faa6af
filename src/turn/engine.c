/*
 * server — the STUN/TURN protocol engine of one worker; see engine.h.
 *
 * srv_input() is the only way in: it tells ChannelData from STUN, validates
 * the message, answers what is wrong with the request itself (400, 420),
 * authenticates (RFC 8489 §9.2) and dispatches by method to Binding here
 * or to the TURN layer (turn/alloc.h: requests to handlers.c, data to
 * datapath.c).
 */
#include "turn/engine.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/util.h"
#include "stun/stun.h"
#include "turn/alloc.h"
#include "turn/datapath.h"
#include "turn/handlers.h"
#include "turn/request.h"
#include "turn/stats.h"

#include <stdlib.h>
#include <string.h>

#define MAX_UNKNOWN 16

/* Token buckets of unauth-rate, one per hashed client address; a
 * collision shares a bucket, which only makes the limit stricter. */
#define UNAUTH_SLOTS 4096

struct unauth_bucket {
	uint8_t key[NET_CLIENT_KEY_LEN];
	uint64_t tokens;                   /* in thousandths of an answer */
	uint64_t stamp;                    /* ms */
};

struct srv {
	struct srv_env env;
	uint64_t (*mono)(void);
	time_t (*wall)(void);
	struct turn *turn;
	uint64_t unauth_seed;
	struct unauth_bucket unauth[UNAUTH_SLOTS];
	/* Responses are built here: one buffer per worker, no allocation. */
	uint8_t out[65536 + 128];
};

/* PASSWORD-ALGORITHMS as this server offers it: MD5 (1) and SHA-256 (2),
 * neither with parameters (RFC 8489 §14.11, §18.5). */
static const uint8_t password_algorithms[8] = { 0, 1, 0, 0, 0, 2, 0, 0 };

struct srv *srv_new(const struct srv_env *env)
{
	struct srv *s = xcalloc(1, sizeof(*s));
	struct turn_env te = {
		.conf = env->conf, .base = env->base, .auth = env->auth,
		.pool = env->pool, .alloc_counts = env->alloc_counts,
		.stats = env->stats, .mono = mono_ms, .wall = wall_s,
	};

	s->env = *env;
	s->mono = mono_ms;
	s->wall = wall_s;
	random_bytes(&s->unauth_seed, sizeof(s->unauth_seed));
	s->turn = turn_new(&te);
	return s;
}

void srv_free(struct srv *s)
{
	if (!s)
		return;
	turn_free(s->turn);
	free(s);
}

void srv_set_conf(struct srv *s, const struct ferry_conf *conf)
{
	s->env.conf = conf;
	turn_set_conf(s->turn, conf);
}

const struct ferry_conf *srv_conf(const struct srv *s)
{
	return s->env.conf;
}

struct stats *srv_stats(struct srv *s)
{
	return s->env.stats;
}

struct turn *srv_turn(struct srv *s)
{
	return s->turn;
}

/*
 * unauth-rate: may this client get one more answer to a request that did
 * not authenticate?  Such answers (401 with REALM and NONCE above all) are
 * larger than the requests that trigger them, so unbounded they would
 * turn ferryd into an amplifier for spoofed floods.  The burst is two
 * seconds' worth: every legitimate allocation starts with a 401, and a
 * browser joining a mesh call makes dozens at once.
 */
static int unauth_allowed(struct srv *s, const net_addr *client)
{
	long rate = s->env.conf->unauth_rate;
	uint8_t key[NET_CLIENT_KEY_LEN];
	struct unauth_bucket *b;
	uint64_t now;

	if (rate <= 0)
		return 1;
	net_client_key(&client->u.sa, key);
	b = &s->unauth[hash_finish(hash_bytes(s->unauth_seed ^ HASH_INIT, key,
					      sizeof(key))) % UNAUTH_SLOTS];
	now = s->mono();
	if (memcmp(b->key, key, sizeof(key)) != 0) {
		memcpy(b->key, key, sizeof(key));
		b->tokens = (uint64_t)rate * 2000;
		b->stamp = now;
	} else if (now > b->stamp) {
		uint64_t t = b->tokens + (now - b->stamp) * (uint64_t)rate;
		b->tokens = t > (uint64_t)rate * 2000 ? (uint64_t)rate * 2000 : t;
		b->stamp = now;
	}
	if (b->tokens < 1000) {
		stat_add(s->env.stats, ST_UNAUTH_RATE_DROPPED, 1);
		return 0;
	}
	b->tokens -= 1000;
	return 1;
}

void srv_set_clock(struct srv *s, uint64_t (*mono)(void), time_t (*wall)(void))
{
	s->mono = mono;
	s->wall = wall;
	turn_set_clock(s->turn, mono, wall);
}

/* 401 or 438: REALM, a fresh NONCE and the algorithms we offer.  Never
 * integrity-protected: the client has not proven who it is. */
static void challenge(struct srv *s, struct request *r, int code, enum stat_id why)
{
	const struct ferry_conf *c = s->env.conf;
	char nonce[AUTH_NONCE_MAX];
	size_t n;

	stat_add(s->env.stats, why, 1);
	r->authed = 0;
	if (!unauth_allowed(s, r->client))
		return;
	n = auth_nonce_make(s->env.auth, &r->client->u.sa, s->wall(), nonce);
	req_begin(r, STUN_CLASS_ERROR);
	stun_build_error(&r->b, code, NULL);
	stun_build_attr(&r->b, STUN_ATTR_REALM, c->realm, strlen(c->realm));
	stun_build_attr(&r->b, STUN_ATTR_NONCE, nonce, n);
	stun_build_attr(&r->b, STUN_ATTR_PASSWORD_ALGORITHMS, password_algorithms,
			sizeof(password_algorithms));
	req_send(r);
}

static void refuse(struct srv *s, struct request *r, int code, enum stat_id why)
{
	stat_add(s->env.stats, why, 1);
	r->authed = 0;
	if (unauth_allowed(s, r->client))
		req_error(r, code);
}

/* Which key the request was signed with: 1 SHA-256, 0 MD5, -1 malformed.
 * Our nonces announce password algorithms, so a client that knows
 * RFC 8489 echoes our list and picks one; one that does not sends
 * neither and gets MD5.  Anything in between is malformed. */
static int key_algorithm(const struct stun_msg *m)
{
	const struct stun_attr *algs = stun_find(m, STUN_ATTR_PASSWORD_ALGORITHMS);
	const struct stun_attr *alg = stun_find(m, STUN_ATTR_PASSWORD_ALGORITHM);
	uint16_t which;

	if ((algs == NULL) != (alg == NULL))
		return -1;
	if (!alg)
		return 0;
	if (algs->len != sizeof(password_algorithms) ||
	    memcmp(algs->value, password_algorithms, algs->len) != 0 ||
	    alg->len < 4 || stun_attr_u16(alg, &which) != 0 ||
	    (which != 1 && which != 2))
		return -1;
	return which == 2;
}

/* Try each of the user's keys on the request's MESSAGE-INTEGRITY(-SHA256):
 * 0 with r->key set and r->authed when one verifies, else -1. */
static int match_key(struct request *r, int use_sha256_key)
{
	size_t i;

	for (i = 0; i < r->keys.n; i++) {
		const uint8_t *key = use_sha256_key ? r->keys.k[i].sha256 : r->keys.k[i].md5;
		size_t keylen = use_sha256_key ? 32 : 16;
		int bad = r->mi_sha256 ? stun_check_integrity_sha256(r->m, key, keylen)
				       : stun_check_integrity(r->m, key, keylen);
		if (!bad) {
			r->key = key;
			r->keylen = keylen;
			r->authed = 1;
			return 0;
		}
	}
	return -1;
}

/*
 * The long-term credential mechanism, server side (RFC 8489 §9.2.4).
 * Returns 0 with r->key set when the request is authentic, or -1 after
 * answering it.
 */
static int authenticate(struct srv *s, struct request *r)
{
	const struct stun_msg *m = r->m;
	const struct stun_attr *mi = stun_find(m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
	const struct stun_attr *user = stun_find(m, STUN_ATTR_USERNAME);
	const struct stun_attr *uhash = stun_find(m, STUN_ATTR_USERHASH);
	const struct stun_attr *realm = stun_find(m, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_find(m, STUN_ATTR_NONCE);
	enum auth_result res;
	int use_sha256_key;

	r->mi_sha256 = mi != NULL;
	if (!mi)
		mi = stun_find(m, STUN_ATTR_MESSAGE_INTEGRITY);
	if (!mi) {
		challenge(s, r, 401, ST_AUTH_FAIL_MISSING);
		return -1;
	}
	if ((!user && !uhash) || !realm || !nonce) {
		refuse(s, r, 400, ST_AUTH_FAIL_BAD_REQUEST);
		return -1;
	}
	if (auth_nonce_check(s->env.auth, &r->client->u.sa, (const char *)nonce->value,
			     nonce->len, s->wall()) != 0) {
		challenge(s, r, 438, ST_AUTH_FAIL_STALE_NONCE);
		return -1;
	}
	if ((use_sha256_key = key_algorithm(m)) < 0) {
		refuse(s, r, 400, ST_AUTH_FAIL_BAD_REQUEST);
		return -1;
	}
	if (user)
		res = auth_lookup(s->env.auth, (const char *)user->value, user->len,
				  (const char *)realm->value, realm->len, s->wall(),
				  &r->keys);
	else if (uhash->len == 32)
		res = auth_lookup_userhash(s->env.auth, uhash->value,
					   (const char *)realm->value, realm->len,
					   &r->keys);
	else
		res = AUTH_BAD_NAME;
	if (res != AUTH_OK) {
		log_debug("auth", &r->client->u.sa, "refused: %s", auth_result_name(res));
		challenge(s, r, 401, res == AUTH_EXPIRED ? ST_AUTH_FAIL_EXPIRED
				: res == AUTH_REVOKED ? ST_AUTH_FAIL_REVOKED
				: ST_AUTH_FAIL_UNKNOWN_USER);
		return -1;
	}
	if (match_key(r, use_sha256_key) == 0)
		return 0;
	log_debug("auth", &r->client->u.sa, "refused: bad MESSAGE-INTEGRITY for %s",
		  r->keys.name);
	challenge(s, r, 401, ST_AUTH_FAIL_INTEGRITY);
	return -1;
}

static void handle_binding(struct srv *s, struct request *r)
{
	stat_add(s->env.stats, ST_REQ_BINDING, 1);
	if (!s->env.conf->allow_anonymous_stun && authenticate(s, r) < 0)
		return;
	req_begin(r, STUN_CLASS_SUCCESS);
	stun_build_xor_addr(&r->b, STUN_ATTR_XOR_MAPPED_ADDRESS, &r->client->u.sa);
	req_send(r);
}

static int is_turn_method(uint16_t method)
{
	return method == STUN_METHOD_ALLOCATE || method == STUN_METHOD_REFRESH ||
	       method == STUN_METHOD_CREATE_PERMISSION ||
	       method == STUN_METHOD_CHANNEL_BIND;
}

/* A parsed STUN request.  struct request carries room for every key a
 * user may have, so it lives here and not on the data path. */
static void request_input(struct srv *s, struct srv_transport *t,
			  const net_addr *local, const net_addr *client,
			  const struct stun_msg *m)
{
	struct request r = { .t = t, .local = local, .client = client, .m = m,
			     .out = s->out, .outcap = sizeof(s->out) };
	uint16_t unknown[MAX_UNKNOWN];
	size_t nunknown;

	nunknown = stun_unknown_required(m, unknown, MAX_UNKNOWN);
	if (nunknown > 0) {
		if (!unauth_allowed(s, client))
			return;
		req_begin(&r, STUN_CLASS_ERROR);
		stun_build_error(&r.b, 420, NULL);
		stun_build_unknown(&r.b, unknown,
				   nunknown < MAX_UNKNOWN ? nunknown : MAX_UNKNOWN);
		req_send(&r);
		return;
	}
	if (m->method == STUN_METHOD_BINDING) {
		handle_binding(s, &r);
	} else if (is_turn_method(m->method)) {
		/* A retransmission gets the answer already given (RFC 8656
		 * §7.2 for Allocate; harmless for the others). */
		if (turn_retransmission(s->turn, t, local, client, m))
			return;
		if (authenticate(s, &r) < 0)
			return;
		turn_request(s->turn, &r);
	} else {
		stat_add(s->env.stats, ST_REQ_OTHER, 1);
		log_debug("stun", &client->u.sa, "unknown method 0x%03x", m->method);
		if (unauth_allowed(s, client))
			req_error(&r, 400);
	}
}

int srv_input(struct srv *s, struct srv_transport *t, const net_addr *local,
	      const net_addr *client, const uint8_t *buf, size_t len)
{
	struct stun_msg m;
	int rc;

	/* ChannelData starts with 0b01; STUN with 0b00 (RFC 8656 §12). */
	if (len >= 4 && (buf[0] & 0xC0) == 0x40) {
		turn_channel_data(s->turn, t, local, client, buf, len);
		return 0;
	}
	rc = stun_parse(buf, len, &m);
	if (rc < 0) {
		log_debug("stun", &client->u.sa, "dropped: %s", stun_strerror(rc));
		/* On a stream a frame that is not STUN means the message
		 * boundaries are lost. */
		return srv_stream(t) ? -1 : 0;
	}
	if (m.fp_off >= 0 && stun_check_fingerprint(&m) != 0) {
		log_debug("stun", &client->u.sa, "dropped: bad FINGERPRINT");
		return 0;
	}
	if (m.cls == STUN_CLASS_INDICATION) {
		if (m.method == STUN_METHOD_SEND) {
			stat_add(s->env.stats, ST_IND_SEND, 1);
			turn_send_indication(s->turn, t, local, client, &m);
		}
		return 0;       /* Binding indications are keep-alives */
	}
	if (m.cls == STUN_CLASS_REQUEST)
		request_input(s, t, local, client, &m);
	return 0;       /* stray responses: nothing to say */
}
