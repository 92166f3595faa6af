/* rooms — see rooms.h. */
#include "store/rooms.h"
#include "store/db.h"
#include "store/store.h"
#include "core/names.h"
#include "core/util.h"

#include <stdio.h>

static int check_room(const char *name, int max_peers, char *err, size_t errlen)
{
	if (!names_room(name)) {
		db_seterr(err, errlen, "invalid room name (1-%d characters of "
			  "A-Z a-z 0-9 _ . -)", NAMES_ROOM_MAX);
		return STORE_INVALID;
	}
	if (max_peers < STORE_MAX_PEERS_MIN || max_peers > STORE_MAX_PEERS_MAX) {
		db_seterr(err, errlen, "room %s: max-peers must be %d to %d", name,
			  STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX);
		return STORE_INVALID;
	}
	return STORE_OK;
}

int store_room_add(struct store *st, const char *name, int max_peers,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc = check_room(name, max_peers, err, errlen);

	if (rc < 0)
		return rc;
	s = db_stmt(st, S_ROOM_ADD);
	db_bind_text(s, 1, name);
	sqlite3_bind_int(s, 2, max_peers);
	sqlite3_bind_int64(s, 3, (int64_t)wall_s());
	rc = db_run(st, s, "cannot add the room", err, errlen);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		db_seterr(err, errlen, "room %s already exists", name);
		return STORE_EXISTS;
	}
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

int store_room_del(struct store *st, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_ROOM_DEL);
	char missing[NAMES_ROOM_MAX + 32];

	/* %.64s: the name may be anything the caller got; the message only
	 * needs to be recognisable. */
	snprintf(missing, sizeof(missing), "room %.64s does not exist", name);
	db_bind_text(s, 1, name);
	return db_delete_one(st, s, "cannot delete the room", missing, err, errlen);
}

int store_room_get(struct store *st, const char *name, int *max_peers,
		   char *err, size_t errlen)
{
	sqlite3_stmt *s = db_stmt(st, S_ROOM_GET);
	int rc;

	db_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && max_peers)
		*max_peers = sqlite3_column_int(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_seterr(err, errlen, "cannot read room %s: %s", name,
			  sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : STORE_ERROR;
}

int store_room_ensure(struct store *st, const char *name, int default_max,
		      int *max_peers, char *err, size_t errlen)
{
	int rc = check_room(name, default_max, err, errlen);

	if (rc < 0)
		return rc;
	/* Read first: joins of existing rooms should not cost a write (and
	 * an fsync).  A room deleted between the INSERT OR IGNORE and the
	 * second read is simply looked for again, a bounded number of times. */
	for (int tries = 0; tries < 3; tries++) {
		sqlite3_stmt *s;

		rc = store_room_get(st, name, max_peers, err, errlen);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		s = db_stmt(st, S_ROOM_ADD_IGNORE);
		db_bind_text(s, 1, name);
		sqlite3_bind_int(s, 2, default_max);
		sqlite3_bind_int64(s, 3, (int64_t)wall_s());
		if (db_run(st, s, "cannot create the room", err, errlen) != SQLITE_DONE)
			return STORE_ERROR;
		if (sqlite3_changes(st->db) == 1) {
			if (max_peers)
				*max_peers = default_max;
			return 1;
		}
	}
	db_seterr(err, errlen, "room %s: changing too fast to create", name);
	return STORE_ERROR;
}

struct room_walk {
	store_room_fn fn;
	void *ctx;
};

static int room_step(sqlite3_stmt *s, void *ctx)
{
	const struct room_walk *w = ctx;
	struct store_room r = {
		.name = (const char *)sqlite3_column_text(s, 0),
		.max_peers = sqlite3_column_int(s, 1),
		.created = sqlite3_column_int64(s, 2),
	};

	if (!r.name)
		return 0;
	return w->fn(w->ctx, &r);
}

int store_room_foreach(struct store *st, store_room_fn fn, void *ctx,
		       char *err, size_t errlen)
{
	struct room_walk w = { fn, ctx };

	return db_foreach(st, db_stmt(st, S_ROOM_ALL), "rooms", room_step, &w,
			  err, errlen);
}
