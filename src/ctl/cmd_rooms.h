/*
 * cmd_rooms — the commands for signaling rooms: room add, room del, room
 * list (doc/ferryctl.8).  Each takes the run and the command's parsed
 * arguments and returns the exit status, after reporting any failure.
 */
#ifndef FERRY_CTL_CMD_ROOMS_H
#define FERRY_CTL_CMD_ROOMS_H

struct args;
struct ctl;

int cmd_room_add(struct ctl *c, const struct args *a);
int cmd_room_del(struct ctl *c, const struct args *a);
int cmd_room_list(struct ctl *c, const struct args *a);

#endif
