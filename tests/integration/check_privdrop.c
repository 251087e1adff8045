/*
 * Privilege drop (daemon.user / daemon.group).  Needs root: as anyone
 * else the whole program reports SKIP (exit 77), never a pass.  The
 * running daemon's real, effective, saved and filesystem ids and its
 * groups are read from /proc/<pid>/status.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifefx.h"
#include "natsfx.h"
#include "testutil.h"

#define ROWS "SELECT count(*) FROM ttp_tag"

static uid_t nobody_uid;
static gid_t nobody_gid;
static const char *group_name;

/* "Uid:" / "Gid:" line: all four ids equal to want; "Groups:" line:
 * exactly want. */
static void
assert_ids(pid_t pid, const char *field, long want)
{
	char path[64], *text, *line, needle[32], expect[128];

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
	snprintf(needle, sizeof needle, "\n%s:", field);
	line = strstr(text, needle);
	ck_assert_msg(line != NULL, "no %s in %s", field, path);
	line++;
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(field, "Groups") == 0)
		snprintf(expect, sizeof expect, "Groups:\t%ld ", want);
	else
		snprintf(expect, sizeof expect, "%s:\t%ld\t%ld\t%ld\t%ld",
		    field, want, want, want, want);
	ck_assert_msg(strcmp(line, expect) == 0 || (strcmp(field,
	    "Groups") == 0 && strncmp(line, expect, strlen(expect) - 1) == 0 &&
	    line[strlen(expect) - 1] == '\0'), "%s: \"%s\", want \"%s\"",
	    path, line, expect);
	free(text);
}

static void
drop_to(struct fx *f, const char *user, const char *group)
{
	char set[512];

	/* the database directory belongs to the daemon's user, as with
	 * systemd's StateDirectory= */
	ck_assert(chown(f->dir, nobody_uid, nobody_gid) == 0);
	snprintf(set, sizeof set, "user = \"%s\"; group = \"%s\"; "
	    "stats_file = \"%s/stats.json\";", user, group, f->dir);
	lf_daemon_settings(f, set);
}

static void
check_dropped_and_tagging(struct fx *f)
{
	char path[1024], *env, *log;
	struct stat st;
	int i;

	fx_ttpd_start(f, 0, 1);
	assert_ids(f->ttpd_pid[0], "Uid", (long)nobody_uid);
	assert_ids(f->ttpd_pid[0], "Gid", (long)nobody_gid);
	assert_ids(f->ttpd_pid[0], "Groups", (long)nobody_gid);
	log = fx_ttpd_log(f, 0);
	ck_assert_msg(strstr(log, "privileges dropped: running as user ") !=
	    NULL, "%s", log);
	free(log);
	/* still tags and stores after the switch */
	for (i = 1; i <= 3; i++) {
		env = fx_session_env(i);
		fx_pub_str(f, "attacker.session.ended", env);
		free(env);
	}
	ck_assert_int_eq(fx_wait_count(f, ROWS, 3, 20), 3);
	/* the stats file is written by the unprivileged daemon */
	snprintf(path, sizeof path, "%s/stats.json", f->dir);
	(void)fx_health(f, "received");
	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(st.st_uid, nobody_uid);
	/* the database it created as root was handed over: a reload, which
	 * reopens it as nobody, works */
	snprintf(path, sizeof path, "%s/ttpd.db", f->dir);
	ck_assert(stat(path, &st) == 0);
	ck_assert_int_eq(st.st_uid, nobody_uid);
	kill(f->ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(f, 0, "reloaded", 20));
	log = fx_ttpd_log(f, 0);
	ck_assert_msg(strstr(log, "reload failed") == NULL, "%s", log);
	free(log);
	ck_assert_int_eq(fx_ttpd_stop(f, 0, SIGTERM), 0);
}

START_TEST(test_drop_by_name)
{
	struct fx f;

	fx_setup(&f, NULL, NULL);
	drop_to(&f, "nobody", group_name);
	check_dropped_and_tagging(&f);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_drop_by_id)
{
	struct fx f;
	char uid[32], gid[32];

	fx_setup(&f, NULL, NULL);
	snprintf(uid, sizeof uid, "%ld", (long)nobody_uid);
	snprintf(gid, sizeof gid, "%ld", (long)nobody_gid);
	drop_to(&f, uid, gid);
	check_dropped_and_tagging(&f);
	fx_teardown(&f);
}
END_TEST

/* Detached (no -f): the pidfile is written and locked as root, then the
 * daemon drops to nobody; it still stops cleanly. */
START_TEST(test_drop_detached)
{
	struct fx f;
	char pidfile[1024], *text;
	const char *args[] = { "-c", NULL, NULL };
	long pid;
	int i;

	fx_setup(&f, NULL, NULL);
	drop_to(&f, "nobody", group_name);
	args[1] = f.conf;
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, NULL), 0);
	snprintf(pidfile, sizeof pidfile, "%s/ttpd.pid", f.dir);
	text = tu_read_file(pidfile, NULL);
	ck_assert(text != NULL);
	pid = strtol(text, NULL, 10);
	free(text);
	ck_assert_int_gt(pid, 1);
	/* up once it beats; its counters include the plugin */
	ck_assert_int_ge(fx_health(&f, "received"), 0);
	assert_ids((pid_t)pid, "Uid", (long)nobody_uid);
	assert_ids((pid_t)pid, "Gid", (long)nobody_gid);
	assert_ids((pid_t)pid, "Groups", (long)nobody_gid);
	/* a second instance still finds the pidfile locked */
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, &text), 1);
	ck_assert_msg(strstr(text, "another ttpd is already running") !=
	    NULL, "%s", text);
	free(text);
	ck_assert_int_eq(kill((pid_t)pid, SIGTERM), 0);
	for (i = 0; i < 300 && kill((pid_t)pid, 0) == 0; i++)
		usleep(100000);
	ck_assert_msg(kill((pid_t)pid, 0) != 0, "ttpd %ld did not stop", pid);
	fx_teardown(&f);
}
END_TEST

/* Run ttpd -f as nobody (forked, ids switched before exec). */
static int
run_as_nobody(const char *conf, char **err)
{
	char bin[1024], epath[] = "/tmp/ttpd-test-err.XXXXXX";
	int efd, status;
	pid_t pid;
	off_t len;

	snprintf(bin, sizeof bin, "%s/host/ttpd", tu_env("TTPD_BUILDDIR"));
	ck_assert((efd = mkstemp(epath)) >= 0);
	unlink(epath);
	if ((pid = fork()) == 0) {
		dup2(efd, 2);
		if (setgroups(1, &nobody_gid) != 0 ||
		    setgid(nobody_gid) != 0 || setuid(nobody_uid) != 0)
			_exit(126);
		execl(bin, bin, "-f", "-c", conf, (char *)NULL);
		_exit(127);
	}
	ck_assert(pid > 0);
	ck_assert(waitpid(pid, &status, 0) == pid);
	len = lseek(efd, 0, SEEK_END);
	*err = calloc(1, (size_t)len + 1);
	ck_assert(pread(efd, *err, (size_t)len, 0) == len);
	close(efd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_refused_when_not_root)
{
	struct fx f;
	char *err;

	fx_setup(&f, NULL, NULL);
	ck_assert(chown(f.dir, nobody_uid, nobody_gid) == 0);
	ck_assert(chown(f.conf, nobody_uid, nobody_gid) == 0);
	/* not root and not that user: refused before anything starts */
	lf_daemon_settings(&f, "user = \"root\";");
	ck_assert(chown(f.conf, nobody_uid, nobody_gid) == 0);
	ck_assert_int_eq(run_as_nobody(f.conf, &err), 1);
	ck_assert_msg(strstr(err, "is not root, so it cannot switch") !=
	    NULL, "%s", err);
	free(err);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_unknown_user_or_group)
{
	char *dir = tu_mkdtemp(), *conf, *err, rules[1024];
	const char *args[] = { "-f", "-c", NULL, NULL };

	snprintf(rules, sizeof rules, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	conf = tu_write_conf(dir, rules, "rule_engine",
	    "daemon: { user = \"no-such-user-ttpd\"; };");
	args[2] = conf;
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, &err), 1);
	ck_assert_msg(strstr(err, "daemon.user \"no-such-user-ttpd\": no such "
	    "user") != NULL, "%s", err);
	free(err);
	free(conf);
	conf = tu_write_conf(dir, rules, "rule_engine",
	    "daemon: { user = \"nobody\"; group = \"no-such-group-ttpd\"; };");
	args[2] = conf;
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, &err), 1);
	ck_assert_msg(strstr(err, "daemon.group \"no-such-group-ttpd\": no "
	    "such group") != NULL, "%s", err);
	free(err);
	free(conf);
	conf = tu_write_conf(dir, rules, "rule_engine",
	    "daemon: { group = \"nogroup\"; };");
	args[2] = conf;
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, &err), 1);
	ck_assert_msg(strstr(err, "daemon.group is set without daemon.user") !=
	    NULL, "%s", err);
	free(err);
	free(conf);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	struct passwd *pw;
	struct group *gr;
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		printf("SKIP: the privilege drop tests need root (CI runs as "
		    "root)\n");
		return 77;
	}
	if ((pw = getpwnam("nobody")) == NULL) {
		printf("SKIP: no user nobody\n");
		return 77;
	}
	nobody_uid = pw->pw_uid;
	if ((gr = getgrnam("nogroup")) != NULL) {
		group_name = "nogroup";
		nobody_gid = gr->gr_gid;
	} else if ((gr = getgrgid(pw->pw_gid)) != NULL) {
		group_name = strdup(gr->gr_name);
		nobody_gid = gr->gr_gid;
	} else {
		printf("SKIP: no group for nobody\n");
		return 77;
	}
	s = suite_create("privdrop");
	tc = tcase_create("privdrop");
	fx_init_runner();
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_drop_by_name);
	tcase_add_test(tc, test_drop_by_id);
	tcase_add_test(tc, test_drop_detached);
	tcase_add_test(tc, test_refused_when_not_root);
	tcase_add_test(tc, test_unknown_user_or_group);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
