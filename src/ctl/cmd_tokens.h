/*
 * cmd_tokens — the commands that mint credentials from the settings in
 * force: token (a signaling join token) and credentials (what
 * /api/ice-servers returns); doc/ferryctl.8, and doc/http-api.md for the
 * formats.  Each takes the run and the command's parsed arguments and
 * returns the exit status, after reporting any failure.
 */
#ifndef FERRY_CTL_CMD_TOKENS_H
#define FERRY_CTL_CMD_TOKENS_H

struct args;
struct ctl;

int cmd_token(struct ctl *c, const struct args *a);
int cmd_credentials(struct ctl *c, const struct args *a);

#endif
