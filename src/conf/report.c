/*
 * report — see report.h.
 */
#include "config.h"

#include "conf/report.h"

#include <stdarg.h>
#include <stdio.h>

#define ERRLEN 1024

void report_error(struct report *r, int line, const char *fmt, ...)
{
	char msg[ERRLEN], head[512];
	va_list ap;

	if (line > 0)
		snprintf(head, sizeof(head), "%s:%d: error: ", r->name, line);
	else
		snprintf(head, sizeof(head), "%s: error: ", r->name);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->nerr++;
	if (r->errfn) {
		char full[ERRLEN + 512];
		snprintf(full, sizeof(full), "%s%s", head, msg);
		r->errfn(r->ctx, full);
	} else {
		fprintf(stderr, "%s%s\n", head, msg);
	}
}
