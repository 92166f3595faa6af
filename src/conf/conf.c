/*
 * conf — see conf.h.
 *
 * Everything here reads one table, `directives` below.  A line of the file
 * is looked up in it, its value is checked and stored by set_value()
 * according to the entry's type, and the keys that no line set get their
 * default by running the entry's default text through the same
 * set_value().  conf_print(), conf_free(), conf_needs_restart() and the
 * tests walk the same table, so a key added to it is parsed, defaulted,
 * printed, freed and checked against etc/ferryd.conf without further code.
 */
#include "config.h"
#include "core/names.h"
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* strtok_r, strcasecmp, SOCK_CLOEXEC under -std=c11 */
#endif

#include "conf/conf.h"
#include "core/log.h"
#include "core/net.h"
#include "core/peerfilter.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#ifndef FERRY_SYSCONFDIR
#define FERRY_SYSCONFDIR "/usr/local/etc"
#endif
#ifndef FERRY_LOCALSTATEDIR
#define FERRY_LOCALSTATEDIR "/usr/local/var"
#endif
#ifndef FERRY_DATADIR
#define FERRY_DATADIR "/usr/local/share"
#endif

/* A file larger than this is not a configuration file. */
#define CONF_MAX_SIZE (1024 * 1024)
#define ERRLEN 1024

enum ctype {
	CT_BOOL,        /* int: yes/no, true/false, on/off, 1/0 */
	CT_INT,         /* long in [min, max] */
	CT_STR,         /* char * or conf_strs; at most max bytes when max > 0 */
	CT_HOST,        /* char *: a host name or [IPv6] for URLs */
	CT_CIPHERS,     /* char *: an OpenSSL cipher list that selects something */
	CT_ORIGIN,      /* conf_strs: scheme://host[:port] */
	CT_FILE,        /* char *: a file that must exist */
	CT_DIR,         /* char *: a directory that must exist */
	CT_WPATH,       /* char *: a file ferryd writes; its folder must exist */
	CT_LOGFILE,     /* char *: "syslog", "stderr" or a CT_WPATH */
	CT_LISTEN,      /* conf_addrs: ADDRESS[:PORT], port defaults to .port */
	CT_IP,          /* conf_addrs: an address without a port, not a wildcard */
	CT_CIDR,        /* conf_cidrs */
	CT_PORTS,       /* two ints, off and off2: A-B */
	CT_USER,        /* conf_user array at off, its count at off2 */
	CT_EXTERNAL,    /* conf_external array at off, its count at off2 */
	CT_LOGLEVEL,    /* int: enum log_level */
	CT_THREADS,     /* long: "auto" or 1..256 */
};

#define F_REPEAT  0x01  /* may be given on several lines; lines replace the default */
#define F_SECRET  0x02  /* never printed, never echoed in an error */
#define F_EMPTY   0x04  /* an empty value is allowed and means "none" */
#define F_DERIVED 0x08  /* def only describes the default; resolve() computes it */
#define F_RESTART 0x10  /* a change takes a restart, not a reload */
#define F_SYSUSER 0x20  /* CT_STR naming an account of this system */
#define F_SYSGROUP 0x40 /* CT_STR naming a group of this system */

struct directive {
	const char *name;
	enum ctype type;
	unsigned flags;
	long min, max;          /* CT_INT range; CT_STR longest value (0: any) */
	int port;               /* CT_LISTEN default port */
	/* The default as it would be written in the file (repeatable keys:
	 * values separated by spaces), or NULL for none.  With F_DERIVED a
	 * description for people, not parsed. */
	const char *def;
	const char *help;
	size_t off, off2;       /* where the value lives in struct ferry_conf */
};

#define OFF(f) offsetof(struct ferry_conf, f)

static const struct directive directives[] = {
	/* listeners */
	{ "listen", CT_LISTEN, F_REPEAT | F_RESTART, 0, 0, 3478,
	  "0.0.0.0:3478 [::]:3478",
	  "STUN/TURN over UDP and TCP", OFF(listen), 0 },
	{ "tls-listen", CT_LISTEN, F_REPEAT | F_RESTART, 0, 0, 5349, NULL,
	  "TURN over TLS (TCP) and DTLS (UDP); needs cert and key",
	  OFF(tls_listen), 0 },
	{ "http-listen", CT_LISTEN, F_REPEAT | F_RESTART, 0, 0, 8080,
	  "127.0.0.1:8080",
	  "HTTP API, signaling WebSocket and web app", OFF(http_listen), 0 },
	{ "https-listen", CT_LISTEN, F_REPEAT | F_RESTART, 0, 0, 8443, NULL,
	  "the same over TLS; needs cert and key", OFF(https_listen), 0 },
	{ "cert", CT_FILE, 0, 0, 0, 0, NULL,
	  "PEM certificate chain", OFF(cert), 0 },
	{ "key", CT_FILE, 0, 0, 0, 0, NULL,
	  "PEM private key of cert", OFF(key), 0 },
	{ "tls-ciphers", CT_CIPHERS, 0, 0, 0, 0, NULL,
	  "cipher list for TLS 1.2 and DTLS 1.2 (unset: OpenSSL's defaults)",
	  OFF(tls_ciphers), 0 },
	{ "public-host", CT_HOST, 0, 0, 0, 0, NULL,
	  "host name put in ICE server URLs (unset: the Host header's)",
	  OFF(public_host), 0 },

	/* relay */
	{ "external-ip", CT_EXTERNAL, F_REPEAT, 0, 0, 0, NULL,
	  "PUBLIC[/PRIVATE]: address advertised for relays behind 1:1 NAT",
	  OFF(external_ip), OFF(n_external) },
	{ "relay-ip", CT_IP, F_REPEAT | F_DERIVED | F_RESTART, 0, 0, 0,
	  "the first listen address that is not a wildcard, else the host's primary address",
	  "addresses relay sockets bind to", OFF(relay_ip), 0 },
	{ "relay-ports", CT_PORTS, F_RESTART, 0, 0, 0, "49152-65535",
	  "UDP port range for relays", OFF(relay_port_min), OFF(relay_port_max) },

	/* authentication */
	{ "realm", CT_STR, 0, 0, 127, 0, "ferry",
	  "STUN realm", OFF(realm), 0 },
	{ "auth-secret", CT_STR, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "shared secret for ephemeral credentials; the first one signs",
	  OFF(auth_secret), 0 },
	{ "credential-ttl", CT_INT, 0, 60, 31536000, 0, "86400",
	  "seconds an issued credential stays valid", OFF(credential_ttl), 0 },
	{ "user", CT_USER, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "NAME:PASSWORD static long-term credential", OFF(users), OFF(n_users) },
	{ "database", CT_WPATH, F_RESTART, 0, 0, 0,
	  FERRY_LOCALSTATEDIR "/lib/ferry/ferry.db",
	  "sqlite file: users, secrets, rooms", OFF(database), 0 },
	{ "allow-anonymous-stun", CT_BOOL, 0, 0, 0, 0, "yes",
	  "answer Binding requests without credentials",
	  OFF(allow_anonymous_stun), 0 },
	{ "user-quota", CT_INT, F_DERIVED, 0, 1000000, 0,
	  "3 x room-max-peers",
	  "concurrent allocations per credential user (0 = none)",
	  OFF(user_quota), 0 },
	{ "strict-expiry", CT_BOOL, 0, 0, 0, 0, "no",
	  "end an allocation when its ephemeral credential expires",
	  OFF(strict_expiry), 0 },
	{ "total-quota", CT_INT, 0, 0, 10000000, 0, "0",
	  "concurrent allocations in all (0 = none)", OFF(total_quota), 0 },
	{ "max-allocation-lifetime", CT_INT, 0, 60, 86400, 0, "3600",
	  "longest allocation lifetime a client may ask for, in seconds",
	  OFF(max_allocation_lifetime), 0 },
	{ "max-bps", CT_INT, 0, 0, 2147483647L, 0, "0",
	  "relayed bytes per second per allocation (0 = none)", OFF(max_bps), 0 },
	{ "tcp-idle-timeout", CT_INT, 0, 1, 3600, 0, "30",
	  "seconds a TCP/TLS client without an allocation may stay silent",
	  OFF(tcp_idle_timeout), 0 },
	{ "unauth-rate", CT_INT, 0, 0, 1000000, 0, "100",
	  "answers per second to one address for requests without valid credentials (0 = no limit)",
	  OFF(unauth_rate), 0 },
	{ "max-allocations-per-address", CT_INT, 0, 0, 1000000, 0, "256",
	  "concurrent allocations from one client IP address (0 = none)",
	  OFF(max_allocations_per_address), 0 },
	{ "max-tcp-connections", CT_INT, 0, 0, 10000000, 0, "20000",
	  "open TCP/TLS connections in all, per listener kind (0 = none)",
	  OFF(max_tcp_connections), 0 },
	{ "max-tcp-connections-per-address", CT_INT, 0, 0, 10000000, 0, "200",
	  "open TCP/TLS connections from one IP address, per listener kind (0 = none)",
	  OFF(max_tcp_connections_per_address), 0 },

	/* peer filter */
	{ "denied-peer", CT_CIDR, F_REPEAT | F_DERIVED, 0, 0, 0,
	  "the built-in list only: every block of the IANA special-purpose "
	  "address registries that is not globally reachable, and multicast; "
	  "IPv6 forms that embed IPv4 are judged by the IPv4 inside",
	  "peers no relay may reach, added to the built-in list",
	  OFF(denied_peer), 0 },
	{ "allowed-peer", CT_CIDR, F_REPEAT, 0, 0, 0, NULL,
	  "exceptions to denied-peer", OFF(allowed_peer), 0 },
	{ "allow-loopback-peers", CT_BOOL, 0, 0, 0, 0, "no",
	  "drop the loopback and this-host/unspecified blocks from the deny list",
	  OFF(allow_loopback_peers), 0 },

	/* HTTP and signaling */
	{ "api-key", CT_STR, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "bearer key for /api/ice-servers and /api/turn", OFF(api_key), 0 },
	{ "signaling-secret", CT_STR, F_SECRET, 0, 0, 0, NULL,
	  "HS256 key for join tokens (unset: anonymous joins)",
	  OFF(signaling_secret), 0 },
	{ "auto-create-rooms", CT_BOOL, 0, 0, 0, 0, "yes",
	  "create a room on its first join", OFF(auto_create_rooms), 0 },
	{ "room-max-peers", CT_INT, 0, 1, 1000, 0, "16",
	  "default room capacity", OFF(room_max_peers), 0 },
	{ "reconnect-grace", CT_INT, 0, 0, 3600, 0, "10",
	  "seconds a dropped peer keeps its place", OFF(reconnect_grace), 0 },
	{ "signaling-idle-timeout", CT_INT, 0, 5, 3600, 0, "30",
	  "seconds of silence before a peer is dropped",
	  OFF(signaling_idle_timeout), 0 },
	{ "signaling-queue", CT_INT, 0, 0, 100000, 0, "256",
	  "messages queued per absent peer", OFF(signaling_queue), 0 },
	{ "signaling-max-message", CT_INT, 0, 1024, 16777216, 0, "65536",
	  "largest signaling message, in bytes", OFF(signaling_max_message), 0 },
	{ "signaling-rate", CT_INT, 0, 0, 1000000, 0, "50",
	  "messages per second one peer may send (0 = no limit)", OFF(signaling_rate), 0 },
	{ "max-rooms", CT_INT, 0, 0, 10000000, 0, "10000",
	  "rooms with peers in them, in all (0 = none)", OFF(max_rooms), 0 },
	{ "max-signaling-peers", CT_INT, 0, 0, 10000000, 0, "50000",
	  "signaling peers in all, present or in their grace (0 = none)",
	  OFF(max_signaling_peers), 0 },
	{ "signaling-queue-memory", CT_INT, 0, 0, 2147483647L, 0, "67108864",
	  "bytes all absent peers' queues may hold together (0 = no limit)",
	  OFF(signaling_queue_memory), 0 },
	{ "allowed-origin", CT_ORIGIN, F_REPEAT, 0, 0, 0, NULL,
	  "WebSocket and CORS origin accepted (none: any)",
	  OFF(allowed_origin), 0 },
	{ "web-root", CT_DIR, F_EMPTY | F_DERIVED, 0, 0, 0,
	  FERRY_DATADIR "/ferry/www",
	  "static files of the web app; empty = none", OFF(web_root), 0 },
	{ "metrics-allow", CT_CIDR, F_REPEAT, 0, 0, 0, "127.0.0.0/8 ::1/128",
	  "who may read /metrics", OFF(metrics_allow), 0 },

	/* process */
	{ "threads", CT_THREADS, F_RESTART, 1, 256, 0, "auto",
	  "relay worker threads (auto: one per core)", OFF(threads), 0 },
	{ "user-name", CT_STR, F_RESTART | F_SYSUSER, 0, 0, 0, NULL,
	  "user to run as after binding", OFF(user_name), 0 },
	{ "group-name", CT_STR, F_RESTART | F_SYSGROUP, 0, 0, 0, NULL,
	  "group to run as after binding", OFF(group_name), 0 },
	{ "log-level", CT_LOGLEVEL, 0, 0, 0, 0, "info",
	  "error, warn, info or debug", OFF(log_level), 0 },
	{ "log-file", CT_LOGFILE, 0, 0, 0, 0, NULL,
	  "a path, syslog or stderr (unset: stderr in the foreground, else syslog)",
	  OFF(log_file), 0 },
	{ "pid-file", CT_WPATH, 0, 0, 0, 0, NULL,
	  "file to write the process id to", OFF(pid_file), 0 },
};

#define N_DIRECTIVES ARRAY_LEN(directives)

/*
 * Peers no relay may reach, whatever the file says, are the built-in table
 * of peerfilter.c (the IANA special-purpose registries).  `denied-peer`
 * lines add to it rather than replace it: if one line replaced it, an
 * operator adding a single block would silently open loopback and RFC 1918
 * to relaying, which is how TURN servers become proxies into their own
 * networks.  So denied_peer holds the file's lines only, and the relay
 * consults the table and them together (pf_allowed).
 */

const char *conf_default_path(void)
{
	return FERRY_SYSCONFDIR "/ferry/ferryd.conf";
}

const char *conf_key_name(size_t i)
{
	return i < N_DIRECTIVES ? directives[i].name : NULL;
}

int conf_key_info(size_t i, struct conf_key_info *out)
{
	const struct directive *d;

	if (i >= N_DIRECTIVES)
		return -1;
	d = &directives[i];
	out->name = d->name;
	out->help = d->help;
	out->def = d->def;
	out->computed = !!(d->flags & F_DERIVED);
	out->repeatable = !!(d->flags & F_REPEAT);
	out->secret = !!(d->flags & F_SECRET);
	out->needs_restart = !!(d->flags & F_RESTART);
	return 0;
}

/* ------------------------------------------------------------ storage */

#define FIELD(c, d, type) ((type *)((char *)(c) + (d)->off))
#define FIELD2(c, d, type) ((type *)((char *)(c) + (d)->off2))
#define CFIELD(c, d, type) ((const type *)((const char *)(c) + (d)->off))
#define CFIELD2(c, d, type) ((const type *)((const char *)(c) + (d)->off2))

static void strs_push(struct conf_strs *s, const char *v)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = xstrdup(v);
}

static void addrs_push(struct conf_addrs *a, const net_addr *v)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n++] = *v;
}

static void cidrs_push(struct conf_cidrs *a, const net_cidr *v)
{
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(*a->v));
	a->v[a->n++] = *v;
}

/* Set a single string field, replacing what was there (only defaults are
 * ever replaced: a second line of a non-repeatable key is refused first). */
static void str_set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

/* Store a string value: a repeatable key appends, others replace. */
static void store_str(struct ferry_conf *c, const struct directive *d,
		      const char *v)
{
	if (d->flags & F_REPEAT)
		strs_push(FIELD(c, d, struct conf_strs), v);
	else
		str_set(FIELD(c, d, char *), v);
}

/* ------------------------------------------------------------ parsers */

/* What a value of d looks like, for "expected …" messages. */
static void describe(const struct directive *d, char *buf, size_t n)
{
	switch (d->type) {
	case CT_BOOL:
		snprintf(buf, n, "yes or no");
		break;
	case CT_INT:
		snprintf(buf, n, "an integer from %ld to %ld", d->min, d->max);
		break;
	case CT_STR:
		if (d->max > 0)
			snprintf(buf, n, "a string of 1 to %ld bytes", d->max);
		else
			snprintf(buf, n, "a non-empty string");
		break;
	case CT_HOST:
		snprintf(buf, n, "a host name or IP address (IPv6 in brackets)");
		break;
	case CT_CIPHERS:
		snprintf(buf, n, "an OpenSSL cipher list that selects at least one cipher");
		break;
	case CT_ORIGIN:
		snprintf(buf, n, "an origin such as https://example.org "
			 "(http or https, host, optional port, no path)");
		break;
	case CT_FILE:
		snprintf(buf, n, "an existing file");
		break;
	case CT_DIR:
		snprintf(buf, n, "an existing directory%s",
			 d->flags & F_EMPTY ? ", or nothing for none" : "");
		break;
	case CT_WPATH:
		snprintf(buf, n, "a file path in an existing folder");
		break;
	case CT_LOGFILE:
		snprintf(buf, n, "syslog, stderr or a file path in an existing folder");
		break;
	case CT_LISTEN:
		snprintf(buf, n, "a numeric IP address with an optional port 1-65535 "
			 "(default %d; IPv6 in brackets when a port is given)", d->port);
		break;
	case CT_IP:
		snprintf(buf, n, "a numeric IP address without a port, not a wildcard");
		break;
	case CT_CIDR:
		snprintf(buf, n, "ADDRESS[/PREFIX] with a numeric IP address");
		break;
	case CT_PORTS:
		snprintf(buf, n, "a port range A-B with 1024 <= A <= B <= 65535");
		break;
	case CT_USER:
		snprintf(buf, n, "NAME:PASSWORD with a non-empty name and password");
		break;
	case CT_EXTERNAL:
		snprintf(buf, n, "PUBLIC[/PRIVATE] with numeric IP addresses of one family, not wildcards");
		break;
	case CT_LOGLEVEL:
		snprintf(buf, n, "error, warn, info or debug");
		break;
	case CT_THREADS:
		snprintf(buf, n, "auto or an integer from %ld to %ld", d->min, d->max);
		break;
	}
}

/* Fill err with "expected <description>, got "<val>"[ (detail)]"; a
 * secret's value is never repeated back. */
static int expected(const struct directive *d, const char *val,
		    const char *detail, char *err, size_t errlen)
{
	char desc[256];

	describe(d, desc, sizeof(desc));
	if (d->flags & F_SECRET)
		snprintf(err, errlen, "expected %s", desc);
	else
		snprintf(err, errlen, "expected %s, got \"%s\"%s%s%s", desc, val,
			 detail ? " (" : "", detail ? detail : "",
			 detail ? ")" : "");
	return -1;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A numeric address without a port: net_parse_addr would take
 * "1.2.3.4:5" and "[::1]:5" as well, so those shapes are refused first. */
static int parse_bare_ip(const char *s, net_addr *out)
{
	char err[128];
	const char *colon = strchr(s, ':');

	if (strstr(s, "]:") || (colon && !strchr(colon + 1, ':')))
		return -1;
	if (net_parse_addr(s, 0, 0, out, err, sizeof(err)) < 0)
		return -1;
	if (net_is_wildcard(&out->u.sa))
		return -1;
	return 0;
}

/* The folder of path must exist; path itself must not be a directory. */
static int check_writable(const char *path, char *detail, size_t n)
{
	struct stat st;
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (path[strlen(path) - 1] == '/') {
		snprintf(detail, n, "names a folder, not a file");
		return -1;
	}
	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) < 0) {
		snprintf(detail, n, "folder %s: %s", dir, strerror(errno));
		rc = -1;
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "%s is not a folder", dir);
		rc = -1;
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "names a folder, not a file");
		rc = -1;
	}
	free(dir);
	return rc;
}

static int check_exists(const char *path, int want_dir, char *detail, size_t n)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(detail, n, "%s", strerror(errno));
		return -1;
	}
	if (want_dir && !S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "not a directory");
		return -1;
	}
	if (!want_dir && S_ISDIR(st.st_mode)) {
		snprintf(detail, n, "a directory, not a file");
		return -1;
	}
	return 0;
}

/* A DNS name ([A-Za-z0-9.-], labels not starting or ending with '-') or a
 * numeric address; IPv6 in brackets since it goes into "turn:HOST:PORT". */
static int valid_host(const char *s)
{
	net_addr a;
	char err[128];
	size_t i, n = strlen(s);

	if (s[0] == '[')
		return s[n - 1] == ']' && n > 2 &&
		       net_parse_addr(s, 0, 0, &a, err, sizeof(err)) == 0 &&
		       a.u.sa.sa_family == AF_INET6;	/* "[1.2.3.4]" is no URL host */
	if (n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!isalnum((unsigned char)ch) && ch != '.' && ch != '-')
			return 0;
		if (ch == '-' && (i == 0 || s[i - 1] == '.' || i == n - 1 ||
				  s[i + 1] == '.'))
			return 0;
		if (ch == '.' && (i == 0 || s[i - 1] == '.'))
			return 0;
	}
	return 1;
}

/* What a browser sends in Origin: scheme "://" host [":" port], no path. */
static int valid_origin(const char *s)
{
	const char *host, *colon;
	char *h;
	int ok;
	long port;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return 0;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close)
			return 0;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return 0;
	} else {
		colon = strchr(host, ':');
	}
	h = colon ? xstrndup(host, (size_t)(colon - host)) : xstrdup(host);
	ok = *h && valid_host(h);
	free(h);
	if (ok && colon)
		ok = parse_long(colon + 1, 1, 65535, &port) == 0;
	return ok;
}

static int valid_ciphers(const char *s)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	int ok;

	if (!ctx)
		return 1;       /* cannot tell here; the TLS module will */
	ok = SSL_CTX_set_cipher_list(ctx, s) == 1;
	SSL_CTX_free(ctx);
	return ok;
}

/*
 * Check val for d and store it into c.  Returns 0, or -1 with "expected …"
 * in err.  check_fs = 0 for built-in defaults: the default database
 * folder exists only on an installed system, and the daemon reports it
 * when it opens the file; lines of the file are always checked.
 */
static int set_value(struct ferry_conf *c, const struct directive *d,
		     const char *val, int check_fs, char *err, size_t errlen)
{
	char detail[256], nerr[128];
	net_addr a;
	net_cidr cidr;
	long v;
	int b;

	switch (d->type) {
	case CT_BOOL:
		if (parse_bool(val, &b) < 0)
			return expected(d, val, NULL, err, errlen);
		*FIELD(c, d, int) = b;
		return 0;

	case CT_INT:
		if (parse_long(val, d->min, d->max, &v) < 0)
			return expected(d, val, NULL, err, errlen);
		*FIELD(c, d, long) = v;
		return 0;

	case CT_THREADS:
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

	case CT_LOGLEVEL: {
		char low[16];
		size_t i;

		for (i = 0; val[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)tolower((unsigned char)val[i]);
		low[i] = '\0';
		b = val[i] ? -1 : log_level_parse(low);
		if (b < 0)
			return expected(d, val, NULL, err, errlen);
		*FIELD(c, d, int) = b;
		return 0;
	}

	case CT_STR:
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

	case CT_HOST:
		if (!valid_host(val))
			return expected(d, val, NULL, err, errlen);
		store_str(c, d, val);
		return 0;

	case CT_ORIGIN:
		if (!valid_origin(val))
			return expected(d, val, NULL, err, errlen);
		store_str(c, d, val);
		return 0;

	case CT_CIPHERS:
		if (!valid_ciphers(val))
			return expected(d, val, NULL, err, errlen);
		store_str(c, d, val);
		return 0;

	case CT_FILE:
	case CT_DIR:
		if (check_fs && check_exists(val, d->type == CT_DIR, detail,
					     sizeof(detail)) < 0)
			return expected(d, val, detail, err, errlen);
		store_str(c, d, val);
		return 0;

	case CT_LOGFILE:
		if (strcmp(val, "syslog") == 0 || strcmp(val, "stderr") == 0) {
			store_str(c, d, val);
			return 0;
		}
		/* anything else is a path */
		/* fall through */
	case CT_WPATH:
		if (check_fs && check_writable(val, detail, sizeof(detail)) < 0)
			return expected(d, val, detail, err, errlen);
		store_str(c, d, val);
		return 0;

	case CT_LISTEN:
		if (net_parse_addr(val, d->port, 0, &a, nerr, sizeof(nerr)) < 0)
			return expected(d, val, NULL, err, errlen);
		if (net_port(&a.u.sa) == 0)
			return expected(d, val, NULL, err, errlen);
		addrs_push(FIELD(c, d, struct conf_addrs), &a);
		return 0;

	case CT_IP:
		if (parse_bare_ip(val, &a) < 0)
			return expected(d, val, NULL, err, errlen);
		addrs_push(FIELD(c, d, struct conf_addrs), &a);
		return 0;

	case CT_CIDR:
		if (net_parse_cidr(val, &cidr, nerr, sizeof(nerr)) < 0)
			return expected(d, val, NULL, err, errlen);
		cidrs_push(FIELD(c, d, struct conf_cidrs), &cidr);
		return 0;

	case CT_PORTS: {
		const char *dash = strchr(val, '-');
		char *lo;
		long hi_v;
		int bad;

		if (!dash)
			return expected(d, val, NULL, err, errlen);
		lo = xstrndup(val, (size_t)(dash - val));
		bad = parse_long(lo, 1024, 65535, &v) < 0 ||
		      parse_long(dash + 1, 1024, 65535, &hi_v) < 0 || v > hi_v;
		free(lo);
		if (bad)
			return expected(d, val, NULL, err, errlen);
		*FIELD(c, d, int) = (int)v;
		*FIELD2(c, d, int) = (int)hi_v;
		return 0;
	}

	case CT_USER: {
		/* The first ':' ends the name, so passwords may hold ':'.
		 * The name follows the rule of every long-term user. */
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

	case CT_EXTERNAL: {
		const char *slash = strchr(val, '/');
		struct conf_external e;
		struct conf_external **ext = FIELD(c, d, struct conf_external *);
		size_t *n = FIELD2(c, d, size_t);
		char *pub;
		int bad;

		memset(&e, 0, sizeof(e));
		pub = slash ? xstrndup(val, (size_t)(slash - val)) : xstrdup(val);
		bad = parse_bare_ip(pub, &e.public_ip) < 0;
		free(pub);
		if (!bad && slash) {
			e.has_private = 1;
			bad = parse_bare_ip(slash + 1, &e.private_ip) < 0 ||
			      net_family(&e.private_ip) != net_family(&e.public_ip);
		}
		if (bad)
			return expected(d, val, NULL, err, errlen);
		*ext = xrealloc(*ext, (*n + 1) * sizeof(**ext));
		(*ext)[(*n)++] = e;
		return 0;
	}
	}
	return expected(d, val, NULL, err, errlen);
}

/* ------------------------------------------------------------ the file */

struct parser {
	struct ferry_conf *c;
	const char *name;
	conf_error_fn errfn;
	void *ctx;
	int nerr;
	int line[N_DIRECTIVES];         /* first line giving each key; 0: none */
};

static void report(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One error: "NAME:LINE: error: …", or "NAME: error: …" for line 0. */
static void report(struct parser *p, int line, const char *fmt, ...)
{
	char msg[ERRLEN], head[512];
	va_list ap;

	if (line > 0)
		snprintf(head, sizeof(head), "%s:%d: error: ", p->name, line);
	else
		snprintf(head, sizeof(head), "%s: error: ", p->name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->nerr++;
	if (p->errfn) {
		char full[ERRLEN + 512];
		snprintf(full, sizeof(full), "%s%s", head, msg);
		p->errfn(p->ctx, full);
	} else {
		fprintf(stderr, "%s%s\n", head, msg);
	}
}

static const struct directive *find_directive(const char *key)
{
	size_t i;

	for (i = 0; i < N_DIRECTIVES; i++)
		if (strcmp(directives[i].name, key) == 0)
			return &directives[i];
	return NULL;
}

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

	for (i = 0; i < N_DIRECTIVES; i++) {
		dist = distance(key, directives[i].name);
		if (dist < best) {
			best = dist;
			name = directives[i].name;
		}
	}
	return name;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
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
		report(p, lineno, "%s: expected \"=\" and a value after the key", s);
		return -1;
	}
	*eq = '\0';
	key = trim(s);
	if (*key == '\0') {
		report(p, lineno, "expected a key before \"=\"");
		return -1;
	}
	val = eq + 1;
	while (is_blank(*val))
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
		report(p, lineno, "%s: expected a closing double quote", key);
		return -1;
	}
	r++;
	while (is_blank(*r))
		r++;
	if (*r && *r != '#') {
		report(p, lineno, "%s: expected only a comment after the closing quote",
		       key);
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
	d = find_directive(key);
	if (!d) {
		const char *s = suggest(key);
		if (s)
			report(p, lineno, "%s: unknown key, did you mean \"%s\"?", key, s);
		else
			report(p, lineno, "%s: unknown key, expected one of ferryd.conf(5)",
			       key);
		return;
	}
	idx = (size_t)(d - directives);
	if (p->line[idx] && !(d->flags & F_REPEAT)) {
		report(p, lineno, "%s: expected at most once, already given on line %d",
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
		describe(d, err, sizeof(err));
		report(p, lineno, "%s: expected %s, got an empty value", key, err);
		return;
	}
	if (set_value(p->c, d, val, 1, err, sizeof(err)) < 0)
		report(p, lineno, "%s: %s", key, err);
}

/* The host's primary address: the one the kernel would send from towards
 * the Internet.  connect() on a UDP socket only picks the route and the
 * source address, it sends nothing; TEST-NET-1 is never really reached. */
static void primary_address(net_addr *out)
{
	struct sockaddr_in to;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(9);
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_INET) {
		net_addr_from_sa(out, (struct sockaddr *)&ss);
		net_set_port(out, 0);
	} else {
		memset(out, 0, sizeof(*out));
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		out->len = sizeof(struct sockaddr_in);
	}
	if (fd >= 0)
		close(fd);
}

/* With allow-loopback-peers, the file's denied-peer lines that are exactly
 * a loopback or "this host"/unspecified block of the table go too, so that
 * the key means the same wherever the block was written; the table's own
 * loopback rows are left out by pf_allowed. */
static void drop_loopback_lines(struct ferry_conf *c)
{
	size_t i, k = 0;

	if (!c->allow_loopback_peers)
		return;
	for (i = 0; i < c->denied_peer.n; i++)
		if (!pf_is_loopback_block(&c->denied_peer.v[i]))
			c->denied_peer.v[k++] = c->denied_peer.v[i];
	c->denied_peer.n = k;
	if (!k) {
		free(c->denied_peer.v);
		c->denied_peer.v = NULL;
	}
}

static int line_of(const struct parser *p, const char *key)
{
	return p->line[find_directive(key) - directives];
}

/* Defaults for the keys no line set, then the derived values, then the
 * checks that involve more than one key. */
static void finish(struct parser *p)
{
	struct ferry_conf *c = p->c;
	char err[ERRLEN];
	size_t i;
	int cl, kl;

	for (i = 0; i < N_DIRECTIVES; i++) {
		const struct directive *d = &directives[i];
		char *list, *tok, *save;

		if (p->line[i] || !d->def || (d->flags & F_DERIVED))
			continue;
		list = xstrdup(d->def);
		for (tok = strtok_r(list, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			if (set_value(c, d, tok, 0, err, sizeof(err)) < 0)
				report(p, 0, "%s: built-in default: %s", d->name, err);
		free(list);
	}

	if (!line_of(p, "user-quota"))
		c->user_quota = 3 * c->room_max_peers;
	if (!line_of(p, "web-root")) {
		struct stat st;
		const char *def = find_directive("web-root")->def;
		if (stat(def, &st) == 0 && S_ISDIR(st.st_mode))
			c->web_root = xstrdup(def);
	}
	if (!line_of(p, "relay-ip")) {
		net_addr a;
		for (i = 0; i < c->listen.n; i++)
			if (!net_is_wildcard(&c->listen.v[i].u.sa))
				break;
		if (i < c->listen.n) {
			a = c->listen.v[i];
			net_set_port(&a, 0);
		} else {
			primary_address(&a);
		}
		addrs_push(&c->relay_ip, &a);
	}
	drop_loopback_lines(c);

	cl = line_of(p, "cert");
	kl = line_of(p, "key");
	if (cl && !kl)
		report(p, cl, "cert: expected key to be set as well");
	if (kl && !cl)
		report(p, kl, "key: expected cert to be set as well");
	if (!cl && !kl) {
		if (c->tls_listen.n)
			report(p, line_of(p, "tls-listen"),
			       "tls-listen: expected cert and key to be set");
		if (c->https_listen.n)
			report(p, line_of(p, "https-listen"),
			       "https-listen: expected cert and key to be set");
	}
}

struct ferry_conf *conf_load_string(const char *name, const char *text,
				    conf_error_fn errfn, void *ctx)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	struct ferry_conf *c = xcalloc(1, sizeof(*c));
	const char *s = text, *nl;
	int lineno = 0;

	p->c = c;
	p->name = name;
	p->errfn = errfn;
	p->ctx = ctx;
	c->path = xstrdup(name);
	while (*s) {
		char *line;

		nl = strchr(s, '\n');
		line = nl ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
		handle_line(p, ++lineno, line);
		free(line);
		if (!nl)
			break;
		s = nl + 1;
	}
	finish(p);
	if (p->nerr) {
		conf_free(c);
		c = NULL;
	}
	free(p);
	return c;
}

struct ferry_conf *conf_load(const char *path, conf_error_fn errfn, void *ctx)
{
	struct parser p;
	struct ferry_conf *c;
	FILE *f;
	char *buf;
	size_t n;
	int e;

	memset(&p, 0, sizeof(p));
	p.name = path;
	p.errfn = errfn;
	p.ctx = ctx;
	f = fopen(path, "r");
	if (!f) {
		report(&p, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(CONF_MAX_SIZE + 1);
	n = fread(buf, 1, CONF_MAX_SIZE + 1, f);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e) {
		report(&p, 0, "cannot read: %s", strerror(e));
		c = NULL;
	} else if (n > CONF_MAX_SIZE) {
		report(&p, 0, "expected a file of at most %d bytes", CONF_MAX_SIZE);
		c = NULL;
	} else if (memchr(buf, '\0', n)) {
		report(&p, 0, "expected a text file, found a NUL byte");
		c = NULL;
	} else {
		buf[n] = '\0';
		c = conf_load_string(path, buf, errfn, ctx);
	}
	free(buf);
	return c;
}

void conf_free(struct ferry_conf *c)
{
	size_t i, j;

	if (!c)
		return;
	for (i = 0; i < N_DIRECTIVES; i++) {
		const struct directive *d = &directives[i];

		switch (d->type) {
		case CT_STR: case CT_HOST: case CT_CIPHERS: case CT_ORIGIN:
		case CT_FILE: case CT_DIR: case CT_WPATH: case CT_LOGFILE:
			if (d->flags & F_REPEAT) {
				struct conf_strs *s = FIELD(c, d, struct conf_strs);
				for (j = 0; j < s->n; j++)
					free(s->v[j]);
				free(s->v);
			} else {
				free(*FIELD(c, d, char *));
			}
			break;
		case CT_LISTEN: case CT_IP:
			free(FIELD(c, d, struct conf_addrs)->v);
			break;
		case CT_CIDR:
			free(FIELD(c, d, struct conf_cidrs)->v);
			break;
		case CT_USER: {
			struct conf_user *u = *FIELD(c, d, struct conf_user *);
			size_t n = *FIELD2(c, d, size_t);
			for (j = 0; j < n; j++) {
				free(u[j].name);
				/* A password: do not leave it in freed memory. */
				memset(u[j].password, 0, strlen(u[j].password));
				free(u[j].password);
			}
			free(u);
			break;
		}
		case CT_EXTERNAL:
			free(*FIELD(c, d, struct conf_external *));
			break;
		case CT_BOOL: case CT_INT: case CT_PORTS: case CT_LOGLEVEL:
		case CT_THREADS:
			break;
		}
	}
	free(c->path);
	free(c);
}

/* ------------------------------------------------------------ printing */

/* A string as the file would need it: quoted when it holds '#', '"',
 * leading or trailing blanks, or nothing. */
static void print_str(FILE *out, const char *key, const char *v)
{
	size_t n = strlen(v);
	const char *s;

	if (n && !strpbrk(v, "#\"\\") && !is_blank(v[0]) && !is_blank(v[n - 1])) {
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

/* denied-peer: the built-in table first, each row marked with its registry
 * name, then the file's own lines.  Only the rows that deny are written as
 * denied-peer lines (so that the output still reads back as a file that
 * denies no less); the rows that stay reachable, the rows judged by the
 * IPv4 address inside and, with allow-loopback-peers, the loopback rows
 * are comments. */
static void print_denied(const struct ferry_conf *c, const char *k, FILE *out)
{
	char buf[NET_ADDRSTRLEN * 2 + 8];
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
	for (i = 0; i < c->denied_peer.n; i++)
		fprintf(out, "%s = %s\n", k,
			net_fmt_cidr(&c->denied_peer.v[i], buf, sizeof(buf)));
}

static void print_directive(const struct ferry_conf *c,
			    const struct directive *d, FILE *out)
{
	const char *k = d->name;
	char buf[NET_ADDRSTRLEN * 2 + 8];
	size_t i, n;

	switch (d->type) {
	case CT_BOOL:
		fprintf(out, "%s = %s\n", k, *CFIELD(c, d, int) ? "yes" : "no");
		return;
	case CT_INT:
	case CT_THREADS:
		fprintf(out, "%s = %ld\n", k, *CFIELD(c, d, long));
		return;
	case CT_LOGLEVEL:
		fprintf(out, "%s = %s\n", k, log_level_name(*CFIELD(c, d, int)));
		return;
	case CT_PORTS:
		fprintf(out, "%s = %d-%d\n", k, *CFIELD(c, d, int),
			*CFIELD2(c, d, int));
		return;
	case CT_STR: case CT_HOST: case CT_CIPHERS: case CT_ORIGIN:
	case CT_FILE: case CT_DIR: case CT_WPATH: case CT_LOGFILE:
		if (d->flags & F_REPEAT) {
			const struct conf_strs *s = CFIELD(c, d, struct conf_strs);
			if (!s->n)
				break;
			for (i = 0; i < s->n; i++) {
				if (d->flags & F_SECRET)
					fprintf(out, "%s = (set)\n", k);
				else
					print_str(out, k, s->v[i]);
			}
			return;
		} else {
			const char *v = *CFIELD(c, d, char *);
			if (!v)
				break;
			if (d->flags & F_SECRET)
				fprintf(out, "%s = (set)\n", k);
			else
				print_str(out, k, v);
			return;
		}
	case CT_LISTEN:
	case CT_IP: {
		const struct conf_addrs *a = CFIELD(c, d, struct conf_addrs);
		if (!a->n)
			break;
		for (i = 0; i < a->n; i++) {
			if (d->type == CT_LISTEN)
				net_fmt(&a->v[i].u.sa, buf, sizeof(buf));
			else
				net_fmt_ip(&a->v[i].u.sa, buf, sizeof(buf));
			fprintf(out, "%s = %s\n", k, buf);
		}
		return;
	}
	case CT_CIDR: {
		const struct conf_cidrs *a = CFIELD(c, d, struct conf_cidrs);
		if (d->off == OFF(denied_peer)) {
			print_denied(c, k, out);
			return;
		}
		if (!a->n)
			break;
		for (i = 0; i < a->n; i++)
			fprintf(out, "%s = %s\n", k,
				net_fmt_cidr(&a->v[i], buf, sizeof(buf)));
		return;
	}
	case CT_USER: {
		const struct conf_user *u = *CFIELD(c, d, struct conf_user *);
		n = *CFIELD2(c, d, size_t);
		if (!n)
			break;
		for (i = 0; i < n; i++)
			fprintf(out, "%s = %s:(set)\n", k, u[i].name);
		return;
	}
	case CT_EXTERNAL: {
		const struct conf_external *e = *CFIELD(c, d, struct conf_external *);
		char priv[NET_ADDRSTRLEN];
		n = *CFIELD2(c, d, size_t);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			net_fmt_ip(&e[i].public_ip.u.sa, buf, sizeof(buf));
			if (e[i].has_private)
				fprintf(out, "%s = %s/%s\n", k, buf,
					net_fmt_ip(&e[i].private_ip.u.sa, priv,
						   sizeof(priv)));
			else
				fprintf(out, "%s = %s\n", k, buf);
		}
		return;
	}
	}
	fprintf(out, "# %s = (none)\n", k);
}

void conf_print(const struct ferry_conf *c, FILE *out)
{
	size_t i;

	fprintf(out, "# effective settings of %s\n", c->path ? c->path : "(none)");
	for (i = 0; i < N_DIRECTIVES; i++)
		print_directive(c, &directives[i], out);
}

/* ------------------------------------------------------------ reload */

static int str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int directive_equal(const struct ferry_conf *a,
			   const struct ferry_conf *b,
			   const struct directive *d)
{
	size_t i;

	switch (d->type) {
	case CT_LISTEN:
	case CT_IP: {
		const struct conf_addrs *x = CFIELD(a, d, struct conf_addrs);
		const struct conf_addrs *y = CFIELD(b, d, struct conf_addrs);
		if (x->n != y->n)
			return 0;
		for (i = 0; i < x->n; i++)
			if (!net_equal(&x->v[i].u.sa, &y->v[i].u.sa))
				return 0;
		return 1;
	}
	case CT_INT:
	case CT_THREADS:
		return *CFIELD(a, d, long) == *CFIELD(b, d, long);
	case CT_BOOL:
	case CT_LOGLEVEL:
		return *CFIELD(a, d, int) == *CFIELD(b, d, int);
	case CT_PORTS:
		return *CFIELD(a, d, int) == *CFIELD(b, d, int) &&
		       *CFIELD2(a, d, int) == *CFIELD2(b, d, int);
	case CT_STR: case CT_HOST: case CT_CIPHERS: case CT_FILE: case CT_DIR:
	case CT_WPATH: case CT_LOGFILE:
		if (!(d->flags & F_REPEAT))
			return str_equal(*CFIELD(a, d, char *), *CFIELD(b, d, char *));
		/* fall through */
	case CT_ORIGIN:
	case CT_CIDR:
	case CT_USER:
	case CT_EXTERNAL:
		break;
	}
	/* Not used for restart decisions (no F_RESTART key of these types). */
	return 1;
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
		for (i = 0; i < N_DIRECTIVES; i++) {
			const struct directive *d = &directives[i];

			if (!(d->flags & F_RESTART) || !(d->flags & F_DERIVED) != !pass ||
			    directive_equal(a, b, d))
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

static void swap_bytes(void *x, void *y, size_t n)
{
	unsigned char t[sizeof(struct conf_addrs) > sizeof(long) ?
			sizeof(struct conf_addrs) : sizeof(long)];

	memcpy(t, x, n);
	memcpy(x, y, n);
	memcpy(y, t, n);
}

void conf_keep_running(struct ferry_conf *next, struct ferry_conf *running)
{
	size_t i;

	for (i = 0; i < N_DIRECTIVES; i++) {
		const struct directive *d = &directives[i];
		char *x = (char *)next + d->off, *y = (char *)running + d->off;

		if (!(d->flags & F_RESTART) || directive_equal(next, running, d))
			continue;
		/* Exchanged, not copied: each struct still owns what it frees. */
		switch (d->type) {
		case CT_LISTEN: case CT_IP:
			swap_bytes(x, y, sizeof(struct conf_addrs));
			break;
		case CT_PORTS:
			swap_bytes(x, y, sizeof(int));
			swap_bytes((char *)next + d->off2, (char *)running + d->off2,
				   sizeof(int));
			break;
		case CT_THREADS: case CT_INT:
			swap_bytes(x, y, sizeof(long));
			break;
		default:	/* CT_STR, CT_WPATH: one string */
			swap_bytes(x, y, sizeof(char *));
			break;
		}
	}
}
