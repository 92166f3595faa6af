/*
 * httpparse — the HTTP header and parameter values ferry parses itself.
 *
 * libmicrohttpd splits requests into method, decoded path, headers and
 * query arguments; everything finer (the Host name, Connection/Upgrade
 * tokens, Bearer credentials, user ids, ttl, static file paths, the Origin
 * allow-list) is read by these pure functions: strings in, answers out,
 * no allocation, no global state, no I/O.  That makes each of them
 * testable against fixed cases (tests/unit/http/test_httpparse.c) and fuzzable
 * (tests/fuzz/fuzz_http.c).
 *
 * Every function accepts NULL for the header or parameter (absent) and
 * treats it as the contract says.  Output buffers are the caller's; on
 * failure they hold an empty string, never a partial result.
 */
#ifndef FERRY_HTTPPARSE_H
#define FERRY_HTTPPARSE_H

#include <stddef.h>

/* Largest ttl accepted, in seconds. */
#define HP_TTL_MAX 0x7fffffffL

/*
 * The name of a Host header value: the port removed, and for an IPv6
 * literal the brackets too ("[::1]:8080" -> "::1", "example.org:80" ->
 * "example.org", "example.org" -> itself).  Returns 0 with the name in
 * out (NUL-terminated, possibly empty for "" or ":80"), or -1 with out
 * set to "" when host is NULL, a bracket is not closed, or the name does
 * not fit in outsz bytes (including the NUL).  The name is not validated
 * further; whoever puts it into a URL must.  outsz must be at least 1.
 */
int hp_host_name(const char *host, char *out, size_t outsz);

/* 1 when a Host header value is a host RFC 9110 allows and ferry can put
 * into a URL: a DNS-style name or IPv4 address ([A-Za-z0-9.-], 1 to
 * 253 bytes) or a bracketed IPv6 address, then an optional ":" and decimal
 * port; 0 otherwise. */
int hp_valid_host(const char *host);

/*
 * 1 when the comma-separated header value (Connection, Upgrade) contains
 * token as one of its elements, compared without regard to ASCII case;
 * spaces and tabs around elements are ignored ("keep-alive, Upgrade"
 * contains "upgrade").  An element matches when it starts with token and
 * token is followed by the end, a comma, a space or a tab.  0 when value
 * or token is NULL, and when token is not one element (empty, or holding
 * a comma, space or tab).
 */
int hp_has_token(const char *value, const char *token);

/*
 * The credential of a request: the part of an Authorization header after
 * "Bearer " (scheme in any case), else key_param (the `key` query
 * argument, or NULL where a route takes none), with leading spaces
 * skipped.  Returns a pointer into authz or key_param, or NULL when
 * neither holds one.  An Authorization header with another scheme is
 * ignored (key_param is used).  The credential may be empty: comparing it
 * with configured keys decides.
 */
const char *hp_bearer(const char *authz, const char *key_param);

/*
 * A ttl parameter: decimal digits only (no sign, no spaces, leading zeros
 * allowed), a value from 1 to HP_TTL_MAX.  Returns 0 with *out set, or -1
 * leaving *out alone (also for NULL and "").
 */
int hp_parse_ttl(const char *s, long *out);

/*
 * A static file's path below web-root, from the decoded request path (len
 * bytes; libmicrohttpd has already decoded %XX, so "%2e%2e" arrives as
 * "..").  The path must start with '/'; it is refused (-1, out "") when it
 * holds a NUL byte, another control character or a backslash, when one
 * of its '/'-separated segments is exactly "..", or when the result would
 * not fit in outsz bytes (including the NUL).
 * Otherwise returns 0 with out holding the path without its leading '/',
 * and "index.html" appended when it ends in '/' ("/" -> "index.html",
 * "/js/app.js" -> "js/app.js").  The caller joins it to web-root with a
 * '/' and must still check, after resolving symbolic links, that the file
 * lies under web-root.
 */
int hp_static_path(const char *path, size_t len, char *out, size_t outsz);

/*
 * Cross-origin check: 1 when origin may use the API.  With an empty
 * allow-list (n == 0) every origin may, and so may a request without
 * one; otherwise origin must equal one of the n entries, ignoring ASCII
 * case, and NULL is refused.
 */
int hp_origin_allowed(const char *const *allowed, size_t n, const char *origin);

#endif
