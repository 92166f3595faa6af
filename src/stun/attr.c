/*
 * attr — reading attributes of a parsed message: lookup, the typed
 * decoders and their stun_get_* forms (see stun.h).  stun_parse() has
 * checked that every attribute lies inside the message, so the decoders
 * only check value lengths.
 */
#include "stun/stun.h"
#include "stun/wire.h"
#include "core/utf8.h"

#include <string.h>

#include <netinet/in.h>

const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->nattrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

const struct stun_attr *stun_find_next(const struct stun_msg *m,
				       const struct stun_attr *prev)
{
	size_t i;

	if (!prev || prev < m->attrs || prev >= m->attrs + m->nattrs)
		return NULL;
	for (i = (size_t)(prev - m->attrs) + 1; i < m->nattrs; i++)
		if (m->attrs[i].type == prev->type)
			return &m->attrs[i];
	return NULL;
}

int stun_attr_u32(const struct stun_attr *a, uint32_t *out)
{
	if (a->len != 4)
		return STUN_E_ATTR_LEN;
	*out = get32(a->value);
	return 0;
}

int stun_attr_u64(const struct stun_attr *a, uint64_t *out)
{
	if (a->len != 8)
		return STUN_E_ATTR_LEN;
	*out = (uint64_t)get32(a->value) << 32 | get32(a->value + 4);
	return 0;
}

int stun_attr_u16(const struct stun_attr *a, uint16_t *out)
{
	if (a->len != 4)
		return STUN_E_ATTR_LEN;
	*out = get16(a->value);
	return 0;
}

int stun_attr_u8(const struct stun_attr *a, uint8_t *out)
{
	if (a->len != 4)
		return STUN_E_ATTR_LEN;
	*out = a->value[0];
	return 0;
}

/* Decodes the MAPPED-ADDRESS layout; xor_key is NULL for the plain form,
 * else the 16 bytes magic cookie || transaction id. Port and address are
 * copied byte by byte, so they stay in network order without htons(). */
static int decode_addr(const struct stun_attr *a, const uint8_t *xor_key,
		       struct sockaddr_storage *out)
{
	const uint8_t *v = a->value;
	uint8_t port[2], addr[16];
	size_t alen;

	if (a->len < 4)
		return STUN_E_ATTR_LEN;
	switch (v[1]) {
	case STUN_FAMILY_IPV4:
		alen = 4;
		break;
	case STUN_FAMILY_IPV6:
		alen = 16;
		break;
	default:
		return STUN_E_FAMILY;
	}
	if (a->len != 4 + alen)
		return STUN_E_ATTR_LEN;

	memcpy(port, v + 2, 2);
	memcpy(addr, v + 4, alen);
	if (xor_key) {
		for (size_t i = 0; i < 2; i++)
			port[i] ^= xor_key[i];
		for (size_t i = 0; i < alen; i++)
			addr[i] ^= xor_key[i];
	}

	memset(out, 0, sizeof(*out));
	if (alen == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_port, port, 2);
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_port, port, 2);
		memcpy(&sin6->sin6_addr, addr, 16);
	}
	return 0;
}

int stun_attr_addr(const struct stun_attr *a, struct sockaddr_storage *out)
{
	return decode_addr(a, NULL, out);
}

int stun_attr_xor_addr(const struct stun_attr *a,
		       const uint8_t tid[STUN_TID_LEN],
		       struct sockaddr_storage *out)
{
	uint8_t key[16];

	xor_key_of(tid, key);
	return decode_addr(a, key, out);
}

static bool text_fits(const uint8_t *s, size_t n)
{
	return n <= STUN_TEXT_MAX_BYTES && utf8_chars(s, n) <= STUN_TEXT_MAX_CHARS;
}

int stun_attr_error(const struct stun_attr *a, int *code,
		    const char **reason, size_t *reason_len)
{
	const uint8_t *v = a->value;
	int cls, num;

	if (a->len < 4)
		return STUN_E_ATTR_LEN;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return STUN_E_BAD_VALUE;
	if (!text_fits(v + 4, a->len - 4u))
		return STUN_E_TOO_LONG;
	*code = cls * 100 + num;
	if (reason)
		*reason = (const char *)v + 4;
	if (reason_len)
		*reason_len = a->len - 4u;
	return 0;
}

int stun_attr_unknown(const struct stun_attr *a, uint16_t *types,
		      size_t max, size_t *n)
{
	size_t count;

	if (a->len % 2)
		return STUN_E_ATTR_LEN;
	count = a->len / 2u;
	for (size_t i = 0; i < count && i < max; i++)
		types[i] = get16(a->value + 2 * i);
	*n = count;
	return 0;
}

int stun_attr_string(const struct stun_attr *a, const char **s, size_t *len)
{
	switch (a->type) {
	case STUN_ATTR_USERNAME:
		if (a->len > STUN_TEXT_MAX_BYTES)
			return STUN_E_TOO_LONG;
		break;
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_SOFTWARE:
		if (!text_fits(a->value, a->len))
			return STUN_E_TOO_LONG;
		break;
	case STUN_ATTR_ALTERNATE_DOMAIN:
		if (a->len > STUN_DOMAIN_MAX_BYTES)
			return STUN_E_TOO_LONG;
		break;
	}
	*s = (const char *)a->value;
	*len = a->len;
	return 0;
}

#define GETTER(find, call) do { \
	const struct stun_attr *a_ = stun_find(m, (find)); \
	if (!a_) \
		return STUN_E_NOT_FOUND; \
	return call; \
} while (0)

int stun_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out)
{
	GETTER(type, stun_attr_u32(a_, out));
}

int stun_get_u64(const struct stun_msg *m, uint16_t type, uint64_t *out)
{
	GETTER(type, stun_attr_u64(a_, out));
}

int stun_get_u16(const struct stun_msg *m, uint16_t type, uint16_t *out)
{
	GETTER(type, stun_attr_u16(a_, out));
}

int stun_get_u8(const struct stun_msg *m, uint16_t type, uint8_t *out)
{
	GETTER(type, stun_attr_u8(a_, out));
}

int stun_get_addr(const struct stun_msg *m, uint16_t type,
		  struct sockaddr_storage *out)
{
	GETTER(type, stun_attr_addr(a_, out));
}

int stun_get_xor_addr(const struct stun_msg *m, uint16_t type,
		      struct sockaddr_storage *out)
{
	GETTER(type, stun_attr_xor_addr(a_, m->tid, out));
}

int stun_get_error(const struct stun_msg *m, int *code,
		   const char **reason, size_t *reason_len)
{
	GETTER(STUN_ATTR_ERROR_CODE,
	       stun_attr_error(a_, code, reason, reason_len));
}

int stun_get_string(const struct stun_msg *m, uint16_t type,
		    const char **s, size_t *len)
{
	GETTER(type, stun_attr_string(a_, s, len));
}

size_t stun_unknown_required(const struct stun_msg *m, uint16_t *types,
			     size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nattrs; i++) {
		uint16_t t = m->attrs[i].type;

		if (!stun_attr_comprehension_required(t) || stun_attr_known(t))
			continue;
		if (n < max)
			types[n] = t;
		n++;
	}
	return n;
}
