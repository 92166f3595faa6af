/*
 * hash — the one hash function of the project's tables: FNV-1a, 64 bits.
 *
 * Tables keyed by what a client chooses (addresses, names) start from a
 * random per-table seed, so that a client cannot aim its keys at one
 * bucket, and take their bucket from hash_finish(), whose mixer makes the
 * low bits depend on every input bit.
 */
#ifndef FERRY_HASH_H
#define FERRY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_INIT UINT64_C(0xcbf29ce484222325)

/* Continues h over n bytes. */
static inline uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * UINT64_C(0x100000001b3);
	return h;
}

/* Continues h over a NUL-terminated string. */
static inline uint64_t hash_str(uint64_t h, const char *s)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(0x100000001b3);
	return h;
}

/* The splitmix64 finaliser: every bit of h reaches every bit out. */
static inline uint64_t hash_finish(uint64_t h)
{
	h ^= h >> 30;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64_C(0x94d049bb133111eb);
	h ^= h >> 31;
	return h;
}

#endif
