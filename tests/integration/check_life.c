/*
 * Daemon life: ttpd -T (the effective configuration parses back, every
 * plugin's status), per-plugin counters in the heartbeat and in
 * daemon.stats_file, `ttpctl status` (running, stopped, gone, stale,
 * missing, unset).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "lifefx.h"
#include "natsfx.h"
#include "testutil.h"

#define ROWS "SELECT count(*) FROM ttp_tag"

/* Everything but the first and the last line (they name the file). */
static char *
middle(const char *text)
{
	const char *a = strchr(text, '\n'), *b = text + strlen(text);

	ck_assert(a != NULL);
	while (b > a + 1 && b[-1] == '\n')
		b--;
	while (b > a + 1 && b[-1] != '\n')
		b--;
	return strndup(a + 1, (size_t)(b - a - 1));
}

START_TEST(test_show_config_parses_back)
{
	char *dir = tu_mkdtemp(), *conf, *out, *err, *out2, path[1024],
	    rules[1024], *m1, *m2;
	const char *args[8];
	int rc;

	snprintf(rules, sizeof rules, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	conf = tu_write_conf(dir, rules, "rule_engine,canary",
	    "daemon: { stats_file = \"stats.json\"; user = \"\"; };");
	args[0] = "-c"; args[1] = conf; args[2] = "-T"; args[3] = NULL;
	rc = tu_run("host/ttpd", args, &out, &err);
	ck_assert_msg(rc == 0, "ttpd -T: %d: %s", rc, err);
	free(err);
	/* every section, defaults included, relative paths resolved */
	ck_assert_ptr_nonnull(strstr(out, "store: {"));
	ck_assert_ptr_nonnull(strstr(out, "\tbusy_timeout_ms = 30000;"));
	ck_assert_ptr_nonnull(strstr(out, "\tfacility = \"daemon\";"));
	ck_assert_ptr_nonnull(strstr(out, "\tlevel = \"warning\";"));
	ck_assert_ptr_nonnull(strstr(out, "\tqueue_size = 65536;"));
	ck_assert_ptr_nonnull(strstr(out, "\tpidfile = \"/run/ttpd.pid\";"));
	snprintf(path, sizeof path, "\tstats_file = \"%s/stats.json\";", dir);
	ck_assert_ptr_nonnull(strstr(out, path));
	ck_assert_ptr_nonnull(strstr(out, "\tuser = \"\";"));
	/* plugin status, as comments */
	ck_assert_ptr_nonnull(strstr(out,
	    "# plugin status (2 configured, 2 initialised)"));
	ck_assert_ptr_nonnull(strstr(out, "#   rule_engine: init ok, path "));
	ck_assert_ptr_nonnull(strstr(out, "#   canary: init ok, path "));
	ck_assert_ptr_nonnull(strstr(out, "kinds canary_fingerprint, "));
	ck_assert_ptr_nonnull(strstr(out, ", ABI 1."));

	/* parses back: -t accepts it, and -T of it prints the same */
	snprintf(path, sizeof path, "%s/effective.conf", dir);
	tu_write_file(path, out);
	args[1] = path; args[2] = "-t";
	rc = tu_run("host/ttpd", args, NULL, &err);
	ck_assert_msg(rc == 0, "ttpd -t of the -T output: %d: %s", rc, err);
	free(err);
	args[2] = "-T";
	ck_assert_int_eq(tu_run("host/ttpd", args, &out2, NULL), 0);
	m1 = middle(out);
	m2 = middle(out2);
	ck_assert_str_eq(m1, m2);
	free(m1);
	free(m2);
	free(out);
	free(out2);

	/* -d is log.level "debug", whatever the file says */
	args[1] = conf; args[2] = "-d"; args[3] = "-T"; args[4] = NULL;
	ck_assert_int_eq(tu_run("host/ttpd", args, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "\tlevel = \"debug\";"));
	free(out);
	args[2] = "-T"; args[3] = NULL;

	/* a plugin that does not load: status "init failed", exit 1, the
	 * configuration is still printed */
	free(conf);
	conf = tu_write_conf(dir, rules, "rule_engine,nosuch", NULL);
	args[1] = conf;
	rc = tu_run("host/ttpd", args, &out, &err);
	ck_assert_int_eq(rc, 1);
	ck_assert_ptr_nonnull(strstr(out, "store: {"));
	ck_assert_ptr_nonnull(strstr(out, "#   nosuch: init failed"));
	ck_assert_ptr_nonnull(strstr(out, "has problems"));
	ck_assert_ptr_nonnull(strstr(err, "nosuch"));
	free(out);
	free(err);

	/* -T is its own mode */
	args[2] = "-T"; args[3] = "-t"; args[4] = NULL;
	ck_assert_int_eq(tu_run("host/ttpd", args, NULL, NULL), 2);
	free(conf);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

static int64_t
jint(const ttpd_value *o, const char *key)
{
	int64_t v = -1;

	ck_assert_msg(jv_get_int(jv_object_get(o, key), &v) == TTPD_OK,
	    "no integer %s", key);
	return v;
}

/* plugins[] entry named name in a heartbeat payload / stats object */
static const ttpd_value *
plugin_entry(const ttpd_value *o, const char *name)
{
	const ttpd_value *arr = jv_object_get(o, "plugins");
	size_t i;

	ck_assert(jv_type(arr) == TTPD_VT_ARRAY);
	for (i = 0; i < jv_array_size(arr); i++)
		if (strcmp(jv_string(jv_object_get(jv_array_get(arr, i),
		    "name")), name) == 0)
			return jv_array_get(arr, i);
	ck_abort_msg("no plugin %s", name);
	return NULL;
}

static int
status(struct fx *f, const char *opt, char **out, char **err)
{
	const char *args[] = { "-c", f->conf, "status", opt, NULL };

	return tu_run("host/ttpctl", args, out, err);
}

static void
write_stats(const char *path, long pid, double ts)
{
	char text[512];

	snprintf(text, sizeof text, "{\"worker\":\"ttp\",\"ts\":%.3f,"
	    "\"pid\":%ld,\"state\":\"running\",\"heartbeat_s\":1,"
	    "\"plugins\":[]}\n", ts, pid);
	tu_write_file(path, text);
}

START_TEST(test_counters_heartbeat_and_status)
{
	struct fx f;
	char stats[1024], set[1200], *beat, *out, *err, *env;
	ttpd_value *v;
	const ttpd_value *p;
	pid_t gone;
	int i;

	fx_setup(&f, NULL, NULL);
	snprintf(stats, sizeof stats, "%s/stats.json", f.dir);
	snprintf(set, sizeof set, "stats_file = \"%s\";", stats);
	lf_daemon_settings(&f, set);
	fx_ttpd_start(&f, 0, 1);
	for (i = 1; i <= 5; i++) {
		env = fx_session_env(i);
		fx_pub_str(&f, "attacker.session.ended", env);
		free(env);
	}
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 5, 20), 5);

	/* the heartbeat carries the plugin's counters */
	beat = fx_beat(&f);
	v = jv_parse(beat, strlen(beat), NULL, 0);
	ck_assert(v != NULL);
	p = plugin_entry(jv_object_get(v, "payload"), "rule_engine");
	ck_assert_int_eq(jint(p, "events"), 5);
	ck_assert_int_eq(jint(p, "tags"), 5);
	ck_assert_int_eq(jint(p, "errors"), 0);
	ck_assert_int_gt(jint(p, "ns_spent"), 0);
	ck_assert_int_gt(jint(p, "rules"), 0);
	jv_decref(v);
	free(beat);

	/* the stats file has them too; ttpctl status prints them */
	ck_assert_int_eq(status(&f, NULL, &out, &err), 0);
	ck_assert_msg(strstr(out, ": running, pid ") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "PLUGIN"));
	ck_assert_ptr_nonnull(strstr(out, "rule_engine"));
	ck_assert_ptr_nonnull(strstr(out, "5 inserted"));
	free(out);
	free(err);
	ck_assert_int_eq(status(&f, "--json", &out, NULL), 0);
	v = jv_parse(out, strlen(out), NULL, 0);
	ck_assert(v != NULL);
	ck_assert_str_eq(jv_string(jv_object_get(v, "state")), "running");
	ck_assert_int_eq(jint(v, "pid"), f.ttpd_pid[0]);
	p = plugin_entry(v, "rule_engine");
	ck_assert_int_eq(jint(p, "events"), 5);
	ck_assert_int_eq(jint(p, "tags"), 5);
	jv_decref(v);
	free(out);

	/* a reload keeps counting from where it was */
	kill(f.ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(&f, 0, "reloaded", 20));
	env = fx_session_env(6);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 6, 20), 6);
	beat = fx_beat(&f);
	v = jv_parse(beat, strlen(beat), NULL, 0);
	ck_assert_int_eq(jint(plugin_entry(jv_object_get(v, "payload"),
	    "rule_engine"), "events"), 6);
	jv_decref(v);
	free(beat);

	/* the file keeps coming while the bus is down */
	fx_nats_stop(&f, SIGTERM);
	for (i = 0; i < 100; i++) {
		char *text = tu_read_file(stats, NULL);

		v = text != NULL ? jv_parse(text, strlen(text), NULL, 0) : NULL;
		free(text);
		if (v != NULL) {
			int conn = 1;

			jv_get_bool(jv_object_get(v, "bus_connected"), &conn);
			jv_decref(v);
			if (!conn)
				break;
		}
		usleep(100000);
	}
	ck_assert_msg(i < 100, "no stats file with bus_connected false");
	ck_assert_int_eq(status(&f, NULL, &out, NULL), 0);
	ck_assert_msg(strstr(out, "bus disconnected") != NULL, "%s", out);
	free(out);
	fx_nats_start(&f);
	ck_assert_int_ge(fx_health(&f, "received"), 6);

	/* stopped: the last counters, exit 5 */
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	ck_assert_int_eq(status(&f, NULL, &out, &err), 5);
	ck_assert_msg(strstr(err, "ttpd is not running") != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, ": stopped, pid "));
	ck_assert_ptr_nonnull(strstr(out, "6 inserted"));
	free(out);
	free(err);

	/* gone without a word: the pid no longer exists */
	if ((gone = fork()) == 0)
		_exit(0);
	ck_assert(gone > 0 && waitpid(gone, NULL, 0) == gone);
	write_stats(stats, (long)gone, (double)time(NULL));
	ck_assert_int_eq(status(&f, NULL, NULL, &err), 5);
	ck_assert_msg(strstr(err, "is gone") != NULL, "%s", err);
	free(err);

	/* alive but silent for longer than three heartbeats: stale */
	write_stats(stats, (long)getpid(), (double)time(NULL) - 60);
	ck_assert_int_eq(status(&f, NULL, NULL, &err), 5);
	ck_assert_msg(strstr(err, "is stale") != NULL, "%s", err);
	free(err);

	/* not a stats file; no file; not configured */
	tu_write_file(stats, "[1,2");
	ck_assert_int_eq(status(&f, NULL, NULL, &err), 1);
	ck_assert_msg(strstr(err, "not a ttpd stats file") != NULL, "%s", err);
	free(err);
	unlink(stats);
	ck_assert_int_eq(status(&f, NULL, NULL, &err), 5);
	ck_assert_msg(strstr(err, "does not exist") != NULL, "%s", err);
	free(err);
	{
		const char *args[] = { "-c", f.conf, "-o",
		    "daemon.stats_file=\"\"", "status", NULL };

		ck_assert_int_eq(tu_run("host/ttpctl", args, NULL, &err), 1);
		ck_assert_msg(strstr(err, "daemon.stats_file is not set") !=
		    NULL, "%s", err);
		free(err);
	}
	ck_assert_int_eq(status(&f, "--bogus", NULL, NULL), 2);
	fx_teardown(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("life");
	TCase *tc = tcase_create("life");
	SRunner *sr;
	int failed;

	fx_init_runner();
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_show_config_parses_back);
	tcase_add_test(tc, test_counters_heartbeat_and_status);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
