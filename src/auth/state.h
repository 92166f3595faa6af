/*
 * state — the members of struct auth, for the files of auth/ only;
 * everyone else holds a struct auth * and calls the functions of
 * auth/auth.h.  auth_new() (auth.c) makes one and auth_free() frees it.
 *
 * Locking.  The credential sets live in one immutable struct snap
 * (auth/snapshot.h).  Readers (lookup.c) hold the rwlock's read side for
 * the whole lookup, so the snapshot they use cannot be freed under them;
 * auth_publish() builds the next snapshot with no lock held, takes the
 * write side only to swap one pointer, and frees the old snapshot after
 * unlocking (once the write lock was granted no reader can still hold
 * it).  The lock prefers writers, so a steady stream of lookups cannot
 * starve a reload.
 *
 * The nonce key never changes after auth_new, so nonce.c reads it without
 * a lock; the quota table has its own mutex (quota.c).
 */
#ifndef FERRY_AUTH_STATE_H
#define FERRY_AUTH_STATE_H

#include <pthread.h>
#include <stdint.h>

#include "auth/nonce.h"
#include "auth/quota.h"

struct snap;

struct auth {
	pthread_rwlock_t lock;
	struct snap *snap;                 /* never NULL after auth_new */
	uint8_t nonce_key[AUTH_NONCE_KEY_LEN];
	struct auth_quota_table q;
};

#endif
