/*
 * output — what ferryctl prints: the one failure line on stderr, and
 * lists on stdout as a table or, with --json, a JSON array.
 */
#ifndef FERRY_CTL_OUTPUT_H
#define FERRY_CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The line "ferryctl: <message>" on stderr that every failure produces
 * (stdout is flushed first, so the two stay in order on a terminal). */
void out_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A list is printed either as a JSON array or as a table: a header line
 * and left-aligned columns two spaces apart, widths taken from the widest
 * cell, counted in characters so UTF-8 user names line up.  Rows go in
 * with out_list_row() (a table) or json_array_append_new(l->arr, ...)
 * (JSON); the list owns copies of the cells and its array, which
 * out_list_free() releases.
 */
#define OUT_MAX_COLS 3

struct out_list {
	int json;
	json_t *arr;                    /* json: the array; else NULL */
	size_t ncols, nrows, cap;
	char **cells;                   /* nrows * ncols; row 0 is the header */
};

/* ncols (<= OUT_MAX_COLS) header strings follow ncols. */
void out_list_init(struct out_list *l, int json, size_t ncols, ...);
/* ncols cell strings follow l; tables only. */
void out_list_row(struct out_list *l, ...);
void out_list_print(struct out_list *l);
void out_list_free(struct out_list *l);
/* The shared tail of the list commands: rc is what the store's foreach
 * returned; err is printed with out_fail() when it failed, else the list
 * is printed.  Frees the list; returns the exit status. */
int out_list_finish(struct out_list *l, int rc, const char *err);

/* t as "2026-11-22T10:00:00Z" in buf (n bytes; 32 suffice), or as the
 * plain number when it cannot be a date.  Returns buf. */
const char *out_time(int64_t t, char *buf, size_t n);

#endif
