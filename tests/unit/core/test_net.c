/* Unit tests for net: address and CIDR parsing, canonical forms, and the
 * steering of datagrams by source address over a SO_REUSEPORT group. */
#include "core/net.h"
#include "../tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_parse(void)
{
	char err[128], buf[NET_ADDRSTRLEN];
	net_addr a;

	is_int(net_parse_addr("127.0.0.1:3478", 0, 1, &a, err, sizeof(err)), 0, "ipv4 with port");
	is_str(net_fmt(&a.u.sa, buf, sizeof(buf)), "127.0.0.1:3478", "ipv4 formats back");
	is_int(net_parse_addr("[::1]:80", 0, 1, &a, err, sizeof(err)), 0, "ipv6 with port");
	is_str(net_fmt(&a.u.sa, buf, sizeof(buf)), "[::1]:80", "ipv6 formats back");
	is_int(net_parse_addr("::", 3478, 0, &a, err, sizeof(err)), 0, "bare ipv6 gets default port");
	is_int(net_port(&a.u.sa), 3478, "default port applied");
	ok(net_is_wildcard(&a.u.sa), ":: is a wildcard");
	is_int(net_parse_addr("10.0.0.1", 0, 1, &a, err, sizeof(err)), -1, "port required");
	is_int(net_parse_addr("10.0.0.1:70000", 0, 1, &a, err, sizeof(err)), -1, "port out of range");
	is_int(net_parse_addr("example.org:80", 0, 1, &a, err, sizeof(err)), -1, "names refused");
	is_int(net_parse_addr("[::1:80", 0, 1, &a, err, sizeof(err)), -1, "unclosed bracket");
	is_int(net_parse_addr("[::1]x", 0, 0, &a, err, sizeof(err)), -1, "junk after bracket");
	is_int(net_parse_addr("1.2.3.4:", 0, 0, &a, err, sizeof(err)), -1, "empty port");
}

static int deny(const char *cidr, const char *addr)
{
	char err[128];
	net_cidr c;
	net_addr a, canon;

	if (net_parse_cidr(cidr, &c, err, sizeof(err)) < 0)
		return -1;
	if (net_parse_addr(addr, 0, 0, &a, err, sizeof(err)) < 0)
		return -1;
	net_canonical(&a, &canon);
	return net_cidr_match(&c, &canon.u.sa);
}

static void test_cidr(void)
{
	char err[128], buf[64];
	net_cidr c;

	is_int(net_parse_cidr("10.1.2.3/8", &c, err, sizeof(err)), 0, "cidr parses");
	is_str(net_fmt_cidr(&c, buf, sizeof(buf)), "10.0.0.0/8", "host bits cleared");
	is_int(net_parse_cidr("fe80::1/10", &c, err, sizeof(err)), 0, "ipv6 cidr parses");
	is_str(net_fmt_cidr(&c, buf, sizeof(buf)), "fe80::/10", "ipv6 host bits cleared");
	is_int(net_parse_cidr("1.2.3.4/33", &c, err, sizeof(err)), -1, "prefix too long");
	is_int(net_parse_cidr("1.2.3.4/", &c, err, sizeof(err)), -1, "empty prefix");
	is_int(net_parse_cidr("1.2.3.4/-1", &c, err, sizeof(err)), -1, "negative prefix");
	is_int(deny("127.0.0.0/8", "127.9.9.9"), 1, "loopback matches");
	is_int(deny("127.0.0.0/8", "128.0.0.1"), 0, "outside does not match");
	is_int(deny("127.0.0.0/8", "::ffff:127.0.0.1"), 1, "v4-mapped loopback is loopback");
	is_int(deny("127.0.0.0/8", "::127.0.0.1"), 1, "v4-compatible loopback is loopback");
	is_int(deny("10.0.0.0/8", "64:ff9b::a00:1"), 1, "NAT64 form of 10.0.0.1 is private");
	is_int(deny("::1/128", "::1"), 1, "::1 stays IPv6 loopback");
	is_int(deny("::/128", "::"), 1, ":: stays unspecified");
	is_int(deny("172.16.0.0/12", "172.31.255.255"), 1, "RFC 1918 edge inside");
	is_int(deny("172.16.0.0/12", "172.32.0.0"), 0, "RFC 1918 edge outside");
	is_int(deny("0.0.0.0/0", "8.8.8.8"), 1, "/0 matches everything of its family");
	is_int(deny("0.0.0.0/0", "2001:db8::1"), 0, "families do not mix");
}

/* Which of the group's two sockets a datagram reached: 0, 1, or -1. */
static int arrived(const int g[2])
{
	struct pollfd pf[2] = { { g[0], POLLIN, 0 }, { g[1], POLLIN, 0 } };
	char b[16];
	int i;

	if (poll(pf, 2, 1000) <= 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (pf[i].revents & POLLIN) {
			recv(g[i], b, sizeof(b), 0);
			return i;
		}
	return -1;
}

/*
 * Two sockets share 127.0.0.1:port; senders from 127.0.0.1 ... 127.0.0.16,
 * four ports each.  Every datagram of one address must reach the same
 * socket, and the addresses must not all reach one.
 */
static void test_steering(void)
{
	char err[128];
	net_addr a;
	int g[2], ip, k, consistent = 1, lost = 0, seen[2] = { 0, 0 };

	net_parse_addr("127.0.0.1:0", 0, 1, &a, err, sizeof(err));
	g[0] = net_udp_bind(&a, 1, err, sizeof(err));
	if (g[0] < 0) {
		ok(0, "bind a SO_REUSEPORT socket");
		return;
	}
	{
		socklen_t len = sizeof(a.u);
		getsockname(g[0], &a.u.sa, &len);
	}
	g[1] = net_udp_bind(&a, 1, err, sizeof(err));
	is_int(net_udp_steer_by_source(g[0], AF_INET, 2), 0, "steering program accepted");
	is_int(net_udp_steer_by_source(g[0], AF_INET, 1), 0, "a group of one needs none");
	for (ip = 1; ip <= 16; ip++) {
		int first = -1;

		for (k = 0; k < 4; k++) {
			struct sockaddr_in src = { .sin_family = AF_INET };
			int s = socket(AF_INET, SOCK_DGRAM, 0), got;

			src.sin_addr.s_addr = htonl(0x7f000000u + (unsigned)ip);
			bind(s, (struct sockaddr *)&src, sizeof(src));
			sendto(s, "x", 1, 0, &a.u.sa, a.len);
			got = arrived(g);
			close(s);
			if (got < 0) {
				lost++;
				continue;
			}
			seen[got]++;
			if (first < 0)
				first = got;
			else if (got != first)
				consistent = 0;
		}
	}
	is_int(lost, 0, "every datagram arrived");
	ok(consistent, "one source address, one socket, whatever its port");
	ok(seen[0] && seen[1], "sixteen addresses use both sockets");
	close(g[0]);
	close(g[1]);
}

int main(void)
{
	test_parse();
	test_cidr();
	test_steering();
	return tap_done();
}
