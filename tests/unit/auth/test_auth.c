/*
 * Unit tests for auth: the TURN REST password, long-term and ephemeral
 * lookups, USERHASH, republishing, stateless nonces, quotas, and lookups
 * racing a republish (run this one under -fsanitize=thread too).
 */
#include "auth/auth.h"
#include "stun/stun.h"
#include "core/util.h"
#include "../tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define REALM "ferry"

static const time_t NOW = 1700000000;

/* The expected REST password, computed here without auth/ephemeral.c. */
static void rest_password(const char *secret, const char *name, char out[29])
{
	unsigned char mac[20];
	size_t n = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, secret,
		       strlen(secret), (const unsigned char *)name,
		       strlen(name), mac, sizeof(mac), &n) || n != 20) {
		out[0] = '\0';
		return;
	}
	b64_encode(mac, sizeof(mac), out, 29);
}

static void lt_keys(const char *name, const char *realm, const char *pw,
		    uint8_t md5[16], uint8_t sha[32])
{
	stun_key_md5(name, strlen(name), realm, strlen(realm), pw, strlen(pw),
		     md5);
	stun_key_sha256(name, strlen(name), realm, strlen(realm), pw,
			strlen(pw), sha);
}

static enum auth_result look(struct auth *a, const char *name,
			     const char *realm, struct auth_keys *k)
{
	return auth_lookup(a, name, strlen(name), realm, strlen(realm), NOW, k);
}

/* Does k hold, at any position, the keys made from password pw? */
static int has_key(const struct auth_keys *k, const char *name,
		   const char *realm, const char *pw)
{
	uint8_t md5[16], sha[32];
	size_t i;

	lt_keys(name, realm, pw, md5, sha);
	for (i = 0; i < k->n; i++) {
		if (memcmp(k->k[i].md5, md5, 16) == 0 &&
		    memcmp(k->k[i].sha256, sha, 32) == 0)
			return 1;
	}
	return 0;
}

static void test_rest_vector(void)
{
	char pw[29];
	const char *name = "1266890800:mbzrxpgjys";

	/* draft-uberti-behave-turn-rest-00's example. */
	auth_ephemeral_password("north", 5, name, strlen(name), pw);
	is_str(pw, "nbRcrnq5h6xXhyNhlwk+lDLvVVo=", "REST password vector");
	is_int(strlen(pw), 28, "REST password is 28 characters");
}

/* Users, secrets and revocations most tests start from. */
static struct auth_user_keys db[3];
static const char *const plain_names[] = { "alice", "bob" };
static const char *const plain_pw[] = { "alice-pw", "bob-pw" };
static const char *const revoked[] = { "mallory" };

static void base_config(struct auth_config *c, size_t n_secrets,
			const char *const *secrets)
{
	lt_keys("carol", REALM, "carol-pw", db[0].md5, db[0].sha256);
	db[0].name = "carol";
	db[0].realm = REALM;
	lt_keys("dave", "elsewhere", "dave-pw", db[1].md5, db[1].sha256);
	db[1].name = "dave";
	db[1].realm = "elsewhere";
	/* Loses to the file's alice. */
	lt_keys("alice", REALM, "db-alice-pw", db[2].md5, db[2].sha256);
	db[2].name = "alice";
	db[2].realm = REALM;

	memset(c, 0, sizeof(*c));
	c->realm = REALM;
	c->n_plain = 2;
	c->plain_names = plain_names;
	c->plain_passwords = plain_pw;
	c->n_keyed = 3;
	c->keyed = db;
	c->n_secrets = n_secrets;
	c->secrets = secrets;
	c->n_revoked = 1;
	c->revoked = revoked;
}

static void test_long_term(void)
{
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;

	base_config(&c, 0, NULL);
	auth_publish(a, &c);

	is_int(look(a, "alice", REALM, &k), AUTH_OK, "file user found");
	is_int(k.n, 1, "file user has one key");
	ok(has_key(&k, "alice", REALM, "alice-pw"),
	   "file user's keys derived from the configured realm");
	ok(!has_key(&k, "alice", REALM, "db-alice-pw"),
	   "file user wins a name clash with the database");
	is_str(k.name, "alice", "name filled");
	is_str(k.user, "alice", "long-term user identity is the name");
	is_int(k.ephemeral, 0, "not ephemeral");
	is_int(k.expires, 0, "no expiry");
	is_int(look(a, "alice", "other", &k), AUTH_UNKNOWN,
	       "file user under another realm is unknown");
	is_int(k.n, 0, "no keys when unknown");
	is_int(look(a, "bob", REALM, &k), AUTH_OK, "second file user");
	ok(has_key(&k, "bob", REALM, "bob-pw"), "second file user's keys");

	is_int(look(a, "carol", REALM, &k), AUTH_OK,
	       "database user with matching realm");
	ok(has_key(&k, "carol", REALM, "carol-pw"),
	   "database user's stored keys returned");
	is_int(look(a, "carol", "other", &k), AUTH_UNKNOWN,
	       "database user with another realm is unknown");
	is_int(look(a, "dave", "elsewhere", &k), AUTH_OK,
	       "database user in its own realm");
	ok(has_key(&k, "dave", "elsewhere", "dave-pw"),
	   "database user's keys for its realm");
	is_int(look(a, "dave", REALM, &k), AUTH_UNKNOWN,
	       "database user under the server's realm when stored elsewhere");
	is_int(look(a, "nobody", REALM, &k), AUTH_UNKNOWN, "unknown user");
	is_str(k.name, "nobody", "name filled for an unknown user");
	is_int(look(a, "Alice", REALM, &k), AUTH_UNKNOWN,
	       "names are case-sensitive");
	auth_free(a);
}

static void test_userhash(void)
{
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;
	uint8_t h[32];

	base_config(&c, 0, NULL);
	auth_publish(a, &c);

	stun_userhash("alice", 5, REALM, strlen(REALM), h);
	is_int(auth_lookup_userhash(a, h, REALM, strlen(REALM), &k), AUTH_OK,
	       "USERHASH finds a file user");
	is_str(k.name, "alice", "USERHASH gives the name");
	ok(has_key(&k, "alice", REALM, "alice-pw"), "USERHASH gives its keys");
	is_int(auth_lookup_userhash(a, h, "other", 5, &k), AUTH_UNKNOWN,
	       "USERHASH with another realm sent is unknown");

	stun_userhash("dave", 4, "elsewhere", 9, h);
	is_int(auth_lookup_userhash(a, h, "elsewhere", 9, &k), AUTH_OK,
	       "USERHASH finds a database user in its realm");
	ok(has_key(&k, "dave", "elsewhere", "dave-pw"),
	   "USERHASH database user's keys");

	stun_userhash("nobody", 6, REALM, strlen(REALM), h);
	is_int(auth_lookup_userhash(a, h, REALM, strlen(REALM), &k),
	       AUTH_UNKNOWN, "USERHASH of an unknown user");
	auth_free(a);
}

static void test_ephemeral(void)
{
	static const char *const one[] = { "s3cret" };
	static const char *const three[] = { "first", "second", "third" };
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;
	char name[64], pw[29];
	size_t i;

	base_config(&c, 1, one);
	auth_publish(a, &c);

	snprintf(name, sizeof(name), "%lld:eve", (long long)NOW + 3600);
	is_int(look(a, name, REALM, &k), AUTH_OK, "ephemeral, one secret");
	is_int(k.n, 1, "one key per secret");
	rest_password("s3cret", name, pw);
	ok(has_key(&k, name, REALM, pw), "key from HMAC-SHA1(secret, name)");
	is_str(k.user, "eve", "user part");
	is_str(k.name, name, "whole name");
	is_int(k.ephemeral, 1, "ephemeral flag");
	is_int(k.expires, NOW + 3600, "expiry parsed");
	is_str(auth_quota_id(&k), "eve", "quota identity is the user part");

	is_int(look(a, name, "custom-realm", &k), AUTH_OK,
	       "ephemeral keys use the realm the client sent");
	ok(has_key(&k, name, "custom-realm", pw), "key with the client realm");

	base_config(&c, 3, three);
	auth_publish(a, &c);
	is_int(look(a, name, REALM, &k), AUTH_OK, "ephemeral, three secrets");
	is_int(k.n, 3, "three keys");
	for (i = 0; i < 3; i++) {
		rest_password(three[i], name, pw);
		ok(has_key(&k, name, REALM, pw), "each secret's key present");
	}
	rest_password("s3cret", name, pw);
	ok(!has_key(&k, name, REALM, pw), "old secret's key gone");

	/* The user part may itself hold colons: split at the first. */
	snprintf(name, sizeof(name), "%lld:a:b:c", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_OK, "colons in the user part");
	is_str(k.user, "a:b:c", "split at the first colon");

	snprintf(name, sizeof(name), "%lld", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_OK, "bare <expiry>");
	is_str(k.user, "", "bare <expiry> has an empty user part");
	is_str(auth_quota_id(&k), name,
	       "bare <expiry> counts quota on the whole name");
	rest_password("second", name, pw);
	ok(has_key(&k, name, REALM, pw), "bare <expiry> key");

	snprintf(name, sizeof(name), "%lld:eve", (long long)NOW);
	is_int(look(a, name, REALM, &k), AUTH_EXPIRED, "expiry == now");
	is_int(k.n, 0, "no keys when expired");
	is_str(k.user, "eve", "user part filled when expired, for logs");
	snprintf(name, sizeof(name), "%lld:eve", (long long)NOW - 100);
	is_int(look(a, name, REALM, &k), AUTH_EXPIRED, "expiry in the past");

	snprintf(name, sizeof(name), "%lld:mallory", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_REVOKED, "revoked user part");
	is_int(k.n, 0, "no keys when revoked");
	ok(auth_is_revoked(a, "mallory"), "auth_is_revoked");
	ok(!auth_is_revoked(a, "eve"), "not revoked");
	snprintf(name, sizeof(name), "%lld:mallory2", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_OK,
	       "revocation matches whole user parts only");

	is_int(look(a, "12a4:eve", REALM, &k), AUTH_UNKNOWN,
	       "non-digit prefix is not ephemeral");
	is_int(look(a, ":eve", REALM, &k), AUTH_UNKNOWN,
	       "empty prefix is not ephemeral");
	is_int(look(a, "-1700000000:eve", REALM, &k), AUTH_UNKNOWN,
	       "signed prefix is not ephemeral");
	is_int(look(a, "99999999999999999999999:eve", REALM, &k),
	       AUTH_BAD_NAME, "expiry beyond time_t");

	/* Without secrets an ephemeral name has nothing to be checked with. */
	base_config(&c, 0, NULL);
	auth_publish(a, &c);
	snprintf(name, sizeof(name), "%lld:eve", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_UNKNOWN, "no secrets");
	auth_free(a);
}

static void test_bad_names(void)
{
	static const char *const one[] = { "s3cret" };
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;
	char name[AUTH_NAME_MAX + 8];

	base_config(&c, 1, one);
	auth_publish(a, &c);

	is_int(auth_lookup(a, "", 0, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "empty name");
	is_int(auth_lookup(a, NULL, 0, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "NULL name");
	memset(name, 'x', sizeof(name));
	is_int(auth_lookup(a, name, AUTH_NAME_MAX, REALM, 5, NOW, &k),
	       AUTH_BAD_NAME, "AUTH_NAME_MAX bytes is too long");
	is_int(auth_lookup(a, name, AUTH_NAME_MAX - 1, REALM, 5, NOW, &k),
	       AUTH_UNKNOWN, "AUTH_NAME_MAX - 1 bytes is accepted");
	is_int(strlen(k.name), AUTH_NAME_MAX - 1, "longest name copied");
	is_int(auth_lookup(a, "ali\0ce", 6, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "embedded NUL");
	is_int(auth_lookup(a, "\xff\xfe", 2, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "not UTF-8");
	is_int(auth_lookup(a, "\xc0\xaf", 2, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "overlong UTF-8");
	is_int(auth_lookup(a, "\xed\xa0\x80", 3, REALM, 5, NOW, &k),
	       AUTH_BAD_NAME, "UTF-8 surrogate");
	is_int(auth_lookup(a, "caf\xc3", 4, REALM, 5, NOW, &k), AUTH_BAD_NAME,
	       "truncated UTF-8");
	is_int(auth_lookup(a, "caf\xc3\xa9", 5, REALM, 5, NOW, &k),
	       AUTH_UNKNOWN, "valid UTF-8 is a name");
	auth_free(a);
}

static void test_republish(void)
{
	static const char *const only_alice[] = { "alice" };
	static const char *const only_alice_pw[] = { "new-pw" };
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;
	uint8_t h[32];
	char name[64];

	base_config(&c, 0, NULL);
	auth_publish(a, &c);
	is_int(look(a, "bob", REALM, &k), AUTH_OK, "bob before republish");

	memset(&c, 0, sizeof(c));
	c.realm = REALM;
	c.n_plain = 1;
	c.plain_names = only_alice;
	c.plain_passwords = only_alice_pw;
	auth_publish(a, &c);
	is_int(look(a, "bob", REALM, &k), AUTH_UNKNOWN,
	       "removed file user is unknown");
	is_int(look(a, "carol", REALM, &k), AUTH_UNKNOWN,
	       "removed database user is unknown");
	is_int(look(a, "alice", REALM, &k), AUTH_OK, "kept user found");
	ok(has_key(&k, "alice", REALM, "new-pw"), "changed password applies");
	stun_userhash("bob", 3, REALM, strlen(REALM), h);
	is_int(auth_lookup_userhash(a, h, REALM, strlen(REALM), &k),
	       AUTH_UNKNOWN, "removed user's USERHASH is unknown");
	ok(!auth_is_revoked(a, "mallory"), "revocation list replaced");
	snprintf(name, sizeof(name), "%lld:mallory", (long long)NOW + 60);
	is_int(look(a, name, REALM, &k), AUTH_UNKNOWN,
	       "secrets replaced (none now)");

	auth_publish(a, NULL);
	is_int(look(a, "alice", REALM, &k), AUTH_UNKNOWN,
	       "publishing NULL empties every set");
	auth_free(a);
}

static void test_many_users(void)
{
	enum { N = 10000 };
	struct auth_user_keys *keys = xcalloc(N, sizeof(*keys));
	char (*names)[16] = xcalloc(N, sizeof(*names));
	struct auth *a = auth_new();
	struct auth_config c;
	struct auth_keys k;
	uint8_t h[32];
	size_t i, bad = 0;

	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "user%zu", i);
		keys[i].name = names[i];
		keys[i].realm = REALM;
		/* Distinct keys per user; their value is not the point. */
		memset(keys[i].md5, (int)(i & 0xff), 16);
		memcpy(keys[i].sha256, &i, sizeof(i));
	}
	memset(&c, 0, sizeof(c));
	c.realm = REALM;
	c.n_keyed = N;
	c.keyed = keys;
	auth_publish(a, &c);
	for (i = 0; i < N; i++) {
		if (look(a, names[i], REALM, &k) != AUTH_OK ||
		    memcmp(k.k[0].sha256, &i, sizeof(i)) != 0)
			bad++;
	}
	is_int(bad, 0, "10,000 database users all found with their keys");
	stun_userhash("user9999", 8, REALM, strlen(REALM), h);
	is_int(auth_lookup_userhash(a, h, REALM, strlen(REALM), &k), AUTH_OK,
	       "USERHASH among 10,000 users");
	is_str(k.name, "user9999", "USERHASH picks the right one");
	auth_free(a);
	free(keys);
	free(names);
}

/* ------------------------------------------------------------- nonces */

static struct sockaddr_in v4(const char *ip, int port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *ip, int port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	s.sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, ip, &s.sin6_addr);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

static int nonce_chars_ok(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '+' || *s == '/'))
			return 0;
	}
	return 1;
}

static void test_nonce(void)
{
	struct auth *a = auth_new(), *b = auth_new();
	struct sockaddr_in c1 = v4("192.0.2.1", 40000);
	struct sockaddr_in c1p = v4("192.0.2.1", 40001);
	struct sockaddr_in c2 = v4("192.0.2.2", 40000);
	struct sockaddr_in6 c1m = v6("::ffff:192.0.2.1", 5000);
	struct sockaddr_in6 c6 = v6("2001:db8::1", 5000);
	struct sockaddr_in6 c6b = v6("2001:db8::2", 5000);
	char n[AUTH_NONCE_MAX], n6[AUTH_NONCE_MAX], t[AUTH_NONCE_MAX];
	size_t len, i, rejected = 0;

	len = auth_nonce_make(a, SA(c1), NOW, n);
	ok(len > 13 && len < AUTH_NONCE_MAX, "nonce length");
	is_int(strlen(n), len, "nonce NUL-terminated at its length");
	ok(strncmp(n, "obMatJos2", 9) == 0, "nonce cookie");
	/* Bits 0 and 1 of the 24 (MSB first): 0xC00000 in base64. */
	ok(strncmp(n + 9, "wAAA", 4) == 0, "security feature set");
	ok(nonce_chars_ok(n), "nonce uses only base64/base64url characters");

	is_int(auth_nonce_check(a, SA(c1), n, len, NOW), 0, "round trip");
	is_int(auth_nonce_check(a, SA(c1), n, len, NOW + 599), 0,
	       "valid 599 s later");
	is_int(auth_nonce_check(a, SA(c1), n, len, NOW + 600), 1,
	       "stale at the lifetime");
	is_int(auth_nonce_check(a, SA(c1), n, len, NOW + 601), 1,
	       "stale 601 s later");
	is_int(auth_nonce_check(a, SA(c1), n, len, NOW - 2), 0,
	       "a little clock skew is tolerated");
	is_int(auth_nonce_check(a, SA(c1), n, len, NOW - 60), 1,
	       "issued in the future");
	is_int(auth_nonce_check(a, SA(c2), n, len, NOW), 1, "other IP");
	is_int(auth_nonce_check(a, SA(c1p), n, len, NOW), 0,
	       "same IP, other port");
	is_int(auth_nonce_check(a, SA(c1m), n, len, NOW), 0,
	       "IPv4-mapped IPv6 equals IPv4");
	is_int(auth_nonce_check(b, SA(c1), n, len, NOW), 1,
	       "another process's key");
	is_int(auth_nonce_check(a, SA(c1), n, len - 1, NOW), 1, "truncated");
	is_int(auth_nonce_check(a, SA(c1), "obMatJos2wAAA", 13, NOW), 1,
	       "cookie only");
	is_int(auth_nonce_check(a, SA(c1), NULL, 0, NOW), 1, "NULL nonce");

	for (i = 0; i < len; i++) {
		memcpy(t, n, len + 1);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		rejected += auth_nonce_check(a, SA(c1), t, len, NOW) == 1;
	}
	is_int(rejected, len, "every tampered character rejected");

	len = auth_nonce_make(a, SA(c6), NOW, n6);
	is_int(auth_nonce_check(a, SA(c6), n6, len, NOW), 0, "IPv6 round trip");
	is_int(auth_nonce_check(a, SA(c6b), n6, len, NOW), 1, "other IPv6");
	is_int(auth_nonce_check(a, SA(c1), n6, len, NOW), 1,
	       "IPv6 nonce from an IPv4 client");
	len = auth_nonce_make(a, SA(c1m), NOW, t);
	is_int(auth_nonce_check(a, SA(c1), t, len, NOW), 0,
	       "nonce made for a mapped address checks for the IPv4 one");

	ok(auth_nonce_has_pw_algorithms(n, strlen(n)),
	   "our nonce has the password-algorithms bit");
	ok(auth_nonce_has_pw_algorithms("obMatJos2gAAAxyz", 16),
	   "bit 0 alone");
	ok(!auth_nonce_has_pw_algorithms("obMatJos2QAAAxyz", 16),
	   "bit 1 alone (username anonymity) is not it");
	ok(!auth_nonce_has_pw_algorithms("obMatJos2AAAAxyz", 16),
	   "no feature bits");
	ok(!auth_nonce_has_pw_algorithms("abcdefghijklmnop", 16),
	   "no cookie");
	ok(!auth_nonce_has_pw_algorithms("obMatJos2wA", 11), "too short");
	auth_free(a);
	auth_free(b);
}

/* ------------------------------------------------------------- quotas */

static void test_quota(void)
{
	struct auth *a = auth_new();

	is_int(auth_quota_take(a, "u", 2, 0), 0, "first take");
	is_int(auth_quota_take(a, "u", 2, 0), 0, "second take");
	is_int(auth_quota_take(a, "u", 2, 0), -1, "user quota reached");
	is_int(auth_quota_count(a, "u"), 2, "count stays at the quota");
	is_int(auth_quota_take(a, "v", 2, 0), 0, "another user unaffected");
	is_int(auth_quota_total(a), 3, "total");
	is_int(auth_quota_take(a, "w", 0, 3), -1, "total quota reached");
	is_int(auth_quota_count(a, "w"), 0, "refused take not counted");
	is_int(auth_quota_take(a, "w", 0, 4), 0, "user_quota 0 means none");
	auth_quota_release(a, "u");
	is_int(auth_quota_count(a, "u"), 1, "release");
	is_int(auth_quota_take(a, "u", 2, 0), 0, "take again after release");
	auth_quota_release(a, "u");
	auth_quota_release(a, "u");
	auth_quota_release(a, "u");
	is_int(auth_quota_count(a, "u"), 0, "release floors at zero");
	auth_quota_release(a, "never");
	is_int(auth_quota_count(a, "never"), 0, "release of unknown is a no-op");
	is_int(auth_quota_total(a), 2, "total after releases");
	auth_quota_release(a, "v");
	auth_quota_release(a, "w");
	auth_quota_release(a, "w");
	is_int(auth_quota_total(a), 0, "total back to zero, not below");
	auth_free(a);
}

/* Many users, to make the quota map grow and keep its counts. */
static void test_quota_many(void)
{
	struct auth *a = auth_new();
	char name[32];
	int i, bad = 0;

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		bad += auth_quota_take(a, name, 2, 0) != 0;
		bad += auth_quota_take(a, name, 2, 0) != 0;
	}
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		bad += auth_quota_count(a, name) != 2;
		auth_quota_release(a, name);
	}
	is_int(bad, 0, "5000 users counted through map growth");
	is_int(auth_quota_total(a), 5000, "total with many users");
	auth_free(a);
}

/* -------------------------------------------------------- concurrency */

#define THREADS 4
#define LOOKUPS 100000

static struct auth *race_auth;
static atomic_int race_failures;

static void *race_reader(void *arg)
{
	struct auth_keys k;
	char name[64];
	uint8_t h[32];
	long i;

	snprintf(name, sizeof(name), "%lld:racer", (long long)NOW + 3600);
	stun_userhash("alice", 5, REALM, strlen(REALM), h);
	for (i = 0; i < LOOKUPS; i++) {
		enum auth_result r;

		/* alice and the secret are in every published snapshot. */
		if (i % 64 == 0)
			r = look(race_auth, name, REALM, &k);
		else if (i % 64 == 1)
			r = auth_lookup_userhash(race_auth, h, REALM,
						 strlen(REALM), &k);
		else
			r = look(race_auth, "alice", REALM, &k);
		if (r != AUTH_OK)
			atomic_fetch_add(&race_failures, 1);
		if (auth_quota_take(race_auth, "racer", 0, 0) == 0)
			auth_quota_release(race_auth, "racer");
	}
	(void)arg;
	return NULL;
}

static void test_race(void)
{
	static const char *const secrets[] = { "s3cret" };
	enum { NDB = 500 };
	static struct auth_user_keys keys[NDB];
	static char names[NDB][16];
	pthread_t t[THREADS];
	struct auth_config c;
	int i, started = 0;

	race_auth = auth_new();
	for (i = 0; i < NDB; i++) {
		snprintf(names[i], sizeof(names[i]), "db%d", i);
		keys[i].name = names[i];
		keys[i].realm = REALM;
	}
	memset(&c, 0, sizeof(c));
	c.realm = REALM;
	c.n_plain = 2;
	c.plain_names = plain_names;
	c.plain_passwords = plain_pw;
	c.keyed = keys;
	c.n_secrets = 1;
	c.secrets = secrets;
	auth_publish(race_auth, &c);

	for (i = 0; i < THREADS; i++)
		started += pthread_create(&t[i], NULL, race_reader, NULL) == 0;
	for (i = 0; i < 200; i++) {
		c.n_keyed = (size_t)(i * 7) % NDB;
		c.n_revoked = (size_t)(i & 1);
		c.revoked = revoked;
		auth_publish(race_auth, &c);
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	is_int(started, THREADS, "reader threads started");
	is_int(atomic_load(&race_failures), 0,
	       "lookups racing 200 republishes all succeeded");
	is_int(auth_quota_total(race_auth), 0, "racing quotas balance");
	auth_free(race_auth);
}

int main(void)
{
	test_rest_vector();
	test_long_term();
	test_userhash();
	test_ephemeral();
	test_bad_names();
	test_republish();
	test_many_users();
	test_nonce();
	test_quota();
	test_quota_many();
	test_race();
	return tap_done();
}
