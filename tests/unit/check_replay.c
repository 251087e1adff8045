/*
 * Replay end to end through the real ttpd binary: a fixture mixing good
 * lines, malformed ones, a session fan-out and anchorless events.
 */
#include "config.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tag.h"
#include "testutil.h"

struct env {
	char *dir, *conf, rules[1024], fixture[1024];
};

static void
env_init(struct env *e, const char *extra)
{
	const char *src = tu_env("TTPD_SRCDIR");

	e->dir = tu_mkdtemp();
	snprintf(e->rules, sizeof e->rules, "%s/tests/data/replay/rules", src);
	snprintf(e->fixture, sizeof e->fixture,
	    "%s/tests/data/replay/mixed.jsonl", src);
	e->conf = tu_write_conf(e->dir, e->rules, "rule_engine", extra);
}

static void
env_free(struct env *e)
{
	tu_rmtree(e->dir);
	free(e->dir);
	free(e->conf);
}

/* Find the stored tag with this uuid in a --tags-out file. */
static ttpd_value *
find_tag(const char *text, const char *uuid)
{
	const char *p = strstr(text, uuid);
	const char *start, *end;

	if (p == NULL)
		return NULL;
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	return jv_parse(start, (size_t)(end - start), NULL, 0);
}

START_TEST(test_replay_mixed)
{
	struct env e;
	char tagsout[1024], *out, *err, *tags, uuid[TAG_UUID_LEN + 1];
	ttpd_value *t;
	int rc;

	env_init(&e, NULL);
	snprintf(tagsout, sizeof tagsout, "%s/tags.jsonl", e.dir);
	{
		const char *args[] = { "-c", e.conf, "--replay", e.fixture,
			"--tags-out", tagsout, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	/* 7 events: c1, the session and its 3 commands, h1, c13;
	 * 6 tags, 2 of them under the 0.3 floor; 6 malformed lines */
	ck_assert_str_eq(out, "events=7 tags=6 inserted=4 errors=6\n");
	/* bad lines are reported with their line numbers */
	ck_assert_msg(strstr(err, "mixed.jsonl:3: invalid JSON") != NULL, "%s",
	    err);
	ck_assert_msg(strstr(err, "mixed.jsonl:4: not a JSON object") != NULL,
	    "%s", err);
	ck_assert_msg(strstr(err, "mixed.jsonl:7: unknown topic") != NULL,
	    "%s", err);
	ck_assert_msg(strstr(err, "mixed.jsonl:8: source_id must be a string")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "mixed.jsonl:10: envelope payload must be an "
	    "object") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "mixed.jsonl:12: invalid JSON") != NULL,
	    "%s", err);

	tags = tu_read_file(tagsout, NULL);
	ck_assert(tags != NULL);
	/* the tagger event, with its evidence */
	tag_uuid("command", "c1", "TR0001", 1, "T1105", NULL, uuid);
	t = find_tag(tags, uuid);
	ck_assert_msg(t != NULL, "no tag %s in %s", uuid, tags);
	ck_assert_str_eq(jv_string(jv_object_get(t, "attacker_uuid")), "a1");
	ck_assert_str_eq(jv_string(jv_object_get(t, "session_id")), "s1");
	ck_assert_str_eq(jv_string(jv_object_get(t, "decky_id")), "d1");
	ck_assert_str_eq(jv_string(jv_pointer_get(t, "/evidence/command_text")),
	    "wget http://x/y");
	/* aux evidence for commands */
	ck_assert_str_eq(jv_string(jv_pointer_get(t, "/evidence/user")),
	    "root");
	ck_assert_str_eq(jv_string(jv_object_get(t, "mitre_url")),
	    "https://attack.mitre.org/techniques/T1105");
	ck_assert_str_eq(jv_string(jv_object_get(t, "attack_release")),
	    "v15.1");
	ck_assert_uint_eq(strlen(jv_string(jv_object_get(t, "created_at"))),
	    TAG_TIME_LEN);
	jv_decref(t);
	/* the fanned-out command with an explicit id inherits the session */
	tag_uuid("command", "cmd-x", "TR0001", 1, "T1105", NULL, uuid);
	t = find_tag(tags, uuid);
	ck_assert_msg(t != NULL, "no fan-out tag in %s", tags);
	ck_assert_str_eq(jv_string(jv_object_get(t, "attacker_uuid")), "a2");
	ck_assert_str_eq(jv_string(jv_object_get(t, "session_id")), "sess-1");
	ck_assert_str_eq(jv_string(jv_object_get(t, "decky_id")), "d2");
	jv_decref(t);
	/* below-floor tags were not stored */
	tag_uuid("command", "sess-1#cmd0", "TR0002", 1, "T1082", NULL, uuid);
	ck_assert_ptr_null(strstr(tags, uuid));
	/* http: both emits, empty sub-technique stored as null */
	tag_uuid("http_request", "h1", "TR0003", 1, "T1083", NULL, uuid);
	t = find_tag(tags, uuid);
	ck_assert_msg(t != NULL, "no http tag in %s", tags);
	ck_assert_int_eq(jv_type(jv_object_get(t, "sub_technique_id")),
	    TTPD_VT_NULL);
	jv_decref(t);
	free(tags);
	free(out);
	free(err);

	/* the same replay again writes nothing new */
	{
		const char *args[] = { "-c", e.conf, "--replay", e.fixture,
			NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "events=7 tags=6 inserted=0 errors=6\n");
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

/* Run SQL against the test's store (the test, not ttpd, talks SQL here). */
static void
exec_sql(const char *db, const char *sql)
{
	sqlite3 *h;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg);
	sqlite3_close(h);
}

START_TEST(test_replay_rule_states)
{
	struct env e;
	char db[1024], empty[1024], tagsout[1024], *out, *err, *tags;
	char uuid[TAG_UUID_LEN + 1];
	ttpd_value *t;
	double c = 0;
	int rc;

	env_init(&e, NULL);
	snprintf(db, sizeof db, "%s/ttpd.db", e.dir);
	snprintf(empty, sizeof empty, "%s/empty.jsonl", e.dir);
	snprintf(tagsout, sizeof tagsout, "%s/tags.jsonl", e.dir);
	tu_write_file(empty, "");
	{
		/* first run creates the schema */
		const char *args[] = { "-c", e.conf, "--replay", empty, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	ck_assert_str_eq(out, "events=0 tags=0 inserted=0 errors=0\n");
	free(out);
	free(err);
	exec_sql(db, "INSERT INTO ttp_rule_state (rule_id, state, "
	    "confidence_max, expires_at, reason, set_by, set_at) VALUES "
	    "('TR0001', 'disabled', NULL, NULL, 'noisy', 'test', "
	    "'2026-01-01 00:00:00.000000'), "
	    "('TR0003', 'clipped', 0.5, '2999-01-01 00:00:00.000000', 'fp', "
	    "'test', '2026-01-01 00:00:00.000000'), "
	    "('TR0002', 'disabled', NULL, '2001-01-01 00:00:00.000000', "
	    "'expired', 'test', '2026-01-01 00:00:00.000000')");
	{
		const char *args[] = { "-c", e.conf, "--replay", e.fixture,
			"--tags-out", tagsout, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	/* TR0001 disabled: no wget tags; TR0002's expired disabled state
	 * reverts to enabled: its 2 (below-floor) tags are produced;
	 * TR0003 clipped at 0.5: both of its tags stored at 0.5 */
	ck_assert_str_eq(out, "events=7 tags=4 inserted=2 errors=6\n");
	tags = tu_read_file(tagsout, NULL);
	tag_uuid("http_request", "h1", "TR0003", 1, "T1190", NULL, uuid);
	t = find_tag(tags, uuid);
	ck_assert_msg(t != NULL, "no clipped tag in %s", tags);
	ck_assert_int_eq(jv_get_number(jv_object_get(t, "confidence"), &c),
	    TTPD_OK);
	ck_assert(c == 0.5);
	jv_decref(t);
	tag_uuid("command", "c1", "TR0001", 1, "T1105", NULL, uuid);
	ck_assert_ptr_null(strstr(tags, uuid));
	free(tags);
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

START_TEST(test_replay_overlong_line)
{
	struct env e;
	char path[1024], *big, *out, *err;
	int rc;

	env_init(&e, "input: { max_event_bytes = 1024; };");
	big = malloc(4096);
	memset(big, 'x', 4095);
	big[4095] = '\0';
	snprintf(path, sizeof path, "%s/big.jsonl", e.dir);
	{
		char *text;

		ck_assert(asprintf(&text, "{\"source_kind\":\"command\","
		    "\"source_id\":\"b1\",\"attacker_uuid\":\"a\",\"payload\":"
		    "{\"command_text\":\"%s\"}}\n{\"source_kind\":\"command\","
		    "\"source_id\":\"b2\",\"attacker_uuid\":\"a\",\"payload\":"
		    "{\"command_text\":\"wget\"}}\n", big) > 0);
		tu_write_file(path, text);
		free(text);
	}
	{
		const char *args[] = { "-c", e.conf, "--replay", path, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	ck_assert_str_eq(out, "events=1 tags=1 inserted=1 errors=1\n");
	ck_assert_msg(strstr(err, "big.jsonl:1: line longer than 1024") !=
	    NULL, "%s", err);
	free(big);
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

START_TEST(test_replay_line_endings)
{
	struct env e;
	char path[1024], *out, *err;
	int rc;

	env_init(&e, NULL);
	snprintf(path, sizeof path, "%s/crlf.jsonl", e.dir);
	/* CRLF endings, a blank CRLF line, and no newline at the end */
	tu_write_file(path, "{\"source_kind\":\"command\",\"source_id\":\"l1\","
	    "\"attacker_uuid\":\"a\",\"payload\":{\"command_text\":\"wget\"}}\r\n"
	    "\r\n"
	    "{\"source_kind\":\"command\",\"source_id\":\"l2\","
	    "\"attacker_uuid\":\"a\",\"payload\":{\"command_text\":\"wget\"}}");
	{
		const char *args[] = { "-c", e.conf, "--replay", path, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	ck_assert_str_eq(out, "events=2 tags=2 inserted=2 errors=0\n");
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

START_TEST(test_replay_missing_file_and_usage)
{
	struct env e;
	char *out, *err;
	int rc;

	env_init(&e, NULL);
	{
		const char *args[] = { "-c", e.conf, "--replay",
			"/nonexistent/x.jsonl", NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(strstr(err, "/nonexistent/x.jsonl") != NULL, "%s", err);
	free(out);
	free(err);
	{
		const char *args[] = { "--bogus", NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_int_eq(rc, 2);
	free(out);
	free(err);
	{
		const char *args[] = { "-c", e.conf, "-t", NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "ttpd -t exit %d: %s", rc, err);
	ck_assert_msg(strstr(out, "plugin rule_engine: ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "rules=3 (TR0001,TR0002,TR0003)") != NULL,
	    "%s", out);
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("e2e");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_replay_mixed);
	tcase_add_test(tc, test_replay_rule_states);
	tcase_add_test(tc, test_replay_overlong_line);
	tcase_add_test(tc, test_replay_line_endings);
	tcase_add_test(tc, test_replay_missing_file_and_usage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
