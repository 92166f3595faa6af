/*
 * tap.h — a minimal TAP producer for ferry's C unit tests.
 *
 *     int main(void) {
 *             ok(1 + 1 == 2, "arithmetic");
 *             is_int(f(), 3, "f returns 3");
 *             return tap_done();
 *     }
 *
 * Each check prints "ok N - name" or "not ok N - name" with a diagnostic;
 * tap_done() prints the plan and returns 1 if anything failed.
 */
#ifndef FERRY_TAP_H
#define FERRY_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, name) tap_ok(!!(cond), __FILE__, __LINE__, name)

#define is_int(got, want, name) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, name)) \
		printf("#   got %lld, want %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, name) do { \
	const char *g_ = (got), *w_ = (want); \
	int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
	if (!tap_ok(c_, __FILE__, __LINE__, name)) \
		printf("#   got \"%s\"\n#  want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
