/*
 * setup — where one ferryctl run takes its settings and database from
 * (the rules are in ctl.h): the config file given with -c, else the
 * default one, else conf's built-in defaults (ferryd.conf(5)), which
 * ferryctl never spells out itself.
 */
#ifndef FERRY_CTL_SETUP_H
#define FERRY_CTL_SETUP_H

struct ferry_conf;
struct store;

/* One run.  ctl_main() fills conf_path and db_arg from the command line
 * and zeroes the rest; setup_free() releases what the functions below
 * made. */
struct ctl {
	const char *conf_path;          /* -c, or NULL */
	const char *db_arg;             /* -d, or NULL */
	struct ferry_conf *conf;        /* the settings in force, or NULL
					 * while not read (with -d) */
	const char *database;           /* after setup_database() */
	struct store *st;               /* after setup_store() */
};

/* Decide the database path; with -d the config is read only when a
 * command asks for settings (setup_settings()), so a broken config file
 * does not stop `-d DB room list`.  Returns 0, or -1 after reporting. */
int setup_database(struct ctl *c);
/* The settings in force: the file given with -c, else the default file
 * when it exists, else the built-in defaults.  Owned by c; NULL after
 * reporting when a config file exists but does not load. */
const struct ferry_conf *setup_settings(struct ctl *c);
/* Open c->database into c->st.  Returns 0, or -1 after reporting. */
int setup_store(struct ctl *c);
void setup_free(struct ctl *c);

/* The built-in default of the directive key as written in a config file
 * (a static string), or "" when the key has none. */
const char *setup_builtin(const char *key);

#endif
