/*
 * ferryd — argv, ordered start-up, signals, and teardown in mirrored order.
 */
#include "config.h"
#include "core/addrcount.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "auth/dbsync.h"
#include "http/server.h"
#include "http/routes.h"
#include "auth/ice_servers.h"
#include "listen/listen.h"
#include "core/log.h"
#include "turn/ports.h"
#include "turn/alloc.h"
#include "turn/engine.h"
#include "signal/signaling.h"
#include "store/store.h"
#include "listen/tls.h"
#include "core/util.h"
#include "listen/worker.h"
#include "http/wsconn.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

struct ferry {
	const char *conf_path;
	int foreground;
	struct ferry_conf *conf;
	struct event_base *base;
	struct event *sig_term, *sig_int, *sig_hup;
	struct event *db_poll;
	struct store *store;
	struct auth *auth;
	struct relay_pool *pool;
	struct tls *tls;
	struct addr_counts *alloc_counts;
	struct listener_set *listeners;
	struct sig *sig;
	struct wsconns *ws;
	struct routes *routes;
	struct http *http;
	struct worker **workers;
	int nworkers;
	int pid_written;
};

/* The systemd notify protocol (sd_notify(3)) in a few lines: one datagram
 * with the new state to $NOTIFY_SOCKET, when systemd set one. */
static void notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';        /* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		log_debug("ferryd", NULL, "sd_notify: %s", strerror(errno));
	close(fd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ferryd [-c FILE] [-f] [--check-config] [--version] [--help]\n"
		"  -c FILE          configuration file (default %s)\n"
		"  -f               stay in the foreground and log to stderr\n"
		"  --check-config   validate the file, print the effective settings, exit\n"
		"  --version        print the version and exit\n"
		"  --help           print this help and exit\n",
		conf_default_path());
}

/* Configuration errors go to stderr at start-up and to the log on reload. */
static void conf_err_stderr(void *ctx, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

static void conf_err_log(void *ctx, const char *msg)
{
	log_error("config", NULL, "%s", msg);
}

/* Neither api-key nor signaling-secret: the credential endpoints answer
 * anyone (http-api.md calls this the open endpoint). */
static int api_open(const struct ferry_conf *c)
{
	return c->api_key.n == 0 && !c->signaling_secret;
}

static void warn_api_open(void)
{
	log_warn("http", NULL, "neither api-key nor signaling-secret is set: "
		 "/api/ice-servers and /api/turn are open, and anyone who "
		 "reaches an HTTP listener can get TURN credentials for any user");
}

static int open_log(const struct ferry_conf *c, int foreground)
{
	char err[256];
	const char *target = c->log_file ? c->log_file
				: foreground ? "stderr" : "syslog";

	if (log_open(target, err, sizeof(err)) < 0) {
		log_error("log", NULL, "%s", err);
		return -1;
	}
	log_set_level(c->log_level);
	return 0;
}

static void recheck_job(struct worker *w, void *arg)
{
	turn_recheck_credentials(srv_turn(worker_srv(w)));
}

/* Credentials from the file and the database into auth; allocations of
 * users revoked or deleted meanwhile end, and so do the signaling places
 * of revoked users. */
static void sync_credentials(struct ferry *f)
{
	char err[256];
	int i;

	if (dbsync_publish(f->auth, f->conf, f->store, err, sizeof(err)) < 0) {
		log_error("store", NULL, "cannot read credentials: %s", err);
		return;
	}
	for (i = 0; f->workers && i < f->nworkers; i++)
		worker_post(f->workers[i], recheck_job, NULL);
	if (f->sig)
		sig_recheck_revocations(f->sig);
}

/* Once a second: has another process (ferryctl) changed the database? */
static void on_db_poll(evutil_socket_t fd, short what, void *arg)
{
	struct ferry *f = arg;
	int changed = store_changed(f->store);

	if (changed == 1) {
		log_info("store", NULL, "database changed, reloading credentials and rooms");
		sync_credentials(f);
		sig_rooms_changed(f->sig);
	} else if (changed < 0) {
		log_error("store", NULL, "cannot poll the database");
	}
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct ferry *f = arg;

	struct timeval flush = { 0, 500000 };

	log_info("ferryd", NULL, "%s received, stopping", strsignal((int)sig));
	notify("STOPPING=1");
	/* Stop accepting, tell signaling peers (1001), and give their
	 * close frames half a second to leave. */
	http_stop_listening(f->http);
	sig_shutdown(f->sig);
	event_base_loopexit(f->base, &flush);
}

/* SIGHUP: the new file goes through the same validation as at start-up; a
 * file with any error is rejected whole and the running settings stay. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
	struct ferry *f = arg;
	struct ferry_conf *nc, *old;
	char what_changed[128], err[512];

	log_info("ferryd", NULL, "SIGHUP: reloading %s", f->conf_path);
	notify("RELOADING=1");
	nc = conf_load(f->conf_path, conf_err_log, NULL);
	if (!nc) {
		log_error("ferryd", NULL, "reload rejected: %s has errors; "
			  "keeping the running settings", f->conf_path);
		notify("READY=1");
		return;
	}
	if (conf_needs_restart(f->conf, nc, what_changed, sizeof(what_changed))) {
		log_warn("ferryd", NULL, "reload: %s changed; it takes effect "
			 "only after a restart", what_changed);
		/* Until then the URLs handed out, the peer filter's idea of
		 * our relays and everything else keep to what is bound. */
		conf_keep_running(nc, f->conf);
	}
	if ((nc->log_file == NULL) != (f->conf->log_file == NULL) ||
	    (nc->log_file && strcmp(nc->log_file, f->conf->log_file) != 0))
		open_log(nc, f->foreground);
	log_set_level(nc->log_level);
	if (tls_reload(f->tls, nc, err, sizeof(err)) < 0) {
		log_error("tls", NULL, "reload: %s; the running certificate stays", err);
	} else if (tls_wanted(nc)) {
		tls_describe(f->tls, err, sizeof(err));
		log_info("tls", NULL, "certificate: %s", err);
	}
	if (api_open(nc) && !api_open(f->conf))
		warn_api_open();
	workers_set_conf(f->workers, f->nworkers, nc);
	sig_set_conf(f->sig, nc);
	http_set_conf(f->http, nc);
	old = f->conf;
	f->conf = nc;
	conf_free(old);
	sync_credentials(f);
	log_info("ferryd", NULL, "reload done");
	notify("READY=1");
}

/* Without -f: fork, and let the parent exit only once the child reports
 * that start-up succeeded (0) or failed (1), so that an init script or a
 * shell sees the real outcome. */
static int detach(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c = 1;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void report_ready(int *ready_fd, char status)
{
	int devnull;

	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) < 0)
		status = 1;
	close(*ready_fd);
	*ready_fd = -1;
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
}

static int write_pid_file(struct ferry *f)
{
	char buf[32];
	int fd, n;

	if (!f->conf->pid_file)
		return 0;
	fd = open(f->conf->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("ferryd", NULL, "cannot write pid file %s: %s",
			  f->conf->pid_file, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	f->pid_written = 1;
	return 0;
}

/* The iceServers of a signaling welcome: fresh credentials for user. */
static json_t *ice_for_peer(void *ctx, const char *host, const char *user)
{
	struct ferry *f = ctx;
	struct ice_creds creds;
	char secret[1024];
	int have = auth_signing_secret(f->auth, secret, sizeof(secret)) == 0;

	ice_make_creds(f->conf, have ? secret : NULL, user, 0, wall_s(), &creds);
	return ice_server_list(f->conf, host, have ? &creds : NULL);
}

static int revoked_for_peer(void *ctx, const char *user)
{
	struct ferry *f = ctx;

	return auth_is_revoked(f->auth, user);
}

/* Signaling holds one descriptor per peer: take all the kernel allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void warn_about(const struct ferry_conf *c, struct auth *a)
{
	char secret[1024];

	if (!c->signaling_secret)
		log_warn("signaling", NULL, "signaling-secret is not set: joins are "
			 "anonymous and anyone can enter any room");
	if (auth_signing_secret(a, secret, sizeof(secret)) != 0)
		log_warn("auth", NULL, "no auth-secret in the file or the database: "
			 "clients get STUN servers only, no TURN credentials");
	if (api_open(c))
		warn_api_open();
}

/* Switch to user-name/group-name once every privileged port is bound.
 * Files ferryd keeps writing (the database with its journal files, the
 * log file) are handed to that user first, so they stay writable. */
static int drop_privileges(struct ferry *f)
{
	const struct ferry_conf *c = f->conf;
	static const char *const suffix[] = { "", "-wal", "-shm" };
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	char path[4096];
	uid_t uid;
	gid_t gid;
	size_t i;

	if (!c->user_name && !c->group_name)
		return 0;
	if (c->user_name && !(pw = getpwnam(c->user_name))) {
		log_error("ferryd", NULL, "user-name %s: no such user", c->user_name);
		return -1;
	}
	if (c->group_name && !(gr = getgrnam(c->group_name))) {
		log_error("ferryd", NULL, "group-name %s: no such group", c->group_name);
		return -1;
	}
	uid = pw ? pw->pw_uid : getuid();
	gid = gr ? gr->gr_gid : pw ? pw->pw_gid : getgid();
	if (geteuid() != 0) {
		if (uid == geteuid() && gid == getegid())
			return 0;
		log_error("ferryd", NULL, "user-name/group-name need ferryd to start as root");
		return -1;
	}
	for (i = 0; i < ARRAY_LEN(suffix); i++) {
		snprintf(path, sizeof(path), "%s%s", c->database, suffix[i]);
		if (chown(path, uid, gid) < 0 && errno != ENOENT) {
			log_error("store", NULL, "cannot hand %s to uid %ld: %s", path,
				  (long)uid, strerror(errno));
			return -1;
		}
	}
	if (c->log_file && strcmp(c->log_file, "syslog") != 0 &&
	    strcmp(c->log_file, "stderr") != 0 && chown(c->log_file, uid, gid) < 0)
		log_warn("log", NULL, "cannot hand %s to uid %ld: %s", c->log_file,
			 (long)uid, strerror(errno));
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		log_error("ferryd", NULL, "cannot drop privileges: %s", strerror(errno));
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		log_error("ferryd", NULL, "could regain root after dropping privileges");
		return -1;
	}
	log_info("ferryd", NULL, "running as uid %ld, gid %ld", (long)uid, (long)gid);
	return 0;
}

/* Start-up in dependency order: everything that needs privileges (binding
 * ports, opening files) first, then the switch of user, then the threads. */
/* The main loop (HTTP, signaling, the database) is touched by no other
 * thread (workers get their jobs through worker_post), so it goes without
 * libevent's locks: two fewer mutex operations for every event it runs. */
static struct event_base *main_loop_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* The state ferryd keeps: the database, the credentials read from it and
 * the file, the relay port pool and the TLS contexts. */
static int start_state(struct ferry *f, char *err, size_t errlen)
{
	f->store = store_open(f->conf->database, err, errlen);
	if (!f->store) {
		log_error("store", NULL, "%s", err);
		return -1;
	}
	f->auth = auth_new();
	if (dbsync_publish(f->auth, f->conf, f->store, err, errlen) < 0) {
		log_error("store", NULL, "cannot read credentials: %s", err);
		return -1;
	}
	f->pool = relay_pool_new(f->conf);
	f->tls = tls_new(f->conf, err, errlen);
	if (!f->tls) {
		log_error("tls", NULL, "%s", err);
		return -1;
	}
	if (tls_wanted(f->conf)) {
		tls_describe(f->tls, err, errlen);
		log_info("tls", NULL, "certificate: %s", err);
	}
	return 0;
}

/* Signaling, the routes and the HTTP listeners (bound, not yet served). */
static int start_http(struct ferry *f, char *err, size_t errlen)
{
	struct sig_env senv = {
		.conf = f->conf, .store = f->store, .base = f->base,
		.ice_servers = ice_for_peer, .ice_ctx = f,
		.revoked = revoked_for_peer, .revoked_ctx = f,
	};
	struct routes_env renv = {
		.auth = f->auth, .store = f->store, .pool = f->pool,
	};
	struct http_env henv = {
		.conf = f->conf, .base = f->base, .tls = f->tls, .route = routes_answer,
	};

	f->sig = sig_new(&senv);
	f->ws = wsconns_new(f->sig, f->base);
	renv.sig = f->sig;
	renv.ws = f->ws;
	f->routes = routes_new(&renv);
	henv.route_ctx = f->routes;
	f->http = http_new(&henv, err, errlen);
	if (!f->http) {
		log_error("http", NULL, "%s", err);
		return -1;
	}
	return 0;
}

/* The relay workers on the bound STUN/TURN sockets, running. */
static int start_workers(struct ferry *f, char *err, size_t errlen)
{
	char a[NET_ADDRSTRLEN];
	struct srv_env env = {
		.conf = f->conf, .auth = f->auth, .pool = f->pool,
	};

	f->alloc_counts = addr_counts_new();
	env.alloc_counts = f->alloc_counts;
	f->workers = workers_new(f->nworkers, f->listeners, &env, err, errlen);
	if (!f->workers || workers_start(f->workers, f->nworkers, err, errlen) < 0) {
		log_error("worker", NULL, "%s", err);
		return -1;
	}
	for (size_t i = 0; i < listeners_count(f->listeners); i++)
		log_info("listen", NULL, "STUN/TURN on udp and tcp %s",
			 net_fmt(&listeners_addr(f->listeners, i)->u.sa, a, sizeof(a)));
	routes_set_workers(f->routes, f->workers, f->nworkers);
	return 0;
}

/* SIGTERM/SIGINT stop, SIGHUP reloads, and the database is polled for
 * ferryctl's changes once a second. */
static int start_events(struct ferry *f)
{
	struct timeval second = { 1, 0 };

	f->sig_term = evsignal_new(f->base, SIGTERM, on_stop, f);
	f->sig_int = evsignal_new(f->base, SIGINT, on_stop, f);
	f->sig_hup = evsignal_new(f->base, SIGHUP, on_reload, f);
	f->db_poll = event_new(f->base, -1, EV_PERSIST, on_db_poll, f);
	if (evsignal_add(f->sig_term, NULL) || evsignal_add(f->sig_int, NULL) ||
	    evsignal_add(f->sig_hup, NULL) || event_add(f->db_poll, &second)) {
		log_error("ferryd", NULL, "cannot install signal handlers");
		return -1;
	}
	return 0;
}

/* Start-up in order: every privileged socket is bound before privileges
 * are dropped, and the workers and HTTP start serving only after that. */
static int start(struct ferry *f)
{
	char err[512];

	f->base = main_loop_new();
	if (!f->base) {
		log_error("ferryd", NULL, "cannot create the event loop");
		return -1;
	}
	if (start_state(f, err, sizeof(err)) < 0)
		return -1;
	f->nworkers = (int)f->conf->threads;
	f->listeners = listeners_bind(f->conf, f->nworkers, f->tls, err, sizeof(err));
	if (!f->listeners) {
		log_error("listen", NULL, "%s", err);
		return -1;
	}
	if (start_http(f, err, sizeof(err)) < 0 ||
	    write_pid_file(f) < 0 || drop_privileges(f) < 0 ||
	    start_workers(f, err, sizeof(err)) < 0)
		return -1;
	if (http_start(f->http, err, sizeof(err)) < 0) {
		log_error("http", NULL, "%s", err);
		return -1;
	}
	warn_about(f->conf, f->auth);
	return start_events(f);
}

/* Everything start() did, undone in reverse order; safe after a partial
 * start. */
static void stop(struct ferry *f)
{
	if (f->db_poll)
		event_free(f->db_poll);
	if (f->sig_hup)
		event_free(f->sig_hup);
	if (f->sig_int)
		event_free(f->sig_int);
	if (f->sig_term)
		event_free(f->sig_term);
	/* WebSocket connections hand their sockets back to the HTTP server. */
	wsconns_free(f->ws);
	http_free(f->http);
	routes_free(f->routes);
	sig_free(f->sig);
	if (f->workers) {
		workers_stop(f->workers, f->nworkers);
		workers_free(f->workers, f->nworkers);
	}
	listeners_free(f->listeners);
	addr_counts_free(f->alloc_counts);
	tls_free(f->tls);
	relay_pool_free(f->pool);
	auth_free(f->auth);
	store_close(f->store);
	if (f->pid_written)
		unlink(f->conf->pid_file);
	if (f->base)
		event_base_free(f->base);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ferry f = { .conf_path = NULL };
	int check = 0, opt, rc = 1, ready_fd = -1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': f.conf_path = optarg; break;
		case 'f': f.foreground = 1; break;
		case 'C': check = 1; break;
		case 'V': printf("ferryd %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "ferryd: option -%c needs an argument\n", optopt);
			return 1;
		default:
			fprintf(stderr, "ferryd: unknown option %s (see ferryd --help)\n",
				argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ferryd: unexpected argument %s (see ferryd --help)\n",
			argv[optind]);
		return 1;
	}
	if (!f.conf_path)
		f.conf_path = conf_default_path();

	f.conf = conf_load(f.conf_path, conf_err_stderr, NULL);
	if (!f.conf) {
		fprintf(stderr, "ferryd: %s has errors; not starting\n", f.conf_path);
		return 1;
	}
	if (check) {
		conf_print(f.conf, stdout);
		conf_free(f.conf);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	evthread_use_pthreads();
	if (!f.foreground && detach(&ready_fd) < 0) {
		fprintf(stderr, "ferryd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	if (open_log(f.conf, f.foreground) < 0)
		goto out;
	if (start(&f) < 0)
		goto out;
	log_info("ferryd", NULL, "ferry %s started (%d worker%s)", PACKAGE_VERSION,
		 f.nworkers, f.nworkers == 1 ? "" : "s");
	report_ready(&ready_fd, 0);
	notify("READY=1");
	event_base_loop(f.base, EVLOOP_NO_EXIT_ON_EMPTY);
	rc = 0;
	log_info("ferryd", NULL, "stopped");
out:
	stop(&f);
	report_ready(&ready_fd, (char)rc);
	conf_free(f.conf);
	log_close();
	return rc;
}
