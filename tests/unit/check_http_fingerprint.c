/*
 * The http_fingerprint lifter (plugins/http_fingerprint) through the real
 * host, with the default pack's TD0801-TD0803 (DECNET never shipped its
 * HFP rules): the three predicates of decnet-lifters.md section 3.8, their
 * evidence, and the fixes to section 6 item 3.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifter_fx.h"
#include "log.h"
#include "testutil.h"

static void
open_pack(struct lfx *fx)
{
	lfx_open(fx, "http_fingerprint", NULL);
	lfx_add_pack(fx, "TD0801");
	lfx_add_pack(fx, "TD0802");
	lfx_add_pack(fx, "TD0803");
	ck_assert_int_eq(lfx_assign(fx), 0);
	ck_assert(lfx_rule(fx, "TD0801")->owner == fx->p);
}

static size_t
run(struct lfx *fx, const char *payload, const char *rule_id)
{
	ck_assert_int_eq(lfx_run(fx, "http_fingerprint", "att-1", NULL,
	    payload), TTPD_OK);
	return lfx_count(fx, rule_id);
}

/* DECNET's own rules give this lifter nothing: it is dead there. */
START_TEST(test_decnet_rules_not_owned)
{
	struct lfx fx;
	size_t i;

	lfx_open(&fx, "http_fingerprint", NULL);
	lfx_add_decnet(&fx, 1, 59);
	ck_assert_int_eq(lfx_assign(&fx), 0);
	for (i = 0; i < fx.rules.n; i++)
		ck_assert(fx.rules.v[i]->owner == NULL);
	ck_assert_int_eq(lfx_run(&fx, "http_fingerprint", "att-1", NULL,
	    "{\"ja4h\": \"GE11nn0000_abc_def\", \"protocol\": \"h1\"}"),
	    TTPD_OK);
	ck_assert_uint_eq(fx.tags.n, 0);
	lfx_close(&fx);
}
END_TEST

struct fire_case {
	const char *payload, *rule_id;
	int fires;
};

static const struct fire_case fire_cases[] = {
	/* TD0801: JA4H prefix in the catalogue */
	{ "{\"ja4h\": \"GE11nn0000_abc_def\"}", "TD0801", 1 },
	{ "{\"ja4h\": \"GE20nn0000_abc\"}", "TD0801", 1 },
	{ "{\"ja4h\": \"GE30nn0000\"}", "TD0801", 1 },
	{ "{\"ja4h\": \"GE30nn0000abcdef\"}", "TD0801", 1 },
	{ "{\"ja4h\": \"GE30nn000\"}", "TD0801", 0 },
	{ "{\"ja4h\": \"GE11nn0000x_abc\"}", "TD0801", 0 },
	{ "{\"ja4h\": \"ge11nn0000_abc\"}", "TD0801", 0 },
	{ "{\"ja4h\": \"GE11cr0612enus_abc\"}", "TD0801", 0 },
	{ "{\"ja4h\": \"_GE11nn0000\"}", "TD0801", 0 },
	{ "{\"ja4h\": \"\"}", "TD0801", 0 },
	{ "{\"ja4h\": null}", "TD0801", 0 },
	{ "{\"ja4h\": 5}", "TD0801", 0 },
	{ "{\"ja4h\": true}", "TD0801", 0 },
	{ "{\"ja4h\": [\"GE11nn0000_a\"]}", "TD0801", 0 },
	{ "{\"ja4h\": {\"v\": \"GE11nn0000_a\"}}", "TD0801", 0 },
	{ "{}", "TD0801", 0 },
	/* TD0802: HTTP/2 or HTTP/3 settings */
	{ "{\"fingerprint_type\": \"http2_settings\"}", "TD0802", 1 },
	{ "{\"fingerprint_type\": \"http3_settings\"}", "TD0802", 1 },
	{ "{\"fingerprint_type\": \"h2_settings\"}", "TD0802", 0 },
	{ "{\"fingerprint_type\": \"HTTP2_SETTINGS\"}", "TD0802", 0 },
	{ "{\"fingerprint_type\": \"http2_settings \"}", "TD0802", 0 },
	{ "{\"fingerprint_type\": \"ja4h\"}", "TD0802", 0 },
	{ "{\"fingerprint_type\": 2}", "TD0802", 0 },
	{ "{\"fingerprint_type\": null}", "TD0802", 0 },
	{ "{\"settings\": {\"1\": 65536}}", "TD0802", 0 },
	/* TD0803: a JA4 QUIC fingerprint */
	{ "{\"ja4_quic\": \"q13d0310h3_55b375c5d22e_cd85d2d88918\"}",
	    "TD0803", 1 },
	{ "{\"ja4_quic\": \"\\u4e2d\"}", "TD0803", 1 },
	{ "{\"ja4_quic\": \"\"}", "TD0803", 0 },
	{ "{\"ja4_quic\": 1}", "TD0803", 0 },
	{ "{\"ja4_quic\": true}", "TD0803", 0 },
	{ "{\"ja4_quic\": [\"q\"]}", "TD0803", 0 },
	{ "{\"ja4_quic\": null}", "TD0803", 0 },
};

START_TEST(test_fires_exactly_when_specified)
{
	const struct fire_case *c = &fire_cases[_i];
	struct lfx fx;

	open_pack(&fx);
	ck_assert_msg(run(&fx, c->payload, c->rule_id) == (size_t)c->fires,
	    "%s on %s: want %s", c->rule_id, c->payload,
	    c->fires ? "a tag" : "none");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_evidence)
{
	struct lfx fx;
	const struct tag *t;

	open_pack(&fx);
	run(&fx, "{\"ja4h\": \"GE11nn0000_abc_def\"}", "TD0801");
	lfx_assert_evidence(&fx, "TD0801", "{\"kind\": \"ja4h\", \"hash\": "
	    "\"GE11nn0000_abc_def\", \"protocol\": \"h1\", \"client_ip\": "
	    "\"\", \"seen_at\": \"\", \"raw\": null}");
	t = lfx_tag(&fx, "TD0801");
	ck_assert_str_eq(t->technique_id, "T1592");
	ck_assert_str_eq(t->sub_technique_id, "T1592.002");
	ck_assert_str_eq(t->tactic, "TA0043");
	ck_assert_double_eq_tol(t->confidence, 0.6, 1e-12);
	ck_assert_str_eq(t->mitre_url,
	    "https://attack.mitre.org/techniques/T1592/002");
	/* present values pass through, null included; other keys ignored */
	run(&fx, "{\"ja4h\": \"GE20nn0000_x\", \"protocol\": \"h2\", "
	    "\"client_ip\": null, \"seen_at\": \"2026-01-01T00:00:00Z\", "
	    "\"user_agent\": \"curl\"}", "TD0801");
	lfx_assert_evidence(&fx, "TD0801", "{\"kind\": \"ja4h\", \"hash\": "
	    "\"GE20nn0000_x\", \"protocol\": \"h2\", \"client_ip\": null, "
	    "\"seen_at\": \"2026-01-01T00:00:00Z\", \"raw\": null}");
	run(&fx, "{\"fingerprint_type\": \"http2_settings\", \"settings\": "
	    "{\"1\": 65536, \"4\": 6291456}, \"client_ip\": \"192.0.2.7\"}",
	    "TD0802");
	lfx_assert_evidence(&fx, "TD0802", "{\"kind\": \"http2_settings\", "
	    "\"hash\": \"\", \"protocol\": \"h2\", \"client_ip\": "
	    "\"192.0.2.7\", \"seen_at\": \"\", \"raw\": {\"1\": 65536, \"4\": "
	    "6291456}}");
	ck_assert_str_eq(lfx_tag(&fx, "TD0802")->tactic, "TA0007");
	run(&fx, "{\"fingerprint_type\": \"http3_settings\"}", "TD0802");
	lfx_assert_evidence(&fx, "TD0802", "{\"kind\": \"http3_settings\", "
	    "\"hash\": \"\", \"protocol\": \"h3\", \"client_ip\": \"\", "
	    "\"seen_at\": \"\", \"raw\": null}");
	run(&fx, "{\"ja4_quic\": \"q13d_a_b\", \"protocol\": \"h1\"}",
	    "TD0803");
	lfx_assert_evidence(&fx, "TD0803", "{\"kind\": \"ja4_quic\", \"hash\": "
	    "\"q13d_a_b\", \"protocol\": \"h3\", \"client_ip\": \"\", "
	    "\"seen_at\": \"\", \"raw\": null}");
	lfx_close(&fx);
}
END_TEST

START_TEST(test_several_rules_and_state)
{
	struct lfx fx;
	const char *all = "{\"ja4h\": \"GE11nn0000_a\", \"fingerprint_type\": "
	    "\"http3_settings\", \"ja4_quic\": \"q\"}";

	open_pack(&fx);
	run(&fx, all, "TD0801");
	ck_assert_uint_eq(fx.tags.n, 3);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "TD0801");
	ck_assert_str_eq(fx.tags.v[1].rule_id, "TD0802");
	ck_assert_str_eq(fx.tags.v[2].rule_id, "TD0803");
	lfx_rule(&fx, "TD0802")->state.state = RULE_STATE_DISABLED;
	lfx_rule(&fx, "TD0801")->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	lfx_rule(&fx, "TD0801")->state.has_confidence_max = 1;
	lfx_rule(&fx, "TD0801")->state.confidence_max = 0.35;
	run(&fx, all, "TD0801");
	ck_assert_uint_eq(fx.tags.n, 2);
	ck_assert_double_eq_tol(lfx_tag(&fx, "TD0801")->confidence, 0.35,
	    1e-12);
	ck_assert_uint_eq(lfx_count(&fx, "TD0802"), 0);
	ck_assert_uint_eq(lfx_count(&fx, "TD0803"), 1);
	lfx_close(&fx);
}
END_TEST

static const char rule_fmt[] =
    "rule_id: X1\nrule_version: 1\nname: x\n"
    "applies_to: [%s]\n"
    "match: %s\n"
    "emits: [{tactic: TA0043, technique_id: T1592, confidence: 0.6}]\n";

static void
open_with(struct lfx *fx, const char *applies_to, const char *match)
{
	char yaml[1024];

	lfx_open(fx, "http_fingerprint", NULL);
	snprintf(yaml, sizeof yaml, rule_fmt, applies_to, match);
	lfx_add_yaml(fx, yaml);
}

START_TEST(test_catalogues)
{
	struct lfx fx;

	/* absent: DECNET's three prefixes */
	open_with(&fx, "http_fingerprint",
	    "{kind: 'lifter:http_fingerprint_ja4h_scanner'}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": \"GE30nn0000_a\"}", "X1"), 1);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": \"PO11nn0000_a\"}", "X1"), 0);
	lfx_close(&fx);

	/* the prefix is 10 characters, not bytes; empty list: nothing */
	open_with(&fx, "http_fingerprint",
	    "{kind: 'lifter:http_fingerprint_ja4h_scanner', catalogues: "
	    "[\"\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\", "
	    "\"\\u00c4\\u00d6\"]}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": "
	    "\"\\u00c0\\u00c1\\u00c2\\u00c3\\u00c4\\u00c5\\u00c6\\u00c7"
	    "\\u00c8\\u00c9xyz\"}", "X1"), 1);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": \"\\u00c4\\u00d6_1\"}", "X1"),
	    1);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": \"GE11nn0000_a\"}", "X1"), 0);
	lfx_close(&fx);
	open_with(&fx, "http_fingerprint",
	    "{kind: 'lifter:http_fingerprint_ja4h_scanner', catalogues: []}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_uint_eq(run(&fx, "{\"ja4h\": \"GE11nn0000_a\"}", "X1"), 0);
	lfx_close(&fx);
}
END_TEST

/* applies_to is respected (DECNET's lifter ignored it). */
START_TEST(test_applies_to_respected)
{
	struct lfx fx;

	open_with(&fx, "session", "{kind: 'lifter:http_fingerprint_ja4_quic'}");
	lfx_assign(&fx);
	ck_assert_uint_eq(run(&fx, "{\"ja4_quic\": \"q\"}", "X1"), 0);
	lfx_close(&fx);
	/* an owned rule of an unknown kind never fires */
	open_with(&fx, "http_fingerprint",
	    "{kind: 'lifter:http_fingerprint_nonsense'}");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_uint_eq(run(&fx, "{\"ja4_quic\": \"q\", \"ja4h\": "
	    "\"GE11nn0000_a\"}", "X1"), 0);
	lfx_close(&fx);
}
END_TEST

static const char *const bad_catalogues[] = {
	"GE11nn0000", "{GE11nn0000: 1}", "[GE11nn0000, 5]", "[[GE11nn0000]]",
	"null",
};

START_TEST(test_bad_catalogues_rejected)
{
	struct lfx fx;
	char match[256];

	snprintf(match, sizeof match, "{kind: "
	    "'lifter:http_fingerprint_ja4h_scanner', catalogues: %s}",
	    bad_catalogues[_i]);
	open_with(&fx, "http_fingerprint", match);
	ck_assert_int_eq(lfx_assign(&fx), 1);
	ck_assert_msg(strstr(fx.reports, "match.catalogues") != NULL,
	    "report: %s", fx.reports);
	lfx_close(&fx);
}
END_TEST

static Suite *
http_fingerprint_suite(void)
{
	Suite *s = suite_create("http_fingerprint");
	TCase *tc = tcase_create("predicates");

	tcase_add_test(tc, test_decnet_rules_not_owned);
	tcase_add_loop_test(tc, test_fires_exactly_when_specified, 0,
	    (int)(sizeof fire_cases / sizeof fire_cases[0]));
	tcase_add_test(tc, test_evidence);
	tcase_add_test(tc, test_several_rules_and_state);
	tcase_add_test(tc, test_catalogues);
	tcase_add_test(tc, test_applies_to_respected);
	tcase_add_loop_test(tc, test_bad_catalogues_rejected, 0,
	    (int)(sizeof bad_catalogues / sizeof bad_catalogues[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_fingerprint_suite());
	int failed;

	log_set_level(TTPD_LOG_ERR);    /* the unknown-kind warning */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
