/*
 * conf — the configuration file.
 *
 * Every directive is declared once, in the table in directives.c, with
 * its type, range, default and whether it may repeat.  Parsing,
 * validation, the defaults, `ferryd --check-config` and the sample-file
 * test all read that table.  A parse reports every error in the file
 * (as "FILE:LINE: error: KEY: what was expected"), not only the first.
 *
 * A struct ferry_conf is immutable once loaded: a reload builds a new one
 * and swaps it in, so readers on other threads never see a half-applied
 * file.  conf_free() releases it and everything it points to.
 */
#ifndef FERRY_CONF_H
#define FERRY_CONF_H

#include <stdio.h>
#include <stddef.h>
#include "core/net.h"

struct conf_strs {
	size_t n;
	char **v;
};

struct conf_addrs {
	size_t n;
	net_addr *v;
};

struct conf_cidrs {
	size_t n;
	net_cidr *v;
};

struct conf_user {
	char *name;
	char *password;
};

/* external-ip = PUBLIC[/PRIVATE]; has_private = 0 means "for every relay
 * address of PUBLIC's family". Ports are 0. */
struct conf_external {
	net_addr public_ip;
	net_addr private_ip;
	int has_private;
};

struct ferry_conf {
	char *path;                        /* the file it was read from */

	/* listeners */
	struct conf_addrs listen;          /* STUN/TURN, UDP and TCP */
	struct conf_addrs tls_listen;      /* TURN over TLS and DTLS */
	struct conf_addrs http_listen;
	struct conf_addrs https_listen;
	char *cert;                        /* NULL when unset */
	char *key;
	char *tls_ciphers;                 /* NULL: OpenSSL's defaults */
	char *public_host;                 /* NULL: the Host header's name */

	/* relay */
	size_t n_external;
	struct conf_external *external_ip;
	struct conf_addrs relay_ip;        /* ports 0; never empty after load */
	int relay_port_min, relay_port_max;

	/* authentication */
	char *realm;
	struct conf_strs auth_secret;      /* first one signs */
	long credential_ttl;               /* seconds */
	size_t n_users;
	struct conf_user *users;
	char *database;
	int allow_anonymous_stun;          /* boolean */
	long user_quota;                   /* resolved: 3 * room_max_peers unless set */
	int strict_expiry;
	long total_quota;                  /* 0 = none */
	long max_allocation_lifetime;      /* seconds */
	long max_bps;                      /* 0 = none */
	long tcp_idle_timeout;             /* seconds, for connections without an allocation */
	long unauth_rate;                  /* answers/s per address to unauthenticated requests */
	long max_allocations_per_address;  /* 0 = none */
	long max_tcp_connections;          /* per listener kind; 0 = none */
	long max_tcp_connections_per_address;

	/* peer filter: denied_peer holds the file's own lines only (minus
	 * those that are exactly a loopback block of the built-in table when
	 * allow_loopback_peers); the built-in table is peerfilter.h's, and
	 * pf_allowed() applies both. */
	struct conf_cidrs denied_peer;
	struct conf_cidrs allowed_peer;
	int allow_loopback_peers;

	/* HTTP and signaling */
	struct conf_strs api_key;
	char *signaling_secret;            /* NULL: anonymous joins */
	int auto_create_rooms;
	long room_max_peers;
	long reconnect_grace;              /* seconds */
	long signaling_idle_timeout;       /* seconds */
	long signaling_queue;              /* messages */
	long signaling_max_message;        /* bytes */
	long signaling_rate;               /* messages/s per peer; 0 = none */
	long max_rooms;                    /* 0 = none */
	long max_signaling_peers;          /* 0 = none */
	long signaling_queue_memory;       /* bytes; 0 = none */
	struct conf_strs allowed_origin;   /* empty: any */
	char *web_root;                    /* NULL: no static files */
	struct conf_cidrs metrics_allow;

	/* process */
	long threads;                      /* resolved: >= 1 */
	char *user_name;
	char *group_name;
	int log_level;                     /* enum log_level */
	char *log_file;                    /* NULL: stderr if foreground, else syslog */
	char *pid_file;
};

/* Called for each error; the default (NULL) prints "msg\n" to stderr. */
typedef void (*conf_error_fn)(void *ctx, const char *msg);

/* Read and validate path.  Returns a new conf, or NULL after reporting
 * every error through errfn.  Relative paths in the file are taken as they
 * are (relative to the working directory). */
struct ferry_conf *conf_load(const char *path, conf_error_fn errfn, void *ctx);
/* The same from a string; name is used in error messages. */
struct ferry_conf *conf_load_string(const char *name, const char *text,
				    conf_error_fn errfn, void *ctx);
void conf_free(struct ferry_conf *c);

/* Print the effective settings, every key, one per line, in file syntax
 * (passwords and secrets shown as "(set)"). */
void conf_print(const struct ferry_conf *c, FILE *out);

/* 1 when a restart is needed to apply b after a (listener or
 * privilege changes); names every differing key in what, separated by
 * ", " (cut to whatlen); derived ones only when no other differs. */
int conf_needs_restart(const struct ferry_conf *a, const struct ferry_conf *b,
		       char *what, size_t whatlen);

/* Give next the running values of every key that needs a restart (the
 * sockets, ports, threads and database in use), so that a reload applies
 * only what it can; running receives next's and is freed as usual. */
void conf_keep_running(struct ferry_conf *next, struct ferry_conf *running);

/* FERRY_SYSCONFDIR "/ferry/ferryd.conf", what -c defaults to. */
const char *conf_default_path(void);

/* The name of the i-th key of the directive table, in table order, or NULL
 * when i is past the end; lets tests check etc/ferryd.conf and the man page
 * against the table.  The strings are static. */
const char *conf_key_name(size_t i);

/* All the table says about the i-th key, for listings and tests.  Returns
 * 0, or -1 when i is past the end.  The strings are static. */
struct conf_key_info {
	const char *name;
	const char *help;       /* one line */
	/* The default as written in the file, values separated by spaces for
	 * a repeatable key; NULL: none.  When computed is set, a description
	 * of how the default is found instead. */
	const char *def;
	int computed;
	int repeatable;
	int secret;             /* never printed */
	int needs_restart;      /* a change is not applied by a reload */
};
int conf_key_info(size_t i, struct conf_key_info *out);

#endif
