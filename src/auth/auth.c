/*
 * auth — see auth.h.
 *
 * Locking.  The credential sets live in one immutable struct snap.  Readers
 * hold the rwlock's read side for the whole lookup, so the snapshot they
 * use cannot be freed under them; auth_publish() builds the next snapshot
 * with no lock held, takes the write side only to swap one pointer, and
 * frees the old snapshot after unlocking (once the write lock was granted
 * no reader can still hold it).  The lock prefers writers, so a steady
 * stream of lookups cannot starve a reload.
 *
 * Quotas change with every allocation and have nothing to do with the
 * snapshot; they sit in their own hash map under a plain mutex.
 */
#include "auth/auth.h"
#include "core/hmac.h"
#include "core/hash.h"
#include "core/names.h"
#include "core/net.h"
#include "core/utf8.h"
#include "stun/stun.h"
#include "core/util.h"

#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* RFC 8489 §9.2: a nonce starting with this cookie carries, in the next
 * four characters, the base64 of the 24-bit security feature set. */
#define NONCE_COOKIE		"obMatJos2"
#define NONCE_COOKIE_LEN	9
#define NONCE_FEAT_LEN		4
/* §18.1 numbers the feature bits from the most significant one: bit 0 is
 * "password algorithms", bit 1 "username anonymity". */
#define FEAT_PASSWORD_ALGORITHMS	0x800000u
#define FEAT_USERNAME_ANONYMITY		0x400000u
#define NONCE_FEATURES	(FEAT_PASSWORD_ALGORITHMS | FEAT_USERNAME_ANONYMITY)
/* After the cookie and the features: base64url of the issue time (8 bytes,
 * big-endian) and a truncated HMAC-SHA256 tag.  24 bytes make exactly 32
 * characters, with no padding and no spare bits, so every nonce has one
 * spelling and a changed character always changes the decoded bytes. */
#define NONCE_TIME_LEN	8
#define NONCE_TAG_LEN	16
#define NONCE_BLOB_LEN	(NONCE_TIME_LEN + NONCE_TAG_LEN)
#define NONCE_BLOB_CHARS	32
#define NONCE_LEN	(NONCE_COOKIE_LEN + NONCE_FEAT_LEN + NONCE_BLOB_CHARS)
/* Clocks of the workers that issue and check a nonce are the same clock,
 * but `now` is read at different moments; tolerate a little skew. */
#define NONCE_FUTURE_SLACK	5

#define IDX_EMPTY	UINT32_MAX

/* ------------------------------------------------------------ hashing */

/* The bytes' hash, from a per-process random seed. */
static uint64_t name_hash(uint64_t seed, const void *p, size_t n)
{
	return hash_finish(hash_bytes(HASH_INIT ^ seed, p, n));
}

/* An open-addressing index (linear probing, load at most 1/2) from a hash
 * to positions in an array the caller owns.  Callers walk the probe
 * sequence themselves and compare the entries, which lets one name map to
 * several database users with different realms. */
struct idx {
	uint32_t *slot;
	size_t mask;
};

static void idx_init(struct idx *x, size_t n)
{
	size_t cap = 16, i;

	while (cap < 2 * n)
		cap <<= 1;
	x->slot = xmalloc(cap * sizeof(*x->slot));
	for (i = 0; i < cap; i++)
		x->slot[i] = IDX_EMPTY;
	x->mask = cap - 1;
}

static void idx_put(struct idx *x, uint64_t h, uint32_t v)
{
	size_t i = h & x->mask;

	while (x->slot[i] != IDX_EMPTY)
		i = (i + 1) & x->mask;
	x->slot[i] = v;
}

/* ----------------------------------------------------------- snapshot */

struct lt_user {
	char *name;
	size_t namelen;
	uint64_t namehash;
	/* File users point at the snapshot's realm; database users own it. */
	const char *realm;
	size_t realmlen;
	int from_file;
	uint8_t md5[16];
	uint8_t sha256[32];
	uint8_t userhash[32];	/* SHA-256(name ":" realm) */
};

struct secret {
	char *s;
	size_t len;
};

struct snap {
	char *realm;
	size_t realmlen;
	struct lt_user *users;
	size_t n_users;
	struct idx by_name;
	struct idx by_hash;
	struct secret *secrets;
	size_t n_secrets;
	char **revoked;
	size_t *revoked_len;
	size_t n_revoked;
	struct idx revoked_idx;
};

/* ------------------------------------------------------------- quotas */

struct qent {
	struct qent *next;
	uint64_t hash;
	long count;
	char name[];
};

struct quota {
	pthread_mutex_t lock;
	struct qent **bucket;
	size_t nbucket;		/* a power of two */
	size_t n;
	long total;
};

struct auth {
	pthread_rwlock_t lock;
	struct snap *snap;	/* never NULL after auth_new */
	uint64_t seed;
	uint8_t nonce_key[32];
	struct quota q;
};

static void snap_free(struct snap *s)
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

/* The entry for name (and, when realm is not NULL, that realm) or NULL. */
static const struct lt_user *snap_find(const struct snap *s, uint64_t seed,
				       const char *name, size_t len,
				       const char *realm, size_t realmlen)
{
	uint64_t h = name_hash(seed, name, len);
	size_t i;

	for (i = h & s->by_name.mask; s->by_name.slot[i] != IDX_EMPTY;
	     i = (i + 1) & s->by_name.mask) {
		const struct lt_user *u = &s->users[s->by_name.slot[i]];

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

static int snap_revoked(const struct snap *s, uint64_t seed, const char *user,
			size_t len)
{
	uint64_t h = name_hash(seed, user, len);
	size_t i;

	for (i = h & s->revoked_idx.mask; s->revoked_idx.slot[i] != IDX_EMPTY;
	     i = (i + 1) & s->revoked_idx.mask) {
		uint32_t v = s->revoked_idx.slot[i];

		if (s->revoked_len[v] == len &&
		    memcmp(s->revoked[v], user, len) == 0)
			return 1;
	}
	return 0;
}

static void snap_add_user(struct snap *s, uint64_t seed, const char *name,
			  const char *realm, int from_file)
{
	struct lt_user *u = &s->users[s->n_users];

	u->namelen = strlen(name);
	u->name = xstrndup(name, u->namelen);
	u->namehash = name_hash(seed, name, u->namelen);
	u->realmlen = strlen(realm);
	u->realm = from_file ? realm : xstrndup(realm, u->realmlen);
	u->from_file = from_file;
	stun_userhash(u->name, u->namelen, u->realm, u->realmlen, u->userhash);
	idx_put(&s->by_name, u->namehash, (uint32_t)s->n_users);
	s->n_users++;
}

static struct snap *snap_build(uint64_t seed, const struct auth_config *cfg)
{
	static const struct auth_config empty = { 0 };
	struct snap *s = xcalloc(1, sizeof(*s));
	size_t i, nu;

	if (!cfg)
		cfg = &empty;
	s->realm = xstrdup(cfg->realm ? cfg->realm : "");
	s->realmlen = strlen(s->realm);

	nu = cfg->n_plain + cfg->n_keyed;
	s->users = xcalloc(nu ? nu : 1, sizeof(*s->users));
	idx_init(&s->by_name, nu);

	/* File users first, so that they win a name clash with the
	 * database; a repeated name keeps its first line. */
	for (i = 0; i < cfg->n_plain; i++) {
		const char *name = cfg->plain_names[i];
		const char *pw = cfg->plain_passwords[i];
		struct lt_user *u;

		if (!names_login(name) || !pw ||
		    snap_find(s, seed, name, strlen(name), NULL, 0))
			continue;
		u = &s->users[s->n_users];
		snap_add_user(s, seed, name, s->realm, 1);
		stun_key_md5(u->name, u->namelen, u->realm, u->realmlen,
			     pw, strlen(pw), u->md5);
		stun_key_sha256(u->name, u->namelen, u->realm, u->realmlen,
				pw, strlen(pw), u->sha256);
	}
	for (i = 0; i < cfg->n_keyed; i++) {
		const struct auth_user_keys *k = &cfg->keyed[i];
		const struct lt_user *f;
		struct lt_user *u;

		if (!names_login(k->name) || !k->realm)
			continue;
		f = snap_find(s, seed, k->name, strlen(k->name), NULL, 0);
		/* A file user owns the name in every realm; a database
		 * user is one per (name, realm), first row wins. */
		if (f && (f->from_file ||
			  snap_find(s, seed, k->name, strlen(k->name),
				    k->realm, strlen(k->realm))))
			continue;
		u = &s->users[s->n_users];
		snap_add_user(s, seed, k->name, k->realm, 0);
		memcpy(u->md5, k->md5, sizeof(u->md5));
		memcpy(u->sha256, k->sha256, sizeof(u->sha256));
	}

	/* USERHASH includes the realm, so it is unique per entry. */
	idx_init(&s->by_hash, s->n_users);
	for (i = 0; i < s->n_users; i++) {
		uint64_t h;

		memcpy(&h, s->users[i].userhash, sizeof(h));
		idx_put(&s->by_hash, h, (uint32_t)i);
	}

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
		if (snap_revoked(s, seed, r, len))
			continue;
		s->revoked[s->n_revoked] = xstrndup(r, len);
		s->revoked_len[s->n_revoked] = len;
		idx_put(&s->revoked_idx, name_hash(seed, r, len),
			(uint32_t)s->n_revoked);
		s->n_revoked++;
	}
	return s;
}

/* ---------------------------------------------------------- lifecycle */

struct auth *auth_new(void)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	pthread_rwlockattr_t attr;

	random_bytes(&a->seed, sizeof(a->seed));
	random_bytes(a->nonce_key, sizeof(a->nonce_key));

	pthread_rwlockattr_init(&attr);
	/* glibc prefers readers by default, which would let busy workers
	 * hold a reload off indefinitely. */
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&a->lock, &attr);
	pthread_rwlockattr_destroy(&attr);

	a->snap = snap_build(a->seed, NULL);

	pthread_mutex_init(&a->q.lock, NULL);
	a->q.nbucket = 64;
	a->q.bucket = xcalloc(a->q.nbucket, sizeof(*a->q.bucket));
	return a;
}

void auth_free(struct auth *a)
{
	size_t i;

	if (!a)
		return;
	snap_free(a->snap);
	pthread_rwlock_destroy(&a->lock);
	for (i = 0; i < a->q.nbucket; i++) {
		struct qent *e = a->q.bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(a->q.bucket);
	pthread_mutex_destroy(&a->q.lock);
	OPENSSL_cleanse(a->nonce_key, sizeof(a->nonce_key));
	free(a);
}

void auth_publish(struct auth *a, const struct auth_config *cfg)
{
	struct snap *next = snap_build(a->seed, cfg), *old;

	pthread_rwlock_wrlock(&a->lock);
	old = a->snap;
	a->snap = next;
	pthread_rwlock_unlock(&a->lock);
	snap_free(old);
}

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

/* ------------------------------------------------------------ lookups */

void auth_ephemeral_password(const char *secret, size_t secretlen,
			     const char *username, size_t ulen, char out[29])
{
	uint8_t mac[20];

	/* HMAC-SHA1 only fails when libcrypto is broken or SHA-1 is not
	 * available (a FIPS provider); an empty password then matches no
	 * client, which fails closed. */
	if (hmac("SHA1", secret, secretlen, username, ulen, mac,
		 sizeof(mac)) < 0) {
		out[0] = '\0';
		return;
	}
	b64_encode(mac, sizeof(mac), out, 29);
	OPENSSL_cleanse(mac, sizeof(mac));
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

static void keys_long_term(struct auth_keys *out, const struct lt_user *u)
{
	out->n = 1;
	memcpy(out->k[0].md5, u->md5, sizeof(out->k[0].md5));
	memcpy(out->k[0].sha256, u->sha256, sizeof(out->k[0].sha256));
	memcpy(out->name, u->name, u->namelen + 1);
	memcpy(out->user, u->name, u->namelen + 1);
	out->ephemeral = 0;
	out->expires = 0;
}

/* Parses the expiry of "<digits>[:<user>]".  Returns 1 and fills *expiry
 * and *colon (the colon's offset, or len) when the name has that form,
 * 0 when its first part is not all digits (not ephemeral), -1 when the
 * number does not fit a time_t. */
static int parse_ephemeral(const char *name, size_t len, time_t *expiry,
			   size_t *colon)
{
	const char *c = memchr(name, ':', len);
	size_t end = c ? (size_t)(c - name) : len, i;
	long long v = 0;

	if (end == 0)
		return 0;
	for (i = 0; i < end; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
	}
	for (i = 0; i < end; i++) {
		int d = name[i] - '0';

		if (v > (LLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if ((long long)(time_t)v != v)
		return -1;
	*expiry = (time_t)v;
	*colon = end;
	return 1;
}

static enum auth_result lookup_ephemeral(struct auth *a, const struct snap *s,
					 const char *username, size_t len,
					 const char *realm, size_t realmlen,
					 time_t now, struct auth_keys *out)
{
	time_t expiry;
	size_t colon, ulen, i;
	int r = parse_ephemeral(username, len, &expiry, &colon);

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
	if (snap_revoked(s, a->seed, out->user, ulen))
		return AUTH_REVOKED;
	if (s->n_secrets == 0)
		return AUTH_UNKNOWN;

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
	return out->n ? AUTH_OK : AUTH_UNKNOWN;
}

enum auth_result auth_lookup(struct auth *a, const char *username, size_t len,
			     const char *realm, size_t realmlen, time_t now,
			     struct auth_keys *out)
{
	const struct snap *s;
	const struct lt_user *u;
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
	s = a->snap;
	u = snap_find(s, a->seed, username, len, NULL, 0);
	if (u && !u->from_file)
		u = snap_find(s, a->seed, username, len, realm, realmlen);
	if (u && u->from_file) {
		/* A file user's keys were made with the configured realm;
		 * under another realm they cannot match, and the name is
		 * the file's, so it is not tried as ephemeral either. */
		if (u->realmlen == realmlen &&
		    memcmp(u->realm, realm, realmlen) == 0) {
			keys_long_term(out, u);
			r = AUTH_OK;
		} else {
			r = AUTH_UNKNOWN;
		}
	} else if (u) {
		keys_long_term(out, u);
		r = AUTH_OK;
	} else {
		/* Includes a database user stored under another realm:
		 * for this realm that name is not a long-term user. */
		r = lookup_ephemeral(a, s, username, len, realm, realmlen,
				     now, out);
	}
	pthread_rwlock_unlock(&a->lock);
	return r;
}

enum auth_result auth_lookup_userhash(struct auth *a, const uint8_t hash[32],
				      const char *realm, size_t realmlen,
				      struct auth_keys *out)
{
	const struct snap *s;
	enum auth_result r = AUTH_UNKNOWN;
	uint64_t h;
	size_t i;

	keys_reset(out);
	if (!realm)
		realmlen = 0;
	memcpy(&h, hash, sizeof(h));

	pthread_rwlock_rdlock(&a->lock);
	s = a->snap;
	for (i = h & s->by_hash.mask; s->by_hash.slot[i] != IDX_EMPTY;
	     i = (i + 1) & s->by_hash.mask) {
		const struct lt_user *u = &s->users[s->by_hash.slot[i]];

		if (memcmp(u->userhash, hash, 32) != 0)
			continue;
		/* The hash covers the realm, so a match on another realm
		 * means the client hashed with a realm it did not send. */
		if (u->realmlen == realmlen &&
		    memcmp(u->realm, realm, realmlen) == 0) {
			keys_long_term(out, u);
			r = AUTH_OK;
		}
		break;
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
	r = snap_find(a->snap, a->seed, name, strlen(name), NULL, 0) != NULL;
	pthread_rwlock_unlock(&a->lock);
	return r;
}

int auth_is_revoked(struct auth *a, const char *user)
{
	int r;

	if (!user)
		return 0;
	pthread_rwlock_rdlock(&a->lock);
	r = snap_revoked(a->snap, a->seed, user, strlen(user));
	pthread_rwlock_unlock(&a->lock);
	return r;
}

const char *auth_quota_id(const struct auth_keys *k)
{
	return k->user[0] ? k->user : k->name;
}

/* ------------------------------------------------------------- nonces */


static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* tag = HMAC-SHA256(nonce_key, features || time || client ip)[0..16) */
static int nonce_tag(const struct auth *a, const struct sockaddr *client,
		     const uint8_t when[NONCE_TIME_LEN],
		     uint8_t tag[NONCE_TAG_LEN])
{
	uint8_t msg[3 + NONCE_TIME_LEN + NET_CLIENT_KEY_LEN], mac[32];
	size_t n = 0;

	msg[n++] = (uint8_t)(NONCE_FEATURES >> 16);
	msg[n++] = (uint8_t)(NONCE_FEATURES >> 8);
	msg[n++] = (uint8_t)NONCE_FEATURES;
	memcpy(msg + n, when, NONCE_TIME_LEN);
	n += NONCE_TIME_LEN;
	/* The client's IP address, so a nonce is good only where it went. */
	net_client_key(client, msg + n);
	n += NET_CLIENT_KEY_LEN;
	if (hmac("SHA256", a->nonce_key, sizeof(a->nonce_key), msg, n, mac,
		 sizeof(mac)) < 0)
		return -1;
	memcpy(tag, mac, NONCE_TAG_LEN);
	return 0;
}

/* The four characters after the cookie: standard base64 as RFC 8489
 * §9.2 asks; the 3 bytes fill them exactly, so there is no padding. */
static void nonce_features(char out[NONCE_FEAT_LEN + 1])
{
	const uint8_t f[3] = {
		(uint8_t)(NONCE_FEATURES >> 16),
		(uint8_t)(NONCE_FEATURES >> 8),
		(uint8_t)NONCE_FEATURES,
	};

	b64_encode(f, sizeof(f), out, NONCE_FEAT_LEN + 1);
}

size_t auth_nonce_make(struct auth *a, const struct sockaddr *client,
		       time_t now, char out[AUTH_NONCE_MAX])
{
	uint8_t blob[NONCE_BLOB_LEN];
	char feat[NONCE_FEAT_LEN + 1];
	size_t n = 0;

	_Static_assert(NONCE_LEN < AUTH_NONCE_MAX, "nonce fits");
	memcpy(out, NONCE_COOKIE, NONCE_COOKIE_LEN);
	n += NONCE_COOKIE_LEN;
	nonce_features(feat);
	memcpy(out + n, feat, NONCE_FEAT_LEN);
	n += NONCE_FEAT_LEN;

	put_be64(blob, (uint64_t)now);
	if (nonce_tag(a, client, blob, blob + NONCE_TIME_LEN) != 0) {
		/* Without a tag there is no nonce we could accept later;
		 * a random one keeps the client asking without ever
		 * authenticating, which fails closed. */
		random_bytes(blob + NONCE_TIME_LEN, NONCE_TAG_LEN);
	}
	if (b64url_encode(blob, sizeof(blob), out + n,
			  AUTH_NONCE_MAX - n) != NONCE_BLOB_CHARS) {
		out[0] = '\0';
		return 0;
	}
	return n + NONCE_BLOB_CHARS;
}

int auth_nonce_check(struct auth *a, const struct sockaddr *client,
		     const char *nonce, size_t len, time_t now)
{
	uint8_t blob[NONCE_BLOB_LEN + 2], tag[NONCE_TAG_LEN];
	char feat[NONCE_FEAT_LEN + 1];
	int64_t issued;
	int good;

	if (!nonce || len != NONCE_LEN ||
	    memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LEN) != 0)
		return 1;
	nonce_features(feat);
	if (memcmp(nonce + NONCE_COOKIE_LEN, feat, NONCE_FEAT_LEN) != 0)
		return 1;
	if (b64url_decode(nonce + NONCE_COOKIE_LEN + NONCE_FEAT_LEN,
			  NONCE_BLOB_CHARS, blob, sizeof(blob)) !=
	    NONCE_BLOB_LEN)
		return 1;
	if (nonce_tag(a, client, blob, tag) != 0)
		return 1;
	good = ct_equal(tag, blob + NONCE_TIME_LEN, NONCE_TAG_LEN);

	/* Only a nonce whose tag matched gets this far with a time we
	 * wrote, so the time checks need not be constant-time. */
	issued = (int64_t)get_be64(blob);
	if (!good)
		return 1;
	if (issued > (int64_t)now + NONCE_FUTURE_SLACK)
		return 1;
	if ((int64_t)now - issued >= AUTH_NONCE_LIFETIME)
		return 1;
	return 0;
}

int auth_nonce_has_pw_algorithms(const char *nonce, size_t len)
{
	uint8_t f[3 + 2];

	if (!nonce || len < NONCE_COOKIE_LEN + NONCE_FEAT_LEN ||
	    memcmp(nonce, NONCE_COOKIE, NONCE_COOKIE_LEN) != 0)
		return 0;
	if (b64_decode(nonce + NONCE_COOKIE_LEN, NONCE_FEAT_LEN, f,
		       sizeof(f)) != 3)
		return 0;
	return (f[0] & (FEAT_PASSWORD_ALGORITHMS >> 16)) != 0;
}

/* ------------------------------------------------------------- quotas */

static struct qent **quota_slot(struct quota *q, uint64_t h, const char *user)
{
	struct qent **pp = &q->bucket[h & (q->nbucket - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->hash == h && strcmp((*pp)->name, user) == 0)
			break;
	}
	return pp;
}

static void quota_grow(struct quota *q)
{
	size_t nb = q->nbucket * 2, i;
	struct qent **b = xcalloc(nb, sizeof(*b));

	for (i = 0; i < q->nbucket; i++) {
		struct qent *e = q->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(q->bucket);
	q->bucket = b;
	q->nbucket = nb;
}

int auth_quota_take(struct auth *a, const char *user, long user_quota,
		    long total_quota)
{
	struct quota *q = &a->q;
	uint64_t h;
	struct qent **pp;
	int r = -1;

	if (!user)
		user = "";
	h = name_hash(a->seed, user, strlen(user));
	pthread_mutex_lock(&q->lock);
	pp = quota_slot(q, h, user);
	if (total_quota > 0 && q->total >= total_quota)
		goto out;
	if (user_quota > 0 && *pp && (*pp)->count >= user_quota)
		goto out;
	if (!*pp) {
		size_t len = strlen(user);
		struct qent *e = xmalloc(sizeof(*e) + len + 1);

		e->next = NULL;
		e->hash = h;
		e->count = 0;
		memcpy(e->name, user, len + 1);
		*pp = e;
		q->n++;
	}
	(*pp)->count++;
	q->total++;
	if (q->n > q->nbucket)
		quota_grow(q);
	r = 0;
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}

void auth_quota_release(struct auth *a, const char *user)
{
	struct quota *q = &a->q;
	struct qent **pp, *e;
	uint64_t h;

	if (!user)
		user = "";
	h = name_hash(a->seed, user, strlen(user));
	pthread_mutex_lock(&q->lock);
	pp = quota_slot(q, h, user);
	e = *pp;
	/* Releasing what was never taken is a caller bug, but counting
	 * below zero would hand the user extra allocations: ignore it. */
	if (e) {
		e->count--;
		if (q->total > 0)
			q->total--;
		if (e->count <= 0) {
			*pp = e->next;
			free(e);
			q->n--;
		}
	}
	pthread_mutex_unlock(&q->lock);
}

long auth_quota_count(struct auth *a, const char *user)
{
	struct qent **pp;
	long n;

	if (!user)
		user = "";
	pthread_mutex_lock(&a->q.lock);
	pp = quota_slot(&a->q, name_hash(a->seed, user, strlen(user)), user);
	n = *pp ? (*pp)->count : 0;
	pthread_mutex_unlock(&a->q.lock);
	return n;
}

long auth_quota_total(struct auth *a)
{
	long n;

	pthread_mutex_lock(&a->q.lock);
	n = a->q.total;
	pthread_mutex_unlock(&a->q.lock);
	return n;
}

int auth_signing_secret(struct auth *a, char *out, size_t outsz)
{
	struct snap *s;
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
