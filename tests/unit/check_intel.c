/*
 * The intel lifter (plugins/intel), loaded through the real host, against
 * DECNET's IntelLifter (decnet-lifters.md section 3.2): golden parity for
 * R0054-R0058, every provider's thresholds and lanes, wrong types,
 * unicode, rule states, and the operator-editable mapping tables.
 * DECNET's rules are read from $TTPD_SHARED_DIR at run time.
 */
#include "config.h"

#include <check.h>
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
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "testutil.h"

#define TOL 1e-12

struct fx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	struct tag_list tags;
};

static char *
plugins_dir(void)
{
	char *dir;

	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	return dir;
}

/* Try to load the plugin with a JSON config (or none); 0 on success. */
static int
fx_try_open(struct fx *fx, const char *config_json, char *err,
    size_t errlen)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char *dir = plugins_dir();
	int rc;

	memset(fx, 0, sizeof *fx);
	registry_init(&fx->reg);
	ruleset_init(&fx->rules);
	tag_list_init(&fx->tags);
	if (config_json != NULL) {
		config = jv_parse(config_json, strlen(config_json), err,
		    errlen);
		ck_assert_msg(config != NULL, "%s", err);
	}
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"intel";
	pc.config = config;
	pc.origin = (char *)"check_intel:1";
	rc = loader_load(&fx->reg, dir, &pc, err, errlen);
	if (rc == 0) {
		registry_finish(&fx->reg);
		fx->p = registry_find(&fx->reg, "intel");
		ck_assert(fx->p != NULL);
	}
	if (config != NULL)
		jv_decref(config);
	free(dir);
	return rc;
}

static void
fx_close(struct fx *fx)
{
	tag_list_free(&fx->tags);
	registry_free(&fx->reg);
	ruleset_free(&fx->rules);
}

static void
fx_open(struct fx *fx, const char *config_json)
{
	char err[1024];

	ck_assert_msg(fx_try_open(fx, config_json, err, sizeof err) == 0,
	    "%s", err);
}

static void
report(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "rule problem: %s\n", msg);
}

/* DECNET's 59 rules; the intel lifter must own exactly R0054-R0058. */
static void
fx_load_decnet(struct fx *fx)
{
	char *dir;
	const char *dirs[1];

	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx->rules, report, NULL),
	    0);
	ck_assert_int_eq((int)fx->rules.n, 59);
	free(dir);
	ck_assert_int_eq(registry_assign_rules(&fx->reg, &fx->rules, report,
	    NULL), 0);
	ck_assert_int_eq((int)fx->p->nrules, 5);
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

static struct rule *
fx_rule(struct fx *fx, const char *id)
{
	size_t i;

	for (i = 0; i < fx->rules.n; i++)
		if (strcmp(fx->rules.v[i]->pub.rule_id, id) == 0)
			return fx->rules.v[i];
	ck_abort_msg("no rule %s", id);
	return NULL;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Run one intel event; the tags replace fx->tags.  Returns the count. */
static size_t
fx_run(struct fx *fx, const char *payload_json)
{
	struct tag_settings ts = { "v15.1" };
	char err[256];
	ttpd_value *payload;
	ttpd_event ev;

	tag_list_free(&fx->tags);
	tag_list_init(&fx->tags);
	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = "intel";
	ev.source_id = "check-1";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	ck_assert_int_eq(hostapi_run(fx->p, &ev, &ts, now_ns(), &fx->tags),
	    TTPD_OK);
	jv_decref(payload);
	return fx->tags.n;
}

/* The tag of rule/technique, or NULL. */
static const struct tag *
find(struct fx *fx, const char *rule_id, const char *technique)
{
	size_t i;

	for (i = 0; i < fx->tags.n; i++)
		if (strcmp(fx->tags.v[i].rule_id, rule_id) == 0 &&
		    strcmp(fx->tags.v[i].technique_id, technique) == 0)
			return &fx->tags.v[i];
	return NULL;
}

/* The tag exists, with this confidence and exactly this evidence. */
static void
expect(struct fx *fx, const char *rule_id, const char *technique,
    double confidence, const char *evidence_json)
{
	const struct tag *t = find(fx, rule_id, technique);
	ttpd_value *got, *want;
	char err[256];

	ck_assert_msg(t != NULL, "no %s %s tag", rule_id, technique);
	ck_assert_msg(t->confidence >= confidence - TOL &&
	    t->confidence <= confidence + TOL, "%s %s: confidence %.17g, "
	    "want %.17g", rule_id, technique, t->confidence, confidence);
	got = jv_parse(t->evidence, strlen(t->evidence), err, sizeof err);
	want = jv_parse(evidence_json, strlen(evidence_json), err,
	    sizeof err);
	ck_assert(got != NULL && want != NULL);
	ck_assert_msg(jv_equal(got, want), "%s %s: evidence %s, want %s",
	    rule_id, technique, t->evidence, evidence_json);
	jv_decref(got);
	jv_decref(want);
}

/* ------------------------------------------------------------ parity */

START_TEST(test_golden_parity)
{
	struct golden_result r;

	golden_run("{ name = \"intel\"; }", 54, 58, &r);
	ck_assert_msg(r.expected >= 40, "expected set suspiciously small: "
	    "%zu", r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/*
 * The tables conf/ttpd.conf shows commented out are the built-in ones:
 * uncommented, they must give the same golden tags.  A commented line is
 * a table line when it starts with `name =` or a bracket; prose is not.
 */
static char *
shipped_intel_entry(void)
{
	char *path, *text, *line, *save = NULL, *out, *p;
	const char *start;
	size_t cap, used = 0;
	int in_config = 0;

	ck_assert(asprintf(&path, "%s/conf/ttpd.conf",
	    tu_env("TTPD_SRCDIR")) > 0);
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s", path);
	free(path);
	start = strstr(text, "name = \"intel\";");
	ck_assert(start != NULL);
	cap = strlen(text) + 64;
	out = malloc(cap);
	ck_assert(out != NULL);
	used = (size_t)snprintf(out, cap, "{ name = \"intel\"; config = {\n");
	for (line = strtok_r(text + (start - text), "\n", &save);
	    line != NULL; line = strtok_r(NULL, "\n", &save)) {
		p = line + strspn(line, " \t");
		if (!in_config) {
			if (strncmp(p, "config = {", 10) == 0)
				in_config = 1;
			continue;
		}
		if (strcmp(p, "};") == 0)
			break;
		if (*p != '#')
			continue;
		p++;
		p += strspn(p, " \t");
		if (*p == '\0' || (strchr("{}()[]", *p) == NULL &&
		    (strspn(p, "abcdefghijklmnopqrstuvwxyz_") == 0 ||
		    strncmp(p + strspn(p, "abcdefghijklmnopqrstuvwxyz_"),
		    " = ", 3) != 0)))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s\n", p);
		ck_assert(used < cap);
	}
	ck_assert(in_config);
	snprintf(out + used, cap - used, "}; }");
	free(text);
	ck_assert_msg(strstr(out, "abuseipdb = (") != NULL &&
	    strstr(out, "greynoise = {") != NULL &&
	    strstr(out, "feodo = [") != NULL &&
	    strstr(out, "threatfox = (") != NULL, "tables not found: %s", out);
	return out;
}

START_TEST(test_golden_parity_shipped_tables)
{
	struct golden_result r;
	char *entry = shipped_intel_entry();

	golden_run(entry, 54, 58, &r);
	free(entry);
	ck_assert_uint_ge(r.expected, 40);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
}
END_TEST

/*
 * DECNET's rule-precision corpus for intel: every row fires exactly its
 * expected_rule_ids, except the two ThreatFox rows DECNET itself misses
 * because they use ioc_type (decnet-lifters.md 5.4), which fire nothing.
 */
START_TEST(test_decnet_corpus)
{
	static const char *const missed[] = {
		"threatfox_botnet_cc", "threatfox_payload"
	};
	struct fx fx;
	char *path, *text, *line, *save = NULL, err[256];
	size_t rows = 0, i, k;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert(asprintf(&path, "%s/reference/decnet/corpus/"
	    "seed_intel.jsonl", tu_env("TTPD_SHARED_DIR")) > 0);
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "%s", path);
	free(path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *row = jv_parse(line, strlen(line), err,
		    sizeof err);
		const ttpd_value *want;
		const char *label;
		char *payload, fired[64] = "", expected[64] = "";
		int is_missed = 0;

		ck_assert_msg(row != NULL, "%s", err);
		label = jv_string(jv_object_get(row, "label"));
		want = jv_object_get(row, "expected_rule_ids");
		ck_assert(label != NULL);
		for (k = 0; k < sizeof missed / sizeof missed[0]; k++)
			if (strcmp(label, missed[k]) == 0)
				is_missed = 1;
		for (i = 0; !is_missed && i < jv_array_size(want); i++) {
			strcat(expected, jv_string(jv_array_get(want, i)));
			strcat(expected, ",");
		}
		payload = jv_dump(jv_object_get(row, "payload"));
		ck_assert(payload != NULL);
		fx_run(&fx, payload);
		free(payload);
		for (i = 0; i < fx.tags.n; i++) {
			char id[8];

			snprintf(id, sizeof id, "%s,", fx.tags.v[i].rule_id);
			if (strstr(fired, id) == NULL)
				strcat(fired, id);
		}
		ck_assert_msg(strcmp(fired, expected) == 0,
		    "%s: fired '%s', expected '%s'", label, fired, expected);
		jv_decref(row);
		rows++;
	}
	free(text);
	ck_assert_uint_eq(rows, 8);
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ AbuseIPDB */

START_TEST(test_abuseipdb)
{
	struct fx fx;
	const struct tag *t;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	/* the verified example */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 95, "
	    "\"abuseipdb_categories\": [18, 22]}"), 1);
	expect(&fx, "R0054", "T1110", 0.6649999999999999,
	    "{\"abuseipdb_categories\": [18, 22], \"abuseipdb_score\": 95, "
	    "\"abuse_confidence_score\": 95}");
	t = find(&fx, "R0054", "T1110");
	ck_assert(t->confidence == 0.7 * (95 / 100.0));
	ck_assert_str_eq(t->mitre_url,
	    "https://attack.mitre.org/techniques/T1110");

	/* cat 11: T1566 from score 80 exactly, not at 79.99 */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 80, "
	    "\"abuseipdb_categories\": [11]}"), 2);
	expect(&fx, "R0054", "T1566", 0.7 * 0.8, "{\"abuseipdb_categories\":"
	    " [11], \"abuseipdb_score\": 80, \"abuse_confidence_score\": 80}");
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 79.99, "
	    "\"abuseipdb_categories\": [11]}"), 1);
	expect(&fx, "R0054", "T1496", 0.6 * (79.99 / 100.0),
	    "{\"abuseipdb_categories\": [11], \"abuseipdb_score\": 79.99, "
	    "\"abuse_confidence_score\": 79}");

	/* the store's floor: 0.6*0.5 = 0.3 is kept, 0.7*0.30 = 0.21 not */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 50, "
	    "\"abuseipdb_categories\": [20]}"), 1);
	ck_assert(fx.tags.v[0].confidence >= TAG_CONFIDENCE_FLOOR);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 30, "
	    "\"abuseipdb_categories\": [18]}"), 1);
	ck_assert(fx.tags.v[0].confidence < TAG_CONFIDENCE_FLOOR);

	/* above 100: clamped to 1 */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 150, "
	    "\"abuseipdb_categories\": [18]}"), 1);
	ck_assert(fx.tags.v[0].confidence == 1.0);

	/* categories: fallback key, junk elements, duplicates kept */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [], \"categories\": [22]}"), 1);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [18, 18, \"22\", 22.0, true, 5, "
	    "null, {}, [5]]}"), 1);
	expect(&fx, "R0054", "T1110", 0.7, "{\"abuseipdb_categories\": "
	    "[18, 18, 5], \"abuseipdb_score\": 100, "
	    "\"abuse_confidence_score\": 100}");
	/* one category, two techniques; unmapped categories give nothing */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [14, 4, 10, 12]}"), 2);
	ck_assert(find(&fx, "R0054", "T1046") != NULL);
	ck_assert(find(&fx, "R0054", "T1595") != NULL);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [4, 10, 12]}"), 0);
	fx_close(&fx);
}
END_TEST

START_TEST(test_abuseipdb_wrong_types)
{
	static const char *const none[] = {
		"{}",
		"{\"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": 95}",
		"{\"abuseipdb_score\": null, \"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": \"95\", \"abuseipdb_categories\": [18]}",
		/* JSON booleans are not numbers (DECNET: true == 1) */
		"{\"abuseipdb_score\": true, \"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": false, \"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": [95], \"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": {\"v\": 95}, "
		    "\"abuseipdb_categories\": [18]}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": \"18\"}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": 18}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": "
		    "{\"18\": 1}}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": []}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": [true]}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": [18.0]}",
		"{\"abuseipdb_score\": 95, \"abuseipdb_categories\": "
		    "[\"\u00e9\u0431\u4e2d\"]}",
	};
	struct fx fx;
	size_t i;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(fx_run(&fx, none[i]) == 0, "fired on %s",
		    none[i]);
	/* huge scores: the host clamps confidence to [0, 1] */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 1e300, "
	    "\"abuseipdb_categories\": [18]}"), 1);
	ck_assert(fx.tags.v[0].confidence == 1.0);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": -1e300, "
	    "\"abuseipdb_categories\": [18]}"), 1);
	ck_assert(fx.tags.v[0].confidence == 0.0);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": "
	    "9223372036854775807, \"abuseipdb_categories\": [18]}"), 1);
	ck_assert(strstr(fx.tags.v[0].evidence,
	    "\"abuse_confidence_score\":9223372036854775807") != NULL);
	/* a real score is truncated for abuse_confidence_score */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 95.5, "
	    "\"abuseipdb_categories\": [18], \"x\": \"\u00e9\"}"), 1);
	expect(&fx, "R0054", "T1110", 0.7 * (95.5 / 100.0),
	    "{\"abuseipdb_categories\": [18], \"abuseipdb_score\": 95.5, "
	    "\"abuse_confidence_score\": 95}");
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ GreyNoise */

START_TEST(test_greynoise)
{
	struct fx fx;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"scanner\", "
	    "\"greynoise_name\": \"Shodan.io\"}"), 1);
	expect(&fx, "R0055", "T1595", 0.7, "{\"greynoise_classification\": "
	    "\"scanner\", \"greynoise_name\": \"Shodan.io\", "
	    "\"greynoise_tags\": [\"scanner\"]}");
	ck_assert_str_eq(fx.tags.v[0].sub_technique_id, "T1595.002");

	/* bare malicious: T1071 at half confidence */
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"malicious\"}"), 1);
	expect(&fx, "R0055", "T1071", 0.35, "{\"greynoise_classification\": "
	    "\"malicious\", \"greynoise_tags\": [\"malicious\"]}");
	/* a tag on T1071 wins over the bare-malicious lane */
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"malicious\", "
	    "\"greynoise_tags\": [\"cobalt_strike\"]}"), 2);
	expect(&fx, "R0055", "T1071", 0.7, "{\"greynoise_classification\": "
	    "\"malicious\", \"greynoise_tags\": [\"cobalt_strike\"]}");
	expect(&fx, "R0055", "T1588", 0.7, "{\"greynoise_classification\": "
	    "\"malicious\", \"greynoise_tags\": [\"cobalt_strike\"]}");
	/* lanes on one technique append their signals */
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"scanner\", \"greynoise_tags\": "
	    "[\"web_crawler\", \"tor_exit_node\", 5, null, \"ssh_bruteforcer\","
	    " \"sliver\", \"havoc\"]}"), 5);
	expect(&fx, "R0055", "T1595", 0.7, "{\"greynoise_classification\": "
	    "\"scanner\", \"greynoise_tags\": [\"scanner\", \"web_crawler\"]}");
	expect(&fx, "R0055", "T1071", 0.7, "{\"greynoise_classification\": "
	    "\"scanner\", \"greynoise_tags\": [\"sliver\", \"havoc\"]}");
	/* absent classification is null in the evidence */
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_tags\": [\"metasploit\"]}"), 2);
	expect(&fx, "R0055", "T1588", 0.7, "{\"greynoise_classification\": "
	    "null, \"greynoise_tags\": [\"metasploit\"]}");
	fx_close(&fx);
}
END_TEST

START_TEST(test_greynoise_wrong_types)
{
	static const char *const none[] = {
		"{\"greynoise_classification\": \"benign\", "
		    "\"greynoise_tags\": []}",
		"{\"greynoise_classification\": \"Malicious\"}",
		"{\"greynoise_classification\": \"malicious \"}",
		"{\"greynoise_classification\": [\"malicious\"]}",
		"{\"greynoise_classification\": {\"malicious\": 1}}",
		"{\"greynoise_classification\": true}",
		"{\"greynoise_classification\": 1}",
		"{\"greynoise_tags\": \"tor_exit_node\"}",
		"{\"greynoise_tags\": {\"tor_exit_node\": true}}",
		"{\"greynoise_tags\": [\"TOR_EXIT_NODE\", \"unknown\"]}",
		"{\"greynoise_tags\": [\"\u0441liver\", \"\u30b9\"]}",
		"{\"greynoise_tags\": null}",
	};
	struct fx fx;
	size_t i;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(fx_run(&fx, none[i]) == 0, "fired on %s",
		    none[i]);
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ Feodo */

START_TEST(test_feodo)
{
	static const char *const none[] = {
		"{\"feodo_listed\": \"true\"}",
		"{\"feodo_listed\": 1}",
		"{\"feodo_listed\": false}",
		"{\"feodo_listed\": null}",
		"{\"feodo_listed\": [true]}",
		"{\"malware_family\": \"Emotet\"}",
	};
	struct fx fx;
	size_t i;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(fx_run(&fx, none[i]) == 0, "fired on %s",
		    none[i]);
	ck_assert_uint_eq(fx_run(&fx, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": \"QakBot\", "
	    "\"first_seen_feodo\": \"2024-01-01 10:00:00\"}"), 2);
	expect(&fx, "R0056", "T1071", 0.85, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": \"QakBot\", \"first_seen_feodo\": "
	    "\"2024-01-01 10:00:00\", \"malware_family\": \"QakBot\"}");
	ck_assert_str_eq(find(&fx, "R0056", "T1588")->sub_technique_id,
	    "T1588.001");
	/* an empty family falls through; a non-string one is not copied */
	ck_assert_uint_eq(fx_run(&fx, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": \"\", "
	    "\"malware_family\": \"\u042d\u043c\u043e\u0442\u0435\u0442\"}"), 2);
	expect(&fx, "R0056", "T1071", 0.85, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": \"\", \"malware_family\": "
	    "\"\u042d\u043c\u043e\u0442\u0435\u0442\"}");
	ck_assert_uint_eq(fx_run(&fx, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": 7}"), 2);
	expect(&fx, "R0056", "T1588", 0.85, "{\"feodo_listed\": true, "
	    "\"feodo_malware_family\": 7}");
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ ThreatFox */

START_TEST(test_threatfox)
{
	static const char *const none[] = {
		"{\"ioc_type\": \"botnet_cc\"}",
		"{\"threatfox_threat_types\": [\"BOTNET_CC\"]}",
		"{\"threatfox_threat_types\": [5, null, true]}",
		"{\"threatfox_threat_types\": {\"botnet_cc\": 1}}",
		"{\"threatfox_threat_types\": \"\"}",
		"{\"threat_type\": 5}",
		"{\"threatfox_threat_types\": [], \"threat_type\": []}",
	};
	struct fx fx;
	size_t i;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	for (i = 0; i < sizeof none / sizeof none[0]; i++)
		ck_assert_msg(fx_run(&fx, none[i]) == 0, "fired on %s",
		    none[i]);
	ck_assert_uint_eq(fx_run(&fx, "{\"threatfox_threat_types\": "
	    "[\"payload\", \"cc_skimming\", \"botnet_cc\", "
	    "\"payload_delivery\"], \"threatfox_ioc_types\": [\"ip:port\", 3],"
	    " \"malware_family\": \"sliver\"}"), 4);
	expect(&fx, "R0057", "T1588", 0.8, "{\"threatfox_threat_types\": "
	    "[\"payload\", \"cc_skimming\", \"botnet_cc\", "
	    "\"payload_delivery\"], \"threatfox_ioc_types\": [\"ip:port\", 3],"
	    " \"threat_types\": [\"payload\", \"botnet_cc\", "
	    "\"payload_delivery\"], \"malware_families\": [\"sliver\"], "
	    "\"ioc_types\": [\"ip:port\"]}");
	expect(&fx, "R0057", "T1105", 0.75, "{\"threatfox_threat_types\": "
	    "[\"payload\", \"cc_skimming\", \"botnet_cc\", "
	    "\"payload_delivery\"], \"threatfox_ioc_types\": [\"ip:port\", 3],"
	    " \"threat_types\": [\"payload_delivery\"], \"malware_families\": "
	    "[\"sliver\"], \"ioc_types\": [\"ip:port\"]}");
	ck_assert(find(&fx, "R0057", "T1056") != NULL);
	ck_assert(find(&fx, "R0057", "T1071") != NULL);
	/* threat_type as a string; empty lists are left out */
	ck_assert_uint_eq(fx_run(&fx, "{\"threatfox_threat_types\": [], "
	    "\"threat_type\": \"cc_skimming\", \"threatfox_ioc_types\": "
	    "\"url\", \"threatfox_malware_families\": []}"), 1);
	expect(&fx, "R0057", "T1056", 0.7, "{\"threatfox_threat_types\": [],"
	    " \"threatfox_ioc_types\": \"url\", \"threatfox_malware_families\":"
	    " [], \"threat_types\": [\"cc_skimming\"]}");
	fx_close(&fx);
}
END_TEST

/* R0058 never fires; all providers on one event fire independently. */
START_TEST(test_all_providers_and_bump)
{
	struct fx fx;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_uint_eq(fx_run(&fx, "{\"aggregate_verdict\": \"malicious\","
	    " \"bumped_rule_ids\": [\"R0054\"]}"), 0);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [18, 14], \"greynoise_classification\":"
	    " \"malicious\", \"greynoise_tags\": [\"metasploit\"], "
	    "\"feodo_listed\": true, \"feodo_malware_family\": \"Emotet\", "
	    "\"threatfox_threat_types\": [\"payload_delivery\"], "
	    "\"aggregate_verdict\": \"malicious\"}"), 9);
	/* rule order, then emit order */
	ck_assert_str_eq(fx.tags.v[0].rule_id, "R0054");
	ck_assert_str_eq(fx.tags.v[0].technique_id, "T1110");
	ck_assert_str_eq(fx.tags.v[1].technique_id, "T1046");
	ck_assert_str_eq(fx.tags.v[3].rule_id, "R0055");
	ck_assert_str_eq(fx.tags.v[5].rule_id, "R0056");
	ck_assert_str_eq(fx.tags.v[7].rule_id, "R0057");
	ck_assert_str_eq(fx.tags.v[7].technique_id, "T1588");
	ck_assert_str_eq(fx.tags.v[8].technique_id, "T1105");
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ states */

START_TEST(test_rule_states)
{
	static const char ev[] = "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [18], \"feodo_listed\": true}";
	struct fx fx;
	struct rule *r;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	ck_assert_uint_eq(fx_run(&fx, ev), 3);
	r = fx_rule(&fx, "R0054");
	r->state.state = RULE_STATE_DISABLED;
	rules_changed();
	ck_assert_uint_eq(fx_run(&fx, ev), 2);
	ck_assert(find(&fx, "R0054", "T1110") == NULL);
	r->state.state = RULE_STATE_ENABLED;
	rules_changed();
	r = fx_rule(&fx, "R0056");
	r->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	r->state.has_confidence_max = 1;
	r->state.confidence_max = 0.5;
	ck_assert_uint_eq(fx_run(&fx, ev), 3);
	ck_assert(find(&fx, "R0056", "T1071")->confidence == 0.5);
	ck_assert(find(&fx, "R0054", "T1110")->confidence == 0.7);
	fx_close(&fx);
}
END_TEST

/* ttpd's own pack (conf/rules): the intel lifter owns TD0301-TD0304. */
START_TEST(test_own_rule_pack)
{
	struct fx fx;
	char *dir;
	const char *dirs[1];
	const struct tag *t;

	fx_open(&fx, NULL);
	ck_assert(asprintf(&dir, "%s/conf/rules", tu_env("TTPD_SRCDIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx.rules, report, NULL),
	    0);
	free(dir);
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, report,
	    NULL), 0);
	ck_assert_int_eq((int)fx.p->nrules, 4);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [18, 14], \"greynoise_classification\":"
	    " \"scanner\", \"greynoise_tags\": [\"web_crawler\"], "
	    "\"feodo_listed\": true, "
	    "\"threatfox_threat_types\": [\"payload_delivery\"]}"), 8);
	ck_assert(find(&fx, "TD0301", "T1110") != NULL);
	ck_assert(find(&fx, "TD0301", "T1046") != NULL);
	ck_assert(find(&fx, "TD0301", "T1595") != NULL);
	/* GreyNoise scanning is plain T1595 here, not T1595.002 */
	t = find(&fx, "TD0302", "T1595");
	ck_assert(t != NULL);
	ck_assert_ptr_null(t->sub_technique_id);
	expect(&fx, "TD0302", "T1595", 0.7, "{\"greynoise_classification\": "
	    "\"scanner\", \"greynoise_tags\": [\"scanner\", "
	    "\"web_crawler\"]}");
	ck_assert(find(&fx, "TD0303", "T1071") != NULL);
	ck_assert(find(&fx, "TD0303", "T1588") != NULL);
	ck_assert(find(&fx, "TD0304", "T1105") != NULL);
	ck_assert(find(&fx, "TD0304", "T1588") != NULL);
	fx_close(&fx);
}
END_TEST

/* ------------------------------------------------------------ config */

/* An owned rule of a kind the lifter does not know never fires; a rule
 * may map a provider signal to a full sub-technique. */
START_TEST(test_unknown_kind_and_sub_technique)
{
	struct fx fx;

	fx_open(&fx, "{\"threatfox\": [{\"threat_type\": \"botnet_cc\", "
	    "\"techniques\": [\"T1071.001\"], \"multiplier\": 0.5}]}");
	fx_add_yaml(&fx, "rule_id: X1\nrule_version: 1\nname: x1\n"
	    "applies_to: [intel]\nmatch: {kind: 'lifter:intel_bogus'}\n"
	    "emits: [{tactic: TA0011, technique_id: T1071, confidence: 0.9}]\n");
	fx_add_yaml(&fx, "rule_id: X2\nrule_version: 1\nname: x2\n"
	    "applies_to: [intel]\nmatch: {kind: 'lifter:intel_threatfox'}\n"
	    "emits:\n"
	    "  - {tactic: TA0011, technique_id: T1071, confidence: 0.9}\n"
	    "  - {tactic: TA0011, technique_id: T1071, "
	    "sub_technique_id: T1071.001, confidence: 0.8}\n"
	    "evidence_fields: [nope]\n");
	ck_assert_int_eq(registry_assign_rules(&fx.reg, &fx.rules, report,
	    NULL), 0);
	ck_assert_int_eq((int)fx.p->nrules, 2);
	ck_assert_uint_eq(fx_run(&fx, "{\"threatfox_threat_types\": "
	    "[\"botnet_cc\"]}"), 1);
	ck_assert_str_eq(fx.tags.v[0].rule_id, "X2");
	ck_assert_str_eq(fx.tags.v[0].sub_technique_id, "T1071.001");
	ck_assert(fx.tags.v[0].confidence == 0.8 * 0.5);
	fx_close(&fx);
}
END_TEST

/* The operator's tables replace the built-in ones provider by provider. */
START_TEST(test_config_tables)
{
	struct fx fx;

	fx_open(&fx, "{"
	    "\"abuseipdb\": [{\"category\": 4, \"techniques\": [\"T1190\"]},"
	    " {\"category\": 18, \"techniques\": [\"T1110\"], "
	    "\"min_score\": 90}],"
	    "\"greynoise\": {\"tags\": [{\"tag\": \"\u00e9tiquette\", "
	    "\"techniques\": [\"T1090\"]}], \"classifications\": "
	    "[{\"classification\": \"malicious\", \"techniques\": [\"T1588\"],"
	    " \"multiplier\": 0.5, \"fallback\": true}]},"
	    "\"feodo\": [\"T1588\"]}");
	fx_load_decnet(&fx);
	/* cat 4 is mapped now, 18 only from 90 */
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 100, "
	    "\"abuseipdb_categories\": [4]}"), 1);
	ck_assert(find(&fx, "R0054", "T1190") != NULL);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 89, "
	    "\"abuseipdb_categories\": [18]}"), 0);
	ck_assert_uint_eq(fx_run(&fx, "{\"abuseipdb_score\": 90, "
	    "\"abuseipdb_categories\": [18]}"), 1);
	/* greynoise: "scanner" no longer maps; unicode tag does */
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"scanner\"}"), 0);
	ck_assert_uint_eq(fx_run(&fx, "{\"greynoise_tags\": "
	    "[\"\u00e9tiquette\", \"tor_exit_node\"]}"), 1);
	expect(&fx, "R0055", "T1090", 0.7, "{\"greynoise_classification\": "
	    "null, \"greynoise_tags\": [\"\u00e9tiquette\"]}");
	ck_assert_uint_eq(fx_run(&fx,
	    "{\"greynoise_classification\": \"malicious\"}"), 1);
	expect(&fx, "R0055", "T1588", 0.35, "{\"greynoise_classification\": "
	    "\"malicious\", \"greynoise_tags\": [\"malicious\"]}");
	/* feodo: T1588 only */
	ck_assert_uint_eq(fx_run(&fx, "{\"feodo_listed\": true}"), 1);
	ck_assert(find(&fx, "R0056", "T1588") != NULL);
	/* threatfox kept its defaults */
	ck_assert_uint_eq(fx_run(&fx, "{\"threat_type\": \"botnet_cc\"}"),
	    2);
	fx_close(&fx);
}
END_TEST

START_TEST(test_config_errors)
{
	static const struct {
		const char *json, *needle;
	} bad[] = {
		{ "{\"abuseipdb\": {}}", "expected list" },
		{ "{\"abuseipdb\": [5]}", "abuseipdb[0]: must be a group" },
		{ "{\"abuseipdb\": [{\"techniques\": [\"T1110\"]}]}",
		    "'category' is required" },
		{ "{\"abuseipdb\": [{\"category\": 5}]}",
		    "'techniques' is required" },
		{ "{\"abuseipdb\": [{\"category\": 5.5, \"techniques\": "
		    "[\"T1110\"]}]}", "'category' must be an integer" },
		{ "{\"abuseipdb\": [{\"category\": true, \"techniques\": "
		    "[\"T1110\"]}]}", "'category' must be an integer" },
		{ "{\"abuseipdb\": [{\"category\": 5, \"techniques\": "
		    "[\"t1110\"]}]}", "technique ids" },
		{ "{\"abuseipdb\": [{\"category\": 5, \"techniques\": []}]}",
		    "1 to 8" },
		{ "{\"abuseipdb\": [{\"category\": 5, \"techniques\": "
		    "\"T1110\"}]}", "must be a list" },
		{ "{\"abuseipdb\": [{\"category\": 5, \"techniques\": "
		    "[\"T1110\"], \"min_score\": \"80\"}]}",
		    "'min_score' must be a number" },
		{ "{\"abuseipdb\": [{\"category\": 5, \"techniques\": "
		    "[\"T1110\"], \"tag\": \"x\"}]}", "unknown key 'tag'" },
		{ "{\"greynoise\": {\"tag\": []}}",
		    "only 'classifications' and 'tags'" },
		{ "{\"greynoise\": {\"tags\": [{\"tag\": \"\", \"techniques\": "
		    "[\"T1110\"]}]}}", "non-empty string" },
		{ "{\"greynoise\": {\"tags\": [{\"tag\": \"x\", \"techniques\": "
		    "[\"T1110\"], \"fallback\": true}]}}",
		    "unknown key 'fallback'" },
		{ "{\"greynoise\": {\"classifications\": [{\"classification\": "
		    "\"x\", \"techniques\": [\"T1110\"], \"multiplier\": 2}]}}",
		    "from 0 to 1" },
		{ "{\"feodo\": [\"T1071\", 5]}", "technique ids" },
		{ "{\"threatfox\": [{\"threat_type\": 5, \"techniques\": "
		    "[\"T1071\"]}]}", "non-empty string" },
		{ "{\"mappings\": \"intel.txt\"}", "unknown key" },
	};
	struct fx fx;
	char err[1024];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(fx_try_open(&fx, bad[i].json, err, sizeof err)
		    != 0, "accepted %s", bad[i].json);
		ck_assert_msg(strstr(err, bad[i].needle) != NULL,
		    "%s: error '%s' lacks '%s'", bad[i].json, err,
		    bad[i].needle);
		fx_close(&fx);
	}
}
END_TEST

static Suite *
intel_suite(void)
{
	Suite *s = suite_create("intel");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_golden_parity);
	tcase_add_test(tc, test_golden_parity_shipped_tables);
	tcase_add_test(tc, test_decnet_corpus);
	tcase_add_test(tc, test_abuseipdb);
	tcase_add_test(tc, test_abuseipdb_wrong_types);
	tcase_add_test(tc, test_greynoise);
	tcase_add_test(tc, test_greynoise_wrong_types);
	tcase_add_test(tc, test_feodo);
	tcase_add_test(tc, test_threatfox);
	tcase_add_test(tc, test_all_providers_and_bump);
	tcase_add_test(tc, test_rule_states);
	tcase_add_test(tc, test_own_rule_pack);
	tcase_add_test(tc, test_unknown_kind_and_sub_technique);
	tcase_add_test(tc, test_config_tables);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(intel_suite());
	int failed;

	log_set_level(TTPD_LOG_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
