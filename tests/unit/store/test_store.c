/*
 * test_store — the sqlite store against real files in a temporary folder:
 * creation and mode, migrations and refusals, every table's add/del/list,
 * the RFC 8489 keys recomputed here independently, and change detection
 * across two connections.
 */
#include "store/store.h"
#include "../tap.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

static char dir[] = "/tmp/test_store.XXXXXX";
static char err[512];

static char *path_in(const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* Digest of "name:realm:password" fed in pieces, a different path through
 * OpenSSL from the store's one-shot EVP_Q_digest. */
static void digest(const EVP_MD *md, const char *name, const char *realm,
		   const char *password, uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n;

	EVP_DigestInit_ex(c, md, NULL);
	EVP_DigestUpdate(c, name, strlen(name));
	EVP_DigestUpdate(c, ":", 1);
	EVP_DigestUpdate(c, realm, strlen(realm));
	EVP_DigestUpdate(c, ":", 1);
	EVP_DigestUpdate(c, password, strlen(password));
	EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Run sql through a plain sqlite connection of the test's own. */
static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

struct names {
	int n;
	char v[8][80];
	int64_t ids[8];
	int ints[8];
};

static int collect_user(void *ctx, const struct store_user *u)
{
	struct names *c = ctx;

	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s@%s", u->name, u->realm);
	return c->n == 8;
}

static int collect_secret(void *ctx, const struct store_secret *s)
{
	struct names *c = ctx;

	c->ids[c->n] = s->id;
	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s", s->value);
	return c->n == 8;
}

static int collect_revoked(void *ctx, const char *user, int64_t created)
{
	struct names *c = ctx;

	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s", user);
	return c->n == 8;
}

static int collect_room(void *ctx, const struct store_room *r)
{
	struct names *c = ctx;

	c->ints[c->n] = r->max_peers;
	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s", r->name);
	return c->n == 8;
}

static int stop_at_first(void *ctx, const struct store_room *r)
{
	(*(int *)ctx)++;
	return 7;
}

static void test_validation(void)
{
	ok(store_valid_secret("s3cr3t"), "secret: plain");
	ok(!store_valid_secret("two words"), "secret: space refused");
	ok(!store_valid_secret(""), "secret: empty refused");
}

static void test_open(void)
{
	struct store *st;
	struct stat sb;
	int fd;

	st = store_open(path_in("nodir/x.db"), err, sizeof(err));
	ok(!st, "open in a missing folder fails");
	ok(strstr(err, "folder does not exist") != NULL, "... and says why");

	umask(022);
	st = store_open(path_in("a.db"), err, sizeof(err));
	ok(st != NULL, "open creates a new database");
	if (!st) {
		diag("%s", err);
		exit(tap_done());
	}
	ok(stat(path_in("a.db"), &sb) == 0 && (sb.st_mode & 0777) == 0600,
	   "new database file is mode 0600");
	is_int(store_check(st, err, sizeof(err)), 0, "store_check answers");
	store_close(st);

	/* The schema is recorded and the journal mode is persistent. */
	{
		sqlite3 *db;
		sqlite3_stmt *s;
		int ver = -1;
		char mode[16] = "";

		sqlite3_open(path_in("a.db"), &db);
		sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
		if (sqlite3_step(s) == SQLITE_ROW)
			ver = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
		if (sqlite3_step(s) == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		sqlite3_close(db);
		is_int(ver, store_schema_version(), "user_version is the latest schema");
		is_str(mode, "wal", "journal mode is WAL");
	}

	/* A file that is not a database. */
	fd = open(path_in("junk.db"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < 64; i++)
		(void)!write(fd, "this is not an sqlite database\n", 31);
	close(fd);
	st = store_open(path_in("junk.db"), err, sizeof(err));
	ok(!st, "a non-database file is refused");
	ok(strstr(err, "not a ferry database") != NULL, "... with a clear message");
	diag("%s", err);
	store_close(st);

	/* A database written by a newer ferry. */
	st = store_open(path_in("new.db"), err, sizeof(err));
	store_close(st);
	ok(raw_exec(path_in("new.db"), "PRAGMA user_version = 99") == 0,
	   "bump user_version behind the store's back");
	st = store_open(path_in("new.db"), err, sizeof(err));
	ok(!st, "a newer schema is refused");
	ok(strstr(err, "newer") != NULL && strstr(err, "99") != NULL,
	   "... naming the version");
	diag("%s", err);
	store_close(st);

	/* Some other program's sqlite database. */
	ok(raw_exec(path_in("other.db"), "CREATE TABLE t (x)") == 0,
	   "create a foreign sqlite database");
	st = store_open(path_in("other.db"), err, sizeof(err));
	ok(!st, "a foreign sqlite database is refused");
	ok(strstr(err, "other program") != NULL, "... with a clear message");
	store_close(st);
}

static void test_users(void)
{
	struct store *st = store_open(path_in("a.db"), err, sizeof(err));
	uint8_t md5[16], sha[32];
	char want[65], got[65];
	char buf[1024];
	struct store_user u;
	struct names c = { 0 };

	is_int(store_user_add(st, "alice", "ferry", "secret", err, sizeof(err)), STORE_OK,
	       "user add");
	is_int(store_user_add(st, "bob", "example.org", "pw2", err, sizeof(err)), STORE_OK,
	       "user add with another realm");
	is_int(store_user_add(st, "alice", "ferry", "other", err, sizeof(err)), STORE_EXISTS,
	       "duplicate user refused");
	ok(strstr(err, "already exists") != NULL, "... saying so");
	is_int(store_user_add(st, "a:b", "ferry", "x", err, sizeof(err)), STORE_INVALID,
	       "user name with ':' refused");
	is_int(store_user_add(st, "carol", "ferry", "", err, sizeof(err)), STORE_INVALID,
	       "empty password refused");
	is_int(store_user_add(st, "carol", "", "x", err, sizeof(err)), STORE_INVALID,
	       "empty realm refused");
	store_close(st);

	/* Reopen: rows survive. */
	st = store_open(path_in("a.db"), err, sizeof(err));
	ok(st != NULL, "reopen");
	is_int(store_user_lookup(st, "alice", &u, buf, sizeof(buf), err, sizeof(err)),
	       STORE_OK, "lookup after reopen");
	is_str(u.name, "alice", "lookup name");
	is_str(u.realm, "ferry", "lookup realm");
	ok(u.created > 1700000000, "created time set");

	/* The keys, recomputed independently and against fixed values
	 * (`printf alice:ferry:secret | md5sum` / `sha256sum`). */
	digest(EVP_md5(), "alice", "ferry", "secret", md5);
	digest(EVP_sha256(), "alice", "ferry", "secret", sha);
	ok(memcmp(u.key_md5, md5, 16) == 0, "key_md5 = MD5(name:realm:password)");
	ok(memcmp(u.key_sha256, sha, 32) == 0, "key_sha256 = SHA-256(name:realm:password)");
	hex(u.key_md5, 16, got);
	is_str(got, "7971a153095f84f2cf7bf7016c1221f8", "key_md5 known value");
	hex(u.key_sha256, 32, got);
	is_str(got, "3fe4d4607ca2e0cb8cd6d943c1d07f6457f7605a2ec66465f79117130cc84ed1",
	       "key_sha256 known value");
	store_user_keys("bob", "example.org", "pw2", md5, sha);
	digest(EVP_md5(), "bob", "example.org", "pw2", (uint8_t *)buf);
	hex(md5, 16, got);
	hex((uint8_t *)buf, 16, want);
	is_str(got, want, "store_user_keys matches for another realm");

	is_int(store_user_lookup(st, "nobody", &u, buf, sizeof(buf), err, sizeof(err)),
	       STORE_NOT_FOUND, "lookup of a missing user");

	is_int(store_user_foreach(st, collect_user, &c, err, sizeof(err)), 0, "user foreach");
	is_int(c.n, 2, "two users listed");
	is_str(c.v[0], "alice@ferry", "in name order (1)");
	is_str(c.v[1], "bob@example.org", "in name order (2)");

	is_int(store_user_del(st, "bob", err, sizeof(err)), STORE_OK, "user del");
	is_int(store_user_del(st, "bob", err, sizeof(err)), STORE_NOT_FOUND,
	       "deleting a missing user fails");
	is_str(err, "user bob does not exist", "... saying so");

	/* The password is nowhere in the file. */
	{
		FILE *f;
		char *data = malloc(1 << 20);
		size_t n = 0;
		int found = 0;

		store_close(st);
		st = NULL;
		store_user_add(st = store_open(path_in("pw.db"), err, sizeof(err)),
			       "dave", "ferry", "Pa55wordInTheFile", err, sizeof(err));
		store_close(st);
		for (const char *suffix = ""; suffix; suffix = *suffix ? NULL : "-wal") {
			char p[300];

			snprintf(p, sizeof(p), "%s%s", path_in("pw.db"), suffix);
			if ((f = fopen(p, "rb"))) {
				n = fread(data, 1, 1 << 20, f);
				fclose(f);
				if (memmem(data, n, "Pa55wordInTheFile", 17))
					found = 1;
			}
		}
		ok(!found, "the password is not stored");
		free(data);
	}
}

static void test_secrets(void)
{
	struct store *st = store_open(path_in("a.db"), err, sizeof(err));
	char gen[STORE_SECRET_MAX + 1];
	int64_t id1 = 0, id2 = 0, id3 = 0;
	struct names c = { 0 };

	is_int(store_secret_add(st, "given-secret", &id1, gen, sizeof(gen), err, sizeof(err)),
	       STORE_OK, "secret add with a value");
	is_str(gen, "given-secret", "value copied back");
	is_int(store_secret_add(st, NULL, &id2, gen, sizeof(gen), err, sizeof(err)),
	       STORE_OK, "secret add generates one");
	is_int(strlen(gen), 43, "generated: 43 base64url characters (32 bytes)");
	ok(strspn(gen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		  "0123456789-_") == 43, "generated: base64url alphabet");
	ok(id2 > id1, "ids increase");
	is_int(store_secret_add(st, "given-secret", NULL, NULL, 0, err, sizeof(err)),
	       STORE_EXISTS, "duplicate secret refused");
	is_int(store_secret_add(st, "has space", NULL, NULL, 0, err, sizeof(err)),
	       STORE_INVALID, "secret with a space refused");
	is_int(store_secret_foreach(st, collect_secret, &c, err, sizeof(err)), 0,
	       "secret foreach");
	is_int(c.n, 2, "two secrets");
	is_str(c.v[0], "given-secret", "oldest first");
	is_int(c.ids[1], id2, "second id");
	is_int(store_secret_del(st, id1, err, sizeof(err)), STORE_OK, "secret del");
	is_int(store_secret_del(st, id1, err, sizeof(err)), STORE_NOT_FOUND,
	       "deleting a missing secret fails");
	store_secret_add(st, "another", &id3, NULL, 0, err, sizeof(err));
	ok(id3 > id2, "a deleted id is not reused");
	store_close(st);
}

static void test_revoked(void)
{
	struct store *st = store_open(path_in("a.db"), err, sizeof(err));
	struct names c = { 0 };

	is_int(store_is_revoked(st, "eve", err, sizeof(err)), 0, "not revoked at first");
	is_int(store_revoke(st, "eve", err, sizeof(err)), STORE_OK, "revoke");
	is_int(store_revoke(st, "eve", err, sizeof(err)), STORE_EXISTS, "revoke twice fails");
	is_int(store_revoke(st, "1700000000:eve", err, sizeof(err)), STORE_INVALID,
	       "revoking a full ephemeral username is refused");
	is_int(store_is_revoked(st, "eve", err, sizeof(err)), 1, "is revoked");
	store_revoke(st, "adam", err, sizeof(err));
	is_int(store_revoked_foreach(st, collect_revoked, &c, err, sizeof(err)), 0,
	       "revoked foreach");
	is_int(c.n, 2, "two revoked");
	is_str(c.v[0], "adam", "in name order");
	is_int(store_unrevoke(st, "eve", err, sizeof(err)), STORE_OK, "unrevoke");
	is_int(store_unrevoke(st, "eve", err, sizeof(err)), STORE_NOT_FOUND,
	       "unrevoke of a user not revoked fails");
	is_int(store_is_revoked(st, "eve", err, sizeof(err)), 0, "no longer revoked");
	store_close(st);
}

static void test_rooms(void)
{
	struct store *st = store_open(path_in("a.db"), err, sizeof(err));
	struct names c = { 0 };
	int max = 0, calls = 0;

	is_int(store_room_add(st, "lobby", 4, err, sizeof(err)), STORE_OK, "room add");
	is_int(store_room_add(st, "lobby", 5, err, sizeof(err)), STORE_EXISTS,
	       "duplicate room refused");
	is_int(store_room_add(st, "bad room", 5, err, sizeof(err)), STORE_INVALID,
	       "bad room name refused");
	is_int(store_room_add(st, "big", 1001, err, sizeof(err)), STORE_INVALID,
	       "max-peers 1001 refused");
	is_int(store_room_add(st, "none", 0, err, sizeof(err)), STORE_INVALID,
	       "max-peers 0 refused");
	is_int(store_room_get(st, "lobby", &max, err, sizeof(err)), 1, "room get");
	is_int(max, 4, "room get: max-peers");
	is_int(store_room_get(st, "nowhere", &max, err, sizeof(err)), 0,
	       "room get of a missing room");
	is_int(store_room_ensure(st, "auto", 16, &max, err, sizeof(err)), 1,
	       "room ensure creates");
	is_int(max, 16, "... with the default");
	is_int(store_room_ensure(st, "lobby", 16, &max, err, sizeof(err)), 0,
	       "room ensure finds an existing room");
	is_int(max, 4, "... keeping its setting");
	is_int(store_room_foreach(st, collect_room, &c, err, sizeof(err)), 0, "room foreach");
	is_int(c.n, 2, "two rooms");
	is_str(c.v[0], "auto", "in name order");
	is_int(c.ints[1], 4, "listed max-peers");
	is_int(store_room_foreach(st, stop_at_first, &calls, err, sizeof(err)), 7,
	       "foreach returns the callback's stop value");
	is_int(calls, 1, "... after one call");
	is_int(store_room_del(st, "auto", err, sizeof(err)), STORE_OK, "room del");
	is_int(store_room_del(st, "auto", err, sizeof(err)), STORE_NOT_FOUND,
	       "deleting a missing room fails");
	store_close(st);
}

static void test_changed(void)
{
	struct store *a = store_open(path_in("c.db"), err, sizeof(err));
	struct store *b = store_open(path_in("c.db"), err, sizeof(err));
	int max;

	ok(a && b, "two connections to one file");
	is_int(store_changed(a), 0, "nothing changed at first");
	store_room_add(a, "mine", 2, err, sizeof(err));
	is_int(store_changed(a), 0, "own commit is not a change");
	store_room_get(a, "mine", &max, err, sizeof(err));
	is_int(store_changed(a), 0, "own reads are not a change");
	store_room_add(b, "theirs", 3, err, sizeof(err));
	is_int(store_changed(a), 1, "another connection's commit is seen");
	is_int(store_changed(a), 0, "... once");
	is_int(store_room_get(a, "theirs", &max, err, sizeof(err)), 1,
	       "... and its row is visible");
	is_int(store_changed(b), 1, "b sees a's earlier commit");
	is_int(store_changed(b), 0, "... once");
	store_close(b);
	store_close(a);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_validation();
	test_open();
	test_users();
	test_secrets();
	test_revoked();
	test_rooms();
	test_changed();

	/* Clean up the folder; leftovers only on failure aid debugging. */
	if (!tap_failed) {
		const char *files[] = { "a.db", "junk.db", "new.db", "other.db", "pw.db",
					"c.db" };

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char p[300];

			unlink(path_in(files[i]));
			snprintf(p, sizeof(p), "%s-wal", path_in(files[i]));
			unlink(p);
			snprintf(p, sizeof(p), "%s-shm", path_in(files[i]));
			unlink(p);
		}
		rmdir(dir);
	}
	return tap_done();
}
