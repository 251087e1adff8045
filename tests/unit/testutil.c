#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

char *
tu_mkdtemp(void)
{
	char tmpl[] = "/tmp/ttpd-test.XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_msg(d != NULL, "mkdtemp: %s", strerror(errno));
	return strdup(d);
}

void
tu_rmtree(const char *dir)
{
	char cmd[1024];

	if (dir == NULL || strncmp(dir, "/tmp/ttpd-test.", 15) != 0 ||
	    strchr(dir, '\'') != NULL)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

void
tu_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert(fputs(text, fp) >= 0);
	ck_assert(fclose(fp) == 0);
}

char *
tu_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = realloc(buf, cap + 1);
			ck_assert(buf != NULL);
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

const char *
tu_env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && *v != '\0', "environment variable %s is "
	    "not set (run the tests through make check)", name);
	return v;
}

/* Read an fd to EOF into a malloc'd string. */
static char *
slurp_fd(int fd)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;

	for (;;) {
		if (cap - n < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = realloc(buf, cap + 1);
			ck_assert(buf != NULL);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
}

int
tu_run_ttpd(const char *const *args, char **out, char **errout)
{
	return tu_run("host/ttpd", args, out, errout);
}

int
tu_run(const char *prog, const char *const *args, char **out, char **errout)
{
	char bin[1024], outpath[] = "/tmp/ttpd-test-out.XXXXXX",
	    errpath[] = "/tmp/ttpd-test-err.XXXXXX";
	const char *argv[64];
	int ofd, efd, status;
	size_t i;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/%s", tu_env("TTPD_BUILDDIR"), prog);
	argv[0] = bin;
	for (i = 0; args[i] != NULL && i < 62; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ofd = mkstemp(outpath);
	efd = mkstemp(errpath);
	ck_assert(ofd >= 0 && efd >= 0);
	unlink(outpath);
	unlink(errpath);
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
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	if (out != NULL)
		*out = slurp_fd(ofd);
	if (errout != NULL)
		*errout = slurp_fd(efd);
	close(ofd);
	close(efd);
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

char *
tu_write_conf(const char *dir, const char *rules_dir, const char *plugins,
    const char *extra)
{
	char path[1024], load[4096] = "", *text, *list, *tok, *save = NULL;
	size_t used = 0;

	list = strdup(plugins);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		used += (size_t)snprintf(load + used, sizeof load - used,
		    "%s{ name = \"%s\"; }", used > 0 ? ", " : "", tok);
	free(list);
	snprintf(path, sizeof path, "%s/ttpd.conf", dir);
	ck_assert(asprintf(&text,
	    "store: { path = \"%s/ttpd.db\"; };\n"
	    "rules: { dirs = [ \"%s\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; load = ( %s ); };\n"
	    "log: { level = \"warning\"; };\n"
	    "%s\n", dir, rules_dir, tu_env("TTPD_BUILDDIR"), load,
	    extra != NULL ? extra : "") > 0);
	tu_write_file(path, text);
	free(text);
	return strdup(path);
}
