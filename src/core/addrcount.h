/*
 * addrcount — counts of things held per client IP address, shared by all
 * threads (TCP connections, allocations).  take() refuses past a maximum;
 * release() gives one back.  A mutex guards the table; it is touched when
 * a connection or allocation starts or ends, never per packet.
 */
#ifndef FERRY_ADDRCOUNT_H
#define FERRY_ADDRCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

struct addr_counts;

struct addr_counts *addr_counts_new(void);
void addr_counts_free(struct addr_counts *ac);
/* 0 and counted when addr holds fewer than per_addr (0 = no limit) and
 * all addresses together fewer than total (0 = no limit); else -1.  The
 * address is canonicalised (IPv4-mapped IPv6 counts as IPv4). */
int addr_counts_take(struct addr_counts *ac, const struct sockaddr *addr,
		     long per_addr, long total);
void addr_counts_release(struct addr_counts *ac, const struct sockaddr *addr);

#endif
