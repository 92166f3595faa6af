/*
 * metrics — /metrics in the Prometheus text format (version 0.0.4).
 *
 * Gauges for what exists now, counters for totals; no label takes values
 * that grow with users or rooms.
 */
#ifndef FERRY_METRICS_H
#define FERRY_METRICS_H

#include <stddef.h>

struct http;
struct relay_pool;
struct sig;
struct worker;

/* Where the numbers come from; any part may be missing (NULL, or no
 * workers yet), and its families are then left out or zero. */
struct metrics_src {
	struct worker **workers;           /* TURN and STUN counters */
	int nworkers;
	struct relay_pool *pool;           /* ports in use */
	struct sig *sig;                   /* signaling */
	const struct http *http;           /* responses by status */
};

/* The whole exposition, malloc'd (caller frees); *len its length. */
char *metrics_render(const struct metrics_src *src, size_t *len);

#endif
