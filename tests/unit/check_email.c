/*
 * The email lifter against DECNET's EmailLifter (decnet-lifters.md 3.4):
 * golden parity for R0041-R0048, then per-rule checks through the real
 * host (loader, rule store, hostapi_run).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "golden.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "mime.h"
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
	rules_changed();
	r = find_rule("R0041");
	r->state.state = RULE_STATE_CLIPPED;
	rules_changed();
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

/* ---- MIME (plugins/email/mime.c, compiled into this test) ---- */

static const struct mime_limits default_limits = {
	MIME_DEFAULT_MAX_DEPTH, MIME_DEFAULT_MAX_PARTS,
	MIME_DEFAULT_MAX_HEADER_BYTES
};

/* Is s[0..len) valid UTF-8?  (Converting valid UTF-8 changes nothing.) */
static int
valid_utf8(const char *s, size_t len)
{
	char *out;
	size_t outlen;
	int same;

	ck_assert_int_eq(mime_to_utf8("utf-8", s, len, &out, &outlen), 1);
	same = outlen == len && memcmp(out, s, len) == 0;
	free(out);
	return same;
}

struct decode_case {
	const char *in;
	size_t inlen;         /* 0: strlen(in) */
	const char *want;
	size_t wantlen;       /* 0: strlen(want) */
};

#define S(lit) lit, sizeof(lit) - 1

START_TEST(test_mime_base64)
{
	static const struct decode_case cases[] = {
		{ S("QUJD"), S("ABC") },
		{ S("QU\r\nJD\n"), S("ABC") },
		{ S("QUJDRA=="), S("ABCD") },
		{ S("QUJDRA"), S("ABCD") },         /* padding missing */
		{ S("QUJDREU"), S("ABCDE") },
		{ S("Q!U@J#D$"), S("ABC") },        /* junk ignored */
		{ S("QQ==QUJD"), S("A") },          /* stops at the padding */
		{ S("QUJDR"), S("QUJDR") },         /* 1 dangling: undecoded */
		{ S("QUJD\r\nR\r\n"), S("QUJDR") }, /* ... line breaks gone */
		{ S("===="), S("") },
		{ S(""), S("") },
		{ S("AA=="), "\0", 1 },
	};
	size_t i, outlen;
	char *out;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(mime_decode_base64(cases[i].in, cases[i].inlen,
		    &out, &outlen), 0);
		ck_assert_msg(outlen == cases[i].wantlen &&
		    memcmp(out, cases[i].want, outlen) == 0,
		    "base64 case %zu: got %zu bytes \"%s\"", i, outlen, out);
		free(out);
	}
}
END_TEST

START_TEST(test_mime_qp)
{
	static const struct decode_case cases[] = {
		{ S("a=3Db"), S("a=b") },
		{ S("soft=\r\nbreak"), S("softbreak") },
		{ S("soft=\nbreak"), S("softbreak") },
		{ S("x=  \r\ny"), S("x=  \r\ny") },  /* '=' then blanks: kept */
		{ S("bad=ZZ"), S("bad=ZZ") },
		{ S("a==b"), S("a=b") },
		{ S("end="), S("end") },
		{ S("=4"), S("=4") },
		{ S("=e9=E9"), S("\xe9\xe9") },
		{ S("nul=00x"), "nul\0x", 5 },
	};
	size_t i, outlen;
	char *out;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(mime_decode_qp(cases[i].in, cases[i].inlen,
		    &out, &outlen), 0);
		ck_assert_msg(outlen == cases[i].wantlen &&
		    memcmp(out, cases[i].want, outlen) == 0,
		    "qp case %zu: got %zu bytes \"%s\"", i, outlen, out);
		free(out);
	}
	/* unknown and absent encodings keep the bytes */
	ck_assert_int_eq(mime_decode_cte(" X-Foo ", S("QUJD=41"), &out,
	    &outlen), 0);
	ck_assert_str_eq(out, "QUJD=41");
	free(out);
	ck_assert_int_eq(mime_decode_cte(NULL, S("=41"), &out, &outlen), 0);
	ck_assert_str_eq(out, "=41");
	free(out);
	ck_assert_int_eq(mime_decode_cte(" BASE64\t", S("QUJD"), &out,
	    &outlen), 0);
	ck_assert_str_eq(out, "ABC");
	free(out);
	ck_assert_int_eq(mime_decode_cte("Quoted-Printable", S("=41"), &out,
	    &outlen), 0);
	ck_assert_str_eq(out, "A");
	free(out);
}
END_TEST

START_TEST(test_mime_charsets)
{
	static const struct {
		const char *charset;
		const char *in;
		size_t inlen;
		const char *want;
		size_t wantlen;
	} cases[] = {
		{ "utf-8", S("caf\xc3\xa9"), S("caf\xc3\xa9") },
		{ "UTF8", S("\xf0\x9f\x98\x80"), S("\xf0\x9f\x98\x80") },
		/* maximal subparts, one U+FFFD each, like Python */
		{ "utf_8", S("\xc3\x28"), S("\xef\xbf\xbd(") },
		{ "utf-8", S("\xe2\x82"), S("\xef\xbf\xbd") },
		{ "utf-8", S("\xed\xa0\x80"),
		  S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") },
		{ "utf-8", S("\xc0\x80"), S("\xef\xbf\xbd\xef\xbf\xbd") },
		{ "utf-8", S("\xf4\x90\x80\x80x"),
		  S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx") },
		{ "utf-8", S("\xff"), S("\xef\xbf\xbd") },
		{ "utf-8", "a\0b", 3, "a\0b", 3 },
		{ "us-ascii", S("caf\xe9"), S("caf\xef\xbf\xbd") },
		{ "ASCII", S("plain"), S("plain") },
		{ " Latin-1 ", S("caf\xe9"), S("caf\xc3\xa9") },
		{ "iso-8859-1", S("\xff"), S("\xc3\xbf") },
		{ "windows-1252", S("\x80\x81\x9f"),
		  S("\xe2\x82\xac\xef\xbf\xbd\xc5\xb8") },
		{ "cp1252", S("\xe9"), S("\xc3\xa9") },
	};
	static const char *const unknown[] = {
		"koi8-r", "utf-16", "", "x-unknown", "utf-8-but-not",
	};
	size_t i, outlen;
	char *out;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(mime_to_utf8(cases[i].charset, cases[i].in,
		    cases[i].inlen, &out, &outlen), 1);
		ck_assert_msg(outlen == cases[i].wantlen &&
		    memcmp(out, cases[i].want, outlen) == 0,
		    "charset case %zu (%s): got %zu bytes", i,
		    cases[i].charset, outlen);
		free(out);
	}
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		ck_assert_msg(mime_to_utf8(unknown[i], S("x"), &out, &outlen)
		    == 0, "charset %s accepted", unknown[i]);
}
END_TEST

/* The body text of msg (NUL-terminated), or NULL; hits in *hits. */
static char *
body_of(const char *msg, size_t len, const struct mime_limits *lim,
    unsigned *hits, int *html)
{
	struct mime_result r;

	ck_assert_int_eq(mime_body_text(msg, len, lim != NULL ? lim :
	    &default_limits, &r), 0);
	if (hits != NULL)
		*hits = r.hits;
	if (html != NULL)
		*html = r.html;
	if (r.text != NULL)
		ck_assert(valid_utf8(r.text, r.len));
	return r.text;
}

struct body_case {
	const char *msg;
	const char *want;     /* NULL: no body */
	int html;
};

static const struct body_case body_cases[] = {
	/* no Content-Type: text/plain */
	{ "Subject: x\r\n\r\nhello\r\n", "hello\r\n", 0 },
	/* no header section at all: the first line is the body */
	{ "hello there\nsecond", "hello there\nsecond", 0 },
	{ "", "", 0 },
	/* a Content-Type without exactly one '/' means text/plain */
	{ "Content-Type: garbage\n\nbody", "body", 0 },
	{ "Content-Type: a/b/c; charset=latin1\n\n\xe9", "\xc3\xa9", 0 },
	/* continuation lines, case, quoted parameters */
	{ "content-TYPE: Text/Plain;\n\tcharset=\"ISO-8859-1\"\n\n\xe9",
	  "\xc3\xa9", 0 },
	/* only the first Content-Type counts */
	{ "Content-Type: text/html\nContent-Type: text/plain\n\n<b>",
	  "<b>", 1 },
	/* plain wins over an earlier html part */
	{ "Content-Type: multipart/alternative; boundary=\"b 1\"\n\n"
	  "preamble\n--b 1\nContent-Type: text/html\n\n<p>h</p>\n"
	  "--b 1\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "caf=C3=A9 =\nok\n--b 1--\nepilogue\n", "caf\xc3\xa9 ok", 0 },
	/* html when there is no plain part */
	{ "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
	  "Content-Type: text/html\r\n\r\n<i>x</i>\r\n--zz\r\n"
	  "Content-Type: image/png\r\n\r\nPNG\r\n--zz--\r\n", "<i>x</i>", 1 },
	/* a plain part in an unknown charset is skipped */
	{ "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n"
	  "Content-Type: text/plain; charset=koi8-r\n\nskip\n--zz\n"
	  "Content-Type: text/plain\n\nsecond\n--zz--\n", "second", 0 },
	/* no boundary parameter: one opaque entity */
	{ "Content-Type: multipart/mixed\n\n--zz\n\nhidden\n--zz--\n",
	  NULL, 0 },
	/* the boundary never appears */
	{ "Content-Type: multipart/mixed; boundary=zz\n\n--yy\n\nx\n",
	  NULL, 0 },
	/* no close delimiter: the last part runs to the end */
	{ "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nto the end",
	  "to the end", 0 },
	/* an empty part is an empty text/plain part */
	{ "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n--zz\n\nx\n"
	  "--zz--\n", "", 0 },
	/* delimiters need the whole line: "--zzz" and "--zz x" are text */
	{ "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\na\n--zzz\n"
	  "--zz x\n--zz-- \t\n", "a\n--zzz\n--zz x", 0 },
	/* base64 text, broken base64 text, unknown encoding */
	{ "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
	  "c2VuZCBp\ndA==\n", "send it", 0 },
	{ "Content-Transfer-Encoding: base64\n\n!!c2Vu\nZA", "send", 0 },
	{ "Content-Transfer-Encoding: x-uuencode\n\nbegin 644",
	  "begin 644", 0 },
	/* an attached message is walked into */
	{ "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: image/gif\n\nGIF\n--o\nContent-Type: message/rfc822\n"
	  "\nSubject: inner\n\ninner body\n--o--\n", "inner body", 0 },
	/* digest parts default to message/rfc822 */
	{ "Content-Type: multipart/digest; boundary=d\n\n--d\n\n"
	  "Subject: m1\n\ndigest body\n--d--\n", "digest body", 0 },
	/* delivery-status is not walked into, and is not text */
	{ "Content-Type: message/delivery-status\n\nReporting-MTA: x\n\n"
	  "hidden\n", NULL, 0 },
	/* NUL bytes and invalid UTF-8 survive as U+0000 and U+FFFD */
	{ "Content-Type: text/plain; charset=utf-8\n\nse\xff", "se\xef\xbf\xbd",
	  0 },
	/* a mbox "From " line and a colon-less line */
	{ "From someone\nSubject: s\nnot a header\nmore", "not a header\nmore",
	  0 },
};

START_TEST(test_mime_bodies)
{
	const struct body_case *c = &body_cases[_i];
	char *text;
	int html = -1;

	text = body_of(c->msg, strlen(c->msg), NULL, NULL, &html);
	if (c->want == NULL) {
		ck_assert_msg(text == NULL, "case %d: got \"%s\"", _i, text);
		return;
	}
	ck_assert_msg(text != NULL, "case %d: no body", _i);
	ck_assert_msg(strcmp(text, c->want) == 0, "case %d: got \"%s\"", _i,
	    text);
	ck_assert_int_eq(html, c->html);
	free(text);
}
END_TEST

/* n multiparts nested, a text/plain part "deep" at the bottom. */
static char *
nested(unsigned n)
{
	size_t cap = (size_t)n * 96 + 64, len = 0;
	char *m = malloc(cap);
	unsigned i;

	ck_assert(m != NULL);
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(m + len, "Content-Type: multipart/mixed;"
		    " boundary=b%u\n\n--b%u\n", i, i);
	len += (size_t)sprintf(m + len, "Content-Type: text/plain\n\ndeep\n");
	for (i = n; i-- > 0;)
		len += (size_t)sprintf(m + len, "--b%u--\n", i);
	return m;
}

START_TEST(test_mime_limits)
{
	struct mime_limits lim = default_limits;
	unsigned hits;
	char *m, *text;
	size_t i, len;

	/* 16 levels of nesting are walked; 17 are cut at the limit */
	m = nested(MIME_DEFAULT_MAX_DEPTH);
	text = body_of(m, strlen(m), NULL, &hits, NULL);
	ck_assert_str_eq(text, "deep");
	ck_assert_uint_eq(hits, 0);
	free(text);
	free(m);
	m = nested(MIME_DEFAULT_MAX_DEPTH + 1);
	ck_assert(body_of(m, strlen(m), NULL, &hits, NULL) == NULL);
	ck_assert_uint_eq(hits, MIME_HIT_DEPTH);
	free(m);
	m = nested(5000);
	ck_assert(body_of(m, strlen(m), NULL, &hits, NULL) == NULL);
	ck_assert_uint_eq(hits, MIME_HIT_DEPTH);
	free(m);
	/* an attached message inside an attached message ... */
	len = 0;
	m = malloc(64 * 40 + 64);
	ck_assert(m != NULL);
	for (i = 0; i < 40; i++)
		len += (size_t)sprintf(m + len,
		    "Content-Type: message/rfc822\n\n");
	strcpy(m + len, "deep");
	ck_assert(body_of(m, strlen(m), NULL, &hits, NULL) == NULL);
	ck_assert_uint_eq(hits, MIME_HIT_DEPTH);
	free(m);

	/* parts: the text after 1000 empty image parts is not looked at */
	m = malloc(64 * 1100 + 128);
	ck_assert(m != NULL);
	len = (size_t)sprintf(m, "Content-Type: multipart/mixed; "
	    "boundary=p\n\n");
	for (i = 0; i < 1100; i++)
		len += (size_t)sprintf(m + len, "--p\nContent-Type: image/x\n"
		    "\n.\n");
	len += (size_t)sprintf(m + len, "--p\n\ntoo late\n--p--\n");
	ck_assert(body_of(m, len, NULL, &hits, NULL) == NULL);
	ck_assert_uint_eq(hits, MIME_HIT_PARTS);
	lim.max_parts = 2000;
	text = body_of(m, len, &lim, &hits, NULL);
	ck_assert_str_eq(text, "too late");
	free(text);
	free(m);

	/* a header section above 64 KiB: that entity is skipped */
	len = 200000;
	m = malloc(len + 256);
	ck_assert(m != NULL);
	i = (size_t)sprintf(m, "Content-Type: multipart/mixed; boundary=h\n\n"
	    "--h\nX-Big: ");
	memset(m + i, 'x', len);
	i += len;
	i += (size_t)sprintf(m + i, "\n\nbig part\n--h\n\nsmall part\n"
	    "--h--\n");
	text = body_of(m, i, NULL, &hits, NULL);
	ck_assert_str_eq(text, "small part");
	ck_assert_uint_eq(hits, MIME_HIT_HEADER);
	free(text);
	/* ... folded over many lines, at the top: no body at all */
	memset(m, 'x', len);
	for (i = 0; i < len; i += 80)
		memcpy(m + i, "\n x", 3);
	memcpy(m, "Subject: s", 10);
	memcpy(m + len, "\n\nbody", 6);
	ck_assert(body_of(m, len + 6, NULL, &hits, NULL) == NULL);
	ck_assert_uint_eq(hits, MIME_HIT_HEADER);
	free(m);

	/* a 4 MiB line is just a line */
	len = 4u << 20;
	m = malloc(len + 64);
	ck_assert(m != NULL);
	i = (size_t)sprintf(m, "Subject: s\n\n");
	memset(m + i, 'y', len);
	memcpy(m + i + len, "send", 4);
	text = body_of(m, i + len + 4, NULL, &hits, NULL);
	ck_assert(text != NULL);
	ck_assert_uint_eq(strlen(text), len + 4);
	ck_assert_uint_eq(hits, 0);
	free(text);
	free(m);
}
END_TEST

/* Random mutations of a valid message: never a crash, always bounded,
 * always valid UTF-8 (run under valgrind for the memory side). */
START_TEST(test_mime_fuzz)
{
	static const char base[] =
	    "From: a@b\r\nContent-Type: multipart/mixed; boundary=\"q\"\r\n"
	    "\r\n--q\r\nContent-Type: text/html; charset=cp1252\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n<b>=80=\r\n"
	    "</b>\r\n--q\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Content-Type: multipart/alternative; boundary=r\r\n\r\n--r\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nc2VuZCDigqw=\r\n"
	    "--r--\r\n--q--\r\n";
	static const char alphabet[] = "-\r\n:;=\"q r/\t\x00\xff\xc3"
	    "ABCDtextplainmultipartbase64";
	char buf[sizeof base + 64];
	unsigned seed = 12345, iter, k, hits;
	size_t len;
	char *text;

	for (iter = 0; iter < 20000; iter++) {
		memcpy(buf, base, sizeof base - 1);
		len = sizeof base - 1;
		for (k = 0; k < 1 + iter % 8 && len > 0; k++) {
			size_t at;

			seed = seed * 1103515245u + 12345u;
			at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 8) % 3) {
			case 0:         /* replace a byte */
				buf[at] = alphabet[(seed >> 12) %
				    (sizeof alphabet - 1)];
				break;
			case 1:         /* cut the message */
				len = at + 1;
				break;
			default:        /* delete a byte */
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			}
		}
		text = body_of(buf, len, NULL, &hits, NULL);
		if (text != NULL)
			ck_assert(strlen(text) <= 3 * len);
		free(text);
	}
	/* the unmutated message gives the inner plain part */
	text = body_of(base, sizeof base - 1, NULL, &hits, NULL);
	ck_assert_str_eq(text, "send \xe2\x82\xac");
	free(text);
}
END_TEST

START_TEST(test_name_validation)
{
	static const char *const good_decky[] = {
		"a", "0", "decky-1", "a-",
		"abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz",
	};
	static const char *const bad_decky[] = {
		"", "-a", "A", "Decky", "..", ".", "a/b", "a b", "a_b", "../x",
		"abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0",
		"\xd9\xa1", "a\n",
	};
	static const char *const good_name[] = {
		"2024-01-02T03:04:05Z_0123456789ab_m.eml",
		"0000-00-00T00:00:00Z_aaaaaaaaaaaa_..",
		"2024-01-02T03:04:05Z_0123456789ab_A-Z_.z",
	};
	static const char *const bad_name[] = {
		"", "m.eml", "../../etc/passwd", "/etc/passwd",
		"2024-01-02T03:04:05Z_0123456789ab_",
		"2024-01-02T03:04:05Z_0123456789AB_m",
		"2024-01-02T03:04:05Z_0123456789a_m",
		"2024-01-02T03:04:05Z_0123456789abc_m",
		"2024-01-02 03:04:05Z_0123456789ab_m",
		"2024-01-02T03:04:05_0123456789ab_m",
		"2024-01-02T03:04:05Z_0123456789ab_a/b",
		"2024-01-02T03:04:05Z_0123456789ab_../../x",
		"2024-01-02T03:04:05Z_0123456789ab_m\n",
		"2024-01-02T03:04:05Z_0123456789ab_m e",
		"\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-01-02T03:04:05Z_0123456789ab_m",
	};
	char longname[400];
	size_t i;

	for (i = 0; i < sizeof good_decky / sizeof good_decky[0]; i++)
		ck_assert_msg(artifact_valid_decky(good_decky[i],
		    strlen(good_decky[i])), "%s", good_decky[i]);
	for (i = 0; i < sizeof bad_decky / sizeof bad_decky[0]; i++)
		ck_assert_msg(!artifact_valid_decky(bad_decky[i],
		    strlen(bad_decky[i])), "%s", bad_decky[i]);
	ck_assert(!artifact_valid_decky("a\0b", 3));
	for (i = 0; i < sizeof good_name / sizeof good_name[0]; i++)
		ck_assert_msg(artifact_valid_stored_as(good_name[i],
		    strlen(good_name[i])), "%s", good_name[i]);
	for (i = 0; i < sizeof bad_name / sizeof bad_name[0]; i++)
		ck_assert_msg(!artifact_valid_stored_as(bad_name[i],
		    strlen(bad_name[i])), "%s", bad_name[i]);
	ck_assert(!artifact_valid_stored_as(
	    "2024-01-02T03:04:05Z_0123456789ab_m\0x", 37));
	/* the last part takes 1 to 255 characters */
	i = (size_t)sprintf(longname, "2024-01-02T03:04:05Z_0123456789ab_");
	memset(longname + i, 'n', 255);
	longname[i + 255] = '\0';
	ck_assert(artifact_valid_stored_as(longname, i + 255));
	longname[i + 255] = 'n';
	ck_assert(!artifact_valid_stored_as(longname, i + 256));
}
END_TEST

/* ---- the stored message, end to end through the plugin ---- */

#define DECKY "decky-1"
#define NAME "2024-01-02T03:04:05Z_0123456789ab_m1.eml"
#define NAME2 "2024-01-02T03:04:05Z_0123456789ab_m2.eml"

/* A message whose text body, if ever read, makes R0047 fire. */
#define SEND_MSG "Subject: urgent\r\n\r\nplease send it\r\n"

static char *tmpdir, *root, *outside;

static void
write_bytes(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert(len == 0 || fwrite(data, 1, len, fp) == len);
	ck_assert(fclose(fp) == 0);
}

static char *
path_of(const char *dir, const char *rel)
{
	char *p;

	ck_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

static void
make_dir(const char *dir, const char *rel)
{
	char *p = path_of(dir, rel);

	ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "%s: %s", p,
	    strerror(errno));
	free(p);
}

/* <root>/<decky>/smtp/<name> holding data. */
static void
put_msg(const char *decky, const char *name, const char *data, size_t len)
{
	char *rel, *p;

	make_dir(root, decky);
	ck_assert(asprintf(&rel, "%s/smtp", decky) > 0);
	make_dir(root, rel);
	free(rel);
	ck_assert(asprintf(&rel, "%s/smtp/%s", decky, name) > 0);
	p = path_of(root, rel);
	write_bytes(p, data, len);
	free(p);
	free(rel);
}

static void
make_link(const char *target, const char *dir, const char *rel)
{
	char *p = path_of(dir, rel);

	ck_assert_msg(symlink(target, p) == 0, "%s: %s", p, strerror(errno));
	free(p);
}

/* stderr into a file while the plugin logs; the text afterwards. */
static int cap_saved = -1;
static char cap_path[64];

static void
cap_begin(void)
{
	int fd;

	strcpy(cap_path, "/tmp/ttpd-test.logXXXXXX");
	fd = mkstemp(cap_path);
	ck_assert(fd >= 0);
	fflush(stderr);
	cap_saved = dup(2);
	ck_assert(cap_saved >= 0 && dup2(fd, 2) == 2);
	close(fd);
}

static char *
cap_end(void)
{
	char *text;

	fflush(stderr);
	ck_assert(dup2(cap_saved, 2) == 2);
	close(cap_saved);
	cap_saved = -1;
	text = tu_read_file(cap_path, NULL);
	ck_assert(text != NULL);
	unlink(cap_path);
	return text;
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Load the plugin over root with extra config members (or ""), and
 * DECNET's rules, not yet assigned. */
static void
disk_load_rules(const char *extra)
{
	char err[1024], *config, *dir;
	const char *dirs[1];

	ck_assert(asprintf(&config, "{\"artifacts_root\":\"%s\"%s}", root,
	    extra) > 0);
	ck_assert_msg(fx_load(config, err, sizeof err) == 0, "%s", err);
	free(config);
	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, fx_report, &fx),
	    0);
	free(dir);
}

static void
disk_load(const char *extra)
{
	disk_load_rules(extra);
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
}

/* A fresh instance (fresh counters) with the default config. */
static void
reload(void)
{
	teardown();
	disk_load("");
}

static void
disk_dirs(void)
{
	tmpdir = tu_mkdtemp();
	root = path_of(tmpdir, "root");
	outside = path_of(tmpdir, "outside");
	ck_assert(mkdir(root, 0755) == 0 && mkdir(outside, 0755) == 0);
}

static void
disk_setup(void)
{
	disk_dirs();
	disk_load("");
}

static void
disk_teardown(void)
{
	teardown();
	tu_rmtree(tmpdir);
	free(tmpdir);
	free(root);
	free(outside);
}

/* Run an event naming decky/name (JSON string bodies) with a BEC subject;
 * return what was logged. */
static char *
run_stored(const char *decky_json, const char *name_json, const char *extra)
{
	char *payload;

	ck_assert(asprintf(&payload, "{\"subject\":\"urgent\",\"decky_id\":"
	    "%s,\"stored_as\":%s%s}", decky_json, name_json, extra) > 0);
	cap_begin();
	run(payload);
	free(payload);
	return cap_end();
}

/* The event is refused: no tag, and one log line naming counter=1 and
 * the reason. */
static void
expect_refused(const char *decky_json, const char *name_json,
    const char *counter, const char *reason)
{
	char *log = run_stored(decky_json, name_json, "");
	char want[128];

	ck_assert_msg(strcmp(fired(), "") == 0, "%s/%s fired %s", decky_json,
	    name_json, fired());
	snprintf(want, sizeof want, "refused (%s=1): ", counter);
	ck_assert_msg(strstr(log, want) != NULL && strstr(log, reason) !=
	    NULL, "%s/%s: log \"%s\", want \"%s\" and \"%s\"", decky_json,
	    name_json, log, want, reason);
	ck_assert_uint_eq(count_of(log, "\n"), 1);
	free(log);
}

START_TEST(test_disk_happy)
{
	static const char msg[] =
	    "From: a@b.example\r\nSubject: urgent\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
	    "preamble\r\n--b1\r\nContent-Type: text/html\r\n\r\n"
	    "<p>html send</p>\r\n--b1\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Please send the wire =E2=82=AC5000=\r\n today\r\n--b1--\r\n";
	/* sha256("Please send the wire \u20ac5000 today"), python3 */
	static const char sha[] = "243d1441da65f95d7d46b863ec93d61f03cc249f"
	    "152f7fe8d292720d13f5abbb";
	char *log, want[512];

	put_msg(DECKY, NAME, msg, sizeof msg - 1);
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"",
	    ",\"spf_pass\":false");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(fired(), "R0045,R0047");
	snprintf(want, sizeof want, "{\"body_sha256\":\"%s\","
	    "\"matched_headers\":[\"Subject\"],\"rcpt_domain_set\":[],"
	    "\"attachment_sha256s\":[],\"rcpt_count\":0,"
	    "\"matched_subject_kw\":\"urgent\",\"matched_body_kw\":\"send\"}",
	    sha);
	check_evidence("R0047", want);
	/* R0045 runs before R0047 and still carries the body's hash */
	snprintf(want, sizeof want, "{\"body_sha256\":\"%s\","
	    "\"matched_headers\":[\"Authentication-Results\"],"
	    "\"rcpt_domain_set\":[],\"attachment_sha256s\":[],"
	    "\"rcpt_count\":0,\"matched_signals\":[\"spf_fail\"]}", sha);
	check_evidence("R0045", want);

	/* body_text in the payload wins: the disk is not read */
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"",
	    ",\"body_text\":\"nothing to see\"");
	ck_assert_str_eq(fired(), "");
	ck_assert_str_eq(log, "");
	free(log);
	/* an empty body_text is a body too */
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", ",\"body_text\":\"\"");
	ck_assert_str_eq(fired(), "");
	ck_assert_str_eq(log, "");
	free(log);
	/* a null body_text is not: the disk is read */
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"",
	    ",\"body_text\":null");
	ck_assert_str_eq(fired(), "R0047");
	free(log);
	/* names that are not strings: nothing is looked up, nothing said */
	log = run_stored("7", "\"" NAME "\"", "");
	ck_assert_str_eq(fired(), "");
	ck_assert_str_eq(log, "");
	free(log);
	log = run_stored("\"" DECKY "\"", "[\"" NAME "\"]", "");
	ck_assert_str_eq(fired(), "");
	ck_assert_str_eq(log, "");
	free(log);
	/* destroy reports the counters */
	cap_begin();
	registry_free(&fx.reg);
	memset(&fx.reg, 0, sizeof fx.reg);
	registry_init(&fx.reg);
	log = cap_end();
	ck_assert_msg(strstr(log, "stored messages: loaded=2 no_text=0 "
	    "refused_name=0 refused_escape=0 refused_type=0 refused_size=0 "
	    "missing=0 io_error=0 mime_limit=0") != NULL, "%s", log);
	free(log);
}
END_TEST

START_TEST(test_disk_encoded_payload)
{
	char *msg, *log;
	size_t n = 5464, len;

	/* a base64 blob in a base64-encoded part: R0048 scans the decoded
	 * text, where the blob is */
	msg = malloc(n + 256);
	ck_assert(msg != NULL);
	len = (size_t)sprintf(msg, "Content-Type: text/plain\n\nhi ");
	memset(msg + len, 'A', n);
	len += n;
	len += (size_t)sprintf(msg + len, " bye\n");
	put_msg(DECKY, NAME, msg, len);
	free(msg);
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	free(log);
	ck_assert_str_eq(fired(), "R0048");
	ck_assert_msg(strstr(tags.v[0].evidence, "\"encoded_byte_count\":4098")
	    != NULL, "%s", tags.v[0].evidence);
}
END_TEST

START_TEST(test_disk_root_via_symlink)
{
	char *real = root, *log;

	/* the operator's root may itself be a link; only what is below it
	 * is walked without following links */
	put_msg(DECKY, NAME, SEND_MSG, sizeof SEND_MSG - 1);
	teardown();
	root = path_of(tmpdir, "root-link");
	ck_assert(symlink(real, root) == 0);
	disk_load("");
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(fired(), "R0047");
	free(real);
}
END_TEST

START_TEST(test_disk_bad_names)
{
	char *p = path_of(outside, "x.eml");

	/* files a traversal would reach, so a bug would show as a tag */
	write_bytes(p, SEND_MSG, sizeof SEND_MSG - 1);
	free(p);
	make_dir(outside, "smtp");
	p = path_of(outside, "smtp/" NAME);
	write_bytes(p, SEND_MSG, sizeof SEND_MSG - 1);
	free(p);
	put_msg(DECKY, NAME, SEND_MSG, sizeof SEND_MSG - 1);
	reload();
	expect_refused("\"" DECKY "\"", "\"../../../outside/x.eml\"",
	    "refused_name", "stored_as is not a valid");
	reload();
	expect_refused("\"" DECKY "\"", "\"/etc/passwd\"", "refused_name",
	    "stored_as is not a valid");
	reload();
	expect_refused("\"" DECKY "\"", "\"2024-01-02T03:04:05Z_0123456789ab"
	    "_x/../../../outside/x.eml\"", "refused_name", "stored_as");
	reload();
	expect_refused("\"../outside\"", "\"" NAME "\"", "refused_name",
	    "decky_id is not a valid decky name");
	reload();
	expect_refused("\"Decky-1\"", "\"" NAME "\"", "refused_name",
	    "decky_id");
	reload();
	expect_refused("\"\"", "\"" NAME "\"", "refused_name", "decky_id");
	reload();
	expect_refused("\"" DECKY "\"", "\"2024-01-02T03:04:05Z_0123456789AB"
	    "_m1.eml\"", "refused_name", "stored_as");
	/* Arabic-Indic digits: Python's \d takes them, we do not */
	reload();
	expect_refused("\"" DECKY "\"", "\"\\u0662\\u0660\\u0662\\u0664-01-02"
	    "T03:04:05Z_0123456789ab_m1.eml\"", "refused_name", "stored_as");
	/* (a NUL in a name never gets this far: the host refuses \u0000 in
	 * event strings; test_name_validation covers it anyway) */
}
END_TEST

START_TEST(test_disk_log_is_safe)
{
	char *log;

	/* control characters cannot forge a log line; long names are cut */
	log = run_stored("\"" DECKY "\"", "\"a\\nttpd: err: forged\\u001b"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "tail\"", "");
	ck_assert_uint_eq(count_of(log, "\n"), 1);
	ck_assert_msg(strstr(log, "a\\x0attpd: err: forged\\x1bxxx") != NULL,
	    "%s", log);
	ck_assert_msg(strstr(log, "tail") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "...") != NULL, "%s", log);
	free(log);
}
END_TEST

START_TEST(test_disk_symlinks)
{
	char *p = path_of(outside, "x.eml"), *q;

	write_bytes(p, SEND_MSG, sizeof SEND_MSG - 1);
	/* the message is a link to a file outside the root */
	put_msg(DECKY, NAME2, SEND_MSG, sizeof SEND_MSG - 1);
	make_link(p, root, DECKY "/smtp/" NAME);
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_escape",
	    "a symbolic link below artifacts_root (not followed)");
	teardown();
	disk_load("");
	/* ... or to a file inside it: links are never followed */
	q = path_of(root, DECKY "/smtp/" NAME);
	ck_assert(unlink(q) == 0);
	make_link(NAME2, root, DECKY "/smtp/" NAME);
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_escape",
	    "symbolic link");
	teardown();
	disk_load("");
	/* a relative link climbing out */
	ck_assert(unlink(q) == 0);
	make_link("../../../outside/x.eml", root, DECKY "/smtp/" NAME);
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_escape",
	    "symbolic link");
	free(q);
	free(p);
	teardown();
	disk_load("");
	/* the decky directory is a link to a tree outside */
	make_dir(outside, "decky-2");
	make_dir(outside, "decky-2/smtp");
	p = path_of(outside, "decky-2/smtp/" NAME);
	write_bytes(p, SEND_MSG, sizeof SEND_MSG - 1);
	free(p);
	p = path_of(outside, "decky-2");
	make_link(p, root, "decky-2");
	free(p);
	expect_refused("\"decky-2\"", "\"" NAME "\"", "refused_escape",
	    "symbolic link");
	teardown();
	disk_load("");
	/* the smtp directory is a link */
	make_dir(root, "decky-3");
	p = path_of(outside, "decky-2/smtp");
	make_link(p, root, "decky-3/smtp");
	free(p);
	expect_refused("\"decky-3\"", "\"" NAME "\"", "refused_escape",
	    "symbolic link");
	/* a dangling link is a link too */
	make_link("/nonexistent", root, DECKY "/smtp/2024-01-02T03:04:05Z_"
	    "0123456789ab_dangling");
	teardown();
	disk_load("");
	expect_refused("\"" DECKY "\"", "\"2024-01-02T03:04:05Z_0123456789ab_"
	    "dangling\"", "refused_escape", "symbolic link");
}
END_TEST

START_TEST(test_disk_special_files)
{
	struct sockaddr_un sa;
	char *p;
	int fd;

	put_msg(DECKY, NAME2, SEND_MSG, sizeof SEND_MSG - 1);
	/* a FIFO: refused at once, never waited on */
	p = path_of(root, DECKY "/smtp/" NAME);
	ck_assert(mkfifo(p, 0644) == 0);
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_type",
	    "not a regular file");
	ck_assert(unlink(p) == 0);
	/* a directory */
	ck_assert(mkdir(p, 0755) == 0);
	teardown();
	disk_load("");
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_type",
	    "not a regular file");
	ck_assert(rmdir(p) == 0);
	/* a socket */
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	ck_assert(strlen(p) < sizeof sa.sun_path);
	strcpy(sa.sun_path, p);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(fd >= 0);
	ck_assert(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	teardown();
	disk_load("");
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_type",
	    "not a regular file");
	close(fd);
	free(p);
	/* smtp is a file, not a directory */
	make_dir(root, "decky-4");
	p = path_of(root, "decky-4/smtp");
	write_bytes(p, "", 0);
	free(p);
	teardown();
	disk_load("");
	expect_refused("\"decky-4\"", "\"" NAME "\"", "refused_type",
	    "a path component is not a directory");
	/* missing pieces */
	teardown();
	disk_load("");
	expect_refused("\"" DECKY "\"", "\"2024-01-02T03:04:05Z_0123456789ab_"
	    "gone\"", "missing", "no such file");
	teardown();
	disk_load("");
	expect_refused("\"decky-5\"", "\"" NAME "\"", "missing",
	    "no such file");
}
END_TEST

START_TEST(test_disk_sizes)
{
	char msg[1100], *log, name[400];
	size_t i;

	teardown();
	disk_load(",\"max_message_bytes\":1024");
	/* exactly the cap is read ... */
	i = (size_t)sprintf(msg, "Subject: s\n\nplease send ");
	memset(msg + i, 'z', 1024 - i);
	put_msg(DECKY, NAME, msg, 1024);
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(fired(), "R0047");
	/* ... one byte more is not */
	msg[1024] = 'z';
	put_msg(DECKY, NAME, msg, 1025);
	expect_refused("\"" DECKY "\"", "\"" NAME "\"", "refused_size",
	    "larger than max_message_bytes: 1024 bytes at most");
	/* an empty file is an empty message: a body "" */
	put_msg(DECKY, NAME, "", 0);
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(fired(), "");
	/* the longest name the pattern allows exceeds NAME_MAX */
	i = (size_t)sprintf(name, "\"2024-01-02T03:04:05Z_0123456789ab_");
	memset(name + i, 'n', 255);
	strcpy(name + i + 255, "\"");
	teardown();
	disk_load("");
	expect_refused("\"" DECKY "\"", name, "io_error",
	    "cannot read: File name too long");
	/* and the longest the file system takes is read */
	name[i + 221] = '\0';
	put_msg(DECKY, name + 1, SEND_MSG, sizeof SEND_MSG - 1);
	name[i + 221] = '"';
	name[i + 222] = '\0';
	log = run_stored("\"" DECKY "\"", name, "");
	ck_assert_str_eq(log, "");
	free(log);
	ck_assert_str_eq(fired(), "R0047");
}
END_TEST

/* What the stored body gives, for messages that stress the parser. */
static const struct {
	const char *msg;
	const char *fired;
	const char *log;   /* expected in the log, or NULL for no log */
} disk_mime_cases[] = {
	/* a base64 part with junk, and a dangling quantum */
	{ "Content-Transfer-Encoding: base64\n\n!!cGxlYXNl\nIHNlbmQ", "R0047",
	  NULL },
	{ "Content-Transfer-Encoding: base64\n\nc2VuZGl0X", "", NULL },
	/* broken quoted-printable keeps its text */
	{ "Content-Transfer-Encoding: quoted-printable\n\nse=ZZnd =s=\nend",
	  "R0047", NULL },
	/* an unknown encoding is kept as it is */
	{ "Content-Transfer-Encoding: x-gzip64\n\nsend", "R0047", NULL },
	/* invalid UTF-8 and NUL bytes */
	{ "Content-Type: text/plain; charset=utf-8\n\n\xff\xfe s\0 send \xc3",
	  "R0047", NULL },
	/* an unknown charset only: no body */
	{ "Content-Type: text/plain; charset=koi8-r\n\nsend", "", NULL },
	/* no boundary, a boundary that never comes */
	{ "Content-Type: multipart/mixed\n\n--x\n\nsend\n--x--\n", "", NULL },
	{ "Content-Type: multipart/mixed; boundary=x\n\n--y\n\nsend\n", "",
	  NULL },
	/* nesting beyond the limit */
	{ NULL, "", "MIME limits reached (mime_limit=1): nesting deeper "
	  "than the depth limit; no body" },
};

START_TEST(test_disk_mime)
{
	const char *msg = disk_mime_cases[_i].msg;
	char *deep = NULL, *log;
	size_t len;

	if (msg == NULL)
		msg = deep = nested(40);
	len = strlen(msg);
	if (_i == 4)
		len = sizeof "Content-Type: text/plain; charset=utf-8\n\n"
		    "\xff\xfe s\0 send \xc3" - 1;
	put_msg(DECKY, NAME, msg, len);
	free(deep);
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	ck_assert_msg(strcmp(fired(), disk_mime_cases[_i].fired) == 0,
	    "case %d: fired [%s]", _i, fired());
	if (disk_mime_cases[_i].log == NULL)
		ck_assert_msg(strcmp(log, "") == 0, "case %d: %s", _i, log);
	else
		ck_assert_msg(strstr(log, disk_mime_cases[_i].log) != NULL,
		    "case %d: %s", _i, log);
	free(log);
	if (_i == 4)
		/* sha256("\ufffd\ufffd s\0 send \ufffd"), python3 */
		ck_assert_msg(strstr(tags.v[0].evidence, "\"body_sha256\":\""
		    "cbb43abb2dd183bc8456750c9197545fc9a856241b4361f1d85343"
		    "24f1bb539d\"") != NULL, "%s", tags.v[0].evidence);
}
END_TEST

START_TEST(test_disk_rate_limit)
{
	char *log;
	size_t i;

	/* 12 refusals: 10 lines, then quiet; the counter keeps counting */
	cap_begin();
	for (i = 0; i < 12; i++)
		run("{\"subject\":\"urgent\",\"decky_id\":\"" DECKY "\","
		    "\"stored_as\":\"../x\"}");
	registry_free(&fx.reg);
	memset(&fx.reg, 0, sizeof fx.reg);
	registry_init(&fx.reg);
	log = cap_end();
	ck_assert_uint_eq(count_of(log, "refused (refused_name="), 10);
	ck_assert_msg(strstr(log, "refused (refused_name=10)") != NULL, "%s",
	    log);
	ck_assert_msg(strstr(log, "refused_name=11") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "loaded=0 no_text=0 refused_name=12 ") !=
	    NULL, "%s", log);
	free(log);
}
END_TEST

START_TEST(test_disk_only_when_needed)
{
	struct rule *r;
	char *log;

	/* without R0047/R0048 nothing needs the body: no disk access */
	teardown();
	disk_load_rules("");
	r = find_rule("R0047");
	r->state.state = RULE_STATE_DISABLED;
	rules_changed();
	r = find_rule("R0048");
	r->state.state = RULE_STATE_DISABLED;
	rules_changed();
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, fx_report,
	    &fx), 0);
	log = run_stored("\"" DECKY "\"", "\"2024-01-02T03:04:05Z_0123456789ab"
	    "_gone\"", ",\"spf_pass\":false");
	ck_assert_str_eq(log, "");
	ck_assert_str_eq(fired(), "R0045");
	free(log);
}
END_TEST

/* Without artifacts_root a stored_as is never looked at. */
START_TEST(test_disk_off_by_default)
{
	char *log;

	put_msg(DECKY, NAME, SEND_MSG, sizeof SEND_MSG - 1);
	teardown();
	setup_assigned();
	log = run_stored("\"" DECKY "\"", "\"" NAME "\"", "");
	ck_assert_str_eq(log, "");
	ck_assert_str_eq(fired(), "");
	free(log);
	log = run_stored("\"" DECKY "\"", "\"../../etc/passwd\"", "");
	ck_assert_str_eq(log, "");
	free(log);
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

	tc = tcase_create("mime");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mime_base64);
	tcase_add_test(tc, test_mime_qp);
	tcase_add_test(tc, test_mime_charsets);
	tcase_add_loop_test(tc, test_mime_bodies, 0,
	    (int)(sizeof body_cases / sizeof body_cases[0]));
	tcase_add_test(tc, test_mime_limits);
	tcase_add_test(tc, test_mime_fuzz);
	tcase_add_test(tc, test_name_validation);
	suite_add_tcase(s, tc);

	tc = tcase_create("disk");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, disk_setup, disk_teardown);
	tcase_add_test(tc, test_disk_happy);
	tcase_add_test(tc, test_disk_encoded_payload);
	tcase_add_test(tc, test_disk_root_via_symlink);
	tcase_add_test(tc, test_disk_bad_names);
	tcase_add_test(tc, test_disk_log_is_safe);
	tcase_add_test(tc, test_disk_symlinks);
	tcase_add_test(tc, test_disk_special_files);
	tcase_add_test(tc, test_disk_sizes);
	tcase_add_loop_test(tc, test_disk_mime, 0,
	    (int)(sizeof disk_mime_cases / sizeof disk_mime_cases[0]));
	tcase_add_test(tc, test_disk_rate_limit);
	tcase_add_test(tc, test_disk_only_when_needed);
	tcase_add_test(tc, test_disk_off_by_default);
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
