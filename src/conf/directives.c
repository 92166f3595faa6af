/*
 * directives — the one table of the configuration file's keys, as data:
 * see directive.h for what a row holds.  Parsing, the defaults,
 * conf_print(), conf_free(), the reload checks and the tests (through
 * conf_key_info) all walk it, so a key added here is parsed, defaulted,
 * printed, freed and checked against etc/ferryd.conf and ferryd.conf(5)
 * without further code.  The order is the sample file's.
 */
#include "config.h"

#include "conf/directive.h"
#include "conf/types.h"
#include "core/util.h"

#include <string.h>

#ifndef FERRY_LOCALSTATEDIR
#define FERRY_LOCALSTATEDIR "/usr/local/var"
#endif
#ifndef FERRY_DATADIR
#define FERRY_DATADIR "/usr/local/share"
#endif

const struct directive directive_table[] = {
	/* listeners */
	{ "listen", &type_listen, F_REPEAT | F_RESTART, 0, 0, 3478,
	  "0.0.0.0:3478 [::]:3478",
	  "STUN/TURN over UDP and TCP", OFF(listen), 0 },
	{ "tls-listen", &type_listen, F_REPEAT | F_RESTART, 0, 0, 5349, NULL,
	  "TURN over TLS (TCP) and DTLS (UDP); needs cert and key",
	  OFF(tls_listen), 0 },
	{ "http-listen", &type_listen, F_REPEAT | F_RESTART, 0, 0, 8080,
	  "127.0.0.1:8080",
	  "HTTP API, signaling WebSocket and web app", OFF(http_listen), 0 },
	{ "https-listen", &type_listen, F_REPEAT | F_RESTART, 0, 0, 8443, NULL,
	  "the same over TLS; needs cert and key", OFF(https_listen), 0 },
	{ "cert", &type_file, 0, 0, 0, 0, NULL,
	  "PEM certificate chain", OFF(cert), 0 },
	{ "key", &type_file, 0, 0, 0, 0, NULL,
	  "PEM private key of cert", OFF(key), 0 },
	{ "tls-ciphers", &type_ciphers, 0, 0, 0, 0, NULL,
	  "cipher list for TLS 1.2 and DTLS 1.2 (unset: OpenSSL's defaults)",
	  OFF(tls_ciphers), 0 },
	{ "public-host", &type_host, 0, 0, 0, 0, NULL,
	  "host name put in ICE server URLs (unset: the Host header's)",
	  OFF(public_host), 0 },

	/* relay */
	{ "external-ip", &type_external, F_REPEAT, 0, 0, 0, NULL,
	  "PUBLIC[/PRIVATE]: address advertised for relays behind 1:1 NAT",
	  OFF(external_ip), OFF(n_external) },
	{ "relay-ip", &type_ip, F_REPEAT | F_DERIVED | F_RESTART, 0, 0, 0,
	  "the first listen address that is not a wildcard, else the host's primary address",
	  "addresses relay sockets bind to", OFF(relay_ip), 0 },
	{ "relay-ports", &type_ports, F_RESTART, 0, 0, 0, "49152-65535",
	  "UDP port range for relays", OFF(relay_port_min), OFF(relay_port_max) },

	/* authentication */
	{ "realm", &type_str, 0, 0, 127, 0, "ferry",
	  "STUN realm", OFF(realm), 0 },
	{ "auth-secret", &type_str, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "shared secret for ephemeral credentials; the first one signs",
	  OFF(auth_secret), 0 },
	{ "credential-ttl", &type_int, 0, 60, 31536000, 0, "86400",
	  "seconds an issued credential stays valid", OFF(credential_ttl), 0 },
	{ "user", &type_user, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "NAME:PASSWORD static long-term credential", OFF(users), OFF(n_users) },
	{ "database", &type_wpath, F_RESTART, 0, 0, 0,
	  FERRY_LOCALSTATEDIR "/lib/ferry/ferry.db",
	  "sqlite file: users, secrets, rooms", OFF(database), 0 },
	{ "allow-anonymous-stun", &type_bool, 0, 0, 0, 0, "yes",
	  "answer Binding requests without credentials",
	  OFF(allow_anonymous_stun), 0 },
	{ "user-quota", &type_int, F_DERIVED, 0, 1000000, 0,
	  "3 x room-max-peers",
	  "concurrent allocations per credential user (0 = none)",
	  OFF(user_quota), 0 },
	{ "strict-expiry", &type_bool, 0, 0, 0, 0, "no",
	  "end an allocation when its ephemeral credential expires",
	  OFF(strict_expiry), 0 },
	{ "total-quota", &type_int, 0, 0, 10000000, 0, "0",
	  "concurrent allocations in all (0 = none)", OFF(total_quota), 0 },
	{ "max-allocation-lifetime", &type_int, 0, 60, 86400, 0, "3600",
	  "longest allocation lifetime a client may ask for, in seconds",
	  OFF(max_allocation_lifetime), 0 },
	{ "max-bps", &type_int, 0, 0, 2147483647L, 0, "0",
	  "relayed bytes per second per allocation (0 = none)", OFF(max_bps), 0 },
	{ "tcp-idle-timeout", &type_int, 0, 1, 3600, 0, "30",
	  "seconds a TCP/TLS client without an allocation may stay silent",
	  OFF(tcp_idle_timeout), 0 },
	{ "unauth-rate", &type_int, 0, 0, 1000000, 0, "100",
	  "answers per second to one address for requests without valid credentials (0 = no limit)",
	  OFF(unauth_rate), 0 },
	{ "max-allocations-per-address", &type_int, 0, 0, 1000000, 0, "256",
	  "concurrent allocations from one client IP address (0 = none)",
	  OFF(max_allocations_per_address), 0 },
	{ "max-tcp-connections", &type_int, 0, 0, 10000000, 0, "20000",
	  "open TCP/TLS connections in all, per listener kind (0 = none)",
	  OFF(max_tcp_connections), 0 },
	{ "max-tcp-connections-per-address", &type_int, 0, 0, 10000000, 0, "200",
	  "open TCP/TLS connections from one IP address, per listener kind (0 = none)",
	  OFF(max_tcp_connections_per_address), 0 },

	/* peer filter */
	{ "denied-peer", &type_denied, F_REPEAT | F_DERIVED, 0, 0, 0,
	  "the built-in list only: every block of the IANA special-purpose "
	  "address registries that is not globally reachable, and multicast; "
	  "IPv6 forms that embed IPv4 are judged by the IPv4 inside",
	  "peers no relay may reach, added to the built-in list",
	  OFF(denied_peer), 0 },
	{ "allowed-peer", &type_cidr, F_REPEAT, 0, 0, 0, NULL,
	  "exceptions to denied-peer", OFF(allowed_peer), 0 },
	{ "allow-loopback-peers", &type_bool, 0, 0, 0, 0, "no",
	  "drop the loopback and this-host/unspecified blocks from the deny list",
	  OFF(allow_loopback_peers), 0 },

	/* HTTP and signaling */
	{ "api-key", &type_str, F_REPEAT | F_SECRET, 0, 0, 0, NULL,
	  "bearer key for /api/ice-servers and /api/turn", OFF(api_key), 0 },
	{ "signaling-secret", &type_str, F_SECRET, 0, 0, 0, NULL,
	  "HS256 key for join tokens (unset: anonymous joins)",
	  OFF(signaling_secret), 0 },
	{ "auto-create-rooms", &type_bool, 0, 0, 0, 0, "yes",
	  "create a room on its first join", OFF(auto_create_rooms), 0 },
	{ "room-max-peers", &type_int, 0, 1, 1000, 0, "16",
	  "default room capacity", OFF(room_max_peers), 0 },
	{ "reconnect-grace", &type_int, 0, 0, 3600, 0, "10",
	  "seconds a dropped peer keeps its place", OFF(reconnect_grace), 0 },
	{ "signaling-idle-timeout", &type_int, 0, 5, 3600, 0, "30",
	  "seconds of silence before a peer is dropped",
	  OFF(signaling_idle_timeout), 0 },
	{ "signaling-queue", &type_int, 0, 0, 100000, 0, "256",
	  "messages queued per absent peer", OFF(signaling_queue), 0 },
	{ "signaling-max-message", &type_int, 0, 1024, 16777216, 0, "65536",
	  "largest signaling message, in bytes", OFF(signaling_max_message), 0 },
	{ "signaling-rate", &type_int, 0, 0, 1000000, 0, "50",
	  "messages per second one peer may send (0 = no limit)", OFF(signaling_rate), 0 },
	{ "max-rooms", &type_int, 0, 0, 10000000, 0, "10000",
	  "rooms with peers in them, in all (0 = none)", OFF(max_rooms), 0 },
	{ "max-signaling-peers", &type_int, 0, 0, 10000000, 0, "50000",
	  "signaling peers in all, present or in their grace (0 = none)",
	  OFF(max_signaling_peers), 0 },
	{ "signaling-queue-memory", &type_int, 0, 0, 2147483647L, 0, "67108864",
	  "bytes all absent peers' queues may hold together (0 = no limit)",
	  OFF(signaling_queue_memory), 0 },
	{ "allowed-origin", &type_origin, F_REPEAT, 0, 0, 0, NULL,
	  "WebSocket and CORS origin accepted (none: any)",
	  OFF(allowed_origin), 0 },
	{ "web-root", &type_dir, F_EMPTY | F_DERIVED, 0, 0, 0,
	  FERRY_DATADIR "/ferry/www",
	  "static files of the web app; empty = none", OFF(web_root), 0 },
	{ "metrics-allow", &type_cidr, F_REPEAT, 0, 0, 0, "127.0.0.0/8 ::1/128",
	  "who may read /metrics", OFF(metrics_allow), 0 },

	/* process */
	{ "threads", &type_threads, F_RESTART, 1, 256, 0, "auto",
	  "relay worker threads (auto: one per core)", OFF(threads), 0 },
	{ "user-name", &type_str, F_RESTART | F_SYSUSER, 0, 0, 0, NULL,
	  "user to run as after binding", OFF(user_name), 0 },
	{ "group-name", &type_str, F_RESTART | F_SYSGROUP, 0, 0, 0, NULL,
	  "group to run as after binding", OFF(group_name), 0 },
	{ "log-level", &type_loglevel, 0, 0, 0, 0, "info",
	  "error, warn, info or debug", OFF(log_level), 0 },
	{ "log-file", &type_logfile, 0, 0, 0, 0, NULL,
	  "a path, syslog or stderr (unset: stderr in the foreground, else syslog)",
	  OFF(log_file), 0 },
	{ "pid-file", &type_wpath, 0, 0, 0, 0, NULL,
	  "file to write the process id to", OFF(pid_file), 0 },
};

const size_t directive_count = ARRAY_LEN(directive_table);

const struct directive *directive_find(const char *key)
{
	size_t i;

	for (i = 0; i < directive_count; i++)
		if (strcmp(directive_table[i].name, key) == 0)
			return &directive_table[i];
	return NULL;
}
