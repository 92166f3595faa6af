/*
 * types — the value types of the directive table, one struct conf_type
 * each (see directive.h for what a type does).  The rows are static data;
 * the table points at them.  Where the value lives in struct ferry_conf:
 */
#ifndef FERRY_CONF_TYPES_H
#define FERRY_CONF_TYPES_H

#include "conf/directive.h"

extern const struct conf_type
	type_bool,      /* int: yes/no, true/false, on/off, 1/0 */
	type_int,       /* long in [min, max] */
	type_threads,   /* long: "auto" (one per core) or min..max */
	type_loglevel,  /* int: enum log_level */
	type_ports,     /* two ints at off and off2: A-B */
	type_str,       /* char *, or conf_strs when repeatable; at most max
			 * bytes when max > 0 */
	type_host,      /* char *: a host name or [IPv6] for URLs */
	type_ciphers,   /* char *: an OpenSSL cipher list that selects something */
	type_origin,    /* conf_strs: scheme://host[:port] */
	type_file,      /* char *: a file that must exist */
	type_dir,       /* char *: a directory that must exist */
	type_wpath,     /* char *: a file ferryd writes; its folder must exist */
	type_logfile,   /* char *: "syslog", "stderr" or a type_wpath path */
	type_listen,    /* conf_addrs: ADDRESS[:PORT], the port defaults to port */
	type_ip,        /* conf_addrs: an address without a port, not a wildcard */
	type_cidr,      /* conf_cidrs */
	type_denied,    /* conf_cidrs added to peerfilter's built-in table */
	type_user,      /* conf_user array at off, its count (size_t) at off2 */
	type_external;  /* conf_external array at off, its count at off2 */

#endif
