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

int jwt_verify_hs256(const char *token, const char *secret, size_t secretlen,
		     time_t now, json_t **claims_out, char *err, size_t errlen)
{
	unsigned char mac[JWT_SIG_LEN];
	unsigned char *hdr_raw = NULL, *body_raw = NULL, *sig_raw = NULL;
	size_t len, hdr_len, body_len, sig_len;
	const char *dot1, *dot2;
	json_t *hdr = NULL, *claims = NULL, *alg, *exp, *nbf;
	int rc = -1;

	if (claims_out)
		*claims_out = NULL;
	if (!token)
		return jwt_fail(err, errlen, "malformed");
	/* Bounded scan: a huge token is refused without reading all of it. */
	for (len = 0; len <= JWT_MAX_LEN && token[len]; len++)
		;
	if (len > JWT_MAX_LEN)
		return jwt_fail(err, errlen, "too long");

	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
		    : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
		jwt_fail(err, errlen, "malformed");
		goto out;
	}
	hdr_raw = decode_part(token, (size_t)(dot1 - token), &hdr_len);
	body_raw = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &body_len);
	sig_raw = decode_part(dot2 + 1, len - (size_t)(dot2 + 1 - token),
			      &sig_len);
	if (!hdr_raw || !body_raw || !sig_raw) {
		jwt_fail(err, errlen, "malformed");
		goto out;
	}

	hdr = parse_object(hdr_raw, hdr_len);
	/* RFC 7515 §4.1.11: "crit" names extensions the verifier must
	 * understand; we understand none. */
	if (!hdr || json_object_get(hdr, "crit")) {
		jwt_fail(err, errlen, "malformed");
		goto out;
	}
	alg = json_object_get(hdr, "alg");
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") ||
	    json_string_length(alg) != 5) {
		jwt_fail(err, errlen, "unsupported alg");
		goto out;
	}

	/* The MAC covers the parts exactly as sent: header '.' payload. */
	if (hs256(secret, secretlen, token, (size_t)(dot2 - token), mac) < 0 ||
	    sig_len != JWT_SIG_LEN || !ct_equal(mac, sig_raw, JWT_SIG_LEN)) {
		jwt_fail(err, errlen, "bad signature");
		goto out;
	}

	claims = parse_object(body_raw, body_len);
	if (!claims) {
		jwt_fail(err, errlen, "malformed");
		goto out;
	}
	nbf = json_object_get(claims, "nbf");
	if (nbf && !json_is_number(nbf)) {
		jwt_fail(err, errlen, "malformed");
		goto out;
	}
	/* A token without an expiry would be good forever; ferry never mints
	 * one, so it is refused rather than trusted. */
	exp = json_object_get(claims, "exp");
	if (!json_is_number(exp) || json_number_value(exp) <= (double)now) {
		jwt_fail(err, errlen, "expired");
		goto out;
	}
	if (nbf && json_number_value(nbf) > (double)now) {
		jwt_fail(err, errlen, "not yet valid");
		goto out;
	}
	if (claims_out) {
		*claims_out = claims;
		claims = NULL;
	}
	rc = 0;
out:
	json_decref(claims);
	json_decref(hdr);
	free(hdr_raw);
	free(body_raw);
	free(sig_raw);
	return rc;
}
