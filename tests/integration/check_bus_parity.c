/*
 * The bus path and the replay path tag alike.  The golden events of
 * $TTPD_SHARED_DIR become DECNET envelopes on their topics (intel,
 * email, identity, credential, canary, ipv6_leak via
 * attacker.fingerprinted, session, and commands inside sessions); with
 * DECNET's 59 rules and all nine plugins, `ttpd --replay` of those
 * envelopes gives the expected tags, and the daemon fed the same
 * envelopes over NATS must store exactly those rows and announce exactly
 * those tags in ttp.tagged and ttp.rule.fired.<T>.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "natsfx.h"
#include "testutil.h"

#define ALL_PLUGINS "{ name = \"rule_engine\"; }, { name = \"behavioral\"; }, " \
	"{ name = \"intel\"; }, { name = \"canary\"; }, " \
	"{ name = \"email\"; }, { name = \"identity\"; }, " \
	"{ name = \"credential\"; }, { name = \"http_fingerprint\"; }, " \
	"{ name = \"ipv6_leak\"; }"

struct strset {
	char **v;
	size_t n, cap;
};

static void
set_add(struct strset *s, const char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		ck_assert(s->v != NULL);
	}
	s->v[s->n++] = strdup(str);
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
set_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Sorted; fails on a duplicate when unique is set. */
static void
set_sort(struct strset *s, int unique, const char *what)
{
	size_t i;

	qsort(s->v, s->n, sizeof *s->v, cmp);
	for (i = 1; unique && i < s->n; i++)
		ck_assert_msg(strcmp(s->v[i - 1], s->v[i]) != 0,
		    "%s: %s twice", what, s->v[i]);
}

static void
set_assert_eq(struct strset *a, struct strset *b, const char *what)
{
	size_t i;

	ck_assert_msg(a->n == b->n, "%s: %zu against %zu", what, a->n, b->n);
	for (i = 0; i < a->n; i++)
		ck_assert_msg(strcmp(a->v[i], b->v[i]) == 0, "%s: %s / %s",
		    what, a->v[i], b->v[i]);
}

/* The topic and type an event of this kind travels with, or NULL. */
static const char *
topic_of(const char *kind, const char **type)
{
	static const struct {
		const char *kind, *topic, *type;
	} map[] = {
		{ "intel", "attacker.intel.enriched", "intel.enriched" },
		{ "email", "email.received", "received" },
		{ "identity", "identity.formed", "formed" },
		{ "credential", "credential.reuse.detected", "reuse.detected" },
		{ "canary_fingerprint", "canary.tok.triggered", "" },
		{ "ipv6_leak", "attacker.fingerprinted", "ipv6_leak" },
		{ "session", "attacker.session.ended", "session.ended" },
		{ "command", "attacker.session.ended", "session.ended" },
	};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].kind, kind) == 0) {
			*type = map[i].type;
			return map[i].topic;
		}
	return NULL;
}

static void
copy_member(ttpd_value *to, const ttpd_value *from, const char *key)
{
	const ttpd_value *v = jv_object_get(from, key);

	if (v != NULL && jv_type(v) != TTPD_VT_NULL)
		jv_object_set(to, key, v);
}

/* A golden tagger event as an envelope (NULL when no topic carries its
 * kind).  The anchors and the source id ride in the payload, where the
 * envelope translation finds them. */
static char *
envelope_of(const ttpd_value *ev, size_t lineno, const char **topic)
{
	const char *kind = jv_string(jv_object_get(ev, "source_kind"));
	const char *type;
	ttpd_value *env, *payload, *cmd, *cmds;
	char *text;

	if (kind == NULL || (*topic = topic_of(kind, &type)) == NULL)
		return NULL;
	if (jv_type(jv_object_get(ev, "payload")) != TTPD_VT_OBJECT)
		return NULL;
	if (strcmp(kind, "command") == 0) {
		char id[64];

		/* one command inside a session of its own */
		cmd = jv_copy_object(jv_object_get(ev, "payload"));
		copy_member(cmd, ev, "source_id");
		jv_object_set(cmd, "id", jv_object_get(ev, "source_id"));
		cmds = jv_new_array();
		jv_array_append_new(cmds, cmd);
		payload = jv_new_object();
		snprintf(id, sizeof id, "golden-session-%zu", lineno);
		jv_object_set_new(payload, "source_id",
		    jv_new_string(id, strlen(id)));
		jv_object_set_new(payload, "commands", cmds);
	} else {
		payload = jv_copy_object(jv_object_get(ev, "payload"));
		copy_member(payload, ev, "source_id");
	}
	copy_member(payload, ev, "attacker_uuid");
	copy_member(payload, ev, "identity_uuid");
	copy_member(payload, ev, "session_id");
	copy_member(payload, ev, "decky_id");
	env = jv_new_object();
	jv_object_set_new(env, "v", jv_new_int(1));
	jv_object_set_new(env, "topic", jv_new_string(*topic,
	    strlen(*topic)));
	jv_object_set_new(env, "type", jv_new_string(type, strlen(type)));
	jv_object_set_new(env, "ts", jv_new_real(1700000000.5));
	jv_object_set_new(env, "payload", payload);
	text = jv_dump(env);
	jv_decref(env);
	return text;
}

START_TEST(test_bus_tags_like_replay)
{
	struct fx f;
	static const char *const want_kinds[] = { "intel", "email",
		"identity", "credential", "canary_fingerprint", "ipv6_leak",
		"session", "command" };
	struct strset expect = { 0 }, stored = { 0 }, tagged = { 0 },
	    fired = { 0 }, kinds = { 0 };
	char path[1024], envs[1024], tagsout[1024], rdb[1024], opt[1100],
	    *text, *line, *save = NULL, *out, *err;
	size_t lineno = 0, nenv = 0, i;
	const char *topic;
	natsMsg *m;
	sqlite3 *db;
	sqlite3_stmt *st;
	FILE *fp;
	int rc;

	fx_setup(&f, NULL, NULL);
	snprintf(path, sizeof path, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR"));
	f.rules_dir = path;
	f.plugins_load = ALL_PLUGINS;
	fx_write_conf(&f, "queue_size = 100000;", NULL);

	/* the envelopes, and what replay makes of them */
	snprintf(envs, sizeof envs, "%s/envelopes.jsonl", f.dir);
	{
		char golden[1024];

		snprintf(golden, sizeof golden, "%s/golden/events.jsonl",
		    tu_env("TTPD_SHARED_DIR"));
		text = tu_read_file(golden, NULL);
		ck_assert_msg(text != NULL, "%s is missing", golden);
	}
	ck_assert((fp = fopen(envs, "w")) != NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lineno++) {
		ttpd_value *ev = jv_parse(line, strlen(line), NULL, 0);
		char *env;

		if (ev == NULL)
			continue;
		if ((env = envelope_of(ev, lineno, &topic)) != NULL) {
			fprintf(fp, "%s\n", env);
			nenv++;
			free(env);
		}
		jv_decref(ev);
	}
	free(text);
	ck_assert(fclose(fp) == 0);
	ck_assert_uint_gt(nenv, 3500);

	snprintf(tagsout, sizeof tagsout, "%s/expected.jsonl", f.dir);
	snprintf(rdb, sizeof rdb, "%s/replay.db", f.dir);
	snprintf(opt, sizeof opt, "store.path=\"%s\"", rdb);
	{
		const char *args[] = { "-c", f.conf, "-o", opt, "--replay",
			envs, "--tags-out", tagsout, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "replay: exit %d: %s", rc, err);
	free(out);
	free(err);
	text = tu_read_file(tagsout, NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *t = jv_parse(line, strlen(line), NULL, 0);

		ck_assert(t != NULL);
		set_add(&expect, jv_string(jv_object_get(t, "uuid")));
		set_add(&kinds, jv_string(jv_object_get(t, "source_kind")));
		jv_decref(t);
	}
	free(text);
	set_sort(&expect, 1, "replay");
	/* every topic's kind contributes tags */
	set_sort(&kinds, 0, "kinds");
	for (i = 0; i < sizeof want_kinds / sizeof want_kinds[0]; i++) {
		size_t k, n = 0;

		for (k = 0; k < kinds.n; k++)
			n += strcmp(kinds.v[k], want_kinds[i]) == 0;
		fprintf(stderr, "bus parity: %s: %zu tags\n", want_kinds[i],
		    n);
		ck_assert_msg(n > 0, "no %s tag", want_kinds[i]);
	}
	fprintf(stderr, "bus parity: %zu envelopes, %zu tags\n", nenv,
	    expect.n);

	/* the same envelopes over NATS */
	fx_ttpd_start(&f, 0, 1);
	text = tu_read_file(envs, NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *env = jv_parse(line, strlen(line), NULL, 0);

		fx_pub(&f, jv_string(jv_object_get(env, "topic")), line,
		    strlen(line));
		jv_decref(env);
	}
	free(text);
	fx_flush(&f);
	ck_assert_int_eq(fx_wait_count(&f, "SELECT count(*) FROM ttp_tag",
	    (long)expect.n, 60), (long)expect.n);
	ck_assert_int_eq(fx_health(&f, "received"), (long)nenv);
	ck_assert_int_eq(fx_ttpd_stop(&f, 0, SIGTERM), 0);

	snprintf(path, sizeof path, "%s/ttpd.db", f.dir);
	ck_assert(sqlite3_open(path, &db) == SQLITE_OK);
	ck_assert(sqlite3_prepare_v2(db, "SELECT uuid FROM ttp_tag", -1, &st,
	    NULL) == SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		set_add(&stored, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	set_sort(&stored, 1, "stored");
	set_assert_eq(&expect, &stored, "stored rows against replay");

	/* every stored tag announced once in ttp.tagged and once in the
	 * ttp.rule.fired of its technique */
	while ((m = fx_next_out(&f, 1000)) != NULL) {
		ttpd_value *v = jv_parse(natsMsg_GetData(m),
		    (size_t)natsMsg_GetDataLength(m), NULL, 0);
		const ttpd_value *p = jv_object_get(v, "payload");
		const ttpd_value *u = jv_object_get(p, "tag_uuids");
		int is_tagged = strcmp(natsMsg_GetSubject(m),
		    "ttp.tagged") == 0;

		ck_assert(v != NULL && jv_type(u) == TTPD_VT_ARRAY);
		if (!is_tagged)
			ck_assert_str_eq(natsMsg_GetSubject(m) + 15,
			    jv_string(jv_object_get(p, "technique_id")));
		for (i = 0; i < jv_array_size(u); i++)
			set_add(is_tagged ? &tagged : &fired,
			    jv_string(jv_array_get(u, i)));
		jv_decref(v);
		natsMsg_Destroy(m);
	}
	set_sort(&tagged, 1, "ttp.tagged");
	set_sort(&fired, 1, "ttp.rule.fired");
	set_assert_eq(&expect, &tagged, "ttp.tagged against replay");
	set_assert_eq(&expect, &fired, "ttp.rule.fired against replay");
	set_free(&expect);
	set_free(&stored);
	set_free(&tagged);
	set_free(&fired);
	set_free(&kinds);
	fx_teardown(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bus_parity");
	TCase *tc = tcase_create("golden");
	SRunner *sr;
	int failed;

	fx_init_runner();
	/* runs in this process after the tests, even after a failed one */
	tcase_add_unchecked_fixture(tc, NULL, fx_cleanup_runner);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_bus_tags_like_replay);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
