/*
 * The canary lifter (plugins/canary) through the real host, against
 * DECNET's CanaryFingerprintLifter (decnet-lifters.md section 3.3) and
 * ttpd's parity policy (JSON booleans are never numbers).  DECNET's rules
 * and the golden set are read from $TTPD_SHARED_DIR at run time.
 */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "json.h"
#include "lifter_fx.h"
#include "log.h"
#include "testutil.h"

#define CANARY "canary_fingerprint"

START_TEST(test_golden_canary_parity)
{
	struct golden_result r;

	golden_run("{ name = \"canary\"; }", 49, 53, &r);
	ck_assert_uint_eq(r.expected, 28);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/* Open the lifter with DECNET's rules assigned. */
static void
open_decnet(struct lfx *fx)
{
	size_t i;

	lfx_open(fx, "canary", NULL);
	lfx_add_decnet(fx, 1, 59);
	ck_assert_int_eq(lfx_assign(fx), 0);
	/* R0049-R0053 and nothing else */
	ck_assert_int_eq((int)fx->p->nrules, 5);
	for (i = 0; i < fx->p->nrules; i++)
		ck_assert_int_eq(strncmp(fx->p->rules[i]->pub.kind,
		    "lifter:canary_", 14), 0);
}

struct row {
	const char *payload;
	const char *rule_id; /* the one rule expected to fire, or NULL */
	const char *evidence;
};

static const struct row rows[] = {
	/* R0049: literally true only */
	{ "{\"navigator_webdriver\": true}", "R0049",
	    "{\"metric\": \"navigator_webdriver\", \"matched_signature\": "
	    "\"navigator.webdriver_true\"}" },
	{ "{\"navigator_webdriver\": \"true\"}", NULL, NULL },
	{ "{\"navigator_webdriver\": 1}", NULL, NULL },
	{ "{\"navigator_webdriver\": null}", NULL, NULL },
	{ "{\"navigator_webdriver\": [true]}", NULL, NULL },
	{ "{\"navigator_webdriver\": false}", NULL, NULL },
	/* R0050: first truthy value, string, catalogue, case-sensitive */
	{ "{\"canvas_audio_hash_match\": \"puppeteer\"}", "R0050",
	    "{\"metric\": \"canvas_audio_hash\", \"matched_signature\": "
	    "\"puppeteer\"}" },
	{ "{\"canvas_audio_hash_match\": \"Puppeteer\"}", NULL, NULL },
	{ "{\"canvas_audio_hash_match\": \"puppeteer \"}", NULL, NULL },
	{ "{\"canvas_audio_hash_match\": \"phantomjs\"}", NULL, NULL },
	{ "{\"canvas_audio_hash_match\": \"\", \"matched_tool\": "
	    "\"curl_impersonate\"}", "R0050",
	    "{\"metric\": \"canvas_audio_hash\", \"matched_signature\": "
	    "\"curl_impersonate\"}" },
	{ "{\"canvas_audio_hash_match\": null, \"matched_tool\": "
	    "\"playwright\"}", "R0050",
	    "{\"metric\": \"canvas_audio_hash\", \"matched_signature\": "
	    "\"playwright\"}" },
	{ "{\"canvas_audio_hash_match\": [], \"matched_tool\": "
	    "\"selenium\"}", "R0050",
	    "{\"metric\": \"canvas_audio_hash\", \"matched_signature\": "
	    "\"selenium\"}" },
	{ "{\"canvas_audio_hash_match\": 5, \"matched_tool\": \"selenium\"}",
	    NULL, NULL },
	{ "{\"canvas_audio_hash_match\": {\"t\": \"selenium\"}}", NULL, NULL },
	{ "{\"canvas_audio_hash_match\": [\"selenium\"]}", NULL, NULL },
	{ "{\"canvas_audio_hash_match\": true, \"matched_tool\": "
	    "\"selenium\"}", NULL, NULL },
	{ "{\"matched_tool\": \"s\\u00e9lenium\"}", NULL, NULL },
	/* R0051 */
	{ "{\"webrtc_geo_mismatch\": true}", "R0051",
	    "{\"metric\": \"webrtc_geo_mismatch\", \"matched_signature\": "
	    "\"webrtc_private_vs_source_ip\"}" },
	{ "{\"webrtc_geo_mismatch\": \"yes\"}", NULL, NULL },
	{ "{\"webrtc_geo_mismatch\": 1}", NULL, NULL },
	/* R0052: exactly at the fixed threshold 3, not below */
	{ "{\"tz_mismatch_zones\": 3}", "R0052",
	    "{\"metric\": \"timezone_geo_mismatch\", \"matched_signature\": "
	    "\"tz_zones>=3\"}" },
	{ "{\"tz_mismatch_zones\": 2}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": 9223372036854775807}", "R0052",
	    "{\"metric\": \"timezone_geo_mismatch\", \"matched_signature\": "
	    "\"tz_zones>=9223372036854775807\"}" },
	{ "{\"tz_mismatch_zones\": 3.0}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": \"3\"}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": true}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": null}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": [3]}", NULL, NULL },
	{ "{\"tz_mismatch_zones\": 2, \"lang_country_mismatch\": true}",
	    "R0052",
	    "{\"metric\": \"language_country_mismatch\", "
	    "\"matched_signature\": \"lang_vs_source_country\"}" },
	{ "{\"tz_mismatch_zones\": \"7\", \"lang_country_mismatch\": true}",
	    "R0052",
	    "{\"metric\": \"language_country_mismatch\", "
	    "\"matched_signature\": \"lang_vs_source_country\"}" },
	{ "{\"tz_mismatch_zones\": 12, \"lang_country_mismatch\": true}",
	    "R0052",
	    "{\"metric\": \"timezone_geo_mismatch\", \"matched_signature\": "
	    "\"tz_zones>=12\"}" },
	{ "{\"lang_country_mismatch\": 1}", NULL, NULL },
	/* R0053: platform first, then WebGL */
	{ "{\"platform_ua_inconsistent\": true, \"ua_webgl_mismatch\": true}",
	    "R0053",
	    "{\"metric\": \"platform_ua_mismatch\", \"matched_signature\": "
	    "\"navigator.platform_vs_userAgent\"}" },
	{ "{\"platform_ua_inconsistent\": \"true\", "
	    "\"ua_webgl_mismatch\": true}", "R0053",
	    "{\"metric\": \"ua_webgl_mismatch\", \"matched_signature\": "
	    "\"userAgent_vs_webgl_renderer\"}" },
	{ "{\"platform_ua_inconsistent\": 1, \"ua_webgl_mismatch\": 1}", NULL,
	    NULL },
	/* nothing at all, unrelated Unicode */
	{ "{}", NULL, NULL },
	{ "{\"ua_signature\": \"\\u041c\\u043e\\u0437\\u0438\\u043b\\u043b"
	    "\\u0430 \\u4e2d\\u6587\"}", NULL, NULL },
};

START_TEST(test_decnet_rules_rows)
{
	struct lfx fx;
	size_t i;

	open_decnet(&fx);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *w = &rows[i];
		size_t want = 0;

		lfx_run(&fx, CANARY, "att-check", NULL, w->payload);
		if (w->rule_id != NULL)
			want = strcmp(w->rule_id, "R0050") == 0 ? 2 : 1;
		ck_assert_msg(fx.tags.n == want, "%s: %zu tags, want %zu",
		    w->payload, fx.tags.n, want);
		if (w->rule_id == NULL)
			continue;
		ck_assert_uint_eq(lfx_count(&fx, w->rule_id), want);
		ck_assert_msg(lfx_evidence_is(&fx.tags.v[0], w->evidence),
		    "%s: evidence", w->payload);
	}
	lfx_close(&fx);
}
END_TEST

/*
 * DECNET's rule-precision corpus for the canary cohort: every row fires
 * exactly its expected_rule_ids (DECNET itself misses none of them).
 */
START_TEST(test_decnet_corpus)
{
	struct lfx fx;
	char path[PATH_MAX], err[256], *text, *line, *save = NULL;
	size_t rows_seen = 0, fired = 0;

	open_decnet(&fx);
	snprintf(path, sizeof path, "%s/reference/decnet/corpus/"
	    "seed_canary.jsonl", tu_env("TTPD_SHARED_DIR"));
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s", path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *row;
		const ttpd_value *want;
		char *payload;
		size_t i, k;

		if (*line == '#')
			continue;
		row = jv_parse(line, strlen(line), err, sizeof err);
		ck_assert_msg(row != NULL, "%s: %s", path, err);
		ck_assert_str_eq(jv_string(jv_object_get(row, "source_kind")),
		    CANARY);
		payload = jv_dump(jv_object_get(row, "payload"));
		ck_assert(payload != NULL);
		lfx_run(&fx, CANARY, "att-check", NULL, payload);
		want = jv_object_get(row, "expected_rule_ids");
		/* every tag is of an expected rule, every expected rule fired */
		for (i = 0; i < fx.tags.n; i++) {
			int ok = 0;

			for (k = 0; k < jv_array_size(want); k++)
				ok |= strcmp(fx.tags.v[i].rule_id, jv_string(
				    jv_array_get(want, k))) == 0;
			ck_assert_msg(ok, "%s: unexpected %s", line,
			    fx.tags.v[i].rule_id);
		}
		for (k = 0; k < jv_array_size(want); k++)
			ck_assert_msg(lfx_count(&fx, jv_string(
			    jv_array_get(want, k))) > 0, "%s: missed", line);
		fired += fx.tags.n;
		rows_seen++;
		free(payload);
		jv_decref(row);
	}
	ck_assert_uint_eq(rows_seen, 7);
	ck_assert_uint_eq(fired, 8);
	free(text);
	lfx_close(&fx);
}
END_TEST

/* Every rule on one event, in rule order then emit order, with DECNET's
 * confidences and mitre_url. */
START_TEST(test_all_rules_on_one_event)
{
	static const struct {
		const char *rule, *tech, *sub, *url;
		double conf;
	} want[] = {
		{ "R0049", "T1059", NULL,
		    "https://attack.mitre.org/techniques/T1059", 0.85 },
		{ "R0050", "T1059", NULL,
		    "https://attack.mitre.org/techniques/T1059", 0.85 },
		{ "R0050", "T1588", "T1588.002",
		    "https://attack.mitre.org/techniques/T1588/002", 0.85 },
		{ "R0051", "T1090", NULL,
		    "https://attack.mitre.org/techniques/T1090", 0.85 },
		{ "R0052", "T1090", NULL,
		    "https://attack.mitre.org/techniques/T1090", 0.7 },
		{ "R0053", "T1036", NULL,
		    "https://attack.mitre.org/techniques/T1036", 0.8 },
	};
	struct lfx fx;
	size_t i;

	open_decnet(&fx);
	lfx_run(&fx, CANARY, "att-check", NULL, "{\"navigator_webdriver\": true, "
	    "\"canvas_audio_hash_match\": \"selenium\", "
	    "\"webrtc_geo_mismatch\": true, \"tz_mismatch_zones\": 4, "
	    "\"ua_webgl_mismatch\": true}");
	ck_assert_uint_eq(fx.tags.n, sizeof want / sizeof want[0]);
	for (i = 0; i < fx.tags.n; i++) {
		ck_assert_str_eq(fx.tags.v[i].rule_id, want[i].rule);
		ck_assert_str_eq(fx.tags.v[i].technique_id, want[i].tech);
		if (want[i].sub == NULL)
			ck_assert(fx.tags.v[i].sub_technique_id == NULL);
		else
			ck_assert_str_eq(fx.tags.v[i].sub_technique_id,
			    want[i].sub);
		ck_assert_str_eq(fx.tags.v[i].mitre_url, want[i].url);
		ck_assert(fx.tags.v[i].confidence == want[i].conf);
		ck_assert_str_eq(fx.tags.v[i].source_kind, CANARY);
		ck_assert_str_eq(fx.tags.v[i].attacker_uuid, "att-check");
	}
	ck_assert(lfx_evidence_is(&fx.tags.v[4], "{\"metric\": "
	    "\"timezone_geo_mismatch\", \"matched_signature\": "
	    "\"tz_zones>=4\"}"));
	ck_assert(lfx_evidence_is(&fx.tags.v[5], "{\"metric\": "
	    "\"ua_webgl_mismatch\", \"matched_signature\": "
	    "\"userAgent_vs_webgl_renderer\"}"));

	/* other source kinds never reach the lifter's rules */
	lfx_run(&fx, "session", "att-check", NULL, "{\"navigator_webdriver\": true}");
	ck_assert_uint_eq(fx.tags.n, 0);
	lfx_close(&fx);
}
END_TEST

/* ttp_rule_state: a disabled rule is silent, a clipped one is capped. */
START_TEST(test_rule_state_disabled_and_clipped)
{
	struct lfx fx;
	struct rule *r49, *r52;
	const char *all = "{\"navigator_webdriver\": true, "
	    "\"tz_mismatch_zones\": 5}";

	open_decnet(&fx);
	r49 = ruleset_find(&fx.rules, "R0049");
	r52 = ruleset_find(&fx.rules, "R0052");
	ck_assert(r49 != NULL && r52 != NULL);
	lfx_run(&fx, CANARY, "att-check", NULL, all);
	ck_assert_uint_eq(fx.tags.n, 2);

	r49->state.state = RULE_STATE_DISABLED;
	r52->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	r52->state.has_confidence_max = 1;
	r52->state.confidence_max = 0.5;
	lfx_run(&fx, CANARY, "att-check", NULL, all);
	ck_assert_uint_eq(fx.tags.n, 1);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "R0052");
	ck_assert(fx.tags.v[0].confidence == 0.5);

	/* a ceiling above the base confidence does not raise it */
	r52->state.confidence_max = 0.9;
	lfx_run(&fx, CANARY, "att-check", NULL, all);
	ck_assert_uint_eq(fx.tags.n, 1);
	ck_assert(fx.tags.v[0].confidence == 0.7);
	lfx_close(&fx);
}
END_TEST

static const char *const rule_fmt =
    "rule_id: %s\n"
    "rule_version: 1\n"
    "name: test_%s\n"
    "applies_to: [canary_fingerprint]\n"
    "match:\n"
    "  kind: %s\n"
    "%s"
    "emits:\n"
    "  - tactic: TA0002\n"
    "    technique_id: T1059\n"
    "    confidence: 0.85\n";

static struct rule *
add_rule(struct lfx *fx, const char *id, const char *kind, const char *extra)
{
	char yaml[1024];

	snprintf(yaml, sizeof yaml, rule_fmt, id, id, kind, extra);
	return lfx_add_yaml(fx, yaml);
}

/* Unknown kinds never fire; catalogues are optional but must be a list of
 * strings; dispatch is by the exact kind. */
START_TEST(test_own_rules_and_catalogues)
{
	struct lfx fx;

	lfx_open(&fx, "canary", NULL);
	add_rule(&fx, "X1", "lifter:canary_bogus", "");
	add_rule(&fx, "X2", "lifter:canary_webdriver_v2", "");
	add_rule(&fx, "X3", "lifter:canary_automation_hash", "");
	add_rule(&fx, "X4", "lifter:canary_automation_hash",
	    "  catalogues: []\n");
	add_rule(&fx, "X5", "lifter:canary_automation_hash",
	    "  catalogues: [\"\\u043f\\u0443\\u043f\"]\n");
	add_rule(&fx, "X6", "lifter:canary_webdriver", "");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_int_eq((int)fx.p->nrules, 6);

	lfx_run(&fx, CANARY, "att-check", NULL, "{\"navigator_webdriver\": true, "
	    "\"matched_tool\": \"\\u043f\\u0443\\u043f\"}");
	/* X3 and X4 accept any string, X5 its Cyrillic entry, X6 fires */
	ck_assert_uint_eq(fx.tags.n, 4);
	ck_assert_uint_eq(lfx_count(&fx, "X1"), 0);
	ck_assert_uint_eq(lfx_count(&fx, "X2"), 0);
	ck_assert_uint_eq(lfx_count(&fx, "X3"), 1);
	ck_assert_uint_eq(lfx_count(&fx, "X4"), 1);
	ck_assert_uint_eq(lfx_count(&fx, "X5"), 1);
	ck_assert_uint_eq(lfx_count(&fx, "X6"), 1);
	ck_assert(lfx_evidence_is(&fx.tags.v[1], "{\"metric\": "
	    "\"canvas_audio_hash\", \"matched_signature\": "
	    "\"\\u043f\\u0443\\u043f\"}"));

	lfx_run(&fx, CANARY, "att-check", NULL, "{\"matched_tool\": \"selenium\"}");
	ck_assert_uint_eq(fx.tags.n, 2);
	ck_assert_uint_eq(lfx_count(&fx, "X5"), 0);
	lfx_close(&fx);
}
END_TEST

START_TEST(test_bad_catalogues_rejected)
{
	static const char *const bad[] = {
		"  catalogues: puppeteer\n",
		"  catalogues: [puppeteer, 5]\n",
		"  catalogues: {a: b}\n",
		"  catalogues: [[selenium]]\n",
	};
	struct lfx fx;
	struct rule *r;

	lfx_open(&fx, "canary", NULL);
	r = add_rule(&fx, "X1", "lifter:canary_automation_hash",
	    bad[_i]);
	ck_assert_int_eq(lfx_assign(&fx), 1);
	ck_assert(r->owner == NULL);
	ck_assert_msg(strstr(fx.reports, "catalogues must be a list of "
	    "strings") != NULL, "%s", fx.reports);
	lfx_close(&fx);
}
END_TEST

/* ttpd's own rules (TD0501...) load, belong to canary and fire. */
START_TEST(test_pack_rules)
{
	static const struct {
		const char *payload;
		size_t tags;
	} cases[] = {
		{ "{\"navigator_webdriver\": true}", 1 },
		{ "{\"canvas_audio_hash_match\": \"playwright\"}", 2 },
		{ "{\"webrtc_geo_mismatch\": true}", 1 },
		{ "{\"tz_mismatch_zones\": 3}", 1 },
		{ "{\"lang_country_mismatch\": true}", 1 },
		{ "{\"ua_webgl_mismatch\": true}", 1 },
		{ "{\"tz_mismatch_zones\": 2, \"navigator_webdriver\": 1}", 0 },
	};
	struct lfx fx;
	char dir[PATH_MAX];
	const char *dirs[1] = { dir };
	size_t i, owned = 0;

	lfx_open(&fx, "canary", NULL);
	snprintf(dir, sizeof dir, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, NULL, NULL), 0);
	ck_assert_int_eq(lfx_assign(&fx), 0);
	for (i = 0; i < fx.p->nrules; i++) {
		const char *id = fx.p->rules[i]->pub.rule_id;

		ck_assert_msg(strncmp(id, "TD05", 4) == 0, "%s", id);
		owned++;
	}
	ck_assert_uint_eq(owned, 5);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lfx_run(&fx, CANARY, "att-check", NULL, cases[i].payload);
		ck_assert_msg(fx.tags.n == cases[i].tags, "%s: %zu tags",
		    cases[i].payload, fx.tags.n);
	}
	lfx_close(&fx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("canary");
	TCase *tc = tcase_create("lifter"), *tg = tcase_create("golden");
	SRunner *sr;
	int failed;

	log_set_level(TTPD_LOG_ERR);
	tcase_add_test(tc, test_decnet_rules_rows);
	tcase_add_test(tc, test_decnet_corpus);
	tcase_add_test(tc, test_all_rules_on_one_event);
	tcase_add_test(tc, test_rule_state_disabled_and_clipped);
	tcase_add_test(tc, test_own_rules_and_catalogues);
	tcase_add_loop_test(tc, test_bad_catalogues_rejected, 0, 4);
	tcase_add_test(tc, test_pack_rules);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tg, 300);
	tcase_add_test(tg, test_golden_canary_parity);
	suite_add_tcase(s, tg);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
