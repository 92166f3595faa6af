/* cmd_rooms — see cmd_rooms.h. */
#include "ctl/cmd_rooms.h"
#include "ctl/args.h"
#include "ctl/output.h"
#include "ctl/setup.h"
#include "conf/conf.h"
#include "core/names.h"
#include "core/util.h"
#include "store/store.h"

#include <stdio.h>

#include <jansson.h>

/* --max-peers, else the room-max-peers in force.  Returns 0, or -1 after
 * reporting. */
static int max_peers(struct ctl *c, const struct args *a, long *max)
{
	const char *v = args_value(a, O_MAX_PEERS);
	const struct ferry_conf *conf;

	if (v) {
		if (parse_long(v, STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX, max) < 0) {
			out_fail("room add: --max-peers must be a number from %d to %d",
				 STORE_MAX_PEERS_MIN, STORE_MAX_PEERS_MAX);
			return -1;
		}
		return 0;
	}
	if (!(conf = setup_settings(c)))
		return -1;
	*max = conf->room_max_peers;
	return 0;
}

int cmd_room_add(struct ctl *c, const struct args *a)
{
	const char *name = a->pos[0];
	char err[512];
	long max;

	if (!names_room(name)) {
		out_fail("room add: invalid room name '%s' (1-%d characters of "
			 "A-Z a-z 0-9 _ . -)", name, NAMES_ROOM_MAX);
		return 1;
	}
	if (max_peers(c, a, &max) < 0 || setup_store(c) < 0)
		return 1;
	if (store_room_add(c->st, name, (int)max, err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

int cmd_room_del(struct ctl *c, const struct args *a)
{
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	if (store_room_del(c->st, a->pos[0], err, sizeof(err)) < 0) {
		out_fail("%s", err);
		return 1;
	}
	return 0;
}

static int list_room(void *ctx, const struct store_room *r)
{
	struct out_list *l = ctx;
	char max[16], t[32];

	if (l->json) {
		json_array_append_new(l->arr, json_pack("{s:s, s:i, s:I}", "name", r->name,
							"maxPeers", r->max_peers,
							"created", (json_int_t)r->created));
		return 0;
	}
	snprintf(max, sizeof(max), "%d", r->max_peers);
	out_list_row(l, r->name, max, out_time(r->created, t, sizeof(t)));
	return 0;
}

int cmd_room_list(struct ctl *c, const struct args *a)
{
	struct out_list l;
	char err[512];

	if (setup_store(c) < 0)
		return 1;
	out_list_init(&l, !!(a->seen & O_JSON), 3, "NAME", "MAX-PEERS", "CREATED");
	return out_list_finish(&l, store_room_foreach(c->st, list_room, &l, err,
						      sizeof(err)), err);
}
