/*
 * peerfilter — which peers a TURN relay may reach.
 *
 * The built-in part is one table (pf_table()) transcribed from the IANA
 * IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its
 * updates), plus the two multicast blocks from their own registries and
 * the deprecated IPv4-compatible block of RFC 4291.  A row that is not
 * globally reachable denies; a row the registry marks "Globally Reachable:
 * True" inside such a block (192.0.0.9/32 inside 192.0.0.0/24, say) keeps
 * its addresses reachable: the most specific row containing an address
 * decides.  Addresses no row contains are reachable.
 *
 * Rows for IPv6 forms that carry IPv4 addresses (IPv4-mapped,
 * IPv4-compatible, NAT64 well-known and local-use, 6to4, Teredo) have an
 * embed kind instead of a verdict of their own: such an address is allowed
 * only when every IPv4 address it embeds is allowed.
 *
 * The configuration adds to the table (struct pf_policy): `denied-peer`
 * lines deny more, `allowed-peer` lines are exceptions, and
 * `allow-loopback-peers` drops the rows marked loopback.
 *
 * Everything here is safe to call from any thread; the table is compiled
 * once, on first use.  pf_allowed() allocates nothing and parses no text.
 */
#ifndef FERRY_PEERFILTER_H
#define FERRY_PEERFILTER_H

#include "core/net.h"

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* How an IPv6 block carries IPv4 addresses. */
enum pf_embed {
	PF_EMBED_NONE = 0,
	PF_EMBED_MAPPED,        /* ::ffff:0:0/96: bytes 12-15 (RFC 4291) */
	PF_EMBED_COMPAT,        /* ::/96: bytes 12-15 (deprecated, RFC 4291) */
	PF_EMBED_NAT64,         /* 64:ff9b::/96: bytes 12-15 (RFC 6052) */
	/* 64:ff9b:1::/48 (RFC 8215): the operator's prefix length is unknown,
	 * so the RFC 6052 position of each of /48, /56, /64 and /96 counts:
	 * bytes 6-7 and 9-10, 7 and 9-11, 9-12, 12-15 (byte 8 is "u"). */
	PF_EMBED_NAT64_LOCAL,
	PF_EMBED_6TO4,          /* 2002::/16: bytes 2-5 (RFC 3056) */
	/* 2001::/32 (RFC 4380): the server in bytes 4-7, the client in bytes
	 * 12-15, each bit inverted. */
	PF_EMBED_TEREDO,
};

/* The most IPv4 addresses one IPv6 address embeds (NAT64 local-use). */
#define PF_MAX_EMBEDDED 4

struct pf_row {
	const char *cidr;       /* network/prefix as the registry writes it */
	const char *name;       /* the registry's name */
	const char *ref;        /* the registry's references */
	/* The registry's "Globally Reachable": "True", "False", "N/A", or
	 * "-" for rows from another registry. */
	const char *global;
	int reachable;          /* 1: the row's addresses may be relayed to */
	enum pf_embed embed;    /* not NONE: judged by the IPv4 inside */
	int loopback;           /* dropped by allow-loopback-peers */
};

/* The built-in table, IPv4 rows first, each family in address order. */
const struct pf_row *pf_table(size_t *n);

/* "IPv4-mapped", "Teredo", ...; "none" for PF_EMBED_NONE. */
const char *pf_embed_name(enum pf_embed e);

/* The IPv4 addresses a embeds (network order), by the most specific row
 * of the whole table that contains it; 0 when that row embeds nothing (::
 * and ::1 have rows of their own).  kind, when not NULL, gets the form. */
size_t pf_embedded_v4(const struct in6_addr *a, struct in_addr out[PF_MAX_EMBEDDED],
		      enum pf_embed *kind);

/* The most specific row containing sa's address (AF_INET or AF_INET6),
 * leaving out the loopback rows when allow_loopback; NULL when none. */
const struct pf_row *pf_row_for(const struct sockaddr *sa, int allow_loopback);

/* 1 when c is exactly the block of a loopback row (what
 * allow-loopback-peers also takes out of the file's denied-peer lines). */
int pf_is_loopback_block(const net_cidr *c);

/* What the configuration adds to the table. */
struct pf_policy {
	const net_cidr *denied;         /* the file's denied-peer lines */
	size_t n_denied;
	const net_cidr *allowed;        /* allowed-peer lines */
	size_t n_allowed;
	int allow_loopback;             /* allow-loopback-peers */
};

/*
 * 1 when a relay may send to peer, 0 when not.  p may be NULL (the table
 * alone).
 *
 * An address that embeds no IPv4: an allowed-peer line containing it
 * allows it; else a denied-peer line containing it denies it; else the
 * most specific row decides (none: allowed).
 *
 * An address of an embedding row: a denied-peer line containing the IPv6
 * address denies it unless an allowed-peer line contains the IPv6 address
 * too; and every embedded IPv4 address must be allowed by the rule above
 * (so an allowed-peer line for the IPv4 address counts for it, and one for
 * the IPv6 spelling alone does not open what the IPv4 address reaches).
 *
 * Other families are denied.
 */
int pf_allowed(const struct pf_policy *p, const struct sockaddr *peer);

#endif
