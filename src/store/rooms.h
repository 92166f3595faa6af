/*
 * rooms — the signaling rooms of the database and their capacity.  Room
 * names follow core/names.h (names_room).  Included by store/store.h,
 * which describes errors and callbacks; callers include that.
 */
#ifndef FERRY_STORE_ROOMS_H
#define FERRY_STORE_ROOMS_H

#include <stddef.h>
#include <stdint.h>

#define STORE_MAX_PEERS_MIN 1
#define STORE_MAX_PEERS_MAX 1000

struct store;

struct store_room {
	const char *name;
	int max_peers;
	int64_t created;
};

/* STORE_EXISTS when the room is already there; STORE_INVALID for a bad
 * name or max_peers outside STORE_MAX_PEERS_MIN..STORE_MAX_PEERS_MAX. */
int store_room_add(struct store *st, const char *name, int max_peers,
		   char *err, size_t errlen);
/* STORE_NOT_FOUND when there is no such room. */
int store_room_del(struct store *st, const char *name, char *err, size_t errlen);
/* 1 and *max_peers set when the room exists, 0 when it does not,
 * STORE_ERROR on failure.  max_peers may be NULL. */
int store_room_get(struct store *st, const char *name, int *max_peers,
		   char *err, size_t errlen);
/* For auto-created rooms: make sure name exists, creating it with
 * default_max when missing.  Returns 1 when this call created it, 0 when it
 * was already there (*max_peers then holds its stored setting), negative on
 * failure (STORE_INVALID, STORE_ERROR).  Safe against a concurrent
 * `ferryctl room add` of the same name.  max_peers may be NULL. */
int store_room_ensure(struct store *st, const char *name, int default_max,
		      int *max_peers, char *err, size_t errlen);
typedef int (*store_room_fn)(void *ctx, const struct store_room *r);
/* Every room in name order. */
int store_room_foreach(struct store *st, store_room_fn fn, void *ctx,
		       char *err, size_t errlen);

#endif
