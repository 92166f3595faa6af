/*
 * replay — a main for any ferry fuzz target, so `make check` re-runs every
 * saved input without libFuzzer.
 *
 * Built with -DCORPUS_DIR="..." next to one fuzz_*.c. Runs
 * LLVMFuzzerTestOneInput over every regular file in CORPUS_DIR, then over
 * each extra argument (a file, or a directory whose regular files are
 * run). Each input gets a buffer of exactly its size, so sanitizers see
 * any read past the end. Prints TAP: one test, failing when CORPUS_DIR is
 * missing or empty or an argument cannot be read. A crashing input
 * crashes the program, which the test driver reports.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CORPUS_DIR
#error "build with -DCORPUS_DIR=\"path/to/corpus\""
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0 on success; -1 with a diagnostic when the file cannot be read. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int rc = -1;

	if (!f) {
		printf("# %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		/* malloc(0) may return NULL; keep a valid pointer. */
		buf = malloc(size ? (size_t)size : 1);
		if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
			LLVMFuzzerTestOneInput(buf, (size_t)size);
			rc = 0;
		}
	}
	if (rc)
		printf("# %s: cannot read\n", path);
	free(buf);
	fclose(f);
	return rc;
}

/* Runs every regular file in dir; returns how many, or -1. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (!d) {
		printf("# %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;

		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (run_file(path)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	long total, n;
	int failed = 0;
	struct stat st;

	total = run_dir(CORPUS_DIR);
	if (total <= 0) {
		if (total == 0)
			printf("# %s holds no inputs\n", CORPUS_DIR);
		failed = 1;
		total = total < 0 ? 0 : total;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			n = run_dir(argv[i]);
		} else {
			n = run_file(argv[i]) ? -1 : 1;
		}
		if (n < 0)
			failed = 1;
		else
			total += n;
	}
	printf("%sok 1 - replayed %ld inputs from %s\n", failed ? "not " : "",
	       total, CORPUS_DIR);
	printf("1..1\n");
	return failed;
}
