/* ice — see ice_servers.h. */
#include "auth/ice_servers.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

void ice_make_creds(const struct ferry_conf *c, const char *secret,
		    const char *user, long ttl, time_t now, struct ice_creds *out)
{
	char rnd[24];

	if (ttl <= 0 || ttl > c->credential_ttl)
		ttl = c->credential_ttl;
	if (!user || !*user) {
		uint8_t b[9];
		random_bytes(b, sizeof(b));
		b64url_encode(b, sizeof(b), rnd, sizeof(rnd));
		user = rnd;
	}
	out->ttl = ttl;
	out->expires = now + ttl;
	snprintf(out->username, sizeof(out->username), "%lld:%s",
		 (long long)out->expires, user);
	out->password[0] = '\0';
	if (secret)
		auth_ephemeral_password(secret, strlen(secret), out->username,
					strlen(out->username), out->password);
}

/* host as it goes into a URL: an IPv6 literal in brackets. */
static void url_host(const struct ferry_conf *c, const char *host, char *out, size_t n)
{
	const char *h = c->public_host ? c->public_host : host;

	if (!h || !*h)
		h = "localhost";
	if (strchr(h, ':') && h[0] != '[')
		snprintf(out, n, "[%s]", h);
	else
		snprintf(out, n, "%s", h);
}

/* Distinct ports of a listener list, in order. */
static size_t ports_of(const struct conf_addrs *a, int *ports, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < a->n && n < max; i++) {
		int p = net_port(&a->v[i].u.sa);
		for (j = 0; j < n && ports[j] != p; j++)
			;
		if (j == n)
			ports[n++] = p;
	}
	return n;
}

/* scheme:host:port followed by suffix (a ?transport= query or ""). */
static void add_url(json_t *arr, const char *scheme, const char *host, int port,
		    const char *suffix)
{
	char url[400];
	snprintf(url, sizeof(url), "%s:%s:%d%s", scheme, host, port, suffix);
	json_array_append_new(arr, json_string(url));
}

json_t *ice_turn_uris(const struct ferry_conf *c, const char *host)
{
	json_t *urls = json_array();
	char h[300];
	int ports[32];
	size_t i, n;

	url_host(c, host, h, sizeof(h));
	n = ports_of(&c->listen, ports, 32);
	for (i = 0; i < n; i++) {
		add_url(urls, "turn", h, ports[i], "?transport=udp");
		add_url(urls, "turn", h, ports[i], "?transport=tcp");
	}
	n = ports_of(&c->tls_listen, ports, 32);
	for (i = 0; i < n; i++)
		add_url(urls, "turns", h, ports[i], "?transport=tcp");
	return urls;
}

json_t *ice_server_list(const struct ferry_conf *c, const char *host,
			const struct ice_creds *creds)
{
	json_t *list = json_array(), *stun = json_array();
	char h[300];
	int ports[32];
	size_t i, n;

	url_host(c, host, h, sizeof(h));
	n = ports_of(&c->listen, ports, 32);
	for (i = 0; i < n; i++)
		add_url(stun, "stun", h, ports[i], "");
	if (json_array_size(stun))
		json_array_append_new(list, json_pack("{s:o}", "urls", stun));
	else
		json_decref(stun);
	if (creds && creds->password[0]) {
		json_t *turn = ice_turn_uris(c, host);
		if (json_array_size(turn))
			json_array_append_new(list, json_pack("{s:o,s:s,s:s}",
				"urls", turn, "username", creds->username,
				"credential", creds->password));
		else
			json_decref(turn);
	}
	return list;
}
