/*
 * host/attack.c: the ATT&CK bundle index, the rule check and the start-up
 * path through the real ttpd binary.  The reduced real bundle (ATT&CK
 * 18.1) is read from $TTPD_SHARED_DIR/attack; revoked, deprecated and
 * unknown cases use ids that really are so in it, or mutated copies
 * written to a temp dir.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attack.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "rules.h"
#include "testutil.h"

#define CORE "attack/enterprise-attack-18.1-core.json"

static char bundle[1024];

static void
setup(void)
{
	snprintf(bundle, sizeof bundle, "%s/" CORE, tu_env("TTPD_SHARED_DIR"));
	log_init("check_attack", LOG_TARGET_STDERR, TTPD_LOG_ERR);
}

static struct attack *
load_core(void)
{
	char err[1024];
	struct attack *a = attack_load(bundle, NULL, err, sizeof err);

	ck_assert_msg(a != NULL, "%s", err);
	return a;
}

/* ---------------------------------------------------------------- index */

START_TEST(test_index)
{
	struct attack *a = load_core();
	char *s;

	ck_assert_str_eq(attack_version(a), "18.1");
	ck_assert_uint_eq(attack_ntactics(a), 14);
	ck_assert_uint_gt(attack_ntechniques(a), 600);
	ck_assert_int_eq(attack_lookup(a, "T1110"), ATTACK_OK);
	ck_assert_int_eq(attack_lookup(a, "T1110.001"), ATTACK_OK);
	ck_assert_int_eq(attack_lookup(a, "TA0006"), ATTACK_OK);
	/* revoked and deprecated in the real 18.1 bundle */
	ck_assert_int_eq(attack_lookup(a, "T1066"), ATTACK_REVOKED);
	ck_assert_int_eq(attack_lookup(a, "T1153"), ATTACK_DEPRECATED);
	ck_assert_int_eq(attack_lookup(a, "T9999"), ATTACK_UNKNOWN);
	ck_assert_int_eq(attack_lookup(a, "TA9999"), ATTACK_UNKNOWN);
	ck_assert_int_eq(attack_lookup(a, ""), ATTACK_UNKNOWN);
	ck_assert_str_eq(attack_status_name(ATTACK_REVOKED), "revoked");

	/* DECNET's names (decnet-host.md 7, item 43) */
	s = attack_name(a, "T1110.001");
	ck_assert_str_eq(s, "Brute Force: Password Guessing");
	free(s);
	s = attack_name(a, "T1595.002");
	ck_assert_str_eq(s, "Active Scanning: Vulnerability Scanning");
	free(s);
	s = attack_name(a, "T1110");
	ck_assert_str_eq(s, "Brute Force");
	free(s);
	s = attack_name(a, "TA0006");
	ck_assert_str_eq(s, "Credential Access");
	free(s);
	ck_assert_ptr_null(attack_name(a, "T9999"));

	ck_assert_int_eq(attack_has_tactic(a, "T1110", "TA0006"), 1);
	ck_assert_int_eq(attack_has_tactic(a, "T1110", "TA0002"), 0);
	ck_assert_int_eq(attack_has_tactic(a, "T1059.004", "TA0002"), 1);
	s = attack_tactics_of(a, "T1029");
	ck_assert_str_eq(s, "TA0010");
	free(s);
	attack_free(a);
}
END_TEST

/* ----------------------------------------------------- load and pinning */

static const char tiny[] =
	"{\"type\":\"bundle\",\"id\":\"bundle--x\",\"objects\":["
	"{\"type\":\"x-mitre-collection\",\"x_mitre_version\":\"9.9\"},"
	"{\"type\":\"x-mitre-tactic\",\"name\":\"Execution\","
	"\"x_mitre_shortname\":\"execution\",\"external_references\":"
	"[{\"source_name\":\"mitre-attack\",\"external_id\":\"TA0002\"}]},"
	"{\"type\":\"attack-pattern\",\"name\":\"Command and Scripting "
	"Interpreter\",\"kill_chain_phases\":[{\"kill_chain_name\":"
	"\"mitre-attack\",\"phase_name\":\"execution\"}],"
	"\"external_references\":[{\"source_name\":\"mitre-attack\","
	"\"external_id\":\"T1059\"}]}]}";

/* sha256sum of tiny plus N spaces: lengths 55, 56, 63 and 64 modulo 64
 * cover every padding case. */
static const struct {
	int pad;
	const char *sha;
} tiny_sha[] = {
	{ 20, "f1e43cc090a7d985a1c8a1c46f9ae05b8f50013783f638586b7f6c1c1e756bb3" },
	{ 21, "7583e1bd66c31ec617cc50244be7fe01339d432e8957b3bde7ad4bfd871150d3" },
	{ 28, "a7c108d3c3705111d796cda1bb80a5b1b8c00913676a93967b54433cac8e566c" },
	{ 29, "7f83c508c3f0483ff8de70a326e7217b9ea542c430a4ef2a5779fa8a51c5d93d" },
};

static char *
write_tiny(const char *dir, const char *name, int pad)
{
	char path[1024], *text;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert(asprintf(&text, "%s%*s", tiny, pad, "") > 0);
	tu_write_file(path, text);
	free(text);
	return strdup(path);
}

START_TEST(test_sha256_pin)
{
	char *dir = tu_mkdtemp(), *path, err[1024], upper[65];
	struct attack *a;
	size_t i, k;

	ck_assert_uint_eq(strlen(tiny), 483);
	for (i = 0; i < sizeof tiny_sha / sizeof tiny_sha[0]; i++) {
		path = write_tiny(dir, "b.json", tiny_sha[i].pad);
		a = attack_load(path, tiny_sha[i].sha, err, sizeof err);
		ck_assert_msg(a != NULL, "pad %d: %s", tiny_sha[i].pad, err);
		ck_assert_str_eq(attack_version(a), "9.9");
		attack_free(a);
		/* the pin is case-insensitive */
		for (k = 0; k < 64; k++)
			upper[k] = (char)toupper((unsigned char)
			    tiny_sha[i].sha[k]);
		upper[64] = '\0';
		a = attack_load(path, upper, err, sizeof err);
		ck_assert_msg(a != NULL, "%s", err);
		attack_free(a);
		free(path);
	}
	/* one byte more: refused, naming both digests */
	path = write_tiny(dir, "b.json", 30);
	ck_assert_ptr_null(attack_load(path, tiny_sha[3].sha, err,
	    sizeof err));
	ck_assert_msg(strstr(err, "attack.bundle ") == err &&
	    strstr(err, "but attack.sha256 pins 7f83c508c3f0483ff8de70a326e7217"
	    "b9ea542c430a4ef2a5779fa8a51c5d93d: refusing it") != NULL, "%s",
	    err);
	/* a malformed pin */
	ck_assert_ptr_null(attack_load(path, "abc", err, sizeof err));
	ck_assert_str_eq(err, "attack.sha256 \"abc\": expected 64 hex digits "
	    "(sha256sum of the bundle)");
	free(path);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Our SHA-256 agrees with sha256sum(1) on the 2.8 MB core bundle. */
START_TEST(test_sha256_of_core_bundle)
{
	char cmd[1200], digest[128] = "", err[1024];
	struct attack *a;
	FILE *p;

	snprintf(cmd, sizeof cmd, "sha256sum '%s'", bundle);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(digest, sizeof digest, p));
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_msg(strlen(digest) > 64 && digest[64] == ' ', "%s", digest);
	digest[64] = '\0';
	a = attack_load(bundle, digest, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	attack_free(a);
	digest[0] = digest[0] == '0' ? '1' : '0';
	ck_assert_ptr_null(attack_load(bundle, digest, err, sizeof err));
}
END_TEST

START_TEST(test_load_errors)
{
	char *dir = tu_mkdtemp(), path[1024], err[1024], want[2048];
	struct attack *a;

	snprintf(path, sizeof path, "%s/missing.json", dir);
	ck_assert_ptr_null(attack_load(path, NULL, err, sizeof err));
	snprintf(want, sizeof want, "attack.bundle %s: cannot open: No such "
	    "file or directory", path);
	ck_assert_str_eq(err, want);

	snprintf(path, sizeof path, "%s/bad.json", dir);
	tu_write_file(path, "{\"type\": \"bundle\", ");
	ck_assert_ptr_null(attack_load(path, NULL, err, sizeof err));
	ck_assert_msg(strstr(err, "not JSON") != NULL, "%s", err);

	tu_write_file(path, "{\"type\": \"indicator\", \"objects\": []}");
	ck_assert_ptr_null(attack_load(path, NULL, err, sizeof err));
	snprintf(want, sizeof want, "attack.bundle %s: not a STIX bundle (no "
	    "\"type\": \"bundle\" with an \"objects\" array)", path);
	ck_assert_str_eq(err, want);

	tu_write_file(path, "{\"type\": \"bundle\", \"objects\": [1, \"x\", "
	    "{\"type\": \"attack-pattern\"}]}");
	ck_assert_ptr_null(attack_load(path, NULL, err, sizeof err));
	ck_assert_msg(strstr(err, "no ATT&CK techniques or tactics") != NULL,
	    "%s", err);

	/* a directory is not a bundle */
	ck_assert_ptr_null(attack_load(dir, NULL, err, sizeof err));
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);

	/* version from the file name when there is no collection object */
	snprintf(path, sizeof path, "%s/enterprise-attack-17.0.json", dir);
	tu_write_file(path, "{\"type\":\"bundle\",\"objects\":[{\"type\":"
	    "\"x-mitre-tactic\",\"name\":\"E\",\"external_references\":[{"
	    "\"source_name\":\"mitre-attack\",\"external_id\":\"TA0002\"}]},"
	    "{\"type\":\"attack-pattern\",\"name\":\"C\",\"external_references"
	    "\":[{\"source_name\":\"mitre-attack\",\"external_id\":\"T1059\"}]}"
	    "]}");
	a = attack_load(path, NULL, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_str_eq(attack_version(a), "17.0");
	attack_free(a);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------ rule checking */

struct msgs {
	char *v[64];
	size_t n;
};

static void
collect(void *ud, const char *msg)
{
	struct msgs *m = ud;

	if (m->n < 64)
		m->v[m->n++] = strdup(msg);
}

static void
msgs_free(struct msgs *m)
{
	while (m->n > 0)
		free(m->v[--m->n]);
}

static int
check_dir(struct attack *a, const char *dir, struct msgs *m)
{
	const char *dirs[] = { dir };
	struct ruleset rs;
	int n;

	ruleset_init(&rs);
	ck_assert_int_eq(rules_load_dirs(dirs, 1, &rs, collect, m), 0);
	ck_assert_uint_gt(rs.n, 0);
	n = attack_check_rules(a, &rs, collect, m);
	ruleset_free(&rs);
	return n;
}

START_TEST(test_packs_accepted)
{
	struct attack *a = load_core();
	struct msgs m = { .n = 0 };
	char dir[1024];

	snprintf(dir, sizeof dir, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	ck_assert_int_eq(check_dir(a, dir, &m), 0);
	ck_assert_msg(m.n == 0, "%s", m.v[0]);
	snprintf(dir, sizeof dir, "%s/reference/decnet/rules",
	    tu_env("TTPD_SHARED_DIR"));
	ck_assert_int_eq(check_dir(a, dir, &m), 0);
	ck_assert_msg(m.n == 0, "%s", m.v[0]);
	attack_free(a);
}
END_TEST

/* A rule file with one emits entry; sub may be NULL. */
static char *
write_rule(const char *dir, const char *id, const char *tactic,
    const char *tech, const char *sub)
{
	char path[1024], *text;

	snprintf(path, sizeof path, "%s/%s.yaml", dir, id);
	ck_assert(asprintf(&text,
	    "rule_id: %s\nrule_version: 1\nname: t\napplies_to: [command]\n"
	    "match: {field: command_text, pattern: x}\n"
	    "emits:\n  - tactic: %s\n    technique_id: %s\n%s%s%s"
	    "    confidence: 0.9\n", id, tactic, tech,
	    sub != NULL ? "    sub_technique_id: " : "",
	    sub != NULL ? sub : "", sub != NULL ? "\n" : "") > 0);
	tu_write_file(path, text);
	free(text);
	return strdup(path);
}

/* One bad rule alone in a directory: exactly one message, equal to
 * "<file>:1: rule X1: <what> (<bundle>)" or ending with what. */
static void
expect_one(struct attack *a, const char *tactic, const char *tech,
    const char *sub, const char *what, int with_bundle)
{
	char *dir = tu_mkdtemp(), *path, want[2048];
	struct msgs m = { .n = 0 };

	path = write_rule(dir, "X1", tactic, tech, sub);
	ck_assert_int_eq(check_dir(a, dir, &m), 1);
	ck_assert_uint_eq(m.n, 1);
	if (with_bundle)
		snprintf(want, sizeof want, "%s:1: rule X1: %s (%s)", path,
		    what, bundle);
	else
		snprintf(want, sizeof want, "%s:1: rule X1: %s", path, what);
	ck_assert_str_eq(m.v[0], want);
	msgs_free(&m);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

START_TEST(test_rule_problems)
{
	struct attack *a = load_core();

	expect_one(a, "TA0006", "T9999", NULL,
	    "technique T9999 is unknown to ATT&CK v18.1", 1);
	expect_one(a, "TA0005", "T1066", NULL,
	    "technique T1066 is revoked in ATT&CK v18.1", 1);
	expect_one(a, "TA0002", "T1153", NULL,
	    "technique T1153 is deprecated in ATT&CK v18.1", 1);
	expect_one(a, "TA0099", "T1110", NULL,
	    "tactic TA0099 is unknown to ATT&CK v18.1", 1);
	expect_one(a, "TA0006", "T1110", "T1110.999",
	    "sub-technique T1110.999 is unknown to ATT&CK v18.1", 1);
	/* T1053.004 Launchd is deprecated in 18.1 */
	expect_one(a, "TA0003", "T1053", "T1053.004",
	    "sub-technique T1053.004 is deprecated in ATT&CK v18.1", 1);
	expect_one(a, "TA0006", "T1059", "T1059.004",
	    "sub-technique T1059.004 is not under tactic TA0006 (ATT&CK lists "
	    "it under TA0002)", 0);
	attack_free(a);
}
END_TEST

START_TEST(test_plain_technique_other_tactic_is_a_warning)
{
	struct attack *a = load_core();
	char *dir = tu_mkdtemp(), *path;
	struct msgs m = { .n = 0 };

	/* DECNET's R0031 pairs T1029 with TA0011: accepted, warned */
	path = write_rule(dir, "X2", "TA0011", "T1029", NULL);
	ck_assert_int_eq(check_dir(a, dir, &m), 0);
	ck_assert_uint_eq(m.n, 0);
	free(path);
	tu_rmtree(dir);
	free(dir);
	attack_free(a);
}
END_TEST

/* A copy of the core bundle with one object's flag set. */
static void
write_mutated(const char *path, const char *id, const char *flag)
{
	char err[256], *buf, *text;
	size_t len, i;
	ttpd_value *root;
	const ttpd_value *objects, *refs, *r;
	int found = 0;

	buf = tu_read_file(bundle, &len);
	ck_assert_ptr_nonnull(buf);
	root = jv_parse(buf, len, err, sizeof err);
	free(buf);
	ck_assert_msg(root != NULL, "%s", err);
	objects = jv_object_get(root, "objects");
	for (i = 0; i < jv_array_size(objects); i++) {
		ttpd_value *o = (ttpd_value *)(uintptr_t)
		    jv_array_get(objects, i);

		refs = jv_object_get(o, "external_references");
		r = jv_array_get(refs, 0);
		if (jv_string(jv_object_get(r, "external_id")) != NULL &&
		    strcmp(jv_string(jv_object_get(r, "external_id")), id) ==
		    0) {
			jv_object_set_new(o, flag, jv_new_bool(1));
			found = 1;
		}
	}
	ck_assert_msg(found, "%s not in the bundle", id);
	text = jv_dump(root);
	jv_decref(root);
	tu_write_file(path, text);
	free(text);
}

START_TEST(test_mutated_bundles)
{
	char *dir = tu_mkdtemp(), path[1024], rules[1024], err[1024];
	struct msgs m = { .n = 0 };
	struct attack *a;
	size_t i;
	int n;

	snprintf(rules, sizeof rules, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	snprintf(path, sizeof path, "%s/enterprise-attack-18.1.json", dir);

	/* T1110 revoked: every rule of the pack using it is named */
	write_mutated(path, "T1110", "revoked");
	a = attack_load(path, NULL, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	n = check_dir(a, rules, &m);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < m.n; i++)
		ck_assert_msg(strstr(m.v[i], ": technique T1110 is revoked in "
		    "ATT&CK v18.1 (") != NULL && strstr(m.v[i], "conf/rules/") !=
		    NULL, "%s", m.v[i]);
	msgs_free(&m);
	attack_free(a);

	/* tactic TA0006 deprecated */
	write_mutated(path, "TA0006", "x_mitre_deprecated");
	a = attack_load(path, NULL, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_int_eq(attack_lookup(a, "TA0006"), ATTACK_DEPRECATED);
	ck_assert_int_gt(check_dir(a, rules, &m), 0);
	ck_assert_msg(strstr(m.v[0], ": tactic TA0006 is deprecated in ATT&CK "
	    "v18.1 (") != NULL, "%s", m.v[0]);
	msgs_free(&m);
	attack_free(a);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ---------------------------------------------------- attack_setup() */

START_TEST(test_setup_release)
{
	struct config cfg;
	struct ruleset rs;
	struct msgs m = { .n = 0 };
	struct attack *kept;

	ruleset_init(&rs);
	memset(&cfg, 0, sizeof cfg);
	cfg.attack_release = strdup("v15.1");
	/* no bundle: nothing checked, DECNET's release */
	ck_assert_int_eq(attack_setup(&cfg, &rs, collect, &m, &kept), 0);
	ck_assert_ptr_null(kept);
	ck_assert_str_eq(cfg.attack_release, "v15.1");
	/* a bundle: its release */
	cfg.attack_bundle = strdup(bundle);
	ck_assert_int_eq(attack_setup(&cfg, &rs, collect, &m, &kept), 0);
	ck_assert_ptr_nonnull(kept);
	attack_free(kept);
	ck_assert_str_eq(cfg.attack_release, "v18.1");
	/* configured: kept */
	free(cfg.attack_release);
	cfg.attack_release = strdup("v19.0");
	cfg.attack_release_set = 1;
	ck_assert_int_eq(attack_setup(&cfg, &rs, collect, &m, NULL), 0);
	ck_assert_str_eq(cfg.attack_release, "v19.0");
	/* a pin that does not match */
	cfg.attack_sha256 = strdup("0000000000000000000000000000000000000000"
	    "000000000000000000000000");
	ck_assert_int_eq(attack_setup(&cfg, &rs, collect, &m, NULL), 1);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_msg(strstr(m.v[0], "refusing it") != NULL, "%s", m.v[0]);
	msgs_free(&m);
	free(cfg.attack_bundle);
	free(cfg.attack_release);
	free(cfg.attack_sha256);
	ruleset_free(&rs);
}
END_TEST

/* ------------------------------------------------- ttpd end to end */

struct env {
	char *dir, *conf, rules[1024];
};

static void
env_init(struct env *e, const char *bundle_path)
{
	char extra[2048];

	e->dir = tu_mkdtemp();
	snprintf(e->rules, sizeof e->rules, "%s/rules", e->dir);
	ck_assert(mkdir(e->rules, 0755) == 0);
	if (bundle_path != NULL)
		snprintf(extra, sizeof extra, "attack: { bundle = \"%s\"; };",
		    bundle_path);
	else
		extra[0] = '\0';
	e->conf = tu_write_conf(e->dir, e->rules, "rule_engine", extra);
}

static void
env_free(struct env *e)
{
	tu_rmtree(e->dir);
	free(e->dir);
	free(e->conf);
}

/* ttpd -t refuses a rule with a bad id: exit 1, the exact line. */
static void
expect_refused(const char *tactic, const char *tech, const char *what)
{
	struct env e;
	char *path, *out, *err, want[2048];
	int rc;

	env_init(&e, bundle);
	path = write_rule(e.rules, "X1", tactic, tech, NULL);
	{
		const char *args[] = { "-t", "-c", e.conf, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_int_eq(rc, 1);
	snprintf(want, sizeof want, "ttpd: err: %s:1: rule X1: %s (%s)\n",
	    path, what, bundle);
	ck_assert_msg(strstr(err, want) != NULL, "want %s in %s", want, err);
	ck_assert_msg(strstr(err, "start-up refused") != NULL, "%s", err);
	free(out);
	free(err);
	free(path);
	env_free(&e);
}

START_TEST(test_ttpd_refuses)
{
	expect_refused("TA0006", "T9999",
	    "technique T9999 is unknown to ATT&CK v18.1");
	expect_refused("TA0005", "T1066",
	    "technique T1066 is revoked in ATT&CK v18.1");
	expect_refused("TA0002", "T1153",
	    "technique T1153 is deprecated in ATT&CK v18.1");
}
END_TEST

START_TEST(test_ttpd_accepts_and_stamps)
{
	struct env e;
	char *path, *out, *err, events[1024], *text;
	char db1[1100], db2[1100], db3[1100];
	int rc;

	/* our pack and DECNET's with every in-tree plugin that owns them */
	env_init(&e, bundle);
	{
		char ov[2048];
		const char *args[] = { "-t", "-c", e.conf, "-o", ov, NULL };

		snprintf(ov, sizeof ov, "rules.dirs=[\"%s/conf/rules\", "
		    "\"%s/reference/decnet/rules\"]", tu_env("TTPD_SRCDIR"),
		    tu_env("TTPD_SHARED_DIR"));
		rc = tu_run_ttpd(args, &out, &err);
	}
	/* the two packs together: only a duplicate id could fail */
	ck_assert_msg(strstr(err, "is unknown to") == NULL &&
	    strstr(err, "revoked in") == NULL &&
	    strstr(err, "deprecated in") == NULL, "%s", err);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	free(out);
	free(err);

	/* a tag carries the bundle's release */
	path = write_rule(e.rules, "X1", "TA0002", "T1059", "T1059.004");
	free(path);
	snprintf(events, sizeof events, "%s/ev.jsonl", e.dir);
	snprintf(db1, sizeof db1, "store.path=\"%s/1.db\"", e.dir);
	snprintf(db2, sizeof db2, "store.path=\"%s/2.db\"", e.dir);
	snprintf(db3, sizeof db3, "store.path=\"%s/3.db\"", e.dir);
	tu_write_file(events, "{\"source_kind\":\"command\",\"source_id\":"
	    "\"c1\",\"attacker_uuid\":\"a1\",\"identity_uuid\":null,"
	    "\"session_id\":null,\"decky_id\":null,\"payload\":"
	    "{\"command_text\":\"x\"}}\n");
	{
		const char *args[] = { "-c", e.conf, "--replay", events,
			"--tags-out", "-", "-o", db1, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_msg(strstr(out, "\"attack_release\":\"v18.1\"") != NULL,
	    "%s", out);
	free(out);
	free(err);
	/* configured release wins */
	{
		const char *args[] = { "-c", e.conf, "--replay", events,
			"--tags-out", "-", "-o", db2,
			"-o", "attack.release=\"v19.1\"", NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_msg(strstr(out, "\"attack_release\":\"v19.1\"") != NULL,
	    "%s", out);
	free(out);
	free(err);
	/* no bundle: DECNET's release, and one notice that ids are
	 * unchecked */
	{
		const char *args[] = { "-c", e.conf, "--replay", events,
			"--tags-out", "-", "-o", db3, "-o", "attack.bundle=\"\"",
			"-o", "log.level=\"notice\"", NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_msg(strstr(out, "\"attack_release\":\"v15.1\"") != NULL,
	    "%s", out);
	text = strstr(err, "no attack.bundle configured: technique and tactic "
	    "ids of the rules are not checked");
	ck_assert_msg(text != NULL, "%s", err);
	ck_assert_ptr_null(strstr(text + 1, "no attack.bundle configured"));
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

START_TEST(test_ttpd_bad_bundle)
{
	struct env e;
	char *out, *err, want[2048], missing[1024];
	int rc;

	env_init(&e, NULL);
	snprintf(missing, sizeof missing, "%s/nope.json", e.dir);
	{
		char ov[1100];
		const char *args[] = { "-t", "-c", e.conf, "-o", ov, NULL };

		snprintf(ov, sizeof ov, "attack.bundle=\"%s\"", missing);
		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_int_eq(rc, 1);
	snprintf(want, sizeof want, "attack.bundle %s: cannot open: No such "
	    "file or directory", missing);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	free(out);
	free(err);
	env_free(&e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("attack");
	TCase *tc = tcase_create("attack");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_index);
	tcase_add_test(tc, test_sha256_pin);
	tcase_add_test(tc, test_sha256_of_core_bundle);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_packs_accepted);
	tcase_add_test(tc, test_rule_problems);
	tcase_add_test(tc, test_plain_technique_other_tactic_is_a_warning);
	tcase_add_test(tc, test_mutated_bundles);
	tcase_add_test(tc, test_setup_release);
	tcase_add_test(tc, test_ttpd_refuses);
	tcase_add_test(tc, test_ttpd_accepts_and_stamps);
	tcase_add_test(tc, test_ttpd_bad_bundle);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
