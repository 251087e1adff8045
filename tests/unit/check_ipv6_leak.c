/*
 * The ipv6_leak lifter (plugins/ipv6_leak) through the real host, against
 * DECNET's Ipv6LeakLifter (decnet-lifters.md section 3.7) and ttpd's
 * departures: the whole fe80::/10 is link-local, addresses are parsed,
 * zones and IPv4-mapped forms are handled deliberately.
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

#define KIND "ipv6_leak"

START_TEST(test_golden_ipv6_parity)
{
	struct golden_result r;

	golden_run("{ name = \"ipv6_leak\"; }", 59, 59, &r);
	/* 6 DECNET tags plus the 3 fe80::/10 deviations */
	ck_assert_uint_eq(r.expected, 9);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

static void
open_decnet(struct lfx *fx)
{
	lfx_open(fx, "ipv6_leak", NULL);
	lfx_add_decnet(fx, 1, 59);
	ck_assert_int_eq(lfx_assign(fx), 0);
	ck_assert_int_eq((int)fx->p->nrules, 1);
	ck_assert_str_eq(fx->p->rules[0]->pub.rule_id, "R0059");
}

/* Is the address (a JSON value text) link-local for the lifter? */
static const struct {
	const char *addr;
	int fires;
} addrs[] = {
	{ "\"fe80::1\"", 1 },
	{ "\"FE80::A00:27FF:FE4E:66A1\"", 1 },
	{ "\"fe80:0:0:0:0:0:0:1\"", 1 },
	{ "\"fe80:0000:0000:0000:0000:0000:0000:0001\"", 1 },
	{ "\"fe80::\"", 1 },
	{ "\"fe80::1.2.3.4\"", 1 },
	/* the rest of fe80::/10, DECNET's text prefix missed them */
	{ "\"fe90::1\"", 1 },
	{ "\"fea0::1\"", 1 },
	{ "\"febf:ffff::1\"", 1 },
	{ "\"FEBF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF\"", 1 },
	/* just outside */
	{ "\"fec0::1\"", 0 },
	{ "\"fe7f:ffff::1\"", 0 },
	{ "\"ff02::1\"", 0 },
	{ "\"fe8::1\"", 0 },
	{ "\"2001:db8::1\"", 0 },
	{ "\"::1\"", 0 },
	{ "\"::\"", 0 },
	/* zones */
	{ "\"fe80::1%eth0\"", 1 },
	{ "\"fe80::1%25\"", 1 },
	{ "\"fe80::1%\"", 0 },
	{ "\"fe80::1%eth 0\"", 0 },
	{ "\"fe80::1%eth0%1\"", 0 },
	{ "\"fe80::1%\\u00e9th0\"", 0 },
	{ "\"%eth0\"", 0 },
	/* IPv4-mapped and -compatible are IPv4, even link-local IPv4 */
	{ "\"::ffff:192.168.1.1\"", 0 },
	{ "\"::ffff:169.254.1.1\"", 0 },
	{ "\"::169.254.1.1\"", 0 },
	{ "\"169.254.1.1\"", 0 },
	/* not addresses: DECNET's prefix test fired on some of these */
	{ "\"fe80:\"", 0 },
	{ "\"fe80:zz::1\"", 0 },
	{ "\"fe80::1 \"", 0 },
	{ "\" fe80::1\"", 0 },
	{ "\"[fe80::1]\"", 0 },
	{ "\"fe80::1/64\"", 0 },
	{ "\"fe80:0:0:0:0:0:0:0:1\"", 0 },
	{ "\"fe80::10000\"", 0 },
	{ "\"fe80::1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:0:1:2:3:4:5:6:7\"", 0 },
	{ "\"\\u0444\\u044580::1\"", 0 },
	{ "\"\"", 0 },
	/* wrong types */
	{ "5", 0 },
	{ "true", 0 },
	{ "null", 0 },
	{ "[\"fe80::1\"]", 0 },
	{ "{\"addr\": \"fe80::1\"}", 0 },
};

START_TEST(test_addresses)
{
	struct lfx fx;
	char payload[256];
	size_t i;

	open_decnet(&fx);
	for (i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		snprintf(payload, sizeof payload, "{\"addr\": %s}",
		    addrs[i].addr);
		lfx_run(&fx, KIND, "att-check", NULL, payload);
		ck_assert_msg(fx.tags.n == (size_t)addrs[i].fires,
		    "%s: %zu tags, want %d", addrs[i].addr, fx.tags.n,
		    addrs[i].fires);
	}
	lfx_close(&fx);
}
END_TEST

struct row {
	const char *payload;
	const char *evidence; /* NULL: no tag */
};

static const struct row rows[] = {
	/* minimal: defaults */
	{ "{\"addr\": \"fe80::1\"}",
	    "{\"addr\": \"fe80::1\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\", \"on_iface\": \"\", "
	    "\"attacker_v4\": \"\", \"observed_at\": \"\"}" },
	/* everything given; the address keeps its case and zone */
	{ "{\"addr\": \"FE80::A00:27FF:FE4E:66A1%eth0\", \"mac_oui\": "
	    "\"08:00:27\", \"iid_kind\": \"eui64\", \"vector\": "
	    "\"passive_ndp\", \"on_iface\": \"eth0\", \"attacker_v4\": "
	    "\"203.0.113.7\", \"attacker_ip\": \"198.51.100.1\", "
	    "\"observed_at\": \"2026-01-01T00:00:00Z\", \"extra\": 1}",
	    "{\"addr\": \"FE80::A00:27FF:FE4E:66A1%eth0\", \"mac_oui\": "
	    "\"08:00:27\", \"iid_kind\": \"eui64\", \"vector\": "
	    "\"passive_ndp\", \"on_iface\": \"eth0\", \"attacker_v4\": "
	    "\"203.0.113.7\", \"observed_at\": \"2026-01-01T00:00:00Z\"}" },
	/* src_ip fallback when addr is falsy */
	{ "{\"addr\": \"\", \"src_ip\": \"fe80::2\"}",
	    "{\"addr\": \"fe80::2\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\", \"on_iface\": \"\", "
	    "\"attacker_v4\": \"\", \"observed_at\": \"\"}" },
	{ "{\"addr\": null, \"src_ip\": \"fe80::3\"}",
	    "{\"addr\": \"fe80::3\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\", \"on_iface\": \"\", "
	    "\"attacker_v4\": \"\", \"observed_at\": \"\"}" },
	{ "{\"addr\": false, \"src_ip\": \"fe80::4\"}",
	    "{\"addr\": \"fe80::4\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\", \"on_iface\": \"\", "
	    "\"attacker_v4\": \"\", \"observed_at\": \"\"}" },
	/* a truthy non-string addr hides src_ip, as in DECNET */
	{ "{\"addr\": 5, \"src_ip\": \"fe80::2\"}", NULL },
	{ "{\"addr\": \"2001:db8::1\", \"src_ip\": \"fe80::2\"}", NULL },
	{ "{\"src_ip\": null}", NULL },
	{ "{}", NULL },
	/* explicit nulls and odd types pass through; attacker_ip fallback */
	{ "{\"addr\": \"fe80::5\", \"mac_oui\": null, \"iid_kind\": 7, "
	    "\"vector\": [\"a\"], \"observed_at\": null, "
	    "\"attacker_v4\": \"\", \"attacker_ip\": \"198.51.100.4\"}",
	    "{\"addr\": \"fe80::5\", \"mac_oui\": null, \"iid_kind\": 7, "
	    "\"vector\": [\"a\"], \"on_iface\": \"\", \"attacker_v4\": "
	    "\"198.51.100.4\", \"observed_at\": null}" },
	{ "{\"addr\": \"fe80::6\", \"attacker_v4\": null, \"attacker_ip\": "
	    "0}",
	    "{\"addr\": \"fe80::6\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\", \"on_iface\": \"\", "
	    "\"attacker_v4\": \"\", \"observed_at\": \"\"}" },
	/* Unicode in the copied fields */
	{ "{\"addr\": \"fe80::7\", \"on_iface\": \"\\u7f51\\u53e31\", "
	    "\"vector\": \"\\u0430\\u043a\\u0442\\u0438\\u0432\"}",
	    "{\"addr\": \"fe80::7\", \"mac_oui\": \"\", \"iid_kind\": "
	    "\"unknown\", \"vector\": \"\\u0430\\u043a\\u0442\\u0438\\u0432\", "
	    "\"on_iface\": \"\\u7f51\\u53e31\", \"attacker_v4\": \"\", "
	    "\"observed_at\": \"\"}" },
};

START_TEST(test_evidence_rows)
{
	struct lfx fx;
	size_t i;

	open_decnet(&fx);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		lfx_run(&fx, KIND, "att-check", NULL, rows[i].payload);
		ck_assert_msg(fx.tags.n == (rows[i].evidence != NULL),
		    "%s: %zu tags", rows[i].payload, fx.tags.n);
		if (rows[i].evidence == NULL)
			continue;
		ck_assert_str_eq(fx.tags.v[0].rule_id, "R0059");
		ck_assert_str_eq(fx.tags.v[0].technique_id, "T1090");
		ck_assert_str_eq(fx.tags.v[0].tactic, "TA0011");
		ck_assert(fx.tags.v[0].sub_technique_id == NULL);
		ck_assert(fx.tags.v[0].confidence == 0.85);
		ck_assert_str_eq(fx.tags.v[0].mitre_url,
		    "https://attack.mitre.org/techniques/T1090");
		ck_assert_msg(lfx_evidence_is(&fx.tags.v[0], rows[i].evidence),
		    "%s", rows[i].payload);
	}
	/* another kind does not reach the rule */
	lfx_run(&fx, "session", "att-check", NULL, "{\"addr\": \"fe80::1\"}");
	ck_assert_uint_eq(fx.tags.n, 0);
	lfx_close(&fx);
}
END_TEST

static const char *const rule_fmt =
    "rule_id: %s\n"
    "rule_version: 1\n"
    "name: test_%s\n"
    "applies_to: [ipv6_leak]\n"
    "match:\n"
    "  kind: %s\n"
    "emits:\n"
    "  - tactic: TA0011\n"
    "    technique_id: T1090\n"
    "    confidence: %s\n";

static struct rule *
add_rule(struct lfx *fx, const char *id, const char *kind, const char *conf)
{
	char yaml[1024];

	snprintf(yaml, sizeof yaml, rule_fmt, id, id, kind, conf);
	return lfx_add_yaml(fx, yaml);
}

/* Ownership is the exact kind; several rules fire on one event; rule
 * state gates and clips. */
START_TEST(test_ownership_and_state)
{
	struct lfx fx;
	struct rule *a, *b, *c, *d;

	lfx_open(&fx, "ipv6_leak", NULL);
	a = add_rule(&fx, "X1", "lifter:ipv6_link_local_leak", "0.85");
	b = add_rule(&fx, "X2", "lifter:ipv6_link_local_leak", "0.6");
	c = add_rule(&fx, "X3", "lifter:ipv6_link_local_leak_v2", "0.9");
	d = add_rule(&fx, "X4", "lifter:ipv6_leak_other", "0.9");
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert(a->owner == fx.p && b->owner == fx.p);
	ck_assert(c->owner == NULL && d->owner == NULL);
	ck_assert_int_eq((int)fx.p->nrules, 2);

	lfx_run(&fx, KIND, "att-check", NULL, "{\"addr\": \"fe80::1\"}");
	ck_assert_uint_eq(fx.tags.n, 2);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "X1");
	ck_assert_str_eq(fx.tags.v[1].rule_id, "X2");
	ck_assert(fx.tags.v[1].confidence == 0.6);

	a->state.state = RULE_STATE_DISABLED;
	b->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	b->state.has_confidence_max = 1;
	b->state.confidence_max = 0.4;
	lfx_run(&fx, KIND, "att-check", NULL, "{\"addr\": \"fe80::1\"}");
	ck_assert_uint_eq(fx.tags.n, 1);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "X2");
	ck_assert(fx.tags.v[0].confidence == 0.4);
	lfx_close(&fx);
}
END_TEST

/* ttpd's own TD0601 loads, belongs to ipv6_leak and fires on /10. */
START_TEST(test_pack_rule)
{
	struct lfx fx;
	char dir[PATH_MAX];
	const char *dirs[1] = { dir };

	lfx_open(&fx, "ipv6_leak", NULL);
	snprintf(dir, sizeof dir, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, NULL, NULL), 0);
	ck_assert_int_eq(lfx_assign(&fx), 0);
	ck_assert_int_eq((int)fx.p->nrules, 1);
	ck_assert_str_eq(fx.p->rules[0]->pub.rule_id, "TD0601");
	lfx_run(&fx, KIND, "att-check", NULL, "{\"addr\": \"febf::1%wlan0\"}");
	ck_assert_uint_eq(fx.tags.n, 1);
	lfx_run(&fx, KIND, "att-check", NULL, "{\"addr\": \"fec0::1\"}");
	ck_assert_uint_eq(fx.tags.n, 0);
	lfx_close(&fx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ipv6_leak");
	TCase *tc = tcase_create("lifter"), *tg = tcase_create("golden");
	SRunner *sr;
	int failed;

	log_set_level(TTPD_LOG_ERR);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_evidence_rows);
	tcase_add_test(tc, test_ownership_and_state);
	tcase_add_test(tc, test_pack_rule);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tg, 300);
	tcase_add_test(tg, test_golden_ipv6_parity);
	suite_add_tcase(s, tg);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
