/* One-plugin fixture for the lifter suites (lifter_fx.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "lifter_fx.h"
#include "testutil.h"

static void
lfx_report(void *ud, const char *msg)
{
	struct lfx *fx = ud;
	size_t len = strlen(fx->reports);

	snprintf(fx->reports + len, sizeof fx->reports - len, "%s\n", msg);
	fx->nreports++;
}

void
lfx_open(struct lfx *fx, const char *name, const char *config_json)
{
	struct plugin_conf pc;
	ttpd_value *config = NULL;
	char err[1024], *dir;

	memset(fx, 0, sizeof *fx);
	registry_init(&fx->reg);
	ruleset_init(&fx->rules);
	tag_list_init(&fx->tags);
	if (config_json != NULL) {
		config = jv_parse(config_json, strlen(config_json), err,
		    sizeof err);
		ck_assert_msg(config != NULL, "%s", err);
	}
	ck_assert(asprintf(&dir, "%s/plugins/.libs",
	    tu_env("TTPD_BUILDDIR")) > 0);
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)name;
	pc.config = config;
	pc.origin = (char *)"lifter_fx:1";
	ck_assert_msg(loader_load(&fx->reg, dir, &pc, err, sizeof err) == 0,
	    "%s", err);
	registry_finish(&fx->reg);
	fx->p = registry_find(&fx->reg, name);
	ck_assert(fx->p != NULL);
	if (config != NULL)
		jv_decref(config);
	free(dir);
}

void
lfx_close(struct lfx *fx)
{
	tag_list_free(&fx->tags);
	registry_free(&fx->reg);        /* releases the rules first */
	ruleset_free(&fx->rules);
}

struct rule *
lfx_add_yaml(struct lfx *fx, const char *yaml)
{
	char err[512];
	struct rule *r;

	r = rules_parse_buffer("inline.yaml", yaml, strlen(yaml), err,
	    sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ruleset_push(&fx->rules, r);
	return r;
}

void
lfx_add_decnet(struct lfx *fx, int lo, int hi)
{
	char path[1024], err[512];
	int i;

	for (i = lo; i <= hi; i++) {
		struct rule *r;

		snprintf(path, sizeof path, "%s/reference/decnet/rules/"
		    "R%04d.yaml", tu_env("TTPD_SHARED_DIR"), i);
		r = rules_parse_file(path, err, sizeof err);
		ck_assert_msg(r != NULL, "%s", err);
		ruleset_push(&fx->rules, r);
	}
}

struct rule *
lfx_rule(struct lfx *fx, const char *rule_id)
{
	struct rule *r = ruleset_find(&fx->rules, rule_id);

	ck_assert_msg(r != NULL, "no rule %s", rule_id);
	return r;
}

int
lfx_assign(struct lfx *fx)
{
	return registry_assign_rules(&fx->reg, &fx->rules, lfx_report, fx);
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
lfx_run(struct lfx *fx, const char *kind, const char *attacker_uuid,
    const char *identity_uuid, const char *payload_json)
{
	struct tag_settings ts = { "v15.1" };
	ttpd_value *payload;
	ttpd_event ev;
	char err[256];
	int rc;

	payload = jv_parse(payload_json, strlen(payload_json), err,
	    sizeof err);
	ck_assert_msg(payload != NULL, "%s: %s", payload_json, err);
	tag_list_free(&fx->tags);
	tag_list_init(&fx->tags);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = kind;
	ev.source_id = "lfx-1";
	ev.attacker_uuid = attacker_uuid;
	ev.identity_uuid = identity_uuid;
	ev.session_id = "sess-lfx";
	ev.payload = payload;
	rc = hostapi_run(fx->p, &ev, &ts, now_ns(), &fx->tags);
	jv_decref(payload);
	return rc;
}

const struct tag *
lfx_tag(const struct lfx *fx, const char *rule_id)
{
	size_t i;

	for (i = 0; i < fx->tags.n; i++)
		if (strcmp(fx->tags.v[i].rule_id, rule_id) == 0)
			return &fx->tags.v[i];
	return NULL;
}

size_t
lfx_count(const struct lfx *fx, const char *rule_id)
{
	size_t i, n = 0;

	for (i = 0; i < fx->tags.n; i++)
		if (strcmp(fx->tags.v[i].rule_id, rule_id) == 0)
			n++;
	return n;
}

void
lfx_assert_evidence(const struct lfx *fx, const char *rule_id,
    const char *evidence_json)
{
	const struct tag *t = lfx_tag(fx, rule_id);
	ttpd_value *want;
	char *dump;

	ck_assert_msg(t != NULL, "%s did not fire", rule_id);
	want = jv_parse(evidence_json, strlen(evidence_json), NULL, 0);
	ck_assert(want != NULL);
	dump = jv_dump(want);
	ck_assert_msg(strcmp(dump, t->evidence) == 0,
	    "%s evidence: want %s got %s", rule_id, dump, t->evidence);
	free(dump);
	jv_decref(want);
}

int
lfx_evidence_is(const struct tag *t, const char *want)
{
	char err[256];
	ttpd_value *a = jv_parse(t->evidence, strlen(t->evidence), err,
	    sizeof err), *b = jv_parse(want, strlen(want), err, sizeof err);
	int eq;

	ck_assert_msg(a != NULL && b != NULL, "bad evidence JSON: %s", err);
	eq = jv_equal(a, b);
	if (!eq)
		fprintf(stderr, "evidence %s, want %s\n", t->evidence, want);
	jv_decref(a);
	jv_decref(b);
	return eq;
}

void
lfx_add_pack(struct lfx *fx, const char *rule_id)
{
	char path[1024], err[512];
	struct rule *r;

	snprintf(path, sizeof path, "%s/conf/rules/%s.yaml",
	    tu_env("TTPD_SRCDIR"), rule_id);
	r = rules_parse_file(path, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ruleset_push(&fx->rules, r);
}

/* The tags of rule_id in the last run, in order. */
static size_t
tags_of(const struct lfx *fx, const char *rule_id, const struct tag **out,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < fx->tags.n; i++)
		if (strcmp(fx->tags.v[i].rule_id, rule_id) == 0 && n < max)
			out[n++] = &fx->tags.v[i];
	return n;
}

static int
str_eq_null(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

size_t
lfx_assert_pack_agrees(const char *name, int lo, int hi,
    const char *const *decnet, const char *const *pack)
{
	struct tag_settings ts = { "v15.1" };
	const struct tag *a[8], *b[8];
	char path[1024], *text, *line, *save = NULL;
	struct lfx fx;
	size_t i, k, na, nb, fired = 0, lineno = 0;

	lfx_open(&fx, name, NULL);
	lfx_add_decnet(&fx, lo, hi);
	for (i = 0; pack[i] != NULL; i++)
		lfx_add_pack(&fx, pack[i]);
	ck_assert_int_eq(lfx_assign(&fx), 0);
	for (i = 0; pack[i] != NULL; i++)
		ck_assert_msg(lfx_rule(&fx, pack[i])->owner == fx.p,
		    "%s is not owned by %s", pack[i], name);

	snprintf(path, sizeof path, "%s/golden/events.jsonl",
	    tu_env("TTPD_SHARED_DIR"));
	text = tu_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lineno++) {
		ttpd_value *e = jv_parse(line, strlen(line), NULL, 0);
		const char *kind;
		ttpd_event ev;

		ck_assert(e != NULL);
		kind = jv_string(jv_object_get(e, "source_kind"));
		if (kind == NULL || jv_type(jv_object_get(e, "payload")) !=
		    TTPD_VT_OBJECT) {
			jv_decref(e);
			continue;
		}
		memset(&ev, 0, sizeof ev);
		ev.size = sizeof ev;
		ev.source_kind = kind;
		ev.source_id = jv_string(jv_object_get(e, "source_id"));
		ev.attacker_uuid = jv_string(jv_object_get(e,
		    "attacker_uuid"));
		ev.identity_uuid = jv_string(jv_object_get(e,
		    "identity_uuid"));
		ev.payload = jv_object_get(e, "payload");
		tag_list_free(&fx.tags);
		tag_list_init(&fx.tags);
		ck_assert_int_eq(hostapi_run(fx.p, &ev, &ts, now_ns(),
		    &fx.tags), TTPD_OK);
		for (i = 0; decnet[i] != NULL; i++) {
			na = tags_of(&fx, decnet[i], a, 8);
			nb = tags_of(&fx, pack[i], b, 8);
			ck_assert_msg(na == nb, "event %zu: %s gave %zu tags, "
			    "%s %zu", lineno, decnet[i], na, pack[i], nb);
			fired += na;
			for (k = 0; k < na; k++) {
				ck_assert_str_eq(a[k]->evidence,
				    b[k]->evidence);
				ck_assert_str_eq(a[k]->technique_id,
				    b[k]->technique_id);
				ck_assert(str_eq_null(a[k]->sub_technique_id,
				    b[k]->sub_technique_id));
				ck_assert_str_eq(a[k]->tactic, b[k]->tactic);
				ck_assert(str_eq_null(a[k]->attacker_uuid,
				    b[k]->attacker_uuid));
				ck_assert_double_eq_tol(a[k]->confidence,
				    b[k]->confidence, 1e-12);
			}
		}
		jv_decref(e);
	}
	free(text);
	lfx_close(&fx);
	return fired;
}
