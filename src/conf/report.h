/*
 * report — where the errors of one load go: each is one line
 * "NAME:LINE: error: …" (or "NAME: error: …" for the whole file), handed
 * to the caller's conf_error_fn, or printed to stderr when there is none,
 * and counted, since a load with any error returns no configuration.
 */
#ifndef FERRY_CONF_REPORT_H
#define FERRY_CONF_REPORT_H

#include "conf/conf.h"

/* Filled in by the caller, which owns the strings; nerr starts at 0. */
struct report {
	const char *name;       /* the file as named in messages */
	conf_error_fn errfn;    /* NULL: stderr */
	void *ctx;
	int nerr;
};

/* Report one error of line (0: of the whole file); fmt gives what follows
 * "error: ".  Long messages are cut, not refused. */
void report_error(struct report *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
