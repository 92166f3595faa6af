/* Unit tests for net: address and CIDR parsing, canonical forms. */
#include "net.h"
#include "tap.h"

#include <arpa/inet.h>

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

int main(void)
{
	test_parse();
	test_cidr();
	return tap_done();
}
