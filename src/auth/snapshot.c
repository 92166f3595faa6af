/* snapshot — see snapshot.h. */
#include "auth/snapshot.h"
#include "auth/auth.h"
#include "core/hash.h"
#include "core/names.h"
#include "core/util.h"
#include "stun/stun.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ------------------------------------------------------------ indexes */

/* The bytes' hash, from the snapshot's random seed. */
static uint64_t name_hash(uint64_t seed, const void *p, size_t n)
{
	return hash_finish(hash_bytes(HASH_INIT ^ seed, p, n));
}

static void idx_init(struct snap_idx *x, size_t n)
{
	size_t cap = 16, i;

	while (cap < 2 * n)
		cap <<= 1;
	x->slot = xmalloc(cap * sizeof(*x->slot));
	for (i = 0; i < cap; i++)
		x->slot[i] = SNAP_IDX_EMPTY;
	x->mask = cap - 1;
}

static void idx_put(struct snap_idx *x, uint64_t h, uint32_t v)
{
	size_t i = h & x->mask;

	while (x->slot[i] != SNAP_IDX_EMPTY)
		i = (i + 1) & x->mask;
	x->slot[i] = v;
}

/* ------------------------------------------------------------ lookups */

const struct snap_user *snap_find(const struct snap *s, const char *name,
				  size_t len, const char *realm,
				  size_t realmlen)
{
	uint64_t h = name_hash(s->seed, name, len);
	size_t i;

	for (i = h & s->by_name.mask; s->by_name.slot[i] != SNAP_IDX_EMPTY;
	     i = (i + 1) & s->by_name.mask) {
		const struct snap_user *u = &s->users[s->by_name.slot[i]];

		if (u->namehash != h || u->namelen != len ||
		    memcmp(u->name, name, len) != 0)
			continue;
		if (realm && (u->realmlen != realmlen ||
			      memcmp(u->realm, realm, realmlen) != 0))
			continue;
		return u;
	}
	return NULL;
}

const struct snap_user *snap_find_userhash(const struct snap *s,
					   const uint8_t hash[32])
{
	uint64_t h;
	size_t i;

	memcpy(&h, hash, sizeof(h));
	for (i = h & s->by_hash.mask; s->by_hash.slot[i] != SNAP_IDX_EMPTY;
	     i = (i + 1) & s->by_hash.mask) {
		const struct snap_user *u = &s->users[s->by_hash.slot[i]];

		if (memcmp(u->userhash, hash, 32) == 0)
			return u;
	}
	return NULL;
}

int snap_revoked(const struct snap *s, const char *user, size_t len)
{
	uint64_t h = name_hash(s->seed, user, len);
	size_t i;

	for (i = h & s->revoked_idx.mask; s->revoked_idx.slot[i] != SNAP_IDX_EMPTY;
	     i = (i + 1) & s->revoked_idx.mask) {
		uint32_t v = s->revoked_idx.slot[i];

		if (s->revoked_len[v] == len &&
		    memcmp(s->revoked[v], user, len) == 0)
			return 1;
	}
	return 0;
}

/* ----------------------------------------------------------- building */

/* Appends a user with its name, realm and USERHASH; the caller fills in
 * the keys. */
static struct snap_user *add_user(struct snap *s, const char *name,
				  const char *realm, int from_file)
{
	struct snap_user *u = &s->users[s->n_users];

	u->namelen = strlen(name);
	u->name = xstrndup(name, u->namelen);
	u->namehash = name_hash(s->seed, name, u->namelen);
	u->realmlen = strlen(realm);
	u->realm = from_file ? realm : xstrndup(realm, u->realmlen);
	u->from_file = from_file;
	stun_userhash(u->name, u->namelen, u->realm, u->realmlen, u->userhash);
	idx_put(&s->by_name, u->namehash, (uint32_t)s->n_users);
	s->n_users++;
	return u;
}

/* File users go in first, so that they win a name clash with the
 * database; a repeated name keeps its first line.  Their keys are made
 * here, for the configured realm. */
static void add_file_users(struct snap *s, const struct auth_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_plain; i++) {
		const char *name = cfg->plain_names[i];
		const char *pw = cfg->plain_passwords[i];
		struct snap_user *u;

		if (!names_login(name) || !pw ||
		    snap_find(s, name, strlen(name), NULL, 0))
			continue;
		u = add_user(s, name, s->realm, 1);
		stun_key_md5(u->name, u->namelen, u->realm, u->realmlen,
			     pw, strlen(pw), u->md5);
		stun_key_sha256(u->name, u->namelen, u->realm, u->realmlen,
				pw, strlen(pw), u->sha256);
	}
}

/* Database users come with their keys.  A file user owns the name in
 * every realm; a database user is one per (name, realm), first row wins. */
static void add_db_users(struct snap *s, const struct auth_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_keyed; i++) {
		const struct auth_user_keys *k = &cfg->keyed[i];
		const struct snap_user *f;
		struct snap_user *u;

		if (!names_login(k->name) || !k->realm)
			continue;
		f = snap_find(s, k->name, strlen(k->name), NULL, 0);
		if (f && (f->from_file ||
			  snap_find(s, k->name, strlen(k->name),
				    k->realm, strlen(k->realm))))
			continue;
		u = add_user(s, k->name, k->realm, 0);
		memcpy(u->md5, k->md5, sizeof(u->md5));
		memcpy(u->sha256, k->sha256, sizeof(u->sha256));
	}
}

/* USERHASH includes the realm, so it is unique per entry. */
static void index_userhashes(struct snap *s)
{
	size_t i;

	idx_init(&s->by_hash, s->n_users);
	for (i = 0; i < s->n_users; i++) {
		uint64_t h;

		memcpy(&h, s->users[i].userhash, sizeof(h));
		idx_put(&s->by_hash, h, (uint32_t)i);
	}
}

/* In the given order (the first one signs), without empty ones. */
static void copy_secrets(struct snap *s, const struct auth_config *cfg)
{
	size_t i;

	s->secrets = xcalloc(cfg->n_secrets ? cfg->n_secrets : 1,
			     sizeof(*s->secrets));
	for (i = 0; i < cfg->n_secrets; i++) {
		const char *sec = cfg->secrets[i];

		if (!sec || !*sec)
			continue;
		s->secrets[s->n_secrets].len = strlen(sec);
		s->secrets[s->n_secrets].s = xstrdup(sec);
		s->n_secrets++;
	}
}

static void copy_revoked(struct snap *s, const struct auth_config *cfg)
{
	size_t i;

	s->revoked = xcalloc(cfg->n_revoked ? cfg->n_revoked : 1,
			     sizeof(*s->revoked));
	s->revoked_len = xcalloc(cfg->n_revoked ? cfg->n_revoked : 1,
				 sizeof(*s->revoked_len));
	idx_init(&s->revoked_idx, cfg->n_revoked);
	for (i = 0; i < cfg->n_revoked; i++) {
		const char *r = cfg->revoked[i];
		size_t len;

		if (!r)
			continue;
		len = strlen(r);
		if (snap_revoked(s, r, len))
			continue;
		s->revoked[s->n_revoked] = xstrndup(r, len);
		s->revoked_len[s->n_revoked] = len;
		idx_put(&s->revoked_idx, name_hash(s->seed, r, len),
			(uint32_t)s->n_revoked);
		s->n_revoked++;
	}
}

struct snap *snap_build(const struct auth_config *cfg)
{
	static const struct auth_config empty = { 0 };
	struct snap *s = xcalloc(1, sizeof(*s));
	size_t nu;

	if (!cfg)
		cfg = &empty;
	/* Names are the client's choice: a seed per table keeps them from
	 * aiming at one bucket (core/hash.h). */
	random_bytes(&s->seed, sizeof(s->seed));
	s->realm = xstrdup(cfg->realm ? cfg->realm : "");
	s->realmlen = strlen(s->realm);

	nu = cfg->n_plain + cfg->n_keyed;
	s->users = xcalloc(nu ? nu : 1, sizeof(*s->users));
	idx_init(&s->by_name, nu);
	add_file_users(s, cfg);
	add_db_users(s, cfg);
	index_userhashes(s);

	copy_secrets(s, cfg);
	copy_revoked(s, cfg);
	return s;
}

void snap_free(struct snap *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_users; i++) {
		free(s->users[i].name);
		if (!s->users[i].from_file)
			free((char *)s->users[i].realm);
	}
	free(s->users);
	free(s->by_name.slot);
	free(s->by_hash.slot);
	for (i = 0; i < s->n_secrets; i++) {
		/* Secrets are key material: do not leave them in freed heap. */
		OPENSSL_cleanse(s->secrets[i].s, s->secrets[i].len);
		free(s->secrets[i].s);
	}
	free(s->secrets);
	for (i = 0; i < s->n_revoked; i++)
		free(s->revoked[i]);
	free(s->revoked);
	free(s->revoked_len);
	free(s->revoked_idx.slot);
	free(s->realm);
	free(s);
}
