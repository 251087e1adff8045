/* Logging: stderr with a timestamp-free "ttpd: level: msg" line (systemd
 * adds time), or syslog. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_progname = "ttpd";
static enum log_target log_target_now = LOG_TARGET_STDERR;
static int log_threshold = TTPD_LOG_INFO;
static int log_facility = LOG_DAEMON;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[TTPD_LOG_ERR] = "err",	/* config.c also takes "error" */
	[TTPD_LOG_WARNING] = "warning",
	[TTPD_LOG_NOTICE] = "notice",
	[TTPD_LOG_INFO] = "info",
	[TTPD_LOG_DEBUG] = "debug",
};

void
log_init(const char *progname, enum log_target target, int level)
{
	if (progname != NULL)
		log_progname = progname;
	if (log_target_now == LOG_TARGET_SYSLOG && target != LOG_TARGET_SYSLOG)
		closelog();
	log_target_now = target;
	log_threshold = level;
	if (target == LOG_TARGET_SYSLOG)
		openlog(log_progname, LOG_PID | LOG_NDELAY, log_facility);
}

void
log_set_facility(int facility)
{
	log_facility = facility;
}

void
log_set_level(int level)
{
	log_threshold = level;
}

int
log_level(void)
{
	return log_threshold;
}

int
log_level_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (level_names[i] != NULL && strcmp(level_names[i], name) == 0)
			return (int)i;
	return -1;
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char buf[2048];

	if (level > log_threshold)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	if (log_target_now == LOG_TARGET_SYSLOG) {
		syslog(level, "%s", buf);
		return;
	}
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s: %s: %s\n", log_progname,
	    level >= TTPD_LOG_ERR && level <= TTPD_LOG_DEBUG ?
	    level_names[level] : "log", buf);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;
	char buf[2048];

	if (level > log_threshold)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (rl->window_start == 0 ||
	    ts.tv_sec - rl->window_start >= rl->interval_s) {
		rl->window_start = ts.tv_sec;
		rl->in_window = 0;
	}
	if (rl->in_window >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->in_window++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (rl->suppressed > 0) {
		log_msg(level, "%s (%llu similar messages suppressed)", buf,
		    (unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	} else
		log_msg(level, "%s", buf);
}
