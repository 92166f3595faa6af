/* secrets — see secrets.h. */
#include "store/secrets.h"
#include "store/db.h"
#include "store/store.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

int store_valid_secret(const char *value)
{
	size_t n;

	if (!value)
		return 0;
	n = strlen(value);
	if (n == 0 || n > STORE_SECRET_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return 0;
	}
	return 1;
}

/* 32 random bytes as unpadded base64url (43 characters) into out. */
static int generate(char *out, size_t outsz)
{
	uint8_t raw[32];
	int n;

	random_bytes(raw, sizeof(raw));
	n = b64url_encode(raw, sizeof(raw), out, outsz);
	OPENSSL_cleanse(raw, sizeof(raw));
	return n < 0 ? -1 : 0;
}

int store_secret_add(struct store *st, const char *value, int64_t *id,
		     char *gen, size_t gensz, char *err, size_t errlen)
{
	char made[64];
	sqlite3_stmt *s;
	int rc;

	if (!value) {
		if (generate(made, sizeof(made)) < 0) {
			db_seterr(err, errlen, "cannot encode the generated secret");
			return STORE_ERROR;
		}
		value = made;
	} else if (!store_valid_secret(value)) {
		db_seterr(err, errlen, "invalid secret (1-%d printable characters "
			  "without spaces)", STORE_SECRET_MAX);
		return STORE_INVALID;
	}
	if (gen && strlen(value) >= gensz) {
		db_seterr(err, errlen, "secret buffer too small");
		return STORE_INVALID;
	}

	s = db_stmt(st, S_SECRET_ADD);
	db_bind_text(s, 1, value);
	sqlite3_bind_int64(s, 2, (int64_t)wall_s());
	rc = db_run(st, s, "cannot add the secret", err, errlen);
	sqlite3_clear_bindings(s);
	if (db_is_constraint(rc)) {
		db_seterr(err, errlen, "that secret is already stored");
		rc = STORE_EXISTS;
	} else if (rc != SQLITE_DONE) {
		rc = STORE_ERROR;
	} else {
		if (id)
			*id = sqlite3_last_insert_rowid(st->db);
		if (gen)
			strcpy(gen, value);
		rc = STORE_OK;
	}
	OPENSSL_cleanse(made, sizeof(made));
	return rc;
}

int store_secret_del(struct store *st, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_SECRET_DEL);
	char missing[64];

	snprintf(missing, sizeof(missing), "secret %lld does not exist", (long long)id);
	sqlite3_bind_int64(s, 1, id);
	return db_delete_one(st, s, "cannot delete the secret", missing, err, errlen);
}

struct secret_walk {
	store_secret_fn fn;
	void *ctx;
};

static int secret_step(sqlite3_stmt *s, void *ctx)
{
	const struct secret_walk *w = ctx;
	struct store_secret sec = {
		.id = sqlite3_column_int64(s, 0),
		.value = (const char *)sqlite3_column_text(s, 1),
		.created = sqlite3_column_int64(s, 2),
	};

	if (!sec.value)
		return 0;
	return w->fn(w->ctx, &sec);
}

int store_secret_foreach(struct store *st, store_secret_fn fn, void *ctx,
			 char *err, size_t errlen)
{
	struct secret_walk w = { fn, ctx };

	return db_foreach(st, db_stmt(st, S_SECRET_ALL), "secrets", secret_step,
			  &w, err, errlen);
}
