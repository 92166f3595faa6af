/* users — see users.h. */
#include "store/users.h"
#include "store/db.h"
#include "store/store.h"
#include "core/names.h"
#include "core/util.h"
#include "stun/stun.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

int store_user_keys(const char *name, const char *realm, const char *password,
		    uint8_t key_md5[16], uint8_t key_sha256[32])
{
	size_t nn = strlen(name), nr = strlen(realm), np = strlen(password);

	return stun_key_md5(name, nn, realm, nr, password, np, key_md5) == 0 &&
	       stun_key_sha256(name, nn, realm, nr, password, np, key_sha256) == 0 ?
	       0 : -1;
}

/* STORE_OK, or STORE_INVALID with the reason in err. */
static int check_user(const char *name, const char *realm, const char *password,
		      char *err, size_t errlen)
{
	if (!names_login(name)) {
		db_seterr(err, errlen, "invalid user name (1-%d bytes, no ':' or "
			  "control characters)", NAMES_LOGIN_MAX);
		return STORE_INVALID;
	}
	if (!realm || !*realm || strlen(realm) > STORE_REALM_MAX) {
		db_seterr(err, errlen, "user %s: invalid realm", name);
		return STORE_INVALID;
	}
	if (!password || !*password) {
		db_seterr(err, errlen, "user %s: the password must not be empty", name);
		return STORE_INVALID;
	}
	return STORE_OK;
}

int store_user_add(struct store *st, const char *name, const char *realm,
		   const char *password, char *err, size_t errlen)
{
	uint8_t md5[16], sha[32];
	sqlite3_stmt *s;
	int rc = check_user(name, realm, password, err, errlen);

	if (rc < 0)
		return rc;
	if (store_user_keys(name, realm, password, md5, sha) < 0) {
		db_seterr(err, errlen, "user %s: cannot compute the keys "
			  "(MD5 or SHA-256 unavailable in OpenSSL)", name);
		return STORE_ERROR;
	}

	s = db_stmt(st, S_USER_ADD);
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, realm);
	sqlite3_bind_blob(s, 3, md5, sizeof(md5), SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, sha, sizeof(sha), SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (int64_t)wall_s());
	rc = db_run(st, s, "cannot add the user", err, errlen);
	sqlite3_clear_bindings(s);
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		db_seterr(err, errlen, "user %s already exists", name);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_user_del(struct store *st, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_USER_DEL);
	char missing[NAMES_LOGIN_MAX + 32];

	snprintf(missing, sizeof(missing), "user %s does not exist", name);
	db_bind_text(s, 1, name);
	return db_delete_one(st, s, "cannot delete the user", missing, err, errlen);
}

/* Read a users row; blobs of the wrong size (never written by us) are
 * reported rather than trusted. */
static int user_row(sqlite3_stmt *s, struct store_user *u)
{
	if (sqlite3_column_bytes(s, 2) != 16 || sqlite3_column_bytes(s, 3) != 32)
		return -1;
	u->name = (const char *)sqlite3_column_text(s, 0);
	u->realm = (const char *)sqlite3_column_text(s, 1);
	memcpy(u->key_md5, sqlite3_column_blob(s, 2), 16);
	memcpy(u->key_sha256, sqlite3_column_blob(s, 3), 32);
	u->created = sqlite3_column_int64(s, 4);
	return u->name && u->realm ? 0 : -1;
}

/* *out = *u with its strings copied into buf, which must hold both. */
static int copy_user(const struct store_user *u, struct store_user *out,
		     char *buf, size_t bufsz)
{
	size_t nn = strlen(u->name) + 1, nr = strlen(u->realm) + 1;

	if (nn + nr > bufsz)
		return -1;
	*out = *u;
	memcpy(buf, u->name, nn);
	memcpy(buf + nn, u->realm, nr);
	out->name = buf;
	out->realm = buf + nn;
	return 0;
}

int store_user_lookup(struct store *st, const char *name, struct store_user *out,
		      char *buf, size_t bufsz, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_USER_GET);
	struct store_user u;
	int rc, ret;

	db_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		db_seterr(err, errlen, "user %s does not exist", name);
		ret = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		db_seterr(err, errlen, "cannot look up user %s: %s", name,
			  sqlite3_errmsg(st->db));
		ret = STORE_ERROR;
	} else if (user_row(s, &u) < 0) {
		db_seterr(err, errlen, "user %s: malformed row", name);
		ret = STORE_ERROR;
	} else if (copy_user(&u, out, buf, bufsz) < 0) {
		db_seterr(err, errlen, "user %s: lookup buffer too small", name);
		ret = STORE_ERROR;
	} else {
		ret = STORE_OK;
	}
	sqlite3_reset(s);
	return ret;
}

struct user_walk {
	store_user_fn fn;
	void *ctx;
};

static int user_step(sqlite3_stmt *s, void *ctx)
{
	const struct user_walk *w = ctx;
	struct store_user u;

	if (user_row(s, &u) < 0)
		return 0;       /* cannot be written by this code */
	return w->fn(w->ctx, &u);
}

int store_user_foreach(struct store *st, store_user_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	struct user_walk w = { fn, ctx };

	return db_foreach(st, db_stmt(st, S_USER_ALL), "users", user_step, &w,
			  err, errlen);
}
