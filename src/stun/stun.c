/*
 * stun — see stun.h.
 *
 * All reads go through get16()/get32() on bounds already checked by
 * stun_parse(), so the typed decoders only check value lengths.
 */
#include "stun/stun.h"
#include "core/hmac.h"
#include "core/utf8.h"

#include <string.h>

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* RFC 8489 §14.3, §14.9, §14.10, §14.14: what a receiver must accept. */
#define STUN_TEXT_MAX_BYTES	763
#define STUN_TEXT_MAX_CHARS	127
#define STUN_DOMAIN_MAX_BYTES	255

static const uint8_t cookie_bytes[4] = { 0x21, 0x12, 0xA4, 0x42 };

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

/* ------------------------------------------------------------- tables */

static const char *const err_text[] = {
	[0]			= "success",
	[-STUN_E_TRUNCATED]	= "message shorter than its header",
	[-STUN_E_NOT_STUN]	= "top two bits of the message type are not zero",
	[-STUN_E_COOKIE]	= "wrong magic cookie",
	[-STUN_E_LEN_ALIGN]	= "message length is not a multiple of 4",
	[-STUN_E_LEN_MISMATCH]	= "message length does not match the bytes received",
	[-STUN_E_ATTR_OVERRUN]	= "attribute runs past the end of the message",
	[-STUN_E_TOO_MANY]	= "too many attributes",
	[-STUN_E_MI_LEN]	= "MESSAGE-INTEGRITY is not 20 bytes",
	[-STUN_E_MI256_LEN]	= "MESSAGE-INTEGRITY-SHA256 has a bad length",
	[-STUN_E_FP_LEN]	= "FINGERPRINT is not 4 bytes",
	[-STUN_E_NOT_FOUND]	= "attribute not present",
	[-STUN_E_ATTR_LEN]	= "attribute value has a bad length",
	[-STUN_E_FAMILY]	= "unknown address family",
	[-STUN_E_TOO_LONG]	= "attribute text is too long",
	[-STUN_E_BAD_VALUE]	= "attribute value out of range",
	[-STUN_E_INTEGRITY]	= "message integrity check failed",
	[-STUN_E_FINGERPRINT]	= "fingerprint check failed",
	[-STUN_E_CHANNEL]	= "channel number outside 0x4000-0x7FFF",
	[-STUN_E_CRYPTO]	= "cryptographic library failure",
	[-STUN_E_ARG]		= "invalid argument",
};

const char *stun_strerror(int err)
{
	if (err > 0 || err <= -(int)(sizeof(err_text) / sizeof(err_text[0])) ||
	    !err_text[-err])
		return "unknown error";
	return err_text[-err];
}

struct name {
	uint16_t code;
	const char *name;
};

/* Every attribute this codec knows; stun_attr_known() reads it, so an
 * entry here is a promise that the server understands the attribute. */
static const struct name attr_names[] = {
	{ STUN_ATTR_MAPPED_ADDRESS,		"MAPPED-ADDRESS" },
	{ STUN_ATTR_USERNAME,			"USERNAME" },
	{ STUN_ATTR_MESSAGE_INTEGRITY,		"MESSAGE-INTEGRITY" },
	{ STUN_ATTR_ERROR_CODE,			"ERROR-CODE" },
	{ STUN_ATTR_UNKNOWN_ATTRIBUTES,		"UNKNOWN-ATTRIBUTES" },
	{ STUN_ATTR_CHANNEL_NUMBER,		"CHANNEL-NUMBER" },
	{ STUN_ATTR_LIFETIME,			"LIFETIME" },
	{ STUN_ATTR_XOR_PEER_ADDRESS,		"XOR-PEER-ADDRESS" },
	{ STUN_ATTR_DATA,			"DATA" },
	{ STUN_ATTR_REALM,			"REALM" },
	{ STUN_ATTR_NONCE,			"NONCE" },
	{ STUN_ATTR_XOR_RELAYED_ADDRESS,	"XOR-RELAYED-ADDRESS" },
	{ STUN_ATTR_REQUESTED_ADDRESS_FAMILY,	"REQUESTED-ADDRESS-FAMILY" },
	{ STUN_ATTR_EVEN_PORT,			"EVEN-PORT" },
	{ STUN_ATTR_REQUESTED_TRANSPORT,	"REQUESTED-TRANSPORT" },
	{ STUN_ATTR_DONT_FRAGMENT,		"DONT-FRAGMENT" },
	{ STUN_ATTR_MESSAGE_INTEGRITY_SHA256,	"MESSAGE-INTEGRITY-SHA256" },
	{ STUN_ATTR_PASSWORD_ALGORITHM,		"PASSWORD-ALGORITHM" },
	{ STUN_ATTR_USERHASH,			"USERHASH" },
	{ STUN_ATTR_XOR_MAPPED_ADDRESS,		"XOR-MAPPED-ADDRESS" },
	{ STUN_ATTR_RESERVATION_TOKEN,		"RESERVATION-TOKEN" },
	{ STUN_ATTR_PRIORITY,			"PRIORITY" },
	{ STUN_ATTR_USE_CANDIDATE,		"USE-CANDIDATE" },
	{ STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,	"ADDITIONAL-ADDRESS-FAMILY" },
	{ STUN_ATTR_ADDRESS_ERROR_CODE,		"ADDRESS-ERROR-CODE" },
	{ STUN_ATTR_PASSWORD_ALGORITHMS,	"PASSWORD-ALGORITHMS" },
	{ STUN_ATTR_ALTERNATE_DOMAIN,		"ALTERNATE-DOMAIN" },
	{ STUN_ATTR_ICMP,			"ICMP" },
	{ STUN_ATTR_SOFTWARE,			"SOFTWARE" },
	{ STUN_ATTR_ALTERNATE_SERVER,		"ALTERNATE-SERVER" },
	{ STUN_ATTR_FINGERPRINT,		"FINGERPRINT" },
	{ STUN_ATTR_ICE_CONTROLLED,		"ICE-CONTROLLED" },
	{ STUN_ATTR_ICE_CONTROLLING,		"ICE-CONTROLLING" },
};

static const struct name method_names[] = {
	{ STUN_METHOD_BINDING,			"Binding" },
	{ STUN_METHOD_ALLOCATE,			"Allocate" },
	{ STUN_METHOD_REFRESH,			"Refresh" },
	{ STUN_METHOD_SEND,			"Send" },
	{ STUN_METHOD_DATA,			"Data" },
	{ STUN_METHOD_CREATE_PERMISSION,	"CreatePermission" },
	{ STUN_METHOD_CHANNEL_BIND,		"ChannelBind" },
};

static const struct name error_reasons[] = {
	{ 300, "Try Alternate" },
	{ 400, "Bad Request" },
	{ 401, "Unauthenticated" },
	{ 403, "Forbidden" },
	{ 420, "Unknown Attribute" },
	{ 437, "Allocation Mismatch" },
	{ 438, "Stale Nonce" },
	{ 440, "Address Family not Supported" },
	{ 441, "Wrong Credentials" },
	{ 442, "Unsupported Transport Protocol" },
	{ 443, "Peer Address Family Mismatch" },
	{ 446, "Connection Already Exists" },
	{ 447, "Connection Timeout or Failure" },
	{ 486, "Allocation Quota Reached" },
	{ 487, "Role Conflict" },
	{ 500, "Server Error" },
	{ 508, "Insufficient Capacity" },
};

static const char *lookup(const struct name *t, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

#define LOOKUP(t, code) lookup((t), sizeof(t) / sizeof((t)[0]), (code))

bool stun_attr_known(uint16_t type)
{
	return LOOKUP(attr_names, type) != NULL;
}

const char *stun_attr_name(uint16_t type)
{
	const char *s = LOOKUP(attr_names, type);

	return s ? s : "unknown";
}

const char *stun_method_name(uint16_t method)
{
	const char *s = LOOKUP(method_names, method);

	return s ? s : "unknown";
}

const char *stun_class_name(enum stun_class cls)
{
	switch (cls) {
	case STUN_CLASS_REQUEST:	return "request";
	case STUN_CLASS_INDICATION:	return "indication";
	case STUN_CLASS_SUCCESS:	return "success response";
	case STUN_CLASS_ERROR:		return "error response";
	}
	return "unknown";
}

const char *stun_error_reason(int code)
{
	if (code < 0 || code > 0xFFFF)
		return NULL;
	return LOOKUP(error_reasons, (unsigned)code);
}

/* The reflected CRC-32 of ISO-HDLC / zlib (polynomial 0xEDB88320). */
static const uint32_t crc_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba,
	0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
	0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
	0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
	0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de,
	0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
	0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec,
	0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
	0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
	0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
	0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940,
	0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
	0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116,
	0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
	0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
	0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
	0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a,
	0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
	0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818,
	0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
	0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
	0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
	0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c,
	0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
	0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2,
	0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
	0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
	0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
	0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086,
	0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
	0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4,
	0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
	0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
	0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
	0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8,
	0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
	0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe,
	0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
	0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
	0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
	0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252,
	0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60,
	0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
	0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
	0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
	0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04,
	0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
	0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a,
	0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
	0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
	0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
	0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e,
	0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
	0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c,
	0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
	0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
	0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
	0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0,
	0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
	0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6,
	0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
	0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
	0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc;
}

uint32_t stun_crc32(const void *buf, size_t len)
{
	return crc_update(0xFFFFFFFFu, buf, len) ^ 0xFFFFFFFFu;
}

/* ---------------------------------------------------------- type codes */

uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	unsigned m = method, c = (unsigned)cls;

	return (uint16_t)((m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 |
			  (c & 1) << 4 | (c & 2) << 7);
}

uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 |
			  (type & 0x3E00) >> 2);
}

enum stun_class stun_type_class(uint16_t type)
{
	return (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}

/* -------------------------------------------------------------- parse */

bool stun_is_stun(const uint8_t *buf, size_t len)
{
	return buf && len >= STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
	       get32(buf + 4) == STUN_MAGIC_COOKIE && (get16(buf + 2) & 3) == 0;
}

/* Where the parser stands relative to the attributes that end what
 * RFC 8489 lets a receiver use (§14.5-14.7). */
enum tail_state {
	TAIL_OPEN,		/* every attribute counts */
	TAIL_AFTER_MI,		/* only MI-SHA256 or FINGERPRINT may follow */
	TAIL_AFTER_MI256,	/* only FINGERPRINT may follow */
	TAIL_AFTER_FP,		/* nothing counts */
};

static bool tail_keeps(enum tail_state st, uint16_t type)
{
	switch (st) {
	case TAIL_OPEN:
		return true;
	case TAIL_AFTER_MI:
		return type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
		       type == STUN_ATTR_FINGERPRINT;
	case TAIL_AFTER_MI256:
		return type == STUN_ATTR_FINGERPRINT;
	case TAIL_AFTER_FP:
		break;
	}
	return false;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	enum tail_state st = TAIL_OPEN;
	size_t off;

	if (!buf || !m)
		return STUN_E_ARG;
	if (len < STUN_HEADER_LEN)
		return STUN_E_TRUNCATED;
	if (buf[0] & 0xC0)
		return STUN_E_NOT_STUN;
	if (get32(buf + 4) != STUN_MAGIC_COOKIE)
		return STUN_E_COOKIE;
	if (get16(buf + 2) & 3)
		return STUN_E_LEN_ALIGN;
	if (get16(buf + 2) != len - STUN_HEADER_LEN)
		return STUN_E_LEN_MISMATCH;

	m->buf = buf;
	m->len = len;
	m->type = get16(buf);
	m->method = stun_type_method(m->type);
	m->cls = stun_type_class(m->type);
	memcpy(m->tid, buf + 8, STUN_TID_LEN);
	m->nattrs = 0;
	m->mi_off = m->mi256_off = m->fp_off = -1;

	/* Both len and every attribute are multiples of 4, so a header
	 * always fits once off < len. */
	for (off = STUN_HEADER_LEN; off < len;) {
		uint16_t type = get16(buf + off);
		uint16_t alen = get16(buf + off + 2);
		size_t total = 4 + pad4(alen);
		struct stun_attr *a;

		if (total > len - off)
			return STUN_E_ATTR_OVERRUN;
		if (!tail_keeps(st, type)) {
			off += total;
			continue;
		}
		switch (type) {
		case STUN_ATTR_MESSAGE_INTEGRITY:
			if (alen != STUN_MI_LEN)
				return STUN_E_MI_LEN;
			m->mi_off = (int)off;
			st = TAIL_AFTER_MI;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
			if (alen < STUN_MI256_MIN_LEN || alen > STUN_MI256_LEN ||
			    alen % 4)
				return STUN_E_MI256_LEN;
			m->mi256_off = (int)off;
			st = TAIL_AFTER_MI256;
			break;
		case STUN_ATTR_FINGERPRINT:
			if (alen != STUN_FP_LEN)
				return STUN_E_FP_LEN;
			m->fp_off = (int)off;
			st = TAIL_AFTER_FP;
			break;
		}
		if (m->nattrs == STUN_MAX_ATTRS)
			return STUN_E_TOO_MANY;
		a = &m->attrs[m->nattrs++];
		a->type = type;
		a->len = alen;
		a->offset = (uint32_t)off;
		a->value = buf + off + 4;
		off += total;
	}
	return 0;
}

/* ------------------------------------------------------------- lookup */

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

static void xor_key_of(const uint8_t tid[STUN_TID_LEN], uint8_t key[16])
{
	memcpy(key, cookie_bytes, 4);
	memcpy(key + 4, tid, STUN_TID_LEN);
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

/* ------------------------------------------------------------- verify */

/* HMAC over msg[0..off) as RFC 8489 §14.5/14.6 define it: the header's
 * length field counts up to the end of the attribute of attr_total bytes
 * that starts at off, whatever follows in the buffer. The header is
 * patched in a copy so that received messages stay const. */
static int stun_hmac(const char *digest, const void *key, size_t keylen,
		     const uint8_t *msg, size_t off, size_t attr_total,
		     uint8_t *out, size_t outsz)
{
	uint8_t hdr[STUN_HEADER_LEN];
	struct hmac_part parts[2] = {
		{ hdr, sizeof(hdr) },
		{ msg + STUN_HEADER_LEN, off - STUN_HEADER_LEN },
	};

	memcpy(hdr, msg, STUN_HEADER_LEN);
	put16(hdr + 2, (uint16_t)(off + attr_total - STUN_HEADER_LEN));
	return hmac_parts(digest, key, keylen, parts, 2, out, outsz) == 0 ?
	       0 : STUN_E_CRYPTO;
}

int stun_check_integrity(const struct stun_msg *m, const void *key,
			 size_t keylen)
{
	uint8_t mac[STUN_MI_LEN];
	size_t off;
	int rc;

	if (m->mi_off < STUN_HEADER_LEN)
		return STUN_E_NOT_FOUND;
	if (!key && keylen)
		return STUN_E_ARG;
	off = (size_t)m->mi_off;
	rc = stun_hmac("SHA1", key, keylen, m->buf, off, 4 + STUN_MI_LEN,
		       mac, sizeof(mac));
	if (rc)
		return rc;
	if (CRYPTO_memcmp(mac, m->buf + off + 4, STUN_MI_LEN))
		return STUN_E_INTEGRITY;
	return 0;
}

int stun_check_integrity_sha256(const struct stun_msg *m, const void *key,
				size_t keylen)
{
	uint8_t mac[STUN_MI256_LEN];
	size_t off, alen;
	int rc;

	if (m->mi256_off < STUN_HEADER_LEN)
		return STUN_E_NOT_FOUND;
	if (!key && keylen)
		return STUN_E_ARG;
	off = (size_t)m->mi256_off;
	alen = get16(m->buf + off + 2);
	rc = stun_hmac("SHA256", key, keylen, m->buf, off, 4 + alen,
		       mac, sizeof(mac));
	if (rc)
		return rc;
	/* The sender may truncate (RFC 8489 §14.6); parse has already held
	 * alen to 16..32, so compare what was sent. */
	if (CRYPTO_memcmp(mac, m->buf + off + 4, alen))
		return STUN_E_INTEGRITY;
	return 0;
}

/* FINGERPRINT over msg[0..off) with the length counting the attribute. */
static uint32_t fingerprint(const uint8_t *msg, size_t off)
{
	uint8_t hdr[STUN_HEADER_LEN];
	uint32_t crc;

	memcpy(hdr, msg, STUN_HEADER_LEN);
	put16(hdr + 2, (uint16_t)(off + 4 + STUN_FP_LEN - STUN_HEADER_LEN));
	crc = crc_update(0xFFFFFFFFu, hdr, sizeof(hdr));
	crc = crc_update(crc, msg + STUN_HEADER_LEN, off - STUN_HEADER_LEN);
	return (crc ^ 0xFFFFFFFFu) ^ STUN_FP_XOR;
}

int stun_check_fingerprint(const struct stun_msg *m)
{
	size_t off;

	if (m->fp_off < STUN_HEADER_LEN)
		return STUN_E_NOT_FOUND;
	off = (size_t)m->fp_off;
	if (fingerprint(m->buf, off) != get32(m->buf + off + 4))
		return STUN_E_FINGERPRINT;
	return 0;
}

/* ---------------------------------------------------- key derivation */

static int digest3(const EVP_MD *md, const char *a, size_t alen,
		   const char *b, size_t blen, const char *c, size_t clen,
		   uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if ((!a && alen) || (!b && blen) || (c == NULL && clen)) {
		EVP_MD_CTX_free(ctx);
		return STUN_E_ARG;
	}
	ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, a ? a : "", alen) &&
	     EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, b ? b : "", blen);
	/* c == NULL means a two-part input (USERHASH): no second colon. */
	if (ok && c)
		ok = EVP_DigestUpdate(ctx, ":", 1) &&
		     EVP_DigestUpdate(ctx, c, clen);
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : STUN_E_CRYPTO;
}

int stun_key_md5(const char *user, size_t ulen, const char *realm,
		 size_t rlen, const char *pass, size_t plen,
		 uint8_t out[STUN_MD5_LEN])
{
	return digest3(EVP_md5(), user, ulen, realm, rlen, pass ? pass : "",
		       plen, out);
}

int stun_key_sha256(const char *user, size_t ulen, const char *realm,
		    size_t rlen, const char *pass, size_t plen,
		    uint8_t out[STUN_SHA256_LEN])
{
	return digest3(EVP_sha256(), user, ulen, realm, rlen,
		       pass ? pass : "", plen, out);
}

int stun_userhash(const char *user, size_t ulen, const char *realm,
		  size_t rlen, uint8_t out[STUN_SHA256_LEN])
{
	return digest3(EVP_sha256(), user, ulen, realm, rlen, NULL, 0, out);
}

/* ------------------------------------------------------------ builder */

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
	memcpy(buf + 4, cookie_bytes, 4);
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

static int encode_addr(struct stun_builder *b, uint16_t type,
		       const struct sockaddr *sa, const uint8_t *xor_key)
{
	uint8_t v[20];
	size_t alen;

	if (!sa)
		return -1;
	memset(v, 0, sizeof(v));
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
		return -1;
	}
	if (xor_key) {
		for (size_t i = 0; i < 2; i++)
			v[2 + i] ^= xor_key[i];
		for (size_t i = 0; i < alen; i++)
			v[4 + i] ^= xor_key[i];
	}
	return stun_build_attr(b, type, v, 4 + alen);
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
	if (stun_hmac(digest, key, keylen, b->buf, off, 4 + maclen, mac,
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
	put32(v, fingerprint(b->buf, off));
	return 0;
}

/* ---------------------------------------------------- stream framing */

int stun_frame_len(const uint8_t *buf, size_t avail, size_t max)
{
	size_t total;

	if (!buf || avail == 0)
		return 0;
	switch (buf[0] >> 6) {
	case 0:
		if (avail < 8)
			return 0;
		if (get32(buf + 4) != STUN_MAGIC_COOKIE || (get16(buf + 2) & 3))
			return -1;
		total = STUN_HEADER_LEN + (size_t)get16(buf + 2);
		break;
	case 1:
		if (avail < STUN_CHANDATA_HDR_LEN)
			return 0;
		total = STUN_CHANDATA_HDR_LEN + pad4(get16(buf + 2));
		break;
	default:
		return -1;
	}
	return total > max ? -1 : (int)total;
}

/* --------------------------------------------------------- ChannelData */

int stun_chandata_parse(const uint8_t *buf, size_t len,
			struct stun_chandata *out)
{
	uint16_t ch, dlen;

	if (!buf || !out)
		return STUN_E_ARG;
	if (len < STUN_CHANDATA_HDR_LEN)
		return STUN_E_TRUNCATED;
	ch = get16(buf);
	if (ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_MAX)
		return STUN_E_CHANNEL;
	dlen = get16(buf + 2);
	if (dlen > len - STUN_CHANDATA_HDR_LEN)
		return STUN_E_TRUNCATED;
	out->channel = ch;
	out->len = dlen;
	out->data = buf + STUN_CHANDATA_HDR_LEN;
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
