/*
 * cmd_users — the commands for TURN users and revocations: user add, user
 * del, user list, revoke, unrevoke (doc/ferryctl.8).  Each takes the run
 * and the command's parsed arguments and returns the exit status, after
 * reporting any failure.
 */
#ifndef FERRY_CTL_CMD_USERS_H
#define FERRY_CTL_CMD_USERS_H

struct args;
struct ctl;

int cmd_user_add(struct ctl *c, const struct args *a);
int cmd_user_del(struct ctl *c, const struct args *a);
int cmd_user_list(struct ctl *c, const struct args *a);
int cmd_revoke(struct ctl *c, const struct args *a);
int cmd_unrevoke(struct ctl *c, const struct args *a);

#endif
