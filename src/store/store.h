/*
 * store — ferry's sqlite database: long-term users, shared secrets for
 * ephemeral credentials, revoked ephemeral users and rooms.
 *
 * One struct store is one sqlite connection.  It is not thread-safe: it is
 * opened, used and closed by one thread.  Every thread or process that
 * needs the database (ferryd's main thread, each ferryctl run, a test)
 * opens its own; sqlite's locking, WAL mode and a busy timeout let them
 * read and write the same file concurrently.  Do not carry a struct store
 * across fork().
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so a
 * function that returned success has committed its row and it survives a
 * crash or power loss.
 *
 * Errors: functions that can fail take (char *err, size_t errlen), write
 * one sentence there (naming the thing acted on and, for database failures,
 * sqlite's own message) and return a negative enum store_status.  err may
 * be NULL when the caller does not want the text.
 *
 * Strings passed in are copied by sqlite; nothing is retained.  Records
 * handed to callbacks live only for the duration of the call.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum store_status {
	STORE_OK = 0,
	STORE_ERROR = -1,      /* sqlite failed (I/O, locked too long, ...) */
	STORE_EXISTS = -2,     /* adding something that is already there */
	STORE_NOT_FOUND = -3,  /* deleting/looking up something absent */
	STORE_INVALID = -4,    /* a name or value fails validation */
};

/* The schema version this code writes; a file whose PRAGMA user_version is
 * larger was written by a newer ferry and is refused. */
int store_schema_version(void);

/* Limits (user names and rooms: core/names.h).
 * RFC 8489 §14.9: a realm is fewer than 128 characters, at most 763 bytes. */
#define STORE_REALM_MAX  763
#define STORE_SECRET_MAX 512
#define STORE_MAX_PEERS_MIN 1
#define STORE_MAX_PEERS_MAX 1000

/* A shared secret: 1..STORE_SECRET_MAX bytes, printable ASCII without
 * spaces, so it can be listed in a column and pasted into a config.
 * Users and rooms follow core/names.h (names_login, names_user_id for
 * revocations, names_room). */
int store_valid_secret(const char *value);

/* Open (creating when missing, mode 0600) the database at path, apply every
 * pending migration, each in its own transaction, and prepare the
 * statements.  The folder must exist.  Returns NULL with a reason in err
 * when the file cannot be created or opened, is not an sqlite database, is
 * an sqlite database that is not ferry's, or has a schema newer than this
 * code.  The caller frees the result with store_close(). */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Close the connection and free st.  NULL is accepted. */
void store_close(struct store *st);

/* 1 when another connection (ferryctl, another process) has committed to
 * the file since the previous call (or since store_open for the first
 * call), 0 when not, STORE_ERROR when the question cannot be asked.  This
 * connection's own writes and any reads do not count.  ferryd polls it
 * about once a second and reloads what it caches when it returns 1. */
int store_changed(struct store *st);

/* 0 when the database answers a query touching the file (for /healthz),
 * STORE_ERROR otherwise, with the reason in err. */
int store_check(struct store *st, char *err, size_t errlen);

/* ---------------------------------------------------------------- users */

/* The RFC 8489 §9.2.2 long-term credential keys:
 *   key_md5    = MD5(name ":" realm ":" password)
 *   key_sha256 = SHA-256(name ":" realm ":" password)
 * The strings are used as the bytes given: ferry does not apply the
 * OpaqueString profile (RFC 8265), which leaves ASCII unchanged, so
 * clients must send the same bytes.  Returns 0, or -1 when OpenSSL fails
 * (e.g. MD5 unavailable in a FIPS-only configuration).  Used for the
 * database's users and for the config file's `user` lines alike. */
int store_user_keys(const char *name, const char *realm, const char *password,
		    uint8_t key_md5[16], uint8_t key_sha256[32]);

struct store_user {
	const char *name;
	/* The realm the keys were made for: a user stored under another
	 * realm than the server's can never authenticate, so ferryd skips
	 * (and logs) such rows rather than trying them. */
	const char *realm;
	uint8_t key_md5[16];
	uint8_t key_sha256[32];
	int64_t created;         /* seconds since the epoch */
};

/* Store name's keys for realm; the password itself is never stored.
 * STORE_EXISTS when the user is already there, STORE_INVALID for a bad
 * name, an empty password or a realm that is empty or too long. */
int store_user_add(struct store *st, const char *name, const char *realm,
		   const char *password, char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no such user. */
int store_user_del(struct store *st, const char *name, char *err, size_t errlen);
/* Fill *out with name's record.  Returns STORE_OK, STORE_NOT_FOUND or
 * STORE_ERROR.  out->name and out->realm point into buf (bufsz bytes; 1024
 * is always enough) and stay valid as long as buf does. */
int store_user_lookup(struct store *st, const char *name, struct store_user *out,
		      char *buf, size_t bufsz, char *err, size_t errlen);

/* Callback for the *_foreach functions: return 0 to go on, anything else
 * to stop; the foreach then returns that value.  The record (and any
 * strings it points to) is valid only during the call. */
typedef int (*store_user_fn)(void *ctx, const struct store_user *u);
/* Every user in name order.  STORE_OK, the callback's stop value, or
 * STORE_ERROR. */
int store_user_foreach(struct store *st, store_user_fn fn, void *ctx,
		       char *err, size_t errlen);

/* -------------------------------------------------------------- secrets */

struct store_secret {
	int64_t id;              /* assigned by the database, never reused */
	const char *value;
	int64_t created;
};

/* Add a shared secret for ephemeral credentials.  value NULL generates one
 * (32 random bytes as unpadded base64url, 43 characters).  On success the
 * new id goes to *id (when id is not NULL) and, when gen is not NULL, the
 * stored value is copied to gen (gensz >= STORE_SECRET_MAX + 1 always
 * suffices; a smaller buffer gets STORE_INVALID before anything is
 * written).  STORE_EXISTS when the same value is already stored,
 * STORE_INVALID when value fails store_valid_secret(). */
int store_secret_add(struct store *st, const char *value, int64_t *id,
		     char *gen, size_t gensz, char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no secret with that id. */
int store_secret_del(struct store *st, int64_t id, char *err, size_t errlen);
typedef int (*store_secret_fn)(void *ctx, const struct store_secret *s);
/* Every secret, oldest (lowest id) first. */
int store_secret_foreach(struct store *st, store_secret_fn fn, void *ctx,
			 char *err, size_t errlen);

/* --------------------------------------------------------------- revoked */

/* Refuse ephemeral credentials whose user part is user.  STORE_EXISTS when
 * already revoked, STORE_INVALID for a bad user name. */
int store_revoke(struct store *st, const char *user, char *err, size_t errlen);
/* STORE_NOT_FOUND when user was not revoked. */
int store_unrevoke(struct store *st, const char *user, char *err, size_t errlen);
/* 1 when revoked, 0 when not, STORE_ERROR on failure. */
int store_is_revoked(struct store *st, const char *user, char *err, size_t errlen);
/* user is valid only during the call. */
typedef int (*store_revoked_fn)(void *ctx, const char *user, int64_t created);
/* Every revoked user in name order. */
int store_revoked_foreach(struct store *st, store_revoked_fn fn, void *ctx,
			  char *err, size_t errlen);

/* ----------------------------------------------------------------- rooms */

struct store_room {
	const char *name;
	int max_peers;
	int64_t created;
};

/* STORE_EXISTS when the room is already there; STORE_INVALID for a bad
 * name or max_peers outside STORE_MAX_PEERS_MIN..STORE_MAX_PEERS_MAX. */
int store_room_add(struct store *st, const char *name, int max_peers,
		   char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no such room. */
int store_room_del(struct store *st, const char *name, char *err, size_t errlen);
/* 1 and *max_peers set when the room exists, 0 when it does not,
 * STORE_ERROR on failure.  max_peers may be NULL. */
int store_room_get(struct store *st, const char *name, int *max_peers,
		   char *err, size_t errlen);
/* For auto-created rooms: make sure name exists, creating it with
 * default_max when missing.  Returns 1 when this call created it, 0 when it
 * was already there (*max_peers then holds its stored setting), negative on
 * failure (STORE_INVALID, STORE_ERROR).  Safe against a concurrent
 * `ferryctl room add` of the same name.  max_peers may be NULL. */
int store_room_ensure(struct store *st, const char *name, int default_max,
		      int *max_peers, char *err, size_t errlen);
typedef int (*store_room_fn)(void *ctx, const struct store_room *r);
/* Every room in name order. */
int store_room_foreach(struct store *st, store_room_fn fn, void *ctx,
		       char *err, size_t errlen);

#endif
