/*
 * Crash attribution (design J.8, anchors L.4 b): a thread-local stack of
 * "which plugin is running" and a fatal-signal handler that says so in one
 * line, written with write(2) only, before re-raising the signal.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

/* initial-exec: no lazy TLS allocation, so reading it in a signal
 * handler is safe (this code is linked into the executable). */
static _Thread_local struct crash_scope *current
    __attribute__((tls_model("initial-exec")));

static const char *crash_progname = "ttpd";

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
    SIGABRT };

void
crash_enter(struct crash_scope *s, const char *plugin, const char *path,
    const char *call, const char *kind)
{
	s->plugin = plugin;
	s->path = path;
	s->call = call;
	s->kind = kind;
	s->prev = current;
	/* the handler must never see a half-linked scope */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	current = s;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void
crash_leave(struct crash_scope *s)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	current = s->prev;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

const struct crash_scope *
crash_current(void)
{
	return current;
}

const char *
crash_signame(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGABRT:
		return "SIGABRT";
	case SIGKILL:
		return "SIGKILL";
	case SIGALRM:
		return "SIGALRM";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "signal";
	}
}

/* A tiny append-only writer: no stdio, no malloc. */
struct line {
	char *buf;
	size_t len, used;
};

static void
put(struct line *l, const char *s)
{
	if (s == NULL)
		s = "(null)";
	for (; *s != '\0' && l->used + 2 < l->len; s++)
		/* keep it one line whatever a plugin put in its name */
		l->buf[l->used++] = ((unsigned char)*s < 0x20) ? '?' : *s;
}

static void
put_uint(struct line *l, unsigned long v)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof digits);
	while (n > 0 && l->used + 2 < l->len)
		l->buf[l->used++] = digits[--n];
}

size_t
crash_format(char *buf, size_t len, const char *progname, int sig,
    const struct crash_scope *s)
{
	struct line l = { buf, len, 0 };

	if (len < 2) {
		if (len == 1)
			buf[0] = '\0';
		return 0;
	}
	put(&l, progname);
	put(&l, ": fatal signal ");
	put_uint(&l, (unsigned long)sig);
	put(&l, " (");
	put(&l, crash_signame(sig));
	put(&l, ")");
	if (s == NULL) {
		put(&l, " outside plugin code");
	} else {
		put(&l, " in plugin ");
		put(&l, s->plugin);
		if (s->path != NULL) {
			put(&l, " (");
			put(&l, s->path);
			put(&l, ")");
		}
		put(&l, " during ");
		put(&l, s->call);
		put(&l, "()");
		if (s->kind != NULL) {
			put(&l, " of a ");
			put(&l, s->kind);
			put(&l, " event");
		}
	}
	buf[l.used++] = '\n';
	buf[l.used] = '\0';
	return l.used;
}

static void
fatal_handler(int sig)
{
	char buf[1024];
	size_t n, off = 0;
	ssize_t w;

	n = crash_format(buf, sizeof buf, crash_progname, sig, current);
	while (off < n) {
		w = write(STDERR_FILENO, buf + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	/* SA_RESETHAND already restored SIG_DFL; the signal is blocked
	 * while we run and is delivered, with its default action (core),
	 * as soon as we return.  A fault re-executes and faults again. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int
crash_install(const char *progname)
{
	static char altstack[65536];
	struct sigaction sa;
	stack_t ss;
	size_t i;

	if (progname != NULL)
		crash_progname = progname;
	memset(&ss, 0, sizeof ss);
	ss.ss_sp = altstack;
	ss.ss_size = sizeof altstack;
	(void)sigaltstack(&ss, NULL);	/* best effort: overflow unreported */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fatal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
	for (i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		if (sigaction(fatal_signals[i], &sa, NULL) == -1)
			return -1;
	return 0;
}
