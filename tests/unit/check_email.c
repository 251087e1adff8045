/*
 * The email lifter against DECNET's EmailLifter (decnet-lifters.md 3.4):
 * golden parity for R0041-R0048, then per-rule checks through the real
 * host (loader, rule store, hostapi_run).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "testutil.h"

START_TEST(test_golden_email_parity)
{
	struct golden_result r;

	golden_run("{ name = \"email\"; }", 41, 48, &r);
	ck_assert_msg(r.expected > 50, "expected set suspiciously small: %zu",
	    r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/* ---- per-rule checks through the real host ---- */

struct fx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	char reports[4096];
	int nreports;
};

static struct fx fx;

static void
fx_report(void *ud, const char *msg)
{
	struct fx *f = ud;
	size_t len = strlen(f->reports);

	snprintf(f->reports + len, sizeof f->reports - len, "%s\n", msg);
	f->nreports++;
}

/* Load the email plugin with a JSON config (or none); 0 or -1. */
static int
fx_load(const char *config_json, char *err, size_t errlen)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char *dir;
	int rc;

	memset(&fx, 0, sizeof fx);
	registry_init(&fx.reg);
	ruleset_init(&fx.rules);
	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	if (config_json != NULL) {
		config = jv_parse(config_json, strlen(config_json), err,
		    errlen);
		ck_assert_msg(config != NULL, "%s", err);
	}
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"email";
	pc.config = config;
	pc.origin = (char *)"check_email:1";
	rc = loader_load(&fx.reg, dir, &pc, err, errlen);
	if (config != NULL)
		jv_decref(config);
	free(dir);
	if (rc == 0) {
		registry_finish(&fx.reg);
		fx.p = registry_find(&fx.reg, "email");
		ck_assert(fx.p != NULL);
	}
	return rc;
}

static void
fx_add_yaml(const char *yaml)
{
	char err[512];
	struct rule *r;

	r = rules_parse_buffer("inline.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ruleset_push(&fx.rules, r);
}

/* The email plugin with DECNET's 59 rules (it owns R0041-R0048). */
static void
setup_decnet(void)
{
	char err[1024], *dir;
	const char *dirs[1];

	ck_assert_msg(fx_load(NULL, err, sizeof err) == 0, "%s", err);
	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, fx_report, &fx),
	    0);
	ck_assert_int_eq((int)fx.rules.n, 59);
	free(dir);
}

static void
setup_assigned(void)
{
	setup_decnet();
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
}

static struct tag_list tags;

static void
teardown(void)
{
	tag_list_free(&tags);
	tag_list_init(&tags);
	registry_free(&fx.reg);
	ruleset_free(&fx.rules);
}

static struct rule *
find_rule(const char *id)
{
	size_t i;

	for (i = 0; i < fx.rules.n; i++)
		if (strcmp(fx.rules.v[i]->pub.rule_id, id) == 0)
			return fx.rules.v[i];
	ck_abort_msg("no rule %s", id);
	return NULL;
}

/* Run one email event; the tags are left in `tags`. */
static void
run(const char *payload_json)
{
	struct tag_settings ts = { "v15.1" };
	char err[256];
	ttpd_value *payload;
	ttpd_event ev;

	tag_list_free(&tags);
	tag_list_init(&tags);
	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = "email";
	ev.source_id = "msg-1";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	ck_assert_int_eq(hostapi_run(fx.p, &ev, &ts, 0, &tags), TTPD_OK);
	jv_decref(payload);
}

/* The distinct rule ids that fired, in emission order, comma-separated. */
static const char *
fired(void)
{
	static char buf[256];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < tags.n; i++) {
		if (i > 0 && strcmp(tags.v[i - 1].rule_id, tags.v[i].rule_id)
		    == 0)
			continue;
		if (buf[0] != '\0')
			strcat(buf, ",");
		strcat(buf, tags.v[i].rule_id);
	}
	return buf;
}

/* The evidence of rule_id's first tag equals the JSON `want`. */
static void
check_evidence(const char *rule_id, const char *want)
{
	ttpd_value *a, *b;
	size_t i;

	for (i = 0; i < tags.n; i++)
		if (strcmp(tags.v[i].rule_id, rule_id) == 0)
			break;
	ck_assert_msg(i < tags.n, "%s did not fire", rule_id);
	a = jv_parse(tags.v[i].evidence, strlen(tags.v[i].evidence), NULL, 0);
	b = jv_parse(want, strlen(want), NULL, 0);
	ck_assert(a != NULL && b != NULL);
	ck_assert_msg(jv_equal(a, b), "%s evidence %s, want %s", rule_id,
	    tags.v[i].evidence, want);
	jv_decref(a);
	jv_decref(b);
}

#define BASE(extra) "{\"body_sha256\":\"\",\"matched_headers\":" extra

struct fires_case {
	const char *payload;
	const char *fired;
};

static const struct fires_case fires_cases[] = {
	/* R0041 open relay: threshold 10 exactly, foreign From required */
	{ "{\"rcpt_count\":10,\"from_domain\":\"a.example\","
	  "\"mail_from_domain\":\"b.example\"}", "R0041,R0045" },
	{ "{\"rcpt_count\":9,\"from_domain\":\"a.example\","
	  "\"mail_from_domain\":\"b.example\"}", "R0045" },
	{ "{\"rcpt_count\":10,\"from_domain\":\"A.example\","
	  "\"mail_from_domain\":\" a.EXAMPLE \"}", "" },
	{ "{\"rcpt_count\":10,\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "R0041" },
	{ "{\"rcpt_count\":10,\"from\":\"x@a.example\"}", "" },
	{ "{\"rcpt_count\":\"10\",\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "" },
	{ "{\"rcpt_count\":10.0,\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "" },
	{ "{\"rcpt_count\":true,\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "" },
	{ "{\"rcpt_count\":null,\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "" },
	/* a truthy non-string from_domain hides `from` (no domain) */
	{ "{\"rcpt_count\":10,\"from_domain\":5,\"from\":\"x@a.example\","
	  "\"mail_from\":\"y@b.example\"}", "" },
	/* KELVIN SIGN lowers to k: same domain */
	{ "{\"rcpt_count\":10,\"from\":\"x@\\u212a.example\","
	  "\"mail_from\":\"y@k.example\"}", "" },
	/* R0042 mass phishing: 25 and any string/int simhash */
	{ "{\"rcpt_count\":25,\"body_simhash\":\"\"}", "R0042" },
	{ "{\"rcpt_count\":25,\"body_simhash\":0}", "R0042" },
	{ "{\"rcpt_count\":24,\"body_simhash\":\"x\"}", "" },
	{ "{\"rcpt_count\":25,\"body_simhash\":true}", "" },
	{ "{\"rcpt_count\":25,\"body_simhash\":1.5}", "" },
	{ "{\"rcpt_count\":25,\"body_simhash\":null}", "" },
	{ "{\"rcpt_count\":25}", "" },
	/* R0043 X-Mailer kit */
	{ "{\"x_mailer\":\"K\",\"xmailer_kit_match\":true}", "R0043" },
	{ "{\"x_mailer\":\"K\",\"xmailer_kit_match\":1}", "" },
	{ "{\"x_mailer\":\"\",\"matched_kit\":\"k\"}", "" },
	{ "{\"x_mailer\":7,\"matched_kit\":\"k\"}", "" },
	{ "{\"x_mailer\":\"K\",\"matched_kit\":\"\"}", "" },
	/* R0044 IDN url */
	{ "{\"urls\":[\"https://xn--e1afmkfd.example/\"]}", "R0044" },
	{ "{\"urls\":\"https://xn--e1afmkfd.example/\"}", "" },
	{ "{\"urls\":{\"a\":\"https://xn--e1afmkfd.example/\"}}", "" },
	{ "{\"urls\":[]}", "" },
	{ "{\"urls\":[\"https://XN--E1AFMKFD.example/\"]}", "" },
	{ "{\"urls\":[1,null,\"http://plain.example\"]}", "" },
	/* R0045 masquerade: literal false only */
	{ "{\"dkim_signed\":0}", "" },
	{ "{\"spf_pass\":null}", "" },
	{ "{\"spf_pass\":false}", "R0045" },
	{ "{\"from_domain\":\"\",\"return_path_domain\":\"b.example\"}",
	  "" },
	{ "{\"from_domain\":\"x@\",\"return_path_domain\":\"b.example\"}",
	  "R0045" },
	/* R0046 attachments */
	{ "{\"attachment_extensions\":[\"..LNK\"]}", "R0046" },
	{ "{\"attachment_extensions\":\"lnk\"}", "" },
	{ "{\"attachment_extensions\":[\"exe\",\"pdf\"]}", "" },
	{ "{\"html_smuggling\":\"true\"}", "" },
	{ "{\"attachment_macros\":1}", "" },
	/* R0047 BEC: a subject and a body are both needed */
	{ "{\"subject\":\"URGENT\",\"body_text\":\"please SEND\"}", "R0047" },
	{ "{\"subject\":\"URGENT\"}", "" },
	{ "{\"subject\":null,\"body_text\":\"send\"}", "" },
	{ "{\"subject\":\"hello\",\"body_text\":\"send\"}", "" },
	{ "{\"subject\":\"wire\",\"body_text\":\"\"}", "" },
	/* R0048 encoded payload */
	{ "{\"body_text\":\"x\",\"body_base64_bytes\":4096}", "R0048" },
	{ "{\"body_text\":\"x\",\"body_base64_bytes\":4095}", "" },
	{ "{\"body_text\":\"\",\"body_base64_bytes\":9999}", "" },
	{ "{\"body_base64_bytes\":9999}", "" },
	{ "{\"body_text\":\"x\",\"body_base64_bytes\":true}", "" },
	{ "{\"body_text\":\"x\",\"body_base64_bytes\":5000.0}", "" },
	/* wrong payload shapes never fire anything */
	{ "{}", "" },
	{ "{\"rcpt_domains\":7,\"attachment_sha256s\":{}}", "" },
};

START_TEST(test_fires)
{
	const struct fires_case *c = &fires_cases[_i];

	run(c->payload);
	ck_assert_msg(strcmp(fired(), c->fired) == 0, "%s: fired [%s], want "
	    "[%s]", c->payload, fired(), c->fired);
}
END_TEST

START_TEST(test_evidence_open_relay)
{
	run("{\"rcpt_count\":12,\"from\":\"x@a.example\",\"mail_from\":"
	    "\"y@b.example\",\"rcpt_domains\":[\"Victim.example\","
	    "\"victim.example\",\"B.org\",7,\"\\u00c9t\\u00e9.example\"],"
	    "\"attachment_sha256s\":[\"aa\",3,\"bb\"],\"body_sha256\":\"h\"}");
	ck_assert_str_eq(fired(), "R0041");
	ck_assert_uint_eq(tags.n, 2);   /* both emits */
	ck_assert_str_eq(tags.v[0].technique_id, "T1496");
	ck_assert_str_eq(tags.v[1].sub_technique_id, "T1586.002");
	ck_assert_double_eq_tol(tags.v[0].confidence, 0.85, 1e-12);
	check_evidence("R0041", "{\"body_sha256\":\"h\",\"matched_headers\":"
	    "[\"From\",\"Mail-From\"],\"rcpt_domain_set\":[\"b.org\","
	    "\"victim.example\",\"\\u00e9t\\u00e9.example\"],"
	    "\"attachment_sha256s\":[\"aa\",\"bb\"],\"rcpt_count\":12}");
}
END_TEST

START_TEST(test_evidence_shapes)
{
	/* non-list rcpt_domains counts as absent; bool rcpt_count is 0 */
	run("{\"spf_pass\":false,\"rcpt_domains\":\"abc\","
	    "\"rcpt_count\":true,\"body_sha256\":5}");
	check_evidence("R0045", BASE("[\"Authentication-Results\"],"
	    "\"rcpt_domain_set\":[],\"attachment_sha256s\":[],"
	    "\"rcpt_count\":0,\"matched_signals\":[\"spf_fail\"]}"));
	run("{\"spf_pass\":false,\"rcpt_domains\":7,\"rcpt_count\":\"3\"}");
	check_evidence("R0045", BASE("[\"Authentication-Results\"],"
	    "\"rcpt_domain_set\":[],\"attachment_sha256s\":[],"
	    "\"rcpt_count\":0,\"matched_signals\":[\"spf_fail\"]}"));
}
END_TEST

START_TEST(test_evidence_masquerade_all)
{
	run("{\"from_domain\":\"a.example\",\"return_path_domain\":"
	    "\"b.example\",\"mail_from_domain\":\"c.example\","
	    "\"dkim_signed\":false,\"spf_pass\":false}");
	check_evidence("R0045", BASE("[\"Authentication-Results\","
	    "\"DKIM-Signature\",\"From\",\"Return-Path\"],"
	    "\"rcpt_domain_set\":[],\"attachment_sha256s\":[],"
	    "\"rcpt_count\":0,\"matched_signals\":[\"from_returnpath_mismatch\","
	    "\"from_mailfrom_mismatch\",\"dkim_fail\",\"spf_fail\"]}"));
}
END_TEST

START_TEST(test_evidence_kit_url_attachment)
{
	run("{\"x_mailer\":\"GreatKit\",\"matched_kit\":\"greatkit\","
	    "\"urls\":[\"ftp://xn--x\",\"https://us\\u00c9r@xn--80ak6aa92e."
	    "COM:8443?q=1\"],\"attachment_macros\":true,"
	    "\"attachment_extensions\":[\"lnk\"]}");
	ck_assert_str_eq(fired(), "R0043,R0044,R0046");
	check_evidence("R0043", BASE("[\"X-Mailer\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_kit\":\"greatkit\"}"));
	/* the first url holding the prefix wins, even without a host */
	check_evidence("R0044", BASE("[\"body\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_url_host\":\"\"}"));
	check_evidence("R0046", BASE("[],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_trigger\":\"office_macro\"}"));
	run("{\"urls\":[\"https://us\\u00c9r@xn--80ak6aa92e.COM:8443?q=1\"],"
	    "\"attachment_extensions\":[\"pdf\",\".IMG\",\"iso\"]}");
	check_evidence("R0044", BASE("[\"body\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_url_host\":\"us\\u00e9r@xn--80ak6aa92e.com:8443?q=1\"}"));
	check_evidence("R0046", BASE("[],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_trigger\":\"iso\"}"));
}
END_TEST

START_TEST(test_evidence_bec_body_hash)
{
	run("{\"subject\":\"Re: GIFT CARD\",\"body_text\":"
	    "\"abc\"}");
	ck_assert_str_eq(fired(), "");
	/* KELVIN SIGN: "ban\u212aing" lowers to "banking" */
	run("{\"subject\":\"Re: GIFT CARD\",\"body_text\":"
	    "\"Please update ban\\u212aing\"}");
	ck_assert_str_eq(fired(), "R0047");
	/* sha256 of the UTF-8 body, computed with python3's hashlib */
	check_evidence("R0047", "{\"body_sha256\":\"c3f0c5b4da3424d9914da94c"
	    "a824d1c05dcc26aa26e9f0173203ef6e22f1e13f\","
	    "\"matched_headers\":[\"Subject\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_subject_kw\":\"gift card\","
	    "\"matched_body_kw\":\"update banking\"}");
	/* sha256("abc") is the FIPS 180-2 test vector */
	run("{\"subject\":\"urgent\",\"body_text\":\"abc\","
	    "\"body_base64_bytes\":5000}");
	ck_assert_str_eq(fired(), "R0048");
	check_evidence("R0048", "{\"body_sha256\":\"ba7816bf8f01cfea414140de5d"
	    "ae2223b00361a396177a9cb410ff61f20015ad\",\"matched_headers\":[],"
	    "\"rcpt_domain_set\":[],\"attachment_sha256s\":[],"
	    "\"rcpt_count\":0,\"encoded_byte_count\":5000}");
	/* a payload body_sha256 wins over the body hash */
	run("{\"subject\":\"urgent\",\"body_text\":\"abc\","
	    "\"body_base64_bytes\":5000,\"body_sha256\":\"given\"}");
	check_evidence("R0048", "{\"body_sha256\":\"given\","
	    "\"matched_headers\":[],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"encoded_byte_count\":5000}");
}
END_TEST

/* A body of `n` 'A's followed by `pads` '=' inside other text. */
static char *
b64_payload(size_t n, size_t pads)
{
	size_t len = n + pads + 64, i;
	char *body = malloc(len), *p;

	ck_assert(body != NULL);
	p = body + sprintf(body, "{\"body_text\":\"hi \\n");
	for (i = 0; i < n; i++)
		*p++ = 'A';
	for (i = 0; i < pads; i++)
		*p++ = '=';
	strcpy(p, " bye\"}");
	return body;
}

START_TEST(test_encoded_scan)
{
	static const struct {
		size_t n, pads;
		int64_t count; /* -1: no fire */
	} cases[] = {
		{ 5462, 2, 4096 },  /* 4095 + 1 bytes */
		{ 5460, 0, -1 },    /* 4095 bytes: just below */
		{ 5460, 2, -1 },    /* excess padding keeps 4095 */
		{ 5463, 1, 4097 },
		{ 5462, 1, -1 },    /* incomplete padding */
		{ 5462, 0, -1 },
		{ 5461, 0, -1 },    /* 1 more than a multiple of 4 */
		{ 5464, 0, 4098 },
		{ 31, 0, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *payload = b64_payload(cases[i].n, cases[i].pads), want[64];

		run(payload);
		free(payload);
		if (cases[i].count < 0) {
			ck_assert_msg(strcmp(fired(), "") == 0, "case %zu fired",
			    i);
			continue;
		}
		ck_assert_msg(strcmp(fired(), "R0048") == 0, "case %zu: [%s]",
		    i, fired());
		snprintf(want, sizeof want, "\"encoded_byte_count\":%lld",
		    (long long)cases[i].count);
		ck_assert_msg(strstr(tags.v[0].evidence, want) != NULL,
		    "case %zu: %s", i, tags.v[0].evidence);
	}
}
END_TEST

/* Every payload key the lifter reads, with every JSON type and some
 * hostile values: handle() never fails and never crashes. */
START_TEST(test_hostile_values)
{
	static const char *const keys[] = {
		"rcpt_count", "rcpt_domains", "from_domain", "from",
		"mail_from_domain", "mail_from", "return_path_domain",
		"body_simhash", "x_mailer", "matched_kit", "xmailer_kit_match",
		"urls", "dkim_signed", "spf_pass", "attachment_macros",
		"attachment_password_protected", "html_smuggling",
		"mal_hash_match", "attachment_extensions", "attachment_sha256s",
		"subject", "body_text", "body_base64_bytes", "body_sha256",
		"stored_as", "decky_id",
	};
	static const char *const values[] = {
		"null", "true", "false", "0", "-1", "9223372036854775807",
		"-9223372036854775808", "1e308", "-0.0", "\"\"", "\"@\"",
		"\" a\\u00e9@B\\u00c9\\u3000\"", "\"\\u0130\\u212a\\u212b@X\"",
		"\"https://\"", "\"xn--\"", "\"../../etc/passwd\"", "[]",
		"[null,true,1,\"A\",[\"x\"],{}]", "{}", "{\"a\":[1]}",
		"[\"https://xn--/\",\"http://xn--a\"]", "\"====\"",
	};
	char payload[512];
	size_t k, v;

	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		for (v = 0; v < sizeof values / sizeof values[0]; v++) {
			/* rcpt_count 40 and a body keep the other rules
			 * evaluating past their first test */
			snprintf(payload, sizeof payload, "{\"rcpt_count\":40,"
			    "\"body_text\":\"send\",\"subject\":\"urgent\","
			    "\"%s\":%s}", keys[k], values[v]);
			run(payload);
		}
	/* a body of base64 runs, '=' and separators in every order */
	{
		size_t n = 200000, i;
		char *big = malloc(n + 64), *p;

		ck_assert(big != NULL);
		p = big + sprintf(big, "{\"body_text\":\"");
		for (i = 0; i < n; i++)
			*p++ = "A=+/ \x7e"[i * 7 % 6];
		strcpy(p, "\"}");
		run(big);
		free(big);
	}
}
END_TEST

START_TEST(test_several_rules)
{
	run("{\"rcpt_count\":40,\"from_domain\":\"a.example\","
	    "\"mail_from_domain\":\"b.example\",\"body_simhash\":\"s\","
	    "\"x_mailer\":\"K\",\"matched_kit\":\"k\",\"urls\":"
	    "[\"https://xn--p1ai/\"],\"attachment_macros\":true,"
	    "\"subject\":\"Urgent\",\"body_text\":\"send\","
	    "\"body_base64_bytes\":4096}");
	ck_assert_str_eq(fired(),
	    "R0041,R0042,R0043,R0044,R0045,R0046,R0047,R0048");
	ck_assert_uint_eq(tags.n, 13);
}
END_TEST

START_TEST(test_rule_state)
{
	struct rule *r;

	setup_decnet();
	r = find_rule("R0042");
	r->state.state = RULE_STATE_DISABLED;
	r = find_rule("R0041");
	r->state.state = RULE_STATE_CLIPPED;
	r->state.has_confidence_max = 1;
	r->state.confidence_max = 0.5;
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
	run("{\"rcpt_count\":40,\"from_domain\":\"a.example\","
	    "\"mail_from_domain\":\"b.example\",\"body_simhash\":\"s\"}");
	ck_assert_str_eq(fired(), "R0041,R0045");
	ck_assert_double_eq_tol(tags.v[0].confidence, 0.5, 1e-12);
	ck_assert_double_eq_tol(tags.v[1].confidence, 0.5, 1e-12);
	ck_assert_double_eq_tol(tags.v[2].confidence, 0.85, 1e-12);
	teardown();
}
END_TEST

/* Owned kinds outside the table never fire; custom thresholds apply. */
START_TEST(test_custom_rules)
{
	char err[256];

	ck_assert_msg(fx_load(NULL, err, sizeof err) == 0, "%s", err);
	fx_add_yaml("rule_id: X1\nrule_version: 1\nname: x1\n"
	    "applies_to: [email]\nmatch:\n  kind: lifter:email_nope\n"
	    "emits:\n  - {tactic: TA0001, technique_id: T1566, "
	    "confidence: 0.9}\n");
	fx_add_yaml("rule_id: X2\nrule_version: 1\nname: x2\n"
	    "applies_to: [email]\nmatch:\n  kind: lifter:email_mass_phish\n"
	    "  rcpt_threshold: 3\n"
	    "emits:\n  - {tactic: TA0001, technique_id: T1566, "
	    "confidence: 0.9}\n");
	fx_add_yaml("rule_id: X3\nrule_version: 1\nname: x3\n"
	    "applies_to: [email]\nmatch:\n  kind: lifter:email_sender_"
	    "masquerade\n  signals: [spf_fail]\n"
	    "emits:\n  - {tactic: TA0005, technique_id: T1036, "
	    "confidence: 0.9}\n");
	fx_add_yaml("rule_id: X4\nrule_version: 1\nname: x4\n"
	    "applies_to: [email]\nmatch:\n  kind: lifter:email_idn_url\n"
	    "  punycode_prefix: 'evil'\n"
	    "emits:\n  - {tactic: TA0005, technique_id: T1036, "
	    "confidence: 0.9}\n");
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
	run("{\"rcpt_count\":3,\"body_simhash\":1,\"dkim_signed\":false,"
	    "\"urls\":[\"http://xn--a/\",\"http://EVIL.example/x\","
	    "\"https://evil.example/\"]}");
	ck_assert_str_eq(fired(), "X2,X4");
	check_evidence("X4", BASE("[\"body\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":3,"
	    "\"matched_url_host\":\"evil.example\"}"));
	run("{\"rcpt_count\":2,\"body_simhash\":1,\"spf_pass\":false}");
	ck_assert_str_eq(fired(), "X3");
	teardown();
}
END_TEST

/* The pack's own email rules (conf/rules/TD0401-TD0408) load, belong to
 * this lifter and fire on what their descriptions promise. */
START_TEST(test_td_pack)
{
	static const struct fires_case td_cases[] = {
		{ "{\"rcpt_count\":10,\"from_domain\":\"a.example\","
		  "\"mail_from_domain\":\"b.example\"}", "TD0401,TD0405" },
		{ "{\"rcpt_count\":30,\"body_simhash\":\"ab\"}", "TD0402" },
		{ "{\"x_mailer\":\"X\",\"matched_kit\":\"k\"}", "TD0403" },
		{ "{\"urls\":[\"https://xn--pple-43d.com/login\"]}",
		  "TD0404" },
		{ "{\"attachment_extensions\":[\".iso\"]}", "TD0406" },
		{ "{\"subject\":\"Invoice\",\"body_text\":\"transfer\"}",
		  "TD0407" },
		{ "{\"body_text\":\"x\",\"body_base64_bytes\":5000}",
		  "TD0408" },
		{ "{\"rcpt_count\":1,\"from_domain\":\"a.example\","
		  "\"mail_from_domain\":\"a.example\",\"x_mailer\":"
		  "\"Thunderbird\",\"urls\":[\"https://example.com/\"],"
		  "\"attachment_extensions\":[\"pdf\"],\"subject\":"
		  "\"lunch\",\"body_text\":\"see you\",\"dkim_signed\":"
		  "true,\"spf_pass\":true}", "" },
	};
	char err[256], *dir;
	const char *dirs[1];
	size_t i, owned = 0;

	ck_assert_msg(fx_load(NULL, err, sizeof err) == 0, "%s", err);
	ck_assert(asprintf(&dir, "%s/conf/rules", tu_env("TTPD_SRCDIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, fx_report, &fx),
	    0);
	free(dir);
	ck_assert_int_eq(fx.nreports, 0);
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
	for (i = 0; i < fx.rules.n; i++)
		if (fx.rules.v[i]->owner == fx.p) {
			ck_assert(fx.rules.v[i]->prepared);
			owned++;
		}
	ck_assert_uint_eq(owned, 8);
	for (i = 0; i < sizeof td_cases / sizeof td_cases[0]; i++) {
		run(td_cases[i].payload);
		ck_assert_msg(strcmp(fired(), td_cases[i].fired) == 0,
		    "%s: fired [%s], want [%s]", td_cases[i].payload, fired(),
		    td_cases[i].fired);
	}
	teardown();
}
END_TEST

/* Load with a config that must be refused, mentioning `want`. */
static void
config_refused(const char *config_json, const char *want)
{
	char err[512];

	ck_assert_msg(fx_load(config_json, err, sizeof err) != 0,
	    "%s was accepted", config_json);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", config_json, err);
	registry_free(&fx.reg);
	ruleset_free(&fx.rules);
}

static void
config_accepted(const char *config_json)
{
	char err[512];

	ck_assert_msg(fx_load(config_json, err, sizeof err) == 0, "%s: %s",
	    config_json, err);
	registry_free(&fx.reg);
	ruleset_free(&fx.rules);
}

START_TEST(test_config)
{
	config_accepted("{\"artifacts_root\": \"/tmp\"}");
	config_accepted("{\"artifacts_root\": \"/tmp\", "
	    "\"max_message_bytes\": 1}");
	config_accepted("{\"max_message_bytes\": 1073741824}");
	config_refused("{\"artifacts_root\": 3}", "artifacts_root");
	config_refused("{\"artifacts_root\": \"tmp\"}", "absolute");
	config_refused("{\"artifacts_root\": \"\"}", "absolute");
	config_refused("{\"artifacts_root\": \"/nonexistent-ttpd-root\"}",
	    "No such file");
	config_refused("{\"artifacts_root\": \"/dev/null\"}",
	    "not a directory");
	config_refused("{\"max_message_bytes\": 0}", "max_message_bytes");
	config_refused("{\"max_message_bytes\": 1073741825}",
	    "max_message_bytes");
	config_refused("{\"max_message_bytes\": \"8M\"}",
	    "max_message_bytes");
	config_refused("{\"bogus\": 3}", "bogus");
}
END_TEST

static Suite *
email_suite(void)
{
	Suite *s = suite_create("email");
	TCase *tc = tcase_create("golden");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_golden_email_parity);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup_assigned, teardown);
	tcase_add_loop_test(tc, test_fires, 0,
	    (int)(sizeof fires_cases / sizeof fires_cases[0]));
	tcase_add_test(tc, test_evidence_open_relay);
	tcase_add_test(tc, test_evidence_shapes);
	tcase_add_test(tc, test_evidence_masquerade_all);
	tcase_add_test(tc, test_evidence_kit_url_attachment);
	tcase_add_test(tc, test_evidence_bec_body_hash);
	tcase_add_test(tc, test_encoded_scan);
	tcase_add_test(tc, test_several_rules);
	tcase_add_test(tc, test_hostile_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("setup");
	tcase_add_test(tc, test_rule_state);
	tcase_add_test(tc, test_custom_rules);
	tcase_add_test(tc, test_td_pack);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(email_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
