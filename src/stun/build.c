/*
 * build — writing messages into a caller's buffer (see stun.h): the
 * builder and its attributes, the ChannelData header and the header of a
 * Data indication.  No allocation.
 */
#include "stun/stun.h"
#include "stun/integrity.h"
#include "stun/wire.h"

#include <string.h>

#include <netinet/in.h>

int stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap,
		    uint16_t type, const uint8_t tid[STUN_TID_LEN])
{
	if (!b || !buf || !tid || cap < STUN_HEADER_LEN || (type & 0xC000))
		return -1;
	b->buf = buf;
	b->cap = cap;
	b->len = STUN_HEADER_LEN;
	put16(buf, type);
	put16(buf + 2, 0);
	put32(buf + 4, STUN_MAGIC_COOKIE);
	memcpy(buf + 8, tid, STUN_TID_LEN);
	return 0;
}

/* Reserves an attribute of vlen bytes plus padding and writes its header;
 * returns a pointer to the value, or NULL when it does not fit in the
 * buffer or in the 16-bit message length. */
static uint8_t *reserve(struct stun_builder *b, uint16_t type, size_t vlen,
			uint8_t pad)
{
	size_t total = 4 + pad4(vlen);
	uint8_t *p;

	if (vlen > 0xFFFF || total > b->cap - b->len ||
	    b->len + total - STUN_HEADER_LEN > 0xFFFF)
		return NULL;
	p = b->buf + b->len;
	put16(p, type);
	put16(p + 2, (uint16_t)vlen);
	memset(p + 4 + vlen, pad, total - 4 - vlen);
	b->len += total;
	put16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
	return p + 4;
}

int stun_build_attr_pad(struct stun_builder *b, uint16_t type,
			const void *val, size_t len, uint8_t pad)
{
	uint8_t *v;

	if (!val && len)
		return -1;
	v = reserve(b, type, len, pad);
	if (!v)
		return -1;
	if (len)
		memcpy(v, val, len);
	return 0;
}

int stun_build_attr(struct stun_builder *b, uint16_t type, const void *val,
		    size_t len)
{
	return stun_build_attr_pad(b, type, val, len, 0);
}

int stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t p[4];

	put32(p, v);
	return stun_build_attr(b, type, p, sizeof(p));
}

int stun_build_u64(struct stun_builder *b, uint16_t type, uint64_t v)
{
	uint8_t p[8];

	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
	return stun_build_attr(b, type, p, sizeof(p));
}

int stun_build_u16(struct stun_builder *b, uint16_t type, uint16_t v)
{
	uint8_t p[4] = { 0 };

	put16(p, v);
	return stun_build_attr(b, type, p, sizeof(p));
}

int stun_build_u8(struct stun_builder *b, uint16_t type, uint8_t v)
{
	uint8_t p[4] = { v, 0, 0, 0 };

	return stun_build_attr(b, type, p, sizeof(p));
}

/* The value of a MAPPED-ADDRESS (xor_key NULL) or XOR-*-ADDRESS for sa
 * into v: its length (8 or 20), or 0 when sa is neither IPv4 nor IPv6. */
static size_t addr_value(uint8_t v[20], const struct sockaddr *sa,
			 const uint8_t *xor_key)
{
	size_t alen;

	v[0] = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		v[1] = STUN_FAMILY_IPV4;
		memcpy(v + 2, &sin->sin_port, 2);
		memcpy(v + 4, &sin->sin_addr, 4);
		alen = 4;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)sa;

		v[1] = STUN_FAMILY_IPV6;
		memcpy(v + 2, &sin6->sin6_port, 2);
		memcpy(v + 4, &sin6->sin6_addr, 16);
		alen = 16;
	} else {
		return 0;
	}
	if (xor_key) {
		for (size_t i = 0; i < 2; i++)
			v[2 + i] ^= xor_key[i];
		for (size_t i = 0; i < alen; i++)
			v[4 + i] ^= xor_key[i];
	}
	return 4 + alen;
}

static int encode_addr(struct stun_builder *b, uint16_t type,
		       const struct sockaddr *sa, const uint8_t *xor_key)
{
	uint8_t v[20];
	size_t n;

	if (!sa || (n = addr_value(v, sa, xor_key)) == 0)
		return -1;
	return stun_build_attr(b, type, v, n);
}

int stun_build_addr(struct stun_builder *b, uint16_t type,
		    const struct sockaddr *sa)
{
	return encode_addr(b, type, sa, NULL);
}

int stun_build_xor_addr(struct stun_builder *b, uint16_t type,
			const struct sockaddr *sa)
{
	uint8_t key[16];

	xor_key_of(b->buf + 8, key);
	return encode_addr(b, type, sa, key);
}

int stun_build_error(struct stun_builder *b, int code, const char *reason)
{
	size_t rlen;
	uint8_t *v;

	if (code < 300 || code > 699)
		return -1;
	if (!reason)
		reason = stun_error_reason(code);
	if (!reason)
		reason = "";
	rlen = strlen(reason);
	if (rlen > STUN_TEXT_MAX_BYTES)
		return -1;
	v = reserve(b, STUN_ATTR_ERROR_CODE, 4 + rlen, 0);
	if (!v)
		return -1;
	v[0] = 0;
	v[1] = 0;
	v[2] = (uint8_t)(code / 100);
	v[3] = (uint8_t)(code % 100);
	memcpy(v + 4, reason, rlen);
	return 0;
}

int stun_build_unknown(struct stun_builder *b, const uint16_t *types,
		       size_t n)
{
	uint8_t *v;

	if ((!types && n) || n > 0xFFFF / 2)
		return -1;
	v = reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n, 0);
	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++)
		put16(v + 2 * i, types[i]);
	return 0;
}

/* MESSAGE-INTEGRITY and its SHA-256 sibling: hash first, into a local, so
 * that a failure leaves the message untouched. */
static int build_mac(struct stun_builder *b, uint16_t type,
		     const char *digest, size_t maclen, const void *key,
		     size_t keylen)
{
	uint8_t mac[STUN_MI256_LEN];
	size_t off = b->len;
	uint8_t *v;

	if (!key && keylen)
		return -1;
	if (4 + maclen > b->cap - b->len ||
	    off + 4 + maclen - STUN_HEADER_LEN > 0xFFFF)
		return -1;
	if (stun_hmac_at(digest, key, keylen, b->buf, off, 4 + maclen, mac,
		      maclen))
		return -1;
	v = reserve(b, type, maclen, 0);
	if (!v)
		return -1;
	memcpy(v, mac, maclen);
	return 0;
}

int stun_build_integrity(struct stun_builder *b, const void *key,
			 size_t keylen)
{
	return build_mac(b, STUN_ATTR_MESSAGE_INTEGRITY, "SHA1", STUN_MI_LEN,
			 key, keylen);
}

int stun_build_integrity_sha256(struct stun_builder *b, const void *key,
				size_t keylen)
{
	return build_mac(b, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, "SHA256",
			 STUN_MI256_LEN, key, keylen);
}

int stun_build_fingerprint(struct stun_builder *b)
{
	size_t off = b->len;
	uint8_t *v;

	v = reserve(b, STUN_ATTR_FINGERPRINT, STUN_FP_LEN, 0);
	if (!v)
		return -1;
	put32(v, stun_fingerprint_at(b->buf, off));
	return 0;
}

int stun_chandata_header(uint8_t out[STUN_CHANDATA_HDR_LEN],
			 uint16_t channel, uint16_t len)
{
	if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX)
		return -1;
	put16(out, channel);
	put16(out + 2, len);
	return 0;
}

/* Written directly, not with the builder: it runs for every peer datagram
 * that goes to a client without a channel, and the message it starts is
 * completed by the caller. */
int stun_data_indication_header(uint8_t *out, size_t cap,
				const uint8_t tid[STUN_TID_LEN],
				const struct sockaddr *peer, size_t datalen)
{
	uint8_t key[16];
	size_t vlen, n, total;

	if (!out || !tid || !peer || cap < STUN_DATA_IND_HDR_MAX)
		return -1;
	xor_key_of(tid, key);
	vlen = addr_value(out + STUN_HEADER_LEN + 4, peer, key);
	if (vlen == 0)
		return -1;
	n = STUN_HEADER_LEN + 4 + vlen + 4;
	total = n - STUN_HEADER_LEN + pad4(datalen);
	if (total > 0xFFFF)
		return -1;
	put16(out, stun_type(STUN_METHOD_DATA, STUN_CLASS_INDICATION));
	put16(out + 2, (uint16_t)total);
	put32(out + 4, STUN_MAGIC_COOKIE);
	memcpy(out + 8, tid, STUN_TID_LEN);
	put16(out + STUN_HEADER_LEN, STUN_ATTR_XOR_PEER_ADDRESS);
	put16(out + STUN_HEADER_LEN + 2, (uint16_t)vlen);
	put16(out + n - 4, STUN_ATTR_DATA);
	put16(out + n - 2, (uint16_t)datalen);
	return (int)n;
}
