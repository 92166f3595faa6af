/*
 * jwt — HS256 JSON Web Tokens.  See jwt.h for the contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/jwt.h"
#include "core/hmac.h"
#include "core/util.h"

#define JWT_SIG_LEN 32	/* HMAC-SHA256 output */

/* Fixed, so every token ferry mints has the same first part. */
static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/*
 * HMAC-SHA256 of data under key into out[JWT_SIG_LEN].  Returns 0 or -1.
 * An empty key goes in as a non-NULL pointer: OpenSSL 3's EVP_MAC refuses
 * (NULL, 0) as a key but accepts ("", 0), and RFC 2104 allows any length.
 */
static int hs256(const char *key, size_t keylen, const char *data,
		 size_t datalen, unsigned char out[JWT_SIG_LEN])
{
	return hmac("SHA256", key ? key : "", keylen, data, datalen, out,
		    JWT_SIG_LEN);
}

char *jwt_sign_hs256(const char *secret, size_t secretlen, json_t *claims)
{
	unsigned char sig[JWT_SIG_LEN];
	char *payload, *tok;
	size_t plen, hlen, off, cap;
	int n;

	if (!json_is_object(claims))
		return NULL;
	payload = json_dumps(claims, JSON_COMPACT);
	if (!payload)
		return NULL;
	plen = strlen(payload);
	if (plen > JWT_MAX_LEN) {
		free(payload);
		return NULL;
	}
	/* header.payload.signature, each part unpadded base64url */
	hlen = sizeof(jwt_header) - 1;
	cap = (hlen + 2) / 3 * 4 + 1 + (plen + 2) / 3 * 4 + 1 +
	      (JWT_SIG_LEN + 2) / 3 * 4 + 1;
	tok = xmalloc(cap);
	n = b64url_encode(jwt_header, hlen, tok, cap);
	off = (size_t)n;
	tok[off++] = '.';
	n = b64url_encode(payload, plen, tok + off, cap - off);
	free(payload);
	off += (size_t)n;
	if (hs256(secret, secretlen, tok, off, sig) < 0) {
		free(tok);
		return NULL;
	}
	tok[off++] = '.';
	n = b64url_encode(sig, sizeof(sig), tok + off, cap - off);
	off += (size_t)n;
	if (off > JWT_MAX_LEN) {
		free(tok);
		return NULL;
	}
	return tok;
}

static int jwt_fail(char *err, size_t errlen, const char *reason)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", reason);
	return -1;
}

/*
 * Decodes one part of a token into a fresh buffer (NUL-terminated, the
 * length in *outlen).  JWS uses base64url without padding (RFC 7515 §2),
 * so '=' is refused although the util decoder would take it; that decoder
 * also refuses stray bits, so each value has exactly one spelling.
 * Returns NULL on a bad part.
 */
static unsigned char *decode_part(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out;
	size_t cap = n / 4 * 3 + 3;
	int r;

	if (memchr(s, '=', n))
		return NULL;
	out = xmalloc(cap + 1);
	r = b64url_decode(s, n, out, cap);
	if (r < 0) {
		free(out);
		return NULL;
	}
	out[r] = '\0';
	*outlen = (size_t)r;
	return out;
}

/* A JSON object from n bytes, or NULL. */
static json_t *parse_object(const unsigned char *s, size_t n)
{
	json_error_t jerr;
	json_t *j = json_loadb((const char *)s, n, JSON_REJECT_DUPLICATES,
			       &jerr);

	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A token cut at its dots, each part decoded; the buffers are the
 * parts' own, freed by parts_free(). */
struct jwt_parts {
	size_t signed_len;		/* header '.' payload, as sent */
	unsigned char *hdr, *body, *sig;
	size_t hdr_len, body_len, sig_len;
};

static void parts_free(struct jwt_parts *p)
{
	free(p->hdr);
	free(p->body);
	free(p->sig);
}

/* Length, then exactly three base64url parts.  Returns NULL, or the
 * reason to refuse the token (parts then holds what was decoded). */
static const char *split_token(const char *token, struct jwt_parts *p)
{
	const char *dot1, *dot2;
	size_t len;

	if (!token)
		return "malformed";
	/* Bounded scan: a huge token is refused without reading all of it. */
	for (len = 0; len <= JWT_MAX_LEN && token[len]; len++)
		;
	if (len > JWT_MAX_LEN)
		return "too long";

	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
		    : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return "malformed";
	p->signed_len = (size_t)(dot2 - token);
	p->hdr = decode_part(token, (size_t)(dot1 - token), &p->hdr_len);
	p->body = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &p->body_len);
	p->sig = decode_part(dot2 + 1, len - (size_t)(dot2 + 1 - token),
			     &p->sig_len);
	if (!p->hdr || !p->body || !p->sig)
		return "malformed";
	return NULL;
}

/* The header must be an object without "crit" whose alg is exactly
 * "HS256".  Returns NULL or the reason. */
static const char *check_header(const struct jwt_parts *p)
{
	json_t *hdr = parse_object(p->hdr, p->hdr_len), *alg;
	const char *why = NULL;

	/* RFC 7515 §4.1.11: "crit" names extensions the verifier must
	 * understand; we understand none. */
	if (!hdr || json_object_get(hdr, "crit")) {
		why = "malformed";
	} else {
		alg = json_object_get(hdr, "alg");
		if (!json_is_string(alg) ||
		    strcmp(json_string_value(alg), "HS256") ||
		    json_string_length(alg) != 5)
			why = "unsupported alg";
	}
	json_decref(hdr);
	return why;
}

/* The claims' time checks, "nbf" type first.  Returns NULL or the reason. */
static const char *check_times(json_t *claims, time_t now)
{
	json_t *exp, *nbf = json_object_get(claims, "nbf");

	if (nbf && !json_is_number(nbf))
		return "malformed";
	/* A token without an expiry would be good forever; ferry never mints
	 * one, so it is refused rather than trusted. */
	exp = json_object_get(claims, "exp");
	if (!json_is_number(exp) || json_number_value(exp) <= (double)now)
		return "expired";
	if (nbf && json_number_value(nbf) > (double)now)
		return "not yet valid";
	return NULL;
}

int jwt_verify_hs256(const char *token, const char *secret, size_t secretlen,
		     time_t now, json_t **claims_out, char *err, size_t errlen)
{
	unsigned char mac[JWT_SIG_LEN];
	struct jwt_parts p = { 0 };
	json_t *claims = NULL;
	const char *why;

	if (claims_out)
		*claims_out = NULL;
	why = split_token(token, &p);
	if (!why)
		why = check_header(&p);
	/* The MAC covers the parts exactly as sent: header '.' payload. */
	if (!why && (hs256(secret, secretlen, token, p.signed_len, mac) < 0 ||
		     p.sig_len != JWT_SIG_LEN ||
		     !ct_equal(mac, p.sig, JWT_SIG_LEN)))
		why = "bad signature";
	/* Only now, authenticated, is the payload parsed. */
	if (!why && !(claims = parse_object(p.body, p.body_len)))
		why = "malformed";
	if (!why)
		why = check_times(claims, now);
	parts_free(&p);
	if (why) {
		json_decref(claims);
		return jwt_fail(err, errlen, why);
	}
	if (claims_out)
		*claims_out = claims;
	else
		json_decref(claims);
	return 0;
}
