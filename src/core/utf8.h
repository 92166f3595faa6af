/*
 * utf8 — the one UTF-8 check of the project, after Unicode's table of
 * well-formed byte sequences (Unicode §3.9, table 3-7): overlong forms,
 * surrogates and code points above U+10FFFF are ill-formed.  NUL is a
 * character like any other here; callers that cannot hold one say so.
 *
 * The check is incremental, so a character may be split across the
 * fragments of a WebSocket message.
 */
#ifndef FERRY_UTF8_H
#define FERRY_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Where an incremental check stands: between characters, or inside one
 * with `need` continuation bytes to come, the next in [lo, hi]. */
struct utf8_state {
	uint32_t need;
	uint8_t lo, hi;
};

void utf8_init(struct utf8_state *st);
/* Feeds n more bytes: 0 while they keep the text well-formed, -1 at the
 * first that does not (st is then meaningless). */
int utf8_feed(struct utf8_state *st, const void *s, size_t n);
/* 1 when the text fed so far ends between characters. */
int utf8_complete(const struct utf8_state *st);

/* 1 when the n bytes at s are well-formed UTF-8 (the empty text is). */
int utf8_valid(const void *s, size_t n);

/* Characters in n bytes of text already known to be UTF-8 (bytes that do
 * not continue a sequence): for length limits. */
size_t utf8_chars(const void *s, size_t n);

#endif
