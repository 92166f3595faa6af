/*
 * snapshot — one immutable set of credentials, as auth_publish() swaps
 * them in: the long-term users (the file's and the database's), the shared
 * secrets for ephemeral names and the revoked user parts, indexed for the
 * lookups of lookup.c.  Inside auth/ only.
 *
 * snap_build() copies everything it is given into a new snapshot that
 * nothing changes afterwards, so any number of threads may read it at
 * once; snap_free() frees it and everything it points to (NULL is
 * accepted).  Pointers returned by the snap_find functions live as long as
 * the snapshot.
 */
#ifndef FERRY_AUTH_SNAPSHOT_H
#define FERRY_AUTH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct auth_config;

/* An open-addressing index (linear probing, load at most 1/2) from a hash
 * to positions in one of the snapshot's arrays; SNAP_IDX_EMPTY marks a
 * free slot.  Lookups walk the probe sequence and compare the entries,
 * which lets one name map to several database users with different
 * realms. */
#define SNAP_IDX_EMPTY UINT32_MAX

struct snap_idx {
	uint32_t *slot;
	size_t mask;
};

struct snap_user {
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

struct snap_secret {
	char *s;
	size_t len;
};

struct snap {
	uint64_t seed;		/* of the name hashes, random per snapshot */
	char *realm;		/* the configured realm; "" when none */
	size_t realmlen;
	struct snap_user *users;	/* file users first */
	size_t n_users;
	struct snap_idx by_name;
	struct snap_idx by_hash;	/* by the first 8 bytes of userhash */
	struct snap_secret *secrets;	/* the first one signs */
	size_t n_secrets;
	char **revoked;
	size_t *revoked_len;
	size_t n_revoked;
	struct snap_idx revoked_idx;
};

/* A snapshot of cfg (NULL: empty sets), with the file users' keys derived
 * for cfg->realm.  Entries that cannot be used are left out: names that
 * fail names_login(), users without a password or realm, empty secrets,
 * repeats (the first one wins; a file user wins its name in every realm
 * over the database, whose users are one per (name, realm)). */
struct snap *snap_build(const struct auth_config *cfg);
void snap_free(struct snap *s);

/* The user called name (and, when realm is not NULL, stored for that
 * realm), or NULL. */
const struct snap_user *snap_find(const struct snap *s, const char *name,
				  size_t len, const char *realm,
				  size_t realmlen);
/* The user whose SHA-256(name ":" realm) is hash, or NULL. */
const struct snap_user *snap_find_userhash(const struct snap *s,
					   const uint8_t hash[32]);
/* 1 when the len bytes at user are a revoked user part. */
int snap_revoked(const struct snap *s, const char *user, size_t len);

#endif
