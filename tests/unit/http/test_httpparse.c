/*
 * Unit tests for httpparse: each function against the cases its contract
 * in http/parse.h names, and the inputs clients and attackers actually
 * send (browsers' Connection headers, curl's Authorization, "%2e%2e"
 * after decoding).
 */
#include "http/parse.h"
#include "core/names.h"
#include "../tap.h"

#include <string.h>

static const char *host(const char *h, size_t outsz)
{
	static char out[512];
	int rc;

	memset(out, 'X', sizeof(out));
	rc = hp_host_name(h, out, outsz);
	if (rc != 0)
		return out[0] == '\0' ? "(refused)" : "(refused, out not empty)";
	return out;
}

static const char *spath(const char *p, size_t outsz)
{
	static char out[2048];
	int rc;

	memset(out, 'X', sizeof(out));
	rc = hp_static_path(p, strlen(p), out, outsz);
	if (rc != 0)
		return out[0] == '\0' ? "(refused)" : "(refused, out not empty)";
	return out;
}

static long ttl(const char *s)
{
	long v = -42;

	return hp_parse_ttl(s, &v) == 0 ? v : -1;
}

int main(void)
{
	/* ---- Host */
	is_str(host("example.org", 256), "example.org", "host: a name");
	is_str(host("example.org:8443", 256), "example.org", "host: the port goes");
	is_str(host("192.0.2.1:80", 256), "192.0.2.1", "host: IPv4 and port");
	is_str(host("[2001:db8::1]:8080", 256), "2001:db8::1", "host: IPv6 brackets and port");
	is_str(host("[::1]", 256), "::1", "host: IPv6 without port");
	is_str(host("[::1", 256), "(refused)", "host: unclosed bracket refused");
	is_str(host("", 256), "", "host: empty stays empty");
	is_str(host(":80", 256), "", "host: only a port gives an empty name");
	is_str(host(NULL, 256), "(refused)", "host: absent");
	is_str(host("abcdefgh", 9), "abcdefgh", "host: exactly fits (8 + NUL)");
	is_str(host("abcdefghi", 9), "(refused)", "host: one too long refused");
	is_str(host("[abcdefgh]", 9), "abcdefgh", "host: bracketed exactly fits");
	ok(hp_valid_host("example.org"), "valid host: a name");
	ok(hp_valid_host("turn-1.example.org:8443"), "valid host: name and port");
	ok(hp_valid_host("192.0.2.1:80"), "valid host: IPv4 and port");
	ok(hp_valid_host("[2001:db8::1]:8080"), "valid host: IPv6 and port");
	ok(!hp_valid_host(""), "valid host: empty refused");
	ok(!hp_valid_host(":80"), "valid host: port alone refused");
	ok(!hp_valid_host("evil/x?y#"), "valid host: URL characters refused");
	ok(!hp_valid_host("a b"), "valid host: space refused");
	ok(!hp_valid_host("[1.2.3.4]"), "valid host: IPv4 in brackets refused");
	ok(!hp_valid_host("[::1"), "valid host: unclosed bracket refused");
	ok(!hp_valid_host("example.org:"), "valid host: empty port refused");
	ok(!hp_valid_host("example.org:80x"), "valid host: bad port refused");
	ok(!hp_valid_host("example.org:123456"), "valid host: six-digit port refused");
	{
		char longest[300];

		memset(longest, 'a', sizeof(longest));
		longest[253] = '\0';
		ok(hp_valid_host(longest), "valid host: 253 bytes");
		longest[253] = 'a';
		longest[254] = '\0';
		ok(!hp_valid_host(longest), "valid host: 254 bytes refused");
	}

	/* ---- tokens */
	ok(hp_has_token("Upgrade", "upgrade"), "token: alone, any case");
	ok(hp_has_token("keep-alive, Upgrade", "upgrade"), "token: Firefox's Connection");
	ok(hp_has_token("Upgrade,keep-alive", "upgrade"), "token: first, no space");
	ok(hp_has_token(" \tupgrade \t, x", "upgrade"), "token: spaces and tabs around");
	ok(hp_has_token("websocket", "websocket"), "token: Upgrade: websocket");
	ok(!hp_has_token("upgrades", "upgrade"), "token: a longer word is another token");
	ok(!hp_has_token("x-upgrade", "upgrade"), "token: a suffix is not the token");
	ok(!hp_has_token("keep-alive", "upgrade"), "token: absent");
	ok(!hp_has_token("", "upgrade"), "token: empty value");
	ok(!hp_has_token(",,,", "upgrade"), "token: only commas");
	ok(!hp_has_token(NULL, "upgrade"), "token: no header");
	ok(!hp_has_token("a, b", ""), "token: empty token never matches");
	ok(!hp_has_token("a, b", NULL), "token: NULL token");
	ok(!hp_has_token("a, b", "a,"), "token: a token holding a comma is none");
	ok(!hp_has_token("a b", "a b"), "token: a token holding a space is none");

	/* ---- Bearer */
	is_str(hp_bearer("Bearer abc", NULL), "abc", "bearer: the credential");
	is_str(hp_bearer("bearer   abc", NULL), "abc", "bearer: scheme any case, spaces skipped");
	is_str(hp_bearer("Basic YWxpY2U6cHc=", "k"), "k", "bearer: other scheme: key parameter");
	is_str(hp_bearer("Basic YWxpY2U6cHc=", NULL), NULL, "bearer: other scheme, no key: none");
	is_str(hp_bearer(NULL, " k2"), "k2", "bearer: key parameter, spaces skipped");
	is_str(hp_bearer("Bearer ", NULL), "", "bearer: empty credential");
	is_str(hp_bearer("Bearer", NULL), NULL, "bearer: scheme without space is not one");
	is_str(hp_bearer(NULL, NULL), NULL, "bearer: nothing");
	{
		const char *a = "Bearer tok";
		ok(hp_bearer(a, NULL) == a + 7, "bearer: points into the header");
	}

	/* ---- ttl */
	is_int(ttl("3600"), 3600, "ttl: seconds");
	is_int(ttl("1"), 1, "ttl: 1");
	is_int(ttl("0060"), 60, "ttl: leading zeros");
	is_int(ttl("2147483647"), 2147483647L, "ttl: the largest");
	is_int(ttl("2147483648"), -1, "ttl: one more");
	is_int(ttl("99999999999999999999999"), -1, "ttl: far too large, no overflow");
	is_int(ttl("0"), -1, "ttl: 0");
	is_int(ttl("-5"), -1, "ttl: negative");
	is_int(ttl("+5"), -1, "ttl: sign");
	is_int(ttl(" 5"), -1, "ttl: space");
	is_int(ttl("\n5"), -1, "ttl: newline (strtol would skip it)");
	is_int(ttl("5s"), -1, "ttl: unit");
	is_int(ttl("0x10"), -1, "ttl: hex");
	is_int(ttl(""), -1, "ttl: empty");
	is_int(ttl(NULL), -1, "ttl: absent");

	/* ---- static paths */
	is_str(spath("/", 1024), "index.html", "path: / is index.html");
	is_str(spath("/js/app.js", 1024), "js/app.js", "path: a file");
	is_str(spath("/docs/", 1024), "docs/index.html", "path: a directory");
	is_str(spath("/a..b/c", 1024), "a..b/c", "path: dots inside a name are fine");
	is_str(spath("/.well-known/x", 1024), ".well-known/x", "path: dot files are the caller's call");
	is_str(spath("/..", 1024), "(refused)", "path: /..");
	is_str(spath("/../etc/passwd", 1024), "(refused)", "path: ../ at the start");
	is_str(spath("/a/../../etc/passwd", 1024), "(refused)", "path: .. in the middle");
	is_str(spath("/a/..", 1024), "(refused)", "path: .. at the end");
	is_str(spath("/a/../", 1024), "(refused)", "path: ../ at the end");
	is_str(spath("/a\\..\\b", 1024), "(refused)", "path: backslash");
	is_str(spath("/a\r\nb", 1024), "(refused)", "path: control characters");
	is_str(spath("a/b", 1024), "(refused)", "path: not starting with /");
	is_str(spath("", 1024), "(refused)", "path: empty");
	{
		char out[64];
		ok(hp_static_path("/a\0/../x", 8, out, sizeof(out)) == -1 && out[0] == '\0',
		   "path: an embedded NUL");
		ok(hp_static_path(NULL, 0, out, sizeof(out)) == -1, "path: absent");
	}
	is_str(spath("/abcdefgh", 9), "abcdefgh", "path: 8 bytes + NUL fit in 9");
	is_str(spath("/abcdefghi", 9), "(refused)", "path: 9 bytes + NUL do not");
	is_str(spath("/", 10), "(refused)", "path: index.html does not fit in 10");
	is_str(spath("/", 11), "index.html", "path: index.html fits in 11");

	/* ---- origins */
	{
		const char *const list[] = { "https://app.example", "http://localhost:8080" };
		ok(hp_origin_allowed(NULL, 0, NULL), "origin: no list, no origin");
		ok(hp_origin_allowed(NULL, 0, "https://evil.example"), "origin: no list, any origin");
		ok(hp_origin_allowed(list, 2, "https://app.example"), "origin: listed");
		ok(hp_origin_allowed(list, 2, "HTTP://LOCALHOST:8080"), "origin: any case");
		ok(!hp_origin_allowed(list, 2, "https://app.example.evil"), "origin: a longer one");
		ok(!hp_origin_allowed(list, 2, "https://app.exampl"), "origin: a prefix");
		ok(!hp_origin_allowed(list, 2, NULL), "origin: list but no Origin");
		ok(!hp_origin_allowed(list, 2, "null"), "origin: the opaque origin");
	}
	return tap_done();
}
