/*
 * util — small helpers shared by every module: memory, encodings, time,
 * randomness and constant-time comparison.
 *
 * Allocation helpers never return NULL: running out of memory aborts the
 * process with a message, because every caller would otherwise have to
 * invent a recovery that cannot be tested.
 */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded, as JWT uses).
 * encode writes a NUL-terminated string into out and returns its length,
 * or -1 when outsz is too small (needs 4*ceil(n/3)+1).
 * decode returns the decoded length, or -1 on a bad character, bad padding
 * or when outsz is too small.  base64url decode also accepts padding. */
int b64_encode(const void *in, size_t n, char *out, size_t outsz);
int b64_decode(const char *in, size_t n, void *out, size_t outsz);
int b64url_encode(const void *in, size_t n, char *out, size_t outsz);
int b64url_decode(const char *in, size_t n, void *out, size_t outsz);

/* Lower-case hex; out needs 2*n+1 bytes. */
void hex_encode(const void *in, size_t n, char *out);
/* Returns the byte count, or -1 on odd length, a bad digit or overflow. */
int hex_decode(const char *in, void *out, size_t outsz);

/* 1 when equal; the time taken depends only on n. */
int ct_equal(const void *a, const void *b, size_t n);

/* Cryptographically strong random bytes (OpenSSL RAND_bytes); aborts on
 * failure, which only happens when the kernel has no entropy source. */
void random_bytes(void *out, size_t n);

/* Monotonic clock in milliseconds, for timeouts and lifetimes. */
uint64_t mono_ms(void);
/* Wall clock in seconds since the epoch, for credential expiry. */
time_t wall_s(void);

/* Parse a whole decimal string into [min, max]; 0 on success, -1 otherwise. */
int parse_long(const char *s, long min, long max, long *out);

#endif
