/*
 * print — see print.h.  What is printed reads back as a file that means
 * the same (apart from the secrets): strings are quoted where the file
 * syntax needs it, and denied-peer shows the built-in table as lines that
 * deny no less.
 */
#include "config.h"

#include "conf/print.h"
#include "conf/value.h"
#include "core/log.h"
#include "core/net.h"
#include "core/peerfilter.h"

#include <string.h>

/* A string as the file would need it: quoted when it holds '#', '"',
 * leading or trailing blanks, or nothing. */
static void put_str(FILE *out, const char *key, const char *v)
{
	size_t n = strlen(v);
	const char *s;

	if (n && !strpbrk(v, "#\"\\") && !value_blank(v[0]) &&
	    !value_blank(v[n - 1])) {
		fprintf(out, "%s = %s\n", key, v);
		return;
	}
	fprintf(out, "%s = \"", key);
	for (s = v; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputs("\"\n", out);
}

int print_bool(const struct ferry_conf *c, const struct directive *d,
	       FILE *out)
{
	fprintf(out, "%s = %s\n", d->name, *CFIELD(c, d, int) ? "yes" : "no");
	return 1;
}

int print_long(const struct ferry_conf *c, const struct directive *d,
	       FILE *out)
{
	fprintf(out, "%s = %ld\n", d->name, *CFIELD(c, d, long));
	return 1;
}

int print_loglevel(const struct ferry_conf *c, const struct directive *d,
		   FILE *out)
{
	fprintf(out, "%s = %s\n", d->name, log_level_name(*CFIELD(c, d, int)));
	return 1;
}

int print_ports(const struct ferry_conf *c, const struct directive *d,
		FILE *out)
{
	fprintf(out, "%s = %d-%d\n", d->name, *CFIELD(c, d, int),
		*CFIELD2(c, d, int));
	return 1;
}

int print_str(const struct ferry_conf *c, const struct directive *d,
	      FILE *out)
{
	const char *const *v;
	size_t i, n;

	if (d->flags & F_REPEAT) {
		const struct conf_strs *s = CFIELD(c, d, struct conf_strs);

		v = (const char *const *)s->v;
		n = s->n;
	} else {
		v = CFIELD(c, d, char *);
		n = *v ? 1 : 0;
	}
	for (i = 0; i < n; i++) {
		if (d->flags & F_SECRET)
			fprintf(out, "%s = (set)\n", d->name);
		else
			put_str(out, d->name, v[i]);
	}
	return n > 0;
}

/* The addresses of d, with their ports or without. */
static int put_addrs(const struct ferry_conf *c, const struct directive *d,
		     int with_port, FILE *out)
{
	const struct conf_addrs *a = CFIELD(c, d, struct conf_addrs);
	char buf[NET_ADDRSTRLEN * 2 + 8];
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (with_port)
			net_fmt(&a->v[i].u.sa, buf, sizeof(buf));
		else
			net_fmt_ip(&a->v[i].u.sa, buf, sizeof(buf));
		fprintf(out, "%s = %s\n", d->name, buf);
	}
	return a->n > 0;
}

int print_listen(const struct ferry_conf *c, const struct directive *d,
		 FILE *out)
{
	return put_addrs(c, d, 1, out);
}

int print_ip(const struct ferry_conf *c, const struct directive *d,
	     FILE *out)
{
	return put_addrs(c, d, 0, out);
}

int print_cidrs(const struct ferry_conf *c, const struct directive *d,
		FILE *out)
{
	const struct conf_cidrs *a = CFIELD(c, d, struct conf_cidrs);
	char buf[NET_ADDRSTRLEN * 2 + 8];
	size_t i;

	for (i = 0; i < a->n; i++)
		fprintf(out, "%s = %s\n", d->name,
			net_fmt_cidr(&a->v[i], buf, sizeof(buf)));
	return a->n > 0;
}

/* The built-in table first, each row marked with its registry name, then
 * the file's own lines.  Only the rows that deny are written as
 * denied-peer lines (so that the output still reads back as a file that
 * denies no less); the rows that stay reachable, the rows judged by the
 * IPv4 address inside and, with allow-loopback-peers, the loopback rows
 * are comments. */
int print_denied(const struct ferry_conf *c, const struct directive *d,
		 FILE *out)
{
	const char *k = d->name;
	size_t i, n;
	const struct pf_row *t = pf_table(&n);

	for (i = 0; i < n; i++) {
		const struct pf_row *r = &t[i];

		if (r->embed != PF_EMBED_NONE)
			fprintf(out, "# %s: %s judged by the IPv4 address inside (%s)"
				"  # built in: %s\n", k, r->cidr,
				pf_embed_name(r->embed), r->name);
		else if (r->reachable)
			fprintf(out, "# %s: %s stays reachable  # built in: %s\n",
				k, r->cidr, r->name);
		else if (r->loopback && c->allow_loopback_peers)
			fprintf(out, "# %s: %s not denied (allow-loopback-peers)"
				"  # built in: %s\n", k, r->cidr, r->name);
		else
			fprintf(out, "%s = %s  # built in: %s\n", k, r->cidr, r->name);
	}
	print_cidrs(c, d, out);
	return 1;
}

int print_users(const struct ferry_conf *c, const struct directive *d,
		FILE *out)
{
	const struct conf_user *u = *CFIELD(c, d, struct conf_user *);
	size_t i, n = *CFIELD2(c, d, size_t);

	for (i = 0; i < n; i++)
		fprintf(out, "%s = %s:(set)\n", d->name, u[i].name);
	return n > 0;
}

int print_external(const struct ferry_conf *c, const struct directive *d,
		   FILE *out)
{
	const struct conf_external *e = *CFIELD(c, d, struct conf_external *);
	char pub[NET_ADDRSTRLEN * 2 + 8], priv[NET_ADDRSTRLEN];
	size_t i, n = *CFIELD2(c, d, size_t);

	for (i = 0; i < n; i++) {
		net_fmt_ip(&e[i].public_ip.u.sa, pub, sizeof(pub));
		if (e[i].has_private)
			fprintf(out, "%s = %s/%s\n", d->name, pub,
				net_fmt_ip(&e[i].private_ip.u.sa, priv,
					   sizeof(priv)));
		else
			fprintf(out, "%s = %s\n", d->name, pub);
	}
	return n > 0;
}

void conf_print(const struct ferry_conf *c, FILE *out)
{
	size_t i;

	fprintf(out, "# effective settings of %s\n", c->path ? c->path : "(none)");
	for (i = 0; i < directive_count; i++) {
		const struct directive *d = &directive_table[i];

		if (!d->type->print(c, d, out))
			fprintf(out, "# %s = (none)\n", d->name);
	}
}
