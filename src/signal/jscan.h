/*
 * jscan — a strict JSON validator that also reports where the members of
 * a top-level object lie, without building a tree.
 *
 * Signaling relays most messages unchanged apart from their envelope; the
 * SDP inside them is kilobytes of escaped text that a parse-and-dump round
 * trip would unescape and escape again.  With the spans found here the
 * relay copies the value's bytes as they came.
 *
 * It accepts a subset of what jansson accepts (and never more): anything
 * it refuses must be handed to the full parser, which decides.
 */
#ifndef FERRY_JSCAN_H
#define FERRY_JSCAN_H

#include <stddef.h>

#define JSCAN_MAX_MEMBERS 16

struct jscan_member {
	const char *key;        /* the key's raw bytes, without quotes */
	size_t keylen;
	int key_escaped;        /* the key holds a backslash escape */
	const char *val;        /* the value's raw bytes, exactly as sent */
	size_t vallen;
	char kind;              /* 's' string, 'n' number, 't' true, 'f'
				 * false, 'z' null, 'o' object, 'a' array */
	int val_escaped;        /* a string value holding an escape */
};

/*
 * 0 when text[0..len) is UTF-8 and one well-formed JSON object (white space around
 * it allowed) with at most JSCAN_MAX_MEMBERS members, none of whose
 * values nests deeper than max_depth; m[0..*n) then describe its members
 * in order.  -1 otherwise, including for input that is valid JSON but
 * outside what this scanner handles (a \u0000 escape, too many members).
 */
int jscan_object(const char *text, size_t len, int max_depth,
		 struct jscan_member *m, size_t *n);

#endif
