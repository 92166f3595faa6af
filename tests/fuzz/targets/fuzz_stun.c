/*
 * fuzz_stun — libFuzzer target for the STUN codec (src/stun/, see stun/stun.h).
 *
 * One input is tried four ways: as a whole STUN message (parse, every
 * typed decoder on every attribute, integrity and fingerprint checks, and
 * a rebuild that must parse and verify again), as a TCP stream cut by
 * stun_frame_len(), as a ChannelData message, and as demux input. Besides
 * memory errors, broken invariants abort so the fuzzer reports them.
 */
#include "stun/stun.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char fuzz_key[] = "fuzz-key";

static void decode_all(const struct stun_msg *m)
{
	struct sockaddr_storage ss;
	const char *s;
	uint16_t types[8];
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	size_t n;
	int code;

	for (size_t i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];

		CHECK(a->offset >= STUN_HEADER_LEN &&
		      a->offset + 4u + a->len <= m->len &&
		      a->value == m->buf + a->offset + 4);
		(void)stun_attr_u32(a, &u32);
		(void)stun_attr_u64(a, &u64);
		(void)stun_attr_u16(a, &u16);
		(void)stun_attr_u8(a, &u8);
		(void)stun_attr_addr(a, &ss);
		(void)stun_attr_xor_addr(a, m->tid, &ss);
		if (stun_attr_error(a, &code, &s, &n) == 0)
			CHECK(code >= 300 && code <= 699 && n + 4 == a->len);
		if (stun_attr_unknown(a, types, 8, &n) == 0)
			CHECK(n * 2 == a->len);
		if (stun_attr_string(a, &s, &n) == 0)
			CHECK(n == a->len);
		(void)stun_attr_name(a->type);
		(void)stun_find_next(m, a);
	}
	(void)stun_get_error(m, &code, &s, &n);
	(void)stun_get_xor_addr(m, STUN_ATTR_XOR_PEER_ADDRESS, &ss);
	(void)stun_get_string(m, STUN_ATTR_USERNAME, &s, &n);
	n = stun_unknown_required(m, types, 8);
	CHECK(n <= m->nattrs);
	(void)stun_method_name(m->method);
	(void)stun_class_name(m->cls);
	CHECK(stun_type(m->method, m->cls) == m->type);
}

/* Copy what the parser kept, sign it and check the result verifies:
 * builder and verifier must agree on every message the parser accepts. */
static void rebuild(const struct stun_msg *m)
{
	static uint8_t out[STUN_MAX_MSG_LEN];
	struct stun_builder b;
	struct stun_msg m2;
	size_t kept = 0;

	CHECK(stun_build_init(&b, out, sizeof(out), m->type, m->tid) == 0);
	for (size_t i = 0; i < m->nattrs; i++) {
		const struct stun_attr *a = &m->attrs[i];

		if (a->type == STUN_ATTR_MESSAGE_INTEGRITY ||
		    a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256 ||
		    a->type == STUN_ATTR_FINGERPRINT)
			continue;
		if (stun_build_attr(&b, a->type, a->value, a->len))
			return;
		kept++;
	}
	if (stun_build_integrity(&b, fuzz_key, sizeof(fuzz_key) - 1) ||
	    stun_build_integrity_sha256(&b, fuzz_key, sizeof(fuzz_key) - 1) ||
	    stun_build_fingerprint(&b))
		return;
	if (kept + 3 > STUN_MAX_ATTRS)
		return;
	CHECK(stun_parse(out, b.len, &m2) == 0);
	CHECK(m2.nattrs == kept + 3);
	CHECK(stun_check_integrity(&m2, fuzz_key, sizeof(fuzz_key) - 1) == 0);
	CHECK(stun_check_integrity_sha256(&m2, fuzz_key,
					  sizeof(fuzz_key) - 1) == 0);
	CHECK(stun_check_fingerprint(&m2) == 0);
}

static void try_message(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	int rc = stun_parse(data, size, &m);

	CHECK(rc <= 0 && stun_strerror(rc) != NULL);
	if (rc)
		return;
	CHECK(m.len == size && m.nattrs <= STUN_MAX_ATTRS);
	CHECK(stun_is_stun(data, size));
	decode_all(&m);
	(void)stun_check_integrity(&m, fuzz_key, sizeof(fuzz_key) - 1);
	(void)stun_check_integrity_sha256(&m, fuzz_key, sizeof(fuzz_key) - 1);
	(void)stun_check_fingerprint(&m);
	rebuild(&m);
}

static void try_stream(const uint8_t *data, size_t size)
{
	const size_t max = STUN_MAX_MSG_LEN;
	size_t pos = 0;

	while (pos < size) {
		int n = stun_frame_len(data + pos, size - pos, max);
		struct stun_chandata cd;

		if (n <= 0)
			return;
		CHECK((size_t)n >= STUN_CHANDATA_HDR_LEN && (size_t)n <= max);
		if ((size_t)n > size - pos)
			return;
		if (data[pos] & 0x40)
			CHECK(stun_chandata_parse(data + pos, (size_t)n,
						  &cd) == 0);
		else
			try_message(data + pos, (size_t)n);
		pos += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_chandata cd;

	try_message(data, size);
	try_stream(data, size);
	if (stun_chandata_parse(data, size, &cd) == 0)
		CHECK(cd.data == data + 4 && 4u + cd.len <= size &&
		      cd.channel >= STUN_CHANNEL_MIN &&
		      cd.channel <= STUN_CHANNEL_MAX);
	(void)stun_is_stun(data, size);
	return 0;
}
