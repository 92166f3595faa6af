/* turn_fixture — see turn_fixture.h. */
#include "turn_fixture.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "turn/alloc.h"
#include "turn/engine.h"
#include "turn/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

uint64_t fixture_mono_now;
time_t fixture_wall_now;

uint64_t fixture_mono(void)
{
	return fixture_mono_now;
}

time_t fixture_wall(void)
{
	return fixture_wall_now;
}

void fixture_addr(net_addr *a, const char *ip, uint16_t port)
{
	int ok;

	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':')) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		ok = inet_pton(AF_INET6, ip, &a->u.in6.sin6_addr) == 1;
		a->len = sizeof(a->u.in6);
	} else {
		a->u.in4.sin_family = AF_INET;
		a->u.in4.sin_port = htons(port);
		ok = inet_pton(AF_INET, ip, &a->u.in4.sin_addr) == 1;
		a->len = sizeof(a->u.in4);
	}
	if (!ok) {
		fprintf(stderr, "turn_fixture: not an address: %s\n", ip);
		abort();
	}
}

int fixture_udp_socket(const char *ip, net_addr *bound)
{
	int fd;

	fixture_addr(bound, ip, 0);
	fd = socket(bound->u.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, &bound->u.sa, bound->len) != 0) {
		close(fd);
		return -1;
	}
	bound->len = sizeof(bound->u.ss);
	if (getsockname(fd, &bound->u.sa, &bound->len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct auth *fixture_auth_new(const struct ferry_conf *conf, const char *secret,
			      const char *revoked)
{
	struct auth *auth = auth_new();
	const char **names, **passwords;
	struct auth_config ac;
	size_t i;

	if (!auth)
		return NULL;
	names = calloc(conf->n_users + 1, sizeof(*names));
	passwords = calloc(conf->n_users + 1, sizeof(*passwords));
	if (!names || !passwords) {
		free(names);
		free(passwords);
		auth_free(auth);
		return NULL;
	}
	for (i = 0; i < conf->n_users; i++) {
		names[i] = conf->users[i].name;
		passwords[i] = conf->users[i].password;
	}
	memset(&ac, 0, sizeof(ac));
	ac.realm = conf->realm;
	ac.n_plain = conf->n_users;
	ac.plain_names = names;
	ac.plain_passwords = passwords;
	ac.n_secrets = secret != NULL;
	ac.secrets = &secret;
	ac.n_revoked = revoked != NULL;
	ac.revoked = &revoked;
	auth_publish(auth, &ac);
	free(names);
	free(passwords);
	return auth;
}

int fixture_engine_start(struct fixture_engine *e, const struct ferry_conf *conf,
			 struct event_base *base, struct auth *auth)
{
	struct srv_env env;

	memset(e, 0, sizeof(*e));
	e->pool = relay_pool_new(conf);
	if (!e->pool)
		return -1;
	memset(&env, 0, sizeof(env));
	env.conf = conf;
	env.base = base;
	env.auth = auth;
	env.pool = e->pool;
	env.stats = &e->stats;
	e->srv = srv_new(&env);
	srv_set_clock(e->srv, fixture_mono, fixture_wall);
	e->turn = srv_turn(e->srv);
	return 0;
}

void fixture_engine_stop(struct fixture_engine *e)
{
	srv_free(e->srv);
	relay_pool_free(e->pool);
	e->srv = NULL;
	e->turn = NULL;
	e->pool = NULL;
}
