/*
 * hmac — the one HMAC (RFC 2104) of the project: MESSAGE-INTEGRITY,
 * ephemeral TURN passwords, JWT signatures, nonces and DTLS cookies all
 * come here.  OpenSSL's HMAC is fetched from its provider store once for
 * the process, not for each message.
 */
#ifndef FERRY_HMAC_H
#define FERRY_HMAC_H

#include <stddef.h>
#include <stdint.h>

/* One piece of the message; the MAC covers the pieces in order. */
struct hmac_part {
	const void *p;
	size_t n;
};

/* HMAC with digest ("SHA1", "SHA256") keyed with key (any length, empty
 * too) over the parts.  Writes exactly outsz bytes, the digest's size:
 * 0, or -1 when OpenSSL fails or outsz is not that size. */
int hmac_parts(const char *digest, const void *key, size_t keylen,
	       const struct hmac_part *parts, size_t nparts,
	       uint8_t *out, size_t outsz);

/* The same over one buffer. */
int hmac(const char *digest, const void *key, size_t keylen,
	 const void *data, size_t n, uint8_t *out, size_t outsz);

#endif
