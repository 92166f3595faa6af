/*
 * conf — see conf.h.
 *
 * Reading a file: each line is split into key and value, the key is
 * looked up in the directive table (directives.c) and the value checked
 * and stored by the key's type (types.c).  Then the keys no line set get
 * their defaults (defaults.c) and the checks that involve more than one
 * key are made.  Every error goes through report.c as "FILE:LINE: error:
 * …", and a load with any error returns nothing.
 */
#include "config.h"

#include "conf/conf.h"
#include "conf/defaults.h"
#include "conf/directive.h"
#include "conf/report.h"
#include "conf/value.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FERRY_SYSCONFDIR
#define FERRY_SYSCONFDIR "/usr/local/etc"
#endif

/* A file larger than this is not a configuration file. */
#define CONF_MAX_SIZE (1024 * 1024)
#define ERRLEN 1024

const char *conf_default_path(void)
{
	return FERRY_SYSCONFDIR "/ferry/ferryd.conf";
}

const char *conf_key_name(size_t i)
{
	return i < directive_count ? directive_table[i].name : NULL;
}

int conf_key_info(size_t i, struct conf_key_info *out)
{
	const struct directive *d;

	if (i >= directive_count)
		return -1;
	d = &directive_table[i];
	out->name = d->name;
	out->help = d->help;
	out->def = d->def;
	out->computed = !!(d->flags & F_DERIVED);
	out->repeatable = !!(d->flags & F_REPEAT);
	out->secret = !!(d->flags & F_SECRET);
	out->needs_restart = !!(d->flags & F_RESTART);
	return 0;
}

void conf_free(struct ferry_conf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < directive_count; i++) {
		const struct directive *d = &directive_table[i];

		if (d->type->free)
			d->type->free(c, d);
	}
	free(c->path);
	free(c);
}

/* ------------------------------------------------------------ the file */

struct parser {
	struct ferry_conf *c;
	struct report r;
	int *line;              /* first line giving each key; 0: none */
};

/* Edit distance, to suggest the key that was probably meant. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= ARRAY_LEN(row) || lb >= ARRAY_LEN(row))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

static const char *suggest(const char *key)
{
	size_t i, best = 3, dist;
	const char *name = NULL;

	for (i = 0; i < directive_count; i++) {
		dist = distance(key, directive_table[i].name);
		if (dist < best) {
			best = dist;
			name = directive_table[i].name;
		}
	}
	return name;
}

static char *trim(char *s)
{
	char *end;

	while (value_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && value_blank(end[-1]))
		*--end = '\0';
	return s;
}

/*
 * Split one line (modified in place) into key and value.  Returns 1 for a
 * setting, 0 for a blank or comment line, -1 after reporting an error.
 * A value may be put in double quotes so that it can hold '#', leading or
 * trailing blanks; inside quotes \" and \\ stand for " and \.
 */
static int split_line(struct parser *p, int lineno, char *s, char **keyp,
		      char **valp)
{
	char *eq, *key, *val, *r, *w;

	s = trim(s);
	if (*s == '\0' || *s == '#')
		return 0;
	eq = strpbrk(s, "=#");
	if (!eq || *eq == '#') {
		size_t n = strcspn(s, " \t#");
		s[n] = '\0';
		report_error(&p->r, lineno,
			     "%s: expected \"=\" and a value after the key", s);
		return -1;
	}
	*eq = '\0';
	key = trim(s);
	if (*key == '\0') {
		report_error(&p->r, lineno, "expected a key before \"=\"");
		return -1;
	}
	val = eq + 1;
	while (value_blank(*val))
		val++;
	if (*val != '"') {
		val[strcspn(val, "#")] = '\0';
		*keyp = key;
		*valp = trim(val);
		return 1;
	}
	/* Quoted: unescape in place up to the closing quote. */
	r = w = ++val;
	while (*r && *r != '"') {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r++;
	}
	if (*r != '"') {
		report_error(&p->r, lineno, "%s: expected a closing double quote", key);
		return -1;
	}
	r++;
	while (value_blank(*r))
		r++;
	if (*r && *r != '#') {
		report_error(&p->r, lineno,
			     "%s: expected only a comment after the closing quote", key);
		return -1;
	}
	*w = '\0';
	*keyp = key;
	*valp = val;
	return 1;
}

static void handle_line(struct parser *p, int lineno, char *line)
{
	const struct directive *d;
	char *key, *val, err[ERRLEN];
	size_t idx;

	if (split_line(p, lineno, line, &key, &val) <= 0)
		return;
	d = directive_find(key);
	if (!d) {
		const char *s = suggest(key);
		if (s)
			report_error(&p->r, lineno,
				     "%s: unknown key, did you mean \"%s\"?", key, s);
		else
			report_error(&p->r, lineno,
				     "%s: unknown key, expected one of ferryd.conf(5)", key);
		return;
	}
	idx = DIRECTIVE_INDEX(d);
	if (p->line[idx] && !(d->flags & F_REPEAT)) {
		report_error(&p->r, lineno,
			     "%s: expected at most once, already given on line %d",
			     key, p->line[idx]);
		return;
	}
	/* Noted even when the value turns out bad, so that the checks across
	 * keys do not report the same mistake a second time. */
	if (!p->line[idx])
		p->line[idx] = lineno;
	if (*val == '\0') {
		if (d->flags & F_EMPTY)
			return;         /* explicitly none; the default stays out */
		d->type->describe(d, err, sizeof(err));
		report_error(&p->r, lineno, "%s: expected %s, got an empty value",
			     key, err);
		return;
	}
	if (d->type->parse(p->c, d, val, 1, err, sizeof(err)) < 0)
		report_error(&p->r, lineno, "%s: %s", key, err);
}

static int line_of(const struct parser *p, const char *key)
{
	return p->line[DIRECTIVE_INDEX(directive_find(key))];
}

/* The defaults, then the checks that involve more than one key. */
static void finish(struct parser *p)
{
	struct ferry_conf *c = p->c;
	int cl, kl;

	defaults_apply(c, p->line, &p->r);

	cl = line_of(p, "cert");
	kl = line_of(p, "key");
	if (cl && !kl)
		report_error(&p->r, cl, "cert: expected key to be set as well");
	if (kl && !cl)
		report_error(&p->r, kl, "key: expected cert to be set as well");
	if (!cl && !kl) {
		if (c->tls_listen.n)
			report_error(&p->r, line_of(p, "tls-listen"),
				     "tls-listen: expected cert and key to be set");
		if (c->https_listen.n)
			report_error(&p->r, line_of(p, "https-listen"),
				     "https-listen: expected cert and key to be set");
	}
}

struct ferry_conf *conf_load_string(const char *name, const char *text,
				    conf_error_fn errfn, void *ctx)
{
	struct parser p;
	struct ferry_conf *c = xcalloc(1, sizeof(*c));
	const char *s = text, *nl;
	int lineno = 0;

	memset(&p, 0, sizeof(p));
	p.c = c;
	p.r.name = name;
	p.r.errfn = errfn;
	p.r.ctx = ctx;
	p.line = xcalloc(directive_count, sizeof(*p.line));
	c->path = xstrdup(name);
	while (*s) {
		char *line;

		nl = strchr(s, '\n');
		line = nl ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
		handle_line(&p, ++lineno, line);
		free(line);
		if (!nl)
			break;
		s = nl + 1;
	}
	finish(&p);
	if (p.r.nerr) {
		conf_free(c);
		c = NULL;
	}
	free(p.line);
	return c;
}

struct ferry_conf *conf_load(const char *path, conf_error_fn errfn, void *ctx)
{
	struct report r = { path, errfn, ctx, 0 };
	struct ferry_conf *c;
	FILE *f;
	char *buf;
	size_t n;
	int e;

	f = fopen(path, "r");
	if (!f) {
		report_error(&r, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_MAX_SIZE + 1);
	n = fread(buf, 1, CONF_MAX_SIZE + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e) {
		report_error(&r, 0, "cannot read: %s", strerror(e));
		c = NULL;
	} else if (n > CONF_MAX_SIZE) {
		report_error(&r, 0, "expected a file of at most %d bytes", CONF_MAX_SIZE);
		c = NULL;
	} else if (memchr(buf, '\0', n)) {
		report_error(&r, 0, "expected a text file, found a NUL byte");
		c = NULL;
	} else {
		buf[n] = '\0';
		c = conf_load_string(path, buf, errfn, ctx);
	}
	free(buf);
	return c;
}
