/* relay — see ports.h. */
#include "turn/ports.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reservation {
	struct reservation *next;
	uint8_t token[RELAY_TOKEN_LEN];
	int fd;
	net_addr bound;
	uint64_t expires;
};

struct relay_ip {
	net_addr ip;
	uint8_t used[65536 / 8];    /* ports we hold on this address */
	size_t nused;
};

struct relay_pool {
	pthread_mutex_t lock;
	int min, max;
	size_t nips;
	struct relay_ip *ips;
	struct reservation *resv;
};

struct relay_pool *relay_pool_new(const struct ferry_conf *conf)
{
	struct relay_pool *p = xcalloc(1, sizeof(*p));
	size_t i;

	pthread_mutex_init(&p->lock, NULL);
	p->min = conf->relay_port_min;
	p->max = conf->relay_port_max;
	p->nips = conf->relay_ip.n;
	p->ips = xcalloc(p->nips ? p->nips : 1, sizeof(*p->ips));
	for (i = 0; i < p->nips; i++) {
		p->ips[i].ip = conf->relay_ip.v[i];
		net_set_port(&p->ips[i].ip, 0);
	}
	return p;
}

void relay_pool_free(struct relay_pool *p)
{
	struct reservation *r, *next;

	if (!p)
		return;
	for (r = p->resv; r; r = next) {
		next = r->next;
		close(r->fd);
		free(r);
	}
	free(p->ips);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

const net_addr *relay_pool_ip(struct relay_pool *p, int family)
{
	size_t i;

	for (i = 0; i < p->nips; i++)
		if (net_family(&p->ips[i].ip) == family)
			return &p->ips[i].ip;
	return NULL;
}

static struct relay_ip *find_ip(struct relay_pool *p, const net_addr *ip)
{
	size_t i;

	for (i = 0; i < p->nips; i++)
		if (net_ip_equal(&p->ips[i].ip.u.sa, &ip->u.sa))
			return &p->ips[i];
	return NULL;
}

static int port_used(const struct relay_ip *ri, int port)
{
	return ri->used[port >> 3] & (1u << (port & 7));
}

static void port_mark(struct relay_ip *ri, int port, int on)
{
	if (on && !port_used(ri, port)) {
		ri->used[port >> 3] |= (uint8_t)(1u << (port & 7));
		ri->nused++;
	} else if (!on && port_used(ri, port)) {
		ri->used[port >> 3] &= (uint8_t)~(1u << (port & 7));
		ri->nused--;
	}
}

static int bind_port(const net_addr *ip, int port, net_addr *bound)
{
	char err[160];
	net_addr a = *ip;
	int fd;

	net_set_port(&a, (uint16_t)port);
	fd = net_udp_bind(&a, 0, err, sizeof(err));
	if (fd >= 0) {
		net_set_buffers(fd, 1 << 20);
		*bound = a;
	}
	return fd;
}

int relay_open(struct relay_pool *p, const net_addr *ip, int flags,
	       net_addr *bound, uint8_t token_out[RELAY_TOKEN_LEN])
{
	struct relay_ip *ri;
	uint32_t r;
	int span, start, i, fd = -1;

	pthread_mutex_lock(&p->lock);
	ri = find_ip(p, ip);
	if (!ri)
		goto out;
	span = p->max - p->min + 1;
	random_bytes(&r, sizeof(r));
	start = (int)(r % (uint32_t)span);
	/* Random start (RFC 8656 §7.2 recommends randomised ports), then a
	 * scan: every port is tried at most once, so a full range fails in
	 * bounded time. */
	for (i = 0; i < span && fd < 0; i++) {
		int port = p->min + (start + i) % span;

		if ((flags & RELAY_EVEN) && (port & 1))
			continue;
		if (port_used(ri, port))
			continue;
		if (flags & RELAY_RESERVE_NEXT) {
			net_addr next_bound;
			int fd2;

			if (port + 1 > p->max || port_used(ri, port + 1))
				continue;
			fd = bind_port(ip, port, bound);
			if (fd < 0)
				continue;
			fd2 = bind_port(ip, port + 1, &next_bound);
			if (fd2 < 0) {
				close(fd);
				fd = -1;
				continue;
			}
			struct reservation *res = xcalloc(1, sizeof(*res));
			random_bytes(res->token, sizeof(res->token));
			memcpy(token_out, res->token, RELAY_TOKEN_LEN);
			res->fd = fd2;
			res->bound = next_bound;
			res->expires = mono_ms() + RELAY_RESERVE_SECONDS * 1000u;
			res->next = p->resv;
			p->resv = res;
			port_mark(ri, port + 1, 1);
		} else {
			fd = bind_port(ip, port, bound);
		}
		if (fd >= 0)
			port_mark(ri, port, 1);
	}
out:
	pthread_mutex_unlock(&p->lock);
	return fd;
}

int relay_take_reserved(struct relay_pool *p, const uint8_t token[RELAY_TOKEN_LEN],
			net_addr *bound)
{
	struct reservation **pp, *r;
	uint64_t now = mono_ms();
	int fd = -1;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->resv; (r = *pp); pp = &r->next) {
		if (ct_equal(r->token, token, RELAY_TOKEN_LEN) && r->expires > now) {
			*pp = r->next;
			fd = r->fd;
			*bound = r->bound;
			free(r);
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return fd;
}

void relay_close(struct relay_pool *p, int fd, const net_addr *bound)
{
	struct relay_ip *ri;

	close(fd);
	pthread_mutex_lock(&p->lock);
	ri = find_ip(p, bound);
	if (ri)
		port_mark(ri, net_port(&bound->u.sa), 0);
	pthread_mutex_unlock(&p->lock);
}

void relay_expire_reservations(struct relay_pool *p)
{
	struct reservation **pp, *r;
	uint64_t now = mono_ms();

	pthread_mutex_lock(&p->lock);
	for (pp = &p->resv; (r = *pp);) {
		if (r->expires <= now) {
			struct relay_ip *ri = find_ip(p, &r->bound);
			*pp = r->next;
			if (ri)
				port_mark(ri, net_port(&r->bound.u.sa), 0);
			close(r->fd);
			free(r);
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&p->lock);
}

int relay_pool_holds(struct relay_pool *p, const net_addr *addr)
{
	struct relay_ip *ri;
	int port = net_port(&addr->u.sa), held;

	pthread_mutex_lock(&p->lock);
	ri = find_ip(p, addr);
	held = ri && port >= p->min && port <= p->max && port_used(ri, port);
	pthread_mutex_unlock(&p->lock);
	return held;
}

size_t relay_ports_in_use(struct relay_pool *p)
{
	size_t i, n = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nips; i++)
		n += p->ips[i].nused;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void relay_to_public(const struct ferry_conf *conf, const net_addr *priv, net_addr *out)
{
	size_t i;

	*out = *priv;
	for (i = 0; i < conf->n_external; i++) {
		const struct conf_external *e = &conf->external_ip[i];
		int match = e->has_private
			? net_ip_equal(&e->private_ip.u.sa, &priv->u.sa)
			: net_family(&e->public_ip) == net_family(priv);
		if (match) {
			uint16_t port = net_port(&priv->u.sa);
			*out = e->public_ip;
			net_set_port(out, port);
			return;
		}
	}
}

int relay_from_public(const struct ferry_conf *conf, const net_addr *pub, net_addr *out)
{
	size_t i, j;

	for (i = 0; i < conf->n_external; i++) {
		const struct conf_external *e = &conf->external_ip[i];
		if (!net_ip_equal(&e->public_ip.u.sa, &pub->u.sa))
			continue;
		for (j = 0; j < conf->relay_ip.n; j++) {
			const net_addr *r = &conf->relay_ip.v[j];
			if (e->has_private ? net_ip_equal(&e->private_ip.u.sa, &r->u.sa)
					   : net_family(r) == net_family(pub)) {
				*out = *r;
				net_set_port(out, net_port(&pub->u.sa));
				return 1;
			}
		}
	}
	*out = *pub;
	return 0;
}

int relay_is_own(const struct ferry_conf *conf, const struct sockaddr *addr)
{
	net_addr a, priv;
	uint16_t port = net_port(addr);
	size_t i;

	if (port < conf->relay_port_min || port > conf->relay_port_max)
		return 0;
	net_addr_from_sa(&a, addr);
	relay_from_public(conf, &a, &priv);
	for (i = 0; i < conf->relay_ip.n; i++)
		if (net_ip_equal(&conf->relay_ip.v[i].u.sa, &priv.u.sa))
			return 1;
	return 0;
}
