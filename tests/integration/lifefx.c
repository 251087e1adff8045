/* Helpers of the daemon-life tests (see lifefx.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifefx.h"
#include "testutil.h"

static char *
slurp(int fd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap * 2 + 4096 + 1;
			buf = realloc(buf, cap);
			ck_assert(buf != NULL);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int
lf_run(const char *prog, const char *const *args, char **out, char **err)
{
	char bin[1024], opath[] = "/tmp/ttpd-test-out.XXXXXX",
	    epath[] = "/tmp/ttpd-test-err.XXXXXX";
	const char *argv[64];
	int ofd, efd, status;
	size_t i;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/%s", tu_env("TTPD_BUILDDIR"), prog);
	argv[0] = bin;
	for (i = 0; args[i] != NULL && i < 62; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ofd = mkstemp(opath);
	efd = mkstemp(epath);
	ck_assert(ofd >= 0 && efd >= 0);
	unlink(opath);
	unlink(epath);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		ck_assert(errno == EINTR);
	if (out != NULL)
		*out = slurp(ofd);
	if (err != NULL)
		*err = slurp(efd);
	close(ofd);
	close(efd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
lf_daemon_settings(struct fx *f, const char *settings)
{
	char *text = tu_read_file(f->conf, NULL), *p, *nt;

	ck_assert(text != NULL);
	p = strstr(text, "daemon: {");
	ck_assert(p != NULL);
	p += strlen("daemon: {");
	ck_assert(asprintf(&nt, "%.*s %s %s", (int)(p - text), text, settings,
	    p) > 0);
	tu_write_file(f->conf, nt);
	free(nt);
	free(text);
}
