/*
 * value — the checks of one value's shape that the types of types.c are
 * made of: booleans, bare addresses, host names, origins, cipher lists and
 * paths, and the blanks of the file syntax.  They read only their
 * arguments (and the file system, for paths) and keep nothing; none
 * accepts NULL.
 */
#ifndef FERRY_CONF_VALUE_H
#define FERRY_CONF_VALUE_H

#include <stddef.h>
#include "core/net.h"

/* 1 for the blanks the file syntax trims around keys and values (space,
 * tab, CR, FF, VT), which a printed value must therefore quote. */
int value_blank(char ch);

/* yes/no, true/false, on/off, 1/0 in any case.  Returns 0 and sets *out
 * to 1 or 0, or -1. */
int value_bool(const char *s, int *out);

/* A numeric address without a port, not a wildcard; the port of *out is
 * 0.  Returns 0, or -1. */
int value_bare_ip(const char *s, net_addr *out);

/* 1 when s is a DNS name or a numeric address fit for a URL's host (IPv6
 * in brackets), else 0. */
int value_host(const char *s);

/* 1 when s is what a browser sends in Origin: http or https "://" host
 * [":" port], no path; else 0. */
int value_origin(const char *s);

/* 1 when OpenSSL takes s as a cipher list that selects something (or
 * cannot be asked), else 0. */
int value_ciphers(const char *s);

/* A file ferryd writes: its folder must exist and it must not be a
 * folder.  Returns 0, or -1 with what was wrong in detail. */
int value_writable(const char *path, char *detail, size_t n);

/* path must exist and be a directory (want_dir) or not one.  Returns 0, or
 * -1 with what was wrong in detail. */
int value_exists(const char *path, int want_dir, char *detail, size_t n);

#endif
