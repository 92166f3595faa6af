/* setup — see setup.h. */
#include "ctl/setup.h"
#include "ctl/output.h"
#include "conf/conf.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Keeps the first error conf_load reports and counts the rest, so that a
 * broken config still yields one line. */
struct conf_errors {
	char first[512];
	int n;
};

static void conf_error(void *ctx, const char *msg)
{
	struct conf_errors *e = ctx;

	if (e->n++ == 0)
		snprintf(e->first, sizeof(e->first), "%s", msg);
}

static int load_conf(struct ctl *c, const char *path)
{
	struct conf_errors e = { .n = 0 };

	c->conf = conf_load(path, conf_error, &e);
	if (c->conf)
		return 0;
	if (e.n > 1)
		out_fail("%s (and %d more error%s)", e.first, e.n - 1,
			 e.n > 2 ? "s" : "");
	else if (e.n == 1)
		out_fail("%s", e.first);
	else
		out_fail("%s: cannot load the configuration", path);
	return -1;
}

/* The built-in defaults: what an empty config file means. */
static int load_defaults(struct ctl *c)
{
	c->conf = conf_load_string("(defaults)", "", NULL, NULL);
	if (c->conf)
		return 0;
	out_fail("cannot build the default settings");
	return -1;
}

/* 1 when the default config file exists, 0 when it does not, -1 (after
 * reporting) when it cannot be told, e.g. a folder we may not search. */
static int default_conf_exists(void)
{
	struct stat sb;

	if (stat(conf_default_path(), &sb) == 0)
		return 1;
	if (errno == ENOENT || errno == ENOTDIR)
		return 0;
	out_fail("%s: %s", conf_default_path(), strerror(errno));
	return -1;
}

/* Without -c: the default config file when it exists, else the built-in
 * defaults. */
static int load_default_conf(struct ctl *c)
{
	switch (default_conf_exists()) {
	case 1:
		return load_conf(c, conf_default_path());
	case 0:
		return load_defaults(c);
	default:
		return -1;
	}
}

int setup_database(struct ctl *c)
{
	if (c->conf_path) {
		if (load_conf(c, c->conf_path) < 0)
			return -1;
		c->database = c->conf->database;
	} else if (c->db_arg) {
		c->database = c->db_arg;
	} else {
		if (load_default_conf(c) < 0)
			return -1;
		c->database = c->conf->database;
	}
	if (!c->database || !*c->database) {
		out_fail("no database configured");
		return -1;
	}
	return 0;
}

const struct ferry_conf *setup_settings(struct ctl *c)
{
	if (!c->conf && load_default_conf(c) < 0)
		return NULL;
	return c->conf;
}

int setup_store(struct ctl *c)
{
	char err[512];

	c->st = store_open(c->database, err, sizeof(err));
	if (!c->st) {
		out_fail("%s", err);
		return -1;
	}
	return 0;
}

void setup_free(struct ctl *c)
{
	store_close(c->st);
	c->st = NULL;
	if (c->conf)
		conf_free(c->conf);
	c->conf = NULL;
}

const char *setup_builtin(const char *key)
{
	struct conf_key_info k;

	for (size_t i = 0; conf_key_info(i, &k) == 0; i++)
		if (strcmp(k.name, key) == 0)
			return k.def && !k.computed ? k.def : "";
	return "";
}
