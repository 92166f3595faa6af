/* dbsync — see dbsync.h. */
#include "auth/dbsync.h"
#include "auth/auth.h"
#include "conf/conf.h"
#include "core/log.h"
#include "store/store.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* Growable arrays filled by the store's iterators; they own copies of
 * the strings, which the iterators only lend. */
struct collect {
	size_t n, cap;
	char **strs;
	struct auth_user_keys *keys;
	const char *realm;
	size_t skipped;
};

static void grow(struct collect *c, size_t elem, void **arr)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		*arr = xrealloc(*arr, c->cap * elem);
	}
}

static int add_user(void *ctx, const struct store_user *u)
{
	struct collect *c = ctx;
	struct auth_user_keys *k;

	if (strcmp(u->realm, c->realm) != 0) {
		c->skipped++;
		return 0;
	}
	grow(c, sizeof(*c->keys), (void **)&c->keys);
	k = &c->keys[c->n++];
	k->name = xstrdup(u->name);
	k->realm = xstrdup(u->realm);
	memcpy(k->md5, u->key_md5, sizeof(k->md5));
	memcpy(k->sha256, u->key_sha256, sizeof(k->sha256));
	return 0;
}

static int add_str(struct collect *c, const char *s)
{
	grow(c, sizeof(*c->strs), (void **)&c->strs);
	c->strs[c->n++] = xstrdup(s);
	return 0;
}

static int add_secret(void *ctx, const struct store_secret *s)
{
	return add_str(ctx, s->value);
}

static int add_revoked(void *ctx, const char *user, int64_t created)
{
	return add_str(ctx, user);
}

static void collect_free(struct collect *c, int keys)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (keys) {
			free((char *)c->keys[i].name);
			free((char *)c->keys[i].realm);
		} else {
			free(c->strs[i]);
		}
	}
	free(c->keys);
	free(c->strs);
}

int dbsync_publish(struct auth *a, const struct ferry_conf *c, struct store *st,
		   char *err, size_t errlen)
{
	struct collect users = { .realm = c->realm }, secrets = { 0 }, revoked = { 0 };
	const char **names = xcalloc(c->n_users + 1, sizeof(char *));
	const char **passwords = xcalloc(c->n_users + 1, sizeof(char *));
	struct auth_config cfg = { 0 };
	size_t i;
	int rc = -1;

	/* The file's secrets first: the first auth-secret signs. */
	for (i = 0; i < c->auth_secret.n; i++)
		add_str(&secrets, c->auth_secret.v[i]);
	if (store_user_foreach(st, add_user, &users, err, errlen) < 0 ||
	    store_secret_foreach(st, add_secret, &secrets, err, errlen) < 0 ||
	    store_revoked_foreach(st, add_revoked, &revoked, err, errlen) < 0)
		goto out;
	if (users.skipped)
		log_warn("auth", NULL, "%zu database user%s stored for another realm "
			 "than \"%s\" cannot log in (add them again)", users.skipped,
			 users.skipped == 1 ? " is" : "s are", c->realm);
	for (i = 0; i < c->n_users; i++) {
		names[i] = c->users[i].name;
		passwords[i] = c->users[i].password;
	}
	cfg.realm = c->realm;
	cfg.n_plain = c->n_users;
	cfg.plain_names = names;
	cfg.plain_passwords = passwords;
	cfg.n_keyed = users.n;
	cfg.keyed = users.keys;
	cfg.n_secrets = secrets.n;
	cfg.secrets = (const char *const *)secrets.strs;
	cfg.n_revoked = revoked.n;
	cfg.revoked = (const char *const *)revoked.strs;
	auth_publish(a, &cfg);
	log_debug("auth", NULL, "credentials: %zu file users, %zu database users, "
		  "%zu secrets, %zu revoked", c->n_users, users.n, secrets.n, revoked.n);
	rc = 0;
out:
	collect_free(&users, 1);
	collect_free(&secrets, 0);
	collect_free(&revoked, 0);
	free(names);
	free(passwords);
	return rc;
}
