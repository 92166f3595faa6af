/*
 * value — see value.h.
 */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* strcasecmp under -std=c11 */
#endif

#include "conf/value.h"
#include "core/net.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/ssl.h>

int value_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

int value_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A numeric address without a port: net_parse_addr would take
 * "1.2.3.4:5" and "[::1]:5" as well, so those shapes are refused first. */
int value_bare_ip(const char *s, net_addr *out)
{
	char err[128];
	const char *colon = strchr(s, ':');

	if (strstr(s, "]:") || (colon && !strchr(colon + 1, ':')))
		return -1;
	if (net_parse_addr(s, 0, 0, out, err, sizeof(err)) < 0)
		return -1;
	if (net_is_wildcard(&out->u.sa))
		return -1;
	return 0;
}

/* The folder of path must exist; path itself must not be a directory. */
int value_writable(const char *path, char *detail, size_t n)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (path[strlen(path) - 1] == '/') {
		snprintf(detail, n, "names a folder, not a file");
		return -1;
	}
	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) < 0) {
		snprintf(detail, n, "folder %s: %s", dir, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "%s is not a folder", dir);
		rc = -1;
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "names a folder, not a file");
		rc = -1;
	}
	free(dir);
	return rc;
}

int value_exists(const char *path, int want_dir, char *detail, size_t n)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(detail, n, "%s", strerror(errno));
		return -1;
	}
	if (want_dir && !S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "not a directory");
		return -1;
	}
	if (!want_dir && S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "a directory, not a file");
		return -1;
	}
	return 0;
}

/* A DNS name ([A-Za-z0-9.-], labels not starting or ending with '-') or a
 * numeric address; IPv6 in brackets since it goes into "turn:HOST:PORT". */
int value_host(const char *s)
{
	net_addr a;
	char err[128];
	size_t i, n = strlen(s);

	if (s[0] == '[')
		return s[n - 1] == ']' && n > 2 &&
		       net_parse_addr(s, 0, 0, &a, err, sizeof(err)) == 0 &&
		       a.u.sa.sa_family == AF_INET6;	/* "[1.2.3.4]" is no URL host */
	if (n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!isalnum((unsigned char)ch) && ch != '.' && ch != '-')
			return 0;
		if (ch == '-' && (i == 0 || s[i - 1] == '.' || i == n - 1 ||
				  s[i + 1] == '.'))
			return 0;
		if (ch == '.' && (i == 0 || s[i - 1] == '.'))
			return 0;
	}
	return 1;
}

/* What a browser sends in Origin: scheme "://" host [":" port], no path. */
int value_origin(const char *s)
{
	const char *host, *colon;
	char *h;
	int ok;
	long port;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close)
			return 0;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return 0;
	} else {
		colon = strchr(host, ':');
	}
	h = colon ? xstrndup(host, (size_t)(colon - host)) : xstrdup(host);
	ok = *h && value_host(h);
	free(h);
	if (ok && colon)
		ok = parse_long(colon + 1, 1, 65535, &port) == 0;
	return ok;
}

int value_ciphers(const char *s)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int ok;

	if (!ctx)
		return 1;       /* cannot tell here; the TLS module will */
	ok = SSL_CTX_set_cipher_list(ctx, s) == 1;
	SSL_CTX_free(ctx);
	return ok;
}
