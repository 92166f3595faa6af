/*
 * log — one line per event, leading with the subject (the module or the
 * thing acted on) and, where there is one, the peer address:
 *
 *     2026-11-22T10:00:00Z warn turn 192.0.2.1:5000: allocate refused: quota
 *
 * Safe to call from any thread: each line is formatted into a local buffer
 * and written with a single write(2) (or syslog(3)).  Until log_open() is
 * called, lines go to stderr.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stddef.h>
#include <sys/socket.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/* target: "stderr", "syslog" or a file path (opened O_APPEND, created 0640).
 * Returns 0, or -1 with a reason in err.  Replaces the previous target only
 * on success, so a failed reopen keeps logging where it was. */
int log_open(const char *target, char *err, size_t errlen);
void log_set_level(int level);
int log_get_level(void);
void log_close(void);

/* peer may be NULL. */
void log_msg(int level, const char *subject, const struct sockaddr *peer,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(subj, peer, ...) log_msg(LOG_LVL_ERROR, subj, peer, __VA_ARGS__)
#define log_warn(subj, peer, ...)  log_msg(LOG_LVL_WARN, subj, peer, __VA_ARGS__)
#define log_info(subj, peer, ...)  log_msg(LOG_LVL_INFO, subj, peer, __VA_ARGS__)
#define log_debug(subj, peer, ...) \
	do { if (log_get_level() >= LOG_LVL_DEBUG) \
		log_msg(LOG_LVL_DEBUG, subj, peer, __VA_ARGS__); } while (0)

#endif
