/*
 * fuzz_http — libFuzzer target for the HTTP header and parameter parsers
 * of ferry's own (src/http/parse.c).
 *
 * The input is a header or parameter value.  Every parser gets it whole
 * (as a C string cut at its first NUL, as libmicrohttpd hands values
 * over); hp_static_path also gets it with its NUL bytes and its length.
 * When the input holds a newline, what follows the first one is used as
 * the second argument (the token for hp_has_token, the key parameter for
 * hp_bearer, an allow-list entry for hp_origin_allowed).  Each answer is
 * checked against its contract in http/parse.h, mostly by a second, naive
 * implementation here; a difference aborts.
 */
#include "http/parse.h"
#include "core/names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_host(const char *s)
{
	char out[256];
	char small[8];
	int rc = hp_host_name(s, out, sizeof(out));

	if (rc == 0) {
		size_t n = strlen(out);
		CHECK(n < sizeof(out));
		/* the name is a piece of the header */
		CHECK(strstr(s, out) != NULL);
		if (s[0] == '[') {
			CHECK(strncmp(s + 1, out, n) == 0 && s[1 + n] == ']');
		} else {
			CHECK(strchr(out, ':') == NULL);
			CHECK(strncmp(s, out, n) == 0 &&
			      (s[n] == '\0' || s[n] == ':'));
		}
	} else {
		CHECK(rc == -1 && out[0] == '\0');
	}
	/* a valid Host has a name of only [A-Za-z0-9.-], or of an IPv6
	 * address, and never anything a URL would read as structure */
	if (hp_valid_host(s)) {
		CHECK(rc == 0 && out[0] != '\0');
		CHECK(strpbrk(s, "/?#@ \t\\%") == NULL);
		if (s[0] != '[')
			CHECK(strspn(out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789.-") == strlen(out));
	}
	/* a short buffer only ever refuses more */
	rc = hp_host_name(s, small, sizeof(small));
	CHECK(rc == 0 ? strlen(small) < sizeof(small) : small[0] == '\0');
	CHECK(hp_host_name(NULL, small, sizeof(small)) == -1);
}

/* The token rule, written plainly: a token is one element (non-empty, no
 * comma, space or tab); split the value at commas, trim spaces and tabs at
 * the start, then the token must be the element's start, followed by the
 * end of the element, a space or a tab. */
static int naive_has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = v;

	if (!n || strchr(tok, ',') || strchr(tok, ' ') || strchr(tok, '\t'))
		return 0;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		if (len >= n && strncasecmp(p, tok, n) == 0 &&
		    (len == n || p[n] == ' ' || p[n] == '\t'))
			return 1;
		if (!e)
			return 0;
		p = e + 1;
	}
}

static void check_token(const char *value, const char *token)
{
	int got = hp_has_token(value, token);

	CHECK(got == 0 || got == 1);
	CHECK(got == naive_has_token(value, token));
	CHECK(hp_has_token(value, "upgrade") == naive_has_token(value, "upgrade"));
	CHECK(hp_has_token(value, "websocket") == naive_has_token(value, "websocket"));
	CHECK(hp_has_token(NULL, token) == 0 && hp_has_token(value, NULL) == 0);
}

static void check_bearer(const char *authz, const char *key)
{
	const char *c = hp_bearer(authz, key);
	size_t la = strlen(authz), lk = key ? strlen(key) : 0;

	if (!c) {
		CHECK(key == NULL && strncasecmp(authz, "Bearer ", 7) != 0);
		return;
	}
	CHECK(*c != ' ');
	if (strncasecmp(authz, "Bearer ", 7) == 0)
		CHECK(c >= authz + 7 && c <= authz + la);
	else
		CHECK(key && c >= key && c <= key + lk);
	c = hp_bearer(NULL, key);
	CHECK(key ? c != NULL : c == NULL);
}

static void check_user(const char *u)
{
	size_t n = strlen(u), i;
	int want = n >= 1 && n <= NAMES_USER_ID_MAX;

	for (i = 0; i < n && want; i++)
		if ((unsigned char)u[i] < 0x21 || (unsigned char)u[i] > 0x7e ||
		    u[i] == ':')
			want = 0;
	CHECK(names_user_id(u) == want);
}

static void check_ttl(const char *s)
{
	long v = -7;
	size_t n = strlen(s), i;
	int digits = n > 0;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
	if (hp_parse_ttl(s, &v) == 0) {
		char back[32];
		const char *z = s;
		CHECK(digits && v >= 1 && v <= HP_TTL_MAX);
		/* the value, printed, is the input without leading zeros */
		while (*z == '0')
			z++;
		snprintf(back, sizeof(back), "%ld", v);
		CHECK(strcmp(back, z) == 0);
	} else {
		CHECK(v == -7);
		if (digits) {
			/* refused digits are 0 or too large */
			const char *z = s;
			while (*z == '0')
				z++;
			CHECK(*z == '\0' || strlen(z) >= 10);
		}
	}
}

static void check_path(const char *p, size_t len)
{
	char out[1024];
	char tiny[12];
	int rc = hp_static_path(p, len, out, sizeof(out));

	if (rc != 0) {
		CHECK(rc == -1 && out[0] == '\0');
	} else {
		size_t n = strlen(out), i;
		const char *seg;

		CHECK(n < sizeof(out) && len >= 1 && p[0] == '/');
		CHECK(memchr(p, '\0', len) == NULL);
		CHECK(out[0] != '/' || (len > 1 && p[1] == '/'));
		CHECK(strchr(out, '\\') == NULL);
		for (i = 0; i < n; i++)
			CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
		/* no ".." segment left */
		for (seg = out; seg; seg = strchr(seg, '/')) {
			if (*seg == '/')
				seg++;
			CHECK(!(seg[0] == '.' && seg[1] == '.' &&
				(seg[2] == '/' || seg[2] == '\0')));
		}
		/* the path itself, or with index.html when it names a
		 * directory */
		CHECK(strncmp(out, p + 1, len - 1) == 0);
		if (p[len - 1] == '/')
			CHECK(strcmp(out + len - 1, "index.html") == 0);
		else
			CHECK(n == len - 1);
	}
	rc = hp_static_path(p, len, tiny, sizeof(tiny));
	CHECK(rc == 0 ? strlen(tiny) < sizeof(tiny) : tiny[0] == '\0');
}

static void check_origin(const char *origin, const char *entry)
{
	const char *list[2] = { entry, "https://ferry.example" };
	int want = strcasecmp(origin, entry) == 0 ||
		   strcasecmp(origin, "https://ferry.example") == 0;

	CHECK(hp_origin_allowed(list, 2, origin) == want);
	CHECK(hp_origin_allowed(list, 0, origin) == 1);
	CHECK(hp_origin_allowed(list, 2, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *second;

	if (size > 16384)
		return 0;
	/* exact size: the sanitizers see any read past the end */
	s = malloc(size + 1);
	CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';

	check_path(s, size);               /* NUL bytes and all */
	second = strchr(s, '\n');
	if (second)
		*second++ = '\0';
	check_host(s);
	check_token(s, second ? second : "upgrade");
	check_bearer(s, second);
	check_user(s);
	check_ttl(s);
	check_path(s, strlen(s));
	check_origin(s, second ? second : "http://localhost:8080");
	free(s);
	return 0;
}
