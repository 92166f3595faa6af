/* log — see log.h. */
#include "core/log.h"
#include "core/net.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum { TARGET_STDERR, TARGET_SYSLOG, TARGET_FILE };

static atomic_int cur_level = LOG_LVL_INFO;
/* The target changes only on the main thread (start-up, reload); a lock
 * keeps a writer on another thread from using a descriptor being closed. */
static pthread_mutex_t target_lock = PTHREAD_MUTEX_INITIALIZER;
static int target = TARGET_STDERR;
static int log_fd = -1;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *s)
{
	size_t i;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *log_level_name(int level)
{
	if (level < 0 || level > LOG_LVL_DEBUG)
		return "?";
	return level_names[level];
}

void log_set_level(int level)
{
	atomic_store(&cur_level, level);
}

int log_get_level(void)
{
	return atomic_load(&cur_level);
}

int log_open(const char *t, char *err, size_t errlen)
{
	int fd = -1, nt;

	if (strcmp(t, "stderr") == 0) {
		nt = TARGET_STDERR;
	} else if (strcmp(t, "syslog") == 0) {
		nt = TARGET_SYSLOG;
	} else {
		nt = TARGET_FILE;
		fd = open(t, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open log file %s: %s", t,
				 strerror(errno));
			return -1;
		}
	}
	pthread_mutex_lock(&target_lock);
	if (target == TARGET_SYSLOG && nt != TARGET_SYSLOG)
		closelog();
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	if (nt == TARGET_SYSLOG && target != TARGET_SYSLOG)
		openlog("ferryd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	target = nt;
	pthread_mutex_unlock(&target_lock);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&target_lock);
	if (target == TARGET_SYSLOG)
		closelog();
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	target = TARGET_STDERR;
	pthread_mutex_unlock(&target_lock);
}

void log_msg(int level, const char *subject, const struct sockaddr *peer,
	     const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048], addr[NET_ADDRSTRLEN];
	size_t n = 0, head;
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int r;

	if (level > log_get_level())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	head = n;
	r = snprintf(line + n, sizeof(line) - n, "%s %s", log_level_name(level),
		     subject ? subject : "ferryd");
	n += r > 0 ? (size_t)r : 0;
	if (peer && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, " %s",
			     net_fmt(peer, addr, sizeof(addr)));
		n += r > 0 ? (size_t)r : 0;
	}
	if (n < sizeof(line) - 2) {
		line[n++] = ':';
		line[n++] = ' ';
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		n += r > 0 ? (size_t)r : 0;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';

	pthread_mutex_lock(&target_lock);
	if (target == TARGET_SYSLOG) {
		/* syslog stamps its own time; drop ours. */
		line[n - 1] = '\0';
		syslog(prio[level < 0 ? 0 : level > 3 ? 3 : level], "%s", line + head);
	} else {
		int fd = target == TARGET_FILE ? log_fd : STDERR_FILENO;
		ssize_t w = write(fd, line, n);
		(void)w;
	}
	pthread_mutex_unlock(&target_lock);
}
