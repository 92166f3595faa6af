/* utf8 — see utf8.h. */
#include "core/utf8.h"

#include <string.h>

void utf8_init(struct utf8_state *st)
{
	st->need = 0;
	st->lo = 0x80;
	st->hi = 0xBF;
}

/* One byte: a lead byte fixes how many continuation bytes follow and
 * narrows the range of the first one, which is what rules out overlongs
 * (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
 * U+10FFFF (F4 90..BF, F5..FF). */
static int step(struct utf8_state *st, uint8_t b)
{
	if (st->need) {
		if (b < st->lo || b > st->hi)
			return -1;
		st->need--;
		st->lo = 0x80;
		st->hi = 0xBF;
		return 0;
	}
	st->lo = 0x80;
	st->hi = 0xBF;
	if (b < 0x80)
		return 0;
	if (b >= 0xC2 && b <= 0xDF) {
		st->need = 1;
	} else if (b == 0xE0) {
		st->need = 2;
		st->lo = 0xA0;
	} else if (b == 0xED) {
		st->need = 2;
		st->hi = 0x9F;
	} else if (b >= 0xE1 && b <= 0xEF) {
		st->need = 2;
	} else if (b == 0xF0) {
		st->need = 3;
		st->lo = 0x90;
	} else if (b >= 0xF1 && b <= 0xF3) {
		st->need = 3;
	} else if (b == 0xF4) {
		st->need = 3;
		st->hi = 0x8F;
	} else {
		return -1;	/* 80..C1 (stray or overlong lead), F5..FF */
	}
	return 0;
}

/* Between characters, runs of ASCII are skipped eight bytes at a time:
 * SDP and JSON are almost all ASCII. */
int utf8_feed(struct utf8_state *st, const void *s, size_t n)
{
	const uint8_t *b = s;
	size_t i = 0;

	while (i < n) {
		if (!st->need) {
			uint64_t w;

			while (n - i >= 8) {
				memcpy(&w, b + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			while (i < n && b[i] < 0x80)
				i++;
			if (i == n)
				break;
		}
		if (step(st, b[i++]) < 0)
			return -1;
	}
	return 0;
}

int utf8_complete(const struct utf8_state *st)
{
	return st->need == 0;
}

int utf8_valid(const void *s, size_t n)
{
	struct utf8_state st;

	utf8_init(&st);
	return utf8_feed(&st, s, n) == 0 && utf8_complete(&st);
}

size_t utf8_chars(const void *s, size_t n)
{
	const uint8_t *b = s;
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += (b[i] & 0xC0) != 0x80;
	return c;
}
