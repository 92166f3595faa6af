/*
 * reload — which keys a reload cannot apply: conf_needs_restart() and
 * conf_keep_running() (conf.h) walk the keys of the table marked
 * F_RESTART and use their type's equal and swap, which are these.  Only
 * the types of such keys have them (see directive.h).
 */
#ifndef FERRY_CONF_RELOAD_H
#define FERRY_CONF_RELOAD_H

#include "conf/directive.h"

/* 1 when a and b hold the same value of d. */
int reload_equal_int(const struct ferry_conf *a, const struct ferry_conf *b,
		     const struct directive *d);
int reload_equal_long(const struct ferry_conf *a, const struct ferry_conf *b,
		      const struct directive *d);
int reload_equal_ports(const struct ferry_conf *a, const struct ferry_conf *b,
		       const struct directive *d);
/* A char *; a repeatable string key is never compared (always 1). */
int reload_equal_str(const struct ferry_conf *a, const struct ferry_conf *b,
		     const struct directive *d);
int reload_equal_addrs(const struct ferry_conf *a, const struct ferry_conf *b,
		       const struct directive *d);

/* Exchange the value of d between a and b. */
void reload_swap_int(struct ferry_conf *a, struct ferry_conf *b,
		     const struct directive *d);
void reload_swap_long(struct ferry_conf *a, struct ferry_conf *b,
		      const struct directive *d);
void reload_swap_ports(struct ferry_conf *a, struct ferry_conf *b,
		       const struct directive *d);
/* The char * (or, for a repeatable key, the conf_strs) at off. */
void reload_swap_str(struct ferry_conf *a, struct ferry_conf *b,
		     const struct directive *d);
void reload_swap_addrs(struct ferry_conf *a, struct ferry_conf *b,
		       const struct directive *d);

#endif
