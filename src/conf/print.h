/*
 * print — the configuration in file syntax, as `ferryd --check-config`
 * shows it: conf_print() (conf.h) writes every key of the table, in table
 * order, through its type's print, and "# KEY = (none)" for a key without
 * a value.  The printers below are the print of the types of types.c;
 * each writes one "KEY = VALUE" line per value (a secret as "(set)") and
 * returns 0 when there is no value, having written nothing.
 */
#ifndef FERRY_CONF_PRINT_H
#define FERRY_CONF_PRINT_H

#include <stdio.h>
#include "conf/directive.h"

int print_bool(const struct ferry_conf *c, const struct directive *d,
	       FILE *out);
int print_long(const struct ferry_conf *c, const struct directive *d,
	       FILE *out);
int print_loglevel(const struct ferry_conf *c, const struct directive *d,
		   FILE *out);
int print_ports(const struct ferry_conf *c, const struct directive *d,
		FILE *out);
/* A char *, or the conf_strs of a repeatable key. */
int print_str(const struct ferry_conf *c, const struct directive *d,
	      FILE *out);
/* conf_addrs with their ports, or without (print_ip). */
int print_listen(const struct ferry_conf *c, const struct directive *d,
		 FILE *out);
int print_ip(const struct ferry_conf *c, const struct directive *d,
	     FILE *out);
int print_cidrs(const struct ferry_conf *c, const struct directive *d,
		FILE *out);
/* peerfilter's built-in table, each row marked, then the file's lines. */
int print_denied(const struct ferry_conf *c, const struct directive *d,
		 FILE *out);
int print_users(const struct ferry_conf *c, const struct directive *d,
		FILE *out);
int print_external(const struct ferry_conf *c, const struct directive *d,
		   FILE *out);

#endif
