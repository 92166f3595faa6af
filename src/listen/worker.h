/*
 * worker — the relay worker threads.
 *
 * Each worker owns an event base, one SO_REUSEPORT UDP socket and one TCP
 * listening socket per `listen` address, and a protocol engine (turn/engine.h).
 * The kernel hashes a client's 5-tuple to one of the sockets of a port, so
 * a client always reaches the same worker and everything the engine keeps
 * for it lives on that thread without a lock.
 *
 * The main thread creates the workers (sockets already bound, so privileges
 * can be dropped before they start), talks to them only through
 * worker_post(), and stops them with workers_stop().
 */
#ifndef FERRY_WORKER_H
#define FERRY_WORKER_H

#include <stddef.h>

struct event_base;
struct ferry_conf;
struct listener_set;
struct srv;

struct worker;

struct srv_env;
struct stats;

/* Create n workers over the sockets in ls (which stays owned by the
 * caller until workers_free).  env gives the settings, credentials and
 * port pool every engine shares; each worker adds its own event base and
 * counters.  NULL with err on failure. */
struct worker **workers_new(int n, struct listener_set *ls,
			    const struct srv_env *env,
			    char *err, size_t errlen);
int workers_start(struct worker **w, int n, char *err, size_t errlen);
/* Break every loop and join the threads. */
void workers_stop(struct worker **w, int n);
void workers_free(struct worker **w, int n);

/* Run fn(w, arg) on the worker's own thread, soon.  Safe from any thread. */
typedef void (*worker_job_fn)(struct worker *w, void *arg);
void worker_post(struct worker *w, worker_job_fn fn, void *arg);

struct srv *worker_srv(struct worker *w);
/* This worker's counters (written by it only; readable from any thread). */
const struct stats *worker_stats(const struct worker *w);

/* Post srv_set_conf(conf) to every worker and wait until all have applied
 * it, so the caller may then free the previous conf. */
void workers_set_conf(struct worker **w, int n, const struct ferry_conf *conf);

#endif
