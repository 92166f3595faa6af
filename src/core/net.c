/* net — see net.h. */
#include "core/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <sys/socket.h>

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (!*s || *s == '+' || *s == '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static int parse_ip(const char *s, int port, net_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->u.in4.sin_addr) == 1) {
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_port = htons((uint16_t)port);
		out->len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->u.in6.sin6_addr) == 1) {
		out->u.in6.sin6_family = AF_INET6;
		out->u.in6.sin6_port = htons((uint16_t)port);
		out->len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

int net_parse_addr(const char *s, int default_port, int port_required,
		   net_addr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *portstr = NULL;
	size_t hlen;
	int port = default_port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			snprintf(err, errlen, "missing ']' in \"%s\"", s);
			return -1;
		}
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0') {
			snprintf(err, errlen, "unexpected text after ']' in \"%s\"", s);
			return -1;
		}
		s++;
	} else {
		const char *colon = strchr(s, ':');
		/* One colon: IPv4 with a port; more: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			hlen = (size_t)(colon - s);
			portstr = colon + 1;
		} else {
			hlen = strlen(s);
		}
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "expected a numeric IP address, got \"%s\"", s);
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (portstr) {
		if (parse_port(portstr, &port) < 0) {
			snprintf(err, errlen, "bad port \"%s\" (expected 0-65535)", portstr);
			return -1;
		}
	} else if (port_required) {
		snprintf(err, errlen, "expected ADDRESS:PORT, got \"%s\"", host);
		return -1;
	}
	if (parse_ip(host, port, out) < 0) {
		snprintf(err, errlen, "expected a numeric IP address, got \"%s\"", host);
		return -1;
	}
	return 0;
}

const char *net_fmt_ip(const struct sockaddr *sa, char *buf, size_t n)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
	else
		snprintf(buf, n, "(family %d)", sa->sa_family);
	return buf;
}

const char *net_fmt(const struct sockaddr *sa, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	net_fmt_ip(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", ip, net_port(sa));
	else if (sa->sa_family == AF_INET)
		snprintf(buf, n, "%s:%u", ip, net_port(sa));
	else
		snprintf(buf, n, "%s", ip);
	return buf;
}

void net_addr_from_sa(net_addr *out, const struct sockaddr *sa)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		memcpy(&out->u.in4, sa, sizeof(struct sockaddr_in));
		out->len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&out->u.in6, sa, sizeof(struct sockaddr_in6));
		out->len = sizeof(struct sockaddr_in6);
	}
}

int net_family(const net_addr *a)
{
	return a->u.sa.sa_family;
}

uint16_t net_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void net_set_port(net_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in4.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

int net_is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

int net_ip_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	return 0;
}

int net_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	return net_ip_equal(a, b) && net_port(a) == net_port(b);
}

void net_canonical(const net_addr *in, net_addr *out)
{
	static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
	static const uint8_t compat[12] = { 0 };
	static const uint8_t nat64[12] = { 0,0x64,0xff,0x9b, 0,0,0,0, 0,0,0,0 };
	const uint8_t *a;
	uint16_t port;
	uint32_t v4;

	if (in->u.sa.sa_family != AF_INET6) {
		if (out != in)
			*out = *in;
		return;
	}
	a = in->u.in6.sin6_addr.s6_addr;
	port = in->u.in6.sin6_port;
	/* ::a.b.c.d (deprecated IPv4-compatible) but not :: or ::1, which are
	 * IPv6's own unspecified and loopback addresses. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 ||
	    (memcmp(a, compat, 12) == 0 && (a[12] | a[13] | a[14]) != 0)) {
		memcpy(&v4, a + 12, 4);
		memset(out, 0, sizeof(*out));
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_port = port;
		out->u.in4.sin_addr.s_addr = v4;
		out->len = sizeof(struct sockaddr_in);
		return;
	}
	if (out != in)
		*out = *in;
}

void net_client_key(const struct sockaddr *sa, uint8_t out[NET_CLIENT_KEY_LEN])
{
	static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };

	memset(out, 0, NET_CLIENT_KEY_LEN);
	if (sa && sa->sa_family == AF_INET) {
		out[0] = 4;
		memcpy(out + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(b, mapped, sizeof(mapped)) == 0) {
			out[0] = 4;
			memcpy(out + 1, b + 12, 4);
		} else {
			out[0] = 6;
			memcpy(out + 1, b, 16);
		}
	}
}

int net_parse_cidr(const char *s, net_cidr *out, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int maxp, i;
	long p;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(buf)) {
		snprintf(err, errlen, "expected ADDRESS[/PREFIX], got \"%s\"", s);
		return -1;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		maxp = 128;
	} else {
		snprintf(err, errlen, "expected ADDRESS[/PREFIX], got \"%s\"", s);
		return -1;
	}
	p = maxp;
	if (slash) {
		char *end;
		errno = 0;
		p = strtol(slash + 1, &end, 10);
		if (errno || !slash[1] || *end || p < 0 || p > maxp || slash[1] == '+' ||
		    slash[1] == '-') {
			snprintf(err, errlen, "bad prefix length in \"%s\" (expected 0-%d)", s, maxp);
			return -1;
		}
	}
	out->prefix = (int)p;
	for (i = 0; i < maxp / 8; i++) {
		int keep = out->prefix - i * 8;
		if (keep >= 8)
			continue;
		out->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	return 0;
}

const char *net_fmt_cidr(const net_cidr *c, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];
	inet_ntop(c->family, c->addr, ip, sizeof(ip));
	snprintf(buf, n, "%s/%d", ip, c->prefix);
	return buf;
}

int net_cidr_match(const net_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	int full, rem;

	if (sa->sa_family != c->family)
		return 0;
	a = c->family == AF_INET
		? (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr
		: ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	full = c->prefix / 8;
	rem = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		if ((a[full] & mask) != c->addr[full])
			return 0;
	}
	return 1;
}


static int new_socket(const net_addr *addr, int type, int reuseport,
		      char *err, size_t errlen)
{
	char a[NET_ADDRSTRLEN];
	int fd, one = 1;

	fd = socket(addr->u.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket for %s: %s",
			 net_fmt(&addr->u.sa, a, sizeof(a)), strerror(errno));
		return -1;
	}
	/* On UDP, SO_REUSEADDR would let another socket bind the same port
	 * unnoticed; on TCP it only allows restarting over TIME_WAIT. */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "SO_REUSEPORT on %s: %s",
			 net_fmt(&addr->u.sa, a, sizeof(a)), strerror(errno));
		close(fd);
		return -1;
	}
	if (addr->u.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &addr->u.sa, addr->len) < 0) {
		snprintf(err, errlen, "cannot bind %s %s: %s",
			 type == SOCK_DGRAM ? "udp" : "tcp",
			 net_fmt(&addr->u.sa, a, sizeof(a)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Classic BPF run by the kernel for each datagram to pick the socket of
 * the SO_REUSEPORT group: a hash of the source address (IPv4: all of it;
 * IPv6: its /64) modulo the group's size, where the default hash takes
 * the source port too.
 */
int net_udp_steer_by_source(int fd, int family, unsigned nsock)
{
	struct sock_filter v4[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9E3779B1u),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nsock),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_filter v6[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
		BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9E3779B1u),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
		BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, nsock),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog;

	if (nsock < 2)
		return 0;
	if (family == AF_INET6) {
		prog.len = (unsigned short)(sizeof(v6) / sizeof(v6[0]));
		prog.filter = v6;
	} else {
		prog.len = (unsigned short)(sizeof(v4) / sizeof(v4[0]));
		prog.filter = v4;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog));
}

int net_udp_bind(const net_addr *addr, int reuseport, char *err, size_t errlen)
{
	return new_socket(addr, SOCK_DGRAM, reuseport, err, errlen);
}

int net_tcp_listen(const net_addr *addr, int reuseport, int backlog,
		   char *err, size_t errlen)
{
	char a[NET_ADDRSTRLEN];
	int fd = new_socket(addr, SOCK_STREAM, reuseport, err, errlen);

	if (fd < 0)
		return -1;
	if (listen(fd, backlog) < 0) {
		snprintf(err, errlen, "cannot listen on tcp %s: %s",
			 net_fmt(&addr->u.sa, a, sizeof(a)), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void net_set_buffers(int fd, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
}

int net_local_addr(int fd, net_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->len = sizeof(out->u.ss);
	return getsockname(fd, &out->u.sa, &out->len);
}
