/*
 * test_stun — the STUN codec against RFC 5769's vectors, its error paths,
 * the builder, framing, ChannelData and the Data indication header.
 */
#include "stun/stun.h"
#include "../tap.h"

#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>

/* Whitespace-separated hex into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t outsz)
{
	size_t n = 0;

	while (*s) {
		char byte[3] = { 0 };

		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		if (!s[1] || n == outsz)
			abort();
		byte[0] = s[0];
		byte[1] = s[1];
		out[n++] = (uint8_t)strtoul(byte, NULL, 16);
		s += 2;
	}
	return n;
}

/* RFC 5769 §2.1-2.4, as printed in the RFC. */
static const char *const vec_request =
	"00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
	" fa 87 df ae 80 22 00 10 53 54 55 4e 20 74 65 73"
	" 74 20 63 6c 69 65 6e 74 00 24 00 04 6e 00 01 ff"
	" 80 29 00 08 93 2f f9 b1 51 26 3b 36 00 06 00 09"
	" 65 76 74 6a 3a 68 36 76 59 20 20 20 00 08 00 14"
	" 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49"
	" c1 b5 71 a2 80 28 00 04 e5 7a 3b cf";

static const char *const vec_resp4 =
	"01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
	" fa 87 df ae 80 22 00 0b 74 65 73 74 20 76 65 63"
	" 74 6f 72 20 00 20 00 08 00 01 a1 47 e1 12 a6 43"
	" 00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9"
	" 2a f9 ba 53 f0 6b e7 d7 80 28 00 04 c0 7d 4c 96";

static const char *const vec_resp6 =
	"01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86"
	" fa 87 df ae 80 22 00 0b 74 65 73 74 20 76 65 63"
	" 74 6f 72 20 00 20 00 14 00 02 a1 47 01 13 a9 fa"
	" a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9 00 08 00 14"
	" a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75"
	" bf e3 ed 41 80 28 00 04 c8 fb 0b 4c";

static const char *const vec_longterm =
	"00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0"
	" 29 da 41 2e 00 06 00 12 e3 83 9e e3 83 88 e3 83"
	" aa e3 83 83 e3 82 af e3 82 b9 00 00 00 15 00 1c"
	" 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34"
	" 6f 4c 39 46 53 54 76 79 36 34 73 41 00 14 00 0b"
	" 65 78 61 6d 70 6c 65 2e 6f 72 67 00 00 08 00 14"
	" f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2"
	" 8c a8 96 66";

static const char vec_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t vec_tid[STUN_TID_LEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};
/* U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8. */
static const char lt_user[] =
	"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
static const char lt_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";

static int str_is(const char *s, size_t n, const char *want)
{
	return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

static int addr_is(const struct sockaddr_storage *ss, const char *ip,
		   uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
		return ntohs(a->sin_port) == port && strcmp(buf, ip) == 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
		return ntohs(a->sin6_port) == port && strcmp(buf, ip) == 0;
	}
	return 0;
}

static void make_sa(struct sockaddr_storage *ss, const char *ip,
		    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, ip, &a->sin_addr);
	}
}

/* ------------------------------------------------------ RFC 5769 §2.1 */

static void test_rfc5769_request(void)
{
	uint8_t v[256], out[256];
	struct stun_msg m;
	struct stun_builder b;
	const char *s;
	size_t n, len = unhex(vec_request, v, sizeof(v));
	uint32_t prio;
	uint64_t tie;

	is_int(stun_parse(v, len, &m), 0, "2.1: parses");
	is_int(m.type, 0x0001, "2.1: type is Binding request");
	is_int(m.method, STUN_METHOD_BINDING, "2.1: method Binding");
	is_int(m.cls, STUN_CLASS_REQUEST, "2.1: class request");
	ok(memcmp(m.tid, vec_tid, STUN_TID_LEN) == 0, "2.1: transaction id");
	is_int(m.nattrs, 6, "2.1: six attributes");
	ok(stun_get_string(&m, STUN_ATTR_SOFTWARE, &s, &n) == 0 &&
	   str_is(s, n, "STUN test client"), "2.1: SOFTWARE");
	ok(stun_get_u32(&m, STUN_ATTR_PRIORITY, &prio) == 0 &&
	   prio == 0x6e0001ff, "2.1: PRIORITY");
	ok(stun_get_u64(&m, STUN_ATTR_ICE_CONTROLLED, &tie) == 0 &&
	   tie == 0x932ff9b151263b36ull, "2.1: ICE-CONTROLLED");
	ok(stun_get_string(&m, STUN_ATTR_USERNAME, &s, &n) == 0 &&
	   str_is(s, n, "evtj:h6vY"), "2.1: USERNAME");
	is_int(m.mi_off, 0x4c, "2.1: MESSAGE-INTEGRITY offset");
	is_int(m.fp_off, 0x64, "2.1: FINGERPRINT offset");
	is_int(m.mi256_off, -1, "2.1: no MESSAGE-INTEGRITY-SHA256");
	is_int(stun_check_integrity(&m, vec_password, strlen(vec_password)), 0,
	       "2.1: MESSAGE-INTEGRITY verifies");
	is_int(stun_check_integrity(&m, "VOkJxbRl1RmTxUk/WvJxBu", 22),
	       STUN_E_INTEGRITY, "2.1: wrong password rejected");
	is_int(stun_check_integrity_sha256(&m, vec_password, 22),
	       STUN_E_NOT_FOUND, "2.1: SHA256 integrity absent");
	is_int(stun_check_fingerprint(&m), 0, "2.1: FINGERPRINT verifies");
	is_int(stun_unknown_required(&m, NULL, 0), 0,
	       "2.1: every comprehension-required attribute known");

	/* The RFC pads USERNAME with spaces; the builder takes the byte. */
	ok(stun_build_init(&b, out, sizeof(out), 0x0001, vec_tid) == 0 &&
	   stun_build_attr(&b, STUN_ATTR_SOFTWARE, "STUN test client", 16) == 0 &&
	   stun_build_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff) == 0 &&
	   stun_build_u64(&b, STUN_ATTR_ICE_CONTROLLED,
			  0x932ff9b151263b36ull) == 0 &&
	   stun_build_attr_pad(&b, STUN_ATTR_USERNAME, "evtj:h6vY", 9,
			       0x20) == 0 &&
	   stun_build_integrity(&b, vec_password, strlen(vec_password)) == 0 &&
	   stun_build_fingerprint(&b) == 0, "2.1: builder runs");
	ok(b.len == len && memcmp(out, v, len) == 0,
	   "2.1: builder reproduces the request byte for byte");
}

/* ------------------------------------------------- RFC 5769 §2.2/§2.3 */

static void test_rfc5769_response(const char *hex, const char *ip,
				  const char *what)
{
	uint8_t v[256], out[256];
	struct stun_msg m;
	struct stun_builder b;
	struct sockaddr_storage ss, sa;
	const char *s;
	size_t n, len = unhex(hex, v, sizeof(v));
	char name[128];

#define NAME(x) (snprintf(name, sizeof(name), "%s: %s", what, (x)), name)
	is_int(stun_parse(v, len, &m), 0, NAME("parses"));
	is_int(m.method, STUN_METHOD_BINDING, NAME("method Binding"));
	is_int(m.cls, STUN_CLASS_SUCCESS, NAME("class success"));
	is_int(m.nattrs, 4, NAME("four attributes"));
	/* "test vector" is 11 bytes; the RFC's padding space is not part of
	 * the value. */
	ok(stun_get_string(&m, STUN_ATTR_SOFTWARE, &s, &n) == 0 &&
	   str_is(s, n, "test vector"), NAME("SOFTWARE"));
	ok(stun_get_xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &ss) == 0 &&
	   addr_is(&ss, ip, 32853), NAME("XOR-MAPPED-ADDRESS"));
	is_int(stun_get_addr(&m, STUN_ATTR_MAPPED_ADDRESS, &ss),
	       STUN_E_NOT_FOUND, NAME("no MAPPED-ADDRESS"));
	is_int(stun_check_integrity(&m, vec_password, strlen(vec_password)), 0,
	       NAME("MESSAGE-INTEGRITY verifies"));
	is_int(stun_check_fingerprint(&m), 0, NAME("FINGERPRINT verifies"));

	make_sa(&sa, ip, 32853);
	ok(stun_build_init(&b, out, sizeof(out),
			   stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS),
			   vec_tid) == 0 &&
	   stun_build_attr_pad(&b, STUN_ATTR_SOFTWARE, "test vector", 11,
			       0x20) == 0 &&
	   stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
			       (struct sockaddr *)&sa) == 0 &&
	   stun_build_integrity(&b, vec_password, strlen(vec_password)) == 0 &&
	   stun_build_fingerprint(&b) == 0, NAME("builder runs"));
	ok(b.len == len && memcmp(out, v, len) == 0,
	   NAME("builder reproduces the response byte for byte"));
#undef NAME
}

/* ------------------------------------------------------ RFC 5769 §2.4 */

static void test_rfc5769_longterm(void)
{
	uint8_t v[256], out[256], key[STUN_MD5_LEN];
	struct stun_msg m;
	struct stun_builder b;
	const char *s;
	size_t n, len = unhex(vec_longterm, v, sizeof(v));

	is_int(stun_parse(v, len, &m), 0, "2.4: parses");
	is_int(m.nattrs, 4, "2.4: four attributes");
	ok(stun_get_string(&m, STUN_ATTR_USERNAME, &s, &n) == 0 &&
	   str_is(s, n, lt_user), "2.4: USERNAME is the katakana name");
	ok(stun_get_string(&m, STUN_ATTR_NONCE, &s, &n) == 0 &&
	   str_is(s, n, lt_nonce), "2.4: NONCE");
	ok(stun_get_string(&m, STUN_ATTR_REALM, &s, &n) == 0 &&
	   str_is(s, n, "example.org"), "2.4: REALM");
	is_int(stun_check_fingerprint(&m), STUN_E_NOT_FOUND,
	       "2.4: no FINGERPRINT");

	is_int(stun_key_md5(lt_user, strlen(lt_user), "example.org", 11,
			    "TheMatrIX", 9, key), 0, "2.4: MD5 key derived");
	is_int(stun_check_integrity(&m, key, sizeof(key)), 0,
	       "2.4: MESSAGE-INTEGRITY verifies with the long-term key");
	is_int(stun_check_integrity(&m, "TheMatrIX", 9), STUN_E_INTEGRITY,
	       "2.4: the bare password is not the key");

	ok(stun_build_init(&b, out, sizeof(out), 0x0001, v + 8) == 0 &&
	   stun_build_attr(&b, STUN_ATTR_USERNAME, lt_user,
			   strlen(lt_user)) == 0 &&
	   stun_build_attr(&b, STUN_ATTR_NONCE, lt_nonce,
			   strlen(lt_nonce)) == 0 &&
	   stun_build_attr(&b, STUN_ATTR_REALM, "example.org", 11) == 0 &&
	   stun_build_integrity(&b, key, sizeof(key)) == 0,
	   "2.4: builder runs");
	ok(b.len == len && memcmp(out, v, len) == 0,
	   "2.4: builder reproduces the request byte for byte");
}

/* ---------------------------------------------------------- type codes */

static void test_types(void)
{
	int bad = 0;

	is_int(stun_type(STUN_METHOD_BINDING, STUN_CLASS_REQUEST), 0x0001,
	       "Binding request 0x0001");
	is_int(stun_type(STUN_METHOD_BINDING, STUN_CLASS_INDICATION), 0x0011,
	       "Binding indication 0x0011");
	is_int(stun_type(STUN_METHOD_BINDING, STUN_CLASS_SUCCESS), 0x0101,
	       "Binding success 0x0101");
	is_int(stun_type(STUN_METHOD_BINDING, STUN_CLASS_ERROR), 0x0111,
	       "Binding error 0x0111");
	is_int(stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_ERROR), 0x0113,
	       "Allocate error 0x0113");
	is_int(stun_type(STUN_METHOD_SEND, STUN_CLASS_INDICATION), 0x0016,
	       "Send indication 0x0016");
	is_int(stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), 0x0017,
	       "Data indication 0x0017");
	is_int(stun_type(STUN_METHOD_CHANNEL_BIND, STUN_CLASS_SUCCESS), 0x0109,
	       "ChannelBind success 0x0109");
	is_int(stun_type(0xFFF, STUN_CLASS_ERROR), 0x3FFF,
	       "all method and class bits fill 0x3FFF");
	for (unsigned meth = 0; meth <= 0xFFF; meth++)
		for (int c = 0; c < 4; c++) {
			uint16_t t = stun_type((uint16_t)meth,
					       (enum stun_class)c);

			bad += stun_type_method(t) != meth ||
			       (int)stun_type_class(t) != c;
		}
	is_int(bad, 0, "type encoding round-trips every method and class");

	is_str(stun_method_name(STUN_METHOD_CREATE_PERMISSION),
	       "CreatePermission", "method names");
	is_str(stun_attr_name(STUN_ATTR_XOR_RELAYED_ADDRESS),
	       "XOR-RELAYED-ADDRESS", "attribute names");
	is_str(stun_attr_name(0x7777), "unknown", "unknown attribute name");
	is_str(stun_class_name(STUN_CLASS_ERROR), "error response",
	       "class names");
}

static void test_attr_tables(void)
{
	static const uint16_t all[] = {
		0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D,
		0x0012, 0x0013, 0x0014, 0x0015, 0x0016, 0x0017, 0x0018,
		0x0019, 0x001A, 0x001C, 0x001D, 0x001E, 0x0020, 0x0022,
		0x0024, 0x0025, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004,
		0x8022, 0x8023, 0x8028, 0x8029, 0x802A,
	};
	static const int codes[] = {
		300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 446,
		447, 486, 500, 508,
	};
	int unknown = 0, noreason = 0, noerr = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		unknown += !stun_attr_known(all[i]);
	is_int(unknown, 0, "every RFC 8489/8656/8445 attribute is known");
	ok(!stun_attr_known(0x0003) && !stun_attr_known(0x8070),
	   "unassigned types are unknown");
	ok(stun_attr_comprehension_required(0x0000) &&
	   stun_attr_comprehension_required(0x7FFF) &&
	   !stun_attr_comprehension_required(0x8000) &&
	   !stun_attr_comprehension_required(0xFFFF),
	   "comprehension-required is 0x0000-0x7FFF");

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		noreason += stun_error_reason(codes[i]) == NULL;
	is_int(noreason, 0, "every RFC error code has a reason phrase");
	is_str(stun_error_reason(401), "Unauthenticated", "401 phrase");
	is_str(stun_error_reason(442), "Unsupported Transport Protocol",
	       "442 phrase");
	ok(stun_error_reason(499) == NULL, "no phrase for 499");

	for (int e = 0; e >= STUN_E_ARG; e--)
		noerr += strcmp(stun_strerror(e), "unknown error") == 0;
	is_int(noerr, 0, "every error code has a message");
	is_str(stun_strerror(-999), "unknown error", "unknown error code");
	is_str(stun_strerror(1), "unknown error", "positive error code");
}

/* --------------------------------------------------------- parse errors */

static void test_parse_errors(void)
{
	uint8_t v[256], w[256];
	struct stun_msg m;
	size_t len = unhex(vec_request, v, sizeof(v));

	is_int(stun_parse(v, 19, &m), STUN_E_TRUNCATED, "19 bytes: truncated");
	is_int(stun_parse(v, 0, &m), STUN_E_TRUNCATED, "0 bytes: truncated");
	is_int(stun_parse(NULL, 20, &m), STUN_E_ARG, "NULL buffer");

	memcpy(w, v, len);
	w[0] |= 0x80;
	is_int(stun_parse(w, len, &m), STUN_E_NOT_STUN, "top bit set");
	memcpy(w, v, len);
	w[0] |= 0x40;
	is_int(stun_parse(w, len, &m), STUN_E_NOT_STUN, "second bit set");

	memcpy(w, v, len);
	w[7] ^= 1;
	is_int(stun_parse(w, len, &m), STUN_E_COOKIE, "wrong magic cookie");

	memcpy(w, v, len);
	w[3] = 0x57;
	is_int(stun_parse(w, len - 1, &m), STUN_E_LEN_ALIGN,
	       "length not a multiple of 4");

	is_int(stun_parse(v, len - 4, &m), STUN_E_LEN_MISMATCH,
	       "header length above the bytes given");
	memcpy(w, v, len);
	w[len] = w[len + 1] = w[len + 2] = w[len + 3] = 0;
	is_int(stun_parse(w, len + 4, &m), STUN_E_LEN_MISMATCH,
	       "header length below the bytes given");

	/* USERNAME (at 0x3c) claims 64 bytes. */
	memcpy(w, v, len);
	w[0x3c + 3] = 0x40;
	is_int(stun_parse(w, len, &m), STUN_E_ATTR_OVERRUN,
	       "attribute overrunning the message");
	/* FINGERPRINT (the last) claims 5 bytes: padding runs past the end. */
	memcpy(w, v, len);
	w[0x64 + 3] = 5;
	is_int(stun_parse(w, len, &m), STUN_E_ATTR_OVERRUN,
	       "attribute padding overrunning the message");
	/* Header-only message with 4 attribute bytes claiming 1 byte. */
	{
		uint8_t t[24] = { 0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4,
				  0x42 };

		t[20] = 0x80;
		t[21] = 0x22;
		t[23] = 1;
		is_int(stun_parse(t, sizeof(t), &m), STUN_E_ATTR_OVERRUN,
		       "one-byte value with no room for padding");
	}
}

static void test_parse_limits(void)
{
	static const uint8_t zeros[40];
	uint8_t buf[1024];
	struct stun_builder b;
	struct stun_msg m;
	int rc = 0;

	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	for (int i = 0; i < STUN_MAX_ATTRS; i++)
		rc |= stun_build_attr(&b, 0x8070, NULL, 0);
	is_int(rc, 0, "64 empty attributes built");
	is_int(stun_parse(buf, b.len, &m), 0, "64 attributes parse");
	is_int(m.nattrs, STUN_MAX_ATTRS, "all 64 recorded");
	stun_build_attr(&b, 0x8070, NULL, 0);
	is_int(stun_parse(buf, b.len, &m), STUN_E_TOO_MANY,
	       "65 attributes: too many");

	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY, zeros, 16);
	is_int(stun_parse(buf, b.len, &m), STUN_E_MI_LEN,
	       "16-byte MESSAGE-INTEGRITY rejected");
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY, zeros, 24);
	is_int(stun_parse(buf, b.len, &m), STUN_E_MI_LEN,
	       "24-byte MESSAGE-INTEGRITY rejected");

	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zeros, 12);
	is_int(stun_parse(buf, b.len, &m), STUN_E_MI256_LEN,
	       "12-byte MESSAGE-INTEGRITY-SHA256 rejected");
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zeros, 18);
	is_int(stun_parse(buf, b.len, &m), STUN_E_MI256_LEN,
	       "18-byte MESSAGE-INTEGRITY-SHA256 rejected");
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zeros, 36);
	is_int(stun_parse(buf, b.len, &m), STUN_E_MI256_LEN,
	       "36-byte MESSAGE-INTEGRITY-SHA256 rejected");
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, zeros, 20);
	is_int(stun_parse(buf, b.len, &m), 0,
	       "20-byte MESSAGE-INTEGRITY-SHA256 accepted");

	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_FINGERPRINT, zeros, 8);
	is_int(stun_parse(buf, b.len, &m), STUN_E_FP_LEN,
	       "8-byte FINGERPRINT rejected");
}

/* Attributes after the integrity/fingerprint ones are ignored, not
 * rejected, and do not disturb the checks. */
static void test_parse_tail(void)
{
	uint8_t v[256];
	struct stun_msg m;
	struct stun_builder b;
	size_t len = unhex(vec_request, v, sizeof(v));
	const struct stun_attr *a;

	b.buf = v;
	b.cap = sizeof(v);
	b.len = len;
	ok(stun_build_attr(&b, STUN_ATTR_REALM, "after", 5) == 0 &&
	   stun_build_attr(&b, 0x0077, NULL, 0) == 0,
	   "attributes appended after FINGERPRINT");
	is_int(stun_parse(v, b.len, &m), 0, "still parses");
	is_int(m.nattrs, 6, "appended attributes not recorded");
	ok(stun_find(&m, STUN_ATTR_REALM) == NULL,
	   "REALM after FINGERPRINT ignored");
	is_int(stun_unknown_required(&m, NULL, 0), 0,
	   "unknown attribute after FINGERPRINT not reported");
	is_int(stun_check_integrity(&m, vec_password, strlen(vec_password)), 0,
	       "integrity still verifies");
	is_int(stun_check_fingerprint(&m), 0, "fingerprint still verifies");

	/* After MESSAGE-INTEGRITY: SOFTWARE ignored, MI-SHA256 and
	 * FINGERPRINT kept, a second MESSAGE-INTEGRITY ignored. */
	stun_build_init(&b, v, sizeof(v), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_USERNAME, "u", 1);
	stun_build_integrity(&b, "k", 1);
	stun_build_attr(&b, STUN_ATTR_SOFTWARE, "s", 1);
	stun_build_integrity(&b, "k", 1);
	stun_build_integrity_sha256(&b, "k", 1);
	stun_build_attr(&b, STUN_ATTR_NONCE, "n", 1);
	stun_build_fingerprint(&b);
	is_int(stun_parse(v, b.len, &m), 0, "message with a busy tail parses");
	is_int(m.nattrs, 4, "USERNAME, MI, MI-SHA256, FINGERPRINT recorded");
	ok(!stun_find(&m, STUN_ATTR_SOFTWARE) && !stun_find(&m, STUN_ATTR_NONCE),
	   "attributes after MESSAGE-INTEGRITY ignored");
	is_int(m.mi_off, 28, "first MESSAGE-INTEGRITY is the one used");
	a = stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY);
	ok(a && stun_find_next(&m, a) == NULL, "only one MI recorded");
	ok(m.mi256_off > m.mi_off && m.fp_off > m.mi256_off,
	   "MI-SHA256 and FINGERPRINT after MI recorded");
	is_int(stun_check_integrity(&m, "k", 1), 0,
	       "first MI verifies despite what follows");
	/* The MI-SHA256 and FINGERPRINT were computed over the ignored
	 * attributes too, so they still verify. */
	is_int(stun_check_integrity_sha256(&m, "k", 1), 0,
	       "MI-SHA256 verifies");
	is_int(stun_check_fingerprint(&m), 0, "FINGERPRINT verifies");
}

/* --------------------------------------------------------- addresses */

static void test_addresses(void)
{
	static const char *const ips[] = {
		"192.0.2.1", "10.0.0.255", "2001:db8::1",
		"fe80::1234:5678:9abc:def0",
	};
	uint8_t buf[256];
	struct stun_builder b;
	struct stun_msg m;
	struct sockaddr_storage sa, got;
	char name[96];

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		uint16_t port = (uint16_t)(1 + i * 20000);

		make_sa(&sa, ips[i], port);
		stun_build_init(&b, buf, sizeof(buf), 0x0101, vec_tid);
		stun_build_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
				    (struct sockaddr *)&sa);
		stun_build_addr(&b, STUN_ATTR_MAPPED_ADDRESS,
				(struct sockaddr *)&sa);
		snprintf(name, sizeof(name), "XOR address round-trip %s",
			 ips[i]);
		ok(stun_parse(buf, b.len, &m) == 0 &&
		   stun_get_xor_addr(&m, STUN_ATTR_XOR_PEER_ADDRESS, &got) == 0 &&
		   addr_is(&got, ips[i], port), name);
		snprintf(name, sizeof(name), "plain address round-trip %s",
			 ips[i]);
		ok(stun_get_addr(&m, STUN_ATTR_MAPPED_ADDRESS, &got) == 0 &&
		   addr_is(&got, ips[i], port), name);
		snprintf(name, sizeof(name), "XOR changes the bytes of %s",
			 ips[i]);
		ok(memcmp(m.attrs[0].value, m.attrs[1].value,
			  m.attrs[0].len) != 0, name);
	}

	/* A family byte of 3, an IPv4 family with 20 bytes, 3 bytes. */
	{
		uint8_t v4[20] = { 0, 3, 0, 1, 1, 2, 3, 4 };

		stun_build_init(&b, buf, sizeof(buf), 0x0101, vec_tid);
		stun_build_attr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, v4, 8);
		v4[1] = STUN_FAMILY_IPV4;
		stun_build_attr(&b, STUN_ATTR_MAPPED_ADDRESS, v4, 20);
		stun_build_attr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, v4, 3);
		v4[1] = STUN_FAMILY_IPV6;
		stun_build_attr(&b, STUN_ATTR_ALTERNATE_SERVER, v4, 8);
		stun_parse(buf, b.len, &m);
		is_int(stun_get_xor_addr(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &got),
		       STUN_E_FAMILY, "unknown family rejected");
		is_int(stun_get_addr(&m, STUN_ATTR_MAPPED_ADDRESS, &got),
		       STUN_E_ATTR_LEN, "IPv4 with 16 address bytes rejected");
		is_int(stun_get_xor_addr(&m, STUN_ATTR_XOR_RELAYED_ADDRESS,
					 &got),
		       STUN_E_ATTR_LEN, "3-byte address rejected");
		is_int(stun_get_addr(&m, STUN_ATTR_ALTERNATE_SERVER, &got),
		       STUN_E_ATTR_LEN, "IPv6 with 4 address bytes rejected");
	}

	memset(&sa, 0, sizeof(sa));
	sa.ss_family = AF_UNIX;
	stun_build_init(&b, buf, sizeof(buf), 0x0101, vec_tid);
	is_int(stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				   (struct sockaddr *)&sa), -1,
	       "builder refuses AF_UNIX");
	is_int(b.len, 20, "and leaves the message alone");
}

/* --------------------------------------------------- typed attributes */

static void test_typed(void)
{
	uint8_t buf[2048];
	struct stun_builder b;
	struct stun_msg m;
	const char *s;
	size_t n;
	uint16_t ch, types[4];
	uint8_t u8;
	uint32_t u32;
	int code;
	char big[800];
	static const uint16_t unk[] = { 0x0031, 0x0032, 0x0033 };

	stun_build_init(&b, buf, sizeof(buf),
			stun_type(STUN_METHOD_ALLOCATE, STUN_CLASS_REQUEST),
			vec_tid);
	stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
	stun_build_u16(&b, STUN_ATTR_CHANNEL_NUMBER, 0x4001);
	stun_build_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_build_attr(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	stun_build_attr(&b, 0x0030, "x", 1);
	stun_build_attr(&b, 0x8030, "y", 1);
	stun_build_unknown(&b, unk, 3);
	stun_build_error(&b, 438, NULL);
	stun_build_attr(&b, STUN_ATTR_LIFETIME, "abc", 3);
	is_int(stun_parse(buf, b.len, &m), 0, "Allocate-like message parses");
	ok(stun_get_u8(&m, STUN_ATTR_REQUESTED_TRANSPORT, &u8) == 0 && u8 == 17,
	   "REQUESTED-TRANSPORT UDP");
	ok(stun_get_u16(&m, STUN_ATTR_CHANNEL_NUMBER, &ch) == 0 &&
	   ch == 0x4001, "CHANNEL-NUMBER");
	ok(stun_get_u32(&m, STUN_ATTR_LIFETIME, &u32) == 0 && u32 == 600,
	   "LIFETIME (first of two)");
	{
		const struct stun_attr *a = stun_find(&m, STUN_ATTR_LIFETIME);

		a = stun_find_next(&m, a);
		ok(a && stun_attr_u32(a, &u32) == STUN_E_ATTR_LEN,
		   "second LIFETIME found, bad length");
	}
	ok(stun_find(&m, STUN_ATTR_DONT_FRAGMENT) &&
	   stun_find(&m, STUN_ATTR_DONT_FRAGMENT)->len == 0,
	   "empty DONT-FRAGMENT");
	is_int(stun_get_u32(&m, STUN_ATTR_PRIORITY, &u32), STUN_E_NOT_FOUND,
	       "absent attribute: not found");
	is_int(stun_get_u32(&m, STUN_ATTR_DONT_FRAGMENT, &u32), STUN_E_ATTR_LEN,
	       "u32 of an empty attribute: bad length");
	ok(stun_unknown_required(&m, types, 4) == 1 && types[0] == 0x0030,
	   "unknown comprehension-required attribute reported");
	{
		const struct stun_attr *a =
			stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES);

		ok(a && stun_attr_unknown(a, types, 2, &n) == 0 && n == 3 &&
		   types[0] == 0x0031 && types[1] == 0x0032,
		   "UNKNOWN-ATTRIBUTES round-trip (capped copy)");
	}
	ok(stun_get_error(&m, &code, &s, &n) == 0 && code == 438 &&
	   str_is(s, n, "Stale Nonce"), "ERROR-CODE 438 Stale Nonce");

	/* String limits. */
	memset(big, 'a', sizeof(big));
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_USERNAME, big, 763);
	stun_build_attr(&b, STUN_ATTR_REALM, big, 128);
	stun_build_attr(&b, STUN_ATTR_NONCE, big, 127);
	stun_parse(buf, b.len, &m);
	is_int(stun_get_string(&m, STUN_ATTR_USERNAME, &s, &n), 0,
	       "763-byte USERNAME accepted");
	is_int(stun_get_string(&m, STUN_ATTR_REALM, &s, &n), STUN_E_TOO_LONG,
	       "128-character REALM rejected");
	is_int(stun_get_string(&m, STUN_ATTR_NONCE, &s, &n), 0,
	       "127-character NONCE accepted");
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	stun_build_attr(&b, STUN_ATTR_USERNAME, big, 764);
	/* 127 three-byte characters: 381 bytes, still fine. */
	for (int i = 0; i < 127; i++)
		memcpy(big + 3 * i, "\xe3\x83\x9e", 3);
	stun_build_attr(&b, STUN_ATTR_REALM, big, 381);
	stun_parse(buf, b.len, &m);
	is_int(stun_get_string(&m, STUN_ATTR_USERNAME, &s, &n), STUN_E_TOO_LONG,
	       "764-byte USERNAME rejected");
	is_int(stun_get_string(&m, STUN_ATTR_REALM, &s, &n), 0,
	       "127 multibyte characters accepted");

	/* ERROR-CODE edge cases. */
	stun_build_init(&b, buf, sizeof(buf), 0x0111, vec_tid);
	is_int(stun_build_error(&b, 200, NULL), -1, "error code 200 refused");
	is_int(stun_build_error(&b, 700, NULL), -1, "error code 700 refused");
	is_int(stun_build_error(&b, 499, NULL), 0, "code without phrase built");
	stun_parse(buf, b.len, &m);
	ok(stun_get_error(&m, &code, &s, &n) == 0 && code == 499 && n == 0,
	   "empty reason phrase");
	{
		uint8_t ev[4] = { 0, 0, 2, 99 };

		stun_build_init(&b, buf, sizeof(buf), 0x0111, vec_tid);
		stun_build_attr(&b, STUN_ATTR_ERROR_CODE, ev, 4);
		stun_parse(buf, b.len, &m);
		is_int(stun_get_error(&m, &code, &s, &n), STUN_E_BAD_VALUE,
		       "class 2 rejected");
		ev[2] = 4;
		ev[3] = 100;
		stun_build_init(&b, buf, sizeof(buf), 0x0111, vec_tid);
		stun_build_attr(&b, STUN_ATTR_ERROR_CODE, ev, 4);
		stun_parse(buf, b.len, &m);
		is_int(stun_get_error(&m, &code, &s, &n), STUN_E_BAD_VALUE,
		       "number 100 rejected");
		stun_build_init(&b, buf, sizeof(buf), 0x0111, vec_tid);
		stun_build_attr(&b, STUN_ATTR_ERROR_CODE, ev, 3);
		stun_parse(buf, b.len, &m);
		is_int(stun_get_error(&m, &code, &s, &n), STUN_E_ATTR_LEN,
		       "3-byte ERROR-CODE rejected");
	}
}

/* ------------------------------------------------------------ builder */

static void test_builder_overflow(void)
{
	uint8_t buf[64], copy[64];
	struct stun_builder b;
	struct sockaddr_storage sa;
	static const uint16_t unk[] = { 1, 2 };

	is_int(stun_build_init(&b, buf, 19, 0x0001, vec_tid), -1,
	       "19-byte buffer cannot hold a header");
	is_int(stun_build_init(&b, buf, 20, 0xC001, vec_tid), -1,
	       "type with top bits refused");
	is_int(stun_build_init(&b, buf, 20, 0x0001, vec_tid), 0,
	       "20-byte buffer holds a header");
	is_int(stun_build_attr(&b, STUN_ATTR_SOFTWARE, "x", 1), -1,
	       "no room for an attribute");
	is_int(b.len, 20, "length unchanged after failure");
	is_int(stun_build_fingerprint(&b), -1, "no room for FINGERPRINT");
	is_int(stun_build_integrity(&b, "k", 1), -1,
	       "no room for MESSAGE-INTEGRITY");

	stun_build_init(&b, buf, 48, 0x0001, vec_tid);
	is_int(stun_build_attr(&b, STUN_ATTR_SOFTWARE, "abcde", 5), 0,
	       "5-byte attribute takes 12 bytes");
	is_int(b.len, 32, "padded to 4");
	ok(buf[29] == 0 && buf[30] == 0 && buf[31] == 0, "zero padding");
	is_int(buf[3], 12, "header length updated");
	memcpy(copy, buf, sizeof(buf));
	is_int(stun_build_integrity(&b, "k", 1), -1,
	       "24 bytes of MI do not fit in 16");
	is_int(stun_build_integrity_sha256(&b, "k", 1), -1,
	       "36 bytes of MI-SHA256 do not fit in 16");
	make_sa(&sa, "2001:db8::1", 1);
	is_int(stun_build_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS,
				   (struct sockaddr *)&sa), -1,
	       "24-byte IPv6 address does not fit in 16");
	is_int(stun_build_error(&b, 420, NULL), -1,
	       "ERROR-CODE with phrase does not fit");
	ok(b.len == 32 && memcmp(copy, buf, sizeof(buf)) == 0,
	   "failed adds leave the buffer untouched");
	is_int(stun_build_unknown(&b, unk, 2), 0, "UNKNOWN-ATTRIBUTES fits");
	is_int(stun_build_fingerprint(&b), 0, "FINGERPRINT fits exactly");
	is_int(b.len, 48, "buffer full");
	is_int(stun_build_attr(&b, 0x8070, NULL, 0), -1,
	       "even an empty attribute no longer fits");
	is_int(stun_build_attr(&b, 0x8070, NULL, 3), -1,
	       "NULL value with a length refused");
}

/* HMAC-SHA256 computed independently of the codec, for a truncated
 * MESSAGE-INTEGRITY-SHA256. */
static void test_integrity_sha256(void)
{
	uint8_t buf[256], key[STUN_SHA256_LEN], mac[32];
	struct stun_builder b;
	struct stun_msg m;
	size_t maclen, off;

	stun_key_sha256("user", 4, "realm", 5, "pass", 4, key);
	stun_build_init(&b, buf, sizeof(buf), 0x0003, vec_tid);
	stun_build_attr(&b, STUN_ATTR_USERNAME, "user", 4);
	stun_build_u8(&b, STUN_ATTR_REQUESTED_TRANSPORT, STUN_TRANSPORT_UDP);
	is_int(stun_build_integrity_sha256(&b, key, sizeof(key)), 0,
	       "MI-SHA256 built");
	is_int(stun_build_fingerprint(&b), 0, "FINGERPRINT after it");
	is_int(stun_parse(buf, b.len, &m), 0, "parses");
	is_int(stun_find(&m, STUN_ATTR_MESSAGE_INTEGRITY_SHA256)->len, 32,
	       "32 bytes sent");
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)), 0,
	       "MI-SHA256 round-trip verifies");
	is_int(stun_check_integrity(&m, key, sizeof(key)), STUN_E_NOT_FOUND,
	       "no SHA1 MI");
	is_int(stun_check_fingerprint(&m), 0, "fingerprint verifies");
	key[0] ^= 1;
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)),
	       STUN_E_INTEGRITY, "wrong key rejected");
	key[0] ^= 1;
	buf[25] ^= 0x20;
	stun_parse(buf, b.len, &m);
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)),
	       STUN_E_INTEGRITY, "corrupted USERNAME byte rejected");
	is_int(stun_check_fingerprint(&m), STUN_E_FINGERPRINT,
	       "corrupted byte breaks the fingerprint");
	buf[25] ^= 0x20;
	buf[m.mi256_off + 4 + 31] ^= 1;
	stun_parse(buf, b.len, &m);
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)),
	       STUN_E_INTEGRITY, "corrupted MAC byte rejected");

	/* Truncated to 16 bytes, as RFC 8489 §14.6 allows. */
	stun_build_init(&b, buf, sizeof(buf), 0x0003, vec_tid);
	stun_build_attr(&b, STUN_ATTR_USERNAME, "user", 4);
	off = b.len;
	buf[3] = (uint8_t)(off + 20 - 20);
	maclen = 0;
	ok(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key),
		     buf, off, mac, sizeof(mac), &maclen) != NULL &&
	   maclen == 32, "independent HMAC-SHA256");
	stun_build_attr(&b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, mac, 16);
	is_int(stun_parse(buf, b.len, &m), 0, "16-byte MI-SHA256 parses");
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)), 0,
	       "truncated MI-SHA256 verifies");
	buf[off + 4 + 15] ^= 0x80;
	is_int(stun_check_integrity_sha256(&m, key, sizeof(key)),
	       STUN_E_INTEGRITY, "its last byte corrupted is rejected");

	/* An empty key still works (short-term credentials could be
	 * misconfigured that way; it must not crash). */
	stun_build_init(&b, buf, sizeof(buf), 0x0001, vec_tid);
	ok(stun_build_integrity(&b, "", 0) == 0 &&
	   stun_parse(buf, b.len, &m) == 0 &&
	   stun_check_integrity(&m, NULL, 0) == 0, "empty key round-trip");
}

static void test_keys(void)
{
	uint8_t got[32], want[32];
	unsigned wlen;
	static const char s3[] = "user:realm:pass", s2[] = "user:realm";

	ok(stun_key_sha256("user", 4, "realm", 5, "pass", 4, got) == 0 &&
	   EVP_Digest(s3, strlen(s3), want, &wlen, EVP_sha256(), NULL) &&
	   memcmp(got, want, 32) == 0, "SHA-256 long-term key");
	ok(stun_key_md5("user", 4, "realm", 5, "pass", 4, got) == 0 &&
	   EVP_Digest(s3, strlen(s3), want, &wlen, EVP_md5(), NULL) &&
	   memcmp(got, want, 16) == 0, "MD5 long-term key");
	ok(stun_userhash("user", 4, "realm", 5, got) == 0 &&
	   EVP_Digest(s2, strlen(s2), want, &wlen, EVP_sha256(), NULL) &&
	   memcmp(got, want, 32) == 0, "USERHASH");
	is_int(stun_crc32("123456789", 9), 0xCBF43926,
	       "CRC-32 check value");
}

/* ------------------------------------------------------------ framing */

static void test_framing(void)
{
	uint8_t v[256], stream[512];
	size_t len = unhex(vec_request, v, sizeof(v)), slen = 0, pos, got;
	int bad = 0, frames = 0, rc;
	static const uint8_t cd[] = { 0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5,
				      0, 0, 0 };

	is_int(stun_frame_len(v, 0, 65535), 0, "empty: need more");
	for (size_t i = 1; i < 8; i++)
		bad += stun_frame_len(v, i, 65535) != 0;
	is_int(bad, 0, "1-7 bytes of STUN: need more");
	is_int(stun_frame_len(v, 8, 65535), (int)len,
	       "8 bytes give the whole length");
	is_int(stun_frame_len(v, len, 65535), (int)len, "full message");
	is_int(stun_frame_len(v, len, len - 1), -1, "over max: bad framing");
	is_int(stun_frame_len(v, len, len), (int)len, "exactly max: fine");

	is_int(stun_frame_len(cd, 3, 65535), 0, "3 bytes of ChannelData");
	is_int(stun_frame_len(cd, 4, 65535), 12,
	       "ChannelData padded to 4 over TCP");
	is_int(stun_frame_len((const uint8_t *)"\x4f\xff\x00\x04", 4, 65535), 8,
	       "channel 0x4FFF, aligned length");
	is_int(stun_frame_len((const uint8_t *)"\x72\x33\x00\x04", 4, 65535), 8,
	       "RFC 5766 channel 0x7233 framed");
	is_int(stun_frame_len((const uint8_t *)"\x80", 1, 65535), -1,
	       "10xxxxxx: bad framing");
	is_int(stun_frame_len((const uint8_t *)"\xff", 1, 65535), -1,
	       "11xxxxxx: bad framing");
	/* "GE" reads as channel 0x4745 with 21540 bytes: only the size
	 * limit tells HTTP from ChannelData. */
	is_int(stun_frame_len((const uint8_t *)"GET / HTTP/1.1", 14, 4096), -1,
	       "HTTP caught by the size limit");
	is_int(stun_frame_len((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01",
			      8, 65535), -1, "TLS ClientHello: bad framing");
	is_int(stun_frame_len((const uint8_t *)"\x00\x01\x00\x00\x00\x00\x00\x00",
			      8, 65535), -1, "STUN type without cookie");
	is_int(stun_frame_len((const uint8_t *)"\x00\x01\x00\x02\x21\x12\xa4\x42",
			      8, 65535), -1, "STUN length not aligned");

	/* A stream of request, ChannelData, response, fed one byte at a
	 * time to a reader that cuts frames as soon as it can. */
	memcpy(stream, v, len);
	slen = len;
	memcpy(stream + slen, cd, sizeof(cd));
	slen += sizeof(cd);
	len = unhex(vec_resp6, stream + slen, sizeof(stream) - slen);
	slen += len;
	pos = 0;
	for (size_t avail = 1; avail <= slen; avail++) {
		rc = stun_frame_len(stream + pos, avail - pos, 65535);
		if (rc < 0) {
			bad++;
			break;
		}
		if (rc > 0 && (size_t)rc <= avail - pos) {
			got = (size_t)rc;
			if (frames == 1) {
				struct stun_chandata c;

				bad += stun_chandata_parse(stream + pos, got,
							   &c) != 0 ||
				       c.len != 5;
			} else {
				struct stun_msg m;

				bad += stun_parse(stream + pos, got, &m) != 0;
			}
			pos += got;
			frames++;
		}
	}
	ok(bad == 0 && frames == 3 && pos == slen,
	   "byte-by-byte stream cut into 3 frames");
}

static void test_chandata(void)
{
	uint8_t buf[16] = { 0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0 };
	struct stun_chandata c;

	ok(stun_chandata_parse(buf, 7, &c) == 0 && c.channel == 0x4000 &&
	   c.len == 3 && memcmp(c.data, "abc", 3) == 0, "ChannelData parses");
	is_int(stun_chandata_parse(buf, 8, &c), 0, "padding allowed");
	is_int(stun_chandata_parse(buf, 16, &c), 0, "trailing bytes allowed");
	is_int(stun_chandata_parse(buf, 6, &c), STUN_E_TRUNCATED,
	       "data shorter than length");
	is_int(stun_chandata_parse(buf, 3, &c), STUN_E_TRUNCATED,
	       "3-byte header");
	buf[0] = 0x3f;
	buf[1] = 0xff;
	is_int(stun_chandata_parse(buf, 8, &c), STUN_E_CHANNEL,
	       "channel 0x3FFF rejected");
	buf[0] = 0x72;
	buf[1] = 0x33;
	is_int(stun_chandata_parse(buf, 8, &c), 0,
	       "RFC 5766 channel 0x7233 accepted");
	buf[0] = 0x80;
	buf[1] = 0x00;
	is_int(stun_chandata_parse(buf, 8, &c), STUN_E_CHANNEL,
	       "channel 0x8000 rejected");

	ok(stun_chandata_header(buf, 0x4fff, 0x1234) == 0 && buf[0] == 0x4f &&
	   buf[1] == 0xff && buf[2] == 0x12 && buf[3] == 0x34,
	   "ChannelData header built");
	is_int(stun_chandata_header(buf, 0x8000, 1), -1,
	       "header with channel 0x8000 refused");
	is_int(stun_chandata_header(buf, 0x3fff, 1), -1,
	       "header with channel 0x3FFF refused");
	ok(!stun_is_stun(buf, 16), "ChannelData is not STUN");
}

/* The in-place Data indication header against the builder's message. */
static void test_data_indication(void)
{
	static const char *const ips[2] = { "192.0.2.1", "2001:db8::7" };
	static const uint8_t tid[STUN_TID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const size_t lens[3] = { 0, 5, 8 };
	struct sockaddr_storage peer;
	struct sockaddr_un { sa_family_t family; char path[20]; } other = { AF_UNIX, "x" };
	uint8_t hdr[STUN_DATA_IND_HDR_MAX], frame[128], want[128];
	struct stun_builder b;
	int i, k, n;

	for (i = 0; i < 2; i++) {
		make_sa(&peer, ips[i], 3479);
		for (k = 0; k < 3; k++) {
			size_t len = lens[k], pad = (4 - len % 4) % 4;

			n = stun_data_indication_header(hdr, sizeof(hdr), tid,
							(struct sockaddr *)&peer, len);
			is_int(n, i == 0 ? 36 : 48, "Data indication header length");
			if (n < 0)
				continue;
			memcpy(frame, hdr, (size_t)n);
			memcpy(frame + n, "abcdefgh", len);
			memset(frame + n + len, 0, pad);
			stun_build_init(&b, want, sizeof(want),
					stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION), tid);
			stun_build_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS,
					    (struct sockaddr *)&peer);
			stun_build_attr(&b, STUN_ATTR_DATA, "abcdefgh", len);
			ok(b.len == (size_t)n + len + pad && memcmp(frame, want, b.len) == 0,
			   "Data indication header + data = the builder's message");
		}
	}
	make_sa(&peer, ips[0], 3479);
	is_int(stun_data_indication_header(hdr, sizeof(hdr) - 1, tid,
					   (struct sockaddr *)&peer, 4), -1,
	       "Data indication header: buffer too small");
	is_int(stun_data_indication_header(hdr, sizeof(hdr), tid,
					   (struct sockaddr *)&other, 4), -1,
	       "Data indication header: not IPv4 or IPv6");
	is_int(stun_data_indication_header(hdr, sizeof(hdr), tid,
					   (struct sockaddr *)&peer, 65516), 36,
	       "Data indication header: the largest that fits");
	is_int(stun_data_indication_header(hdr, sizeof(hdr), tid,
					   (struct sockaddr *)&peer, 65517), -1,
	       "Data indication header: over the 16-bit length");
}

int main(void)
{
	test_rfc5769_request();
	test_rfc5769_response(vec_resp4, "192.0.2.1", "2.2");
	test_rfc5769_response(vec_resp6, "2001:db8:1234:5678:11:2233:4455:6677",
			      "2.3");
	test_rfc5769_longterm();
	test_types();
	test_attr_tables();
	test_parse_errors();
	test_parse_limits();
	test_parse_tail();
	test_addresses();
	test_typed();
	test_builder_overflow();
	test_integrity_sha256();
	test_keys();
	test_framing();
	test_chandata();
	test_data_indication();
	return tap_done();
}
