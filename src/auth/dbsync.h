/*
 * dbsync — keeps the credential sets that TURN authentication uses (auth.h)
 * in step with the configuration file and the database.
 *
 * The main thread calls dbsync_publish() at start, after every reload,
 * and whenever store_changed() reports that another process (ferryctl)
 * committed something; a running ferryd thus sees such changes within its
 * poll interval, without a reload.
 */
#ifndef FERRY_DBSYNC_H
#define FERRY_DBSYNC_H

#include <stddef.h>

struct auth;
struct ferry_conf;
struct store;

/* Publish the file's users and secrets plus the database's users, secrets
 * and revocations.  Returns 0, or -1 with err when the database could not
 * be read (the previous sets then stay in force). */
int dbsync_publish(struct auth *a, const struct ferry_conf *c, struct store *st,
		   char *err, size_t errlen);

#endif
