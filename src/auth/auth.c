/*
 * auth — the life of a struct auth: made with empty sets, republished,
 * freed.  See auth.h, and state.h for the locking.
 */
#include "auth/auth.h"
#include "auth/snapshot.h"
#include "auth/state.h"
#include "core/util.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>

struct auth *auth_new(void)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	pthread_rwlockattr_t attr;

	random_bytes(a->nonce_key, sizeof(a->nonce_key));

	pthread_rwlockattr_init(&attr);
	/* glibc prefers readers by default, which would let busy workers
	 * hold a reload off indefinitely. */
	pthread_rwlockattr_setkind_np(&attr,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&a->lock, &attr);
	pthread_rwlockattr_destroy(&attr);

	a->snap = snap_build(NULL);
	auth_quota_init(&a->q);
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	snap_free(a->snap);
	pthread_rwlock_destroy(&a->lock);
	auth_quota_fini(&a->q);
	OPENSSL_cleanse(a->nonce_key, sizeof(a->nonce_key));
	free(a);
}

void auth_publish(struct auth *a, const struct auth_config *cfg)
{
	struct snap *next = snap_build(cfg), *old;

	pthread_rwlock_wrlock(&a->lock);
	old = a->snap;
	a->snap = next;
	pthread_rwlock_unlock(&a->lock);
	snap_free(old);
}
