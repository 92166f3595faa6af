/*
 * wire — byte-level helpers shared by the files of src/stun only: network
 * order reads and writes, padding, the XOR key of XOR-*-ADDRESS, and the
 * text limits of RFC 8489.  All reads are on bounds the caller checked.
 */
#ifndef FERRY_STUN_WIRE_H
#define FERRY_STUN_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stun/stun.h"

/* RFC 8489 §14.3, §14.9, §14.10, §14.14: what a receiver must accept. */
#define STUN_TEXT_MAX_BYTES	763
#define STUN_TEXT_MAX_CHARS	127
#define STUN_DOMAIN_MAX_BYTES	255

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* The 16 bytes the address of an XOR-*-ADDRESS is XORed with: magic
 * cookie || transaction id (RFC 8489 §14.2). */
static inline void xor_key_of(const uint8_t tid[STUN_TID_LEN], uint8_t key[16])
{
	put32(key, STUN_MAGIC_COOKIE);
	memcpy(key + 4, tid, STUN_TID_LEN);
}

#endif
