/* httpparse — see parse.h. */
#include "http/parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

int hp_host_name(const char *host, char *out, size_t outsz)
{
	const char *end;
	size_t len;

	out[0] = '\0';
	if (!host)
		return -1;
	if (host[0] == '[') {
		host++;
		end = strchr(host, ']');
		if (!end)
			return -1;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	len = (size_t)(end - host);
	if (len >= outsz)
		return -1;
	memcpy(out, host, len);
	out[len] = '\0';
	return 0;
}

int hp_valid_host(const char *host)
{
	const char *p = host, *end;

	if (*p == '[') {
		char v6[INET6_ADDRSTRLEN];
		struct in6_addr a;

		end = strchr(p, ']');
		if (!end || (size_t)(end - p - 1) >= sizeof(v6) || end == p + 1)
			return 0;
		memcpy(v6, p + 1, (size_t)(end - p - 1));
		v6[end - p - 1] = '\0';
		if (inet_pton(AF_INET6, v6, &a) != 1)
			return 0;
		p = end + 1;
	} else {
		const char *start = p;

		while (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
			p++;
		if (p == start || p - start > 253)	/* DNS's longest name */
			return 0;
	}
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p) || strlen(p) > 5)
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

int hp_has_token(const char *value, const char *token)
{
	size_t n;
	const char *p = value;

	if (!value || !token || !*token || strpbrk(token, ", \t"))
		return 0;
	n = strlen(token);
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, token, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

const char *hp_bearer(const char *authz, const char *key_param)
{
	const char *cred = NULL;

	if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
		cred = authz + 7;
	else if (key_param)
		cred = key_param;
	if (!cred)
		return NULL;
	while (*cred == ' ')
		cred++;
	return cred;
}

int hp_parse_ttl(const char *s, long *out)
{
	long v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > HP_TTL_MAX)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = v;
	return 0;
}

int hp_static_path(const char *path, size_t len, char *out, size_t outsz)
{
	static const char index_html[] = "index.html";
	size_t i, n, seg;

	out[0] = '\0';
	if (!path || len == 0 || path[0] != '/')
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)path[i];
		if (ch < 0x20 || ch == 0x7f || ch == '\\')
			return -1;
	}
	/* every segment: from after a '/' to the next '/' or the end */
	for (seg = 1; seg <= len; ) {
		const char *s = path + seg;
		const char *slash = memchr(s, '/', len - seg);
		size_t slen = slash ? (size_t)(slash - s) : len - seg;

		if (slen == 2 && s[0] == '.' && s[1] == '.')
			return -1;
		seg += slen + 1;
	}
	n = len - 1;
	if (n + (path[len - 1] == '/' ? sizeof(index_html) - 1 : 0) >= outsz)
		return -1;
	memcpy(out, path + 1, n);
	if (path[len - 1] == '/') {
		memcpy(out + n, index_html, sizeof(index_html) - 1);
		n += sizeof(index_html) - 1;
	}
	out[n] = '\0';
	return 0;
}

int hp_origin_allowed(const char *const *allowed, size_t n, const char *origin)
{
	size_t i;

	if (n == 0)
		return 1;
	if (!origin)
		return 0;
	for (i = 0; i < n; i++)
		if (strcasecmp(allowed[i], origin) == 0)
			return 1;
	return 0;
}
