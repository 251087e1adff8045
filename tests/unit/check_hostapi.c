/*
 * Host API tests: the service table (host/hostapi.c), the registry and its
 * rule ownership (host/dispatch.c) and pipeline_event(), driven through the
 * fixture lifters of tests/plugins/:
 *   probe    does what each event's payload asks (see probe.c)
 *   other    always emits one tag for the "command" kind
 *   generic  the F_GENERIC_RULES owner with competing rule_kinds
 *
 * Fixtures are copied from $TTPD_BUILDDIR/tests/plugins/.libs into a
 * private temporary directory first, because the loader refuses files in
 * group-writable places.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "pipeline.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"

/* The clock every hostapi_run() of this suite uses, and its text. */
#define NOW ((int64_t)1700000000123456000)
#define NOW_TEXT "2023-11-14 22:13:20.123456"
#define RELEASE "v99.9-test"
#define ATT "attacker-1"
#define IDT "identity-1"
#define TOL 1e-12

static char tmpdir[64];	/* /tmp/ttpd-check-hostapi-XXXXXX */
static struct registry reg;
static struct ruleset rs;
static struct tag_list out;
static const struct tag_settings ts = { RELEASE };

/* What registry_assign_rules() reported. */
static char reports[8][512];
static int nreports;

/* The probe's config group in the standard set-up. */
static const char probe_config[] =
    "{\"label\":\"hello\",\"limit\":42,\"ratio\":0.25,\"whole\":3,"
    "\"verbose\":true,\"items\":[1,\"x\"],"
    "\"nested\":{\"depth\":7,\"tag\":\"deep\",\"inner\":{\"on\":false}}}";

/*
 * The standard rules, in load order.  Command rules are PA, PC, P0 (not
 * alphabetical, so load order is visible), session rules PB, PC.
 */
static const char rule_pa[] =
    "rule_id: PA\n"
    "rule_version: 3\n"
    "name: probe a\n"
    "applies_to: [command]\n"
    "match:\n"
    "  kind: lifter:probe_a\n"
    "emits:\n"
    "  - tactic: TA0002\n"
    "    technique_id: T1059\n"
    "    sub_technique_id: T1059.004\n"
    "    confidence: 0.9\n"
    "  - tactic: TA0007\n"
    "    technique_id: T1082\n"
    "    confidence: 0.4\n"
    "evidence_fields: [cmd, missing, nul]\n";
static const char rule_pb[] =
    "rule_id: PB\n"
    "rule_version: 1\n"
    "name: probe b\n"
    "applies_to: [session]\n"
    "match:\n"
    "  kind: lifter:probe_b\n"
    "emits:\n"
    "  - tactic: TA0008\n"
    "    technique_id: T1021\n"
    "    confidence: 0.5\n";
static const char rule_pc[] =
    "rule_id: PC\n"
    "rule_version: 1\n"
    "name: probe c\n"
    "applies_to: [session, command]\n"
    "match:\n"
    "  kind: lifter:probe_c\n"
    "emits:\n"
    "  - tactic: TA0011\n"
    "    technique_id: T1105\n"
    "    confidence: 0.7\n";
static const char rule_p0[] =
    "rule_id: P0\n"
    "rule_version: 1\n"
    "name: probe zero\n"
    "applies_to: [command]\n"
    "match:\n"
    "  kind: lifter:probe_zero\n"
    "emits:\n"
    "  - tactic: TA0007\n"
    "    technique_id: T1087\n"
    "    confidence: 0.5\n";
static const char rule_oa[] =
    "rule_id: OA\n"
    "rule_version: 2\n"
    "name: other a\n"
    "applies_to: [command]\n"
    "match:\n"
    "  kind: lifter:other_a\n"
    "emits:\n"
    "  - tactic: TA0007\n"
    "    technique_id: T1046\n"
    "    confidence: 0.6\n";

/* --- set-up ------------------------------------------------------------- */

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup_base(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ttpd-check-hostapi-XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
	registry_init(&reg);
	ruleset_init(&rs);
	tag_list_init(&out);
	nreports = 0;
}

static void
teardown(void)
{
	tag_list_free(&out);
	registry_free(&reg);	/* releases the rules: before they are freed */
	ruleset_free(&rs);
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copy the built fixture <name>.so into tmpdir with mode 0755. */
static void
copy_fixture(const char *name)
{
	char src[PATH_MAX], dst[PATH_MAX], buf[65536];
	const char *builddir = getenv("TTPD_BUILDDIR");
	ssize_t n;
	int in, outfd;

	ck_assert_msg(builddir != NULL, "TTPD_BUILDDIR is not set");
	snprintf(src, sizeof src, "%s/tests/plugins/.libs/%s.so", builddir,
	    name);
	snprintf(dst, sizeof dst, "%s/%s.so", tmpdir, name);
	in = open(src, O_RDONLY);
	ck_assert_msg(in >= 0, "%s: %s (is TTPD_BUILDDIR right and the "
	    "fixture built?)", src, strerror(errno));
	outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(outfd >= 0, "%s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(outfd, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fchmod(outfd, 0755), 0);
	close(in);
	close(outfd);
}

static ttpd_value *
parse(const char *json)
{
	char err[256];
	ttpd_value *v = jv_parse(json, strlen(json), err, sizeof err);

	ck_assert_msg(v != NULL, "bad JSON in the test: %s: %s", err, json);
	return v;
}

/* Load fixture `name` from tmpdir with a config group (JSON) or none. */
static struct plugin *
load(const char *name, const char *config_json)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char err[1024];
	int rc;

	copy_fixture(name);
	if (config_json != NULL)
		config = parse(config_json);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)name;
	pc.config = config;
	pc.origin = (char *)"test.conf:1";
	rc = loader_load(&reg, tmpdir, &pc, err, sizeof err);
	jv_decref(config);
	ck_assert_msg(rc == 0, "loading %s: %s", name, err);
	return registry_find(&reg, name);
}

static struct rule *
add_rule(const char *id, const char *yaml)
{
	char path[64], err[512];
	struct rule *r;

	snprintf(path, sizeof path, "mem/%s.yaml", id);
	r = rules_parse_buffer(path, yaml, strlen(yaml), err, sizeof err);
	ck_assert_msg(r != NULL, "rule %s: %s", id, err);
	ruleset_push(&rs, r);
	return r;
}

static void
report(void *ud, const char *msg)
{
	(void)ud;
	ck_assert_int_lt(nreports, 8);
	snprintf(reports[nreports++], sizeof reports[0], "%s", msg);
}

static int
assign(void)
{
	return registry_assign_rules(&reg, &rs, report, NULL);
}

static struct rule *
rule(const char *id)
{
	struct rule *r = ruleset_find(&rs, id);

	ck_assert_msg(r != NULL, "no rule %s", id);
	return r;
}

static struct plugin *
plugin(const char *name)
{
	struct plugin *p = registry_find(&reg, name);

	ck_assert_msg(p != NULL, "plugin %s not loaded", name);
	return p;
}

/* probe (with probe_config) and other, the standard rules, assigned. */
static void
setup_std(void)
{
	setup_base();
	load("probe", probe_config);
	load("other", NULL);
	registry_finish(&reg);
	add_rule("PA", rule_pa);
	add_rule("PB", rule_pb);
	add_rule("PC", rule_pc);
	add_rule("P0", rule_p0);
	add_rule("OA", rule_oa);
	ck_assert_int_eq(assign(), 0);
	ck_assert_int_eq(nreports, 0);
}

/* --- events --------------------------------------------------------------- */

struct tev {
	ttpd_event ev;
	ttpd_value *payload;
};

static void
tev_make(struct tev *t, const char *kind, const char *attacker,
    const char *identity, const char *json)
{
	memset(t, 0, sizeof *t);
	t->payload = parse(json);
	t->ev.size = sizeof t->ev;
	t->ev.source_kind = kind;
	t->ev.source_id = "src-1";
	t->ev.attacker_uuid = attacker;
	t->ev.identity_uuid = identity;
	t->ev.session_id = "sess-1";
	t->ev.decky_id = "decky-1";
	t->ev.payload = t->payload;
}

static void
tev_free(struct tev *t)
{
	jv_decref(t->payload);
	t->payload = NULL;
}

/* One event through one plugin with hostapi_run(); tags go to `out`. */
static int
run(const char *name, const char *kind, const char *attacker,
    const char *identity, const char *json)
{
	struct tev t;
	int rc;

	tev_make(&t, kind, attacker, identity, json);
	rc = hostapi_run(plugin(name), &t.ev, &ts, NOW, &out);
	tev_free(&t);
	return rc;
}

/* One event through pipeline_event(). */
static int
pipe_event(struct pipeline *pl, const char *kind, const char *json)
{
	struct tev t;
	int rc;

	tev_make(&t, kind, ATT, NULL, json);
	rc = pipeline_event(pl, &t.ev);
	tev_free(&t);
	return rc;
}

/* --- assertions ----------------------------------------------------------- */

static ttpd_value *
evidence_of(const struct tag *t)
{
	char err[256];
	ttpd_value *v;

	ck_assert_ptr_nonnull(t->evidence);
	v = jv_parse(t->evidence, strlen(t->evidence), err, sizeof err);
	ck_assert_msg(v != NULL, "evidence is not JSON (%s): %s", err,
	    t->evidence);
	ck_assert_int_eq(jv_type(v), TTPD_VT_OBJECT);
	return v;
}

static int64_t
int_member(const ttpd_value *o, const char *key)
{
	int64_t i = INT64_MIN;

	ck_assert_msg(jv_get_int(jv_object_get(o, key), &i) == TTPD_OK,
	    "member %s is not an int", key);
	return i;
}

static void
assert_str(const char *got, const char *want)
{
	if (want == NULL)
		ck_assert_msg(got == NULL, "expected NULL, got '%s'", got);
	else {
		ck_assert_msg(got != NULL, "expected '%s', got NULL", want);
		ck_assert_str_eq(got, want);
	}
}

static void
assert_uuid(const struct tag *t, const char *rule_id, int64_t version,
    const char *technique, const char *sub)
{
	char want[TAG_UUID_LEN + 1];

	tag_uuid(t->source_kind, t->source_id, rule_id, version, technique,
	    sub, want);
	ck_assert_str_eq(t->uuid, want);
}

/* Rule ids of the tags out[from..] in order, comma separated. */
static const char *
rule_ids(const struct tag_list *l, size_t from)
{
	static char buf[256];
	size_t i;

	buf[0] = '\0';
	for (i = from; i < l->n; i++) {
		if (i > from)
			strncat(buf, ",", sizeof buf - strlen(buf) - 1);
		strncat(buf, l->v[i].rule_id, sizeof buf - strlen(buf) - 1);
	}
	return buf;
}

/* The ids the probe's "list" action reported in its one new tag. */
static const char *
listed(const char *kind)
{
	static char buf[256];
	ttpd_value *ev;
	const ttpd_value *ids;
	size_t before = out.n, i;

	ck_assert_int_eq(run("probe", kind, ATT, NULL,
	    "{\"action\":\"list\"}"), TTPD_OK);
	ck_assert_uint_eq(out.n, before + 1);
	ev = evidence_of(&out.v[before]);
	ids = jv_object_get(ev, "rules");
	buf[0] = '\0';
	for (i = 0; i < jv_array_size(ids); i++) {
		if (i > 0)
			strncat(buf, ",", sizeof buf - strlen(buf) - 1);
		strncat(buf, jv_string(jv_array_get(ids, i)),
		    sizeof buf - strlen(buf) - 1);
	}
	jv_decref(ev);
	return buf;
}

/* --- emit ----------------------------------------------------------------- */

START_TEST(test_emit_tag_fields)
{
	struct plugin *p = plugin("probe");
	const struct tag *t;

	ck_assert_int_eq(run("probe", "command", ATT, IDT,
	    "{\"rule\":\"PA\",\"index\":0,\"multiplier\":0.5}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	t = &out.v[0];
	assert_uuid(t, "PA", 3, "T1059", "T1059.004");
	assert_str(t->source_kind, "command");
	assert_str(t->source_id, "src-1");
	assert_str(t->attacker_uuid, ATT);
	assert_str(t->identity_uuid, IDT);
	assert_str(t->session_id, "sess-1");
	assert_str(t->decky_id, "decky-1");
	assert_str(t->tactic, "TA0002");
	assert_str(t->technique_id, "T1059");
	assert_str(t->sub_technique_id, "T1059.004");
	ck_assert_double_eq_tol(t->confidence, 0.45, TOL);
	assert_str(t->rule_id, "PA");
	ck_assert_int_eq(t->rule_version, 3);
	assert_str(t->evidence, "{}");
	assert_str(t->attack_release, RELEASE);
	assert_str(t->mitre_url,
	    "https://attack.mitre.org/techniques/T1059/004");
	ck_assert_str_eq(t->created_at, NOW_TEXT);
	ck_assert_uint_eq(p->counters.events, 1);
	ck_assert_uint_eq(p->counters.tags, 1);
	ck_assert_uint_eq(p->counters.errors, 0);
	ck_assert_uint_eq(p->counters.gated, 0);
}
END_TEST

START_TEST(test_emit_empty_sub_is_null)
{
	struct rule *r = rule("PA");
	const struct tag *t;

	/* the rule parser already maps "" to NULL; the host must too */
	free((char *)(uintptr_t)r->emit_store[1].sub_technique_id);
	r->emit_store[1].sub_technique_id = strdup("");
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":1}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	t = &out.v[0];
	assert_str(t->sub_technique_id, NULL);
	assert_str(t->technique_id, "T1082");
	assert_str(t->tactic, "TA0007");
	assert_uuid(t, "PA", 3, "T1082", NULL);
	assert_str(t->mitre_url, "https://attack.mitre.org/techniques/T1082");
	ck_assert_double_eq_tol(t->confidence, 0.4, TOL);
}
END_TEST

START_TEST(test_emit_confidence_clamped)
{
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"multiplier\":2}"), TTPD_OK);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"multiplier\":-1}"), TTPD_OK);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":1,\"multiplier\":0.5}"), TTPD_OK);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"multiplier\":1.1}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 4);
	ck_assert_double_eq_tol(out.v[0].confidence, 1.0, TOL);
	ck_assert_double_eq_tol(out.v[1].confidence, 0.0, TOL);
	ck_assert_double_eq_tol(out.v[2].confidence, 0.2, TOL);
	ck_assert_double_eq_tol(out.v[3].confidence, 0.99, TOL);
	/* confidence is not part of the identity */
	ck_assert_str_eq(out.v[0].uuid, out.v[1].uuid);
	ck_assert_str_eq(out.v[0].uuid, out.v[3].uuid);
	ck_assert_str_ne(out.v[0].uuid, out.v[2].uuid);
}
END_TEST

START_TEST(test_emit_all_in_order)
{
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"evidence\":{\"k\":1}}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 2);
	assert_str(out.v[0].technique_id, "T1059");
	assert_str(out.v[1].technique_id, "T1082");
	ck_assert_double_eq_tol(out.v[0].confidence, 0.9, TOL);
	ck_assert_double_eq_tol(out.v[1].confidence, 0.4, TOL);
	assert_uuid(&out.v[0], "PA", 3, "T1059", "T1059.004");
	assert_uuid(&out.v[1], "PA", 3, "T1082", NULL);
	ck_assert_str_eq(out.v[0].evidence, out.v[1].evidence);
	ck_assert_str_eq(out.v[0].evidence, "{\"k\":1}");
	ck_assert_str_eq(out.v[0].created_at, out.v[1].created_at);

	/* every rule rules_for() gives, each with all its entries */
	ck_assert_int_eq(run("probe", "command", ATT, NULL, "{}"), TTPD_OK);
	ck_assert_str_eq(rule_ids(&out, 2), "PA,PA,PC,P0");
	assert_str(out.v[2].technique_id, "T1059");
	assert_str(out.v[3].technique_id, "T1082");
	assert_str(out.v[4].technique_id, "T1105");
	assert_str(out.v[5].technique_id, "T1087");
	ck_assert_uint_eq(plugin("probe")->counters.tags, 6);
}
END_TEST

START_TEST(test_emit_evidence_round_trip)
{
	static const char payload[] =
	    "{\"rule\":\"PA\",\"index\":0,\"evidence\":{\"k\":[1,2.5,"
	    "{\"z\":true}],\"u\":\"caf\\u00e9\",\"n\":null}}";
	ttpd_value *p, *ev;

	/* an object borrowed from the payload */
	ck_assert_int_eq(run("probe", "command", ATT, NULL, payload),
	    TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	p = parse(payload);
	ev = evidence_of(&out.v[0]);
	ck_assert_msg(jv_equal(ev, jv_object_get(p, "evidence")),
	    "evidence %s", out.v[0].evidence);
	jv_decref(ev);
	jv_decref(p);

	/* evidence_from_fields: present members in evidence_fields order,
	 * null kept, absent skipped, other members not taken */
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"nul\":null,\"x\":1,\"evidence\":\"fields\",\"rule\":\"PA\","
	    "\"index\":0,\"cmd\":\"uname -a\"}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_str_eq(out.v[1].evidence,
	    "{\"cmd\":\"uname -a\",\"nul\":null}");

	/* the payload itself as evidence */
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"evidence\":\"payload\"}"),
	    TTPD_OK);
	ck_assert_uint_eq(out.n, 3);
	p = parse("{\"rule\":\"PA\",\"index\":0,\"evidence\":\"payload\"}");
	ev = evidence_of(&out.v[2]);
	ck_assert_msg(jv_equal(ev, p), "evidence %s", out.v[2].evidence);
	jv_decref(ev);
	jv_decref(p);
}
END_TEST

/*
 * The host serialises an evidence object again only when it may have
 * changed since the last emit: a change to it or inside it, or another
 * event (whose values may sit where the last event's were).
 */
START_TEST(test_emit_evidence_changes)
{
	static const char *const want[] = {
		"{\"n\":1,\"a\":[1]}", "{\"n\":2,\"a\":[1]}",
		"{\"n\":2,\"a\":[1,2]}", "{\"n\":2,\"a\":[1,2]}",
		"{\"n\":2,\"a\":[1,2]}"
	};
	char payload[96];
	size_t i;

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"action\":\"mutate\",\"rule\":\"PA\"}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(out.v[i].evidence, want[i]);

	/* the payload as evidence, event after event: each its own text
	 * though each payload may reuse the memory of the one before */
	for (i = 0; i < 4; i++) {
		snprintf(payload, sizeof payload, "{\"rule\":\"PA\","
		    "\"index\":0,\"evidence\":\"payload\",\"i\":%zu}", i);
		ck_assert_int_eq(run("probe", "command", ATT, NULL, payload),
		    TTPD_OK);
		ck_assert_uint_eq(out.n, 6 + i);
		ck_assert_str_eq(out.v[5 + i].evidence, payload);
	}
}
END_TEST

START_TEST(test_emit_builders)
{
	ttpd_value *ev;
	const ttpd_value *v, *a, *f;
	const char *s;
	char *nul;
	size_t len;
	int64_t i64;
	double d;
	int b;

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"action\":\"builders\",\"rule\":\"PA\",\"cmd\":\"id\"}"),
	    TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	/*
	 * new_string() keeps an embedded NUL and it is serialised as \u0000,
	 * which jv_parse() (jansson without JSON_ALLOW_NUL) refuses to read
	 * back: check it in the text, then make it \u0001 and parse.
	 */
	nul = strstr(out.v[0].evidence, "\"s0\":\"a\\u0000b\"");
	ck_assert_msg(nul != NULL, "evidence %s", out.v[0].evidence);
	nul[12] = '1';
	ev = evidence_of(&out.v[0]);

	ck_assert_int_eq(jv_get_string(jv_object_get(ev, "s"), &s, &len),
	    TTPD_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(s, "h\xc3\xa9llo");
	ck_assert_int_eq(jv_get_string(jv_object_get(ev, "s0"), &s, &len),
	    TTPD_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(s, "a\1b", 3);
	ck_assert_int_eq(int_member(ev, "i"), -42);
	ck_assert_int_eq(int_member(ev, "big"), INT64_MAX);
	v = jv_object_get(ev, "r");
	ck_assert_int_eq(jv_type(v), TTPD_VT_REAL);
	ck_assert_int_eq(jv_get_number(v, &d), TTPD_OK);
	ck_assert_double_eq(d, 2.5);
	ck_assert_int_eq(jv_get_bool(jv_object_get(ev, "t"), &b), TTPD_OK);
	ck_assert_int_eq(b, 1);
	ck_assert_int_eq(jv_get_bool(jv_object_get(ev, "f"), &b), TTPD_OK);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(jv_type(jv_object_get(ev, "n")), TTPD_VT_NULL);

	a = jv_object_get(ev, "a");
	ck_assert_uint_eq(jv_array_size(a), 4);
	ck_assert_int_eq(jv_get_int(jv_array_get(a, 0), &i64), TTPD_OK);
	ck_assert_int_eq(i64, 1);
	assert_str(jv_string(jv_array_get(a, 1)), "two");
	ck_assert_int_eq(jv_type(jv_array_get(a, 2)), TTPD_VT_NULL);
	assert_str(jv_string(jv_array_get(a, 3)), "id");

	f = jv_object_get(ev, "fields");
	ck_assert_int_eq(jv_type(f), TTPD_VT_OBJECT);
	ck_assert_uint_eq(jv_object_size(f), 1);
	assert_str(jv_string(jv_object_get(f, "cmd")), "id");

	ck_assert_int_eq(jv_get_bool(jv_object_get(ev, "bad_utf8_is_null"),
	    &b), TTPD_OK);
	ck_assert_int_eq(b, 1);
	ck_assert_uint_eq(jv_object_size(ev), 11);
	jv_decref(ev);
}
END_TEST

START_TEST(test_emit_identity_only)
{
	struct plugin *p = plugin("probe");

	ck_assert_int_eq(run("probe", "command", ATT, IDT,
	    "{\"rule\":\"PA\",\"index\":0,\"identity_only\":true}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	assert_str(out.v[0].attacker_uuid, NULL);
	assert_str(out.v[0].identity_uuid, IDT);
	/* anchors are not part of the identity */
	assert_uuid(&out.v[0], "PA", 3, "T1059", "T1059.004");

	/* identity-only without an identity: no tag */
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"identity_only\":true}"),
	    TTPD_SKIP);
	ck_assert_uint_eq(out.n, 1);

	/* no anchor at all: no tag */
	ck_assert_int_eq(run("probe", "command", NULL, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_SKIP);
	ck_assert_uint_eq(out.n, 1);

	/* either anchor alone is enough */
	ck_assert_int_eq(run("probe", "command", NULL, IDT,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 3);
	assert_str(out.v[1].attacker_uuid, NULL);
	assert_str(out.v[1].identity_uuid, IDT);
	assert_str(out.v[2].attacker_uuid, ATT);
	assert_str(out.v[2].identity_uuid, NULL);

	/* skips are neither errors nor gated emits */
	ck_assert_uint_eq(p->counters.errors, 0);
	ck_assert_uint_eq(p->counters.gated, 0);
	ck_assert_uint_eq(p->counters.tags, 3);
}
END_TEST

START_TEST(test_emit_bad)
{
	static const char *const einval[] = {
		"foreign", "null_rule", "index", "index_far", "nan", "inf",
		"array_evidence", "string_evidence", "null_sink", "cycle",
		"self", "array_self", "set_on_array", "append_on_object",
		"set_null"
	};
	struct plugin *p = plugin("probe");
	ttpd_value *ev, *want;
	size_t i;

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"action\":\"bad\",\"rule\":\"PA\"}"), TTPD_OK);
	/* only the final good emit produced a tag */
	ck_assert_uint_eq(out.n, 1);
	ev = evidence_of(&out.v[0]);
	for (i = 0; i < sizeof einval / sizeof einval[0]; i++)
		ck_assert_msg(int_member(ev, einval[i]) == TTPD_EINVAL,
		    "%s: %lld, want TTPD_EINVAL", einval[i],
		    (long long)int_member(ev, einval[i]));
	ck_assert_int_eq(int_member(ev, "set_ok"), TTPD_OK);
	/* the refused cycle left the tree intact */
	want = parse("{\"b\":{}}");
	ck_assert_msg(jv_equal(jv_object_get(ev, "nested"), want),
	    "evidence %s", out.v[0].evidence);
	jv_decref(want);
	jv_decref(ev);
	ck_assert_uint_eq(p->counters.tags, 1);
	ck_assert_uint_eq(p->counters.gated, 0);

	/* an out-of-range index as the plugin's only emit */
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":2}"), TTPD_EINVAL);
	ck_assert_uint_eq(out.n, 1);
}
END_TEST

/* After a hot reload swapped a rule, emit() knows the new version (and
 * the rules_for() answer has it in the old one's place). */
START_TEST(test_emit_after_swap)
{
	struct rule *old = rule("PA"), *r;
	char yaml[sizeof rule_pa], err[512], *v;

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_int_eq(out.v[0].rule_version, 3);
	memcpy(yaml, rule_pa, sizeof rule_pa);
	v = strstr(yaml, "rule_version: 3");
	ck_assert_ptr_nonnull(v);
	v[strlen("rule_version: ")] = '4';
	r = rules_parse_buffer("mem/PA.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(registry_prepare_rule(&reg, r, err, sizeof err), 1);
	registry_swap_rule(&reg, old, r);
	ck_assert_int_eq(ruleset_replace(&rs, old, r), 0);
	rule_free(old);

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_int_eq(out.v[1].rule_version, 4);
	ck_assert_int_eq(run("probe", "command", ATT, NULL, "{}"), TTPD_OK);
	ck_assert_str_eq(rule_ids(&out, 2), "PA,PA,PC,P0");
	ck_assert_int_eq(out.v[2].rule_version, 4);
}
END_TEST

/* --- rule state --------------------------------------------------------- */

START_TEST(test_rule_disabled)
{
	struct plugin *p = plugin("probe");
	struct rule *r = rule("PA");

	r->state.state = RULE_STATE_DISABLED;
	rules_changed();
	ck_assert_str_eq(listed("command"), "PC,P0");
	tag_list_truncate(&out, 0);

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_SKIP);
	ck_assert_uint_eq(out.n, 0);
	ck_assert_uint_eq(p->counters.gated, 1);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\"}"), TTPD_SKIP);
	ck_assert_uint_eq(out.n, 0);
	ck_assert_uint_eq(p->counters.gated, 2);

	/* only the active rules are handed out */
	ck_assert_int_eq(run("probe", "command", ATT, NULL, "{}"), TTPD_OK);
	ck_assert_str_eq(rule_ids(&out, 0), "PC,P0");
	ck_assert_uint_eq(p->counters.gated, 2);
	ck_assert_uint_eq(p->counters.errors, 0);
}
END_TEST

START_TEST(test_rule_clipped)
{
	struct rule *r = rule("PA");

	r->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	r->state.has_confidence_max = 1;
	r->state.confidence_max = 0.5;
	ck_assert_str_eq(listed("command"), "PA,PC,P0");
	tag_list_truncate(&out, 0);

	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\"}"), TTPD_OK);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0,\"multiplier\":0.5}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 3);
	ck_assert_double_eq_tol(out.v[0].confidence, 0.5, TOL);
	ck_assert_double_eq_tol(out.v[1].confidence, 0.4, TOL);
	ck_assert_double_eq_tol(out.v[2].confidence, 0.45, TOL);
	ck_assert_uint_eq(plugin("probe")->counters.gated, 0);
}
END_TEST

START_TEST(test_rule_expired)
{
	struct rule *r = rule("PA");

	/* a disabled state that expired is no state: enabled */
	r->state.state = RULE_STATE_DISABLED;
	rules_changed();
	r->state.expires_at_ns = NOW - 1;
	ck_assert_str_eq(listed("command"), "PA,PC,P0");
	tag_list_truncate(&out, 0);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_double_eq_tol(out.v[0].confidence, 0.9, TOL);

	/* not yet expired: still disabled */
	r->state.expires_at_ns = NOW + 1000000000;
	ck_assert_str_eq(listed("command"), "PC,P0");
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_SKIP);
	ck_assert_uint_eq(out.n, 2); /* the list tag only */

	/* an expired ceiling does not clip */
	r->state.state = RULE_STATE_CLIPPED;
	rules_changed();
	r->state.has_confidence_max = 1;
	r->state.confidence_max = 0.5;
	r->state.expires_at_ns = NOW - 1;
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"index\":0}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 3);
	ck_assert_double_eq_tol(out.v[2].confidence, 0.9, TOL);
}
END_TEST

START_TEST(test_rules_for_kind_and_order)
{
	ck_assert_str_eq(listed("command"), "PA,PC,P0");
	ck_assert_str_eq(listed("session"), "PB,PC");
}
END_TEST

/* --- plugin errors and dispatch ------------------------------------------ */

START_TEST(test_error_drops_own_tags_only)
{
	struct plugin *p = plugin("probe"), *o = plugin("other");
	struct pipeline pl;

	/* hostapi_run: earlier tags in `out` survive the plugin's error */
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\"}"), TTPD_OK);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_int_eq(run("probe", "command", ATT, NULL,
	    "{\"rule\":\"PA\",\"fail\":\"einval\"}"), TTPD_EINVAL);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_uint_eq(p->counters.errors, 1);
	ck_assert_uint_eq(p->counters.tags, 2);
	ck_assert_int_eq(p->disabled, 0);

	/* pipeline_event: the other plugin's tag for the event is kept */
	pipeline_init(&pl, &reg, NULL);
	ck_assert_int_eq(pipe_event(&pl, "command",
	    "{\"rule\":\"PA\",\"fail\":\"einval\"}"), 0);
	ck_assert_str_eq(rule_ids(&pl.batch, 0), "OA");
	ck_assert_uint_eq(pl.st.plugin_errors, 1);
	ck_assert_uint_eq(pl.st.tags, 1);
	ck_assert_uint_eq(p->counters.errors, 2);
	ck_assert_uint_eq(o->counters.tags, 1);
	ck_assert_uint_eq(o->counters.errors, 0);

	/* a good event: both plugins, in load order */
	ck_assert_int_eq(pipe_event(&pl, "command", "{\"rule\":\"PA\"}"), 0);
	ck_assert_str_eq(rule_ids(&pl.batch, 0), "OA,PA,PA,OA");
	ck_assert_uint_eq(pl.st.tags, 4);
	ck_assert_uint_eq(pl.st.events, 2);
	ck_assert_uint_eq(pl.st.plugin_errors, 1);
	ck_assert_int_eq(p->disabled, 0);
	pipeline_free(&pl);
}
END_TEST

START_TEST(test_efatal_disables)
{
	struct plugin *p = plugin("probe"), *o = plugin("other");
	struct pipeline pl;

	pipeline_init(&pl, &reg, NULL);
	ck_assert_int_eq(pipe_event(&pl, "command",
	    "{\"rule\":\"PA\",\"fail\":\"efatal\"}"), 0);
	ck_assert_int_eq(p->disabled, 1);
	ck_assert_uint_eq(p->counters.errors, 1);
	ck_assert_uint_eq(p->counters.events, 1);
	ck_assert_str_eq(rule_ids(&pl.batch, 0), "OA");

	/* from now on the probe is skipped, the other plugin is not */
	ck_assert_int_eq(pipe_event(&pl, "command", "{\"rule\":\"PA\"}"), 0);
	ck_assert_int_eq(pipe_event(&pl, "session", "{}"), 0);
	ck_assert_uint_eq(p->counters.events, 1);
	ck_assert_uint_eq(o->counters.events, 2);
	ck_assert_str_eq(rule_ids(&pl.batch, 0), "OA,OA");
	ck_assert_uint_eq(pl.st.plugin_errors, 1);
	ck_assert_uint_eq(pl.st.unrouted, 0);
	pipeline_free(&pl);
}
END_TEST

START_TEST(test_plugins_in_load_order)
{
	struct plugin *const *ps;
	struct pipeline pl;
	size_t n;

	load("other", NULL);
	load("probe", NULL);
	registry_finish(&reg);
	add_rule("PA", rule_pa);
	add_rule("OA", rule_oa);
	ck_assert_int_eq(assign(), 0);

	ps = registry_plugins_for(&reg, "command", &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ps[0]->name, "other");
	ck_assert_str_eq(ps[1]->name, "probe");
	ps = registry_plugins_for(&reg, "session", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ps[0]->name, "probe");
	ck_assert_ptr_null(registry_plugins_for(&reg, "email", &n));
	ck_assert_uint_eq(n, 0);

	pipeline_init(&pl, &reg, NULL);
	ck_assert_int_eq(pipe_event(&pl, "command",
	    "{\"rule\":\"PA\",\"index\":0}"), 0);
	ck_assert_str_eq(rule_ids(&pl.batch, 0), "OA,PA");
	pipeline_free(&pl);
}
END_TEST

START_TEST(test_unrouted)
{
	struct pipeline pl;

	pipeline_init(&pl, &reg, NULL);
	ck_assert_int_eq(pipe_event(&pl, "email", "{}"), 0);
	ck_assert_int_eq(pipe_event(&pl, "email", "{}"), 0);
	ck_assert_int_eq(pipe_event(&pl, "not_a_kind", "{}"), 0);
	ck_assert_uint_eq(pl.st.unrouted, 3);
	ck_assert_uint_eq(pl.st.events, 3);
	ck_assert_uint_eq(pl.batch.n, 0);
	ck_assert_uint_eq(plugin("probe")->counters.events, 0);
	ck_assert_uint_eq(plugin("other")->counters.events, 0);

	ck_assert_int_eq(pipe_event(&pl, "command", "{\"rule\":\"PA\"}"), 0);
	ck_assert_uint_eq(pl.st.unrouted, 3);
	ck_assert_uint_eq(pl.batch.n, 3);
	pipeline_free(&pl);
}
END_TEST

/* --- config ------------------------------------------------------------- */

/* [query, expected result] pairs for the probe's "config" action. */
static const struct {
	const char *query;
	const char *want;
} config_cases[] = {
	{ "[\"string\",\"label\"]", "{\"rc\":0,\"v\":\"hello\"}" },
	{ "[\"int\",\"limit\"]", "{\"rc\":0,\"v\":42}" },
	{ "[\"real\",\"ratio\"]", "{\"rc\":0,\"v\":0.25}" },
	{ "[\"real\",\"whole\"]", "{\"rc\":0,\"v\":3.0}" },
	{ "[\"real\",\"limit\"]", "{\"rc\":0,\"v\":42.0}" },
	{ "[\"int\",\"whole\"]", "{\"rc\":0,\"v\":3}" },
	{ "[\"bool\",\"verbose\"]", "{\"rc\":0,\"v\":true}" },
	/* dotted paths */
	{ "[\"int\",\"nested.depth\"]", "{\"rc\":0,\"v\":7}" },
	{ "[\"string\",\"nested.tag\"]", "{\"rc\":0,\"v\":\"deep\"}" },
	{ "[\"bool\",\"nested.inner.on\"]", "{\"rc\":0,\"v\":false}" },
	/* absent: TTPD_SKIP */
	{ "[\"int\",\"absent\"]", "{\"rc\":1}" },
	{ "[\"string\",\"absent\"]", "{\"rc\":1}" },
	{ "[\"real\",\"absent\"]", "{\"rc\":1}" },
	{ "[\"bool\",\"absent\"]", "{\"rc\":1}" },
	{ "[\"int\",\"nested.absent\"]", "{\"rc\":1}" },
	{ "[\"int\",\"label.x\"]", "{\"rc\":1}" },
	{ "[\"int\",\"nested.depth.x\"]", "{\"rc\":1}" },
	{ "[\"int\",\"nested..depth\"]", "{\"rc\":1}" },
	{ "[\"int\",\".limit\"]", "{\"rc\":1}" },
	{ "[\"int\",\"limit.\"]", "{\"rc\":1}" },
	{ "[\"int\",\"nested.\"]", "{\"rc\":1}" },
	{ "[\"string\",null]", "{\"rc\":1}" },
	/* another type: TTPD_EINVAL */
	{ "[\"string\",\"limit\"]", "{\"rc\":-1}" },
	{ "[\"int\",\"ratio\"]", "{\"rc\":-1}" },
	{ "[\"int\",\"verbose\"]", "{\"rc\":-1}" },
	{ "[\"int\",\"label\"]", "{\"rc\":-1}" },
	{ "[\"int\",\"items\"]", "{\"rc\":-1}" },
	{ "[\"real\",\"label\"]", "{\"rc\":-1}" },
	{ "[\"real\",\"verbose\"]", "{\"rc\":-1}" },
	{ "[\"bool\",\"limit\"]", "{\"rc\":-1}" },
	{ "[\"bool\",\"label\"]", "{\"rc\":-1}" },
	{ "[\"string\",\"nested\"]", "{\"rc\":-1}" },
	/* value trees */
	{ "[\"value\",\"nested.inner\"]", "{\"rc\":0,\"v\":{\"on\":false}}" },
	{ "[\"value\",\"items\"]", "{\"rc\":0,\"v\":[1,\"x\"]}" },
	{ "[\"value\",\"limit\"]", "{\"rc\":0,\"v\":42}" },
	{ "[\"value\",\"absent\"]", "{\"rc\":1}" },
	{ "[\"value\",null]", NULL },	/* the whole group */
	{ "[\"value\",\"\"]", NULL },
};

/* Run every query as one "config" event; results in *ev. */
static const ttpd_value *
config_results(ttpd_value **ev, size_t ncases)
{
	char payload[8192];
	const ttpd_value *results;
	size_t i;

	snprintf(payload, sizeof payload, "{\"action\":\"config\","
	    "\"rule\":\"PA\",\"queries\":[");
	for (i = 0; i < ncases; i++) {
		if (i > 0)
			strncat(payload, ",", sizeof payload -
			    strlen(payload) - 1);
		strncat(payload, config_cases[i].query, sizeof payload -
		    strlen(payload) - 1);
	}
	strncat(payload, "]}", sizeof payload - strlen(payload) - 1);
	ck_assert_uint_lt(strlen(payload), sizeof payload - 1);
	ck_assert_int_eq(run("probe", "command", ATT, NULL, payload),
	    TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	*ev = evidence_of(&out.v[0]);
	results = jv_object_get(*ev, "results");
	ck_assert_uint_eq(jv_array_size(results), ncases);
	return results;
}

START_TEST(test_config_getters)
{
	size_t ncases = sizeof config_cases / sizeof config_cases[0], i;
	ttpd_value *ev, *whole;
	const ttpd_value *results;

	results = config_results(&ev, ncases);
	whole = parse(probe_config);
	for (i = 0; i < ncases; i++) {
		const ttpd_value *got = jv_array_get(results, i);
		ttpd_value *want;
		char *text;
		int ok;

		if (config_cases[i].want != NULL) {
			want = parse(config_cases[i].want);
			ok = jv_equal(got, want);
			jv_decref(want);
		} else
			ok = int_member(got, "rc") == TTPD_OK &&
			    jv_equal(jv_object_get(got, "v"), whole);
		text = jv_dump(got);
		ck_assert_msg(ok, "config query %s: got %s, want %s",
		    config_cases[i].query, text, config_cases[i].want != NULL ?
		    config_cases[i].want : "the whole group");
		free(text);
	}
	jv_decref(whole);
	jv_decref(ev);
}
END_TEST

START_TEST(test_config_absent_group)
{
	static const char payload[] = "{\"action\":\"config\","
	    "\"queries\":[[\"value\",null],[\"value\",\"\"],"
	    "[\"int\",\"limit\"],[\"string\",\"label\"],[\"bool\",\"x.y\"]]}";
	ttpd_value *ev, *want;

	load("probe", NULL);
	registry_finish(&reg);
	add_rule("PA", rule_pa);
	ck_assert_int_eq(assign(), 0);
	ck_assert_int_eq(run("probe", "command", ATT, NULL, payload),
	    TTPD_OK);
	ck_assert_uint_eq(out.n, 1);
	ev = evidence_of(&out.v[0]);
	want = parse("{\"results\":[{\"rc\":1},{\"rc\":1},{\"rc\":1},"
	    "{\"rc\":1},{\"rc\":1}]}");
	ck_assert_msg(jv_equal(ev, want), "evidence %s", out.v[0].evidence);
	jv_decref(want);
	jv_decref(ev);
}
END_TEST

/* --- rule ownership --------------------------------------------------------- */

static const char *
owner_name(const char *kind)
{
	struct plugin *p = registry_rule_owner(&reg, kind);

	return p != NULL ? p->name : "(none)";
}

START_TEST(test_rule_owner)
{
	load("probe", NULL);
	load("other", NULL);
	load("generic", NULL);
	registry_finish(&reg);
	ck_assert_ptr_eq(reg.generic_owner, plugin("generic"));

	/* the probe's "lifter:probe_*" beats generic's shorter "lifter:pro*",
	 * whatever the load order */
	ck_assert_str_eq(owner_name("lifter:probe_x"), "probe");
	ck_assert_str_eq(owner_name("lifter:probe_"), "probe");
	/* ... and loses to its exact entry and its longer prefix */
	ck_assert_str_eq(owner_name("lifter:probe_exact"), "generic");
	ck_assert_str_eq(owner_name("lifter:probe_exactly"), "probe");
	ck_assert_str_eq(owner_name("lifter:probe_long_x"), "generic");
	ck_assert_str_eq(owner_name("lifter:probe_long"), "probe");
	ck_assert_str_eq(owner_name("lifter:prox"), "generic");
	ck_assert_str_eq(owner_name("lifter:pro"), "generic");
	/* no rule_kinds: "lifter:<name>_*" */
	ck_assert_str_eq(owner_name("lifter:other_a"), "other");
	ck_assert_str_eq(owner_name("lifter:other_"), "other");
	ck_assert_str_eq(owner_name("lifter:other"), "(none)");
	ck_assert_str_eq(owner_name("lifter:otherx"), "(none)");
	ck_assert_str_eq(owner_name("lifter:nobody_x"), "(none)");
	ck_assert_str_eq(owner_name("lifter:"), "(none)");
	/* not "lifter:", or no kind at all: the generic owner */
	ck_assert_str_eq(owner_name(NULL), "generic");
	ck_assert_str_eq(owner_name("sigma"), "generic");
	ck_assert_str_eq(owner_name(""), "generic");
	ck_assert_str_eq(owner_name("other_a"), "generic");
	ck_assert_str_eq(owner_name("LIFTER:probe_x"), "generic");
}
END_TEST

START_TEST(test_rule_owner_without_generic)
{
	load("probe", NULL);
	load("other", NULL);
	registry_finish(&reg);
	ck_assert_ptr_null(reg.generic_owner);
	ck_assert_str_eq(owner_name(NULL), "(none)");
	ck_assert_str_eq(owner_name("sigma"), "(none)");
	ck_assert_str_eq(owner_name("lifter:probe_exact"), "probe");
	ck_assert_str_eq(owner_name("lifter:prox"), "(none)");
}
END_TEST

START_TEST(test_assign_routes_rules)
{
	struct plugin *g;

	load("probe", NULL);
	load("other", NULL);
	g = load("generic", NULL);
	registry_finish(&reg);
	add_rule("PA", rule_pa);
	add_rule("GX",
	    "rule_id: GX\nrule_version: 1\nname: no kind\n"
	    "applies_to: [session]\nmatch:\n  field: cmd\n  pattern: x\n"
	    "emits:\n  - tactic: TA0002\n    technique_id: T1059\n"
	    "    confidence: 0.5\n");
	add_rule("GE",
	    "rule_id: GE\nrule_version: 1\nname: exact\n"
	    "applies_to: [session]\nmatch:\n  kind: lifter:probe_exact\n"
	    "emits:\n  - tactic: TA0002\n    technique_id: T1059\n"
	    "    confidence: 0.5\n");
	add_rule("NB",
	    "rule_id: NB\nrule_version: 1\nname: nobody\n"
	    "applies_to: [session]\nmatch:\n  kind: lifter:nobody_x\n"
	    "emits:\n  - tactic: TA0002\n    technique_id: T1059\n"
	    "    confidence: 0.5\n");
	add_rule("OA", rule_oa);
	/* an unowned rule is inert, not rejected */
	ck_assert_int_eq(assign(), 0);
	ck_assert_int_eq(nreports, 0);

	ck_assert_ptr_eq(rule("PA")->owner, plugin("probe"));
	ck_assert_ptr_eq(rule("GX")->owner, g);
	ck_assert_ptr_eq(rule("GE")->owner, g);
	ck_assert_ptr_null(rule("NB")->owner);
	ck_assert_ptr_eq(rule("OA")->owner, plugin("other"));
	ck_assert_uint_eq(g->nrules, 2);
	ck_assert_uint_eq(plugin("probe")->nrules, 1);

	/* the generic plugin gets its rules on session events */
	ck_assert_int_eq(run("generic", "session", ATT, NULL, "{}"), TTPD_OK);
	ck_assert_str_eq(rule_ids(&out, 0), "GX,GE");
}
END_TEST

START_TEST(test_assign_reports_rejection)
{
	struct plugin *p;

	p = load("probe", NULL);
	load("other", NULL);
	registry_finish(&reg);
	add_rule("PA", rule_pa);
	add_rule("PR",
	    "rule_id: PR\n"
	    "rule_version: 1\n"
	    "name: rejected\n"
	    "applies_to: [command]\n"
	    "match:\n"
	    "  kind: lifter:probe_r\n"
	    "  reject: true\n"
	    "emits:\n"
	    "  - tactic: TA0002\n"
	    "    technique_id: T1059\n"
	    "    confidence: 0.5\n");
	add_rule("PK",
	    "rule_id: PK\n"
	    "rule_version: 1\n"
	    "name: kept\n"
	    "applies_to: [command]\n"
	    "match:\n"
	    "  kind: lifter:probe_k\n"
	    "  reject: false\n"
	    "emits:\n"
	    "  - tactic: TA0002\n"
	    "    technique_id: T1059\n"
	    "    confidence: 0.5\n");
	add_rule("OA", rule_oa);

	ck_assert_int_eq(assign(), 1);
	ck_assert_int_eq(nreports, 1);
	ck_assert_str_eq(reports[0], "mem/PR.yaml:1: rule PR: rejected by "
	    "plugin probe: match.reject is set");
	ck_assert_ptr_null(rule("PR")->owner);
	ck_assert_int_eq(rule("PR")->prepared, 0);
	ck_assert_ptr_null(rule("PR")->pub.prepared);
	/* the others were prepared (the probe hands back a pointer) */
	ck_assert_ptr_eq(rule("PA")->owner, p);
	ck_assert_int_eq(rule("PA")->prepared, 1);
	ck_assert_ptr_nonnull(rule("PA")->pub.prepared);
	ck_assert_ptr_eq(rule("PK")->owner, p);
	/* a plugin without rule_prepare takes the rule as it is */
	ck_assert_ptr_eq(rule("OA")->owner, plugin("other"));
	ck_assert_int_eq(rule("OA")->prepared, 1);
	ck_assert_ptr_null(rule("OA")->pub.prepared);
	ck_assert_uint_eq(p->nrules, 2);
	/* a rejected rule never reaches handle() */
	ck_assert_str_eq(listed("command"), "PA,PK");

	registry_release_rules(&reg);
	ck_assert_ptr_null(rule("PA")->owner);
	ck_assert_ptr_null(rule("PA")->pub.prepared);
	ck_assert_int_eq(rule("PA")->prepared, 0);
	ck_assert_uint_eq(p->nrules, 0);
	ck_assert_uint_eq(p->nby_kind, 0);
}
END_TEST

static Suite *
hostapi_suite(void)
{
	Suite *s = suite_create("hostapi");
	TCase *tc;

	tc = tcase_create("emit");
	tcase_add_checked_fixture(tc, setup_std, teardown);
	tcase_add_test(tc, test_emit_tag_fields);
	tcase_add_test(tc, test_emit_empty_sub_is_null);
	tcase_add_test(tc, test_emit_confidence_clamped);
	tcase_add_test(tc, test_emit_all_in_order);
	tcase_add_test(tc, test_emit_evidence_round_trip);
	tcase_add_test(tc, test_emit_evidence_changes);
	tcase_add_test(tc, test_emit_builders);
	tcase_add_test(tc, test_emit_identity_only);
	tcase_add_test(tc, test_emit_bad);
	tcase_add_test(tc, test_emit_after_swap);
	suite_add_tcase(s, tc);

	tc = tcase_create("rule_state");
	tcase_add_checked_fixture(tc, setup_std, teardown);
	tcase_add_test(tc, test_rule_disabled);
	tcase_add_test(tc, test_rule_clipped);
	tcase_add_test(tc, test_rule_expired);
	tcase_add_test(tc, test_rules_for_kind_and_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("dispatch");
	tcase_add_checked_fixture(tc, setup_std, teardown);
	tcase_add_test(tc, test_error_drops_own_tags_only);
	tcase_add_test(tc, test_efatal_disables);
	tcase_add_test(tc, test_unrouted);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup_std, teardown);
	tcase_add_test(tc, test_config_getters);
	suite_add_tcase(s, tc);

	/* these build their own registry */
	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup_base, teardown);
	tcase_add_test(tc, test_plugins_in_load_order);
	tcase_add_test(tc, test_config_absent_group);
	tcase_add_test(tc, test_rule_owner);
	tcase_add_test(tc, test_rule_owner_without_generic);
	tcase_add_test(tc, test_assign_routes_rules);
	tcase_add_test(tc, test_assign_reports_rejection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(hostapi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
