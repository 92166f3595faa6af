/*
 * relay — relayed transport addresses: the process-wide port pool, port
 * reservations (EVEN-PORT with R, RESERVATION-TOKEN) and the address
 * mappings of `external-ip`.
 *
 * Ports are shared by every worker, so the pool takes a mutex.  It is used
 * when an allocation starts or ends, and per datagram only for a Send
 * indication to a relay of another worker (relay_pool_holds).
 */
#ifndef FERRY_RELAY_H
#define FERRY_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include "core/net.h"

struct ferry_conf;
struct relay_pool;

#define RELAY_TOKEN_LEN 8
#define RELAY_RESERVE_SECONDS 30

/* One pool per process over conf's relay-ip and relay-ports. */
struct relay_pool *relay_pool_new(const struct ferry_conf *conf);
void relay_pool_free(struct relay_pool *p);

/* The relay address of `family` that allocations use, or NULL when no
 * relay-ip has that family. */
const net_addr *relay_pool_ip(struct relay_pool *p, int family);

enum relay_flags {
	RELAY_EVEN = 1,             /* the port must be even */
	RELAY_RESERVE_NEXT = 2,     /* also hold port+1 (needs RELAY_EVEN) */
};

/*
 * Bind a UDP socket on relay address ip, on a port from the range.  Ports
 * are tried from a random point, skipping those we hold and those another
 * process holds.  With RELAY_RESERVE_NEXT the next port is bound too and
 * kept under a fresh token written to token_out for RELAY_RESERVE_SECONDS.
 * Returns the non-blocking socket, or -1 when no port is free (508).
 */
int relay_open(struct relay_pool *p, const net_addr *ip, int flags,
	       net_addr *bound, uint8_t token_out[RELAY_TOKEN_LEN]);
/* The socket held under token (removing the reservation), or -1 when the
 * token is unknown or expired. */
int relay_take_reserved(struct relay_pool *p, const uint8_t token[RELAY_TOKEN_LEN],
			net_addr *bound);
/* Close fd and give its port back. */
void relay_close(struct relay_pool *p, int fd, const net_addr *bound);
/* Drop expired reservations (every worker calls it once a second). */
void relay_expire_reservations(struct relay_pool *p);
size_t relay_ports_in_use(struct relay_pool *p);
/* 1 when the pool holds addr (a private relay address and port): a live
 * relay or a reservation of ours, not merely a port in the range. */
int relay_pool_holds(struct relay_pool *p, const net_addr *addr);

/* external-ip: the address clients see for a relay address (public), and
 * back (a public relay address to the private one it stands for). */
void relay_to_public(const struct ferry_conf *conf, const net_addr *priv, net_addr *out);
int relay_from_public(const struct ferry_conf *conf, const net_addr *pub, net_addr *out);

/* 1 when addr is one of our relayed transport addresses' IPs (private or
 * public form) with a port inside relay-ports. */
int relay_is_own(const struct ferry_conf *conf, const struct sockaddr *addr);

#endif
