/* util — see util.h. */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

static void oom(size_t n)
{
	fprintf(stderr, "ferry: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_enc(const char *alpha, int pad, const void *in, size_t n,
		   char *out, size_t outsz)
{
	const uint8_t *p = in;
	size_t need = pad ? 4 * ((n + 2) / 3) : (4 * n + 2) / 3;
	size_t o = 0, i;

	if (need + 1 > outsz || need > 0x7fffffff)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int b64_val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decodes strictly: padding only at the end, no stray bits in the last
 * symbol, and (for the standard alphabet) padding required. */
static int b64_dec(int url, const char *in, size_t n, void *out, size_t outsz)
{
	uint8_t *o = out;
	size_t olen = 0, npad = 0, i;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && in[n - 1] == '=' && npad < 2) {
		n--;
		npad++;
	}
	if (!url && (n + npad) % 4 != 0)
		return -1;
	if (npad && (n + npad) % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		int v = b64_val(in[i], url);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (olen >= outsz)
				return -1;
			o[olen++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	if (olen > 0x7fffffff)
		return -1;
	return (int)olen;
}

int b64_encode(const void *in, size_t n, char *out, size_t outsz)
{
	return b64_enc(b64_std, 1, in, n, out, outsz);
}

int b64_decode(const char *in, size_t n, void *out, size_t outsz)
{
	return b64_dec(0, in, n, out, outsz);
}

int b64url_encode(const void *in, size_t n, char *out, size_t outsz)
{
	return b64_enc(b64_url, 0, in, n, out, outsz);
}

int b64url_decode(const char *in, size_t n, void *out, size_t outsz)
{
	return b64_dec(1, in, n, out, outsz);
}

void hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *in, void *out, size_t outsz)
{
	size_t n = strlen(in), i;
	uint8_t *o = out;

	if (n % 2 || n / 2 > outsz || n / 2 > 0x7fffffff)
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = hex_val(in[i]), lo = hex_val(in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		o[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

int ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void random_bytes(void *out, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(out, (int)n) != 1) {
		fprintf(stderr, "ferry: no random bytes available\n");
		abort();
	}
}

uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

time_t wall_s(void)
{
	return time(NULL);
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	/* strtol would skip any leading white space and take a sign: only
	 * digits, after an optional minus, are a number here. */
	if (!s || !(isdigit((unsigned char)s[0]) ||
		    (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
