/*
 * test_conf — the configuration file: every fixture under tests/conf, each
 * value type, the defaults, conf_print, conf_needs_restart and
 * conf_keep_running, the types of the directive table's rows, and the
 * sample file etc/ferryd.conf and the man page doc/ferryd.conf.5 against
 * the directive table.
 *
 * Every tests/conf/good/NAME.conf must load.  tests/conf/bad/NAME.conf must fail
 * with exactly the lines of tests/conf/bad/NAME.err, in order, where the
 * file is named by its basename ("NAME.conf:LINE: error: …").
 */
#include "config.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* open_memstream, strdup under -std=c11 */
#endif

#include "conf/conf.h"
#include "conf/directive.h"
#include "core/log.h"
#include "core/net.h"
#include "core/peerfilter.h"
#include "../tap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CONF_FIXTURES
#error "CONF_FIXTURES must name the tests/conf folder"
#endif

/* ------------------------------------------------------------ helpers */

struct errs {
	size_t n;
	char *v[64];
	const char *strip;      /* prefix removed from messages (a folder) */
};

static void collect(void *ctx, const char *msg)
{
	struct errs *e = ctx;
	size_t sl = e->strip ? strlen(e->strip) : 0;

	if (sl && strncmp(msg, e->strip, sl) == 0)
		msg += sl;
	if (e->n < sizeof(e->v) / sizeof(e->v[0]))
		e->v[e->n++] = strdup(msg);
}

static void errs_clear(struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
}

static void errs_diag(const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		diag("  %s", e->v[i]);
}

/* Load text as a file named "t.conf". */
static struct ferry_conf *load(const char *text, struct errs *e)
{
	errs_clear(e);
	return conf_load_string("t.conf", text, collect, e);
}

/* 1 when text loads; with a diagnostic otherwise. */
static int loads(const char *text)
{
	struct errs e = { 0 };
	struct ferry_conf *c = load(text, &e);

	if (!c) {
		diag("refused: %s", text);
		errs_diag(&e);
	}
	errs_clear(&e);
	conf_free(c);
	return c != NULL;
}

/* 1 when text fails with exactly one error, equal to want. */
static int fails_with(const char *text, const char *want)
{
	struct errs e = { 0 };
	struct ferry_conf *c = load(text, &e);
	int good = !c && e.n == 1 && strcmp(e.v[0], want) == 0;

	if (!good) {
		diag("text: %s", text);
		diag("want: %s", want);
		errs_diag(&e);
	}
	errs_clear(&e);
	conf_free(c);
	return good;
}

static int fails(const char *text)
{
	struct errs e = { 0 };
	struct ferry_conf *c = load(text, &e);
	int good = !c && e.n >= 1;

	if (!good)
		diag("accepted: %s", text);
	errs_clear(&e);
	conf_free(c);
	return good;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.conf names in dir, sorted; *n set to the count. */
static char **list_confs(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".conf"))
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static const char *fmt_addr(const net_addr *a)
{
	static char buf[NET_ADDRSTRLEN];

	return net_fmt(&a->u.sa, buf, sizeof(buf));
}

static const char *fmt_ip(const net_addr *a)
{
	static char buf[NET_ADDRSTRLEN];

	return net_fmt_ip(&a->u.sa, buf, sizeof(buf));
}

static const char *fmt_cidr(const net_cidr *c)
{
	static char buf[NET_ADDRSTRLEN];

	return net_fmt_cidr(c, buf, sizeof(buf));
}

static int has_cidr(const struct conf_cidrs *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(fmt_cidr(&l->v[i]), s) == 0)
			return 1;
	return 0;
}

static char *print_to_string(const struct ferry_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	conf_print(c, f);
	fclose(f);
	return buf;
}

/* 1 when text holds key as a whole word at the start of a line, after
 * optional "#" and blanks: how the sample file names a key. */
static int mentions_key(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *s = p;
		while (*s == '#' || *s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, key, kl) == 0 &&
		    (s[kl] == ' ' || s[kl] == '\t' || s[kl] == '='))
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* ------------------------------------------------------------ fixtures */

static void test_good_fixtures(void)
{
	const char *dir = CONF_FIXTURES "/good";
	size_t n, i;
	char **names = list_confs(dir, &n);

	ok(n >= 5, "at least five good fixtures");
	for (i = 0; i < n; i++) {
		char path[1024], name[300];
		struct errs e = { 0 };
		struct ferry_conf *c;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "good/%s loads", names[i]);
		c = conf_load(path, collect, &e);
		if (!ok(c != NULL, name))
			errs_diag(&e);
		errs_clear(&e);
		conf_free(c);
		free(names[i]);
	}
	free(names);
}

static void test_bad_fixtures(void)
{
	const char *dir = CONF_FIXTURES "/bad";
	char strip[1024];
	size_t n, i;
	char **names = list_confs(dir, &n);

	snprintf(strip, sizeof(strip), "%s/", dir);
	ok(n >= 15, "at least fifteen bad fixtures");
	for (i = 0; i < n; i++) {
		char path[1024], errpath[1024], name[300];
		struct errs e = { 0 };
		struct ferry_conf *c;
		char *want, *line, *save = NULL;
		size_t k = 0;
		int good = 1;

		e.strip = strip;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(strlen(path) - 5),
			 path);
		snprintf(name, sizeof(name), "bad/%s fails as its .err says", names[i]);
		want = read_all(errpath);
		c = conf_load(path, collect, &e);
		if (!want || c)
			good = 0;
		for (line = want ? strtok_r(want, "\n", &save) : NULL; good && line;
		     line = strtok_r(NULL, "\n", &save), k++)
			if (k >= e.n || strcmp(e.v[k], line) != 0)
				good = 0;
		if (good && k != e.n)
			good = 0;
		if (!ok(good, name)) {
			if (!want)
				diag("cannot read %s", errpath);
			diag("got:");
			errs_diag(&e);
		}
		free(want);
		errs_clear(&e);
		conf_free(c);
		free(names[i]);
	}
	free(names);
}

/* ------------------------------------------------------------ defaults */

static void test_defaults(void)
{
	struct errs e = { 0 };
	struct ferry_conf *c = conf_load(CONF_FIXTURES "/good/empty.conf",
					 collect, &e);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!ok(c != NULL, "empty file loads")) {
		errs_diag(&e);
		return;
	}
	is_int(c->listen.n, 2, "listen: two defaults");
	is_str(fmt_addr(&c->listen.v[0]), "0.0.0.0:3478", "listen default 1");
	is_str(fmt_addr(&c->listen.v[1]), "[::]:3478", "listen default 2");
	is_int(c->tls_listen.n, 0, "tls-listen: none");
	is_int(c->http_listen.n, 1, "http-listen: one default");
	is_str(fmt_addr(&c->http_listen.v[0]), "127.0.0.1:8080", "http-listen default");
	is_int(c->https_listen.n, 0, "https-listen: none");
	ok(!c->cert && !c->key && !c->tls_ciphers && !c->public_host,
	   "cert, key, tls-ciphers, public-host unset");
	is_int(c->n_external, 0, "external-ip: none");
	is_int(c->relay_ip.n, 1, "relay-ip: the host's primary address");
	ok(net_family(&c->relay_ip.v[0]) == AF_INET &&
	   !net_is_wildcard(&c->relay_ip.v[0].u.sa) &&
	   net_port(&c->relay_ip.v[0].u.sa) == 0,
	   "relay-ip: a concrete IPv4 address, port 0");
	is_int(c->relay_port_min, 49152, "relay-ports min");
	is_int(c->relay_port_max, 65535, "relay-ports max");
	is_str(c->realm, "ferry", "realm");
	is_int(c->auth_secret.n, 0, "auth-secret: none");
	is_int(c->credential_ttl, 86400, "credential-ttl");
	is_int(c->n_users, 0, "user: none");
	is_str(c->database, FERRY_LOCALSTATEDIR "/lib/ferry/ferry.db", "database");
	is_int(c->allow_anonymous_stun, 1, "allow-anonymous-stun");
	is_int(c->user_quota, 48, "user-quota = 3 x room-max-peers");
	is_int(c->strict_expiry, 0, "strict-expiry");
	is_int(c->total_quota, 0, "total-quota");
	is_int(c->max_allocation_lifetime, 3600, "max-allocation-lifetime");
	is_int(c->max_bps, 0, "max-bps");
	/* denied_peer holds the file's lines only; the built-in part is the
	 * peer filter's table, which --check-config prints, each row marked. */
	is_int(c->denied_peer.n, 0, "denied-peer: no line of the file");
	{
		static const char *const marked[] = {
			"127.0.0.0/8  # built in: Loopback",
			"0.0.0.0/8  # built in: \"This network\"",
			"0.0.0.0/32  # built in: \"This host on this network\"",
			"10.0.0.0/8  # built in: Private-Use",
			"172.16.0.0/12  # built in: Private-Use",
			"192.168.0.0/16  # built in: Private-Use",
			"169.254.0.0/16  # built in: Link Local",
			"100.64.0.0/10  # built in: Shared Address Space",
			"192.0.0.0/24  # built in: IETF Protocol Assignments",
			"192.0.2.0/24  # built in: Documentation (TEST-NET-1)",
			"198.18.0.0/15  # built in: Benchmarking",
			"240.0.0.0/4  # built in: Reserved",
			"255.255.255.255/32  # built in: Limited Broadcast",
			"::/128  # built in: Unspecified Address",
			"::1/128  # built in: Loopback Address",
			"fc00::/7  # built in: Unique-Local",
			"fe80::/10  # built in: Link-Local Unicast",
			"2001:db8::/32  # built in: Documentation",
		};
		static const char *const never_denied[] = {
			"192.0.0.9/32", "2001:1::1/128", "2002::/16", "2001::/32",
			"::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "::/96",
		};
		char *out = print_to_string(c), want[256];
		const struct pf_row *t;
		size_t i, n;
		int all = 1;

		for (i = 0; i < sizeof(marked) / sizeof(marked[0]); i++) {
			snprintf(want, sizeof(want), "\ndenied-peer = %s\n", marked[i]);
			if (!strstr(out, want)) {
				diag("print lacks \"%s\"", want + 1);
				all = 0;
			}
		}
		ok(all, "denied-peer: the built-in blocks print, marked with their names");
		t = pf_table(&n);
		for (i = 0, all = 1; i < n; i++) {
			if (t[i].reachable || t[i].embed != PF_EMBED_NONE)
				continue;
			snprintf(want, sizeof(want), "\ndenied-peer = %s  # built in: %s\n",
				 t[i].cidr, t[i].name);
			if (!strstr(out, want)) {
				diag("print lacks \"%s\"", want + 1);
				all = 0;
			}
		}
		ok(all, "denied-peer: every denying row of the table prints");
		for (i = 0, all = 1; i < sizeof(never_denied) / sizeof(never_denied[0]); i++) {
			snprintf(want, sizeof(want), "\ndenied-peer = %s ", never_denied[i]);
			if (strstr(out, want)) {
				diag("print has \"%s\"", want + 1);
				all = 0;
			}
		}
		ok(all, "denied-peer: reachable and embedding rows print as comments only");
		free(out);
	}
	is_int(c->allowed_peer.n, 0, "allowed-peer: none");
	is_int(c->allow_loopback_peers, 0, "allow-loopback-peers");
	is_int(c->api_key.n, 0, "api-key: none");
	ok(!c->signaling_secret, "signaling-secret unset");
	is_int(c->auto_create_rooms, 1, "auto-create-rooms");
	is_int(c->room_max_peers, 16, "room-max-peers");
	is_int(c->reconnect_grace, 10, "reconnect-grace");
	is_int(c->signaling_idle_timeout, 30, "signaling-idle-timeout");
	is_int(c->signaling_queue, 256, "signaling-queue");
	is_int(c->signaling_max_message, 65536, "signaling-max-message");
	is_int(c->allowed_origin.n, 0, "allowed-origin: none");
	if (access(FERRY_DATADIR "/ferry/www", F_OK) == 0)
		is_str(c->web_root, FERRY_DATADIR "/ferry/www", "web-root: installed");
	else
		ok(c->web_root == NULL, "web-root: none when not installed");
	is_int(c->metrics_allow.n, 2, "metrics-allow: two defaults");
	ok(has_cidr(&c->metrics_allow, "127.0.0.0/8") &&
	   has_cidr(&c->metrics_allow, "::1/128"), "metrics-allow: loopback");
	is_int(c->threads, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu,
	       "threads: one per core");
	ok(!c->user_name && !c->group_name, "user-name, group-name unset");
	is_int(c->log_level, LOG_LVL_INFO, "log-level");
	ok(!c->log_file && !c->pid_file, "log-file, pid-file unset");
	ok(c->path && ends_with(c->path, "good/empty.conf"), "path kept");
	conf_free(c);
	errs_clear(&e);

	is_str(conf_default_path(), FERRY_SYSCONFDIR "/ferry/ferryd.conf",
	       "conf_default_path");
}

static struct ferry_conf *load_good(const char *file)
{
	char path[1024];
	struct errs e = { 0 };
	struct ferry_conf *c;

	snprintf(path, sizeof(path), "%s/good/%s", CONF_FIXTURES, file);
	c = conf_load(path, collect, &e);
	if (!c) {
		diag("%s does not load:", file);
		errs_diag(&e);
	}
	errs_clear(&e);
	return c;
}

static void test_good_values(void)
{
	struct ferry_conf *c;

	c = load_good("full.conf");
	if (ok(c != NULL, "full.conf values")) {
		is_int(c->listen.n, 2, "full: two listen lines replace the defaults");
		is_str(fmt_addr(&c->listen.v[1]), "[::1]:3479", "full: IPv6 listen");
		is_str(fmt_addr(&c->tls_listen.v[0]), "127.0.0.1:5349",
		       "full: tls-listen default port 5349");
		is_str(fmt_addr(&c->https_listen.v[0]), "127.0.0.1:8444",
		       "full: https-listen");
		is_int(c->n_external, 2, "full: two external-ip");
		is_str(fmt_ip(&c->external_ip[0].public_ip), "203.0.113.5",
		       "full: external public");
		is_str(fmt_ip(&c->external_ip[0].private_ip), "10.0.0.5",
		       "full: external private");
		ok(c->external_ip[0].has_private && !c->external_ip[1].has_private,
		   "full: has_private");
		is_int(c->relay_ip.n, 2, "full: two relay-ip");
		is_str(fmt_ip(&c->relay_ip.v[1]), "2001:db8::5", "full: relay-ip v6");
		is_int(c->relay_port_min, 40000, "full: relay-ports min");
		is_int(c->relay_port_max, 40999, "full: relay-ports max");
		is_int(c->auth_secret.n, 2, "full: two auth-secret");
		is_str(c->auth_secret.v[0], "first-secret", "full: first secret first");
		is_int(c->n_users, 2, "full: two users");
		is_str(c->users[1].name, "bob", "full: user name");
		is_str(c->users[1].password, "pa:ss", "full: password may hold ':'");
		is_int(c->user_quota, 10, "full: user-quota as set");
		/* The file's own 2 (the table is built in, not copied here). */
		is_int(c->denied_peer.n, 2, "full: denied-peer holds the file's lines");
		ok(has_cidr(&c->denied_peer, "198.51.100.0/24") &&
		   has_cidr(&c->denied_peer, "2001:db8:bad::/48"),
		   "full: the file's blocks are there");
		is_int(c->allowed_peer.n, 2, "full: allowed-peer");
		is_int(c->metrics_allow.n, 1, "full: metrics-allow replaces its default");
		is_int(c->threads, 2, "full: threads");
		is_int(c->log_level, LOG_LVL_DEBUG, "full: log-level");
		is_str(c->web_root, "/tmp", "full: web-root");
		is_str(c->user_name, "nobody", "full: user-name");
		is_str(c->allowed_origin.v[1], "http://localhost:8080",
		       "full: allowed-origin");
	}
	conf_free(c);

	c = load_good("ipv6.conf");
	if (ok(c != NULL, "ipv6.conf values")) {
		is_int(c->listen.n, 3, "ipv6: three listeners");
		is_str(fmt_addr(&c->listen.v[0]), "[::]:3478", "ipv6: [::] gets 3478");
		is_str(fmt_addr(&c->listen.v[2]), "[::1]:3478", "ipv6: bare ::1");
		is_int(c->relay_ip.n, 1, "ipv6: one relay-ip");
		is_str(fmt_addr(&c->relay_ip.v[0]), "[2001:db8::1]:0",
		       "ipv6: relay-ip = first non-wildcard listen, port 0");
		is_str(fmt_addr(&c->https_listen.v[0]), "[::]:8443",
		       "ipv6: https-listen default port 8443");
	}
	conf_free(c);

	c = load_good("quoted.conf");
	if (ok(c != NULL, "quoted.conf values")) {
		is_str(c->realm, "ferry # not a comment", "quoted: # inside quotes");
		is_str(c->auth_secret.v[0], "  spaces kept  ", "quoted: blanks kept");
		is_str(c->signaling_secret, "say \"hi\" \\ bye", "quoted: escapes");
		is_str(c->users[0].password, "pass word#1", "quoted: user");
		ok(c->web_root == NULL, "quoted: web-root = \"\" means none");
		is_str(c->log_file, "stderr", "quoted: log-file stderr");
	}
	conf_free(c);

	c = load_good("comments.conf");
	if (ok(c != NULL, "comments.conf values")) {
		is_int(c->listen.n, 1, "comments: one listener");
		is_str(c->realm, "ferry.test", "comments: comment right after value");
		is_int(c->room_max_peers, 4, "comments: blanks trimmed");
		is_int(c->user_quota, 12, "comments: user-quota follows room-max-peers");
		ok(c->web_root == NULL, "comments: empty web-root means none");
		is_str(fmt_ip(&c->relay_ip.v[0]), "127.0.0.1",
		       "comments: relay-ip from listen");
	}
	conf_free(c);

	c = load_good("crlf-and-booleans.conf");
	if (ok(c != NULL, "crlf-and-booleans.conf values")) {
		is_int(c->strict_expiry, 1, "crlf: TRUE");
		is_int(c->allow_anonymous_stun, 0, "crlf: off");
		is_int(c->auto_create_rooms, 1, "crlf: 1");
		is_int(c->allow_loopback_peers, 1, "crlf: On");
		is_int(c->log_level, LOG_LVL_WARN, "crlf: WARN");
		is_str(c->log_file, "syslog", "crlf: log-file syslog");
	}
	conf_free(c);
}

/* ------------------------------------------------------------ types */

static void test_types(void)
{
	struct errs e = { 0 };
	struct ferry_conf *c;

	/* allow-loopback-peers also drops the file's lines that are exactly a
	 * loopback or this-host block; other lines stay. */
	c = load("allow-loopback-peers = yes\ndenied-peer = 127.0.0.0/8\n"
		 "denied-peer = ::1\ndenied-peer = 0.0.0.0/32\ndenied-peer = 0.0.0.0/8\n"
		 "denied-peer = ::/128\ndenied-peer = 127.0.0.0/9\n"
		 "denied-peer = 9.9.9.0/24", &e);
	if (ok(c != NULL, "denied-peer with allow-loopback-peers loads")) {
		is_int(c->denied_peer.n, 2, "allow-loopback-peers: the file's loopback blocks go");
		ok(has_cidr(&c->denied_peer, "127.0.0.0/9") &&
		   has_cidr(&c->denied_peer, "9.9.9.0/24"),
		   "allow-loopback-peers: other lines stay");
	}
	conf_free(c);
	c = load("denied-peer = 127.0.0.0/8\ndenied-peer = ::1\ndenied-peer = 9.9.9.0/24", &e);
	if (ok(c != NULL, "denied-peer without allow-loopback-peers loads"))
		is_int(c->denied_peer.n, 3, "denied-peer: every line kept");
	conf_free(c);
	errs_clear(&e);

	/* booleans */
	ok(loads("strict-expiry = yes\nallow-anonymous-stun = No\n"
		 "auto-create-rooms = false\nallow-loopback-peers = 0"),
	   "bool: yes, No, false, 0");
	ok(fails_with("strict-expiry = y",
		      "t.conf:1: error: strict-expiry: expected yes or no, got \"y\""),
	   "bool: y refused");

	/* integers */
	ok(loads("credential-ttl = 60\nmax-allocation-lifetime = 86400"),
	   "int: the ends of the range");
	ok(fails_with("credential-ttl = 59",
		      "t.conf:1: error: credential-ttl: expected an integer from 60 to 31536000, got \"59\""),
	   "int: below the range");
	ok(fails("room-max-peers = 1001"), "int: above the range");
	ok(fails("room-max-peers = +5"), "int: sign refused");
	ok(fails("room-max-peers = 0x10"), "int: hex refused");
	ok(fails("signaling-max-message = 1 024"), "int: inner blank refused");
	c = load("room-max-peers = 2\nuser-quota = 0", &e);
	ok(c && c->user_quota == 0, "int: user-quota 0 (none) kept as set");
	conf_free(c);

	/* threads */
	c = load("threads = 256", &e);
	ok(c && c->threads == 256, "threads: 256");
	conf_free(c);
	ok(fails_with("threads = 257",
		      "t.conf:1: error: threads: expected auto or an integer from 1 to 256, got \"257\""),
	   "threads: 257 refused");

	/* strings */
	ok(fails_with("realm = \"\"",
		      "t.conf:1: error: realm: expected a string of 1 to 127 bytes, got an empty value"),
	   "string: empty");
	ok(fails_with("auth-secret =",
		      "t.conf:1: error: auth-secret: expected a non-empty string, got an empty value"),
	   "string: empty secret");

	/* hosts and origins */
	ok(loads("public-host = turn-1.example.org"), "host: DNS name");
	ok(loads("public-host = [2001:db8::1]"), "host: bracketed IPv6");
	ok(loads("public-host = 192.0.2.7"), "host: IPv4");
	ok(fails("public-host = -bad.example.org"), "host: leading dash refused");
	ok(fails("public-host = 2001:db8::1"), "host: bare IPv6 refused");
	ok(loads("allowed-origin = https://[2001:db8::1]:8443"), "origin: IPv6 with port");
	ok(fails("allowed-origin = ftp://example.org"), "origin: ftp refused");

	/* files */
	ok(loads("cert = /etc/passwd\nkey = /etc/passwd"), "file: existing");
	ok(fails_with("cert = /etc\nkey = /etc/passwd",
		      "t.conf:1: error: cert: expected an existing file, got \"/etc\" (a directory, not a file)"),
	   "file: directory refused");
	ok(loads("database = /tmp/x.db\nlog-file = /tmp/x.log\npid-file = /tmp/x.pid"),
	   "writable paths in /tmp");
	ok(loads("database = relative.db"), "writable: relative to the working directory");
	ok(fails_with("database = /etc/passwd/ferry.db",
		      "t.conf:1: error: database: expected a file path in an existing folder, got \"/etc/passwd/ferry.db\" (/etc/passwd is not a folder)"),
	   "writable: folder is a file");

	/* addresses */
	c = load("listen = 192.0.2.1\nlisten = [2001:db8::2]:4000\n"
		 "tls-listen = 192.0.2.1\nhttp-listen = [::1]\n"
		 "https-listen = 192.0.2.1\ncert = /etc/passwd\nkey = /etc/passwd", &e);
	if (ok(c != NULL, "listen: default ports per key")) {
		is_str(fmt_addr(&c->listen.v[0]), "192.0.2.1:3478", "listen 3478");
		is_str(fmt_addr(&c->listen.v[1]), "[2001:db8::2]:4000", "listen explicit");
		is_str(fmt_addr(&c->tls_listen.v[0]), "192.0.2.1:5349", "tls-listen 5349");
		is_str(fmt_addr(&c->http_listen.v[0]), "[::1]:8080", "http-listen 8080");
		is_str(fmt_addr(&c->https_listen.v[0]), "192.0.2.1:8443",
		       "https-listen 8443");
		is_str(fmt_addr(&c->relay_ip.v[0]), "192.0.2.1:0",
		       "relay-ip: first non-wildcard listen");
	}
	conf_free(c);
	c = load("listen = 0.0.0.0\nlisten = 192.0.2.9:3478", &e);
	ok(c && c->relay_ip.n == 1 && strcmp(fmt_ip(&c->relay_ip.v[0]), "192.0.2.9") == 0,
	   "relay-ip: wildcards skipped");
	conf_free(c);
	ok(fails("listen = 192.0.2.1:"), "listen: empty port");
	ok(fails("listen = [::1"), "listen: unclosed bracket");
	ok(loads("relay-ip = ::1"), "ip: bare IPv6");
	ok(loads("relay-ip = [::1]"), "ip: bracketed IPv6");
	ok(fails("relay-ip = ::"), "ip: IPv6 wildcard refused");

	/* CIDRs */
	ok(loads("allowed-peer = 10.1.2.3\nallowed-peer = ::ffff:0:0/96"),
	   "cidr: bare address and IPv6 block");
	ok(fails("metrics-allow = 10.0.0.0/8/8"), "cidr: two slashes");

	/* port ranges */
	c = load("relay-ports = 1024-65535", &e);
	ok(c && c->relay_port_min == 1024 && c->relay_port_max == 65535,
	   "ports: the widest range");
	conf_free(c);
	ok(fails("relay-ports = 1023-2000"), "ports: below 1024");
	ok(fails("relay-ports = 2000-"), "ports: open end");
	ok(fails("relay-ports = -2000"), "ports: open start");
	ok(fails("relay-ports = 2000-3000-4000"), "ports: three parts");

	/* users: errors never show the password */
	ok(fails_with("user = alice-without-password",
		      "t.conf:1: error: user: expected NAME:PASSWORD with a non-empty name and password"),
	   "user: no ':'; value not echoed");
	ok(fails_with("user = al\x01ice:hunter2",
		      "t.conf:1: error: user: the name must be 1 to 255 bytes without control characters"),
	   "user: a control character in the name is refused, the password not echoed");

	/* external-ip */
	ok(loads("external-ip = 2001:db8::1/2001:db8::2"), "external: IPv6 pair");
	ok(fails("external-ip = 203.0.113.1/"), "external: empty private");

	/* log levels */
	c = load("log-level = error", &e);
	ok(c && c->log_level == LOG_LVL_ERROR, "log-level: error");
	conf_free(c);

	/* web-root */
	ok(fails_with("web-root = /etc/passwd",
		      "t.conf:1: error: web-root: expected an existing directory, or nothing for none, got \"/etc/passwd\" (not a directory)"),
	   "web-root: a file refused");
	c = load("web-root = /tmp", &e);
	ok(c && c->web_root && strcmp(c->web_root, "/tmp") == 0, "web-root: set");
	conf_free(c);

	errs_clear(&e);
}

static void test_syntax(void)
{
	struct errs e = { 0 };
	struct ferry_conf *c;

	ok(fails_with("  = x", "t.conf:1: error: expected a key before \"=\""),
	   "syntax: no key");
	ok(fails_with("realm=\"a\"b",
		      "t.conf:1: error: realm: expected only a comment after the closing quote"),
	   "syntax: text after quotes");
	ok(fails_with("# x\n\nrealm = \"abc # def",
		      "t.conf:3: error: realm: expected a closing double quote"),
	   "syntax: unterminated quote, line counted");
	ok(fails_with("Realm = x",
		      "t.conf:1: error: Realm: unknown key, did you mean \"realm\"?"),
	   "syntax: keys are case-sensitive, with a suggestion");
	c = load("realm = a\"b", &e);
	ok(c && strcmp(c->realm, "a\"b") == 0, "syntax: a quote inside an unquoted value");
	conf_free(c);
	c = load("realm = \"a=b\"", &e);
	ok(c && strcmp(c->realm, "a=b") == 0, "syntax: '=' inside a value");
	conf_free(c);
	c = load("", &e);
	ok(c != NULL, "syntax: empty string");
	conf_free(c);

	/* A file that cannot be opened. */
	errs_clear(&e);
	c = conf_load("/nonexistent/ferryd.conf", collect, &e);
	ok(!c && e.n == 1 &&
	   strcmp(e.v[0], "/nonexistent/ferryd.conf: error: cannot open: No such file or directory") == 0,
	   "missing file reported");
	errs_clear(&e);
}

static void test_many_errors(void)
{
	struct errs e = { 0 };
	struct ferry_conf *c;

	c = load("listen = nowhere\n"
		 "realm = a\n"
		 "realm = b\n"
		 "bogus = 1\n"
		 "relay-ports = 1-2\n"
		 "strict-expiry = perhaps\n"
		 "cert = /etc/passwd\n", &e);
	ok(c == NULL, "many errors: refused");
	is_int(e.n, 6, "many errors: every one reported");
	if (e.n == 6) {
		ok(strncmp(e.v[0], "t.conf:1: error: listen: ", 25) == 0, "many: line 1");
		ok(strncmp(e.v[1], "t.conf:3: error: realm: ", 24) == 0, "many: line 3");
		ok(strncmp(e.v[2], "t.conf:4: error: bogus: ", 24) == 0, "many: line 4");
		ok(strncmp(e.v[3], "t.conf:5: error: relay-ports: ", 30) == 0, "many: line 5");
		ok(strncmp(e.v[4], "t.conf:6: error: strict-expiry: ", 32) == 0, "many: line 6");
		is_str(e.v[5], "t.conf:7: error: cert: expected key to be set as well",
		       "many: cross-key check last");
	} else {
		errs_diag(&e);
	}
	errs_clear(&e);

	/* The default handler writes to stderr and the load still fails. */
	c = conf_load_string("stderr.conf", "bogus = 1", NULL, NULL);
	ok(c == NULL, "NULL error handler: refused");
}

/* ------------------------------------------------------------ print */

static void test_print(void)
{
	struct errs e = { 0 };
	struct ferry_conf *c = load_good("full.conf");
	char *out;
	size_t i;
	int all = 1;

	if (!ok(c != NULL, "print: full.conf loads"))
		return;
	out = print_to_string(c);
	for (i = 0; conf_key_name(i); i++) {
		if (!mentions_key(out, conf_key_name(i))) {
			diag("conf_print lacks %s", conf_key_name(i));
			all = 0;
		}
	}
	ok(i >= 40, "the table has every key of the spec");
	{
		struct conf_key_info ki;
		size_t k;
		int helped = 1;

		for (k = 0; conf_key_info(k, &ki) == 0; k++)
			if (!ki.help || !*ki.help || strcmp(ki.name, conf_key_name(k)))
				helped = 0;
		ok(helped && k == i, "conf_key_info: every key has a help line");
		ok(conf_key_info(k, &ki) < 0, "conf_key_info: -1 past the end");
	}
	ok(all, "print: every key of the table");
	ok(strstr(out, "\nlisten = 127.0.0.1:3479\nlisten = [::1]:3479\n") != NULL,
	   "print: repeatable key one line per value");
	ok(strstr(out, "\nrelay-ports = 40000-40999\n") != NULL, "print: port range");
	ok(strstr(out, "\nexternal-ip = 203.0.113.5/10.0.0.5\n") != NULL,
	   "print: external-ip");
	ok(strstr(out, "\nauth-secret = (set)\nauth-secret = (set)\n") != NULL,
	   "print: auth-secret hidden");
	ok(strstr(out, "\nsignaling-secret = (set)\n") != NULL,
	   "print: signaling-secret hidden");
	ok(strstr(out, "\nuser = alice:(set)\n") != NULL, "print: password hidden");
	ok(!strstr(out, "wonderland") && !strstr(out, "first-secret") &&
	   !strstr(out, "key-one") && !strstr(out, "a-signaling-secret"),
	   "print: no secret anywhere");
	ok(strstr(out, "\ndenied-peer = 10.0.0.0/8  # built in: Private-Use\n") != NULL &&
	   strstr(out, "\ndenied-peer = 198.51.100.0/24  # built in: "
		  "Documentation (TEST-NET-2)\n") != NULL &&
	   strstr(out, "\ndenied-peer = 198.51.100.0/24\n") != NULL &&
	   strstr(out, "\ndenied-peer = 2001:db8:bad::/48\n") != NULL,
	   "print: denied-peer built-ins marked, then the file's lines");
	/* full.conf has allow-loopback-peers = yes */
	ok(!strstr(out, "\ndenied-peer = 127.0.0.0/8") &&
	   !strstr(out, "\ndenied-peer = 0.0.0.0/8") &&
	   !strstr(out, "\ndenied-peer = 0.0.0.0/32") &&
	   !strstr(out, "\ndenied-peer = ::1/128") &&
	   !strstr(out, "\ndenied-peer = ::/128") &&
	   strstr(out, "\n# denied-peer: 127.0.0.0/8 not denied (allow-loopback-peers)"),
	   "print: allow-loopback-peers takes the loopback rows off the denied lines");
	ok(strstr(out, "\nstrict-expiry = yes\n") && strstr(out, "\nlog-level = debug\n"),
	   "print: booleans and log level as words");
	free(out);
	conf_free(c);

	c = load_good("empty.conf");
	out = print_to_string(c);
	ok(strstr(out, "\n# cert = (none)\n") && strstr(out, "\n# pid-file = (none)\n") &&
	   strstr(out, "\n# auth-secret = (none)\n"),
	   "print: unset keys as comments");
	free(out);
	conf_free(c);

	/* What conf_print writes reads back the same (without secrets). */
	c = load("realm = \"a # b \\\" c\"\nlisten = 192.0.2.1\n"
		 "database = /tmp/ferry-print.db\n", &e);
	out = c ? print_to_string(c) : NULL;
	conf_free(c);
	c = out ? load(out, &e) : NULL;
	ok(c && strcmp(c->realm, "a # b \" c") == 0 && c->listen.n == 1,
	   "print: output parses back");
	if (!c)
		errs_diag(&e);
	conf_free(c);
	free(out);
	errs_clear(&e);
}

/* ------------------------------------------------------------ restart */

static void test_restart(void)
{
	struct errs e = { 0 };
	struct ferry_conf *a = load("listen = 192.0.2.1\nrealm = a\nthreads = 2", &e);
	struct ferry_conf *b = load("listen = 192.0.2.1\nrealm = b\nthreads = 2\n"
				    "log-level = debug\nauth-secret = s", &e);
	struct ferry_conf *d = load("listen = 192.0.2.2\nrealm = a\nthreads = 2", &e);
	struct ferry_conf *t = load("listen = 192.0.2.1\nthreads = 3", &e);
	struct ferry_conf *p = load("listen = 192.0.2.1\nthreads = 2\n"
				    "relay-ports = 50000-50100", &e);
	struct ferry_conf *u = load("listen = 192.0.2.1\nthreads = 2\n"
				    "user-name = nobody", &e);
	char what[64] = "x";

	if (!ok(a && b && d && t && p && u, "restart: fixtures load")) {
		errs_diag(&e);
		goto out;
	}
	is_int(conf_needs_restart(a, b, what, sizeof(what)), 0,
	       "restart: realm, log level, secrets reload");
	is_str(what, "", "restart: nothing named");
	is_int(conf_needs_restart(a, d, what, sizeof(what)), 1, "restart: listen");
	is_str(what, "listen", "restart: names listen");
	is_int(conf_needs_restart(a, t, what, sizeof(what)), 1, "restart: threads");
	is_str(what, "threads", "restart: names threads");
	is_int(conf_needs_restart(a, p, what, sizeof(what)), 1, "restart: relay-ports");
	is_str(what, "relay-ports", "restart: names relay-ports");
	is_int(conf_needs_restart(a, u, NULL, 0), 1, "restart: user-name");
	{
		/* next takes the running values of the keys that need a
		 * restart, and running gets next's, to be freed with it. */
		const char *text = "listen = 192.0.2.1\nrealm = a\nthreads = 2";
		struct ferry_conf *run = load(text, &e), *ref = load(text, &e);
		struct ferry_conf *next = load("listen = 192.0.2.2\nrealm = c\n"
					       "threads = 3\nrelay-ports = 50000-50100\n"
					       "user-name = nobody", &e);

		if (ok(run && ref && next, "keep running: fixtures load")) {
			conf_keep_running(next, run);
			is_int(conf_needs_restart(ref, next, what, sizeof(what)), 0,
			       "keep running: next runs with what is running");
			is_str(next->realm, "c", "keep running: next keeps the rest");
			is_int(conf_needs_restart(ref, run, what, sizeof(what)), 1,
			       "keep running: running holds next's values");
			is_str(what, "listen, relay-ports, threads, user-name",
			       "keep running: every key that needs a restart");
		}
		conf_free(run);
		conf_free(ref);
		conf_free(next);
	}
out:
	conf_free(a);
	conf_free(b);
	conf_free(d);
	conf_free(t);
	conf_free(p);
	conf_free(u);
	errs_clear(&e);
}

/* Every row of the table has a whole type: a key that needs a restart is
 * compared and exchanged on reload, never silently taken as unchanged. */
static void test_type_rows(void)
{
	size_t i;
	int whole = 1, restart = 1;

	for (i = 0; i < directive_count; i++) {
		const struct directive *d = &directive_table[i];
		const struct conf_type *t = d->type;

		if (!t || !t->parse || !t->describe || !t->print ||
		    !t->equal != !t->swap) {
			diag("%s: incomplete type", d->name);
			whole = 0;
		} else if ((d->flags & F_RESTART) && !t->equal) {
			diag("%s: needs a restart but is never compared", d->name);
			restart = 0;
		}
	}
	ok(whole, "types: every key has parse, describe, print, and equal with swap");
	ok(restart, "types: every key that needs a restart is compared");
}

/* ------------------------------------------------------------ sample file */

static void test_sample_file(void)
{
	const char *path = CONF_FIXTURES "/../../etc/ferryd.conf";
	char *text = read_all(path);
	struct errs e = { 0 };
	struct ferry_conf *c;
	size_t i;
	int all = 1;

	if (!ok(text != NULL, "etc/ferryd.conf readable"))
		return;
	for (i = 0; conf_key_name(i); i++) {
		if (!mentions_key(text, conf_key_name(i))) {
			diag("etc/ferryd.conf does not mention %s", conf_key_name(i));
			all = 0;
		}
	}
	ok(all, "etc/ferryd.conf mentions every key of the table");

	/* Each default of the table appears as "#key = value".  The database
	 * path depends on configure's prefix, so the sample shows Debian's. */
	all = 1;
	for (i = 0; conf_key_name(i); i++) {
		struct conf_key_info ki;
		char *defs, *tok, *save = NULL, want[256];

		if (conf_key_info(i, &ki) < 0 || !ki.def || ki.computed ||
		    strcmp(ki.name, "database") == 0)
			continue;
		defs = strdup(ki.def);
		for (tok = strtok_r(defs, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			snprintf(want, sizeof(want), "\n#%s = %s\n", ki.name, tok);
			if (!strstr(text, want)) {
				diag("etc/ferryd.conf lacks \"#%s = %s\"", ki.name, tok);
				all = 0;
			}
		}
		free(defs);
	}
	ok(all, "etc/ferryd.conf shows every default of the table");
	c = conf_load(path, collect, &e);
	if (!ok(c != NULL, "etc/ferryd.conf parses as is"))
		errs_diag(&e);
	conf_free(c);
	errs_clear(&e);

	/* Uncommenting every "# key = value" line of the sample must give a
	 * file that still parses, apart from keys whose example values name
	 * files or need a partner: so at least every value's syntax is
	 * checked.  Lines are tried one at a time. */
	{
		char *line, *save = NULL, *copy = strdup(text);
		int bad = 0;

		for (line = strtok_r(copy, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *s = line;
			size_t k;
			int is_key = 0;

			if (strncmp(s, "#", 1) != 0)
				continue;
			s++;
			while (*s == ' ')
				s++;
			for (k = 0; conf_key_name(k); k++) {
				size_t kl = strlen(conf_key_name(k));
				if (strncmp(s, conf_key_name(k), kl) == 0 &&
				    strncmp(s + kl, " = ", 3) == 0)
					is_key = 1;
			}
			if (!is_key)
				continue;
			/* Values that name files, accounts or need a partner
			 * are examples the sample cannot make true everywhere. */
			if (!strncmp(s, "cert", 4) || !strncmp(s, "key ", 4) ||
			    !strncmp(s, "tls-listen", 10) ||
			    !strncmp(s, "https-listen", 12) ||
			    !strncmp(s, "database", 8) || !strncmp(s, "web-root", 8) ||
			    !strncmp(s, "log-file", 8) || !strncmp(s, "pid-file", 8) ||
			    !strncmp(s, "user-name", 9) || !strncmp(s, "group-name", 10))
				continue;
			c = load(s, &e);
			if (!c) {
				diag("sample line does not parse: %s", s);
				errs_diag(&e);
				bad++;
			}
			conf_free(c);
		}
		ok(bad == 0, "etc/ferryd.conf: every commented-out setting parses");
		free(copy);
		errs_clear(&e);
	}
	free(text);
}

/* etc/demo.conf.in, filled in as `make demo` does, loads. */
static void test_demo_file(void)
{
	char *in = read_all(CONF_FIXTURES "/../../etc/demo.conf.in");
	char tmpl[] = "/tmp/test_conf.XXXXXX", demo[64], *out, *w;
	const char *src = CONF_FIXTURES "/../..", *s;
	struct errs e = { 0 };
	struct ferry_conf *c;

	if (!ok(in != NULL, "etc/demo.conf.in readable"))
		return;
	if (!mkdtemp(tmpl)) {
		ok(0, "mkdtemp");
		free(in);
		return;
	}
	snprintf(demo, sizeof(demo), "%s/demo", tmpl);
	mkdir(demo, 0700);
	out = w = malloc(strlen(in) * 4 + 1024);
	for (s = in; *s; ) {
		if (strncmp(s, "@abs_top_srcdir@", 16) == 0) {
			w += sprintf(w, "%s", src);
			s += 16;
		} else if (strncmp(s, "@abs_top_builddir@", 18) == 0) {
			w += sprintf(w, "%s", tmpl);
			s += 18;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
	c = load(out, &e);
	if (ok(c != NULL, "etc/demo.conf.in loads once filled in")) {
		is_str(fmt_addr(&c->listen.v[0]), "127.0.0.1:3478", "demo: listen");
		is_str(fmt_ip(&c->relay_ip.v[0]), "127.0.0.1", "demo: relay-ip");
		ok(c->allow_loopback_peers && !has_cidr(&c->denied_peer, "127.0.0.0/8"),
		   "demo: loopback peers allowed");
		is_str(c->auth_secret.v[0], "demo-secret-change-me", "demo: secret");
		is_int(c->threads, 1, "demo: one thread");
	} else {
		errs_diag(&e);
	}
	conf_free(c);
	errs_clear(&e);
	rmdir(demo);
	rmdir(tmpl);
	free(out);
	free(in);
}

/* The man page names every key (roff writes '-' as "\-"). */
static void test_man_page(void)
{
	char *text = read_all(CONF_FIXTURES "/../../doc/ferryd.conf.5");
	size_t i;
	int all = 1;

	if (!ok(text != NULL, "doc/ferryd.conf.5 readable"))
		return;
	for (i = 0; conf_key_name(i); i++) {
		const char *k = conf_key_name(i);
		char roff[128], *w = roff;
		const char *s;

		for (s = k; *s && w < roff + sizeof(roff) - 3; s++) {
			if (*s == '-')
				*w++ = '\\';
			*w++ = *s;
		}
		*w = '\0';
		if (!strstr(text, roff) && !strstr(text, k)) {
			diag("doc/ferryd.conf.5 does not mention %s", k);
			all = 0;
		}
	}
	ok(all, "doc/ferryd.conf.5 mentions every key of the table");
	free(text);
}

int main(void)
{
	test_good_fixtures();
	test_bad_fixtures();
	test_defaults();
	test_good_values();
	test_types();
	test_syntax();
	test_many_errors();
	test_print();
	test_restart();
	test_type_rows();
	test_sample_file();
	test_demo_file();
	test_man_page();
	return tap_done();
}
