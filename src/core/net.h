/*
 * net — socket addresses, CIDR blocks and socket helpers.
 *
 * Helpers that can fail fill a caller-supplied error buffer with one
 * sentence and return -1; the caller decides how to log it.
 */
#ifndef FERRY_NET_H
#define FERRY_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* Large enough for "[ffff:...:ffff%ifname]:65535". */
#define NET_ADDRSTRLEN 80

/* A socket address of either family, with its length. */
typedef struct net_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
} net_addr;

/* Parse "1.2.3.4:3478", "[::1]:3478", "1.2.3.4", "::1" or "[::1]".
 * A missing port becomes default_port; port_required makes it an error.
 * Names are not resolved: only numeric addresses are accepted. */
int net_parse_addr(const char *s, int default_port, int port_required,
		   net_addr *out, char *err, size_t errlen);
/* "1.2.3.4:5" or "[::1]:5"; with_port=0 gives "1.2.3.4" / "::1". */
const char *net_fmt(const struct sockaddr *sa, char *buf, size_t n);
const char *net_fmt_ip(const struct sockaddr *sa, char *buf, size_t n);

void net_addr_from_sa(net_addr *out, const struct sockaddr *sa);
int net_family(const net_addr *a);
uint16_t net_port(const struct sockaddr *sa);
void net_set_port(net_addr *a, uint16_t port);
int net_is_wildcard(const struct sockaddr *sa);
/* Same family, address and port. */
int net_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Same family and address; ports ignored. */
int net_ip_equal(const struct sockaddr *a, const struct sockaddr *b);

/* Reduce an address to what it reaches: IPv4-mapped ::ffff:a.b.c.d,
 * IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::/96 become IPv4; the
 * unspecified addresses 0.0.0.0 and :: stay as they are (the kernel sends
 * them to the local host, so callers treat them as loopback).  The port is
 * kept.  out may equal in. */
void net_canonical(const net_addr *in, net_addr *out);

/* The bytes that name a client by its IP address, for the tables that
 * count or limit per client: a family byte (4, 6, or 0 for anything else,
 * which is one anonymous client) and the address, zero-filled to 17 bytes.
 * An IPv4-mapped ::ffff:a.b.c.d is written as the IPv4 address, so that a
 * dual-stack socket and an IPv4 socket agree about a client. */
#define NET_CLIENT_KEY_LEN 17
void net_client_key(const struct sockaddr *sa, uint8_t out[NET_CLIENT_KEY_LEN]);

typedef struct net_cidr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network address, host bits cleared */
	int prefix;          /* 0..32 or 0..128 */
} net_cidr;

/* "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). */
int net_parse_cidr(const char *s, net_cidr *out, char *err, size_t errlen);
const char *net_fmt_cidr(const net_cidr *c, char *buf, size_t n);
/* 1 when sa's address lies in c (families must match; callers pass a
 * canonical address). */
int net_cidr_match(const net_cidr *c, const struct sockaddr *sa);

/* Non-blocking, close-on-exec sockets bound to addr.  reuseport sets
 * SO_REUSEPORT so that each worker thread can own one socket of a port.
 * IPv6 sockets are IPV6_V6ONLY so that [::] and 0.0.0.0 can coexist. */
/* Datagrams from one source address (IPv4) or /64 (IPv6) all go to the
 * same socket of fd's SO_REUSEPORT group of nsock sockets.  0, or -1 with
 * errno when the kernel refuses the program. */
int net_udp_steer_by_source(int fd, int family, unsigned nsock);

int net_udp_bind(const net_addr *addr, int reuseport, char *err, size_t errlen);
int net_tcp_listen(const net_addr *addr, int reuseport, int backlog,
		   char *err, size_t errlen);
/* Ask for socket buffers of `bytes` each way: beyond the system's cap
 * (net.core.rmem_max) when the process may (CAP_NET_ADMIN), else as much
 * as the cap allows.  A burst that outruns the reading thread then waits
 * in the kernel instead of being dropped. */
void net_set_buffers(int fd, int bytes);

/* The address a socket is bound to (after binding port 0). */
int net_local_addr(int fd, net_addr *out);

#endif
