/*
 * The default rule pack (conf/rules/TD*.yaml): it loads cleanly, every rule
 * follows the pack's conventions, every ATT&CK id exists in the reference
 * bundle with a tactic the technique really belongs to, and every rule's
 * own `examples` behave as documented when run through the real
 * rule_engine plugin via the host's loader and pipeline:
 *
 *   examples.match    each must fire the rule (every one of its emits);
 *   examples.no_match each must not fire it.
 *
 * A short list of everyday admin commands must also never earn a tag of
 * confidence 0.5 or more from any rule of the pack.
 *
 * The ATT&CK bundle is read at run time from $TTPD_SHARED_DIR/attack; it
 * is never copied into the repository.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "testutil.h"

#define ERRLEN 1024
#define MIN_RULES 40
/* Distinct Linux-platform (sub-)technique ids the engine rules must emit. */
#define MIN_LINUX_TECHNIQUES 120
#define MIN_EXAMPLES 3
#define ATTACK_BUNDLE "attack/enterprise-attack-18.1-core.json"
/* Failures listed in one assertion message; all go to stderr. */
#define MAX_LISTED 12

/* ------------------------------------------------------------------ */
/* Failure collection: report every broken rule, not just the first.  */

struct failures {
	size_t n;
	char listed[MAX_LISTED * 256];
};

static void
failure(struct failures *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
failure(struct failures *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "rulepack: %s\n", line);
	if (f->n++ < MAX_LISTED) {
		used = strlen(f->listed);
		snprintf(f->listed + used, sizeof f->listed - used, "\n  %.250s",
		    line);
	}
}

static void
assert_no_failures(const struct failures *f, const char *what)
{
	ck_assert_msg(f->n == 0, "%zu %s:%s%s", f->n, what, f->listed,
	    f->n > MAX_LISTED ? "\n  ... (all of them on stderr)" : "");
}

static void
collect_problem(void *ud, const char *msg)
{
	failure(ud, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* The pack                                                            */

static const char *
pack_dir(void)
{
	static char dir[PATH_MAX];

	snprintf(dir, sizeof dir, "%s/conf/rules", tu_env("TTPD_SRCDIR"));
	return dir;
}

static void
load_pack(struct ruleset *rs, struct failures *f)
{
	const char *dirs[1];

	dirs[0] = pack_dir();
	ruleset_init(rs);
	rules_load_dirs(dirs, 1, rs, collect_problem, f);
}

static int
is_snake_case(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return 0;
	return 1;
}

/* "TD" followed by exactly four digits. */
static int
is_pack_id(const char *s)
{
	size_t i;

	if (strncmp(s, "TD", 2) != 0 || strlen(s) != 6)
		return 0;
	for (i = 2; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static const char *
match_string(const struct rule *r, const char *key)
{
	return jv_string(jv_object_get(r->pub.match, key));
}

/* The evidence_fields the pack's conventions prescribe for a rule. */
static int
evidence_ok(const struct rule *r, const char *field)
{
	static const char *const command[] = { "command_text", NULL };
	static const char *const ua[] = { "user_agent", "raw_url", NULL };
	static const char *const url[] = { "raw_url", "headers", NULL };
	const char *const *want;
	size_t i;

	if (strcmp(r->pub.applies_to[0], "command") == 0)
		want = command;
	else if (strcmp(field, "user_agent") == 0)
		want = ua;
	else
		want = url;
	for (i = 0; want[i] != NULL; i++)
		if (i >= r->pub.n_evidence_fields ||
		    strcmp(r->pub.evidence_fields[i], want[i]) != 0)
			return 0;
	return i == r->pub.n_evidence_fields;
}

/* Lifter rules (match.kind "lifter:...") are evaluated by their lifter,
 * not the rule engine: no pattern, field or examples conventions. */
static int
is_lifter_rule(const struct rule *r)
{
	return r->pub.kind != NULL && strncmp(r->pub.kind, "lifter:", 7) == 0;
}

static void
check_emits(const struct rule *r, struct failures *f)
{
	const char *id = r->pub.rule_id;
	size_t i;

	if (r->pub.n_emits == 0)
		failure(f, "%s: no emits", id);
	for (i = 0; i < r->pub.n_emits; i++) {
		const ttpd_emit *e = r->pub.emits[i];
		const char *sub = e->sub_technique_id;
		size_t tl = strlen(e->technique_id);

		if (e->confidence < TAG_CONFIDENCE_FLOOR || e->confidence > 1.0)
			failure(f, "%s: emit %zu confidence %g outside [%g, 1]",
			    id, i, e->confidence, TAG_CONFIDENCE_FLOOR);
		if (sub != NULL && (strncmp(sub, e->technique_id, tl) != 0 ||
		    sub[tl] != '.'))
			failure(f, "%s: emit %zu: %s is not a sub-technique of "
			    "%s", id, i, sub, e->technique_id);
	}
}

/* The file-name prefix of a tactic: its ATT&CK short name, snake_case. */
static const char *
tactic_prefix(const char *tactic)
{
	static const struct {
		const char *id, *prefix;
	} tactics[] = {
		{ "TA0043", "reconnaissance" },
		{ "TA0042", "resource_development" },
		{ "TA0001", "initial_access" },
		{ "TA0002", "execution" },
		{ "TA0003", "persistence" },
		{ "TA0004", "privilege_escalation" },
		{ "TA0005", "defense_evasion" },
		{ "TA0006", "credential_access" },
		{ "TA0007", "discovery" },
		{ "TA0008", "lateral_movement" },
		{ "TA0009", "collection" },
		{ "TA0011", "command_and_control" },
		{ "TA0010", "exfiltration" },
		{ "TA0040", "impact" },
	};
	size_t i;

	for (i = 0; i < sizeof tactics / sizeof tactics[0]; i++)
		if (strcmp(tactic, tactics[i].id) == 0)
			return tactics[i].prefix;
	return NULL;
}

/*
 * Engine rules live in <tactic>_<rule_id>.yaml, the tactic being the one
 * of the first emit, so a directory listing groups them by tactic; lifter
 * rules keep <rule_id>.yaml (their id block already names the lifter).
 */
static void
check_file_name(const struct rule *r, struct failures *f)
{
	const char *id = r->pub.rule_id, *prefix = NULL;
	char want_file[96];

	if (is_lifter_rule(r))
		snprintf(want_file, sizeof want_file, "%s.yaml", id);
	else {
		if (r->pub.n_emits > 0)
			prefix = tactic_prefix(r->pub.emits[0]->tactic);
		if (prefix == NULL) {
			failure(f, "%s: first emit has no known tactic", id);
			return;
		}
		snprintf(want_file, sizeof want_file, "%s_%s.yaml", prefix,
		    id);
	}
	if (strcmp(base_name(r->pub.path), want_file) != 0)
		failure(f, "%s: file name is not %s", r->pub.path, want_file);
}

static void
check_conventions(const struct rule *r, struct failures *f)
{
	const char *id = r->pub.rule_id, *field, *kind;

	if (!is_pack_id(id))
		failure(f, "%s: rule_id %s is not TDnnnn", r->pub.path, id);
	check_file_name(r, f);
	if (r->pub.rule_version < 1)
		failure(f, "%s: rule_version %lld, want 1 or more", id,
		    (long long)r->pub.rule_version);
	if (r->pub.name == NULL || !is_snake_case(r->pub.name))
		failure(f, "%s: name is not snake_case", id);
	if (r->description == NULL || strlen(r->description) < 40)
		failure(f, "%s: description missing or too short", id);
	if (is_lifter_rule(r)) {
		check_emits(r, f);
		return;
	}
	if (r->pub.kind != NULL)
		failure(f, "%s: match.kind set; the pack is for rule_engine", id);
	if (match_string(r, "pattern") == NULL)
		failure(f, "%s: no match.pattern", id);
	if (r->pub.n_applies_to != 1) {
		failure(f, "%s: applies_to must name one source kind", id);
		return;
	}
	kind = r->pub.applies_to[0];
	field = match_string(r, "field");
	if (field == NULL)
		failure(f, "%s: no match.field", id);
	else if (strcmp(kind, "command") == 0 ?
	    strcmp(field, "command_text") != 0 :
	    strcmp(kind, "http_request") != 0 ||
	    (strcmp(field, "raw_url") != 0 && strcmp(field, "user_agent") != 0))
		failure(f, "%s: applies_to %s with match.field %s", id, kind,
		    field);
	else if (!evidence_ok(r, field))
		failure(f, "%s: evidence_fields do not follow the convention", id);
	check_emits(r, f);
}

START_TEST(test_pack_loads_and_follows_conventions)
{
	struct failures f = { 0 };
	struct ruleset rs;
	size_t i;

	load_pack(&rs, &f);
	assert_no_failures(&f, "load problems");
	ck_assert_msg(rs.n >= MIN_RULES, "only %zu rules in %s", rs.n,
	    pack_dir());
	for (i = 0; i < rs.n; i++)
		check_conventions(rs.v[i], &f);
	assert_no_failures(&f, "convention problems");
	ruleset_free(&rs);
}
END_TEST

/* ------------------------------------------------------------------ */
/* ATT&CK ids                                                          */

/* The "mitre-attack" external_id of a STIX object, or NULL. */
static const char *
attack_id(const ttpd_value *obj)
{
	const ttpd_value *refs = jv_object_get(obj, "external_references");
	size_t i;

	for (i = 0; i < jv_array_size(refs); i++) {
		const ttpd_value *ref = jv_array_get(refs, i);
		const char *src = jv_string(jv_object_get(ref, "source_name"));

		if (src != NULL && strcmp(src, "mitre-attack") == 0)
			return jv_string(jv_object_get(ref, "external_id"));
	}
	return NULL;
}

static int
is_type(const ttpd_value *obj, const char *type)
{
	const char *t = jv_string(jv_object_get(obj, "type"));

	return t != NULL && strcmp(t, type) == 0;
}

static const ttpd_value *
find_object(const ttpd_value *objects, const char *type, const char *id)
{
	size_t i;

	for (i = 0; i < jv_array_size(objects); i++) {
		const ttpd_value *o = jv_array_get(objects, i);
		const char *oid;

		if (is_type(o, type) && (oid = attack_id(o)) != NULL &&
		    strcmp(oid, id) == 0)
			return o;
	}
	return NULL;
}

static int
flag_set(const ttpd_value *obj, const char *key)
{
	int b = 0;

	return jv_get_bool(jv_object_get(obj, key), &b) == TTPD_OK && b;
}

static int
has_phase(const ttpd_value *technique, const char *phase)
{
	const ttpd_value *phases =
	    jv_object_get(technique, "kill_chain_phases");
	size_t i;

	for (i = 0; i < jv_array_size(phases); i++) {
		const char *p = jv_string(jv_object_get(
		    jv_array_get(phases, i), "phase_name"));

		if (p != NULL && strcmp(p, phase) == 0)
			return 1;
	}
	return 0;
}

static void
check_emit_ids(const ttpd_value *objects, const char *rule_id,
    const ttpd_emit *e, struct failures *f)
{
	const char *leaf_id = e->sub_technique_id != NULL ?
	    e->sub_technique_id : e->technique_id;
	const ttpd_value *tech, *leaf, *tactic;
	const char *phase;

	tech = find_object(objects, "attack-pattern", e->technique_id);
	leaf = find_object(objects, "attack-pattern", leaf_id);
	tactic = find_object(objects, "x-mitre-tactic", e->tactic);
	if (tech == NULL || leaf == NULL) {
		failure(f, "%s: %s is not in the ATT&CK bundle", rule_id,
		    tech == NULL ? e->technique_id : leaf_id);
		return;
	}
	if (flag_set(tech, "revoked") || flag_set(tech, "x_mitre_deprecated") ||
	    flag_set(leaf, "revoked") || flag_set(leaf, "x_mitre_deprecated"))
		failure(f, "%s: %s is revoked or deprecated", rule_id, leaf_id);
	if (tactic == NULL) {
		failure(f, "%s: tactic %s is not in the ATT&CK bundle", rule_id,
		    e->tactic);
		return;
	}
	phase = jv_string(jv_object_get(tactic, "x_mitre_shortname"));
	if (phase == NULL || !has_phase(leaf, phase))
		failure(f, "%s: %s is not a %s (%s) technique", rule_id,
		    leaf_id, e->tactic, phase != NULL ? phase : "?");
}

/* Does the ATT&CK object list "Linux" among its platforms? */
static int
is_linux_technique(const ttpd_value *obj)
{
	const ttpd_value *platforms = jv_object_get(obj, "x_mitre_platforms");
	size_t i;

	for (i = 0; i < jv_array_size(platforms); i++) {
		const char *p = jv_string(jv_array_get(platforms, i));

		if (p != NULL && strcmp(p, "Linux") == 0)
			return 1;
	}
	return 0;
}

static int
has_string(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

START_TEST(test_attack_ids_exist_with_their_tactics)
{
	struct failures f = { 0 };
	struct ruleset rs;
	char path[PATH_MAX], err[ERRLEN];
	ttpd_value *bundle;
	const ttpd_value *objects;
	size_t len, i, k, nlinux = 0;
	char *text, **linux_ids;

	snprintf(path, sizeof path, "%s/%s", tu_env("TTPD_SHARED_DIR"),
	    ATTACK_BUNDLE);
	text = tu_read_file(path, &len);
	ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
	bundle = jv_parse(text, len, err, sizeof err);
	ck_assert_msg(bundle != NULL, "%s: %s", path, err);
	free(text);
	objects = jv_object_get(bundle, "objects");
	ck_assert_msg(jv_array_size(objects) > 0, "%s: no objects", path);

	load_pack(&rs, &f);
	assert_no_failures(&f, "load problems");
	for (i = 0; i < rs.n; i++)
		for (k = 0; k < rs.v[i]->pub.n_emits; k++)
			check_emit_ids(objects, rs.v[i]->pub.rule_id,
			    rs.v[i]->pub.emits[k], &f);
	assert_no_failures(&f, "ATT&CK problems");

	/* coverage: distinct Linux (sub-)techniques of the engine rules */
	linux_ids = calloc(rs.n * 4 + 1, sizeof *linux_ids);
	ck_assert(linux_ids != NULL);
	for (i = 0; i < rs.n; i++) {
		if (is_lifter_rule(rs.v[i]))
			continue;
		for (k = 0; k < rs.v[i]->pub.n_emits; k++) {
			const ttpd_emit *e = rs.v[i]->pub.emits[k];
			const char *leaf = e->sub_technique_id != NULL ?
			    e->sub_technique_id : e->technique_id;

			if (nlinux < rs.n * 4 &&
			    !has_string(linux_ids, nlinux, leaf) &&
			    is_linux_technique(find_object(objects,
			    "attack-pattern", leaf)))
				linux_ids[nlinux++] = (char *)leaf;
		}
	}
	fprintf(stderr, "rulepack: %zu distinct Linux-platform (sub-)technique "
	    "ids\n", nlinux);
	ck_assert_msg(nlinux >= MIN_LINUX_TECHNIQUES, "only %zu distinct "
	    "Linux-platform (sub-)technique ids; want %d", nlinux,
	    MIN_LINUX_TECHNIQUES);
	free(linux_ids);
	ruleset_free(&rs);
	jv_decref(bundle);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Examples                                                            */

/*
 * The loader drops keys it does not know, `examples` included, and libyaml
 * belongs to host/rules.c alone.  To read the examples with exactly the
 * loader's YAML semantics, the rule file is indented under the `match` key
 * of a minimal wrapper rule: the wrapper's match value is then the whole
 * original document.
 */
static const char wrapper_head[] =
    "rule_id: examples_wrapper\n"
    "rule_version: 1\n"
    "name: examples_wrapper\n"
    "applies_to: [command]\n"
    "emits: [{tactic: TA0002, technique_id: T1059, confidence: 0.5}]\n"
    "match:\n";

/* The whole rule document as a value (new reference), or NULL. */
static ttpd_value *
rule_document(const char *path, struct failures *f)
{
	char err[ERRLEN];
	char *text, *doc;
	size_t len, i, n;
	struct rule *wrapper;
	ttpd_value *v;

	if ((text = tu_read_file(path, &len)) == NULL) {
		failure(f, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* worst case: every byte a newline, each gaining 4 spaces */
	doc = malloc(sizeof wrapper_head + 4 + len * 5 + 2);
	ck_assert(doc != NULL);
	n = strlen(strcpy(doc, wrapper_head));
	memcpy(doc + n, "    ", 4);
	n += 4;
	for (i = 0; i < len; i++) {
		doc[n++] = text[i];
		if (text[i] == '\n' && i + 1 < len) {
			memcpy(doc + n, "    ", 4);
			n += 4;
		}
	}
	doc[n] = '\0';
	wrapper = rules_parse_buffer(path, doc, n, err, sizeof err);
	free(doc);
	free(text);
	if (wrapper == NULL) {
		failure(f, "%s (read as a wrapped document): %s", path, err);
		return NULL;
	}
	v = (ttpd_value *)wrapper->pub.match;
	jv_incref(v);
	rule_free(wrapper);
	return v;
}

/* examples.<key> of a rule: an array of at least MIN_EXAMPLES non-empty
 * strings, or NULL (failure recorded). */
static const ttpd_value *
example_list(const ttpd_value *doc, const char *rule_id, const char *key,
    struct failures *f)
{
	const ttpd_value *examples = jv_object_get(doc, "examples");
	const ttpd_value *list = jv_object_get(examples, key);
	const char *s;
	size_t i;

	if (jv_type(examples) != TTPD_VT_OBJECT) {
		failure(f, "%s: no examples mapping", rule_id);
		return NULL;
	}
	if (jv_type(list) != TTPD_VT_ARRAY ||
	    jv_array_size(list) < MIN_EXAMPLES) {
		failure(f, "%s: examples.%s must list at least %d strings",
		    rule_id, key, MIN_EXAMPLES);
		return NULL;
	}
	for (i = 0; i < jv_array_size(list); i++)
		if ((s = jv_string(jv_array_get(list, i))) == NULL ||
		    *s == '\0') {
			failure(f, "%s: examples.%s[%zu] is not a non-empty "
			    "string", rule_id, key, i);
			return NULL;
		}
	return list;
}

/* Tagging harness: the real rule_engine plugin behind the host. */
struct harness {
	char *tmpdir;
	struct registry reg;
	struct ruleset rules;
	struct pipeline pl;
	unsigned long seq;
};

/* Copy the built plugin into a private directory so the loader's
 * permission checks see modes we chose, whatever the build umask was. */
static void
install_plugin(const char *dir)
{
	char src[PATH_MAX], dst[PATH_MAX];
	size_t len;
	char *bytes;
	int fd;

	snprintf(src, sizeof src, "%s/plugins/.libs/rule_engine.so",
	    tu_env("TTPD_BUILDDIR"));
	snprintf(dst, sizeof dst, "%s/rule_engine.so", dir);
	bytes = tu_read_file(src, &len);
	ck_assert_msg(bytes != NULL, "%s: %s (is the plugin built?)", src,
	    strerror(errno));
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", dst, strerror(errno));
	ck_assert(write(fd, bytes, len) == (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, 0755), 0);
	ck_assert_int_eq(close(fd), 0);
	free(bytes);
}

/* jit, prefilter: the plugin's settings of those names.  Both matchers
 * must agree on the pack (the plugin falls back to the interpreter when the
 * JIT stack runs out), and the prefilter must never change a result. */
static void
harness_init_with(struct harness *h, int jit, int prefilter)
{
	struct failures f = { 0 };
	struct plugin_conf pc;
	char err[ERRLEN];
	size_t i;

	memset(h, 0, sizeof *h);
	log_set_level(TTPD_LOG_WARNING);
	h->tmpdir = tu_mkdtemp();
	ck_assert_int_eq(chmod(h->tmpdir, 0755), 0);
	install_plugin(h->tmpdir);
	registry_init(&h->reg);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"rule_engine";
	pc.origin = (char *)"check_rulepack:1";
	pc.config = jv_new_object();
	ck_assert_int_eq(jv_object_set_new(pc.config, "jit",
	    jv_new_bool(jit)), TTPD_OK);
	ck_assert_int_eq(jv_object_set_new(pc.config, "prefilter",
	    jv_new_bool(prefilter)), TTPD_OK);
	ck_assert_msg(loader_load(&h->reg, h->tmpdir, &pc, err,
	    sizeof err) == 0, "%s", err);
	jv_decref(pc.config);
	registry_finish(&h->reg);

	load_pack(&h->rules, &f);
	assert_no_failures(&f, "load problems");
	ck_assert_int_eq(registry_assign_rules(&h->reg, &h->rules,
	    collect_problem, &f), 0);
	assert_no_failures(&f, "rules the plugin refused");
	for (i = 0; i < h->rules.n; i++)
		ck_assert_msg(is_lifter_rule(h->rules.v[i]) ||
		    (h->rules.v[i]->owner != NULL &&
		    h->rules.v[i]->prepared), "%s not prepared by rule_engine",
		    h->rules.v[i]->pub.rule_id);

	pipeline_init(&h->pl, &h->reg, NULL);
	h->pl.batch_size = SIZE_MAX; /* never flush: we read the batch */
}

static void
harness_init(struct harness *h, int jit)
{
	harness_init_with(h, jit, 1);
}

static void
harness_free(struct harness *h)
{
	pipeline_free(&h->pl);
	registry_free(&h->reg);
	ruleset_free(&h->rules);
	tu_rmtree(h->tmpdir);
	free(h->tmpdir);
}

/*
 * Tag one event whose payload is {field: text}; the tags are left in
 * h->pl.batch until the next call.
 */
static void
harness_tag(struct harness *h, const char *kind, const char *field,
    const char *text)
{
	char source_id[32];
	ttpd_value *payload;
	ttpd_event ev;

	tag_list_truncate(&h->pl.batch, 0);
	payload = jv_new_object();
	ck_assert(payload != NULL);
	ck_assert_int_eq(jv_object_set_new(payload, field,
	    jv_new_string(text, strlen(text))), TTPD_OK);
	snprintf(source_id, sizeof source_id, "rulepack-%lu", ++h->seq);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = kind;
	ev.source_id = source_id;
	ev.attacker_uuid = "rulepack-check";
	ev.payload = payload;
	ck_assert_int_eq(pipeline_event(&h->pl, &ev), 0);
	ck_assert_uint_eq(h->pl.st.plugin_errors, 0);
	jv_decref(payload);
}

/* How many of the last event's tags came from rule_id. */
static size_t
tags_from(const struct harness *h, const char *rule_id)
{
	size_t i, n = 0;

	for (i = 0; i < h->pl.batch.n; i++)
		if (strcmp(h->pl.batch.v[i].rule_id, rule_id) == 0)
			n++;
	return n;
}

static void
run_examples(struct harness *h, const struct rule *r, const ttpd_value *list,
    int should_fire, struct failures *f)
{
	const char *kind = r->pub.applies_to[0];
	const char *field = match_string(r, "field");
	size_t i, got;

	for (i = 0; i < jv_array_size(list); i++) {
		const char *text = jv_string(jv_array_get(list, i));

		harness_tag(h, kind, field, text);
		got = tags_from(h, r->pub.rule_id);
		if (should_fire && got != r->pub.n_emits)
			failure(f, "%s: match example gave %zu of %zu tags: %s",
			    r->pub.rule_id, got, r->pub.n_emits, text);
		else if (!should_fire && got != 0)
			failure(f, "%s: no_match example fired: %s",
			    r->pub.rule_id, text);
	}
}

/* _i: 1 with the JIT, 0 with the interpreter. */
START_TEST(test_examples_fire_as_documented)
{
	struct failures f = { 0 };
	struct harness h;
	size_t i, checked = 0, engine_rules = 0;

	harness_init(&h, _i);
	for (i = 0; i < h.rules.n; i++) {
		const struct rule *r = h.rules.v[i];
		const ttpd_value *yes, *no;
		ttpd_value *doc;

		if (is_lifter_rule(r))
			continue;
		engine_rules++;
		if ((doc = rule_document(r->pub.path, &f)) == NULL)
			continue;
		yes = example_list(doc, r->pub.rule_id, "match", &f);
		no = example_list(doc, r->pub.rule_id, "no_match", &f);
		if (yes != NULL && no != NULL) {
			run_examples(&h, r, yes, 1, &f);
			run_examples(&h, r, no, 0, &f);
			checked += jv_array_size(yes) + jv_array_size(no);
		}
		jv_decref(doc);
	}
	assert_no_failures(&f, "example problems");
	ck_assert_uint_ge(checked, engine_rules * 2 * MIN_EXAMPLES);
	harness_free(&h);
}
END_TEST

/* The wrapper really reads what the loader ignores: a rule without
 * examples, with too few, or with an empty one, is caught. */
START_TEST(test_missing_examples_are_reported)
{
	static const char head[] =
	    "rule_id: TD9999\nrule_version: 1\nname: x\n"
	    "applies_to: [command]\n"
	    "match: {field: command_text, pattern: x}\n"
	    "emits: [{tactic: TA0002, technique_id: T1059, confidence: 0.5}]\n";
	static const struct {
		const char *tail;
		int match_ok, no_match_ok;
	} cases[] = {
		{ "", 0, 0 },
		{ "examples: {match: [a, b, c], no_match: [d, e]}\n", 1, 0 },
		{ "examples:\n  match: [a, b, '']\n  no_match: [d, e, f]\n",
		    0, 1 },
		{ "examples: {match: [a, b, c], no_match: [d, e, f]}\n", 1, 1 },
	};
	char *dir = tu_mkdtemp(), path[PATH_MAX], text[1024];
	size_t i;

	snprintf(path, sizeof path, "%s/TD9999.yaml", dir);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct failures f = { 0 };
		ttpd_value *doc;
		int yes, no;

		snprintf(text, sizeof text, "%s%s", head, cases[i].tail);
		tu_write_file(path, text);
		doc = rule_document(path, &f);
		ck_assert_msg(doc != NULL, "case %zu:%s", i, f.listed);
		yes = example_list(doc, "TD9999", "match", &f) != NULL;
		no = example_list(doc, "TD9999", "no_match", &f) != NULL;
		ck_assert_int_eq(yes, cases[i].match_ok);
		ck_assert_int_eq(no, cases[i].no_match_ok);
		ck_assert_uint_eq(f.n, (size_t)(!yes + !no));
		jv_decref(doc);
	}
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Precision on everyday admin work                                    */

static const char *const admin_commands[] = {
	"curl https://example.com/api",
	"curl -s https://api.example.com/v1/items | jq .",
	"curl -X POST -d '{\"a\":1}' https://api.example.com/v1/x",
	"curl -s -o /dev/null -w '%{http_code}' https://example.com/health",
	"cat /etc/hostname",
	"find . -name '*.c'",
	"find ./src -name '*.h' -exec grep -l TODO {} +",
	"ls -la /var/www/html",
	"git pull origin main",
	"systemctl restart nginx",
	"sudo apt-get install -y nginx",
	"docker compose up -d",
	"vim ~/.bashrc",
	"tail -f /var/log/syslog",
	"grep -r TODO src/",
	"make -j2",
	"ssh-copy-id deploy@10.0.0.5",
	"scp backup.tar.gz admin@10.0.0.2:/srv/backups/",
	"kubectl get pods -A",
	"history | grep ssh",
	"cat ~/.ssh/id_rsa.pub",
	"df -h",
	"free -m",
	"journalctl -u nginx --since today",
	"tar czf backup.tar.gz /etc/nginx",
	"python3 manage.py migrate",
	"npm install",
	"chmod +x deploy.sh",
	"chmod 644 /etc/nginx/nginx.conf",
	"crontab -l",
	"ls -l /etc/shadow",
	"redis-cli info memory",
	"openssl s_client -connect example.com:443 </dev/null",
	"wget --spider https://example.com",
	"cp config.yaml /etc/app/",
	"chown -R www-data:www-data /var/www/html",
	"echo hello world",
};

START_TEST(test_admin_commands_stay_below_half)
{
	struct failures f = { 0 };
	struct harness h;
	size_t i, k;

	harness_init(&h, 1);
	for (i = 0; i < sizeof admin_commands / sizeof admin_commands[0];
	    i++) {
		harness_tag(&h, "command", "command_text", admin_commands[i]);
		for (k = 0; k < h.pl.batch.n; k++)
			if (h.pl.batch.v[k].confidence >= 0.5)
				failure(&f, "%s (%g) on admin command: %s",
				    h.pl.batch.v[k].rule_id,
				    h.pl.batch.v[k].confidence,
				    admin_commands[i]);
	}
	assert_no_failures(&f, "confident tags on admin commands");
	harness_free(&h);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Precision on the benign corpus                                      */

#define BENIGN_CORPUS "tests/data/benign-commands.txt"
#define MIN_BENIGN_LINES 600
/* At most this many percent of the corpus may earn a confident tag. */
#define MAX_BENIGN_PERCENT 2.0
#define CONFIDENT 0.5

/* The corpus's command lines (comments and blank lines dropped); the
 * strings point into *text, which the caller frees. */
static char **
benign_lines(char **text, size_t *n)
{
	char path[PATH_MAX], *line, *save = NULL;
	char **v = NULL;
	size_t cap = 0;

	snprintf(path, sizeof path, "%s/%s", tu_env("TTPD_SRCDIR"),
	    BENIGN_CORPUS);
	*text = tu_read_file(path, NULL);
	ck_assert_msg(*text != NULL, "%s: %s", path, strerror(errno));
	*n = 0;
	for (line = strtok_r(*text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (*line == '#' || *line == '\0')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(v, cap * sizeof *v);
			ck_assert(v != NULL);
		}
		v[(*n)++] = line;
	}
	return v;
}

START_TEST(test_benign_corpus_precision)
{
	struct harness h;
	char *text, **lines;
	size_t n, i, k, firing = 0;
	double percent;

	lines = benign_lines(&text, &n);
	ck_assert_msg(n >= MIN_BENIGN_LINES, "%s: only %zu command lines",
	    BENIGN_CORPUS, n);
	harness_init(&h, 1);
	for (i = 0; i < n; i++) {
		int listed = 0;

		harness_tag(&h, "command", "command_text", lines[i]);
		for (k = 0; k < h.pl.batch.n; k++) {
			const struct tag *t = &h.pl.batch.v[k];

			if (t->confidence < CONFIDENT)
				continue;
			if (!listed)
				firing++;
			fprintf(stderr, "benign corpus: %s %s %s (%g): %s\n",
			    listed ? " " : "*", t->rule_id,
			    t->sub_technique_id != NULL ?
			    t->sub_technique_id : t->technique_id,
			    t->confidence, lines[i]);
			listed = 1;
		}
	}
	percent = 100.0 * (double)firing / (double)n;
	fprintf(stderr, "benign corpus: %zu of %zu lines (%.2f%%) got a tag "
	    "of confidence >= %g\n", firing, n, percent, CONFIDENT);
	ck_assert_msg(percent <= MAX_BENIGN_PERCENT, "%zu of %zu benign "
	    "lines (%.2f%%) got a confident tag; at most %.1f%% allowed (the "
	    "lines are listed on stderr)", firing, n, percent,
	    MAX_BENIGN_PERCENT);
	harness_free(&h);
	free(lines);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The prefilter never changes a result                                */

/* Every string of the pack's examples (all rules, all fields), then the
 * benign corpus, run with the prefilter on and off: the same tags, in the
 * same order, with the same uuids and confidences. */
struct subject {
	const char *kind, *field, *text;
};

static void
collect_subjects(const struct harness *h, ttpd_value **docs, size_t *ndocs,
    struct subject **out, size_t *nout, char **corpus_text)
{
	struct failures f = { 0 };
	struct subject *v = NULL;
	size_t n = 0, cap = 0, i, k, nlines;
	char **lines;
	static const char *const keys[] = { "match", "no_match" };

	*ndocs = 0;
	for (i = 0; i < h->rules.n; i++) {
		const struct rule *r = h->rules.v[i];
		const ttpd_value *examples;
		ttpd_value *doc;
		size_t j;

		if (is_lifter_rule(r))
			continue;
		doc = rule_document(r->pub.path, &f);
		ck_assert(doc != NULL);
		docs[(*ndocs)++] = doc;
		examples = jv_object_get(doc, "examples");
		for (k = 0; k < 2; k++) {
			const ttpd_value *list = jv_object_get(examples,
			    keys[k]);

			for (j = 0; j < jv_array_size(list); j++) {
				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					v = realloc(v, cap * sizeof *v);
					ck_assert(v != NULL);
				}
				v[n].kind = r->pub.applies_to[0];
				v[n].field = match_string(r, "field");
				v[n].text = jv_string(jv_array_get(list, j));
				n++;
			}
		}
	}
	lines = benign_lines(corpus_text, &nlines);
	for (i = 0; i < nlines; i++) {
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof *v);
			ck_assert(v != NULL);
		}
		v[n].kind = "command";
		v[n].field = "command_text";
		v[n].text = lines[i];
		n++;
	}
	free(lines);
	*out = v;
	*nout = n;
}

/*
 * Tag text in that field with the prefilter on and off: the same tags
 * (rule, uuid, confidence), in the same order.  Their number.
 */
static size_t
tag_both_alike(struct harness *on, struct harness *off, const char *kind,
    const char *field, const char *text)
{
	size_t t;

	harness_tag(on, kind, field, text);
	harness_tag(off, kind, field, text);
	ck_assert_msg(on->pl.batch.n == off->pl.batch.n, "%s %s: %zu tags "
	    "with the prefilter, %zu without: %s", kind, field,
	    on->pl.batch.n, off->pl.batch.n, text);
	for (t = 0; t < on->pl.batch.n; t++) {
		ck_assert_str_eq(on->pl.batch.v[t].rule_id,
		    off->pl.batch.v[t].rule_id);
		ck_assert_str_eq(on->pl.batch.v[t].uuid,
		    off->pl.batch.v[t].uuid);
		ck_assert(on->pl.batch.v[t].confidence ==
		    off->pl.batch.v[t].confidence);
	}
	return on->pl.batch.n;
}

static void
free_subjects(ttpd_value **docs, size_t ndocs, struct subject *subjects,
    char *corpus_text)
{
	size_t i;

	for (i = 0; i < ndocs; i++)
		jv_decref(docs[i]);
	free(docs);
	free(subjects);
	free(corpus_text);
}

START_TEST(test_prefilter_exact_on_pack_and_corpus)
{
	struct harness on, off;
	struct subject *subjects;
	ttpd_value **docs;
	char *corpus_text;
	size_t nsubjects, ndocs, i, k, tags = 0;
	/* one subject per field kind the engine rules read */
	static const char *const kinds[][2] = {
		{ "command", "command_text" },
		{ "http_request", "raw_url" },
		{ "http_request", "user_agent" },
	};

	harness_init_with(&on, 1, 1);
	harness_init_with(&off, 1, 0);
	docs = calloc(on.rules.n, sizeof *docs);
	ck_assert(docs != NULL);
	collect_subjects(&on, docs, &ndocs, &subjects, &nsubjects,
	    &corpus_text);
	ck_assert_uint_gt(nsubjects, 2000);
	for (i = 0; i < nsubjects; i++) {
		/* every subject in every field, so that rules of other
		 * fields also see text that is not theirs */
		for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			tags += tag_both_alike(&on, &off, kinds[k][0],
			    kinds[k][1], subjects[i].text);
	}
	fprintf(stderr, "prefilter on/off: %zu subjects x %zu fields, %zu "
	    "tags, identical\n", nsubjects, sizeof kinds / sizeof kinds[0],
	    tags);
	ck_assert_uint_gt(tags, 1000);
	free_subjects(docs, ndocs, subjects, corpus_text);
	harness_free(&on);
	harness_free(&off);
}
END_TEST

/*
 * The same on long lines, where the prefilter's start offsets and offset
 * limits cut the most: subjects joined in random numbers with the
 * separators of attacker sessions (deterministic).
 */
START_TEST(test_prefilter_exact_on_joined_lines)
{
	static const char *const separators[] = {
		"; ", " && ", "\n", " | ", " ", ";", " \xc3\xa9 ",
	};
	struct harness on, off;
	struct subject *subjects;
	ttpd_value **docs;
	char *corpus_text;
	size_t nsubjects, ndocs, tags = 0;
	uint64_t rng = 0x2545f4914f6cdd1du;
	int line;

	harness_init_with(&on, 1, 1);
	harness_init_with(&off, 1, 0);
	docs = calloc(on.rules.n, sizeof *docs);
	ck_assert(docs != NULL);
	collect_subjects(&on, docs, &ndocs, &subjects, &nsubjects,
	    &corpus_text);
	for (line = 0; line < 600; line++) {
		char text[8192];
		size_t len = 0;
		int parts, k;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		parts = 2 + (int)(rng % 23);
		text[0] = '\0';
		for (k = 0; k < parts; k++) {
			const char *sep, *sub;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			sub = subjects[rng % nsubjects].text;
			sep = separators[(rng >> 32) % (sizeof separators /
			    sizeof separators[0])];
			if (len + strlen(sep) + strlen(sub) + 1 > sizeof text)
				break;
			if (k > 0) {
				strcpy(text + len, sep);
				len += strlen(sep);
			}
			strcpy(text + len, sub);
			len += strlen(sub);
		}
		tags += tag_both_alike(&on, &off, "command", "command_text",
		    text);
	}
	ck_assert_uint_gt(tags, 3000);
	free_subjects(docs, ndocs, subjects, corpus_text);
	harness_free(&on);
	harness_free(&off);
}
END_TEST

static Suite *
rulepack_suite(void)
{
	Suite *s = suite_create("rulepack");
	TCase *tc = tcase_create("pack");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_pack_loads_and_follows_conventions);
	tcase_add_test(tc, test_attack_ids_exist_with_their_tactics);
	tcase_add_loop_test(tc, test_examples_fire_as_documented, 0, 2);
	tcase_add_test(tc, test_missing_examples_are_reported);
	tcase_add_test(tc, test_admin_commands_stay_below_half);
	tcase_add_test(tc, test_benign_corpus_precision);
	tcase_add_test(tc, test_prefilter_exact_on_pack_and_corpus);
	tcase_add_test(tc, test_prefilter_exact_on_joined_lines);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rulepack_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
