/* output — see output.h. */
#include "ctl/output.h"
#include "core/utf8.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void out_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ferryctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------- lists */

void out_list_init(struct out_list *l, int json, size_t ncols, ...)
{
	va_list ap;

	memset(l, 0, sizeof(*l));
	l->json = json;
	l->ncols = ncols;
	if (json) {
		l->arr = json_array();
		return;
	}
	l->cap = 16;
	l->cells = xmalloc(l->cap * ncols * sizeof(char *));
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++)
		l->cells[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	l->nrows = 1;
}

void out_list_row(struct out_list *l, ...)
{
	va_list ap;

	if (l->nrows == l->cap) {
		l->cap *= 2;
		l->cells = xrealloc(l->cells, l->cap * l->ncols * sizeof(char *));
	}
	va_start(ap, l);
	for (size_t i = 0; i < l->ncols; i++)
		l->cells[l->nrows * l->ncols + i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	l->nrows++;
}

/* Terminal columns of a cell, taken as one per character. */
static size_t utf8_width(const char *s)
{
	return utf8_chars(s, strlen(s));
}

static void print_json(const struct out_list *l)
{
	char *s = json_dumps(l->arr, JSON_INDENT(2));

	if (s) {
		puts(s);
		free(s);
	}
}

static void print_table(const struct out_list *l)
{
	size_t width[OUT_MAX_COLS] = { 0 };

	for (size_t r = 0; r < l->nrows; r++)
		for (size_t i = 0; i < l->ncols; i++) {
			size_t w = utf8_width(l->cells[r * l->ncols + i]);

			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r < l->nrows; r++) {
		for (size_t i = 0; i < l->ncols; i++) {
			const char *cell = l->cells[r * l->ncols + i];

			fputs(cell, stdout);
			/* No trailing blanks after the last column. */
			if (i + 1 < l->ncols)
				printf("%*s", (int)(width[i] - utf8_width(cell) + 2), "");
		}
		putchar('\n');
	}
}

void out_list_print(struct out_list *l)
{
	if (l->json)
		print_json(l);
	else
		print_table(l);
}

void out_list_free(struct out_list *l)
{
	json_decref(l->arr);
	for (size_t i = 0; i < l->nrows * l->ncols; i++)
		free(l->cells[i]);
	free(l->cells);
}

int out_list_finish(struct out_list *l, int rc, const char *err)
{
	if (rc < 0)
		out_fail("%s", err);
	else
		out_list_print(l);
	out_list_free(l);
	return rc < 0 ? 1 : 0;
}

/* ------------------------------------------------------------- times */

const char *out_time(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, n, "%lld", (long long)t);
	return buf;
}
