/*
 * defaults — what the keys no line set hold once a file is read: the
 * table's default text, run through the key's type as a line would be
 * (without the file system checks), then the defaults computed from other
 * keys (the F_DERIVED ones: user-quota from room-max-peers, web-root when
 * its folder exists, relay-ip from listen or the host's primary address),
 * then denied-peer without the loopback lines allow-loopback-peers lifts.
 */
#ifndef FERRY_CONF_DEFAULTS_H
#define FERRY_CONF_DEFAULTS_H

#include "conf/conf.h"
#include "conf/report.h"

/* given[i] is nonzero when a line of the file set directive_table[i].  A
 * built-in default that does not parse (a mistake in the table) is
 * reported to r as "KEY: built-in default: …". */
void defaults_apply(struct ferry_conf *c, const int *given, struct report *r);

#endif
