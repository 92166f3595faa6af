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
struct http_env;

/* The whole exposition, malloc'd (caller frees); *len its length. */
char *metrics_render(const struct http_env *env, const struct http *h, size_t *len);

#endif
