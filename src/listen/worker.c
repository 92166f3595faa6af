/* worker — see worker.h. */
#include "listen/worker.h"
#include "listen/listen.h"
#include "core/log.h"
#include "turn/engine.h"
#include "turn/stats.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

struct job {
	struct job *next;
	worker_job_fn fn;
	void *arg;
};

struct worker {
	int id;
	pthread_t thread;
	int started;
	struct event_base *base;
	struct srv *srv;
	struct stats stats;
	struct listener_set *ls;
	/* Jobs posted by other threads; post_ev is activated to run them. */
	pthread_mutex_t lock;
	struct job *head, **tail;
	struct event *post_ev;
};

static void run_jobs(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct job *j, *next;

	pthread_mutex_lock(&w->lock);
	j = w->head;
	w->head = NULL;
	w->tail = &w->head;
	pthread_mutex_unlock(&w->lock);
	for (; j; j = next) {
		next = j->next;
		j->fn(w, j->arg);
		free(j);
	}
}

void worker_post(struct worker *w, worker_job_fn fn, void *arg)
{
	struct job *j = xmalloc(sizeof(*j));

	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	*w->tail = j;
	w->tail = &j->next;
	pthread_mutex_unlock(&w->lock);
	event_active(w->post_ev, EV_READ, 0);
}


struct srv *worker_srv(struct worker *w)
{
	return w->srv;
}


const struct stats *worker_stats(const struct worker *w)
{
	return &w->stats;
}

static void worker_free(struct worker *w)
{
	struct job *j, *next;

	if (!w)
		return;
	/* Streams first (their allocations end through the engine), then
	 * the engine (the UDP allocations, which point at the UDP sockets),
	 * then the sockets. */
	if (w->ls)
		listeners_drop_connections(w->ls, w->id);
	for (j = w->head; j; j = next) {
		next = j->next;
		free(j);
	}
	if (w->post_ev)
		event_free(w->post_ev);
	if (w->srv)
		srv_free(w->srv);
	if (w->ls)
		listeners_detach(w->ls, w->id);
	if (w->base)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct worker **workers_new(int n, struct listener_set *ls,
			    const struct srv_env *env,
			    char *err, size_t errlen)
{
	struct worker **ws = xcalloc((size_t)n, sizeof(*ws));
	int i;

	for (i = 0; i < n; i++) {
		struct worker *w = xcalloc(1, sizeof(*w));
		ws[i] = w;
		w->id = i;
		pthread_mutex_init(&w->lock, NULL);
		w->tail = &w->head;
		w->base = event_base_new();
		if (!w->base) {
			snprintf(err, errlen, "worker %d: cannot create event base", i);
			goto fail;
		}
		w->post_ev = event_new(w->base, -1, 0, run_jobs, w);
		struct srv_env e = *env;
		e.base = w->base;
		e.stats = &w->stats;
		w->srv = srv_new(&e);
		if (listeners_attach(ls, i, w->base, w->srv, err, errlen) < 0)
			goto fail;
		w->ls = ls;
	}
	return ws;
fail:
	workers_free(ws, n);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int workers_start(struct worker **ws, int n, char *err, size_t errlen)
{
	sigset_t all, old;
	int i, rc;

	/* Workers never take signals: the main loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		rc = pthread_create(&ws[i]->thread, NULL, worker_main, ws[i]);
		if (rc) {
			snprintf(err, errlen, "cannot start worker %d: %s", i, strerror(rc));
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			workers_stop(ws, i);
			return -1;
		}
		ws[i]->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

void workers_stop(struct worker **ws, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ws[i] && ws[i]->started)
			event_base_loopbreak(ws[i]->base);
	for (i = 0; i < n; i++) {
		if (ws[i] && ws[i]->started) {
			pthread_join(ws[i]->thread, NULL);
			ws[i]->started = 0;
		}
	}
}

void workers_free(struct worker **ws, int n)
{
	int i;

	if (!ws)
		return;
	for (i = 0; i < n; i++)
		worker_free(ws[i]);
	free(ws);
}

/* A barrier for workers_set_conf: the caller waits until every worker has
 * switched, so the old settings can be freed safely. */
struct conf_swap {
	const struct ferry_conf *conf;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending;
};

static void apply_conf(struct worker *w, void *arg)
{
	struct conf_swap *cs = arg;

	srv_set_conf(w->srv, cs->conf);
	pthread_mutex_lock(&cs->lock);
	if (--cs->pending == 0)
		pthread_cond_signal(&cs->cond);
	pthread_mutex_unlock(&cs->lock);
}

void workers_set_conf(struct worker **ws, int n, const struct ferry_conf *conf)
{
	struct conf_swap cs = { .conf = conf, .pending = 0 };
	int i;

	pthread_mutex_init(&cs.lock, NULL);
	pthread_cond_init(&cs.cond, NULL);
	for (i = 0; i < n; i++) {
		if (!ws[i]->started) {
			srv_set_conf(ws[i]->srv, conf);
			continue;
		}
		pthread_mutex_lock(&cs.lock);
		cs.pending++;
		pthread_mutex_unlock(&cs.lock);
		worker_post(ws[i], apply_conf, &cs);
	}
	pthread_mutex_lock(&cs.lock);
	while (cs.pending > 0)
		pthread_cond_wait(&cs.cond, &cs.lock);
	pthread_mutex_unlock(&cs.lock);
	pthread_cond_destroy(&cs.cond);
	pthread_mutex_destroy(&cs.lock);
}
