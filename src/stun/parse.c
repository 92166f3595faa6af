/*
 * parse — cutting bytes into messages: STUN (stun_parse, stun_is_stun),
 * stream framing and ChannelData (see stun.h).
 */
#include "stun/stun.h"
#include "stun/wire.h"

#include <string.h>

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
