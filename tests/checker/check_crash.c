/*
 * Crash attribution (host/crash.c): the line the handler writes, the
 * thread-local scope stack, and a real fault in a forked child: one line
 * naming the plugin, then death by the same signal.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

/* Built with --enable-sanitizers, the fatal signals still belong to the
 * code under test, not to ASan's handler. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0";
}

START_TEST(test_format_in_plugin)
{
	struct crash_scope s = { "canary", "/usr/lib/ttpd/plugins/canary.so",
	    "handle", "command", NULL };
	char buf[512];
	size_t n;

	n = crash_format(buf, sizeof buf, "ttpd", SIGSEGV, &s);
	ck_assert_str_eq(buf, "ttpd: fatal signal 11 (SIGSEGV) in plugin "
	    "canary (/usr/lib/ttpd/plugins/canary.so) during handle() of a "
	    "command event\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_format_variants)
{
	struct crash_scope s = { "x", NULL, "init", NULL, NULL };
	char buf[256];

	crash_format(buf, sizeof buf, "ttpd", SIGABRT, &s);
	ck_assert_str_eq(buf, "ttpd: fatal signal 6 (SIGABRT) in plugin x "
	    "during init()\n");
	crash_format(buf, sizeof buf, "ttpd", SIGBUS, NULL);
	ck_assert_str_eq(buf, "ttpd: fatal signal 7 (SIGBUS) outside plugin "
	    "code\n");
	/* one line, whatever a name contains */
	s.plugin = "a\nb\tc";
	crash_format(buf, sizeof buf, "ttpd", SIGILL, &s);
	ck_assert_str_eq(buf, "ttpd: fatal signal 4 (SIGILL) in plugin a?b?c "
	    "during init()\n");
	ck_assert_str_eq(crash_signame(SIGFPE), "SIGFPE");
	ck_assert_str_eq(crash_signame(SIGUSR1), "signal");
}
END_TEST

START_TEST(test_format_truncates)
{
	struct crash_scope s = { "plugin_with_a_long_name", "/a/long/path.so",
	    "handle", "command", NULL };
	char buf[24];
	size_t n;

	memset(buf, 'Z', sizeof buf);
	n = crash_format(buf, sizeof buf, "ttpd", SIGSEGV, &s);
	ck_assert_uint_eq(n, sizeof buf - 1);
	ck_assert_int_eq(buf[n], '\0');
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_uint_eq(crash_format(buf, 1, "ttpd", SIGSEGV, &s), 0);
	ck_assert_int_eq(buf[0], '\0');
}
END_TEST

static void *
other_thread(void *arg)
{
	(void)arg;
	return (void *)(uintptr_t)(crash_current() == NULL);
}

START_TEST(test_scopes_nest_per_thread)
{
	struct crash_scope outer, inner;
	pthread_t th;
	void *alone;

	ck_assert_ptr_null(crash_current());
	crash_enter(&outer, "a", "/a.so", "init", NULL);
	ck_assert_ptr_eq(crash_current(), &outer);
	crash_enter(&inner, "b", "/b.so", "handle", "session");
	ck_assert_ptr_eq(crash_current(), &inner);
	/* another thread is in no plugin */
	ck_assert_int_eq(pthread_create(&th, NULL, other_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(th, &alone), 0);
	ck_assert_ptr_eq(alone, (void *)1);
	crash_leave(&inner);
	ck_assert_ptr_eq(crash_current(), &outer);
	crash_leave(&outer);
	ck_assert_ptr_null(crash_current());
}
END_TEST

/*
 * Run body in a child with crash attribution installed, no core file and
 * stderr captured into buf; returns the child's wait status.
 */
static int
run_crashing_child(void (*body)(void), char *buf, size_t cap)
{
	struct rlimit no_core = { 0, 0 };
	int fds[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		if (crash_install("ttpd") != 0)
			_exit(3);
		body();
		_exit(4);	/* not reached */
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void
segfault_in_plugin(void)
{
	struct crash_scope s;
	/* NULL struct pointer, member at offset 8: a real fault */
	volatile int *volatile p = (volatile int *)(uintptr_t)8;

	crash_enter(&s, "boom", "/p/boom.so", "handle", "email");
	*p = 1;
}

static void
abort_in_plugin(void)
{
	struct crash_scope s;

	crash_enter(&s, "asserts", NULL, "rule_prepare", NULL);
	abort();
}

/* A real fault inside a scope, in a child: the line, then the signal. */
START_TEST(test_handler_names_plugin_and_reraises)
{
	char buf[1024];
	int status = run_crashing_child(segfault_in_plugin, buf, sizeof buf);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	    "child status 0x%x", status);
	ck_assert_str_eq(buf, "ttpd: fatal signal 11 (SIGSEGV) in plugin boom "
	    "(/p/boom.so) during handle() of a email event\n");
}
END_TEST

/* abort() in a plugin: SIGABRT is attributed and still kills. */
START_TEST(test_handler_abort)
{
	char buf[1024];
	int status = run_crashing_child(abort_in_plugin, buf, sizeof buf);

	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	ck_assert_str_eq(buf, "ttpd: fatal signal 6 (SIGABRT) in plugin "
	    "asserts during rule_prepare()\n");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("attribution");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_format_in_plugin);
	tcase_add_test(tc, test_format_variants);
	tcase_add_test(tc, test_format_truncates);
	tcase_add_test(tc, test_scopes_nest_per_thread);
	tcase_add_test(tc, test_handler_names_plugin_and_reraises);
	tcase_add_test(tc, test_handler_abort);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
