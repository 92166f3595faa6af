/*
 * directive — the shape of the directive table and of a value type, for
 * the files of src/conf only (the rest of the program reads conf.h).
 *
 * A directive is one key of the file: its name, its type, its flags, its
 * range and default, and where its value lives in struct ferry_conf.  A
 * type (struct conf_type) is what every key of one kind of value shares:
 * how a value is checked and stored, described in "expected …" messages,
 * printed back in file syntax, compared and exchanged on reload and freed.
 * The table (directives.c) is data; the types are in types.c; nothing
 * outside them asks which type a key has.
 */
#ifndef FERRY_CONF_DIRECTIVE_H
#define FERRY_CONF_DIRECTIVE_H

#include <stddef.h>
#include <stdio.h>
#include "conf/conf.h"

#define F_REPEAT  0x01  /* may be given on several lines; lines replace the default */
#define F_SECRET  0x02  /* never printed, never echoed in an error */
#define F_EMPTY   0x04  /* an empty value is allowed and means "none" */
#define F_DERIVED 0x08  /* def only describes the default; defaults.c computes it */
#define F_RESTART 0x10  /* a change takes a restart, not a reload */
#define F_SYSUSER 0x20  /* a string naming an account of this system */
#define F_SYSGROUP 0x40 /* a string naming a group of this system */

struct directive;

/*
 * One kind of value.  Every function gets the directive, so that one type
 * serves keys of different ranges, defaults and flags; c, a and b are
 * whole configurations and the value is found at d->off (and d->off2).
 */
struct conf_type {
	/* Check val (never empty) and store a copy into c, which free
	 * releases: a repeatable key appends, another replaces the default.
	 * Returns 0, or -1 with what was wrong in err ("expected …", never
	 * the value of a secret) and c unchanged.
	 * check_fs = 0 for built-in defaults: the default database folder
	 * exists only on an installed system, and the daemon reports it
	 * when it opens the file; lines of the file are always checked. */
	int (*parse)(struct ferry_conf *c, const struct directive *d,
		     const char *val, int check_fs, char *err, size_t errlen);
	/* What a value looks like, after "expected " in messages. */
	void (*describe)(const struct directive *d, char *buf, size_t n);
	/* Write the value as "KEY = VALUE" lines (a secret as "(set)").
	 * Returns 0 when the key holds no value, and then writes nothing. */
	int (*print)(const struct ferry_conf *c, const struct directive *d,
		     FILE *out);
	/* 1 when a and b hold the same value.  NULL: never compared, as no
	 * key of the type needs a restart (such keys count as equal). */
	int (*equal)(const struct ferry_conf *a, const struct ferry_conf *b,
		     const struct directive *d);
	/* Exchange the values of a and b; each still frees what it then
	 * holds.  NULL where equal is NULL. */
	void (*swap)(struct ferry_conf *a, struct ferry_conf *b,
		     const struct directive *d);
	/* Release what the value points to (not c).  NULL: nothing to. */
	void (*free)(struct ferry_conf *c, const struct directive *d);
};

struct directive {
	const char *name;
	const struct conf_type *type;
	unsigned flags;
	long min, max;          /* integer range; a string's longest value (0: any) */
	int port;               /* the default port of a listen address */
	/* The default as it would be written in the file (repeatable keys:
	 * values separated by spaces), or NULL for none.  With F_DERIVED a
	 * description for people, not parsed. */
	const char *def;
	const char *help;
	size_t off, off2;       /* where the value lives in struct ferry_conf */
};

#define OFF(f) offsetof(struct ferry_conf, f)
#define FIELD(c, d, type) ((type *)((char *)(c) + (d)->off))
#define FIELD2(c, d, type) ((type *)((char *)(c) + (d)->off2))
#define CFIELD(c, d, type) ((const type *)((const char *)(c) + (d)->off))
#define CFIELD2(c, d, type) ((const type *)((const char *)(c) + (d)->off2))

/* The table, in the order of the sample file and of conf_print(). */
extern const struct directive directive_table[];
extern const size_t directive_count;

/* The directive named key, or NULL. */
const struct directive *directive_find(const char *key);

/* The position of d in directive_table. */
#define DIRECTIVE_INDEX(d) ((size_t)((d) - directive_table))

#endif
