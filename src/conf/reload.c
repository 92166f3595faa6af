/*
 * reload — see reload.h.
 */
#include "config.h"

#include "conf/reload.h"
#include "core/net.h"

#include <string.h>

int reload_equal_int(const struct ferry_conf *a, const struct ferry_conf *b,
		     const struct directive *d)
{
	return *CFIELD(a, d, int) == *CFIELD(b, d, int);
}

int reload_equal_long(const struct ferry_conf *a, const struct ferry_conf *b,
		      const struct directive *d)
{
	return *CFIELD(a, d, long) == *CFIELD(b, d, long);
}

int reload_equal_ports(const struct ferry_conf *a, const struct ferry_conf *b,
		       const struct directive *d)
{
	return *CFIELD(a, d, int) == *CFIELD(b, d, int) &&
	       *CFIELD2(a, d, int) == *CFIELD2(b, d, int);
}

int reload_equal_str(const struct ferry_conf *a, const struct ferry_conf *b,
		     const struct directive *d)
{
	const char *x, *y;

	if (d->flags & F_REPEAT)
		return 1;       /* no repeatable string key needs a restart */
	x = *CFIELD(a, d, char *);
	y = *CFIELD(b, d, char *);
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

int reload_equal_addrs(const struct ferry_conf *a, const struct ferry_conf *b,
		       const struct directive *d)
{
	const struct conf_addrs *x = CFIELD(a, d, struct conf_addrs);
	const struct conf_addrs *y = CFIELD(b, d, struct conf_addrs);
	size_t i;

	if (x->n != y->n)
		return 0;
	for (i = 0; i < x->n; i++)
		if (!net_equal(&x->v[i].u.sa, &y->v[i].u.sa))
			return 0;
	return 1;
}

/* Exchanged, not copied: each struct still owns what it frees. */
#define SWAP(type, x, y) do { \
		type t_ = *(x); \
		*(x) = *(y); \
		*(y) = t_; \
	} while (0)

void reload_swap_int(struct ferry_conf *a, struct ferry_conf *b,
		     const struct directive *d)
{
	SWAP(int, FIELD(a, d, int), FIELD(b, d, int));
}

void reload_swap_long(struct ferry_conf *a, struct ferry_conf *b,
		      const struct directive *d)
{
	SWAP(long, FIELD(a, d, long), FIELD(b, d, long));
}

void reload_swap_ports(struct ferry_conf *a, struct ferry_conf *b,
		       const struct directive *d)
{
	SWAP(int, FIELD(a, d, int), FIELD(b, d, int));
	SWAP(int, FIELD2(a, d, int), FIELD2(b, d, int));
}

void reload_swap_str(struct ferry_conf *a, struct ferry_conf *b,
		     const struct directive *d)
{
	if (d->flags & F_REPEAT)
		SWAP(struct conf_strs, FIELD(a, d, struct conf_strs),
		     FIELD(b, d, struct conf_strs));
	else
		SWAP(char *, FIELD(a, d, char *), FIELD(b, d, char *));
}

void reload_swap_addrs(struct ferry_conf *a, struct ferry_conf *b,
		       const struct directive *d)
{
	SWAP(struct conf_addrs, FIELD(a, d, struct conf_addrs),
	     FIELD(b, d, struct conf_addrs));
}

/* No equal: the type is never compared, and counts as unchanged. */
static int changed(const struct ferry_conf *a, const struct ferry_conf *b,
		   const struct directive *d)
{
	return d->type->equal && !d->type->equal(a, b, d);
}

int conf_needs_restart(const struct ferry_conf *a, const struct ferry_conf *b,
		       char *what, size_t whatlen)
{
	size_t i, used = 0;
	int n = 0, pass;

	if (what && whatlen)
		what[0] = '\0';
	/* Keys the file sets first; a derived one (relay-ip follows listen)
	 * is named only when it alone changed. */
	for (pass = 0; pass < 2 && n == 0; pass++)
		for (i = 0; i < directive_count; i++) {
			const struct directive *d = &directive_table[i];

			if (!(d->flags & F_RESTART) || !(d->flags & F_DERIVED) != !pass ||
			    !changed(a, b, d))
				continue;
			if (what && used < whatlen) {
				int w = snprintf(what + used, whatlen - used, "%s%s",
						 n ? ", " : "", d->name);
				used += w > 0 ? (size_t)w : 0;
			}
			n++;
		}
	return n > 0;
}

void conf_keep_running(struct ferry_conf *next, struct ferry_conf *running)
{
	size_t i;

	for (i = 0; i < directive_count; i++) {
		const struct directive *d = &directive_table[i];

		if ((d->flags & F_RESTART) && changed(next, running, d))
			d->type->swap(next, running, d);
	}
}
