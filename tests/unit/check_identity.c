/*
 * The identity lifter (plugins/identity) through the real host: golden
 * parity for R0003 and the password-spraying predicate of
 * decnet-lifters.md section 3.5 at and around its edges.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "lifter_fx.h"
#include "log.h"
#include "testutil.h"

START_TEST(test_golden_parity)
{
	struct golden_result r;

	golden_run("{ name = \"identity\"; }", 3, 3, &r);
	ck_assert_uint_ge(r.expected, 2);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/* The default pack's TD0703 decides like DECNET's R0003 on every golden
 * event. */
START_TEST(test_pack_rule_agrees_with_decnet)
{
	static const char *const decnet[] = { "R0003", NULL };
	static const char *const pack[] = { "TD0703", NULL };

	ck_assert_uint_ge(lfx_assert_pack_agrees("identity", 1, 6, decnet,
	    pack), 2);
}
END_TEST

static void
open_decnet(struct lfx *fx)
{
	lfx_open(fx, "identity", NULL);
	lfx_add_decnet(fx, 1, 6);
	ck_assert_int_eq(lfx_assign(fx), 0);
	ck_assert(lfx_rule(fx, "R0003")->owner == fx->p);
	ck_assert(lfx_rule(fx, "R0001")->owner == NULL);
}

struct fire_case {
	const char *payload;
	int fires;
};

static const struct fire_case fire_cases[] = {
	{ "{\"shared_password_hash\": \"h\", \"account_count\": 3}", 1 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": 2}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": "
	    "9223372036854775807}", 1 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": -3}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": 3.0}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": \"3\"}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": true}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": null}", 0 },
	{ "{\"shared_password_hash\": \"h\", \"account_count\": [3]}", 0 },
	{ "{\"shared_password_hash\": \"h\"}", 0 },
	{ "{\"shared_password_hash\": \"\", \"account_count\": 10}", 0 },
	{ "{\"shared_password_hash\": 5, \"account_count\": 10}", 0 },
	{ "{\"shared_password_hash\": null, \"account_count\": 10}", 0 },
	{ "{\"shared_password_hash\": [\"h\"], \"account_count\": 10}", 0 },
	{ "{\"shared_password_hash\": {\"h\": 1}, \"account_count\": 10}", 0 },
	{ "{\"account_count\": 50}", 0 },
	{ "{}", 0 },
};

START_TEST(test_fires_exactly_when_specified)
{
	const struct fire_case *c = &fire_cases[_i];
	struct lfx fx;

	open_decnet(&fx);
	ck_assert_int_eq(lfx_run(&fx, "identity", "att-1", "idn-1",
	    c->payload), TTPD_OK);
	ck_assert_msg(lfx_count(&fx, "R0003") == (size_t)c->fires,
	    "R0003 on %s: want %s", c->payload, c->fires ? "a tag" : "none");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_tag_belongs_to_the_identity)
{
	struct lfx fx;
	const struct tag *t;

	open_decnet(&fx);
	ck_assert_int_eq(lfx_run(&fx, "identity", "att-member", "idn-golden",
	    "{\"account_count\": 100, \"members\": [\"a\", \"b\"], "
	    "\"shared_password_hash\": \"\\u0127\\u00e1sh-\\u00fc\\u4e2d\"}"),
	    TTPD_OK);
	ck_assert_uint_eq(fx.tags.n, 1);
	t = &fx.tags.v[0];
	ck_assert_ptr_null(t->attacker_uuid);
	ck_assert_str_eq(t->identity_uuid, "idn-golden");
	ck_assert_str_eq(t->session_id, "sess-lfx");
	ck_assert_str_eq(t->technique_id, "T1110");
	ck_assert_str_eq(t->sub_technique_id, "T1110.003");
	ck_assert_str_eq(t->tactic, "TA0006");
	ck_assert_double_eq_tol(t->confidence, 0.9, 1e-12);
	lfx_assert_evidence(&fx, "R0003", "{\"shared_password_hash\": "
	    "\"\\u0127\\u00e1sh-\\u00fc\\u4e2d\", \"account_count\": 100}");

	/* no identity_uuid: the tag cannot be anchored, so none */
	ck_assert_int_eq(lfx_run(&fx, "identity", "att-member", NULL,
	    "{\"shared_password_hash\": \"h\", \"account_count\": 5}"),
	    TTPD_OK);
	ck_assert_uint_eq(fx.tags.n, 0);
	/* other kinds never reach it */
	ck_assert_int_eq(lfx_run(&fx, "credential", "att-member", "idn-1",
	    "{\"shared_password_hash\": \"h\", \"account_count\": 5}"),
	    TTPD_OK);
	ck_assert_uint_eq(fx.tags.n, 0);
	lfx_close(&fx);
}
END_TEST

static const char rule_fmt[] =
    "rule_id: %s\nrule_version: 1\nname: x\n"
    "applies_to: [identity]\n"
    "match: %s\n"
    "emits: [{tactic: TA0006, technique_id: T1110, "
    "sub_technique_id: T1110.003, confidence: %s}]\n"
    "evidence_fields: [%s]\n";

static void
add_rule(struct lfx *fx, const char *id, const char *match,
    const char *confidence, const char *fields)
{
	char yaml[1024];

	snprintf(yaml, sizeof yaml, rule_fmt, id, match, confidence, fields);
	lfx_add_yaml(fx, yaml);
}

START_TEST(test_several_rules_and_state)
{
	struct lfx fx;
	const char *payload = "{\"shared_password_hash\": \"h\", "
	    "\"account_count\": 4, \"members\": [\"m1\"]}";

	lfx_open(&fx, "identity", NULL);
	/* default threshold 1; evidence fields not covering the extras */
	add_rule(&fx, "X1", "{kind: 'lifter:identity_password_spraying'}",
	    "0.6", "members");
	add_rule(&fx, "X2", "{kind: 'lifter:identity_password_spraying', "
	    "account_threshold: 4}", "0.9", "account_count");
	add_rule(&fx, "X3", "{kind: 'lifter:identity_password_spraying', "
	    "account_threshold: 5}", "0.9", "");
	add_rule(&fx, "X4", "{kind: 'lifter:identity_password_spraying'}",
	    "0.9", "");
	add_rule(&fx, "X5", "{kind: 'lifter:identity_password_spraying'}",
	    "0.9", "");
	add_rule(&fx, "X6", "{kind: 'lifter:identity_other'}", "0.9", "");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	lfx_rule(&fx, "X4")->state.state = RULE_STATE_DISABLED;
	lfx_rule(&fx, "X5")->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	lfx_rule(&fx, "X5")->state.has_confidence_max = 1;
	lfx_rule(&fx, "X5")->state.confidence_max = 0.4;

	ck_assert_int_eq(lfx_run(&fx, "identity", "a", "i", payload), TTPD_OK);
	ck_assert_uint_eq(fx.tags.n, 3);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "X1");
	ck_assert_str_eq(fx.tags.v[1].rule_id, "X2");
	ck_assert_str_eq(fx.tags.v[2].rule_id, "X5");
	lfx_assert_evidence(&fx, "X1", "{\"members\": [\"m1\"], "
	    "\"shared_password_hash\": \"h\", \"account_count\": 4}");
	lfx_assert_evidence(&fx, "X2", "{\"account_count\": 4, "
	    "\"shared_password_hash\": \"h\"}");
	ck_assert_double_eq_tol(fx.tags.v[2].confidence, 0.4, 1e-12);
	lfx_close(&fx);
}
END_TEST

static const char *const bad_thresholds[] = {
	"'3'", "3.0", "true", "-1", "null", "[3]", "{n: 3}",
};

START_TEST(test_bad_threshold_rejected)
{
	struct lfx fx;
	char match[256];

	lfx_open(&fx, "identity", NULL);
	snprintf(match, sizeof match, "{kind: "
	    "'lifter:identity_password_spraying', account_threshold: %s}",
	    bad_thresholds[_i]);
	add_rule(&fx, "X1", match, "0.9", "");
	ck_assert_int_eq(lfx_assign(&fx), 1);
	ck_assert_msg(strstr(fx.reports, "match.account_threshold") != NULL,
	    "report: %s", fx.reports);
	lfx_close(&fx);
}
END_TEST

static Suite *
identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *golden = tcase_create("golden");
	TCase *tc = tcase_create("predicate");

	tcase_set_timeout(golden, 300);
	tcase_add_test(golden, test_golden_parity);
	suite_add_tcase(s, golden);
	tcase_add_loop_test(tc, test_fires_exactly_when_specified, 0,
	    (int)(sizeof fire_cases / sizeof fire_cases[0]));
	tcase_add_test(tc, test_tag_belongs_to_the_identity);
	tcase_add_test(tc, test_pack_rule_agrees_with_decnet);
	tcase_add_test(tc, test_several_rules_and_state);
	tcase_add_loop_test(tc, test_bad_threshold_rejected, 0,
	    (int)(sizeof bad_thresholds / sizeof bad_thresholds[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(identity_suite());
	int failed;

	log_set_level(TTPD_LOG_ERR);    /* the unknown-kind warning */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
