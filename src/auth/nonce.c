/* nonce — see nonce.h. */
#include "auth/nonce.h"
#include "auth/state.h"
#include "core/hmac.h"
#include "core/net.h"
#include "core/util.h"

#include <stdint.h>
#include <string.h>

/* RFC 8489 §9.2: a nonce starting with this cookie carries, in the next
 * four characters, the base64 of the 24-bit security feature set. */
#define NONCE_COOKIE		"obMatJos2"
#define NONCE_COOKIE_LEN	9
#define NONCE_FEAT_LEN		4
/* §18.1 numbers the feature bits from the most significant one: bit 0 is
 * "password algorithms", bit 1 "username anonymity". */
#define FEAT_PASSWORD_ALGORITHMS	0x800000u
#define FEAT_USERNAME_ANONYMITY		0x400000u
#define NONCE_FEATURES	(FEAT_PASSWORD_ALGORITHMS | FEAT_USERNAME_ANONYMITY)
/* After the cookie and the features: base64url of the issue time (8 bytes,
 * big-endian) and a truncated HMAC-SHA256 tag.  24 bytes make exactly 32
 * characters, with no padding and no spare bits, so every nonce has one
 * spelling and a changed character always changes the decoded bytes. */
#define NONCE_TIME_LEN	8
#define NONCE_TAG_LEN	16
#define NONCE_BLOB_LEN	(NONCE_TIME_LEN + NONCE_TAG_LEN)
#define NONCE_BLOB_CHARS	32
#define NONCE_LEN	(NONCE_COOKIE_LEN + NONCE_FEAT_LEN + NONCE_BLOB_CHARS)
/* Clocks of the workers that issue and check a nonce are the same clock,
 * but `now` is read at different moments; tolerate a little skew. */
#define NONCE_FUTURE_SLACK	5

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* tag = HMAC-SHA256(nonce_key, features || time || client ip)[0..16) */
static int nonce_tag(const struct auth *a, const struct sockaddr *client,
		     const uint8_t when[NONCE_TIME_LEN],
		     uint8_t tag[NONCE_TAG_LEN])
{
	uint8_t msg[3 + NONCE_TIME_LEN + NET_CLIENT_KEY_LEN], mac[32];
	size_t n = 0;

	msg[n++] = (uint8_t)(NONCE_FEATURES >> 16);
	msg[n++] = (uint8_t)(NONCE_FEATURES >> 8);
	msg[n++] = (uint8_t)NONCE_FEATURES;
	memcpy(msg + n, when, NONCE_TIME_LEN);
	n += NONCE_TIME_LEN;
	/* The client's IP address, so a nonce is good only where it went. */
	net_client_key(client, msg + n);
	n += NET_CLIENT_KEY_LEN;
	if (hmac("SHA256", a->nonce_key, sizeof(a->nonce_key), msg, n, mac,
		 sizeof(mac)) < 0)
		return -1;
	memcpy(tag, mac, NONCE_TAG_LEN);
	return 0;
}

/* The four characters after the cookie: standard base64 as RFC 8489
 * §9.2 asks; the 3 bytes fill them exactly, so there is no padding. */
static void nonce_features(char out[NONCE_FEAT_LEN + 1])
{
	const uint8_t f[3] = {
		(uint8_t)(NONCE_FEATURES >> 16),
		(uint8_t)(NONCE_FEATURES >> 8),
		(uint8_t)NONCE_FEATURES,
	};

	b64_encode(f, sizeof(f), out, NONCE_FEAT_LEN + 1);
}

size_t auth_nonce_make(struct auth *a, const struct sockaddr *client,
		       time_t now, char out[AUTH_NONCE_MAX])
{
	uint8_t blob[NONCE_BLOB_LEN];
	char feat[NONCE_FEAT_LEN + 1];
	size_t n = 0;

	_Static_assert(NONCE_LEN < AUTH_NONCE_MAX, "nonce fits");
	memcpy(out, NONCE_COOKIE, NONCE_COOKIE_LEN);
	n += NONCE_COOKIE_LEN;
	nonce_features(feat);
	memcpy(out + n, feat, NONCE_FEAT_LEN);
	n += NONCE_FEAT_LEN;

	put_be64(blob, (uint64_t)now);
	if (nonce_tag(a, client, blob, blob + NONCE_TIME_LEN) != 0) {
		/* Without a tag there is no nonce we could accept later;
		 * a random one keeps the client asking without ever
		 * authenticating, which fails closed. */
		random_bytes(blob + NONCE_TIME_LEN, NONCE_TAG_LEN);
	}
	if (b64url_encode(blob, sizeof(blob), out + n,
			  AUTH_NONCE_MAX - n) != NONCE_BLOB_CHARS) {
		out[0] = '\0';
		return 0;
	}
	return n + NONCE_BLOB_CHARS;
}

int auth_nonce_check(struct auth *a, const struct sockaddr *client,
		     const char *nonce, size_t len, time_t now)
{
	uint8_t blob[NONCE_BLOB_LEN + 2], tag[NONCE_TAG_LEN];
	char feat[NONCE_FEAT_LEN + 1];
	int64_t issued;
	int good;

	if (!nonce || len != NONCE_LEN ||
	    memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LEN) != 0)
		return 1;
	nonce_features(feat);
	if (memcmp(nonce + NONCE_COOKIE_LEN, feat, NONCE_FEAT_LEN) != 0)
		return 1;
	if (b64url_decode(nonce + NONCE_COOKIE_LEN + NONCE_FEAT_LEN,
			  NONCE_BLOB_CHARS, blob, sizeof(blob)) !=
	    NONCE_BLOB_LEN)
		return 1;
	if (nonce_tag(a, client, blob, tag) != 0)
		return 1;
	good = ct_equal(tag, blob + NONCE_TIME_LEN, NONCE_TAG_LEN);

	/* Only a nonce whose tag matched gets this far with a time we
	 * wrote, so the time checks need not be constant-time. */
	issued = (int64_t)get_be64(blob);
	if (!good)
		return 1;
	if (issued > (int64_t)now + NONCE_FUTURE_SLACK)
		return 1;
	if ((int64_t)now - issued >= AUTH_NONCE_LIFETIME)
		return 1;
	return 0;
}

int auth_nonce_has_pw_algorithms(const char *nonce, size_t len)
{
	uint8_t f[3 + 2];

	if (!nonce || len < NONCE_COOKIE_LEN + NONCE_FEAT_LEN ||
	    memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LEN) != 0)
		return 0;
	if (b64_decode(nonce + NONCE_COOKIE_LEN, NONCE_FEAT_LEN, f,
		       sizeof(f)) != 3)
		return 0;
	return (f[0] & (FEAT_PASSWORD_ALGORITHMS >> 16)) != 0;
}
