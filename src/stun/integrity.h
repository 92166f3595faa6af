/*
 * integrity — for the files of src/stun only: the MAC and CRC that both
 * checking (integrity.c) and building (build.c) compute over a message.
 * The public checks and key derivation are declared in stun.h.
 */
#ifndef FERRY_STUN_INTEGRITY_H
#define FERRY_STUN_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

#include "stun/stun.h"

/* HMAC (digest "SHA1" or "SHA256") over msg[0..off) as RFC 8489
 * §14.5/14.6 define it: the header's length field counts up to the end
 * of the attribute of attr_total bytes that starts at off, whatever
 * follows in the buffer.  0, or STUN_E_CRYPTO. */
int stun_hmac_at(const char *digest, const void *key, size_t keylen,
		 const uint8_t *msg, size_t off, size_t attr_total,
		 uint8_t *out, size_t outsz);
/* The FINGERPRINT value (RFC 8489 §14.7) of an attribute at off: the CRC
 * over msg[0..off), the length counting the attribute, XORed. */
uint32_t stun_fingerprint_at(const uint8_t *msg, size_t off);

#endif
