/* lookup — see lookup.h; the locking is described in state.h. */
#include "auth/lookup.h"
#include "auth/ephemeral.h"
#include "auth/snapshot.h"
#include "auth/state.h"
#include "core/utf8.h"
#include "stun/stun.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>

const char *auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:		return "ok";
	case AUTH_UNKNOWN:	return "unknown user";
	case AUTH_EXPIRED:	return "expired";
	case AUTH_REVOKED:	return "revoked";
	case AUTH_BAD_NAME:	return "bad username";
	}
	return "unknown";
}

/* Well-formed UTF-8 without NUL: RFC 8489 USERNAME is a UTF-8 string and
 * an embedded NUL would make our C-string copies lie about it. */
static int utf8_ok(const uint8_t *p, size_t n)
{
	return !memchr(p, 0, n) && utf8_valid(p, n);
}

static void keys_reset(struct auth_keys *out)
{
	out->n = 0;
	out->name[0] = '\0';
	out->user[0] = '\0';
	out->ephemeral = 0;
	out->expires = 0;
}

static void keys_long_term(struct auth_keys *out, const struct snap_user *u)
{
	out->n = 1;
	memcpy(out->k[0].md5, u->md5, sizeof(out->k[0].md5));
	memcpy(out->k[0].sha256, u->sha256, sizeof(out->k[0].sha256));
	memcpy(out->name, u->name, u->namelen + 1);
	memcpy(out->user, u->name, u->namelen + 1);
	out->ephemeral = 0;
	out->expires = 0;
}

/* One key per secret that could have signed the ephemeral username, each
 * from its REST password and the realm the client sent.  Returns how many
 * out->k now holds. */
static size_t keys_ephemeral(const struct snap *s, const char *username,
			     size_t len, const char *realm, size_t realmlen,
			     struct auth_keys *out)
{
	size_t i;

	for (i = 0; i < s->n_secrets && out->n < AUTH_MAX_KEYS; i++) {
		char pw[29];
		size_t pwlen;

		auth_ephemeral_password(s->secrets[i].s, s->secrets[i].len,
					username, len, pw);
		pwlen = strlen(pw);
		if (pwlen == 0)
			continue;
		if (stun_key_md5(username, len, realm, realmlen, pw, pwlen,
				 out->k[out->n].md5) != 0 ||
		    stun_key_sha256(username, len, realm, realmlen, pw, pwlen,
				    out->k[out->n].sha256) != 0) {
			OPENSSL_cleanse(pw, sizeof(pw));
			continue;
		}
		OPENSSL_cleanse(pw, sizeof(pw));
		out->n++;
	}
	return out->n;
}

/* The ephemeral form, "<expiry>[:<user>]": checked for expiry, then
 * revocation, then the secrets. */
static enum auth_result lookup_ephemeral(const struct snap *s,
					 const char *username, size_t len,
					 const char *realm, size_t realmlen,
					 time_t now, struct auth_keys *out)
{
	time_t expiry;
	size_t colon, ulen;
	int r = auth_ephemeral_parse(username, len, &expiry, &colon);

	if (r == 0)
		return AUTH_UNKNOWN;
	if (r < 0)
		return AUTH_BAD_NAME;

	ulen = colon < len ? len - colon - 1 : 0;
	memcpy(out->user, username + len - ulen, ulen);
	out->user[ulen] = '\0';
	out->ephemeral = 1;
	out->expires = expiry;

	if (expiry <= now)
		return AUTH_EXPIRED;
	if (snap_revoked(s, out->user, ulen))
		return AUTH_REVOKED;
	if (s->n_secrets == 0)
		return AUTH_UNKNOWN;
	return keys_ephemeral(s, username, len, realm, realmlen, out) ?
	       AUTH_OK : AUTH_UNKNOWN;
}

/* A long-term user first: a file user by name alone, a database user by
 * name and realm; then the ephemeral form. */
static enum auth_result lookup_in(const struct snap *s, const char *username,
				  size_t len, const char *realm,
				  size_t realmlen, time_t now,
				  struct auth_keys *out)
{
	const struct snap_user *u = snap_find(s, username, len, NULL, 0);

	if (u && !u->from_file)
		u = snap_find(s, username, len, realm, realmlen);
	if (u && u->from_file) {
		/* A file user's keys were made with the configured realm;
		 * under another realm they cannot match, and the name is
		 * the file's, so it is not tried as ephemeral either. */
		if (u->realmlen != realmlen ||
		    memcmp(u->realm, realm, realmlen) != 0)
			return AUTH_UNKNOWN;
		keys_long_term(out, u);
		return AUTH_OK;
	}
	if (u) {
		keys_long_term(out, u);
		return AUTH_OK;
	}
	/* Includes a database user stored under another realm: for this
	 * realm that name is not a long-term user. */
	return lookup_ephemeral(s, username, len, realm, realmlen, now, out);
}

enum auth_result auth_lookup(struct auth *a, const char *username, size_t len,
			     const char *realm, size_t realmlen, time_t now,
			     struct auth_keys *out)
{
	enum auth_result r;

	keys_reset(out);
	if (!username || len == 0 || len >= AUTH_NAME_MAX ||
	    !utf8_ok((const uint8_t *)username, len))
		return AUTH_BAD_NAME;
	if (!realm) {
		realm = "";
		realmlen = 0;
	}
	/* The name is filled in whatever the result, for the caller's log. */
	memcpy(out->name, username, len);
	out->name[len] = '\0';

	pthread_rwlock_rdlock(&a->lock);
	r = lookup_in(a->snap, username, len, realm, realmlen, now, out);
	pthread_rwlock_unlock(&a->lock);
	return r;
}

enum auth_result auth_lookup_userhash(struct auth *a, const uint8_t hash[32],
				      const char *realm, size_t realmlen,
				      struct auth_keys *out)
{
	const struct snap_user *u;
	enum auth_result r = AUTH_UNKNOWN;

	keys_reset(out);
	if (!realm)
		realmlen = 0;

	pthread_rwlock_rdlock(&a->lock);
	u = snap_find_userhash(a->snap, hash);
	/* The hash covers the realm, so a match on another realm means the
	 * client hashed with a realm it did not send. */
	if (u && u->realmlen == realmlen &&
	    memcmp(u->realm, realm, realmlen) == 0) {
		keys_long_term(out, u);
		r = AUTH_OK;
	}
	pthread_rwlock_unlock(&a->lock);
	return r;
}

int auth_is_user(struct auth *a, const char *name)
{
	int r;

	if (!name)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	r = snap_find(a->snap, name, strlen(name), NULL, 0) != NULL;
	pthread_rwlock_unlock(&a->lock);
	return r;
}

int auth_is_revoked(struct auth *a, const char *user)
{
	int r;

	if (!user)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	r = snap_revoked(a->snap, user, strlen(user));
	pthread_rwlock_unlock(&a->lock);
	return r;
}

int auth_signing_secret(struct auth *a, char *out, size_t outsz)
{
	const struct snap *s;
	int r = -1;

	pthread_rwlock_rdlock(&a->lock);
	s = a->snap;
	if (s->n_secrets > 0 && s->secrets[0].len < outsz) {
		memcpy(out, s->secrets[0].s, s->secrets[0].len + 1);
		r = 0;
	}
	pthread_rwlock_unlock(&a->lock);
	return r;
}
