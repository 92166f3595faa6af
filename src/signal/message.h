/*
 * message — the table of the messages a client sends (doc/signaling.md §4)
 * and the one path each of its text messages takes: checked against the
 * table in the order of §6 (JSON, shape, type, state, members), then
 * carried out by the row's handler or, for the relayed types, by the one
 * relay the row describes.
 */
#ifndef FERRY_SIGNAL_MESSAGE_H
#define FERRY_SIGNAL_MESSAGE_H

#include <stddef.h>

#include "signal/state.h"

/* One text message of open connection c (rate limiting is the caller's).
 * Every refusal is answered with its error code here. */
void msg_text(struct sig *s, struct sig_conn *c, const char *text, size_t len);

#endif
