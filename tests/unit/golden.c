/*
 * Golden parity with DECNET (shared/golden/README.md says how
 * expected.jsonl and deviations.jsonl combine): replay the 4,042 golden
 * tagger events through the real ttpd binary with DECNET's own rules and
 * compare every stored tag of a DECNET rule range with what DECNET
 * produces.  Reads the data from $TTPD_SHARED_DIR; nothing is copied.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "golden.h"
#include "testutil.h"

struct tagrec {
	const char *uuid;
	ttpd_value *v;
};

struct tagset {
	struct tagrec *v;
	size_t n, cap;
};

/* The DECNET rule range being compared (R<lo>..R<hi>). */
static int rule_lo, rule_hi;

static int
engine_rule(const char *rule_id)
{
	int n;

	if (rule_id == NULL || strlen(rule_id) != 5 || rule_id[0] != 'R')
		return 0;
	n = atoi(rule_id + 1);
	return n >= rule_lo && n <= rule_hi;
}

static void
set_add(struct tagset *s, ttpd_value *v)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 1024 : s->cap * 2;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		ck_assert(s->v != NULL);
	}
	s->v[s->n].uuid = jv_string(jv_object_get(v, "uuid"));
	ck_assert(s->v[s->n].uuid != NULL);
	s->v[s->n++].v = v;
}

static struct tagrec *
set_find(struct tagset *s, const char *uuid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].v != NULL && strcmp(s->v[i].uuid, uuid) == 0)
			return &s->v[i];
	return NULL;
}

static int
cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct tagrec *)a)->uuid,
	    ((const struct tagrec *)b)->uuid);
}

/* Every JSON object of a JSONL file, passed to fn. */
static void
each_line(const char *path, void (*fn)(void *, ttpd_value *), void *ud)
{
	char *text = tu_read_file(path, NULL), *line, *save = NULL;

	ck_assert_msg(text != NULL, "cannot read %s", path);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char err[256];
		ttpd_value *v = jv_parse(line, strlen(line), err, sizeof err);

		ck_assert_msg(v != NULL, "%s: %s", path, err);
		fn(ud, v);
	}
	free(text);
}

static void
add_expected(void *ud, ttpd_value *v)
{
	if (engine_rule(jv_string(jv_object_get(v, "rule_id"))))
		set_add(ud, v);
	else
		jv_decref(v);
}

/* Copy every member of a patch record except uuid into the tag. */
static int
patch_member(void *target, const char *key, const ttpd_value *val)
{
	if (strcmp(key, "uuid") != 0)
		jv_object_set(target, key, val);
	return 0;
}

/* Apply one deviations.jsonl record, restricted to engine rules. */
static void
apply_deviation(void *ud, ttpd_value *d)
{
	struct tagset *s = ud;
	const ttpd_value *a;
	size_t i;

	a = jv_object_get(d, "drop_uuids");
	for (i = 0; i < jv_array_size(a); i++) {
		struct tagrec *r = set_find(s, jv_string(jv_array_get(a, i)));

		if (r != NULL) {
			jv_decref(r->v);
			r->v = NULL;
		}
	}
	a = jv_object_get(d, "add_tags");
	for (i = 0; i < jv_array_size(a); i++) {
		const ttpd_value *t = jv_array_get(a, i);

		if (engine_rule(jv_string(jv_object_get(t, "rule_id")))) {
			jv_incref(t);
			set_add(s, (ttpd_value *)(uintptr_t)t);
		}
	}
	a = jv_object_get(d, "patch");
	for (i = 0; i < jv_array_size(a); i++) {
		const ttpd_value *p = jv_array_get(a, i);
		struct tagrec *r = set_find(s,
		    jv_string(jv_object_get(p, "uuid")));

		if (r != NULL)
			jv_object_foreach(p, patch_member, r->v);
	}
	jv_decref(d);
}

static void
compact(struct tagset *s)
{
	size_t i, o = 0;

	for (i = 0; i < s->n; i++) {
		double c = 1.0;

		if (s->v[i].v == NULL)
			continue;
		jv_get_number(jv_object_get(s->v[i].v, "confidence"), &c);
		if (c < 0.3) {
			jv_decref(s->v[i].v);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	qsort(s->v, s->n, sizeof *s->v, cmp_rec);
}

static void
set_free(struct tagset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		jv_decref(s->v[i].v);
	free(s->v);
}

static const char *const compared[] = {
	"source_kind", "source_id", "rule_id", "rule_version", "tactic",
	"technique_id", "sub_technique_id", "evidence", "mitre_url",
	"attacker_uuid", "identity_uuid", "session_id", "decky_id", NULL
};

/* "" when equal, else a description of the first difference. */
static void
diff_tag(const ttpd_value *want, const ttpd_value *got, char *out,
    size_t outlen)
{
	const char *const *k;
	double a = -1, b = -2;

	out[0] = '\0';
	for (k = compared; *k != NULL; k++) {
		const ttpd_value *x = jv_object_get(want, *k);
		const ttpd_value *y = jv_object_get(got, *k);

		if (!jv_equal(x, y)) {
			char *xs = jv_dump(x), *ys = jv_dump(y);

			snprintf(out, outlen, "%s: want %.300s got %.300s", *k,
			    xs != NULL ? xs : "(absent)",
			    ys != NULL ? ys : "(absent)");
			free(xs);
			free(ys);
			return;
		}
	}
	jv_get_number(jv_object_get(want, "confidence"), &a);
	jv_get_number(jv_object_get(got, "confidence"), &b);
	if (fabs(a - b) > 1e-12)
		snprintf(out, outlen, "confidence: want %.17g got %.17g", a, b);
}

void
golden_run(const char *load_entries, int lo, int hi,
    struct golden_result *res)
{
	const char *shared = tu_env("TTPD_SHARED_DIR");
	char *dir = tu_mkdtemp(), conf[1024], path[1024], events[1024],
	    tagsout[1024], *text, *out = NULL, *err = NULL;
	struct tagset want = { 0 }, got = { 0 };
	size_t i = 0, j = 0;
	int rc;

	memset(res, 0, sizeof *res);
	rule_lo = lo;
	rule_hi = hi;
	snprintf(events, sizeof events, "%s/golden/events.jsonl", shared);
	snprintf(tagsout, sizeof tagsout, "%s/tags.jsonl", dir);
	snprintf(conf, sizeof conf, "%s/ttpd.conf", dir);
	ck_assert(asprintf(&text,
	    "store: { path = \"%s/ttpd.db\"; };\n"
	    "rules: { dirs = [ \"%s/reference/decnet/rules\" ]; };\n"
	    "plugins: { dir = \"%s/plugins/.libs\"; load = ( %s ); };\n"
	    "log: { level = \"warning\"; };\n", dir, shared,
	    tu_env("TTPD_BUILDDIR"), load_entries) > 0);
	tu_write_file(conf, text);
	free(text);
	{
		const char *args[] = { "-c", conf, "--replay", events,
			"--tags-out", tagsout, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "ttpd exited %d: %s", rc, err);
	ck_assert_msg(strncmp(out, "events=", 7) == 0, "summary: %s", out);

	snprintf(path, sizeof path, "%s/golden/expected.jsonl", shared);
	each_line(path, add_expected, &want);
	snprintf(path, sizeof path, "%s/golden/deviations.jsonl", shared);
	each_line(path, apply_deviation, &want);
	compact(&want);
	each_line(tagsout, add_expected, &got);
	compact(&got);

	while (i < want.n || j < got.n) {
		int c = i == want.n ? 1 : j == got.n ? -1 :
		    strcmp(want.v[i].uuid, got.v[j].uuid);
		char d[1024], *dump;

		if (c < 0) {
			if (res->missing++ < 10) {
				dump = jv_dump(want.v[i].v);
				fprintf(stderr, "missing %s %s\n",
				    want.v[i].uuid, dump);
				free(dump);
			}
			i++;
		} else if (c > 0) {
			if (res->extra++ < 10) {
				dump = jv_dump(got.v[j].v);
				fprintf(stderr, "extra %s %s\n", got.v[j].uuid,
				    dump);
				free(dump);
			}
			j++;
		} else {
			diff_tag(want.v[i].v, got.v[j].v, d, sizeof d);
			if (d[0] != '\0' && res->differ++ < 10)
				fprintf(stderr, "differs %s: %s\n",
				    want.v[i].uuid, d);
			i++;
			j++;
		}
	}
	res->expected = want.n;
	res->stored = got.n;
	fprintf(stderr, "golden R%04d-R%04d: %zu expected, %zu stored, %zu "
	    "missing, %zu extra, %zu differ\n", lo, hi, want.n, got.n,
	    res->missing, res->extra, res->differ);

	/* replaying the same events again inserts nothing */
	free(out);
	free(err);
	{
		const char *args[] = { "-c", conf, "--replay", events, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "second replay exited %d: %s", rc, err);
	res->second_run_inserted = strstr(out, " inserted=0 ") == NULL;

	set_free(&want);
	set_free(&got);
	free(out);
	free(err);
	tu_rmtree(dir);
	free(dir);
}
