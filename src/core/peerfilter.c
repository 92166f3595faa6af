/* peerfilter — see peerfilter.h. */
#include "core/peerfilter.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T "True"
#define F "False"
#define NA "N/A"

/*
 * The built-in table.  Names, references and the Globally Reachable
 * column are those of the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (https://www.iana.org/assignments/iana-ipv4-special-registry,
 * .../iana-ipv6-special-registry) as they stand after the 2024 and 2025
 * additions; three rows come from elsewhere and say so.
 *
 * reachable is 1 only for "True".  "N/A" rows are not reachable unless
 * they embed IPv4 (the deprecated 6to4 relay anycast block and ORCHID
 * embed nothing); rows with an embed kind are judged by the IPv4
 * addresses inside, whatever their column says.
 *
 *  cidr                 name                                      reference                          global reach embed                  loopback
 */
static const struct pf_row table[] = {
	/* ---- IPv4 Special-Purpose Address Registry */
	{ "0.0.0.0/8",          "\"This network\"",                       "RFC 791, section 3.2",            F,  0, PF_EMBED_NONE,        1 },
	{ "0.0.0.0/32",         "\"This host on this network\"",          "RFC 1122, section 3.2.1.3",       F,  0, PF_EMBED_NONE,        1 },
	{ "10.0.0.0/8",         "Private-Use",                            "RFC 1918",                        F,  0, PF_EMBED_NONE,        0 },
	{ "100.64.0.0/10",      "Shared Address Space",                   "RFC 6598",                        F,  0, PF_EMBED_NONE,        0 },
	{ "127.0.0.0/8",        "Loopback",                               "RFC 1122, section 3.2.1.3",       F,  0, PF_EMBED_NONE,        1 },
	{ "169.254.0.0/16",     "Link Local",                             "RFC 3927",                        F,  0, PF_EMBED_NONE,        0 },
	{ "172.16.0.0/12",      "Private-Use",                            "RFC 1918",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.0.0/24",       "IETF Protocol Assignments",              "RFC 6890, section 2.1",           F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.0.0/29",       "IPv4 Service Continuity Prefix",         "RFC 7335",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.0.8/32",       "IPv4 dummy address",                     "RFC 7600",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.0.9/32",       "Port Control Protocol Anycast",          "RFC 7723",                        T,  1, PF_EMBED_NONE,        0 },
	{ "192.0.0.10/32",      "Traversal Using Relays around NAT Anycast", "RFC 8155",                     T,  1, PF_EMBED_NONE,        0 },
	{ "192.0.0.170/32",     "NAT64/DNS64 Discovery",                  "RFC 8880, RFC 7050 section 2.2",  F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.0.171/32",     "NAT64/DNS64 Discovery",                  "RFC 8880, RFC 7050 section 2.2",  F,  0, PF_EMBED_NONE,        0 },
	{ "192.0.2.0/24",       "Documentation (TEST-NET-1)",             "RFC 5737",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.31.196.0/24",    "AS112-v4",                               "RFC 7535",                        T,  1, PF_EMBED_NONE,        0 },
	{ "192.52.193.0/24",    "AMT",                                    "RFC 7450",                        T,  1, PF_EMBED_NONE,        0 },
	{ "192.88.99.0/24",     "Deprecated (6to4 Relay Anycast)",        "RFC 7526",                        NA, 0, PF_EMBED_NONE,        0 },
	{ "192.88.99.2/32",     "6a44-relay anycast address",             "RFC 6751",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.168.0.0/16",     "Private-Use",                            "RFC 1918",                        F,  0, PF_EMBED_NONE,        0 },
	{ "192.175.48.0/24",    "Direct Delegation AS112 Service",        "RFC 7534",                        T,  1, PF_EMBED_NONE,        0 },
	{ "198.18.0.0/15",      "Benchmarking",                           "RFC 2544",                        F,  0, PF_EMBED_NONE,        0 },
	{ "198.51.100.0/24",    "Documentation (TEST-NET-2)",             "RFC 5737",                        F,  0, PF_EMBED_NONE,        0 },
	{ "203.0.113.0/24",     "Documentation (TEST-NET-3)",             "RFC 5737",                        F,  0, PF_EMBED_NONE,        0 },
	/* Not a special-purpose block: from the IPv4 Multicast Address Space
	 * Registry.  A relay never sends to a group. */
	{ "224.0.0.0/4",        "Multicast (IPv4 Multicast Address Space Registry)", "RFC 5771",         "-", 0, PF_EMBED_NONE,       0 },
	{ "240.0.0.0/4",        "Reserved",                               "RFC 1112, section 4",             F,  0, PF_EMBED_NONE,        0 },
	{ "255.255.255.255/32", "Limited Broadcast",                      "RFC 8190, RFC 919 section 7",     F,  0, PF_EMBED_NONE,        0 },

	/* ---- IPv6 Special-Purpose Address Registry */
	{ "::/96",              "IPv4-compatible Address (deprecated; not in the registry)", "RFC 4291, section 2.5.5.1", "-", 0, PF_EMBED_COMPAT, 0 },
	{ "::/128",             "Unspecified Address",                    "RFC 4291",                        F,  0, PF_EMBED_NONE,        1 },
	{ "::1/128",            "Loopback Address",                       "RFC 4291",                        F,  0, PF_EMBED_NONE,        1 },
	{ "::ffff:0:0/96",      "IPv4-mapped Address",                    "RFC 4291",                        F,  0, PF_EMBED_MAPPED,      0 },
	{ "64:ff9b::/96",       "IPv4-IPv6 Translat.",                    "RFC 6052",                        T,  0, PF_EMBED_NAT64,       0 },
	{ "64:ff9b:1::/48",     "IPv4-IPv6 Translat.",                    "RFC 8215",                        F,  0, PF_EMBED_NAT64_LOCAL, 0 },
	{ "100::/64",           "Discard-Only Address Block",             "RFC 6666",                        F,  0, PF_EMBED_NONE,        0 },
	{ "100:0:0:1::/64",     "Dummy IPv6 Prefix",                      "RFC 9780",                        F,  0, PF_EMBED_NONE,        0 },
	{ "2001::/23",          "IETF Protocol Assignments",              "RFC 2928",                        F,  0, PF_EMBED_NONE,        0 },
	{ "2001::/32",          "TEREDO",                                 "RFC 4380, RFC 8190",              NA, 0, PF_EMBED_TEREDO,      0 },
	{ "2001:1::1/128",      "Port Control Protocol Anycast",          "RFC 7723",                        T,  1, PF_EMBED_NONE,        0 },
	{ "2001:1::2/128",      "Traversal Using Relays around NAT Anycast", "RFC 8155",                     T,  1, PF_EMBED_NONE,        0 },
	{ "2001:1::3/128",      "DNS-SD Service Registration Protocol Anycast", "RFC 9665",                  T,  1, PF_EMBED_NONE,        0 },
	{ "2001:2::/48",        "Benchmarking",                           "RFC 5180, RFC Errata 1752",       F,  0, PF_EMBED_NONE,        0 },
	{ "2001:3::/32",        "AMT",                                    "RFC 7450",                        T,  1, PF_EMBED_NONE,        0 },
	{ "2001:4:112::/48",    "AS112-v6",                               "RFC 7535",                        T,  1, PF_EMBED_NONE,        0 },
	{ "2001:10::/28",       "Deprecated (previously ORCHID)",         "RFC 4843",                        NA, 0, PF_EMBED_NONE,        0 },
	{ "2001:20::/28",       "ORCHIDv2",                               "RFC 7343",                        T,  1, PF_EMBED_NONE,        0 },
	{ "2001:30::/28",       "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374",            T,  1, PF_EMBED_NONE,        0 },
	{ "2001:db8::/32",      "Documentation",                          "RFC 3849",                        F,  0, PF_EMBED_NONE,        0 },
	{ "2002::/16",          "6to4",                                   "RFC 3056",                        NA, 0, PF_EMBED_6TO4,        0 },
	{ "2620:4f:8000::/48",  "Direct Delegation AS112 Service",        "RFC 7534",                        T,  1, PF_EMBED_NONE,        0 },
	{ "3fff::/20",          "Documentation",                          "RFC 9637",                        F,  0, PF_EMBED_NONE,        0 },
	{ "5f00::/16",          "Segment Routing (SRv6) SIDs",            "RFC 9602",                        F,  0, PF_EMBED_NONE,        0 },
	{ "fc00::/7",           "Unique-Local",                           "RFC 4193, RFC 8190",              F,  0, PF_EMBED_NONE,        0 },
	{ "fe80::/10",          "Link-Local Unicast",                     "RFC 4291",                        F,  0, PF_EMBED_NONE,        0 },
	/* Not a special-purpose block: from the IPv6 Multicast Address Space
	 * Registry. */
	{ "ff00::/8",           "Multicast (IPv6 Multicast Address Space Registry)", "RFC 4291, section 2.7", "-", 0, PF_EMBED_NONE,     0 },
};

#undef T
#undef F
#undef NA

#define N_ROWS (sizeof(table) / sizeof(table[0]))

/* The table compiled to masks, split by family. */
struct row4 {
	uint32_t net, mask;             /* host order */
	int prefix;
	const struct pf_row *row;
};
struct row6 {
	uint64_t hi, lo, mhi, mlo;      /* host order, most significant first */
	int prefix;
	const struct pf_row *row;
};

static struct row4 rows4[N_ROWS];
static struct row6 rows6[N_ROWS];
static size_t n4, n6;
static net_cidr cidrs[N_ROWS];          /* table[i] parsed */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

static uint64_t mask64(int bits)
{
	return bits <= 0 ? 0 : bits >= 64 ? ~(uint64_t)0 : ~(uint64_t)0 << (64 - bits);
}

static void compile(void)
{
	char err[128];
	size_t i;

	for (i = 0; i < N_ROWS; i++) {
		net_cidr *c = &cidrs[i];

		if (net_parse_cidr(table[i].cidr, c, err, sizeof(err)) < 0)
			abort();        /* the table above is wrong */
		if (c->family == AF_INET) {
			struct row4 *r = &rows4[n4++];
			r->mask = c->prefix ? ~(uint32_t)0 << (32 - c->prefix) : 0;
			r->net = get32(c->addr) & r->mask;
			r->prefix = c->prefix;
			r->row = &table[i];
		} else {
			struct row6 *r = &rows6[n6++];
			r->mhi = mask64(c->prefix);
			r->mlo = mask64(c->prefix - 64);
			r->hi = get64(c->addr) & r->mhi;
			r->lo = get64(c->addr + 8) & r->mlo;
			r->prefix = c->prefix;
			r->row = &table[i];
		}
	}
}

static void ready(void)
{
	pthread_once(&once, compile);
}

const struct pf_row *pf_table(size_t *n)
{
	*n = N_ROWS;
	return table;
}

const char *pf_embed_name(enum pf_embed e)
{
	switch (e) {
	case PF_EMBED_NONE: return "none";
	case PF_EMBED_MAPPED: return "IPv4-mapped";
	case PF_EMBED_COMPAT: return "IPv4-compatible";
	case PF_EMBED_NAT64: return "NAT64 well-known prefix";
	case PF_EMBED_NAT64_LOCAL: return "NAT64 local-use prefix";
	case PF_EMBED_6TO4: return "6to4";
	case PF_EMBED_TEREDO: return "Teredo";
	}
	return "?";
}

/* ------------------------------------------------------------ lookups */

static const struct pf_row *lookup4(uint32_t a, int allow_loopback)
{
	const struct pf_row *best = NULL;
	int bestp = -1;
	size_t i;

	for (i = 0; i < n4; i++) {
		const struct row4 *r = &rows4[i];
		if ((a & r->mask) == r->net && r->prefix > bestp &&
		    !(allow_loopback && r->row->loopback)) {
			best = r->row;
			bestp = r->prefix;
		}
	}
	return best;
}

static const struct pf_row *lookup6(const uint8_t *a, int allow_loopback)
{
	const struct pf_row *best = NULL;
	uint64_t hi = get64(a), lo = get64(a + 8);
	int bestp = -1;
	size_t i;

	for (i = 0; i < n6; i++) {
		const struct row6 *r = &rows6[i];
		if ((hi & r->mhi) == r->hi && (lo & r->mlo) == r->lo &&
		    r->prefix > bestp && !(allow_loopback && r->row->loopback)) {
			best = r->row;
			bestp = r->prefix;
		}
	}
	return best;
}

/* The IPv4 addresses (4 bytes each, network order) that a embeds as a
 * block of kind e says. */
static size_t embedded(enum pf_embed e, const uint8_t *a, uint8_t out[][4])
{
	static const uint8_t local[4][4] = {
		{ 6, 7, 9, 10 },        /* /48: "u" is byte 8 */
		{ 7, 9, 10, 11 },       /* /56 */
		{ 9, 10, 11, 12 },      /* /64 */
		{ 12, 13, 14, 15 },     /* /96 */
	};
	size_t i, j;

	switch (e) {
	case PF_EMBED_NONE:
		return 0;
	case PF_EMBED_MAPPED:
	case PF_EMBED_COMPAT:
	case PF_EMBED_NAT64:
		memcpy(out[0], a + 12, 4);
		return 1;
	case PF_EMBED_6TO4:
		memcpy(out[0], a + 2, 4);
		return 1;
	case PF_EMBED_TEREDO:
		memcpy(out[0], a + 4, 4);
		for (j = 0; j < 4; j++)
			out[1][j] = (uint8_t)~a[12 + j];
		return 2;
	case PF_EMBED_NAT64_LOCAL:
		for (i = 0; i < 4; i++)
			for (j = 0; j < 4; j++)
				out[i][j] = a[local[i][j]];
		return 4;
	}
	return 0;
}

size_t pf_embedded_v4(const struct in6_addr *a, struct in_addr out[PF_MAX_EMBEDDED],
		      enum pf_embed *kind)
{
	uint8_t v4[PF_MAX_EMBEDDED][4];
	const struct pf_row *r;
	size_t i, n;

	ready();
	r = lookup6(a->s6_addr, 0);
	if (kind)
		*kind = r ? r->embed : PF_EMBED_NONE;
	n = r ? embedded(r->embed, a->s6_addr, v4) : 0;
	for (i = 0; i < n; i++)
		memcpy(&out[i].s_addr, v4[i], 4);
	return n;
}

const struct pf_row *pf_row_for(const struct sockaddr *sa, int allow_loopback)
{
	ready();
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return lookup4(ntohl(in->sin_addr.s_addr), allow_loopback);
	}
	if (sa->sa_family == AF_INET6)
		return lookup6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr,
			       allow_loopback);
	return NULL;
}

int pf_is_loopback_block(const net_cidr *c)
{
	size_t i;

	ready();
	for (i = 0; i < N_ROWS; i++)
		if (table[i].loopback && cidrs[i].family == c->family &&
		    cidrs[i].prefix == c->prefix &&
		    memcmp(cidrs[i].addr, c->addr, 16) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ verdicts */

/* 1 when c (a canonical block, host bits clear) holds address a of
 * family fam. */
static int has(const net_cidr *c, int fam, const uint8_t *a)
{
	int full, rem;

	if (c->family != fam)
		return 0;
	full = c->prefix / 8;
	rem = c->prefix % 8;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	return !rem || (a[full] & (uint8_t)(0xff << (8 - rem))) == c->addr[full];
}

static int any(const net_cidr *v, size_t n, int fam, const uint8_t *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (has(&v[i], fam, a))
			return 1;
	return 0;
}

static const struct pf_policy no_policy;

static int allowed4(const struct pf_policy *p, const uint8_t *a)
{
	const struct pf_row *r;

	if (any(p->allowed, p->n_allowed, AF_INET, a))
		return 1;
	if (any(p->denied, p->n_denied, AF_INET, a))
		return 0;
	r = lookup4(get32(a), p->allow_loopback);
	return !r || r->reachable;
}

static int allowed6(const struct pf_policy *p, const uint8_t *a)
{
	uint8_t v4[PF_MAX_EMBEDDED][4];
	const struct pf_row *r;
	int excepted = any(p->allowed, p->n_allowed, AF_INET6, a);
	size_t i, n;

	if (!excepted && any(p->denied, p->n_denied, AF_INET6, a))
		return 0;
	r = lookup6(a, p->allow_loopback);
	if (!r || r->embed == PF_EMBED_NONE)
		return excepted || !r || r->reachable;
	n = embedded(r->embed, a, v4);
	for (i = 0; i < n; i++)
		if (!allowed4(p, v4[i]))
			return 0;
	return 1;
}

int pf_allowed(const struct pf_policy *p, const struct sockaddr *peer)
{
	ready();
	if (!p)
		p = &no_policy;
	if (peer->sa_family == AF_INET)
		return allowed4(p, (const uint8_t *)
				&((const struct sockaddr_in *)peer)->sin_addr);
	if (peer->sa_family == AF_INET6)
		return allowed6(p, ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr);
	return 0;
}
