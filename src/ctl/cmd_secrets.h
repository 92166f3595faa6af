/*
 * cmd_secrets — the commands for shared secrets: secret add, secret del,
 * secret list (doc/ferryctl.8).  Each takes the run and the command's
 * parsed arguments and returns the exit status, after reporting any
 * failure.
 */
#ifndef FERRY_CTL_CMD_SECRETS_H
#define FERRY_CTL_CMD_SECRETS_H

struct args;
struct ctl;

int cmd_secret_add(struct ctl *c, const struct args *a);
int cmd_secret_del(struct ctl *c, const struct args *a);
int cmd_secret_list(struct ctl *c, const struct args *a);

#endif
