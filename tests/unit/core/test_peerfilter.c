/*
 * Unit tests for peerfilter: the built-in table (every row, its first and
 * last address, and the IPv6 forms that embed each IPv4 row's addresses),
 * the addresses the issue named, allowed-peer exceptions, denied-peer
 * additions and allow-loopback-peers.
 *
 * Expected verdicts come from a reference written here independently of
 * peerfilter.c: the table's CIDR strings parsed with net_parse_cidr and
 * matched with net_cidr_match, the most specific row deciding, and the
 * IPv4 positions of RFC 6052 / 3056 / 4380 taken as bit ranges.  The
 * addresses the issue names are checked against hard-written verdicts as
 * well, so that a reference sharing a mistake with the module still fails.
 */
#include "core/net.h"
#include "core/peerfilter.h"
#include "../tap.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* ------------------------------------------------------------ helpers */

static struct sockaddr_storage sa_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
	} else {
		fprintf(stderr, "bad test address %s\n", ip);
		abort();
	}
	return ss;
}

static struct sockaddr_storage sa_bytes(int fam, const uint8_t *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)fam;
	if (fam == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, a, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, a, 16);
	return ss;
}

static const char *fmt(const struct sockaddr_storage *ss, char *buf, size_t n)
{
	return net_fmt_ip((const struct sockaddr *)ss, buf, n);
}

static int judge(const struct pf_policy *p, const char *ip)
{
	struct sockaddr_storage ss = sa_of(ip);
	return pf_allowed(p, (struct sockaddr *)&ss);
}

static net_cidr cidr(const char *s)
{
	char err[128];
	net_cidr c;

	if (net_parse_cidr(s, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "bad test cidr %s: %s\n", s, err);
		abort();
	}
	return c;
}

/* ------------------------------------------------------------ reference */

static const struct pf_row *T;
static size_t NT;
static net_cidr TC[128];

static const struct pf_row *ref_row(const struct sockaddr *sa, int allow_loopback)
{
	const struct pf_row *best = NULL;
	int bestp = -1;
	size_t i;

	for (i = 0; i < NT; i++)
		if (net_cidr_match(&TC[i], sa) && TC[i].prefix > bestp &&
		    !(allow_loopback && T[i].loopback)) {
			best = &T[i];
			bestp = TC[i].prefix;
		}
	return best;
}

/* Bit i of a (0 = most significant of byte 0). */
static int bit(const uint8_t *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* 32 bits of a from bit `from`, skipping bits 64..71 (RFC 6052's "u"
 * octet) when skip_u. */
static uint32_t take32(const uint8_t *a, int from, int skip_u)
{
	uint32_t v = 0;
	int i, n;

	for (i = from, n = 0; n < 32; i++) {
		if (skip_u && i >= 64 && i < 72)
			continue;
		v = v << 1 | (uint32_t)bit(a, i);
		n++;
	}
	return v;
}

/* The IPv4 addresses (host order) an address of kind e carries. */
static size_t ref_embedded(enum pf_embed e, const uint8_t *a, uint32_t out[4])
{
	static const int local_prefixes[4] = { 48, 56, 64, 96 };
	size_t i;

	switch (e) {
	case PF_EMBED_NONE:
		return 0;
	case PF_EMBED_MAPPED:
	case PF_EMBED_COMPAT:
	case PF_EMBED_NAT64:
		out[0] = take32(a, 96, 0);
		return 1;
	case PF_EMBED_6TO4:
		out[0] = take32(a, 16, 0);
		return 1;
	case PF_EMBED_TEREDO:
		out[0] = take32(a, 32, 0);
		out[1] = ~take32(a, 96, 0);
		return 2;
	case PF_EMBED_NAT64_LOCAL:
		for (i = 0; i < 4; i++)
			out[i] = take32(a, local_prefixes[i], 1);
		return 4;
	}
	return 0;
}

static int ref_in(const net_cidr *v, size_t n, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (net_cidr_match(&v[i], sa))
			return 1;
	return 0;
}

static int ref_allowed(const struct pf_policy *p, const struct sockaddr *sa)
{
	const struct pf_row *r;
	int excepted;

	excepted = ref_in(p->allowed, p->n_allowed, sa);
	if (sa->sa_family == AF_INET) {
		if (excepted)
			return 1;
		if (ref_in(p->denied, p->n_denied, sa))
			return 0;
		r = ref_row(sa, p->allow_loopback);
		return !r || r->reachable;
	}
	if (!excepted && ref_in(p->denied, p->n_denied, sa))
		return 0;
	r = ref_row(sa, p->allow_loopback);
	if (!r || r->embed == PF_EMBED_NONE)
		return excepted || !r || r->reachable;
	{
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		uint32_t v4[4];
		size_t i, n = ref_embedded(r->embed, a, v4);

		for (i = 0; i < n; i++) {
			struct sockaddr_in in;
			memset(&in, 0, sizeof(in));
			in.sin_family = AF_INET;
			in.sin_addr.s_addr = htonl(v4[i]);
			if (!ref_allowed(p, (struct sockaddr *)&in))
				return 0;
		}
	}
	return 1;
}

/* ------------------------------------------------------------ the table */

static void test_table(void)
{
	static const struct { const char *cidr; enum pf_embed e; } embeds[] = {
		{ "::/96", PF_EMBED_COMPAT }, { "::ffff:0:0/96", PF_EMBED_MAPPED },
		{ "64:ff9b::/96", PF_EMBED_NAT64 }, { "64:ff9b:1::/48", PF_EMBED_NAT64_LOCAL },
		{ "2001::/32", PF_EMBED_TEREDO }, { "2002::/16", PF_EMBED_6TO4 },
	};
	static const char *const loopback[] = {
		"0.0.0.0/8", "0.0.0.0/32", "127.0.0.0/8", "::/128", "::1/128",
	};
	/* The rows the registries mark "Globally Reachable: True". */
	static const char *const reachable[] = {
		"192.0.0.9/32", "192.0.0.10/32", "192.31.196.0/24", "192.52.193.0/24",
		"192.175.48.0/24", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128",
		"2001:3::/32", "2001:4:112::/48", "2001:20::/28", "2001:30::/28",
		"2620:4f:8000::/48",
	};
	/* Not globally reachable, one of each kind the issue worried about. */
	static const char *const must_deny[] = {
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
		"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
		"192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"255.255.255.255/32", "::/128", "::1/128", "100::/64", "2001::/23",
		"2001:2::/48", "2001:10::/28", "2001:db8::/32", "3fff::/20",
		"5f00::/16", "fc00::/7", "fe80::/10", "ff00::/8",
	};
	char buf[96], name[256];
	size_t i, j;
	int fine = 1, seen_v6 = 0, ordered = 1;

	T = pf_table(&NT);
	ok(NT >= 50 && NT <= sizeof(TC) / sizeof(TC[0]), "table: about fifty rows");
	diag("the table has %zu rows", NT);
	for (i = 0; i < NT; i++) {
		char err[128], *slash;
		uint8_t raw[16] = { 0 };

		/* a block as the registry writes it: no host bits set */
		snprintf(buf, sizeof(buf), "%s", T[i].cidr);
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (!slash || net_parse_cidr(T[i].cidr, &TC[i], err, sizeof(err)) < 0 ||
		    inet_pton(TC[i].family, buf, raw) != 1 ||
		    memcmp(raw, TC[i].addr, TC[i].family == AF_INET ? 4 : 16) != 0) {
			diag("row %zu: %s is not a network/prefix block", i, T[i].cidr);
			fine = 0;
		}
		if (!T[i].name || !*T[i].name || !T[i].ref || !*T[i].ref ||
		    strncmp(T[i].ref, "RFC ", 4) != 0 || !T[i].global) {
			diag("row %s: name, reference or registry column missing", T[i].cidr);
			fine = 0;
		}
		if (TC[i].family == AF_INET6)
			seen_v6 = 1;
		else if (seen_v6)
			ordered = 0;
	}
	ok(fine, "table: every row a network/prefix with a name and an RFC");
	ok(ordered, "table: IPv4 rows first");

	fine = 1;
	for (i = 0; i < NT; i++)
		for (j = i + 1; j < NT; j++)
			if (strcmp(T[i].cidr, T[j].cidr) == 0) {
				diag("%s twice", T[i].cidr);
				fine = 0;
			}
	ok(fine, "table: no block twice");

	/* The Globally Reachable column and the verdict agree: only "True"
	 * rows are reachable, N/A rows that embed nothing are not. */
	fine = 1;
	for (i = 0; i < NT; i++) {
		int want = strcmp(T[i].global, "True") == 0 && T[i].embed == PF_EMBED_NONE;
		if (T[i].reachable != want) {
			diag("row %s: reachable %d, column %s", T[i].cidr, T[i].reachable,
			     T[i].global);
			fine = 0;
		}
	}
	ok(fine, "table: reachable exactly where the registry says True");

	for (i = 0; i < sizeof(embeds) / sizeof(embeds[0]); i++) {
		int found = 0;
		for (j = 0; j < NT; j++)
			if (strcmp(T[j].cidr, embeds[i].cidr) == 0 && T[j].embed == embeds[i].e)
				found = 1;
		snprintf(name, sizeof(name), "table: %s embeds IPv4 (%s)", embeds[i].cidr,
			 pf_embed_name(embeds[i].e));
		ok(found, name);
	}
	for (i = 0, j = 0; i < NT; i++)
		j += T[i].embed != PF_EMBED_NONE;
	is_int(j, sizeof(embeds) / sizeof(embeds[0]), "table: no other row embeds IPv4");

	for (i = 0, fine = 1; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		net_cidr c = cidr(loopback[i]);
		for (j = 0; j < NT && strcmp(T[j].cidr, loopback[i]); j++)
			;
		if (j == NT || !T[j].loopback || !pf_is_loopback_block(&c)) {
			diag("%s is not a loopback row", loopback[i]);
			fine = 0;
		}
	}
	for (i = 0, j = 0; i < NT; i++)
		j += T[i].loopback;
	ok(fine && j == 5, "table: exactly the five loopback and this-host rows");
	{
		net_cidr c = cidr("127.0.0.0/16"), d = cidr("10.0.0.0/8");
		ok(!pf_is_loopback_block(&c) && !pf_is_loopback_block(&d),
		   "pf_is_loopback_block: only exact blocks");
	}

	for (i = 0, fine = 1; i < sizeof(reachable) / sizeof(reachable[0]); i++) {
		for (j = 0; j < NT && strcmp(T[j].cidr, reachable[i]); j++)
			;
		if (j == NT || !T[j].reachable) {
			diag("%s missing or not reachable", reachable[i]);
			fine = 0;
		}
	}
	ok(fine, "table: the globally reachable rows inside denied blocks are there");
	for (i = 0, fine = 1; i < sizeof(must_deny) / sizeof(must_deny[0]); i++) {
		for (j = 0; j < NT && strcmp(T[j].cidr, must_deny[i]); j++)
			;
		if (j == NT || T[j].reachable || T[j].embed != PF_EMBED_NONE) {
			diag("%s missing or not denying", must_deny[i]);
			fine = 0;
		}
	}
	ok(fine, "table: the not globally reachable blocks deny");
	for (i = 0; i < NT; i++)
		if (strcmp(T[i].cidr, "224.0.0.0/4") == 0 || strcmp(T[i].cidr, "ff00::/8") == 0)
			ok(strstr(T[i].name, "Multicast Address Space Registry") != NULL,
			   "table: multicast rows name their own registry");
}

/* ------------------------------------------------------------ every row */

static void row_ends(size_t i, uint8_t first[16], uint8_t last[16])
{
	int bits = TC[i].family == AF_INET ? 32 : 128, b;

	memcpy(first, TC[i].addr, 16);
	memcpy(last, TC[i].addr, 16);
	for (b = TC[i].prefix; b < bits; b++)
		last[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

static void test_every_row(const struct pf_policy *p, const char *pname)
{
	char ip[64], name[512];
	size_t i;
	int e, own_bad = 0, for_bad = 0;

	for (i = 0; i < NT; i++) {
		uint8_t ends[2][16];

		row_ends(i, ends[0], ends[1]);
		for (e = 0; e < 2; e++) {
			struct sockaddr_storage ss = sa_bytes(TC[i].family, ends[e]);
			const struct sockaddr *sa = (const struct sockaddr *)&ss;
			const struct pf_row *own = ref_row(sa, p->allow_loopback);
			int want = ref_allowed(p, sa), got = pf_allowed(p, sa);

			snprintf(name, sizeof(name), "%s: row %s (%s), %s address %s %s",
				 pname, T[i].cidr, T[i].name, e ? "last" : "first",
				 fmt(&ss, ip, sizeof(ip)), want ? "allowed" : "denied");
			if (!ok(got == want, name))
				diag("got %s", got ? "allowed" : "denied");
			/* the row's own verdict, where it is the one that decides */
			if (own == &T[i] && T[i].embed == PF_EMBED_NONE && !p->n_allowed &&
			    !p->n_denied && got != T[i].reachable) {
				diag("%s is not judged as its row %s says", ip, T[i].cidr);
				own_bad++;
			}
			if (pf_row_for(sa, p->allow_loopback) != own) {
				diag("pf_row_for(%s) is not the most specific row", ip);
				for_bad++;
			}
		}
	}
	snprintf(name, sizeof(name), "%s: where a row is the most specific, its "
		 "reachable flag is the verdict", pname);
	ok(!own_bad, name);
	snprintf(name, sizeof(name), "%s: pf_row_for finds the most specific row", pname);
	ok(!for_bad, name);
}

/* Every IPv4 row's first and last address, in each IPv6 form that embeds
 * it, is judged like the IPv4 address itself. */
static void test_embedded_forms(const struct pf_policy *p, const char *pname)
{
	static const uint8_t nine[4] = { 9, 9, 9, 9 };
	static const int local_byte[4][4] = {
		{ 6, 7, 9, 10 }, { 7, 9, 10, 11 }, { 9, 10, 11, 12 }, { 12, 13, 14, 15 },
	};
	char ip[64], name[512];
	size_t i, k;
	int e, j;

	for (i = 0; i < NT; i++) {
		uint8_t ends[2][16];

		if (TC[i].family != AF_INET)
			continue;
		row_ends(i, ends[0], ends[1]);
		for (e = 0; e < 2; e++) {
			const uint8_t *v4 = ends[e];
			struct sockaddr_storage s4 = sa_bytes(AF_INET, v4);
			int want = pf_allowed(p, (struct sockaddr *)&s4), bad = 0;
			struct { const char *form; uint8_t a[16]; } f[7];
			size_t nf = 0;

			if (want != ref_allowed(p, (struct sockaddr *)&s4))
				bad++;
			memset(f, 0, sizeof(f));
			f[nf].form = "IPv4-mapped";
			f[nf].a[10] = f[nf].a[11] = 0xff;
			memcpy(f[nf++].a + 12, v4, 4);
			f[nf].form = "IPv4-compatible";
			memcpy(f[nf++].a + 12, v4, 4);
			f[nf].form = "NAT64 64:ff9b::/96";
			f[nf].a[1] = 0x64; f[nf].a[2] = 0xff; f[nf].a[3] = 0x9b;
			memcpy(f[nf++].a + 12, v4, 4);
			f[nf].form = "6to4";
			f[nf].a[0] = 0x20; f[nf].a[1] = 0x02;
			memcpy(f[nf].a + 2, v4, 4);
			f[nf].a[7] = 1; f[nf++].a[15] = 1;      /* subnet 1, host 1 */
			f[nf].form = "Teredo server";
			f[nf].a[0] = 0x20; f[nf].a[1] = 0x01;
			memcpy(f[nf].a + 4, v4, 4);
			for (j = 0; j < 4; j++)
				f[nf].a[12 + j] = (uint8_t)~nine[j];
			nf++;
			f[nf].form = "Teredo client";
			f[nf].a[0] = 0x20; f[nf].a[1] = 0x01;
			memcpy(f[nf].a + 4, nine, 4);
			for (j = 0; j < 4; j++)
				f[nf].a[12 + j] = (uint8_t)~v4[j];
			nf++;
			for (k = 0; k < nf; k++) {
				struct sockaddr_storage s6 = sa_bytes(AF_INET6, f[k].a);
				int got = pf_allowed(p, (struct sockaddr *)&s6);
				if (got != want) {
					diag("%s form %s: %s, %s itself %s", f[k].form,
					     fmt(&s6, ip, sizeof(ip)), got ? "allowed" : "denied",
					     T[i].cidr, want ? "allowed" : "denied");
					bad++;
				}
			}
			/* NAT64 local-use at each RFC 6052 position, the other
			 * bytes 9: a denied IPv4 address is denied at any
			 * position; an allowed one passes when what the other
			 * positions then read is allowed too. */
			for (j = 0; j < 4; j++) {
				uint8_t a[16] = { 0, 0x64, 0xff, 0x9b, 0, 1 };
				struct in_addr out[PF_MAX_EMBEDDED];
				enum pf_embed kind;
				struct sockaddr_storage s6;
				int got, w, b;

				for (b = 6; b < 16; b++)
					a[b] = b == 8 ? 0 : 9;
				for (b = 0; b < 4; b++)
					a[local_byte[j][b]] = v4[b];
				s6 = sa_bytes(AF_INET6, a);
				got = pf_allowed(p, (struct sockaddr *)&s6);
				w = want ? ref_allowed(p, (struct sockaddr *)&s6) : 0;
				if (got != w) {
					diag("NAT64 local-use /%d form %s: %s, want %s", 48 + 8 * j +
					     (j == 3 ? 24 : 0), fmt(&s6, ip, sizeof(ip)),
					     got ? "allowed" : "denied", w ? "allowed" : "denied");
					bad++;
				}
				if (pf_embedded_v4(&((struct sockaddr_in6 *)&s6)->sin6_addr, out,
						   &kind) != 4 || kind != PF_EMBED_NAT64_LOCAL ||
				    memcmp(&out[j].s_addr, v4, 4) != 0) {
					diag("pf_embedded_v4(%s) misses %s at position %d",
					     fmt(&s6, ip, sizeof(ip)), T[i].cidr, j);
					bad++;
				}
			}
			snprintf(name, sizeof(name), "%s: every embedded form of %s (%s, %s end) "
				 "judged like it: %s", pname, fmt(&s4, ip, sizeof(ip)), T[i].cidr,
				 e ? "last" : "first", want ? "allowed" : "denied");
			ok(!bad, name);
		}
	}
}

/* ------------------------------------------------------------ named cases */

static void test_named(void)
{
	static const char *const denied[] = {
		/* the issue */
		"2002:a00:1::1",                /* 6to4 of 10.0.0.1 */
		"2001:0:909:909:0:0:f5ff:fffe", /* Teredo, client 10.0.0.1 */
		"2001:0:a00:1::f6f6:f6f6",      /* Teredo, server 10.0.0.1 */
		"64:ff9b:1::a00:1",             /* NAT64 local-use /96 of 10.0.0.1 */
		"64:ff9b:1:a00:0:100::",        /* ... its /48 form */
		"64:ff9b:1:909:a:0:109:909",    /* ... its /64 form */
		"192.0.0.1", "198.18.0.1", "198.19.255.255", "240.0.0.1",
		/* the rest of the registries, and the old list */
		"192.0.0.0", "192.0.0.8", "192.0.0.170", "192.0.0.171", "192.0.0.255",
		"192.0.2.1", "198.51.100.1", "203.0.113.1", "192.88.99.1", "192.88.99.2",
		"0.0.0.0", "0.1.2.3", "127.0.0.1", "10.0.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.1.1", "100.64.0.1", "224.0.0.1",
		"239.255.255.255", "255.255.255.255", "::", "::1", "::2",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:198.18.0.1",
		"::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::c000:201",
		"100::1", "100:0:0:1::1", "2001::", "2001:1::4", "2001:2::1",
		"2001:10::1", "2001:1ff:ffff::1", "2001:db8::1", "3fff::1",
		"3fff:fff:ffff::1", "5f00::1", "fc00::1", "fdff::1", "fe80::1",
		"febf::1", "ff02::1", "ff0e::1",
	};
	static const char *const allowed[] = {
		"192.0.0.9", "192.0.0.10", "9.9.9.9", "8.8.8.8", "1.1.1.1",
		"192.31.196.1", "192.52.193.1", "192.175.48.1", "11.0.0.1",
		"172.32.0.0", "198.20.0.0", "223.255.255.255", "100.128.0.0",
		"::ffff:9.9.9.9", "::9.9.9.9", "2002:909:909::1", "64:ff9b::909:909",
		"64:ff9b::c000:9",                      /* NAT64 of 192.0.0.9 */
		"64:ff9b:1:909:9:909:909:909",          /* 9.9.9.9 at every position */
		"2001:0:909:909::f6f6:f6f6",            /* Teredo, both 9.9.9.9 */
		"2001:1::1", "2001:1::2", "2001:1::3", "2001:3::1", "2001:4:112::1",
		"2001:20::1", "2001:2f:ffff::1", "2001:30::1", "2001:200::1",
		"2620:4f:8000::1", "2606:4700:4700::1111", "2a00:1450::1",
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		snprintf(name, sizeof(name), "named: %s denied", denied[i]);
		is_int(judge(NULL, denied[i]), 0, name);
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		snprintf(name, sizeof(name), "named: %s allowed", allowed[i]);
		is_int(judge(NULL, allowed[i]), 1, name);
	}
	{
		struct sockaddr_un un;
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		is_int(pf_allowed(NULL, (struct sockaddr *)&un), 0, "named: other families denied");
	}
}

static void test_embedded_v4(void)
{
	struct in_addr out[PF_MAX_EMBEDDED];
	struct sockaddr_storage ss;
	enum pf_embed kind;
	char a[4][INET_ADDRSTRLEN];
	size_t n, i;

#define EMB(ip) (ss = sa_of(ip), \
	n = pf_embedded_v4(&((struct sockaddr_in6 *)&ss)->sin6_addr, out, &kind), \
	memset(a, 0, sizeof(a)), \
	(void)(n >= 1 && inet_ntop(AF_INET, &out[0], a[0], sizeof(a[0]))), \
	(void)(n >= 2 && inet_ntop(AF_INET, &out[1], a[1], sizeof(a[1]))), \
	(void)(n >= 3 && inet_ntop(AF_INET, &out[2], a[2], sizeof(a[2]))), \
	(void)(n >= 4 && inet_ntop(AF_INET, &out[3], a[3], sizeof(a[3]))))

	EMB("2002:a00:1::1");
	ok(n == 1 && kind == PF_EMBED_6TO4 && !strcmp(a[0], "10.0.0.1"), "embedded: 6to4");
	EMB("2001:0:909:909:0:0:f5ff:fffe");
	ok(n == 2 && kind == PF_EMBED_TEREDO && !strcmp(a[0], "9.9.9.9") &&
	   !strcmp(a[1], "10.0.0.1"), "embedded: Teredo server and de-obfuscated client");
	EMB("::ffff:198.18.0.1");
	ok(n == 1 && kind == PF_EMBED_MAPPED && !strcmp(a[0], "198.18.0.1"), "embedded: mapped");
	EMB("::10.0.0.1");
	ok(n == 1 && kind == PF_EMBED_COMPAT && !strcmp(a[0], "10.0.0.1"), "embedded: compatible");
	EMB("::2");
	ok(n == 1 && kind == PF_EMBED_COMPAT && !strcmp(a[0], "0.0.0.2"),
	   "embedded: ::2 is compatible 0.0.0.2");
	EMB("::1");
	ok(n == 0 && kind == PF_EMBED_NONE, "embedded: ::1 has its own row");
	EMB("::");
	ok(n == 0 && kind == PF_EMBED_NONE, "embedded: :: has its own row");
	EMB("64:ff9b::a00:1");
	ok(n == 1 && kind == PF_EMBED_NAT64 && !strcmp(a[0], "10.0.0.1"), "embedded: NAT64");
	EMB("64:ff9b:1:a00:0:100::");
	ok(n == 4 && kind == PF_EMBED_NAT64_LOCAL && !strcmp(a[0], "10.0.0.1") &&
	   !strcmp(a[3], "0.0.0.0"), "embedded: NAT64 local-use /48 position skips byte 8");
	EMB("64:ff9b:1:102:3304:506:708:90a");
	ok(n == 4 && !strcmp(a[0], "1.2.4.5") && !strcmp(a[1], "2.4.5.6") &&
	   !strcmp(a[2], "4.5.6.7") && !strcmp(a[3], "7.8.9.10"),
	   "embedded: NAT64 local-use, the four positions");
	for (i = 0; i < n; i++)
		diag("64:ff9b:1:102:3304:506:708:90a position %zu: %s", i, a[i]);
	EMB("2001:db8::1");
	ok(n == 0 && kind == PF_EMBED_NONE, "embedded: documentation embeds nothing");
	EMB("2001:200::1");
	ok(n == 0 && kind == PF_EMBED_NONE, "embedded: outside every row");
#undef EMB
}

/* ------------------------------------------------------------ policies */

static void test_policy(void)
{
	net_cidr allowed[4], denied[4];
	struct pf_policy p;

	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.denied = denied;

	/* allowed-peer exceptions */
	allowed[0] = cidr("10.1.2.0/24");
	allowed[1] = cidr("192.0.0.0/24");
	allowed[2] = cidr("fd00::/8");
	allowed[3] = cidr("2002::/16");
	p.n_allowed = 4;
	is_int(judge(&p, "10.1.2.3"), 1, "allowed-peer: 10.1.2.3 excepted");
	is_int(judge(&p, "10.1.3.1"), 0, "allowed-peer: 10.1.3.1 still denied");
	is_int(judge(&p, "192.0.0.1"), 1, "allowed-peer: 192.0.0.1 excepted");
	is_int(judge(&p, "fd00::1"), 1, "allowed-peer: fd00::1 excepted");
	is_int(judge(&p, "fc00::1"), 0, "allowed-peer: fc00::1 still denied");
	is_int(judge(&p, "::ffff:10.1.2.3"), 1, "allowed-peer: counts for the mapped IPv4");
	is_int(judge(&p, "64:ff9b::a01:203"), 1, "allowed-peer: counts for the NAT64 IPv4");
	is_int(judge(&p, "2002:a01:203::1"), 1, "allowed-peer: counts for the 6to4 IPv4");
	is_int(judge(&p, "2001:0:909:909::f5fe:fdfc"), 1,
	       "allowed-peer: counts for a Teredo client");
	is_int(judge(&p, "2001:0:a00:1::f5fe:fdfc"), 0,
	       "allowed-peer: Teredo with a denied server stays denied");
	is_int(judge(&p, "2002:a00:1::1"), 0,
	       "allowed-peer: 2002::/16 does not open the IPv4 inside");
	is_int(judge(&p, "64:ff9b:1::a01:203"), 0,
	       "allowed-peer: local-use NAT64 needs every position allowed");

	/* denied-peer additions */
	p.n_allowed = 0;
	denied[0] = cidr("9.9.9.0/24");
	denied[1] = cidr("2001:db8:bad::/48");
	denied[2] = cidr("192.0.0.9/32");
	denied[3] = cidr("2a00::/16");
	p.n_denied = 4;
	is_int(judge(&p, "9.9.9.9"), 0, "denied-peer: 9.9.9.9 added");
	is_int(judge(&p, "9.9.8.9"), 1, "denied-peer: 9.9.8.9 not");
	is_int(judge(&p, "::ffff:9.9.9.9"), 0, "denied-peer: mapped form of an added IPv4");
	is_int(judge(&p, "2002:909:909::1"), 0, "denied-peer: 6to4 form of an added IPv4");
	is_int(judge(&p, "2001:0:101:101::f6f6:f6f6"), 0,
	       "denied-peer: Teredo client of an added IPv4");
	is_int(judge(&p, "64:ff9b::909:909"), 0, "denied-peer: NAT64 form of an added IPv4");
	is_int(judge(&p, "192.0.0.9"), 0, "denied-peer: beats a reachable row");
	is_int(judge(&p, "2a00:1450::1"), 0, "denied-peer: an IPv6 block added");
	is_int(judge(&p, "10.0.0.1"), 0, "denied-peer: the table stays in force");
	is_int(judge(&p, "8.8.8.8"), 1, "denied-peer: others still allowed");

	/* an allowed-peer is an exception to the file's lines too */
	allowed[0] = cidr("9.9.9.9/32");
	allowed[1] = cidr("2a00:1450::/32");
	p.n_allowed = 2;
	is_int(judge(&p, "9.9.9.9"), 1, "allowed-peer: exception to a denied-peer line");
	is_int(judge(&p, "9.9.9.8"), 0, "allowed-peer: only what it covers");
	is_int(judge(&p, "::ffff:9.9.9.9"), 1, "allowed-peer: ... in its mapped form too");
	is_int(judge(&p, "2a00:1450::1"), 1, "allowed-peer: IPv6 exception to a line");
	is_int(judge(&p, "2a00:1451::1"), 0, "allowed-peer: IPv6, only what it covers");

	/* a denied-peer line for an embedding block denies it whole, unless
	 * an allowed-peer covers the IPv6 address */
	denied[0] = cidr("2002::/16");
	allowed[0] = cidr("2002:909:909::/48");
	p.n_denied = 1;
	p.n_allowed = 0;
	is_int(judge(&p, "2002:808:808::1"), 0, "denied-peer: 2002::/16 denies all of 6to4");
	p.n_allowed = 1;
	is_int(judge(&p, "2002:909:909::1"), 1, "allowed-peer: excepts that 6to4 site");
	is_int(judge(&p, "2002:808:808::1"), 0, "allowed-peer: and only that one");

	/* allow-loopback-peers */
	memset(&p, 0, sizeof(p));
	is_int(judge(&p, "127.0.0.1"), 0, "loopback: denied by default");
	is_int(judge(&p, "::ffff:127.0.0.1"), 0, "loopback: mapped denied by default");
	p.allow_loopback = 1;
	is_int(judge(&p, "127.0.0.1"), 1, "allow-loopback-peers: 127.0.0.1");
	is_int(judge(&p, "127.255.255.255"), 1, "allow-loopback-peers: 127.255.255.255");
	is_int(judge(&p, "0.0.0.0"), 1, "allow-loopback-peers: 0.0.0.0");
	is_int(judge(&p, "0.1.2.3"), 1, "allow-loopback-peers: 0.1.2.3");
	is_int(judge(&p, "::1"), 1, "allow-loopback-peers: ::1");
	is_int(judge(&p, "::"), 1, "allow-loopback-peers: ::");
	is_int(judge(&p, "::ffff:127.0.0.1"), 1, "allow-loopback-peers: ::ffff:127.0.0.1");
	is_int(judge(&p, "::127.0.0.1"), 1, "allow-loopback-peers: ::127.0.0.1");
	is_int(judge(&p, "64:ff9b::7f00:1"), 1, "allow-loopback-peers: NAT64 of 127.0.0.1");
	is_int(judge(&p, "2002:7f00:1::1"), 1, "allow-loopback-peers: 6to4 of 127.0.0.1");
	is_int(judge(&p, "10.0.0.1"), 0, "allow-loopback-peers: 10.0.0.1 still denied");
	is_int(judge(&p, "::ffff:10.0.0.1"), 0, "allow-loopback-peers: mapped private denied");
	is_int(judge(&p, "fe80::1"), 0, "allow-loopback-peers: link-local still denied");
	is_int(judge(&p, "192.0.0.1"), 0, "allow-loopback-peers: 192.0.0.1 still denied");
	{
		struct sockaddr_storage ss = sa_of("127.0.0.1");
		ok(pf_row_for((struct sockaddr *)&ss, 1) == NULL &&
		   pf_row_for((struct sockaddr *)&ss, 0) != NULL &&
		   strcmp(pf_row_for((struct sockaddr *)&ss, 0)->name, "Loopback") == 0,
		   "pf_row_for: the loopback row, left out under allow_loopback");
		ss = sa_of("192.0.0.9");
		ok(strcmp(pf_row_for((struct sockaddr *)&ss, 0)->name,
			  "Port Control Protocol Anycast") == 0,
		   "pf_row_for: the most specific row");
		ss = sa_of("8.8.8.8");
		ok(pf_row_for((struct sockaddr *)&ss, 0) == NULL, "pf_row_for: none");
	}
}

/* ------------------------------------------------------------ threads */

/* The first calls of the process come from several threads at once: the
 * table is compiled once, and everyone sees it compiled. */
static void *racer(void *arg)
{
	static const char *const ips[] = { "10.0.0.1", "2002:a00:1::1", "9.9.9.9",
					   "64:ff9b::909:909", "192.0.0.9", "::1" };
	static const int want[] = { 0, 0, 1, 1, 1, 0 };
	int i, j, *bad = arg;

	for (j = 0; j < 200; j++)
		for (i = 0; i < 6; i++)
			if (judge(NULL, ips[i]) != want[i])
				(*bad)++;
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[4];
	int bad[4] = { 0 }, i, started = 0;

	for (i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, racer, &bad[i]) == 0)
			started |= 1 << i;
	for (i = 0; i < 4; i++)
		if (started & (1 << i))
			pthread_join(t[i], NULL);
	ok(started == 0xf && !bad[0] && !bad[1] && !bad[2] && !bad[3],
	   "threads: first use from four threads at once");
}

int main(void)
{
	struct pf_policy none, lo;

	test_threads();         /* first: the table is not compiled yet */
	test_table();
	memset(&none, 0, sizeof(none));
	memset(&lo, 0, sizeof(lo));
	lo.allow_loopback = 1;
	test_every_row(&none, "default");
	test_every_row(&lo, "allow-loopback-peers");
	test_embedded_forms(&none, "default");
	test_embedded_forms(&lo, "allow-loopback-peers");
	test_named();
	test_embedded_v4();
	test_policy();
	return tap_done();
}
