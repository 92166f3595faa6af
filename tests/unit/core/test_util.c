/* Unit tests for util: encodings, constant-time compare, number parsing. */
#include "core/util.h"
#include "../tap.h"

#include <string.h>

static void test_b64(void)
{
	/* RFC 4648 §10 test vectors. */
	static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];
	unsigned char back[32];
	size_t i;

	for (i = 0; i < ARRAY_LEN(in); i++) {
		int n = b64_encode(in[i], strlen(in[i]), out, sizeof(out));
		is_str(out, want[i], "b64 encode RFC 4648 vector");
		is_int(n, strlen(want[i]), "b64 encode length");
		n = b64_decode(want[i], strlen(want[i]), back, sizeof(back));
		ok(n == (int)strlen(in[i]) && memcmp(back, in[i], (size_t)n) == 0,
		   "b64 decode RFC 4648 vector");
	}
	is_int(b64_decode("Zm9", 3, back, sizeof(back)), -1, "b64 decode rejects missing padding");
	is_int(b64_decode("Zm9v!A==", 8, back, sizeof(back)), -1, "b64 decode rejects bad character");
	is_int(b64_decode("Zh==", 4, back, sizeof(back)), -1, "b64 decode rejects stray bits");
	is_int(b64_decode("Zm=v", 4, back, sizeof(back)), -1, "b64 decode rejects inner padding");
	is_int(b64_encode("foobar", 6, out, 8), -1, "b64 encode refuses small buffer");
	is_int(b64_decode("Zm9vYmFy", 8, back, 5), -1, "b64 decode refuses small buffer");

	is_int(b64url_encode("\xfb\xff", 2, out, sizeof(out)), 3, "b64url unpadded length");
	is_str(out, "-_8", "b64url alphabet");
	is_int(b64url_decode("-_8", 3, back, sizeof(back)), 2, "b64url decode");
	ok(back[0] == 0xfb && back[1] == 0xff, "b64url decode bytes");
	is_int(b64url_decode("-_8=", 4, back, sizeof(back)), 2, "b64url accepts padding");
	is_int(b64url_decode("+/8", 3, back, sizeof(back)), -1, "b64url rejects standard alphabet");
}

static void test_hex(void)
{
	unsigned char b[4];
	char s[9];

	hex_encode("\x01\xab\xff", 3, s);
	is_str(s, "01abff", "hex encode");
	is_int(hex_decode("01ABff", b, sizeof(b)), 3, "hex decode mixed case");
	ok(b[0] == 1 && b[1] == 0xab && b[2] == 0xff, "hex decode bytes");
	is_int(hex_decode("abc", b, sizeof(b)), -1, "hex decode odd length");
	is_int(hex_decode("zz", b, sizeof(b)), -1, "hex decode bad digit");
	is_int(hex_decode("0011223344", b, sizeof(b)), -1, "hex decode overflow");
}

static void test_misc(void)
{
	long v;

	ok(ct_equal("abc", "abc", 3), "ct_equal equal");
	ok(!ct_equal("abc", "abd", 3), "ct_equal differs");
	is_int(parse_long("42", 0, 100, &v), 0, "parse_long ok");
	is_int(v, 42, "parse_long value");
	is_int(parse_long("101", 0, 100, &v), -1, "parse_long above range");
	is_int(parse_long("4x", 0, 100, &v), -1, "parse_long trailing junk");
	is_int(parse_long("", 0, 100, &v), -1, "parse_long empty");
	is_int(parse_long(" 4", 0, 100, &v), -1, "parse_long leading space");
	is_int(parse_long("\n4", 0, 100, &v), -1, "parse_long leading newline");
	is_int(parse_long("+4", 0, 100, &v), -1, "parse_long plus sign");
	is_int(parse_long("-4", -10, 100, &v), 0, "parse_long negative");
	is_int(v, -4, "parse_long negative value");
	is_int(parse_long("99999999999999999999999", 0, 100, &v), -1, "parse_long overflow");
	ok(mono_ms() > 0, "monotonic clock runs");
}

int main(void)
{
	test_b64();
	test_hex();
	test_misc();
	return tap_done();
}
