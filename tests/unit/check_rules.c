/* The rule store: DECNET rule files, YAML 1.1 typing, validation errors,
 * directory loading and robustness against damaged input. */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "rules.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static const char *
srcdir(void)
{
	const char *d = getenv("TTPD_SRCDIR");

	return d != NULL && *d != '\0' ? d : TTPD_TEST_SRCDIR;
}

static char *
decnet_rules_dir(void)
{
	const char *shared = getenv("TTPD_SHARED_DIR");
	char *dir;

	ck_assert_msg(shared != NULL && *shared != '\0',
	    "TTPD_SHARED_DIR is not set");
	ck_assert_int_ne(asprintf(&dir, "%s/reference/decnet/rules", shared),
	    -1);
	return dir;
}

static char *
data_path(const char *rel)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s/tests/data/rules/%s", srcdir(), rel),
	    -1);
	return p;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot create %s: %s", path,
	    strerror(errno));
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Collects report() messages. */
struct reports {
	char *msg[32];
	int n;
};

static void
collect(void *ud, const char *msg)
{
	struct reports *r = ud;

	ck_assert_ptr_nonnull(msg);
	if (r->n < 32)
		r->msg[r->n] = strdup(msg);
	r->n++;
}

static void
reports_free(struct reports *r)
{
	int i;

	for (i = 0; i < r->n && i < 32; i++)
		free(r->msg[i]);
	r->n = 0;
}

static struct rule *
parse(const char *text, char *err, size_t errlen)
{
	return rules_parse_buffer("t.yaml", text, strlen(text), err, errlen);
}

static struct rule *
parse_ok(const char *text)
{
	char err[512];
	struct rule *r = parse(text, err, sizeof err);

	ck_assert_msg(r != NULL, "unexpected error: %s", err);
	return r;
}

/* The buffer must be rejected with "t.yaml:<line>: ...needle...". */
static void
expect_error_at(const char *text, size_t len, unsigned line,
    const char *needle)
{
	char err[512], prefix[32];
	struct rule *r;

	r = rules_parse_buffer("t.yaml", text, len, err, sizeof err);
	ck_assert_msg(r == NULL, "accepted: %s", text);
	if (line > 0)
		snprintf(prefix, sizeof prefix, "t.yaml:%u: ", line);
	else
		snprintf(prefix, sizeof prefix, "t.yaml: ");
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "want prefix '%s', got '%s' for:\n%s", prefix, err, text);
	ck_assert_msg(strstr(err, needle) != NULL,
	    "want '%s' in '%s' for:\n%s", needle, err, text);
}

static void
expect_error(const char *text, unsigned line, const char *needle)
{
	expect_error_at(text, strlen(text), line, needle);
}

static const char *
match_str(const struct rule *r, const char *key)
{
	const ttpd_value *v = jv_object_get(r->pub.match, key);

	ck_assert_msg(jv_type(v) == TTPD_VT_STRING, "match.%s: type %d", key,
	    jv_type(v));
	return jv_string(v);
}

static int64_t
match_int(const struct rule *r, const char *key)
{
	int64_t i = 0;

	ck_assert_msg(jv_get_int(jv_object_get(r->pub.match, key), &i) ==
	    TTPD_OK, "match.%s is not an int", key);
	return i;
}

static double
match_real(const struct rule *r, const char *key)
{
	const ttpd_value *v = jv_object_get(r->pub.match, key);
	double d = 0;

	ck_assert_msg(jv_type(v) == TTPD_VT_REAL, "match.%s: type %d", key,
	    jv_type(v));
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	return d;
}

static int
match_bool(const struct rule *r, const char *key)
{
	int b = -1;

	ck_assert_msg(jv_get_bool(jv_object_get(r->pub.match, key), &b) ==
	    TTPD_OK, "match.%s is not a bool", key);
	return b;
}

/* A valid rule used as the base of the fuzz tests. */
static const char valid_rule[] =
    "rule_id: X1\n"
    "rule_version: 1\n"
    "name: sample\n"
    "description: |\n"
    "  Text.\n"
    "applies_to:\n"
    "  - command\n"
    "match:\n"
    "  field: command_text\n"
    "  pattern: '(?i)\\bwget\\b ''x'''\n"
    "  base: &b {a: 1, b: [x, y]}\n"
    "  copy: *b\n"
    "emits:\n"
    "  - tactic: TA0002\n"
    "    technique_id: T1059\n"
    "    sub_technique_id: T1059.004\n"
    "    confidence: 0.5\n"
    "evidence_fields:\n"
    "  - command_text\n";

/* ------------------------------------------------------------------ */
/* DECNET's rule pack                                                  */

START_TEST(test_decnet_pack_loads)
{
	char *dir = decnet_rules_dir();
	const char *dirs[1] = { dir };
	struct reports rep = { { 0 }, 0 };
	struct ruleset rs;
	struct rule *r;
	const ttpd_value *pairs, *pair;
	const char *slash;
	size_t i;
	int problems, found_root_empty = 0;

	ruleset_init(&rs);
	problems = rules_load_dirs(dirs, 1, &rs, collect, &rep);
	ck_assert_msg(problems == 0, "%d problems, first: %s", problems,
	    rep.n > 0 ? rep.msg[0] : "");
	ck_assert_int_eq(rep.n, 0);
	ck_assert_uint_eq(rs.n, 59);

	/* sorted by file name, each rule_id equal to its file stem */
	for (i = 0; i < rs.n; i++) {
		char want[32];

		snprintf(want, sizeof want, "R%04zu", i + 1);
		ck_assert_str_eq(rs.v[i]->pub.rule_id, want);
		slash = strrchr(rs.v[i]->pub.path, '/');
		ck_assert_ptr_nonnull(slash);
		ck_assert_int_eq(strncmp(slash + 1, want, 5), 0);
		ck_assert_uint_eq(rs.v[i]->pub.line, 1);
		ck_assert_uint_eq(rs.v[i]->pub.size, sizeof(ttpd_rule));
		ck_assert_uint_ge(rs.v[i]->pub.n_emits, 1);
		ck_assert_uint_ge(rs.v[i]->pub.n_applies_to, 1);
		ck_assert_ptr_nonnull(rs.v[i]->description);
		ck_assert_ptr_null(rs.v[i]->owner);
		ck_assert_int_eq(rs.v[i]->state.state, RULE_STATE_ENABLED);
	}

	/* R0001: lifter rule with integer parameters */
	r = ruleset_find(&rs, "R0001");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->pub.kind, "lifter:credential_auth_brute_generic");
	ck_assert_int_eq(match_int(r, "fail_threshold"), 5);
	ck_assert_int_eq(jv_type(jv_object_get(r->pub.match,
	    "window_minutes")), TTPD_VT_INT);
	ck_assert_str_eq(r->pub.name, "generic_auth_brute");
	ck_assert_int_eq(strncmp(r->description, "Repeated failed auth", 20),
	    0);
	ck_assert_uint_eq(r->pub.n_emits, 1);
	ck_assert_str_eq(r->pub.emits[0]->technique_id, "T1110");
	ck_assert_ptr_null(r->pub.emits[0]->sub_technique_id);
	ck_assert_double_eq(r->pub.emits[0]->confidence, 0.85);
	ck_assert_uint_eq(r->pub.n_evidence_fields, 2);
	ck_assert_str_eq(r->pub.evidence_fields[1], "service");

	/* R0006: a list of lists, including [root, ""] */
	r = ruleset_find(&rs, "R0006");
	ck_assert_ptr_nonnull(r);
	pairs = jv_object_get(r->pub.match, "pairs");
	ck_assert_int_eq(jv_type(pairs), TTPD_VT_ARRAY);
	ck_assert_uint_eq(jv_array_size(pairs), 5);
	for (i = 0; i < jv_array_size(pairs); i++) {
		pair = jv_array_get(pairs, i);
		ck_assert_int_eq(jv_type(pair), TTPD_VT_ARRAY);
		ck_assert_uint_eq(jv_array_size(pair), 2);
		if (strcmp(jv_string(jv_array_get(pair, 0)), "root") == 0 &&
		    strcmp(jv_string(jv_array_get(pair, 1)), "") == 0)
			found_root_empty = 1;
	}
	ck_assert(found_root_empty);

	/* R0007: two emits, the second with a sub-technique */
	r = ruleset_find(&rs, "R0007");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_null(r->pub.kind);
	ck_assert_str_eq(match_str(r, "field"), "user_agent");
	ck_assert_uint_eq(r->pub.n_emits, 2);
	ck_assert_str_eq(r->pub.emits[0]->tactic, "TA0001");
	ck_assert_str_eq(r->pub.emits[0]->technique_id, "T1190");
	ck_assert_ptr_null(r->pub.emits[0]->sub_technique_id);
	ck_assert_str_eq(r->pub.emits[1]->tactic, "TA0043");
	ck_assert_str_eq(r->pub.emits[1]->technique_id, "T1595");
	ck_assert_str_eq(r->pub.emits[1]->sub_technique_id, "T1595.002");
	ck_assert_double_eq(r->pub.emits[1]->confidence, 0.9);
	ck_assert_str_eq(r->pub.applies_to[0], "http_request");

	/* R0026: '' inside single quotes is one ' */
	r = ruleset_find(&rs, "R0026");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(match_str(r, "pattern"), "[\"']?"));
	ck_assert_ptr_null(strstr(match_str(r, "pattern"), "''"));

	/* R0033: a YAML boolean */
	r = ruleset_find(&rs, "R0033");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(match_bool(r, "require_btc_or_xmr"), 1);
	ck_assert_uint_eq(jv_array_size(jv_object_get(r->pub.match,
	    "payment_keywords")), 5);
	ck_assert_uint_eq(r->pub.n_applies_to, 2);

	/* R0054: version 2, eight emits */
	r = ruleset_find(&rs, "R0054");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->pub.rule_version, 2);
	ck_assert_uint_eq(r->pub.n_emits, 8);
	ck_assert_str_eq(r->pub.emits[7]->technique_id, "T1595");
	ck_assert_double_eq(r->pub.emits[7]->confidence, 0.7);

	/* R0031: a float parameter */
	r = ruleset_find(&rs, "R0031");
	ck_assert_ptr_nonnull(r);
	ck_assert_double_eq(match_real(r, "max_jitter_pct"), 0.15);

	/* R0058: a zero confidence is in range */
	r = ruleset_find(&rs, "R0058");
	ck_assert_ptr_nonnull(r);
	ck_assert_double_eq(r->pub.emits[0]->confidence, 0.0);

	ruleset_free(&rs);
	ck_assert_uint_eq(rs.n, 0);
	reports_free(&rep);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* File names, kinds                                                   */

START_TEST(test_filename_allow_list)
{
	static const char *const good[] = { "R0001.yaml", "a_b.yml", "_.yaml",
		"X.yml", "0.yaml", "Rule_9.yaml" };
	static const char *const bad[] = { ".R0001.yaml", "R0001.yaml~",
		"4913", "x.yaml.swp", "x.YAML", "x.Yml", ".yaml", "yaml",
		"a-b.yaml", "a.b.yaml", "a b.yaml", "R0001.yaml.tmp",
		"R0001.yam", "R0001.yamll", "", "\xc3\xa9.yaml",
		"R0001.yaml\n", "#R0001.yaml#" };
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(rules_filename_ok(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!rules_filename_ok(bad[i]), "%s", bad[i]);
	ck_assert(!rules_filename_ok(NULL));
}
END_TEST

START_TEST(test_kind_matches)
{
	ck_assert(rule_kind_matches("lifter:credential_*",
	    "lifter:credential_default_credentials"));
	ck_assert(rule_kind_matches("lifter:credential_*",
	    "lifter:credential_"));
	ck_assert(!rule_kind_matches("lifter:credential_*",
	    "lifter:credentia"));
	ck_assert(!rule_kind_matches("lifter:credential_*", "lifter:intel_x"));
	ck_assert(rule_kind_matches("lifter:ipv6_link_local_leak",
	    "lifter:ipv6_link_local_leak"));
	ck_assert(!rule_kind_matches("lifter:ipv6_link_local_leak",
	    "lifter:ipv6_link_local_leak2"));
	ck_assert(!rule_kind_matches("lifter:ipv6_link_local_leak",
	    "lifter:ipv6"));
	ck_assert(rule_kind_matches("*", "anything"));
	ck_assert(rule_kind_matches("*", ""));
	ck_assert(!rule_kind_matches("*", NULL));
	ck_assert(!rule_kind_matches("lifter:x_*", NULL));
	ck_assert(!rule_kind_matches(NULL, "x"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* YAML 1.1 typing                                                     */

START_TEST(test_scalar_typing)
{
	char *path = data_path("types.yaml"), err[512];
	struct rule *r = rules_parse_file(path, err, sizeof err);
	const ttpd_value *m, *l;

	ck_assert_msg(r != NULL, "%s", err);
	m = r->pub.match;
	ck_assert_str_eq(r->pub.kind, "lifter:fixture_types");
	ck_assert_int_eq(match_bool(r, "yes_lower"), 1);
	ck_assert_int_eq(match_bool(r, "no_title"), 0);
	ck_assert_int_eq(match_bool(r, "on_lower"), 1);
	ck_assert_int_eq(match_bool(r, "off_upper"), 0);
	ck_assert_int_eq(match_bool(r, "true_title"), 1);
	ck_assert_str_eq(match_str(r, "y_plain"), "y");
	ck_assert_int_eq(jv_type(jv_object_get(m, "tilde")), TTPD_VT_NULL);
	ck_assert_int_eq(jv_type(jv_object_get(m, "empty")), TTPD_VT_NULL);
	ck_assert_int_eq(jv_type(jv_object_get(m, "null_word")),
	    TTPD_VT_NULL);
	ck_assert_int_eq(match_int(r, "hex"), 16);
	ck_assert_int_eq(match_int(r, "underscores"), 1000);
	ck_assert_int_eq(match_int(r, "octal"), 15);
	/* PyYAML (YAML 1.1) has no 0o prefix: a string */
	ck_assert_str_eq(match_str(r, "octal_o"), "0o17");
	ck_assert_int_eq(match_int(r, "binary"), 5);
	ck_assert_int_eq(match_int(r, "sexagesimal"), 90);
	ck_assert_int_eq(match_int(r, "negative"), -42);
	ck_assert_int_eq(match_int(r, "plus"), 7);
	ck_assert_str_eq(match_str(r, "eight"), "08");
	ck_assert(match_int(r, "int_max") == INT64_MAX);
	ck_assert(match_int(r, "int_min") == INT64_MIN);
	ck_assert_double_eq(match_real(r, "half"), 0.5);
	ck_assert_double_eq(match_real(r, "one"), 1.0);
	ck_assert_double_eq(match_real(r, "exp_signed"), 1000.0);
	/* PyYAML's float needs a dot and a signed exponent: a string */
	ck_assert_str_eq(match_str(r, "exp_plain"), "1e3");
	ck_assert_str_eq(match_str(r, "exp_quoted"), "1e3");
	ck_assert_str_eq(match_str(r, "yes_quoted"), "yes");
	ck_assert_str_eq(match_str(r, "date"), "2026-05-02");
	ck_assert_str_eq(match_str(r, "quote"), "it's [\"']?");
	ck_assert_str_eq(match_str(r, "literal"), "line one\nline two\n");
	ck_assert_str_eq(match_str(r, "tagged_str"), "12");
	ck_assert_int_eq(match_int(r, "tagged_int"), 12);
	ck_assert_double_eq(match_real(r, "tagged_float"), 3.0);
	l = jv_object_get(m, "list_of_lists");
	ck_assert_uint_eq(jv_array_size(l), 2);
	ck_assert_str_eq(jv_string(jv_array_get(jv_array_get(l, 0), 1)), "");
	/* the whole mapping, in file order */
	ck_assert_uint_eq(jv_object_size(m), 34);
	rule_free(r);
	free(path);
}
END_TEST

START_TEST(test_scalar_edges)
{
	static const struct {
		const char *text;
		int type;
		double num;  /* ints and reals */
		const char *str;
	} cases[] = {
		{ "Yes", TTPD_VT_BOOL, 1, NULL },
		{ "NO", TTPD_VT_BOOL, 0, NULL },
		{ "tRue", TTPD_VT_STRING, 0, "tRue" },
		{ "n", TTPD_VT_STRING, 0, "n" },
		{ "Null", TTPD_VT_NULL, 0, NULL },
		{ "NULL", TTPD_VT_NULL, 0, NULL },
		{ "nULL", TTPD_VT_STRING, 0, "nULL" },
		{ "-0", TTPD_VT_INT, 0, NULL },
		{ "00", TTPD_VT_INT, 0, NULL },
		{ "0_", TTPD_VT_INT, 0, NULL },
		{ "-0x1F", TTPD_VT_INT, -31, NULL },
		{ "0xfF", TTPD_VT_INT, 255, NULL },
		{ "-1:00", TTPD_VT_INT, -60, NULL },
		{ "1:70", TTPD_VT_STRING, 0, "1:70" },
		{ "_1", TTPD_VT_STRING, 0, "_1" },
		{ "-_1", TTPD_VT_STRING, 0, "-_1" },
		{ "1.", TTPD_VT_REAL, 1, NULL },
		{ "0.", TTPD_VT_REAL, 0, NULL },
		{ "1_0.5", TTPD_VT_REAL, 10.5, NULL },
		{ "-2.5e-1", TTPD_VT_REAL, -0.25, NULL },
		{ "1:30.5", TTPD_VT_REAL, 90.5, NULL },
		{ "-.5", TTPD_VT_STRING, 0, "-.5" },
		{ "1.0e3", TTPD_VT_STRING, 0, "1.0e3" },
		{ ".", TTPD_VT_STRING, 0, "." },
		{ "0x", TTPD_VT_STRING, 0, "0x" },
		{ "'0x10'", TTPD_VT_STRING, 0, "0x10" },
		{ "\"~\"", TTPD_VT_STRING, 0, "~" },
		{ "''", TTPD_VT_STRING, 0, "" },
		{ "! 5", TTPD_VT_INT, 5, NULL },
		{ "!!bool yes", TTPD_VT_BOOL, 1, NULL },
		{ "!!null x", TTPD_VT_NULL, 0, NULL },
		{ ">-\n    folded\n    text", TTPD_VT_STRING, 0, "folded text" },
		{ "\"tab\\there\"", TTPD_VT_STRING, 0, "tab\there" },
		{ "a:b", TTPD_VT_STRING, 0, "a:b" },
		{ "\"\\u00e9\"", TTPD_VT_STRING, 0, "\xc3\xa9" },
		/* timestamps stay strings in match (JSON has no dates) */
		{ "2024-02-29", TTPD_VT_STRING, 0, "2024-02-29" },
		{ "2026-5-2 1:02:03", TTPD_VT_STRING, 0, "2026-5-2 1:02:03" },
		{ "2026-05-02T10:00:00.5 +02:00", TTPD_VT_STRING, 0,
		    "2026-05-02T10:00:00.5 +02:00" },
		{ "2026-5-2", TTPD_VT_STRING, 0, "2026-5-2" },
	};
	char buf[512];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rule *r;
		const ttpd_value *v;
		int64_t iv;
		double dv;
		int bv;

		snprintf(buf, sizeof buf,
		    "rule_id: E\nrule_version: 1\nname: e\n"
		    "applies_to: [command]\nmatch:\n  v: %s\n"
		    "emits: [{tactic: TA0001, technique_id: T1000, "
		    "confidence: 1}]\n", cases[i].text);
		r = parse_ok(buf);
		v = jv_object_get(r->pub.match, "v");
		ck_assert_msg(jv_type(v) == cases[i].type, "%s: type %d, want %d",
		    cases[i].text, jv_type(v), cases[i].type);
		switch (cases[i].type) {
		case TTPD_VT_BOOL:
			ck_assert_int_eq(jv_get_bool(v, &bv), TTPD_OK);
			ck_assert_int_eq(bv, (int)cases[i].num);
			break;
		case TTPD_VT_INT:
			ck_assert_int_eq(jv_get_int(v, &iv), TTPD_OK);
			ck_assert_msg(iv == (int64_t)cases[i].num, "%s: %lld",
			    cases[i].text, (long long)iv);
			break;
		case TTPD_VT_REAL:
			ck_assert_int_eq(jv_get_number(v, &dv), TTPD_OK);
			ck_assert_msg(dv == cases[i].num, "%s: %g",
			    cases[i].text, dv);
			break;
		case TTPD_VT_STRING:
			ck_assert_str_eq(jv_string(v), cases[i].str);
			break;
		}
		rule_free(r);
	}
}
END_TEST

START_TEST(test_aliases_and_merge_keys)
{
	struct rule *r = parse_ok(
	    "rule_id: M\n"
	    "rule_version: 1\n"
	    "name: m\n"
	    "applies_to: &kinds [command, session]\n"
	    "match:\n"
	    "  base: &b {a: 1, b: [x, y]}\n"
	    "  other: &o {b: 2, c: 3}\n"
	    "  copy: *b\n"
	    "  merged:\n"
	    "    <<: *b\n"
	    "    b: 9\n"
	    "    d: 4\n"
	    "  multi:\n"
	    "    <<: [*o, *b]\n"
	    "  kinds: *kinds\n"
	    "  '<<': quoted is a plain key\n"
	    "  =: equals is a key\n"
	    "emits:\n"
	    "  - &e {tactic: TA0001, technique_id: T1190, confidence: 0.5}\n"
	    "  - *e\n");
	const ttpd_value *m = r->pub.match, *v;
	int64_t i;

	ck_assert(jv_equal(jv_object_get(m, "base"), jv_object_get(m, "copy")));
	ck_assert_uint_eq(jv_array_size(jv_object_get(jv_object_get(m, "copy"),
	    "b")), 2);
	/* explicit keys win over merged ones; merged keys come first */
	v = jv_object_get(m, "merged");
	ck_assert_uint_eq(jv_object_size(v), 3);
	ck_assert_int_eq(jv_get_int(jv_object_get(v, "a"), &i), TTPD_OK);
	ck_assert_int_eq(i, 1);
	ck_assert_int_eq(jv_get_int(jv_object_get(v, "b"), &i), TTPD_OK);
	ck_assert_int_eq(i, 9);
	ck_assert_ptr_null(jv_object_get(v, "<<"));
	/* with a list of mappings the earlier one wins */
	v = jv_object_get(m, "multi");
	ck_assert_uint_eq(jv_object_size(v), 3);
	ck_assert_int_eq(jv_get_int(jv_object_get(v, "b"), &i), TTPD_OK);
	ck_assert_int_eq(i, 2);
	ck_assert_int_eq(jv_type(jv_object_get(v, "a")), TTPD_VT_INT);
	ck_assert_uint_eq(jv_array_size(jv_object_get(m, "kinds")), 2);
	ck_assert_str_eq(jv_string(jv_object_get(m, "<<")),
	    "quoted is a plain key");
	ck_assert_str_eq(jv_string(jv_object_get(m, "=")), "equals is a key");
	ck_assert_uint_eq(r->pub.n_applies_to, 2);
	ck_assert_str_eq(r->pub.applies_to[1], "session");
	ck_assert_uint_eq(r->pub.n_emits, 2);
	ck_assert_str_eq(r->pub.emits[1]->technique_id, "T1190");
	rule_free(r);
}
END_TEST

START_TEST(test_fields_and_defaults)
{
	struct rule *r = parse_ok(
	    "# leading comment\n"
	    "\n"
	    "name: n\n"
	    "extra_key: ignored\n"
	    "rule_id: a.B-9_z\n"
	    "rule_version: 0\n"
	    "applies_to: [payload]\n"
	    "match: {}\n"
	    "emits:\n"
	    "  - tactic: TA0011\n"
	    "    technique_id: T1071\n"
	    "    sub_technique_id: ~\n"
	    "    confidence: 1\n"
	    "  - tactic: TA0011\n"
	    "    technique_id: T1071\n"
	    "    sub_technique_id: ''\n"
	    "    confidence: 0\n");

	ck_assert_str_eq(r->pub.rule_id, "a.B-9_z");
	ck_assert_str_eq(r->pub.path, "t.yaml");
	ck_assert_uint_eq(r->pub.line, 5);
	ck_assert_int_eq(r->pub.rule_version, 0);
	ck_assert_str_eq(r->description, "");
	ck_assert_ptr_null(r->pub.kind);
	ck_assert_uint_eq(jv_object_size(r->pub.match), 0);
	ck_assert_uint_eq(r->pub.n_evidence_fields, 0);
	ck_assert_ptr_nonnull(r->pub.evidence_fields);
	ck_assert_ptr_null(r->pub.emits[0]->sub_technique_id);
	ck_assert_ptr_null(r->pub.emits[1]->sub_technique_id);
	ck_assert_double_eq(r->pub.emits[0]->confidence, 1.0);
	ck_assert_uint_eq(r->pub.emits[0]->size, sizeof(ttpd_emit));
	ck_assert_ptr_null(r->pub.prepared);
	ck_assert_int_eq(r->prepared, 0);
	rule_free(r);
	rule_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Malformed rules                                                     */

/* Pieces for building a rule around one bad part. */
#define HEAD "rule_id: B1\nrule_version: 1\nname: b\n"
#define APPLY "applies_to: [command]\n"
#define MATCH "match: {field: command_text, pattern: x}\n"
#define EMITS "emits:\n  - {tactic: TA0002, technique_id: T1059, " \
	"confidence: 0.5}\n"
#define EMIT_HEAD HEAD APPLY MATCH "emits:\n  - tactic: TA0002\n"

START_TEST(test_document_errors)
{
	expect_error("", 0, "empty file");
	expect_error("# only a comment\n\n", 0, "empty file");
	expect_error("   \n", 0, "empty file");
	expect_error("- a\n- b\n", 1, "top level must be a mapping, not a list");
	expect_error("\n\nhello\n", 3, "not a string");
	expect_error("---\n", 2, "top level must be a mapping, not null");
	expect_error(HEAD APPLY MATCH EMITS "---\n" HEAD, 8,
	    "more than one YAML document");
	expect_error("rule_id: X\nname: 'unterminated\n", 3,
	    "YAML syntax error: found unexpected end of stream");
	expect_error("rule_id: X\nname: 'unterminated\n", 3, "line 2");
	expect_error("rule_id: X\nname: a: b\n", 2, "YAML syntax error");
	expect_error("rule_id: X\nmatch: [1, 2\nname: 3\n", 3,
	    "YAML syntax error");
	expect_error("rule_id: X\n\nname: \x01\n", 3,
	    "control characters are not allowed");
	expect_error("rule_id: X\nname: \xff\xfe\n", 2, "UTF-8");
	expect_error_at("rule_id: X\nname: a\0b\n", 19, 2, "YAML syntax error");
	expect_error(HEAD "x: !!python/object:os.system x\n", 4,
	    "unsupported tag !!python/object:os.system");
	expect_error(HEAD "x: !custom x\n", 4, "unsupported tag !custom");
	expect_error(HEAD "x: !!binary aGk=\n", 4, "unsupported tag !!binary");
	expect_error(HEAD "x: !!set {a}\n", 4, "unsupported tag !!set");
	expect_error(HEAD "x: !!str [a]\n", 4, "unsupported tag");
	expect_error(HEAD "x: !!int abc\n", 4, "invalid !!int");
	expect_error(HEAD "x: !!bool maybe\n", 4, "invalid !!bool");
	expect_error(HEAD "x: *nowhere\n", 4, "undefined alias");
	expect_error(HEAD "x: &a [1, *a]\n", 4, "recursive alias");
	expect_error(HEAD "x: &a {k: *a}\n", 4, "recursive alias");
	expect_error(HEAD "x: =\n", 4, "not a valid value");
	expect_error(HEAD "x: [<<]\n", 4, "not a valid value");
	expect_error(HEAD "x: 99999999999999999999\n", 4, "out of range");
	expect_error(HEAD "x: -9223372036854775809\n", 4, "out of range");
	expect_error(HEAD "x: 0x_\n", 4, "without digits");
	expect_error(HEAD "x: 2026-02-29\n", 4, "invalid date");
	expect_error(HEAD "x: 2026-05-02T24:00:00\n", 4, "invalid date");
	expect_error(HEAD "x:\n  <<: 5\n", 5, "merge key needs");
	expect_error(HEAD "x:\n  <<: [a]\n", 5, "merge key needs mappings");
	expect_error(HEAD "1: one\n", 4, "mapping keys must be strings");
	expect_error(HEAD "yes: one\n", 4, "not a boolean");
	expect_error(HEAD "? [a]\n: one\n", 4, "not a list");
	expect_error(HEAD "name: again\n", 4, "duplicate key 'name'");
	expect_error(HEAD "name: again\n", 4, "first at line 3");
	expect_error(HEAD APPLY "match:\n  field: a\n  pattern: x\n"
	    "  field: b\n" EMITS, 8, "duplicate key 'field'");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    tactic: TA0001\n"
	    "    confidence: 1\n", 9, "duplicate key 'tactic'");
	expect_error(HEAD APPLY "match:\n  x: \"a\\0b\"\n  \"k\\0\": 1\n" EMITS,
	    7, "NUL");
}
END_TEST

START_TEST(test_top_level_errors)
{
	expect_error("rule_version: 1\nname: b\n" APPLY MATCH EMITS, 1,
	    "rule_id is missing");
	expect_error("rule_id: ''\nrule_version: 1\n" APPLY MATCH EMITS, 1,
	    "rule_id must not be empty");
	expect_error("rule_id:\nrule_version: 1\n" APPLY MATCH EMITS, 1,
	    "rule_id must be a string, not null");
	expect_error("rule_id: 0001\n", 1, "rule_id must be a string, not an "
	    "integer");
	expect_error("rule_id: R 1\n", 1, "rule_id must use only");
	expect_error("rule_id: R/1\n", 1, "rule_id must use only");
	expect_error("rule_id: \"R\\u00e91\"\n", 1, "rule_id must use only");
	expect_error("rule_id: [R1]\n", 1, "not a list");
	/* PyYAML makes these dates, which DECNET's schema refuses */
	expect_error("rule_id: 2026-05-02\n", 1, "rule_id must be a string, "
	    "not a date");
	expect_error(HEAD APPLY MATCH EMITS "evidence_fields: [2026-05-02]\n",
	    8, "evidence_fields[0] must be a string, not a date");

	expect_error("rule_id: B\nname: b\n" APPLY MATCH EMITS, 1,
	    "rule_version is missing");
	expect_error("rule_id: B\nrule_version: yes\n", 2,
	    "rule_version must be an integer, not a boolean");
	expect_error("rule_id: B\nrule_version: true\n", 2, "not a boolean");
	expect_error("rule_id: B\nrule_version: 1.0\n", 2, "not a float");
	expect_error("rule_id: B\nrule_version: '1'\n", 2, "not a string");
	expect_error("rule_id: B\nrule_version: -1\n", 2, "must not be "
	    "negative");
	expect_error("rule_id: B\nrule_version:\n", 2, "not null");

	expect_error("rule_id: B\nrule_version: 1\n" APPLY MATCH EMITS, 1,
	    "name is missing");
	expect_error("rule_id: B\nrule_version: 1\nname: 5\n", 3,
	    "name must be a string, not an integer");
	expect_error(HEAD "description: [a]\n", 4, "description must be a "
	    "string");
	expect_error(HEAD "description:\n" APPLY MATCH EMITS, 4,
	    "description must be a string, not null");

	expect_error(HEAD MATCH EMITS, 1, "applies_to is missing");
	expect_error(HEAD "applies_to: command\n" MATCH EMITS, 4,
	    "applies_to must be a list, not a string");
	expect_error(HEAD "applies_to: []\n" MATCH EMITS, 4,
	    "applies_to must not be empty");
	expect_error(HEAD "applies_to:\n  - command\n  - 7\n" MATCH EMITS, 6,
	    "applies_to[1] must be a string, not an integer");
	expect_error(HEAD "applies_to:\n  -\n" MATCH EMITS, 5,
	    "applies_to[0] must be a string, not null");
	expect_error(HEAD "applies_to: ['']\n" MATCH EMITS, 4,
	    "applies_to[0] must not be empty");

	expect_error(HEAD APPLY EMITS, 1, "match is missing");
	expect_error(HEAD APPLY "match: [a]\n" EMITS, 5,
	    "match must be a mapping, not a list");
	expect_error(HEAD APPLY "match:\n" EMITS, 5,
	    "match must be a mapping, not null");
	expect_error(HEAD APPLY "match:\n  kind: 5\n" EMITS, 6,
	    "match.kind must be a string, not an integer");
	expect_error(HEAD APPLY "match:\n  kind:\n" EMITS, 6,
	    "match.kind must be a string, not null");
	expect_error(HEAD APPLY "match:\n  field: [a]\n" EMITS, 6,
	    "match.field must be a string, not a list");
	expect_error(HEAD APPLY "match:\n  pattern: yes\n" EMITS, 6,
	    "match.pattern must be a string, not a boolean");
	expect_error(HEAD APPLY "match:\n  limit: .inf\n" EMITS, 6,
	    "infinite or NaN");
	expect_error(HEAD APPLY "match:\n  limit: [.nan]\n" EMITS, 6,
	    "infinite or NaN");

	expect_error(HEAD APPLY MATCH, 1, "emits is missing");
	expect_error(HEAD APPLY MATCH "emits: {tactic: TA0001}\n", 6,
	    "emits must be a list, not a mapping");
	expect_error(HEAD APPLY MATCH "emits: []\n", 6,
	    "emits must not be empty");
	expect_error(HEAD "applies_to: []\n" MATCH "emits: []\n", 4,
	    "deletion sentinel");
	expect_error(HEAD APPLY MATCH EMITS "evidence_fields: command\n", 8,
	    "evidence_fields must be a list, not a string");
	expect_error(HEAD APPLY MATCH EMITS "evidence_fields:\n  - a\n"
	    "  - {b: 1}\n", 10, "evidence_fields[1] must be a string, not a "
	    "mapping");
	expect_error(HEAD APPLY MATCH EMITS "evidence_fields:\n", 8,
	    "evidence_fields must be a list, not null");
}
END_TEST

START_TEST(test_emit_errors)
{
	expect_error(HEAD APPLY MATCH "emits:\n  - T1059\n", 7,
	    "emits[0] must be a mapping, not a string");
	expect_error(EMIT_HEAD "    confidence: 1\n", 7,
	    "emits[0].technique_id is missing");
	expect_error(HEAD APPLY MATCH EMITS "  - technique_id: T1059\n"
	    "    confidence: 1\n", 8, "emits[1].tactic is missing");
	expect_error(EMIT_HEAD "    technique_id: ''\n    confidence: 1\n", 8,
	    "technique_id must not be empty");
	expect_error(EMIT_HEAD "    technique_id:\n    confidence: 1\n", 8,
	    "technique_id must be a string, not null");
	expect_error(EMIT_HEAD "    technique_id: 1059\n    confidence: 1\n", 8,
	    "technique_id must be a string, not an integer");
	expect_error(EMIT_HEAD "    technique_id: T105\n    confidence: 1\n", 8,
	    "technique_id must look like T1234");
	expect_error(EMIT_HEAD "    technique_id: T1059.004\n"
	    "    confidence: 1\n", 8, "technique_id must look like T1234");
	expect_error(EMIT_HEAD "    technique_id: t1059\n    confidence: 1\n", 8,
	    "technique_id must look like T1234");
	expect_error(HEAD APPLY MATCH "emits:\n  - tactic: ''\n"
	    "    technique_id: T1059\n    confidence: 1\n", 7,
	    "tactic must not be empty");
	expect_error(HEAD APPLY MATCH "emits:\n  - tactic: T0002\n"
	    "    technique_id: T1059\n    confidence: 1\n", 7,
	    "tactic must look like TA0001");
	expect_error(HEAD APPLY MATCH "emits:\n  - tactic: TA02\n"
	    "    technique_id: T1059\n    confidence: 1\n", 7,
	    "tactic must look like TA0001");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: 4\n    confidence: 1\n", 9,
	    "sub_technique_id must be a string, not an integer");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: false\n    confidence: 1\n", 9,
	    "not a boolean");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: T1060.004\n    confidence: 1\n", 9,
	    "sub_technique_id must look like T1059.001");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: T1059.04\n    confidence: 1\n", 9,
	    "must look like");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: T1059\n    confidence: 1\n", 9,
	    "must look like");
	expect_error(EMIT_HEAD "    technique_id: T1059\n"
	    "    sub_technique_id: T1059-004\n    confidence: 1\n", 9,
	    "must look like");
	expect_error(EMIT_HEAD "    technique_id: T1059\n", 7,
	    "emits[0].confidence is missing");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: yes\n",
	    9, "confidence must be a number, not a boolean");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: '0.5'\n",
	    9, "confidence must be a number, not a string");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence:\n",
	    9, "not null");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: 1.5\n",
	    9, "within [0, 1]");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: -0.1\n",
	    9, "within [0, 1]");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: 2\n",
	    9, "within [0, 1]");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: .nan\n",
	    9, "within [0, 1]");
	expect_error(EMIT_HEAD "    technique_id: T1059\n    confidence: .inf\n",
	    9, "within [0, 1]");
}
END_TEST

/* Each level holds nine copies of the previous one: 9^10 nodes. */
START_TEST(test_alias_bomb)
{
	static const char bomb[] =
	    HEAD APPLY
	    "match:\n"
	    "  a: &a [x, x, x, x, x, x, x, x, x]\n"
	    "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
	    EMITS;

	expect_error(bomb, 11, "more than 100000 nodes");
}
END_TEST

START_TEST(test_nesting_limit)
{
	char *buf;
	size_t depth, i, len;
	struct rule *r;
	char err[512];

	/* 60 levels are fine, 200 are not (also through aliases) */
	for (depth = 60; depth <= 200; depth += 140) {
		len = strlen(HEAD APPLY) + 16 + 2 * depth + strlen(EMITS);
		buf = malloc(len + 1);
		ck_assert_ptr_nonnull(buf);
		strcpy(buf, HEAD APPLY "match: {x: ");
		for (i = 0; i < depth; i++)
			strcat(buf, "[");
		for (i = 0; i < depth; i++)
			strcat(buf, "]");
		strcat(buf, "}\n" EMITS);
		r = parse(buf, err, sizeof err);
		if (depth == 60) {
			ck_assert_msg(r != NULL, "%s", err);
			rule_free(r);
		} else {
			ck_assert_ptr_null(r);
			ck_assert_ptr_nonnull(strstr(err, "nesting deeper"));
		}
		free(buf);
	}
	expect_error(HEAD APPLY "match:\n"
	    "  a: &a [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]\n"
	    "  b: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
	    EMITS, 7, "nesting deeper");
}
END_TEST

START_TEST(test_size_limit)
{
	char dir[] = "/tmp/check_rules.XXXXXX", *path, err[512];
	size_t big = 1024 * 1024 + 1;
	char *buf = malloc(big);
	struct rule *r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, '#', big);
	r = rules_parse_buffer("big.yaml", buf, big, err, sizeof err);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(err, "too large"));

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ne(asprintf(&path, "%s/big.yaml", dir), -1);
	write_file(path, buf, big);
	r = rules_parse_file(path, err, sizeof err);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "too large") != NULL &&
	    strncmp(err, path, strlen(path)) == 0, "%s", err);

	/* just under the limit: parsed (and rejected as empty) */
	write_file(path, buf, big - 1);
	r = rules_parse_file(path, err, sizeof err);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(err, "empty file"));

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
	free(buf);
}
END_TEST

START_TEST(test_parse_file_errors)
{
	char err[512];
	char dir[] = "/tmp/check_rules.XXXXXX";

	ck_assert_ptr_null(rules_parse_file("/nonexistent/R1.yaml", err,
	    sizeof err));
	ck_assert_str_eq(err, "/nonexistent/R1.yaml: cannot open: "
	    "No such file or directory");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_ptr_null(rules_parse_file(dir, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Loading directories                                                 */

START_TEST(test_load_dirs_duplicates)
{
	char *one = data_path("one"), *two = data_path("two");
	const char *dirs[2] = { one, two };
	struct reports rep = { { 0 }, 0 };
	struct ruleset rs;
	int problems;

	ruleset_init(&rs);
	problems = rules_load_dirs(dirs, 2, &rs, collect, &rep);
	ck_assert_int_eq(problems, 1);
	ck_assert_int_eq(rep.n, 1);
	/* both files named, the later one first with its line */
	ck_assert_msg(strstr(rep.msg[0], "two/T0003.yaml:2: ") != NULL &&
	    strstr(rep.msg[0], "rule_id T0001") != NULL &&
	    strstr(rep.msg[0], "one/T0001.yaml:2") != NULL, "%s", rep.msg[0]);
	/* the first definition stays, the rest of the files still load */
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_str_eq(rs.v[0]->pub.rule_id, "T0001");
	ck_assert_str_eq(rs.v[0]->pub.name, "fixture_shell_pipe");
	ck_assert_int_eq(rs.v[0]->pub.rule_version, 3);
	ck_assert_str_eq(rs.v[0]->pub.emits[0]->sub_technique_id,
	    "T1059.004");
	ck_assert_str_eq(rs.v[1]->pub.rule_id, "T0002");
	ck_assert_str_eq(rs.v[1]->pub.kind, "lifter:fixture_thing");
	ck_assert_uint_eq(rs.v[1]->pub.n_applies_to, 2);
	ck_assert_double_eq(rs.v[1]->pub.emits[0]->confidence, 1.0);
	ck_assert_str_eq(rs.v[2]->pub.rule_id, "T0004");
	ck_assert_ptr_null(rs.v[2]->pub.emits[0]->sub_technique_id);
	ck_assert_ptr_eq(ruleset_find(&rs, "T0004"), rs.v[2]);
	ck_assert_ptr_null(ruleset_find(&rs, "T0003"));
	ruleset_free(&rs);
	reports_free(&rep);
	free(one);
	free(two);
}
END_TEST

START_TEST(test_load_dirs_filters_and_continues)
{
	static const char *const ignored[] = { ".R0001.yaml", "R0002.yaml~",
		"4913", "x.yaml.swp", "x.YAML", "notes.txt" };
	char dir[] = "/tmp/check_rules.XXXXXX", path[512];
	const char *dirs[2];
	struct reports rep = { { 0 }, 0 };
	struct ruleset rs;
	char *good, *src = data_path("one/T0001.yaml");
	size_t len, i;
	int problems;

	good = read_file(src, &len);
	free(src);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* ignored names hold garbage that would fail if parsed */
	for (i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, ignored[i]);
		write_file(path, "{{{ not yaml", 12);
	}
	snprintf(path, sizeof path, "%s/b_bad.yaml", dir);
	write_file(path, "rule_id: Z\n", 11);
	snprintf(path, sizeof path, "%s/c_good.yml", dir);
	write_file(path, good, len);
	snprintf(path, sizeof path, "%s/a_empty.yaml", dir);
	write_file(path, "", 0);

	dirs[0] = dir;
	dirs[1] = "/nonexistent/ttpd-rules";
	ruleset_init(&rs);
	problems = rules_load_dirs(dirs, 2, &rs, collect, &rep);
	ck_assert_int_eq(problems, 3);
	ck_assert_int_eq(rep.n, 3);
	/* sorted order: a_empty, b_bad, then the missing directory */
	ck_assert_msg(strstr(rep.msg[0], "/a_empty.yaml: empty file") != NULL,
	    "%s", rep.msg[0]);
	ck_assert_msg(strstr(rep.msg[1], "/b_bad.yaml:1: rule_version is "
	    "missing") != NULL, "%s", rep.msg[1]);
	ck_assert_msg(strcmp(rep.msg[2], "/nonexistent/ttpd-rules: cannot "
	    "read rules directory: No such file or directory") == 0, "%s",
	    rep.msg[2]);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_str_eq(rs.v[0]->pub.rule_id, "T0001");
	ck_assert_int_eq(strncmp(rs.v[0]->pub.path, dir, strlen(dir)), 0);

	/* a missing directory alone; a NULL report callback is allowed */
	ruleset_free(&rs);
	reports_free(&rep);
	problems = rules_load_dirs(dirs + 1, 1, &rs, NULL, NULL);
	ck_assert_int_eq(problems, 1);
	ck_assert_uint_eq(rs.n, 0);

	for (i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, ignored[i]);
		ck_assert_int_eq(unlink(path), 0);
	}
	snprintf(path, sizeof path, "%s/b_bad.yaml", dir);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof path, "%s/c_good.yml", dir);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof path, "%s/a_empty.yaml", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ruleset_free(&rs);
	free(good);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Robustness                                                          */

static void
parse_must_not_crash(const char *buf, size_t len)
{
	char err[512];
	struct rule *r;

	err[0] = '\0';
	r = rules_parse_buffer("f.yaml", buf, len, err, sizeof err);
	if (r != NULL) {
		ck_assert_ptr_nonnull(r->pub.rule_id);
		ck_assert_uint_ge(r->pub.n_emits, 1);
		rule_free(r);
	} else
		ck_assert_msg(strncmp(err, "f.yaml:", 7) == 0, "error '%s'",
		    err);
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
fuzz_one(const char *text, size_t len)
{
	static const char tokens[] = "\n \t:-[]{}&*!|>'\"#,?%@`\\\0\xff\xc3";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char *copy = malloc(len + 1);
	size_t i, k, nflip;

	ck_assert_ptr_nonnull(copy);
	/* every truncation */
	for (i = 0; i <= len; i++) {
		memcpy(copy, text, i);
		parse_must_not_crash(copy, i);
	}
	/* byte flips, random bytes and YAML punctuation */
	for (i = 0; i < 3000; i++) {
		memcpy(copy, text, len);
		nflip = 1 + xorshift(&seed) % 3;
		for (k = 0; k < nflip; k++) {
			size_t at = xorshift(&seed) % len;
			uint64_t how = xorshift(&seed);

			if (how % 3 == 0)
				copy[at] ^= (char)(1u << (how / 3 % 8));
			else if (how % 3 == 1)
				copy[at] = (char)(how >> 8);
			else
				copy[at] = tokens[(how >> 8) %
				    (sizeof tokens - 1)];
		}
		parse_must_not_crash(copy, len);
	}
	free(copy);
}

START_TEST(test_fuzz_inline)
{
	fuzz_one(valid_rule, strlen(valid_rule));
	parse_must_not_crash(valid_rule, strlen(valid_rule));
	rule_free(parse_ok(valid_rule));
}
END_TEST

START_TEST(test_fuzz_decnet)
{
	char *dir = decnet_rules_dir(), *path;
	static const char *const files[] = { "R0006.yaml", "R0026.yaml",
		"R0054.yaml" };
	size_t i, len;
	char *text;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		ck_assert_int_ne(asprintf(&path, "%s/%s", dir, files[i]), -1);
		text = read_file(path, &len);
		fuzz_one(text, len);
		free(text);
		free(path);
	}
	free(dir);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc;

	tc = tcase_create("decnet");
	tcase_add_test(tc, test_decnet_pack_loads);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_filename_allow_list);
	tcase_add_test(tc, test_kind_matches);
	suite_add_tcase(s, tc);

	tc = tcase_create("yaml");
	tcase_add_test(tc, test_scalar_typing);
	tcase_add_test(tc, test_scalar_edges);
	tcase_add_test(tc, test_aliases_and_merge_keys);
	tcase_add_test(tc, test_fields_and_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_document_errors);
	tcase_add_test(tc, test_top_level_errors);
	tcase_add_test(tc, test_emit_errors);
	tcase_add_test(tc, test_alias_bomb);
	tcase_add_test(tc, test_nesting_limit);
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_parse_file_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("dirs");
	tcase_add_test(tc, test_load_dirs_duplicates);
	tcase_add_test(tc, test_load_dirs_filters_and_continues);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_add_test(tc, test_fuzz_inline);
	tcase_add_test(tc, test_fuzz_decnet);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rules_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
