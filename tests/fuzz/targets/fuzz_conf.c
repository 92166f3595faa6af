/*
 * fuzz_conf — libFuzzer target for the configuration parser (src/conf/).
 *
 * The input is a configuration file's text (cut at its first NUL, as a
 * file read into a C string would be).  conf_load_string() must either
 * return a configuration, which conf_print() can print and conf_free()
 * release, or NULL after reporting at least one error, each of them a
 * bounded line naming the file.  conf_needs_restart() compares a loaded
 * configuration with itself, and a reload from an empty file to it keeps
 * the running values (conf_keep_running) so that nothing is left to
 * restart.  A violation aborts.
 */
#include "conf/conf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define NAME "fuzz.conf"

static void count_error(void *ctx, const char *msg)
{
	size_t *n = ctx;

	CHECK(msg != NULL);
	/* every message names the file: "fuzz.conf:LINE: error: ..." or
	 * "fuzz.conf: error: ..." for problems of the whole file */
	CHECK(strncmp(msg, NAME, strlen(NAME)) == 0);
	CHECK(strlen(msg) < 64 * 1024);
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct ferry_conf *c, *run, *ref;
	char *text, what[128];
	size_t errors = 0;

	if (size > 256 * 1024)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	CHECK(devnull);
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string(NAME, text, count_error, &errors);
	if (c) {
		CHECK(errors == 0);
		CHECK(c->relay_ip.n > 0);
		CHECK(c->relay_port_min <= c->relay_port_max);
		conf_print(c, devnull);
		CHECK(conf_needs_restart(c, c, what, sizeof(what)) == 0);
		run = conf_load_string(NAME, "", count_error, &errors);
		ref = conf_load_string(NAME, "", count_error, &errors);
		CHECK(run && ref);
		conf_keep_running(c, run);
		CHECK(conf_needs_restart(ref, c, what, sizeof(what)) == 0);
		conf_free(ref);
		conf_free(run);
		conf_free(c);
	} else {
		CHECK(errors > 0);
	}
	free(text);
	return 0;
}
