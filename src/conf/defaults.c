/*
 * defaults — see defaults.h.
 */
#include "config.h"

#include "conf/defaults.h"
#include "conf/directive.h"
#include "core/net.h"
#include "core/peerfilter.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ERRLEN 1024

static int given_line(const int *given, const char *key)
{
	return given[DIRECTIVE_INDEX(directive_find(key))];
}

/* The host's primary address: the one the kernel would send from towards
 * the Internet.  connect() on a UDP socket only picks the route and the
 * source address, it sends nothing; TEST-NET-1 is never really reached. */
static void primary_address(net_addr *out)
{
	struct sockaddr_in to;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(9);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_INET) {
		net_addr_from_sa(out, (struct sockaddr *)&ss);
		net_set_port(out, 0);
	} else {
		memset(out, 0, sizeof(*out));
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		out->len = sizeof(struct sockaddr_in);
	}
	if (fd >= 0)
		close(fd);
}

/* relay-ip: the first listen address that is not a wildcard, else the
 * host's primary address; relay_ip is empty when no line set it. */
static void derive_relay_ip(struct ferry_conf *c)
{
	net_addr a;
	size_t i;

	for (i = 0; i < c->listen.n; i++)
		if (!net_is_wildcard(&c->listen.v[i].u.sa))
			break;
	if (i < c->listen.n) {
		a = c->listen.v[i];
		net_set_port(&a, 0);
	} else {
		primary_address(&a);
	}
	c->relay_ip.v = xrealloc(c->relay_ip.v, sizeof(*c->relay_ip.v));
	c->relay_ip.v[0] = a;
	c->relay_ip.n = 1;
}

/* With allow-loopback-peers, the file's denied-peer lines that are exactly
 * a loopback or "this host"/unspecified block of the table go too, so that
 * the key means the same wherever the block was written; the table's own
 * loopback rows are left out by pf_allowed. */
static void drop_loopback_lines(struct ferry_conf *c)
{
	size_t i, k = 0;

	if (!c->allow_loopback_peers)
		return;
	for (i = 0; i < c->denied_peer.n; i++)
		if (!pf_is_loopback_block(&c->denied_peer.v[i]))
			c->denied_peer.v[k++] = c->denied_peer.v[i];
	c->denied_peer.n = k;
	if (!k) {
		free(c->denied_peer.v);
		c->denied_peer.v = NULL;
	}
}

/* Each space-separated value of d's default, as a line would give it. */
static void set_default(struct ferry_conf *c, const struct directive *d,
			struct report *r)
{
	char *list, *tok, *save, err[ERRLEN];

	list = xstrdup(d->def);
	for (tok = strtok_r(list, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		if (d->type->parse(c, d, tok, 0, err, sizeof(err)) < 0)
			report_error(r, 0, "%s: built-in default: %s", d->name, err);
	free(list);
}

void defaults_apply(struct ferry_conf *c, const int *given, struct report *r)
{
	size_t i;

	for (i = 0; i < directive_count; i++) {
		const struct directive *d = &directive_table[i];

		if (!given[i] && d->def && !(d->flags & F_DERIVED))
			set_default(c, d, r);
	}

	if (!given_line(given, "user-quota"))
		c->user_quota = 3 * c->room_max_peers;
	if (!given_line(given, "web-root")) {
		struct stat st;
		const char *def = directive_find("web-root")->def;
		if (stat(def, &st) == 0 && S_ISDIR(st.st_mode))
			c->web_root = xstrdup(def);
	}
	if (!given_line(given, "relay-ip"))
		derive_relay_ip(c);
	drop_loopback_lines(c);
}
