/*
 * The behavioral lifter (plugins/behavioral), loaded through the real
 * host (loader, rule store, dispatch, hostapi_run, pipeline), against
 * DECNET's BehavioralLifter (decnet-lifters.md section 3.1) and ttpd's
 * departures from it (JSON booleans are never numbers; R0033 fires on
 * email).  DECNET's rules and corpus are read from $TTPD_SHARED_DIR.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "golden.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "testutil.h"

struct fx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	char reports[4096];
	int nreports;
};

static void
fx_report(void *ud, const char *msg)
{
	struct fx *fx = ud;
	size_t len = strlen(fx->reports);

	snprintf(fx->reports + len, sizeof fx->reports - len, "%s\n", msg);
	fx->nreports++;
}

/* Load the plugin with a JSON config (or none); 0 or -1 with err. */
static int
fx_try_open(struct fx *fx, const char *config_json, char *err, size_t len)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char *dir;
	int rc;

	memset(fx, 0, sizeof *fx);
	log_set_level(TTPD_LOG_ERR);
	registry_init(&fx->reg);
	ruleset_init(&fx->rules);
	if (config_json != NULL) {
		config = jv_parse(config_json, strlen(config_json), err, len);
		ck_assert_msg(config != NULL, "%s", err);
	}
	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"behavioral";
	pc.config = config;
	pc.origin = (char *)"check_behavioral:1";
	rc = loader_load(&fx->reg, dir, &pc, err, len);
	if (rc == 0) {
		registry_finish(&fx->reg);
		fx->p = registry_find(&fx->reg, "behavioral");
		ck_assert(fx->p != NULL);
	}
	if (config != NULL)
		jv_decref(config);
	free(dir);
	return rc;
}

static void
fx_open(struct fx *fx, const char *config_json)
{
	char err[1024];

	ck_assert_msg(fx_try_open(fx, config_json, err, sizeof err) == 0,
	    "%s", err);
}

static void
fx_close(struct fx *fx)
{
	registry_free(&fx->reg);
	ruleset_free(&fx->rules);
}

static void
fx_add_yaml(struct fx *fx, const char *yaml)
{
	char err[512];
	struct rule *r;

	r = rules_parse_buffer("inline.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ruleset_push(&fx->rules, r);
}

static void
fx_load_dir(struct fx *fx, const char *dir)
{
	const char *dirs[1];

	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx->rules, fx_report, fx),
	    0);
}

static void
fx_load_decnet(struct fx *fx)
{
	char *dir;

	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	fx_load_dir(fx, dir);
	ck_assert_int_eq((int)fx->rules.n, 59);
	free(dir);
}

static int
fx_assign(struct fx *fx)
{
	return registry_assign_rules(&fx->reg, &fx->rules, fx_report, fx);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run one event; its tags are appended to out. */
static void
fx_run(struct fx *fx, const char *kind, const char *payload_json,
    struct tag_list *out)
{
	struct tag_settings ts = { "v15.1" };
	ttpd_value *payload;
	ttpd_event ev;
	char err[256];

	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = kind;
	ev.source_id = "check-1";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	ck_assert_int_eq(hostapi_run(fx->p, &ev, &ts, now_ns(), out),
	    TTPD_OK);
	jv_decref(payload);
}

/* The rule ids of tags, comma-joined (one per tag). */
static const char *
rule_ids(const struct tag_list *tags, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < tags->n; i++) {
		strncat(buf, i ? "," : "", len - strlen(buf) - 1);
		strncat(buf, tags->v[i].rule_id, len - strlen(buf) - 1);
	}
	return buf;
}

/* ---- golden parity ---- */

START_TEST(test_golden_parity)
{
	struct golden_result r;

	golden_run("{ name = \"behavioral\"; }", 31, 40, &r);
	ck_assert_msg(r.expected >= 60, "expected set suspiciously small: "
	    "%zu", r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/* ---- per-rule decisions with DECNET's rules ---- */

struct decision {
	const char *kind;
	const char *payload;
	const char *tags;       /* rule ids of every tag, in order */
};

static const struct decision decisions[] = {
	/* R0031: both bounds inclusive */
	{ "session", "{\"beacon_interval_s\":10,\"beacon_jitter_pct\":0.15}",
	    "R0031,R0031" },
	{ "session", "{\"beacon_interval_s\":9.999,\"beacon_jitter_pct\":0.1}",
	    "" },
	{ "session", "{\"beacon_interval_s\":9,\"beacon_jitter_pct\":0.1}",
	    "" },
	{ "session",
	    "{\"beacon_interval_s\":10,\"beacon_jitter_pct\":0.1500001}", "" },
	{ "session", "{\"beacon_interval_s\":\"60\",\"beacon_jitter_pct\":0}",
	    "" },
	{ "session", "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":\"0\"}",
	    "" },
	{ "session", "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":false}",
	    "" },
	{ "session", "{\"beacon_interval_s\":true,\"beacon_jitter_pct\":0}",
	    "" },
	{ "session", "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":null}",
	    "" },
	{ "session", "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":[0]}",
	    "" },
	{ "session", "{\"beacon_interval_s\":60}", "" },
	{ "session", "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":-0.5}",
	    "R0031,R0031" },
	{ "session", "{\"beacon_interval_s\":1e300,\"beacon_jitter_pct\":0}",
	    "R0031,R0031" },
	/* R0031 applies to session only */
	{ "http_request",
	    "{\"beacon_interval_s\":60,\"beacon_jitter_pct\":0}", "" },
	/* R0032 */
	{ "session", "{\"op_text\":\"redis> FLUSHALL\"}", "R0032" },
	{ "session", "{\"op_text\":\"flushall\"}", "" },
	{ "session", "{\"op_text\":\"\",\"command_text\":\"TRUNCATE TABLE t\"}",
	    "R0032" },
	{ "session", "{\"op_text\":5,\"command_text\":\"FLUSHALL\"}", "" },
	{ "session", "{\"op_text\":0,\"command_text\":\"FLUSHALL\"}",
	    "R0032" },
	{ "session", "{\"op_text\":{\"a\":1},\"command_text\":\"FLUSHALL\"}",
	    "" },
	{ "session", "{\"op_text\":\"DROP\\u00a0DATABASE x\"}", "R0032" },
	{ "session", "{\"op_text\":\"DROP\\u3000DATABASE x\"}", "R0032" },
	{ "session", "{\"op_text\":\"DELETE /_alias\"}", "" },
	{ "session", "{\"op_text\":\"db.dropDatabase()\"}", "R0032" },
	{ "session", "{}", "" },
	/* R0033 */
	{ "session", "{\"body_text\":\"pay btc to "
	    "1123456789ABCDEFGHJKLMNPQR\"}", "R0033" },
	{ "session", "{\"body_text\":\"pay btc to "
	    "1123456789ABCDEFGHJKLMNPQ\"}", "" },
	{ "session", "{\"body_text\":\"pay btc to "
	    "1123456789ABCDEFGHJKLMNPQRSTUVWXYZa\"}", "R0033" },
	{ "session", "{\"body_text\":\"pay btc to "
	    "1123456789ABCDEFGHJKLMNPQRSTUVWXYZab\"}", "" },
	{ "session", "{\"body_text\":\"pay btc to "
	    "x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}", "" },
	{ "session", "{\"body_text\":\"pay btc to "
	    "\\u00e91A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}", "" },
	{ "session", "{\"body_text\":\"your files: pay bitcoin\"}", "" },
	{ "session", "{\"body_text\":\"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}",
	    "" },
	{ "session", "{\"body_text\":12345,\"note_text\":\"btc "
	    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}", "" },
	{ "session", "{\"body_text\":\"\",\"note_text\":\"BTC "
	    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\"}", "R0033" },
	{ "email", "{\"body_text\":\"Send 1 BTC to "
	    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa to decrypt.\"}", "R0033" },
	/* R0034 */
	{ "session", "{\"bytes_out\":1048576}", "R0034" },
	{ "session", "{\"bytes_out\":1048575,\"request_count\":49}", "" },
	{ "session", "{\"request_count\":50}", "R0034" },
	{ "session", "{\"request_count\":50.0,\"bytes_out\":\"9999999\"}", "" },
	{ "session", "{\"bytes_out\":1048576.0}", "R0034" },
	{ "session", "{\"bytes_out\":1048575.9}", "" },
	{ "session", "{\"request_count\":true,\"bytes_out\":true}", "" },
	/* R0035 */
	{ "session", "{\"rows_read\":10000}", "R0035" },
	{ "session", "{\"rows_read\":9999,\"bytes_read\":5242879}", "" },
	{ "session", "{\"rows_read\":10000.0}", "" },
	{ "session", "{\"bytes_read\":5242880.0}", "R0035" },
	{ "session", "{\"rows_read\":\"10000\",\"bytes_read\":null}", "" },
	/* R0036, R0037 */
	{ "http_request", "{\"request_path\":\"/.git/config\"}", "R0036" },
	{ "http_request", "{\"raw_url\":\"/.env\"}", "" },
	{ "session", "{\"matched_path\":\"\",\"path\":\"/x/wp-config.php\"}",
	    "R0036" },
	{ "session", "{\"path\":[\"/.env\"]}", "" },
	{ "session", "{\"path\":{\"p\":\"/.env\"}}", "" },
	{ "session", "{\"path\":\"/home/\\u0431\\u043e\\u0431/.ssh/id_rsa\"}",
	    "R0036" },
	{ "http_request",
	    "{\"request_path\":\"/api/v1/namespaces/default/secrets/.env\"}",
	    "R0036,R0037" },
	{ "session", "{\"request_path\":\"/API/V1/NAMESPACES/x/SECRETS\"}",
	    "" },
	{ "session", "{\"request_path\":\"/api/v1/namespaces//secrets\"}", "" },
	/* R0038 */
	{ "session", "{\"signals\":[1,null,\"bind:/etc\"]}", "R0038" },
	{ "session", "{\"signals\":\"privileged:true\"}", "" },
	{ "session", "{\"signals\":{\"privileged:true\":1}}", "" },
	{ "session", "{\"signals\":[]}", "" },
	{ "session", "{\"signals\":[\"Privileged:true\"]}", "" },
	/* R0039: true only as a boolean, count only as an int */
	{ "session", "{\"llmnr_poisoned\":true}", "R0039" },
	{ "session", "{\"llmnr_poisoned\":\"true\"}", "" },
	{ "session", "{\"llmnr_poisoned\":1}", "" },
	{ "session", "{\"llmnr_poison_count\":1}", "R0039" },
	{ "session", "{\"llmnr_poison_count\":0,\"llmnr_poisoned\":false}",
	    "" },
	{ "session", "{\"llmnr_poison_count\":true}", "" },
	{ "session", "{\"llmnr_poison_count\":1.0}", "" },
	/* R0040 */
	{ "session", "{\"tftp_filename\":\"sw1-confg\"}", "R0040" },
	{ "session", "{\"tftp_filename\":\"config.cfg\\n\"}", "R0040" },
	{ "session", "{\"tftp_filename\":\"a.cfg.txt\"}", "" },
	{ "session", "{\"tftp_filename\":\"router.CFG\"}", "" },
	{ "session", "{\"tftp_filename\":42}", "" },
	{ "session", "{\"tftp_filename\":\"\"}", "" },
};

START_TEST(test_decisions)
{
	const struct decision *d = &decisions[_i];
	struct tag_list tags;
	struct fx fx;
	char got[512];

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	/* R0031-R0040 are the lifter's, nothing else */
	ck_assert_int_eq((int)fx.p->nrules, 10);
	tag_list_init(&tags);
	fx_run(&fx, d->kind, d->payload, &tags);
	ck_assert_msg(strcmp(rule_ids(&tags, got, sizeof got), d->tags) == 0,
	    "%s %s: want [%s] got [%s]", d->kind, d->payload, d->tags, got);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* ---- evidence ---- */

struct evidence_case {
	const char *kind;
	const char *payload;
	const char *evidence;   /* of the first tag */
};

static const struct evidence_case evidence_cases[] = {
	{ "session", "{\"op_text\":\"FLUSHALL; DROP DATABASE x\","
	    "\"target\":null}", "{\"matched_op\":\"FLUSHALL\","
	    "\"target\":null}" },
	{ "session", "{\"command_text\":\"mysql -e 'DROP   DATABASE p'\"}",
	    "{\"matched_op\":\"DROP\\\\s+DATABASE\"}" },
	{ "session", "{\"body_text\":\"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy "
	    "and 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5Uzq"
	    "tReoS44qo9mtmXCqY45DJ852K5Jv2684Rge RANSOM\"}",
	    "{\"btc_address\":\"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy\","
	    "\"matched_keywords\":[\"ransom\"]}" },
	{ "session", "{\"note_text\":\"Send 300 MONERO to 4AdUndXHHZ6cfufTMv"
	    "ppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ8"
	    "52K5Jv2684Rge to Decrypt\"}",
	    "{\"btc_address\":\"4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3sk"
	    "xNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge\","
	    "\"matched_keywords\":[\"monero\",\"decrypt\"]}" },
	{ "session", "{\"signals\":[\"bind:/:/\"],\"matched_signal\":\"zzz\","
	    "\"container_image\":\"alpine\"}",
	    "{\"matched_signal\":\"bind:/:/\",\"container_image\":\"alpine\"}" },
	{ "session", "{\"signals\":[\"bind:/var/run/docker.sock\","
	    "\"privileged:true\"]}", "{\"matched_signal\":\"privileged:true\"}" },
	{ "session", "{\"request_path\":\"/var/run/secrets/kubernetes.io/"
	    "serviceaccount/token\",\"namespace\":\"kube-system\"}",
	    "{\"matched_path\":\"/var/run/secrets/kubernetes.io/serviceaccount/"
	    "token\",\"namespace\":\"kube-system\"}" },
	{ "session", "{\"llmnr_poison_count\":3,\"victim_host\":\"ws\\u00e9\"}",
	    "{\"victim_host\":\"ws\\u00e9\"}" },
	{ "session", "{\"bytes_read\":5242880,\"service\":null}",
	    "{\"service\":null,\"bytes_read\":5242880}" },
};

START_TEST(test_evidence)
{
	const struct evidence_case *c = &evidence_cases[_i];
	struct tag_list tags;
	ttpd_value *want, *got;
	struct fx fx;
	char err[256];

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	tag_list_init(&tags);
	fx_run(&fx, c->kind, c->payload, &tags);
	ck_assert_msg(tags.n >= 1, "%s: no tag", c->payload);
	want = jv_parse(c->evidence, strlen(c->evidence), err, sizeof err);
	ck_assert_msg(want != NULL, "%s", err);
	got = jv_parse(tags.v[0].evidence, strlen(tags.v[0].evidence), err,
	    sizeof err);
	ck_assert_msg(got != NULL, "%s", err);
	ck_assert_msg(jv_equal(want, got), "%s: want %s got %s", c->payload,
	    c->evidence, tags.v[0].evidence);
	jv_decref(want);
	jv_decref(got);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* Every rule but R0037 on one session event, in rule and emit order. */
START_TEST(test_several_rules_one_event)
{
	struct tag_list tags;
	struct fx fx;
	char got[512];

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	tag_list_init(&tags);
	fx_run(&fx, "session", "{\"beacon_interval_s\":30,"
	    "\"beacon_jitter_pct\":0.01,\"op_text\":\"FLUSHALL\","
	    "\"rows_read\":20000,\"signals\":[\"privileged:true\"],"
	    "\"llmnr_poisoned\":true,\"tftp_filename\":\"startup-config\","
	    "\"matched_path\":\"/root/.ssh/id_rsa\",\"body_text\":\"ransom: "
	    "send btc to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\","
	    "\"bytes_out\":2000000}", &tags);
	ck_assert_str_eq(rule_ids(&tags, got, sizeof got),
	    "R0031,R0031,R0032,R0033,R0034,R0035,R0036,R0038,R0039,R0040");
	ck_assert_str_eq(tags.v[0].technique_id, "T1071");
	ck_assert_str_eq(tags.v[1].technique_id, "T1029");
	ck_assert(tags.v[1].confidence == 0.85);
	ck_assert_str_eq(tags.v[6].sub_technique_id, "T1552.001");
	ck_assert_str_eq(tags.v[6].mitre_url,
	    "https://attack.mitre.org/techniques/T1552/001");
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* A disabled rule is not handed out; a clipped one is capped. */
START_TEST(test_rule_state)
{
	struct tag_list tags;
	struct fx fx;
	char got[512];

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	ruleset_find(&fx.rules, "R0034")->state.state = RULE_STATE_DISABLED;
	rules_changed();
	{
		struct rule *r = ruleset_find(&fx.rules, "R0031");

		r->state.state = RULE_STATE_CLIPPED;
		rules_changed();
		r->state.has_confidence_max = 1;
		r->state.confidence_max = 0.5;
	}
	tag_list_init(&tags);
	fx_run(&fx, "session", "{\"beacon_interval_s\":30,"
	    "\"beacon_jitter_pct\":0.01,\"bytes_out\":2000000,"
	    "\"llmnr_poisoned\":true}", &tags);
	ck_assert_str_eq(rule_ids(&tags, got, sizeof got),
	    "R0031,R0031,R0039");
	ck_assert_double_eq_tol(tags.v[0].confidence, 0.5, 1e-12);
	ck_assert_double_eq_tol(tags.v[1].confidence, 0.5, 1e-12);
	ck_assert_double_eq_tol(tags.v[2].confidence, 0.9, 1e-12);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/*
 * Next to the rule engine, through pipeline_event(): one http_request
 * gets the engine's tags and the lifter's, each plugin its own rules.
 */
START_TEST(test_with_rule_engine)
{
	struct plugin_conf pc;
	struct pipeline pl;
	ttpd_value *payload;
	ttpd_event ev;
	struct fx fx;
	char err[1024], *dir, got[512];
	const char *json = "{\"user_agent\": \"sqlmap/1.7.2#stable\", "
	    "\"raw_url\": \"/index.php?id=/../../etc/passwd\", "
	    "\"request_path\": \"/.env\", \"headers\": {\"Host\": \"x\"}}";

	memset(&fx, 0, sizeof fx);
	log_set_level(TTPD_LOG_ERR);
	registry_init(&fx.reg);
	ruleset_init(&fx.rules);
	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	memset(&pc, 0, sizeof pc);
	pc.origin = (char *)"check_behavioral:1";
	pc.name = (char *)"rule_engine";
	ck_assert_msg(loader_load(&fx.reg, dir, &pc, err, sizeof err) == 0,
	    "%s", err);
	pc.name = (char *)"behavioral";
	ck_assert_msg(loader_load(&fx.reg, dir, &pc, err, sizeof err) == 0,
	    "%s", err);
	free(dir);
	registry_finish(&fx.reg);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	ck_assert_int_eq((int)registry_find(&fx.reg, "rule_engine")->nrules,
	    23);
	ck_assert_int_eq((int)registry_find(&fx.reg, "behavioral")->nrules,
	    10);

	pipeline_init(&pl, &fx.reg, NULL);
	pl.batch_size = SIZE_MAX;       /* never flush: we read the batch */
	payload = jv_parse(json, strlen(json), err, sizeof err);
	ck_assert_msg(payload != NULL, "%s", err);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = "http_request";
	ev.source_id = "check-both";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	ck_assert_int_eq(pipeline_event(&pl, &ev), 0);
	ck_assert_str_eq(rule_ids(&pl.batch, got, sizeof got),
	    "R0007,R0007,R0009,R0036");
	ck_assert_uint_eq(pl.st.plugin_errors, 0);
	jv_decref(payload);
	pipeline_free(&pl);
	fx_close(&fx);
}
END_TEST

/*
 * Every field the lifter reads, with every JSON type (control characters,
 * huge numbers, nested containers, astral characters), on every kind it
 * handles: handle() never fails, and a value of the wrong type never
 * fires.
 */
START_TEST(test_junk_values)
{
	static const char *const fields[] = {
		"beacon_interval_s", "beacon_jitter_pct", "op_text",
		"command_text", "body_text", "note_text", "bytes_out",
		"request_count", "rows_read", "bytes_read", "matched_path",
		"request_path", "path", "signals", "llmnr_poisoned",
		"llmnr_poison_count", "tftp_filename",
	};
	static const char *const junk[] = {
		"null", "true", "false", "0", "-1", "1e308", "-1e308",
		"9223372036854775807", "-9223372036854775808", "\"\"",
		"\"x\\u0001FLUSHALL\"", "[]", "{}", "[null, [], {}]",
		"{\"a\": [1]}", "\"\\ud83d\\ude00\"",
	};
	static const char *const kinds[] = {
		"session", "email", "http_request"
	};
	struct tag_list tags;
	struct fx fx;
	char payload[256];
	size_t f, j, k, fired = 0;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	tag_list_init(&tags);
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		for (f = 0; f < sizeof fields / sizeof fields[0]; f++)
			for (j = 0; j < sizeof junk / sizeof junk[0]; j++) {
				snprintf(payload, sizeof payload,
				    "{\"%s\": %s}", fields[f], junk[j]);
				tag_list_truncate(&tags, 0);
				fx_run(&fx, kinds[k], payload, &tags);
				fired += tags.n;
			}
	/*
	 * Only on sessions, and only right types: bytes_out (1e308, the
	 * largest int), request_count and rows_read (the largest int),
	 * bytes_read (1e308, the largest int), llmnr_poisoned (true),
	 * llmnr_poison_count (the largest int), op_text and command_text
	 * (the string with FLUSHALL).
	 */
	ck_assert_uint_eq(fired, 2 + 1 + 1 + 2 + 1 + 1 + 1 + 1);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* ---- rule validation ---- */

static const char rule_head[] =
    "rule_id: X%d\n"
    "rule_version: 1\n"
    "name: x\n"
    "applies_to: [session]\n"
    "emits: [{tactic: TA0040, technique_id: T1485, confidence: 0.9}]\n"
    "evidence_fields: [target]\n"
    "match:\n";

struct bad_rule {
	const char *match;
	const char *reason;     /* substring of the report */
};

static const struct bad_rule bad_rules[] = {
	{ "  kind: lifter:behavioral_data_destruction\n"
	    "  patterns: ['ok', 'DROP(']\n", "patterns[1]: missing closing "
	    "parenthesis" },
	{ "  kind: lifter:behavioral_data_destruction\n"
	    "  patterns: 'FLUSHALL'\n", "patterns: must be a list" },
	{ "  kind: lifter:behavioral_credentials_in_files\n"
	    "  paths: {a: b}\n", "paths: must be a list" },
	{ "  kind: lifter:behavioral_tftp_router_config\n"
	    "  filename_patterns: ['x', 3]\n", "filename_patterns[1]: must be "
	    "a string" },
	{ "  kind: lifter:behavioral_docker_escape\n"
	    "  signals: [null]\n", "signals[0]: must be a string" },
	{ "  kind: lifter:behavioral_beaconing\n"
	    "  min_interval_s: '10'\n", "min_interval_s: must be a number" },
	{ "  kind: lifter:behavioral_beaconing\n"
	    "  max_jitter_pct: true\n", "max_jitter_pct: must be a number" },
	{ "  kind: lifter:behavioral_db_mass_read\n"
	    "  min_rows: [1]\n", "min_rows: must be a number" },
	{ "  kind: lifter:behavioral_ransom_note\n"
	    "  payment_keywords: [btc]\n  require_btc_or_xmr: 1\n",
	    "require_btc_or_xmr: must be a boolean" },
};

START_TEST(test_bad_rules_rejected)
{
	const struct bad_rule *b = &bad_rules[_i];
	struct fx fx;
	char yaml[1024];

	fx_open(&fx, NULL);
	snprintf(yaml, sizeof yaml, rule_head, 1);
	strncat(yaml, b->match, sizeof yaml - strlen(yaml) - 1);
	fx_add_yaml(&fx, yaml);
	ck_assert_int_eq(fx_assign(&fx), 1);
	ck_assert_msg(strstr(fx.reports, b->reason) != NULL, "want '%s' in "
	    "%s", b->reason, fx.reports);
	ck_assert_msg(strstr(fx.reports, "rejected by plugin behavioral") !=
	    NULL, "%s", fx.reports);
	ck_assert_int_eq((int)fx.p->nrules, 0);
	fx_close(&fx);
}
END_TEST

/*
 * Rules written by an operator: an unknown behavioral kind is owned but
 * never fires; defaults apply to absent thresholds; an empty list never
 * fires; require_btc_or_xmr false gives a null address.
 */
START_TEST(test_operator_rules)
{
	static const char *const matches[] = {
		"  kind: lifter:behavioral_no_such_thing\n",
		"  kind: lifter:behavioral_beaconing\n",
		"  kind: lifter:behavioral_data_destruction\n  patterns: []\n",
		"  kind: lifter:behavioral_ransom_note\n"
		"  require_btc_or_xmr: false\n"
		"  payment_keywords: [\"R\\u00c9SEAU\", 'pay']\n",
		"  kind: lifter:behavioral_exfil_over_web\n",
	};
	struct tag_list tags;
	struct fx fx;
	char yaml[1024], got[512];
	ttpd_value *ev;
	size_t i;

	fx_open(&fx, NULL);
	for (i = 0; i < sizeof matches / sizeof matches[0]; i++) {
		snprintf(yaml, sizeof yaml, rule_head, (int)i);
		strncat(yaml, matches[i], sizeof yaml - strlen(yaml) - 1);
		fx_add_yaml(&fx, yaml);
	}
	ck_assert_int_eq(fx_assign(&fx), 0);
	ck_assert_int_eq((int)fx.p->nrules, 5);
	tag_list_init(&tags);
	/* defaults: interval >= 0, jitter <= 1.0; 1048576 bytes, 50 reqs */
	fx_run(&fx, "session", "{\"beacon_interval_s\":0,"
	    "\"beacon_jitter_pct\":1,\"op_text\":\"FLUSHALL\","
	    "\"request_count\":50}", &tags);
	ck_assert_str_eq(rule_ids(&tags, got, sizeof got), "X1,X4");
	tag_list_truncate(&tags, 0);
	fx_run(&fx, "session", "{\"beacon_interval_s\":0,"
	    "\"beacon_jitter_pct\":1.01,\"request_count\":49}", &tags);
	ck_assert_uint_eq(tags.n, 0);
	/* case-insensitive keywords beyond ASCII, no address needed */
	fx_run(&fx, "session", "{\"body_text\":\"le r\\u00e9seau\"}", &tags);
	ck_assert_str_eq(rule_ids(&tags, got, sizeof got), "X3");
	ev = jv_parse(tags.v[0].evidence, strlen(tags.v[0].evidence), NULL, 0);
	ck_assert(ev != NULL);
	ck_assert_int_eq(jv_type(jv_object_get(ev, "btc_address")),
	    TTPD_VT_NULL);
	ck_assert_uint_eq(jv_array_size(jv_object_get(ev,
	    "matched_keywords")), 1);
	jv_decref(ev);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* A pathological regex is abandoned at the match limit: no tag, no hang,
 * no error. */
START_TEST(test_match_limit)
{
	struct tag_list tags;
	struct fx fx;
	char yaml[1024], payload[256];

	fx_open(&fx, "{\"match_limit\": 1000, \"depth_limit\": 1000, "
	    "\"heap_limit_kib\": 1000}");
	snprintf(yaml, sizeof yaml, rule_head, 1);
	strncat(yaml, "  kind: lifter:behavioral_data_destruction\n"
	    "  patterns: ['(a+)+$', 'b']\n", sizeof yaml - strlen(yaml) - 1);
	fx_add_yaml(&fx, yaml);
	ck_assert_int_eq(fx_assign(&fx), 0);
	snprintf(payload, sizeof payload, "{\"op_text\":\"%s\"}",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
	tag_list_init(&tags);
	fx_run(&fx, "session", payload, &tags);
	ck_assert_uint_eq(tags.n, 0);
	/* the next pattern still runs */
	fx_run(&fx, "session", "{\"op_text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaa!b\"}", &tags);
	ck_assert_uint_eq(tags.n, 1);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

START_TEST(test_bad_config)
{
	static const char *const configs[] = {
		"{\"match_limit\": 0}",
		"{\"depth_limit\": \"10\"}",
		"{\"heap_limit_kib\": 5000000000}",
		"{\"no_such_key\": 1}",
	};
	struct fx fx;
	char err[1024];

	ck_assert_int_ne(fx_try_open(&fx, configs[_i], err, sizeof err), 0);
	ck_assert_msg(err[0] != '\0', "no message");
	registry_free(&fx.reg);
	ruleset_free(&fx.rules);
}
END_TEST

/* ---- ttpd's own pack ---- */

START_TEST(test_pack_rules)
{
	static const struct decision pack[] = {
		{ "session", "{\"beacon_interval_s\":60,"
		    "\"beacon_jitter_pct\":0.05}", "TD0201,TD0201" },
		{ "session", "{\"op_text\":\"redis> flushall\"}", "TD0202" },
		{ "session", "{\"body_text\":\"pay btc to "
		    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa to decrypt\"}",
		    "TD0203" },
		{ "email", "{\"body_text\":\"Bitcoin: "
		    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq\"}", "TD0203" },
		{ "session", "{\"bytes_out\":1048576}", "TD0204" },
		{ "session", "{\"rows_read\":10000}", "TD0205" },
		{ "http_request", "{\"request_path\":\"/.env.production\"}",
		    "TD0206" },
		{ "http_request", "{\"request_path\":\"/app/.environment\"}",
		    "" },
		{ "session", "{\"path\":\"/var/run/secrets/kubernetes.io/"
		    "serviceaccount/token\"}", "TD0207" },
		{ "session", "{\"signals\":[\"bind:/var/run/docker.sock\"]}",
		    "TD0208" },
		{ "session", "{\"llmnr_poison_count\":2}", "TD0209" },
		{ "session", "{\"tftp_filename\":\"core-sw1-confg\"}",
		    "TD0210" },
		{ "session", "{\"tftp_filename\":\"pxelinux.0\"}", "" },
		{ "session", "{\"op_text\":\"SELECT 1\"}", "" },
	};
	struct tag_list tags;
	struct fx fx;
	char *dir, got[512];
	size_t i, mine = 0;

	fx_open(&fx, NULL);
	ck_assert(asprintf(&dir, "%s/conf/rules", tu_env("TTPD_SRCDIR")) > 0);
	fx_load_dir(&fx, dir);
	free(dir);
	ck_assert_int_eq(fx_assign(&fx), 0);
	for (i = 0; i < fx.rules.n; i++) {
		const struct rule *r = fx.rules.v[i];

		if (r->pub.kind == NULL ||
		    strncmp(r->pub.kind, "lifter:behavioral_", 18) != 0)
			continue;
		mine++;
		ck_assert_msg(r->owner == fx.p && r->prepared &&
		    r->pub.prepared != NULL, "%s not prepared",
		    r->pub.rule_id);
	}
	ck_assert_uint_eq(mine, 10);
	for (i = 0; i < sizeof pack / sizeof pack[0]; i++) {
		tag_list_init(&tags);
		fx_run(&fx, pack[i].kind, pack[i].payload, &tags);
		ck_assert_msg(strcmp(rule_ids(&tags, got, sizeof got),
		    pack[i].tags) == 0, "%s: want [%s] got [%s]",
		    pack[i].payload, pack[i].tags, got);
		tag_list_free(&tags);
	}
	fx_close(&fx);
}
END_TEST

/* ---- DECNET's behavioural corpus ---- */

START_TEST(test_corpus)
{
	struct tag_list tags;
	struct fx fx;
	char path[1024], *text, *line, *save = NULL;
	size_t rows = 0, i, k;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	snprintf(path, sizeof path, "%s/reference/decnet/corpus/"
	    "seed_behavioral.jsonl", tu_env("TTPD_SHARED_DIR"));
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *row = jv_parse(line, strlen(line), NULL, 0);
		const ttpd_value *want;
		char *payload;

		if (line[0] == '#' || row == NULL) {
			ck_assert_msg(line[0] == '#', "bad row %s", line);
			continue;
		}
		want = jv_object_get(row, "expected_rule_ids");
		payload = jv_dump(jv_object_get(row, "payload"));
		tag_list_init(&tags);
		fx_run(&fx, jv_string(jv_object_get(row, "source_kind")),
		    payload, &tags);
		/* every tag is an expected rule; every expected rule fired */
		for (i = 0; i < tags.n; i++) {
			int ok = 0;

			for (k = 0; k < jv_array_size(want); k++)
				ok |= strcmp(tags.v[i].rule_id, jv_string(
				    jv_array_get(want, k))) == 0;
			ck_assert_msg(ok, "%s: unexpected %s", line,
			    tags.v[i].rule_id);
		}
		for (k = 0; k < jv_array_size(want); k++) {
			int ok = 0;

			for (i = 0; i < tags.n; i++)
				ok |= strcmp(tags.v[i].rule_id, jv_string(
				    jv_array_get(want, k))) == 0;
			ck_assert_msg(ok, "%s: missing %s", line,
			    jv_string(jv_array_get(want, k)));
		}
		tag_list_free(&tags);
		free(payload);
		jv_decref(row);
		rows++;
	}
	ck_assert_uint_eq(rows, 11);
	free(text);
	fx_close(&fx);
}
END_TEST

static Suite *
behavioral_suite(void)
{
	Suite *s = suite_create("behavioral");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_golden_parity);
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_decisions, 0,
	    (int)(sizeof decisions / sizeof decisions[0]));
	tcase_add_loop_test(tc, test_evidence, 0,
	    (int)(sizeof evidence_cases / sizeof evidence_cases[0]));
	tcase_add_test(tc, test_several_rules_one_event);
	tcase_add_test(tc, test_rule_state);
	tcase_add_test(tc, test_with_rule_engine);
	tcase_add_test(tc, test_junk_values);
	tcase_add_loop_test(tc, test_bad_rules_rejected, 0,
	    (int)(sizeof bad_rules / sizeof bad_rules[0]));
	tcase_add_test(tc, test_operator_rules);
	tcase_add_test(tc, test_match_limit);
	tcase_add_loop_test(tc, test_bad_config, 0, 4);
	tcase_add_test(tc, test_pack_rules);
	tcase_add_test(tc, test_corpus);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(behavioral_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
