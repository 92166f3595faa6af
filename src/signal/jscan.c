/* jscan — see jscan.h. */
#include "signal/jscan.h"
#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

struct cur {
	const char *p, *end;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' ||
				 *c->p == '\r'))
		c->p++;
}

static int hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* Some byte of w is a quote, a backslash or a control character (the
 * exact tests of "Bit Twiddling Hacks": haszero, hasless). */
static int special8(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101),
		       high = UINT64_C(0x8080808080808080);
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		((b - ones) & ~b)) & high ? 1 : 0;
}

/* A string starting at the opening quote (the whole text was checked to
 * be UTF-8 first); control characters must be escaped; \u0000 is refused
 * (jansson refuses it by default). */
static int string(struct cur *c, int *escaped)
{
	*escaped = 0;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch;
		uint64_t w;

		/* SDP is long runs of plain text: eight bytes a step. */
		while (c->end - c->p >= 8) {
			memcpy(&w, c->p, 8);
			if (special8(w))
				break;
			c->p += 8;
		}
		if (c->p >= c->end)
			break;
		ch = (unsigned char)*c->p;

		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch == '\\') {
			*escaped = 1;
			if (++c->p >= c->end)
				return -1;
			switch (*c->p) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				c->p++;
				break;
			case 'u':
				if (c->end - c->p < 5 || !hex(c->p[1]) || !hex(c->p[2]) ||
				    !hex(c->p[3]) || !hex(c->p[4]) ||
				    memcmp(c->p + 1, "0000", 4) == 0)
					return -1;
				/* Surrogates (D800-DFFF) must pair, and a low one
				 * cannot come first: leave them to jansson. */
				if ((c->p[1] == 'd' || c->p[1] == 'D') &&
				    strchr("89abcdefABCDEF", c->p[2]))
					return -1;
				c->p += 5;
				break;
			default:
				return -1;
			}
			continue;
		}
		c->p++;
	}
	return -1;
}

/* Numbers that surely fit: jansson refuses an integer beyond 64 bits or
 * a real that overflows a double, so only short ones are taken here (at
 * most 15 characters, an exponent of at most two digits); the rest go to
 * jansson, which decides. */
static int number(struct cur *c)
{
	const char *start = c->p, *exp = NULL;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end)
		return -1;
	if (*c->p == '0') {
		c->p++;
	} else if (*c->p >= '1' && *c->p <= '9') {
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	} else {
		return -1;
	}
	if (c->p < c->end && *c->p == '.') {
		if (++c->p >= c->end || *c->p < '0' || *c->p > '9')
			return -1;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return -1;
		exp = c->p;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p - start > 15 || (exp && c->p - exp > 2))
		return -1;
	return c->p > start ? 0 : -1;
}

static int literal(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int value(struct cur *c, int depth, char *kind, int *escaped);

/*
 * An object (keyed) or array from its opening bracket to `close`.  Nested
 * objects are checked for form only; duplicate keys in them are for
 * jansson to judge, so a caller either falls back when a value nests or
 * scans that value again on its own (see scan_relay in message.c).
 */
static int container(struct cur *c, int depth, char close, int keyed)
{
	char k;
	int esc;

	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		skip_ws(c);
		if (keyed) {
			if (c->p >= c->end || *c->p != '"' || string(c, &esc) < 0)
				return -1;
			skip_ws(c);
			if (c->p >= c->end || *c->p++ != ':')
				return -1;
			skip_ws(c);
		}
		if (value(c, depth - 1, &k, &esc) < 0)
			return -1;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		return -1;
	}
}

/* Any value; kind receives its type letter. */
static int value(struct cur *c, int depth, char *kind, int *escaped)
{
	*escaped = 0;
	if (c->p >= c->end || depth < 0)
		return -1;
	switch (*c->p) {
	case '"':
		*kind = 's';
		return string(c, escaped);
	case 't':
		*kind = 't';
		return literal(c, "true");
	case 'f':
		*kind = 'f';
		return literal(c, "false");
	case 'n':
		*kind = 'z';
		return literal(c, "null");
	case '{':
		*kind = 'o';
		return container(c, depth, '}', 1);
	case '[':
		*kind = 'a';
		return container(c, depth, ']', 0);
	default:
		*kind = 'n';
		return number(c);
	}
}

int jscan_object(const char *text, size_t len, int max_depth,
		 struct jscan_member *m, size_t *n)
{
	struct cur c = { text, text + len };
	size_t i;

	*n = 0;
	/* jansson refuses text that is not UTF-8; so must we, whatever the
	 * caller checked before (a WebSocket text frame is, a test's bytes
	 * need not be). */
	if (!utf8_valid(text, len))
		return -1;
	skip_ws(&c);
	if (c.p >= c.end || *c.p++ != '{')
		return -1;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
		goto done;
	}
	for (;;) {
		struct jscan_member *mb;
		const char *start;

		if (*n == JSCAN_MAX_MEMBERS)
			return -1;
		mb = &m[(*n)++];
		skip_ws(&c);
		if (c.p >= c.end || *c.p != '"')
			return -1;
		start = c.p + 1;
		if (string(&c, &mb->key_escaped) < 0)
			return -1;
		mb->key = start;
		mb->keylen = (size_t)(c.p - 1 - start);
		skip_ws(&c);
		if (c.p >= c.end || *c.p++ != ':')
			return -1;
		skip_ws(&c);
		start = c.p;
		if (value(&c, max_depth, &mb->kind, &mb->val_escaped) < 0)
			return -1;
		mb->val = start;
		mb->vallen = (size_t)(c.p - start);
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		return -1;
	}
done:
	skip_ws(&c);
	if (c.p != c.end)
		return -1;
	/* Duplicate keys at the top: jansson (JSON_REJECT_DUPLICATES) calls
	 * that bad JSON, so the scanner must not accept it either. */
	for (i = 0; i < *n; i++) {
		size_t j;
		for (j = i + 1; j < *n; j++)
			if (m[i].keylen == m[j].keylen &&
			    memcmp(m[i].key, m[j].key, m[i].keylen) == 0)
				return -1;
		if (m[i].key_escaped)
			return -1;     /* "\u0074ype" is "type": leave it to jansson */
	}
	return 0;
}
