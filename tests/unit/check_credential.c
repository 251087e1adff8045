/*
 * The credential lifter (plugins/credential) through the real host:
 * golden parity for R0001, R0002 and R0004-R0006, and each predicate of
 * decnet-lifters.md section 3.6 at and around its edges.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "json.h"
#include "lifter_fx.h"
#include "log.h"
#include "testutil.h"

static void
assert_parity(int lo, int hi, size_t min_expected)
{
	struct golden_result r;

	golden_run("{ name = \"credential\"; }", lo, hi, &r);
	ck_assert_uint_ge(r.expected, min_expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}

/* R0003 belongs to the identity lifter, so the two ranges around it. */
START_TEST(test_golden_parity_r0001_r0002)
{
	assert_parity(1, 2, 10);
}
END_TEST

START_TEST(test_golden_parity_r0004_r0006)
{
	assert_parity(4, 6, 11);
}
END_TEST

/* The default pack's TD0701, TD0702, TD0704-TD0706 decide like DECNET's
 * rules on every golden event. */
START_TEST(test_pack_rules_agree_with_decnet)
{
	static const char *const decnet[] = {
		"R0001", "R0002", "R0004", "R0005", "R0006", NULL
	};
	static const char *const pack[] = {
		"TD0701", "TD0702", "TD0704", "TD0705", "TD0706", NULL
	};

	ck_assert_uint_ge(lfx_assert_pack_agrees("credential", 1, 6, decnet,
	    pack), 20);
}
END_TEST

/* DECNET's R0001, R0002, R0004-R0006 loaded into the credential lifter. */
static void
open_decnet(struct lfx *fx)
{
	lfx_open(fx, "credential", NULL);
	lfx_add_decnet(fx, 1, 6);
	ck_assert_int_eq(lfx_assign(fx), 0);
	/* R0003 is the identity lifter's */
	ck_assert(lfx_rule(fx, "R0003")->owner == NULL);
	ck_assert(lfx_rule(fx, "R0001")->owner == fx->p);
}

static int
fires(struct lfx *fx, const char *kind, const char *payload,
    const char *rule_id)
{
	ck_assert_int_eq(lfx_run(fx, kind, "att-1", NULL, payload), TTPD_OK);
	return lfx_count(fx, rule_id) > 0;
}

struct fire_case {
	const char *kind, *payload, *rule_id;
	int fires;
};

static const struct fire_case fire_cases[] = {
	/* R0001: fail_count >= 5 */
	{ "auth_attempt", "{\"fail_count\": 5}", "R0001", 1 },
	{ "auth_attempt", "{\"fail_count\": 4}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": 9223372036854775807}", "R0001",
	    1 },
	{ "auth_attempt", "{\"fail_count\": -5}", "R0001", 0 },
	{ "auth_attempt", "{}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": null}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": \"5\"}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": 5.0}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": true}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": [5]}", "R0001", 0 },
	{ "auth_attempt", "{\"fail_count\": {\"n\": 5}}", "R0001", 0 },
	{ "credential", "{\"fail_count\": 50}", "R0001", 0 },
	/* R0002: password_count >= 5 and a non-empty username */
	{ "auth_attempt", "{\"password_count\": 5, \"username\": \"root\"}",
	    "R0002", 1 },
	{ "auth_attempt", "{\"password_count\": 4, \"username\": \"root\"}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": 5, \"username\": \"\"}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": 5}", "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": 5, \"username\": 7}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": 5, \"username\": null}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": 5, \"username\": [\"a\"]}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": \"9\", \"username\": \"r\"}",
	    "R0002", 0 },
	{ "auth_attempt", "{\"password_count\": true, \"username\": \"r\"}",
	    "R0002", 0 },
	/* R0004: non-empty credential_hash and reuse_count >= 1 */
	{ "credential", "{\"credential_hash\": \"h\", \"reuse_count\": 1}",
	    "R0004", 1 },
	{ "credential", "{\"credential_hash\": \"h\", \"reuse_count\": 0}",
	    "R0004", 0 },
	{ "credential", "{\"credential_hash\": \"h\", \"reuse_count\": true}",
	    "R0004", 0 },
	{ "credential", "{\"credential_hash\": \"h\", \"reuse_count\": 1.0}",
	    "R0004", 0 },
	{ "credential", "{\"credential_hash\": \"\", \"reuse_count\": 3}",
	    "R0004", 0 },
	{ "credential", "{\"credential_hash\": 12, \"reuse_count\": 3}",
	    "R0004", 0 },
	{ "credential", "{\"reuse_count\": 3}", "R0004", 0 },
	{ "credential", "{\"credential_hash\": {}, \"reuse_count\": 3}",
	    "R0004", 0 },
	{ "auth_attempt", "{\"credential_hash\": \"h\", \"reuse_count\": 3}",
	    "R0004", 0 },
	/* R0005: result "success" after a brute force (prior_brute true) */
	{ "auth_attempt", "{\"result\": \"success\", \"prior_brute\": true}",
	    "R0005", 1 },
	{ "auth_attempt", "{\"result\": \"success\", \"prior_brute\": false}",
	    "R0005", 0 },
	{ "auth_attempt", "{\"result\": \"success\", \"prior_brute\": 1}",
	    "R0005", 0 },
	{ "auth_attempt", "{\"result\": \"success\", \"prior_brute\": "
	    "\"true\"}", "R0005", 0 },
	{ "auth_attempt", "{\"result\": \"success\"}", "R0005", 0 },
	{ "auth_attempt", "{\"result\": \"Success\", \"prior_brute\": true}",
	    "R0005", 0 },
	{ "auth_attempt", "{\"result\": \"success \", \"prior_brute\": true}",
	    "R0005", 0 },
	{ "auth_attempt", "{\"result\": [\"success\"], \"prior_brute\": "
	    "true}", "R0005", 0 },
	{ "auth_attempt", "{\"prior_brute\": true}", "R0005", 0 },
	/* R0006: the default pairs, exactly */
	{ "auth_attempt", "{\"username\": \"root\", \"password\": \"root\"}",
	    "R0006", 1 },
	{ "auth_attempt", "{\"username\": \"admin\", \"password\": "
	    "\"admin\"}", "R0006", 1 },
	{ "auth_attempt", "{\"username\": \"admin\", \"password\": "
	    "\"password\"}", "R0006", 1 },
	{ "auth_attempt", "{\"username\": \"root\", \"password\": \"\"}",
	    "R0006", 1 },
	{ "auth_attempt", "{\"username\": \"pi\", \"password\": "
	    "\"raspberry\"}", "R0006", 1 },
	{ "auth_attempt", "{\"username\": \"root\", \"password\": null}",
	    "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"root\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"Root\", \"password\": \"root\"}",
	    "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"admin\", \"password\": "
	    "\"Admin\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"admin \", \"password\": "
	    "\"admin\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"root\\u00a0\", \"password\": "
	    "\"root\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"pi\", \"password\": "
	    "\"root\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": [\"root\"], \"password\": "
	    "\"root\"}", "R0006", 0 },
	{ "auth_attempt", "{\"username\": \"ubnt\", \"password\": "
	    "\"ubnt\"}", "R0006", 0 },
};

START_TEST(test_fires_exactly_when_specified)
{
	const struct fire_case *c = &fire_cases[_i];
	struct lfx fx;

	open_decnet(&fx);
	ck_assert_msg(fires(&fx, c->kind, c->payload, c->rule_id) ==
	    c->fires, "%s on %s %s: want %s", c->rule_id, c->kind, c->payload,
	    c->fires ? "a tag" : "none");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_evidence)
{
	struct lfx fx;
	const struct tag *t;

	open_decnet(&fx);
	/* base recipe keeps null and non-string values; extra adds only a
	 * non-empty service string */
	fires(&fx, "auth_attempt", "{\"service\": null, \"fail_count\": 6}",
	    "R0001");
	lfx_assert_evidence(&fx, "R0001",
	    "{\"fail_count\": 6, \"service\": null}");
	fires(&fx, "auth_attempt", "{\"fail_count\": 6, \"service\": 22}",
	    "R0001");
	lfx_assert_evidence(&fx, "R0001",
	    "{\"fail_count\": 6, \"service\": 22}");
	fires(&fx, "auth_attempt", "{\"fail_count\": 7, \"service\": \"ftp\", "
	    "\"extra\": {\"nested\": [1]}}", "R0001");
	lfx_assert_evidence(&fx, "R0001",
	    "{\"fail_count\": 7, \"service\": \"ftp\"}");
	/* unicode passes through unchanged */
	fires(&fx, "auth_attempt", "{\"password_count\": 7, \"username\": "
	    "\"\\u0430\\u0434\\u043c\\u0438\\u043d\"}", "R0002");
	lfx_assert_evidence(&fx, "R0002", "{\"username\": "
	    "\"\\u0430\\u0434\\u043c\\u0438\\u043d\", \"password_count\": 7}");
	fires(&fx, "credential", "{\"credential_hash\": \"\\u00e9\\u4e2d\", "
	    "\"reuse_count\": 2}", "R0004");
	lfx_assert_evidence(&fx, "R0004", "{\"credential_hash\": "
	    "\"\\u00e9\\u4e2d\", \"reuse_count\": 2}");
	/* R0005 without username/service: empty evidence */
	fires(&fx, "auth_attempt", "{\"result\": \"success\", "
	    "\"prior_brute\": true}", "R0005");
	lfx_assert_evidence(&fx, "R0005", "{}");
	fires(&fx, "auth_attempt", "{\"result\": \"success\", "
	    "\"prior_brute\": true, \"username\": 5, \"service\": \"\"}",
	    "R0005");
	lfx_assert_evidence(&fx, "R0005", "{\"username\": 5, \"service\": \"\"}");
	fires(&fx, "auth_attempt", "{\"username\": \"pi\", \"password\": "
	    "\"raspberry\", \"service\": \"telnet\"}", "R0006");
	lfx_assert_evidence(&fx, "R0006",
	    "{\"username\": \"pi\", \"service\": \"telnet\"}");
	/* the tag itself */
	t = lfx_tag(&fx, "R0006");
	ck_assert_str_eq(t->technique_id, "T1078");
	ck_assert_str_eq(t->sub_technique_id, "T1078.001");
	ck_assert_str_eq(t->tactic, "TA0001");
	ck_assert_double_eq_tol(t->confidence, 0.9, 1e-12);
	ck_assert_str_eq(t->attacker_uuid, "att-1");
	ck_assert_ptr_null(t->identity_uuid);
	ck_assert_str_eq(t->mitre_url,
	    "https://attack.mitre.org/techniques/T1078/001");
	lfx_close(&fx);
}
END_TEST

/* Evidence when the rule's evidence_fields do not list the extra keys:
 * they are appended in the predicate's order. */
START_TEST(test_extra_appended_after_fields)
{
	struct lfx fx;

	lfx_open(&fx, "credential", NULL);
	lfx_add_yaml(&fx, "rule_id: X1\nrule_version: 1\nname: x\n"
	    "applies_to: [auth_attempt]\n"
	    "match: {kind: 'lifter:credential_auth_brute_generic'}\n"
	    "emits: [{tactic: TA0006, technique_id: T1110, confidence: 0.5}]\n"
	    "evidence_fields: [tool, service]\n");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	fires(&fx, "auth_attempt", "{\"fail_count\": 5, \"service\": \"ssh\", "
	    "\"tool\": \"hydra\"}", "X1");
	lfx_assert_evidence(&fx, "X1", "{\"tool\": \"hydra\", \"service\": "
	    "\"ssh\", \"fail_count\": 5}");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_several_rules_on_one_event)
{
	struct lfx fx;

	open_decnet(&fx);
	fires(&fx, "auth_attempt", "{\"fail_count\": 12, \"password_count\": "
	    "9, \"username\": \"admin\", \"password\": \"admin\", \"service\": "
	    "\"ssh\", \"result\": \"success\", \"prior_brute\": true}", "R0001");
	ck_assert_uint_eq(fx.tags.n, 4);
	/* rule load order */
	ck_assert_str_eq(fx.tags.v[0].rule_id, "R0001");
	ck_assert_str_eq(fx.tags.v[1].rule_id, "R0002");
	ck_assert_str_eq(fx.tags.v[2].rule_id, "R0005");
	ck_assert_str_eq(fx.tags.v[3].rule_id, "R0006");
	lfx_assert_evidence(&fx, "R0005",
	    "{\"username\": \"admin\", \"service\": \"ssh\"}");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_rule_state)
{
	struct lfx fx;
	const char *payload = "{\"fail_count\": 12, \"password_count\": 9, "
	    "\"username\": \"root\", \"password\": \"root\"}";

	open_decnet(&fx);
	lfx_rule(&fx, "R0001")->state.state = RULE_STATE_DISABLED;
	lfx_rule(&fx, "R0006")->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	lfx_rule(&fx, "R0006")->state.has_confidence_max = 1;
	lfx_rule(&fx, "R0006")->state.confidence_max = 0.5;
	ck_assert_int_eq(lfx_run(&fx, "auth_attempt", "att-1", NULL, payload),
	    TTPD_OK);
	ck_assert_uint_eq(lfx_count(&fx, "R0001"), 0);
	ck_assert_uint_eq(lfx_count(&fx, "R0002"), 1);
	ck_assert_double_eq_tol(lfx_tag(&fx, "R0002")->confidence, 0.85,
	    1e-12);
	ck_assert_uint_eq(lfx_count(&fx, "R0006"), 1);
	ck_assert_double_eq_tol(lfx_tag(&fx, "R0006")->confidence, 0.5, 1e-12);
	/* an expired disabled state reverts to enabled */
	lfx_rule(&fx, "R0001")->state.expires_at_ns = 1;
	ck_assert_int_eq(lfx_run(&fx, "auth_attempt", "att-1", NULL, payload),
	    TTPD_OK);
	ck_assert_uint_eq(lfx_count(&fx, "R0001"), 1);
	lfx_close(&fx);
}
END_TEST

/* Thresholds and pairs come from the rule; wrong types reject it. */
static const char rule_head[] =
    "rule_id: X1\nrule_version: 1\nname: x\n"
    "applies_to: [auth_attempt, credential]\n"
    "emits: [{tactic: TA0006, technique_id: T1110, confidence: 0.5}]\n";

static void
open_with_match(struct lfx *fx, const char *match)
{
	char yaml[1024];

	lfx_open(fx, "credential", NULL);
	snprintf(yaml, sizeof yaml, "%smatch: %s\n", rule_head, match);
	lfx_add_yaml(fx, yaml);
}

START_TEST(test_match_parameters)
{
	struct lfx fx;

	open_with_match(&fx, "{kind: 'lifter:credential_auth_brute_generic', "
	    "fail_threshold: 0}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(fires(&fx, "auth_attempt", "{\"fail_count\": 0}", "X1"));
	ck_assert(!fires(&fx, "auth_attempt", "{\"fail_count\": -1}", "X1"));
	lfx_close(&fx);

	/* defaults when the key is absent: 5 */
	open_with_match(&fx, "{kind: 'lifter:credential_password_guessing'}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(fires(&fx, "auth_attempt", "{\"password_count\": 5, "
	    "\"username\": \"u\"}", "X1"));
	ck_assert(!fires(&fx, "auth_attempt", "{\"password_count\": 4, "
	    "\"username\": \"u\"}", "X1"));
	lfx_close(&fx);

	open_with_match(&fx, "{kind: 'lifter:credential_reuse', "
	    "reuse_threshold: 2}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(fires(&fx, "credential", "{\"credential_hash\": \"h\", "
	    "\"reuse_count\": 2}", "X1"));
	ck_assert(!fires(&fx, "credential", "{\"credential_hash\": \"h\", "
	    "\"reuse_count\": 1}", "X1"));
	lfx_close(&fx);

	/* require_prior_brute false: any success */
	open_with_match(&fx, "{kind: 'lifter:credential_valid_account_use', "
	    "require_prior_brute: false}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(fires(&fx, "auth_attempt", "{\"result\": \"success\"}",
	    "X1"));
	lfx_close(&fx);

	/* own pairs replace the defaults; an empty list matches nothing */
	open_with_match(&fx, "{kind: 'lifter:credential_default_credentials', "
	    "pairs: [[ubnt, ubnt], ['\\u0430', '']]}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(fires(&fx, "auth_attempt", "{\"username\": \"ubnt\", "
	    "\"password\": \"ubnt\"}", "X1"));
	ck_assert(!fires(&fx, "auth_attempt", "{\"username\": \"root\", "
	    "\"password\": \"root\"}", "X1"));
	lfx_close(&fx);
	open_with_match(&fx, "{kind: 'lifter:credential_default_credentials', "
	    "pairs: []}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(!fires(&fx, "auth_attempt", "{\"username\": \"root\", "
	    "\"password\": \"root\"}", "X1"));
	lfx_close(&fx);

	/* an owned rule of an unknown kind loads and never fires */
	open_with_match(&fx, "{kind: 'lifter:credential_nonsense'}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(!fires(&fx, "auth_attempt", "{\"fail_count\": 99}", "X1"));
	lfx_close(&fx);
}
END_TEST

static const char *const bad_matches[] = {
	"{kind: 'lifter:credential_auth_brute_generic', fail_threshold: '5'}",
	"{kind: 'lifter:credential_auth_brute_generic', fail_threshold: 5.0}",
	"{kind: 'lifter:credential_auth_brute_generic', fail_threshold: true}",
	"{kind: 'lifter:credential_auth_brute_generic', fail_threshold: -1}",
	"{kind: 'lifter:credential_password_guessing', pw_threshold: null}",
	"{kind: 'lifter:credential_reuse', reuse_threshold: [1]}",
	"{kind: 'lifter:credential_valid_account_use', "
	    "require_prior_brute: 1}",
	"{kind: 'lifter:credential_valid_account_use', "
	    "require_prior_brute: 'yes please'}",
	"{kind: 'lifter:credential_default_credentials', pairs: {root: root}}",
	"{kind: 'lifter:credential_default_credentials', pairs: [[root]]}",
	"{kind: 'lifter:credential_default_credentials', "
	    "pairs: [[root, root, root]]}",
	"{kind: 'lifter:credential_default_credentials', pairs: [[root, 1]]}",
	"{kind: 'lifter:credential_default_credentials', pairs: [root]}",
};

START_TEST(test_bad_match_rejected)
{
	struct lfx fx;

	open_with_match(&fx, bad_matches[_i]);
	ck_assert_int_eq(lfx_assign(&fx), 1);
	ck_assert_msg(strstr(fx.reports, "X1") != NULL &&
	    strstr(fx.reports, "match.") != NULL, "report: %s", fx.reports);
	lfx_close(&fx);
}
END_TEST

static Suite *
credential_suite(void)
{
	Suite *s = suite_create("credential");
	TCase *golden = tcase_create("golden");
	TCase *tc = tcase_create("predicates");

	tcase_set_timeout(golden, 300);
	tcase_add_test(golden, test_golden_parity_r0001_r0002);
	tcase_add_test(golden, test_golden_parity_r0004_r0006);
	suite_add_tcase(s, golden);
	tcase_add_loop_test(tc, test_fires_exactly_when_specified, 0,
	    (int)(sizeof fire_cases / sizeof fire_cases[0]));
	tcase_add_test(tc, test_evidence);
	tcase_add_test(tc, test_pack_rules_agree_with_decnet);
	tcase_add_test(tc, test_extra_appended_after_fields);
	tcase_add_test(tc, test_several_rules_on_one_event);
	tcase_add_test(tc, test_rule_state);
	tcase_add_test(tc, test_match_parameters);
	tcase_add_loop_test(tc, test_bad_match_rejected, 0,
	    (int)(sizeof bad_matches / sizeof bad_matches[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(credential_suite());
	int failed;

	log_set_level(TTPD_LOG_ERR);    /* the unknown-kind warning */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
