/*
 * ctl — ferryctl, the operator's tool for ferry's database, as a library
 * function so that tests can run it in-process.
 *
 *     ferryctl [-c FILE | -d DATABASE] COMMAND ...
 *
 * The commands and their output are described in
 * doc/ferryctl.8.  Where the database and realm come from:
 *   -c FILE      conf_load(FILE): its `database` and `realm`.
 *   -d DATABASE  that file; the realm (needed by `user add` only) and the
 *                default room capacity come from the default config file
 *                (conf_default_path()) when it exists, else from conf's
 *                built-in defaults (realm "ferry", rooms of 16 peers).
 *   neither      the default config file when it exists, else conf's
 *                built-in defaults, database included
 *                (FERRY_LOCALSTATEDIR "/lib/ferry/ferry.db").
 * A config file that exists but does not load is an error rather than a
 * silent fall-back: keys made for the wrong realm would never match.
 * ctl/setup.c applies these rules; ctl/ctl.c parses the command line and
 * dispatches to the commands of ctl/cmd_*.c.
 */
#ifndef FERRY_CTL_H
#define FERRY_CTL_H

/* Run one ferryctl command.  argv[0] is the program name; argv is not
 * modified.  Results go to stdout; on failure exactly one line
 * "ferryctl: <what went wrong>" goes to stderr.  Returns the exit status:
 * 0 on success (and for --help), 1 otherwise.  Reads a password from stdin
 * (without echo when it is a terminal) for `user add` without --password.
 * Never calls exit(). */
int ctl_main(int argc, char **argv);

#endif
