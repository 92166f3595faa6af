/*
 * types — see types.h.  Each type's parse and describe are here, with its
 * free; its print is print.c's and its equal and swap reload.c's, and the
 * rows at the end put them together.  The shapes of values (host names,
 * origins, paths, …) are value.c's checks.
 */
#include "config.h"

#include "conf/types.h"
#include "conf/print.h"
#include "conf/reload.h"
#include "conf/value.h"
#include "core/log.h"
#include "core/names.h"
#include "core/net.h"
#include "core/util.h"

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fill err with "expected <description>, got "<val>"[ (detail)]"; a
 * secret's value is never repeated back.  Returns -1. */
static int expected(const struct directive *d, const char *val,
		    const char *detail, char *err, size_t errlen)
{
	char desc[256];

	d->type->describe(d, desc, sizeof(desc));
	if (d->flags & F_SECRET)
		snprintf(err, errlen, "expected %s", desc);
	else
		snprintf(err, errlen, "expected %s, got \"%s\"%s%s%s", desc, val,
			 detail ? " (" : "", detail ? detail : "",
			 detail ? ")" : "");
	return -1;
}

/* ------------------------------------------------------------ numbers */

static int parse_bool(struct ferry_conf *c, const struct directive *d,
		      const char *val, int check_fs, char *err, size_t errlen)
{
	int b;

	if (value_bool(val, &b) < 0)
		return expected(d, val, NULL, err, errlen);
	*FIELD(c, d, int) = b;
	return 0;
}

static void describe_bool(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "yes or no");
}

static int parse_int(struct ferry_conf *c, const struct directive *d,
		     const char *val, int check_fs, char *err, size_t errlen)
{
	long v;

	if (parse_long(val, d->min, d->max, &v) < 0)
		return expected(d, val, NULL, err, errlen);
	*FIELD(c, d, long) = v;
	return 0;
}

static void describe_int(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "an integer from %ld to %ld", d->min, d->max);
}

static int parse_threads(struct ferry_conf *c, const struct directive *d,
			 const char *val, int check_fs, char *err, size_t errlen)
{
	long v;

	if (strcmp(val, "auto") == 0) {
		v = sysconf(_SC_NPROCESSORS_ONLN);
		if (v < d->min)
			v = d->min;
		if (v > d->max)
			v = d->max;
	} else if (parse_long(val, d->min, d->max, &v) < 0) {
		return expected(d, val, NULL, err, errlen);
	}
	*FIELD(c, d, long) = v;
	return 0;
}

static void describe_threads(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "auto or an integer from %ld to %ld", d->min, d->max);
}

static int parse_loglevel(struct ferry_conf *c, const struct directive *d,
			  const char *val, int check_fs, char *err, size_t errlen)
{
	char low[16];
	size_t i;
	int level;

	for (i = 0; val[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)val[i]);
	low[i] = '\0';
	level = val[i] ? -1 : log_level_parse(low);
	if (level < 0)
		return expected(d, val, NULL, err, errlen);
	*FIELD(c, d, int) = level;
	return 0;
}

static void describe_loglevel(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "error, warn, info or debug");
}

static int parse_ports(struct ferry_conf *c, const struct directive *d,
		       const char *val, int check_fs, char *err, size_t errlen)
{
	const char *dash = strchr(val, '-');
	char *lo;
	long lo_v, hi_v;
	int bad;

	if (!dash)
		return expected(d, val, NULL, err, errlen);
	lo = xstrndup(val, (size_t)(dash - val));
	bad = parse_long(lo, 1024, 65535, &lo_v) < 0 ||
	      parse_long(dash + 1, 1024, 65535, &hi_v) < 0 || lo_v > hi_v;
	free(lo);
	if (bad)
		return expected(d, val, NULL, err, errlen);
	*FIELD(c, d, int) = (int)lo_v;
	*FIELD2(c, d, int) = (int)hi_v;
	return 0;
}

static void describe_ports(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "a port range A-B with 1024 <= A <= B <= 65535");
}

/* ------------------------------------------------------------ strings */

/* Store a string value: a repeatable key appends, others replace (only
 * defaults are ever replaced: a second line of a non-repeatable key is
 * refused before it gets here). */
static void store_str(struct ferry_conf *c, const struct directive *d,
		      const char *v)
{
	if (d->flags & F_REPEAT) {
		struct conf_strs *s = FIELD(c, d, struct conf_strs);

		s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
		s->v[s->n++] = xstrdup(v);
	} else {
		char **field = FIELD(c, d, char *);

		free(*field);
		*field = xstrdup(v);
	}
}

/* Store val when ok, else say what was expected. */
static int store_if(struct ferry_conf *c, const struct directive *d,
		    const char *val, int ok, const char *detail, char *err,
		    size_t errlen)
{
	if (!ok)
		return expected(d, val, detail, err, errlen);
	store_str(c, d, val);
	return 0;
}

static void free_str(struct ferry_conf *c, const struct directive *d)
{
	size_t i;

	if (d->flags & F_REPEAT) {
		struct conf_strs *s = FIELD(c, d, struct conf_strs);

		for (i = 0; i < s->n; i++)
			free(s->v[i]);
		free(s->v);
	} else {
		free(*FIELD(c, d, char *));
	}
}

static int parse_str(struct ferry_conf *c, const struct directive *d,
		     const char *val, int check_fs, char *err, size_t errlen)
{
	if (d->max > 0 && (long)strlen(val) > d->max)
		return expected(d, val, NULL, err, errlen);
	/* Checked here, so that --check-config catches it too. */
	if ((d->flags & F_SYSUSER) && !getpwnam(val)) {
		snprintf(err, errlen, "expected a user of this system, got \"%s\"", val);
		return -1;
	}
	if ((d->flags & F_SYSGROUP) && !getgrnam(val)) {
		snprintf(err, errlen, "expected a group of this system, got \"%s\"", val);
		return -1;
	}
	store_str(c, d, val);
	return 0;
}

static void describe_str(const struct directive *d, char *buf, size_t n)
{
	if (d->max > 0)
		snprintf(buf, n, "a string of 1 to %ld bytes", d->max);
	else
		snprintf(buf, n, "a non-empty string");
}

static int parse_host(struct ferry_conf *c, const struct directive *d,
		      const char *val, int check_fs, char *err, size_t errlen)
{
	return store_if(c, d, val, value_host(val), NULL, err, errlen);
}

static void describe_host(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "a host name or IP address (IPv6 in brackets)");
}

static int parse_ciphers(struct ferry_conf *c, const struct directive *d,
			 const char *val, int check_fs, char *err, size_t errlen)
{
	return store_if(c, d, val, value_ciphers(val), NULL, err, errlen);
}

static void describe_ciphers(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "an OpenSSL cipher list that selects at least one cipher");
}

static int parse_origin(struct ferry_conf *c, const struct directive *d,
			const char *val, int check_fs, char *err, size_t errlen)
{
	return store_if(c, d, val, value_origin(val), NULL, err, errlen);
}

static void describe_origin(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "an origin such as https://example.org "
		 "(http or https, host, optional port, no path)");
}

/* ------------------------------------------------------------ paths */

static int parse_exists(struct ferry_conf *c, const struct directive *d,
			const char *val, int want_dir, int check_fs, char *err,
			size_t errlen)
{
	char detail[256];
	int ok = !check_fs ||
		 value_exists(val, want_dir, detail, sizeof(detail)) == 0;

	return store_if(c, d, val, ok, ok ? NULL : detail, err, errlen);
}

static int parse_file(struct ferry_conf *c, const struct directive *d,
		      const char *val, int check_fs, char *err, size_t errlen)
{
	return parse_exists(c, d, val, 0, check_fs, err, errlen);
}

static void describe_file(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "an existing file");
}

static int parse_dir(struct ferry_conf *c, const struct directive *d,
		     const char *val, int check_fs, char *err, size_t errlen)
{
	return parse_exists(c, d, val, 1, check_fs, err, errlen);
}

static void describe_dir(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "an existing directory%s",
		 d->flags & F_EMPTY ? ", or nothing for none" : "");
}

static int parse_wpath(struct ferry_conf *c, const struct directive *d,
		       const char *val, int check_fs, char *err, size_t errlen)
{
	char detail[256];
	int ok = !check_fs ||
		 value_writable(val, detail, sizeof(detail)) == 0;

	return store_if(c, d, val, ok, ok ? NULL : detail, err, errlen);
}

static void describe_wpath(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "a file path in an existing folder");
}

static int parse_logfile(struct ferry_conf *c, const struct directive *d,
			 const char *val, int check_fs, char *err, size_t errlen)
{
	if (strcmp(val, "syslog") == 0 || strcmp(val, "stderr") == 0) {
		store_str(c, d, val);
		return 0;
	}
	/* anything else is a path */
	return parse_wpath(c, d, val, check_fs, err, errlen);
}

static void describe_logfile(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "syslog, stderr or a file path in an existing folder");
}

/* ------------------------------------------------------------ addresses */

static void addrs_push(struct conf_addrs *a, const net_addr *v)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n++] = *v;
}

static void free_addrs(struct ferry_conf *c, const struct directive *d)
{
	free(FIELD(c, d, struct conf_addrs)->v);
}

static int parse_listen(struct ferry_conf *c, const struct directive *d,
			const char *val, int check_fs, char *err, size_t errlen)
{
	char nerr[128];
	net_addr a;

	if (net_parse_addr(val, d->port, 0, &a, nerr, sizeof(nerr)) < 0 ||
	    net_port(&a.u.sa) == 0)
		return expected(d, val, NULL, err, errlen);
	addrs_push(FIELD(c, d, struct conf_addrs), &a);
	return 0;
}

static void describe_listen(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "a numeric IP address with an optional port 1-65535 "
		 "(default %d; IPv6 in brackets when a port is given)", d->port);
}

static int parse_ip(struct ferry_conf *c, const struct directive *d,
		    const char *val, int check_fs, char *err, size_t errlen)
{
	net_addr a;

	if (value_bare_ip(val, &a) < 0)
		return expected(d, val, NULL, err, errlen);
	addrs_push(FIELD(c, d, struct conf_addrs), &a);
	return 0;
}

static void describe_ip(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "a numeric IP address without a port, not a wildcard");
}

static int parse_cidr(struct ferry_conf *c, const struct directive *d,
		      const char *val, int check_fs, char *err, size_t errlen)
{
	struct conf_cidrs *l = FIELD(c, d, struct conf_cidrs);
	char nerr[128];
	net_cidr cidr;

	if (net_parse_cidr(val, &cidr, nerr, sizeof(nerr)) < 0)
		return expected(d, val, NULL, err, errlen);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = cidr;
	return 0;
}

static void describe_cidr(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "ADDRESS[/PREFIX] with a numeric IP address");
}

static void free_cidrs(struct ferry_conf *c, const struct directive *d)
{
	free(FIELD(c, d, struct conf_cidrs)->v);
}

/* ------------------------------------------------------------ records */

static int parse_user(struct ferry_conf *c, const struct directive *d,
		      const char *val, int check_fs, char *err, size_t errlen)
{
	/* The first ':' ends the name, so passwords may hold ':'.  The name
	 * follows the rule of every long-term user. */
	const char *colon = strchr(val, ':');
	struct conf_user **users = FIELD(c, d, struct conf_user *);
	size_t *n = FIELD2(c, d, size_t);
	char *name;

	if (!colon || colon == val || !colon[1])
		return expected(d, val, NULL, err, errlen);
	name = xstrndup(val, (size_t)(colon - val));
	if (!names_login(name)) {
		free(name);
		/* The value holds the password: only the rule is named. */
		snprintf(err, errlen, "the name must be 1 to %d bytes "
			 "without control characters", NAMES_LOGIN_MAX);
		return -1;
	}
	*users = xrealloc(*users, (*n + 1) * sizeof(**users));
	(*users)[*n].name = name;
	(*users)[*n].password = xstrdup(colon + 1);
	(*n)++;
	return 0;
}

static void describe_user(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "NAME:PASSWORD with a non-empty name and password");
}

static void free_users(struct ferry_conf *c, const struct directive *d)
{
	struct conf_user *u = *FIELD(c, d, struct conf_user *);
	size_t i, n = *FIELD2(c, d, size_t);

	for (i = 0; i < n; i++) {
		free(u[i].name);
		/* A password: do not leave it in freed memory. */
		memset(u[i].password, 0, strlen(u[i].password));
		free(u[i].password);
	}
	free(u);
}

static int parse_external(struct ferry_conf *c, const struct directive *d,
			  const char *val, int check_fs, char *err, size_t errlen)
{
	const char *slash = strchr(val, '/');
	struct conf_external e;
	struct conf_external **ext = FIELD(c, d, struct conf_external *);
	size_t *n = FIELD2(c, d, size_t);
	char *pub;
	int bad;

	memset(&e, 0, sizeof(e));
	pub = slash ? xstrndup(val, (size_t)(slash - val)) : xstrdup(val);
	bad = value_bare_ip(pub, &e.public_ip) < 0;
	free(pub);
	if (!bad && slash) {
		e.has_private = 1;
		bad = value_bare_ip(slash + 1, &e.private_ip) < 0 ||
		      net_family(&e.private_ip) != net_family(&e.public_ip);
	}
	if (bad)
		return expected(d, val, NULL, err, errlen);
	*ext = xrealloc(*ext, (*n + 1) * sizeof(**ext));
	(*ext)[(*n)++] = e;
	return 0;
}

static void describe_external(const struct directive *d, char *buf, size_t n)
{
	snprintf(buf, n, "PUBLIC[/PRIVATE] with numeric IP addresses of one family, not wildcards");
}

static void free_external(struct ferry_conf *c, const struct directive *d)
{
	free(*FIELD(c, d, struct conf_external *));
}

/* ------------------------------------------------------------ the rows */

const struct conf_type type_bool = {
	.parse = parse_bool, .describe = describe_bool, .print = print_bool,
	.equal = reload_equal_int, .swap = reload_swap_int,
};
const struct conf_type type_int = {
	.parse = parse_int, .describe = describe_int, .print = print_long,
	.equal = reload_equal_long, .swap = reload_swap_long,
};
const struct conf_type type_threads = {
	.parse = parse_threads, .describe = describe_threads,
	.print = print_long, .equal = reload_equal_long,
	.swap = reload_swap_long,
};
const struct conf_type type_loglevel = {
	.parse = parse_loglevel, .describe = describe_loglevel,
	.print = print_loglevel, .equal = reload_equal_int,
	.swap = reload_swap_int,
};
const struct conf_type type_ports = {
	.parse = parse_ports, .describe = describe_ports, .print = print_ports,
	.equal = reload_equal_ports, .swap = reload_swap_ports,
};

const struct conf_type type_str = {
	.parse = parse_str, .describe = describe_str, .print = print_str,
	.equal = reload_equal_str, .swap = reload_swap_str, .free = free_str,
};
const struct conf_type type_host = {
	.parse = parse_host, .describe = describe_host, .print = print_str,
	.equal = reload_equal_str, .swap = reload_swap_str, .free = free_str,
};
const struct conf_type type_ciphers = {
	.parse = parse_ciphers, .describe = describe_ciphers,
	.print = print_str, .equal = reload_equal_str, .swap = reload_swap_str,
	.free = free_str,
};
const struct conf_type type_origin = {
	.parse = parse_origin, .describe = describe_origin, .print = print_str,
	.free = free_str,
};
const struct conf_type type_file = {
	.parse = parse_file, .describe = describe_file, .print = print_str,
	.equal = reload_equal_str, .swap = reload_swap_str, .free = free_str,
};
const struct conf_type type_dir = {
	.parse = parse_dir, .describe = describe_dir, .print = print_str,
	.equal = reload_equal_str, .swap = reload_swap_str, .free = free_str,
};
const struct conf_type type_wpath = {
	.parse = parse_wpath, .describe = describe_wpath, .print = print_str,
	.equal = reload_equal_str, .swap = reload_swap_str, .free = free_str,
};
const struct conf_type type_logfile = {
	.parse = parse_logfile, .describe = describe_logfile,
	.print = print_str, .equal = reload_equal_str, .swap = reload_swap_str,
	.free = free_str,
};

const struct conf_type type_listen = {
	.parse = parse_listen, .describe = describe_listen,
	.print = print_listen, .equal = reload_equal_addrs,
	.swap = reload_swap_addrs, .free = free_addrs,
};
const struct conf_type type_ip = {
	.parse = parse_ip, .describe = describe_ip, .print = print_ip,
	.equal = reload_equal_addrs, .swap = reload_swap_addrs,
	.free = free_addrs,
};
const struct conf_type type_cidr = {
	.parse = parse_cidr, .describe = describe_cidr, .print = print_cidrs,
	.free = free_cidrs,
};
/*
 * Peers no relay may reach, whatever the file says, are the built-in table
 * of peerfilter.c (the IANA special-purpose registries).  `denied-peer`
 * lines add to it rather than replace it: if one line replaced it, an
 * operator adding a single block would silently open loopback and RFC 1918
 * to relaying, which is how TURN servers become proxies into their own
 * networks.  So the value holds the file's lines only, the relay consults
 * the table and them together (pf_allowed), and the printout shows both.
 */
const struct conf_type type_denied = {
	.parse = parse_cidr, .describe = describe_cidr, .print = print_denied,
	.free = free_cidrs,
};

const struct conf_type type_user = {
	.parse = parse_user, .describe = describe_user, .print = print_users,
	.free = free_users,
};
const struct conf_type type_external = {
	.parse = parse_external, .describe = describe_external,
	.print = print_external, .free = free_external,
};
