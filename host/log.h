/* Logging to stderr or syslog, with levels and rate limiting. */
#ifndef TTPD_LOG_H
#define TTPD_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "ttpd/lifter.h" /* TTPD_LOG_* levels */

enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

void log_init(const char *progname, enum log_target target, int level);
void log_set_level(int level);
/* The syslog facility (LOG_DAEMON by default) of the next log_init(). */
void log_set_facility(int facility);
int log_level(void);
/* Parse "err", "warning", "notice", "info", "debug"; -1 if unknown. */
int log_level_from_name(const char *name);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * A rate limiter for one repeated complaint: at most `burst` lines per
 * `interval_s` seconds; suppressed lines are counted and reported with the
 * next line that gets through.
 */
struct log_ratelimit {
	int interval_s;
	int burst;
	int64_t window_start;
	int in_window;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(interval, burst) { (interval), (burst), 0, 0, 0 }

void log_limited(struct log_ratelimit *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(TTPD_LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(TTPD_LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(TTPD_LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(TTPD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(TTPD_LOG_DEBUG, __VA_ARGS__)

#endif
