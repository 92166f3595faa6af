/*
 * fuzz_jwt — HS256 verification on arbitrary tokens, and signing with
 * arbitrary secrets.
 *
 * 1. The input as a token, checked against a fixed secret: whatever the
 *    answer, it must keep the contract in jwt.h (claims only on success,
 *    an object whose exp lies ahead; one of the fixed reasons otherwise).
 * 2. The input as a secret: a fixed claim set signed with it must verify
 *    with it, come back unchanged, and fail with any other secret.
 * A violation aborts, which the fuzzer and the replayer both report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define FUZZ_NOW ((time_t)1700000000)
static const char fuzz_secret[] = "ferry-fuzz-secret";

static int known_reason(const char *e)
{
	static const char *const reasons[] = {
		"too long", "malformed", "unsupported alg", "bad signature",
		"expired", "not yet valid",
	};
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (!strcmp(e, reasons[i]))
			return 1;
	return 0;
}

static void as_token(const uint8_t *data, size_t size)
{
	char *tok = malloc(size + 1);
	char err[64];
	json_t *claims = NULL;
	json_t *exp;

	CHECK(tok);
	memcpy(tok, data, size);
	tok[size] = '\0';
	err[0] = '\0';
	if (jwt_verify_hs256(tok, fuzz_secret, sizeof(fuzz_secret) - 1,
			     FUZZ_NOW, &claims, err, sizeof(err)) == 0) {
		CHECK(json_is_object(claims));
		exp = json_object_get(claims, "exp");
		CHECK(json_is_number(exp) &&
		      json_number_value(exp) > (double)FUZZ_NOW);
		json_decref(claims);
	} else {
		CHECK(claims == NULL);
		CHECK(known_reason(err));
	}
	free(tok);
}

static void as_secret(const uint8_t *data, size_t size)
{
	json_t *claims, *got = NULL;
	char *tok;
	char err[64];

	claims = json_pack("{s:s, s:s, s:I}", "room", "fuzz", "sub", "f",
			   "exp", (json_int_t)FUZZ_NOW + 60);
	CHECK(claims);
	tok = jwt_sign_hs256((const char *)data, size, claims);
	CHECK(tok);
	CHECK(jwt_verify_hs256(tok, (const char *)data, size, FUZZ_NOW, &got,
			       err, sizeof(err)) == 0);
	CHECK(json_equal(got, claims));
	json_decref(got);
	/* one byte fewer is another key (HMAC pads short keys with zeros,
	 * so a trailing NUL byte is the only case where that is not so) */
	if (size > 0 && data[size - 1] != 0) {
		CHECK(jwt_verify_hs256(tok, (const char *)data, size - 1,
				       FUZZ_NOW, NULL, err, sizeof(err)) == -1);
		CHECK(!strcmp(err, "bad signature"));
	}
	free(tok);
	json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_token(data, size);
	if (size <= 4096)
		as_secret(data, size);
	return 0;
}
