/*
 * Golden parity with DECNET's rule engine: replay the 4,042 golden tagger
 * events through the real ttpd binary with DECNET's own rules and compare,
 * for rules R0007-R0029, every stored tag with what DECNET produces
 * (shared/golden/README.md says how expected.jsonl and deviations.jsonl
 * combine).  Reads the data from $TTPD_SHARED_DIR; nothing is copied.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

struct tagrec {
	const char *uuid;
	ttpd_value *v;
};

struct tagset {
	struct tagrec *v;
	size_t n, cap;
};

static int
engine_rule(const char *rule_id)
{
	int n;

	if (rule_id == NULL || strlen(rule_id) != 5 || rule_id[0] != 'R')
		return 0;
	n = atoi(rule_id + 1);
	return n >= 7 && n <= 29;
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
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

START_TEST(test_golden_rule_engine_parity)
{
	const char *shared = tu_env("TTPD_SHARED_DIR");
	char *dir = tu_mkdtemp(), *conf, path[1024], rules[1024],
	    events[1024], tagsout[1024], *out = NULL, *err = NULL;
	struct tagset want = { 0 }, got = { 0 };
	size_t i = 0, j = 0, missing = 0, extra = 0, differ = 0;
	int rc;

	snprintf(rules, sizeof rules, "%s/reference/decnet/rules", shared);
	snprintf(events, sizeof events, "%s/golden/events.jsonl", shared);
	snprintf(tagsout, sizeof tagsout, "%s/tags.jsonl", dir);
	conf = tu_write_conf(dir, rules, "rule_engine", NULL);
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
	ck_assert_msg(want.n > 2500, "expected set suspiciously small: %zu",
	    want.n);

	while (i < want.n || j < got.n) {
		int c = i == want.n ? 1 : j == got.n ? -1 :
		    strcmp(want.v[i].uuid, got.v[j].uuid);
		char d[1024];

		if (c < 0) {
			if (missing++ < 10)
				fprintf(stderr, "missing %s %s\n",
				    want.v[i].uuid,
				    jv_dump(want.v[i].v));
			i++;
		} else if (c > 0) {
			if (extra++ < 10)
				fprintf(stderr, "extra %s %s\n", got.v[j].uuid,
				    jv_dump(got.v[j].v));
			j++;
		} else {
			diff_tag(want.v[i].v, got.v[j].v, d, sizeof d);
			if (d[0] != '\0' && differ++ < 10)
				fprintf(stderr, "differs %s: %s\n",
				    want.v[i].uuid, d);
			i++;
			j++;
		}
	}
	fprintf(stderr, "golden R0007-R0029: %zu expected, %zu stored, %zu "
	    "missing, %zu extra, %zu differ\n", want.n, got.n, missing, extra,
	    differ);
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(extra, 0);
	ck_assert_uint_eq(differ, 0);

	/* replaying the same events again inserts nothing */
	free(out);
	free(err);
	{
		const char *args[] = { "-c", conf, "--replay", events, NULL };

		rc = tu_run_ttpd(args, &out, &err);
	}
	ck_assert_msg(rc == 0, "second replay exited %d: %s", rc, err);
	ck_assert_msg(strstr(out, " inserted=0 ") != NULL, "second replay: %s",
	    out);

	set_free(&want);
	set_free(&got);
	free(out);
	free(err);
	free(conf);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* The uuids of every tag in a --tags-out file, sorted, one per line. */
static char *
uuid_list(const char *path, size_t *count)
{
	char *text = tu_read_file(path, NULL), *line, *save = NULL, *out;
	size_t n = 0, cap = 1024, used = 0, i;
	char **v = malloc(cap * sizeof *v);

	ck_assert(text != NULL && v != NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ttpd_value *t = jv_parse(line, strlen(line), NULL, 0);

		ck_assert(t != NULL);
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[n++] = strdup(jv_string(jv_object_get(t, "uuid")));
		jv_decref(t);
	}
	qsort(v, n, sizeof *v, cmp_str);
	out = malloc(n * 37 + 1);
	for (i = 0; i < n; i++) {
		used += (size_t)sprintf(out + used, "%s\n", v[i]);
		free(v[i]);
	}
	out[used] = '\0';
	free(v);
	free(text);
	*count = n;
	return out;
}

/*
 * The rule engine's literal prefilter only skips regexes that cannot
 * match: over the golden events, with ttpd's own pack and DECNET's rules
 * loaded together, the stored tags are the same with and without it.
 */
START_TEST(test_prefilter_is_exact)
{
	const char *shared = tu_env("TTPD_SHARED_DIR");
	const char *src = tu_env("TTPD_SRCDIR");
	char *dir = tu_mkdtemp(), conf[1024], events[1024], out_on[1024],
	    out_off[1024], *text, *out, *err, *on, *off;
	size_t non, noff;
	int pass, rc;

	snprintf(events, sizeof events, "%s/golden/events.jsonl", shared);
	for (pass = 0; pass < 2; pass++) {
		snprintf(conf, sizeof conf, "%s/ttpd-%d.conf", dir, pass);
		ck_assert(asprintf(&text,
		    "store: { path = \"%s/p%d.db\"; };\n"
		    "rules: { dirs = [ \"%s/conf/rules\", "
		    "\"%s/reference/decnet/rules\" ]; };\n"
		    "plugins: { dir = \"%s/plugins/.libs\"; load = ( { name = "
		    "\"rule_engine\"; config = { prefilter = %s; }; } ); };\n"
		    "log: { level = \"err\"; };\n", dir, pass, src, shared,
		    tu_env("TTPD_BUILDDIR"), pass == 0 ? "true" : "false") > 0);
		tu_write_file(conf, text);
		free(text);
		{
			const char *args[] = { "-c", conf, "--replay", events,
				"--tags-out", pass == 0 ? out_on : out_off,
				NULL };

			snprintf(out_on, sizeof out_on, "%s/on.jsonl", dir);
			snprintf(out_off, sizeof out_off, "%s/off.jsonl", dir);
			rc = tu_run_ttpd(args, &out, &err);
		}
		ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
		free(out);
		free(err);
	}
	on = uuid_list(out_on, &non);
	off = uuid_list(out_off, &noff);
	fprintf(stderr, "prefilter on: %zu tags, off: %zu tags\n", non, noff);
	ck_assert_uint_gt(noff, 3000);
	ck_assert_uint_eq(non, noff);
	ck_assert(strcmp(on, off) == 0);
	free(on);
	free(off);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("parity");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_golden_rule_engine_parity);
	tcase_add_test(tc, test_prefilter_is_exact);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
