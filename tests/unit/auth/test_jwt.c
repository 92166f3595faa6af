/*
 * test_jwt — HS256 tokens: our own round trip, tokens minted independently
 * with Python's hmac/hashlib/base64, and one test per rejection reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/jwt.h"
#include "../tap.h"
#include "core/util.h"

static const char secret[] = "ferry-test-secret";
#define SECRET secret, sizeof(secret) - 1
#define NOW ((time_t)1700000000)

/*
 * Tokens minted by /usr/bin/python3, independently of this code:
 *
 *   python3 -c 'import hmac,hashlib,base64,json;
 *     e=lambda b:base64.urlsafe_b64encode(b).rstrip(b"=").decode();
 *     k=b"ferry-test-secret";
 *     h=e(json.dumps({"alg":"HS256","typ":"JWT"},separators=(",",":")).encode());
 *     p=e(json.dumps({"room":"lobby","sub":"alice","exp":4102444800},
 *                    separators=(",",":")).encode());
 *     print(h+"."+p+"."+e(hmac.new(k,(h+"."+p).encode(),hashlib.sha256).digest()))'
 *
 * PY_EMPTY_KEY: the same with k=b"", header {"alg":"HS256"} and claims
 * {"exp":4102444800}; PY_LONG_KEY: likewise with k=b"k"*100, longer than
 * SHA-256's 64-byte block so HMAC hashes the key first.
 */
static const char py_token[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
	".eyJyb29tIjoibG9iYnkiLCJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0"
	".2iIPwQCB0DMra6yxi0OQKaTnMj5oECoUWxlBCJbJJ5w";
static const char py_empty_key[] =
	"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9"
	".oYgzrXWjRHNDyws8cqNMcqzt2zCSs_QizAmtBkFDJ_s";
static const char py_long_key[] =
	"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9"
	".VeBSHIqJ1wrxFnOElqKU038pq0uVOlrAvqKJk-XYbJ4";

/*
 * Builds a token from raw header and payload text, signed with secret:
 * lets a test give a good signature to a bad header or payload so that
 * each check is reached on its own.  Returns a static buffer.
 */
static const char *forge(const char *hdr, const char *payload)
{
	static char tok[4096];
	unsigned char mac[32];
	size_t o, maclen = 0;
	int n;

	n = b64url_encode(hdr, strlen(hdr), tok, sizeof(tok));
	o = (size_t)n;
	tok[o++] = '.';
	n = b64url_encode(payload, strlen(payload), tok + o, sizeof(tok) - o);
	o += (size_t)n;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
		       sizeof(secret) - 1, (unsigned char *)tok, o, mac,
		       sizeof(mac), &maclen))
		abort();
	tok[o++] = '.';
	b64url_encode(mac, maclen, tok + o, sizeof(tok) - o);
	return tok;
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_CLAIMS "{\"room\":\"r\",\"exp\":1800000000}"

/* The reason verify gives for token, or "ok". */
static const char *why(const char *token)
{
	static char err[64];
	json_t *claims = (json_t *)1;

	strcpy(err, "(unset)");
	if (jwt_verify_hs256(token, SECRET, NOW, &claims, err, sizeof(err)) == 0) {
		json_decref(claims);
		return "ok";
	}
	if (claims != NULL)
		return "claims_out not NULL on failure";
	return err;
}

static void test_sign_verify(void)
{
	json_t *claims = json_pack("{s:s, s:s, s:I}", "room", "lobby",
				   "sub", "alice", "exp", (json_int_t)4102444800);
	json_t *got = NULL;
	char err[64] = "";
	char *tok;

	tok = jwt_sign_hs256(SECRET, claims);
	ok(tok != NULL, "sign returns a token");
	is_str(tok, py_token, "signing matches the Python-minted token byte for byte");
	ok(tok && !strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37),
	   "header part is {\"alg\":\"HS256\",\"typ\":\"JWT\"}");
	is_int(jwt_verify_hs256(tok, SECRET, NOW, &got, err, sizeof(err)), 0,
	       "own token verifies");
	ok(got && json_equal(got, claims), "claims come back unchanged");
	json_decref(got);
	free(tok);
	json_decref(claims);

	got = NULL;
	is_int(jwt_verify_hs256(py_token, SECRET, NOW, &got, err, sizeof(err)), 0,
	       "Python-minted token verifies");
	is_str(json_string_value(json_object_get(got, "room")), "lobby",
	       "... room claim");
	is_str(json_string_value(json_object_get(got, "sub")), "alice",
	       "... sub claim");
	json_decref(got);

	is_int(jwt_verify_hs256(py_empty_key, "", 0, NOW, NULL, NULL, 0), 0,
	       "Python token with an empty key verifies");
	is_int(jwt_verify_hs256(py_empty_key, NULL, 0, NOW, NULL, NULL, 0), 0,
	       "... NULL secret of length 0 is the empty key");
	{
		char k[100];

		memset(k, 'k', sizeof(k));
		is_int(jwt_verify_hs256(py_long_key, k, sizeof(k), NOW, NULL,
					NULL, 0), 0,
		       "Python token with a 100-byte key verifies");
		is_int(jwt_verify_hs256(py_long_key, k, 99, NOW, NULL, NULL, 0),
		       -1, "... not with 99 bytes of it");
	}

	/* a key with a NUL inside: length, not strlen, counts */
	claims = json_pack("{s:I}", "exp", (json_int_t)NOW + 60);
	tok = jwt_sign_hs256("a\0b", 3, claims);
	is_int(jwt_verify_hs256(tok, "a\0b", 3, NOW, NULL, NULL, 0), 0,
	       "binary key with a NUL verifies");
	is_int(jwt_verify_hs256(tok, "a\0c", 3, NOW, NULL, NULL, 0), -1,
	       "... and the byte after the NUL matters");
	free(tok);
	json_decref(claims);

	ok(jwt_sign_hs256(SECRET, NULL) == NULL, "sign NULL claims: NULL");
	claims = json_array();
	ok(jwt_sign_hs256(SECRET, claims) == NULL, "sign array claims: NULL");
	json_decref(claims);
	claims = json_pack("{s:s}", "big", "");
	{
		char *s = xmalloc(9000);

		memset(s, 'x', 8999);
		s[8999] = '\0';
		json_object_set_new(claims, "big", json_string(s));
		free(s);
	}
	ok(jwt_sign_hs256(SECRET, claims) == NULL, "sign over 8 KiB: NULL");
	json_decref(claims);
	/* claims that fit in 8 KiB but whose base64url does not */
	claims = json_pack("{s:I, s:s}", "exp", (json_int_t)NOW + 60, "pad", "");
	{
		char *s = xmalloc(6501), *t;

		memset(s, 'x', 6500);
		s[6500] = '\0';
		json_object_set_new(claims, "pad", json_string(s));
		ok(jwt_sign_hs256(SECRET, claims) == NULL,
		   "sign, encoded token over 8 KiB: NULL");
		s[5000] = '\0';
		json_object_set_new(claims, "pad", json_string(s));
		t = jwt_sign_hs256(SECRET, claims);
		ok(t && strlen(t) > 6000 && strlen(t) <= JWT_MAX_LEN &&
		   !strcmp(why(t), "ok"), "a 6.7 KB token signs and verifies");
		free(t);
		free(s);
	}
	json_decref(claims);

	is_str(why(forge(HS256, GOOD_CLAIMS)), "ok", "forge helper makes good tokens");
}

static void test_malformed(void)
{
	char *big;
	char buf[512];
	const char *t;

	ok(jwt_verify_hs256(NULL, SECRET, NOW, NULL, buf, sizeof(buf)) == -1 &&
	   !strcmp(buf, "malformed"), "NULL token: malformed");
	is_str(why(""), "malformed", "empty token");
	is_str(why("abc"), "malformed", "one part");
	is_str(why("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9"), "malformed",
	       "two parts");
	snprintf(buf, sizeof(buf), "%s.x", py_token);
	is_str(why(buf), "malformed", "four parts");
	is_str(why(".."), "malformed", "three empty parts");

	snprintf(buf, sizeof(buf), "%s", py_token);
	buf[40] = '+';
	is_str(why(buf), "malformed", "'+' (standard alphabet) in the payload");
	snprintf(buf, sizeof(buf), "%s", py_token);
	buf[3] = '*';
	is_str(why(buf), "malformed", "bad character in the header");
	snprintf(buf, sizeof(buf), "%s=", py_token);
	is_str(why(buf), "malformed", "padding on the signature");
	snprintf(buf, sizeof(buf), "%s", py_token);
	buf[strlen(buf) - 1] = 'x';	/* 'w' -> 'x' sets a stray low bit */
	is_str(why(buf), "malformed", "stray bits in the last symbol");
	snprintf(buf, sizeof(buf), "%sAA", py_token);
	is_str(why(buf), "malformed", "base64url of impossible length");
	snprintf(buf, sizeof(buf), "%s", py_token);
	buf[10] = ' ';
	is_str(why(buf), "malformed", "space inside");

	is_str(why(forge("not json", GOOD_CLAIMS)), "malformed", "header not JSON");
	is_str(why(forge("[\"HS256\"]", GOOD_CLAIMS)), "malformed",
	       "header a JSON array");
	is_str(why(forge("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", GOOD_CLAIMS)),
	       "malformed", "duplicate key in the header");
	is_str(why(forge("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", GOOD_CLAIMS)),
	       "malformed", "header with crit");
	is_str(why(forge(HS256, "not json")), "malformed",
	       "payload not JSON, good signature");
	is_str(why(forge(HS256, "42")), "malformed", "payload a JSON number");
	is_str(why(forge(HS256, "{\"exp\":1800000000,\"exp\":1800000000}")),
	       "malformed", "duplicate key in the payload");
	is_str(why(forge(HS256, "{\"exp\":1800000000} x")), "malformed",
	       "trailing garbage after the payload");
	is_str(why(forge(HS256, "{\"exp\":1800000000,\"nbf\":\"0\"}")), "malformed",
	       "nbf not a number");

	/* too long: decided on length alone */
	big = xmalloc(JWT_MAX_LEN + 2);
	memset(big, 'A', JWT_MAX_LEN + 1);
	big[JWT_MAX_LEN + 1] = '\0';
	is_str(why(big), "too long", "8193 characters: too long");
	big[JWT_MAX_LEN] = '\0';
	is_str(why(big), "malformed", "8192 characters: read (and malformed)");
	free(big);

	/* err buffer handling */
	t = forge(HS256, "[]");
	ok(jwt_verify_hs256(t, SECRET, NOW, NULL, buf, 4) == -1 &&
	   !strcmp(buf, "mal"), "err is truncated to errlen");
	ok(jwt_verify_hs256(t, SECRET, NOW, NULL, NULL, 0) == -1,
	   "err may be NULL");
}

static void test_alg(void)
{
	is_str(why(forge("{\"alg\":\"none\"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg none, signed anyway");
	/* the classic alg-none token: empty signature */
	is_str(why("eyJhbGciOiJub25lIn0.eyJyb29tIjoiciIsImV4cCI6MTgwMDAwMDAwMH0."),
	       "unsupported alg", "alg none with an empty signature");
	is_str(why(forge("{\"alg\":\"HS512\"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg HS512");
	is_str(why(forge("{\"alg\":\"RS256\"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg RS256");
	is_str(why(forge("{\"alg\":\"hs256\"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg in lower case");
	is_str(why(forge("{\"alg\":\"HS256 \"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg with a trailing space");
	is_str(why(forge("{\"typ\":\"JWT\"}", GOOD_CLAIMS)), "unsupported alg",
	       "alg missing");
	is_str(why(forge("{\"alg\":256}", GOOD_CLAIMS)), "unsupported alg",
	       "alg a number");
	is_str(why(forge("{\"alg\":null}", GOOD_CLAIMS)), "unsupported alg",
	       "alg null");
	is_str(why(forge("{\"alg\":\"HS256\"}", GOOD_CLAIMS)), "ok",
	       "alg HS256 without typ is fine");
}

static void test_signature(void)
{
	char buf[512];
	const char *t = forge(HS256, GOOD_CLAIMS);
	char *dot;

	ok(jwt_verify_hs256(py_token, "ferry-test-secreT", 17, NOW, NULL, buf,
			    sizeof(buf)) == -1 && !strcmp(buf, "bad signature"),
	   "wrong secret: bad signature");
	ok(jwt_verify_hs256(py_token, secret, 16, NOW, NULL, buf,
			    sizeof(buf)) == -1 && !strcmp(buf, "bad signature"),
	   "secret one byte short: bad signature");

	/* change the payload, keep the signature */
	snprintf(buf, sizeof(buf), "%s", t);
	dot = strchr(buf, '.');
	dot[2] = dot[2] == 'A' ? 'B' : 'A';
	is_str(why(buf), "bad signature", "tampered payload");
	/* a different header with the old signature */
	snprintf(buf, sizeof(buf), "eyJhbGciOiJIUzI1NiJ9%s", strchr(t, '.'));
	is_str(why(buf), "bad signature", "swapped header");

	snprintf(buf, sizeof(buf), "%s", t);
	buf[strlen(buf) - 4] = '\0';
	is_str(why(buf), "bad signature", "truncated signature");
	snprintf(buf, sizeof(buf), "%sAAAA", t);
	is_str(why(buf), "bad signature", "signature too long");
	snprintf(buf, sizeof(buf), "%s", t);
	*strrchr(buf, '.') = '\0';
	strcat(buf, ".");
	is_str(why(buf), "bad signature", "empty signature");
	snprintf(buf, sizeof(buf), "%s", t);
	dot = strrchr(buf, '.');
	dot[1] = dot[1] == 'A' ? 'B' : 'A';
	is_str(why(buf), "bad signature", "first signature byte flipped");
}

static void test_times(void)
{
	char p[128];

	is_str(why(forge(HS256, "{\"room\":\"r\"}")), "expired", "exp missing");
	is_str(why(forge(HS256, "{\"exp\":\"1800000000\"}")), "expired",
	       "exp a string");
	is_str(why(forge(HS256, "{\"exp\":null}")), "expired", "exp null");
	snprintf(p, sizeof(p), "{\"exp\":%lld}", (long long)NOW);
	is_str(why(forge(HS256, p)), "expired", "exp == now");
	snprintf(p, sizeof(p), "{\"exp\":%lld}", (long long)NOW - 1);
	is_str(why(forge(HS256, p)), "expired", "exp one second ago");
	snprintf(p, sizeof(p), "{\"exp\":%lld}", (long long)NOW + 1);
	is_str(why(forge(HS256, p)), "ok", "exp one second ahead");
	snprintf(p, sizeof(p), "{\"exp\":%lld.5}", (long long)NOW);
	is_str(why(forge(HS256, p)), "ok", "fractional exp half a second ahead");

	snprintf(p, sizeof(p), "{\"exp\":1800000000,\"nbf\":%lld}",
		 (long long)NOW + 1);
	is_str(why(forge(HS256, p)), "not yet valid", "nbf one second ahead");
	snprintf(p, sizeof(p), "{\"exp\":1800000000,\"nbf\":%lld}", (long long)NOW);
	is_str(why(forge(HS256, p)), "ok", "nbf == now");
	snprintf(p, sizeof(p), "{\"exp\":%lld,\"nbf\":%lld}", (long long)NOW,
		 (long long)NOW + 1);
	is_str(why(forge(HS256, p)), "expired", "expired wins over not yet valid");
}

int main(void)
{
	test_sign_verify();
	test_malformed();
	test_alg();
	test_signature();
	test_times();
	return tap_done();
}
