/*
 * Crash attribution: which plugin code is running on this thread, and a
 * fatal-signal handler that names it before the process dies.
 *
 * Every call from the host into plugin code (entry, init, rule_prepare,
 * rule_release, handle, destroy) is bracketed by crash_enter() and
 * crash_leave().  On SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGABRT the handler
 * writes one line with write(2) only (async-signal-safe), e.g.
 *   ttpd: fatal signal 11 (SIGSEGV) in plugin canary (/usr/lib/ttpd/
 *   plugins/canary.so) during handle() of a command event
 * then restores the default action and re-raises, so the process still
 * dumps core where the system allows it.
 */
#ifndef TTPD_CRASH_H
#define TTPD_CRASH_H

#include <stddef.h>

struct crash_scope {
	const char *plugin;	/* plugin name (as configured or declared) */
	const char *path;	/* its file, or NULL */
	const char *call;	/* "init", "handle", ... */
	const char *kind;	/* source kind of the event, or NULL */
	struct crash_scope *prev;
};

/* Enter plugin code on this thread; s lives on the caller's stack. */
void crash_enter(struct crash_scope *s, const char *plugin, const char *path,
    const char *call, const char *kind);
/* Leave it again (s must be the innermost scope). */
void crash_leave(struct crash_scope *s);
/* The innermost scope of the calling thread, or NULL outside plugins. */
const struct crash_scope *crash_current(void);

/*
 * Install the handler for the fatal signals, on an alternate stack for the
 * calling thread (so a stack overflow is reported too).  `progname`
 * starts the line.  Returns 0, or -1 if sigaction failed.
 */
int crash_install(const char *progname);

/*
 * The line the handler writes, into buf (always NUL-terminated, ends in
 * '\n'); async-signal-safe.  Returns its length.
 */
size_t crash_format(char *buf, size_t len, const char *progname, int sig,
    const struct crash_scope *s);

/* "SIGSEGV" etc. for the fatal signals and a few others; "signal" when
 * unknown.  Async-signal-safe. */
const char *crash_signame(int sig);

#endif
