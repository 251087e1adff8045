/*
 * The rule engine against DECNET: golden parity for R0007-R0029, and the
 * literal prefilter shown to be exact.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "json.h"
#include "testutil.h"

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_golden_rule_engine_parity)
{
	struct golden_result r;

	golden_run("{ name = \"rule_engine\"; }", 7, 29, &r);
	ck_assert_msg(r.expected > 2500, "expected set suspiciously small: "
	    "%zu", r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
}
END_TEST

/* All nine plugins together, as a composite: every DECNET rule. */
START_TEST(test_golden_all_rules_all_plugins)
{
	struct golden_result r;

	golden_run("{ name = \"rule_engine\"; }, { name = \"behavioral\"; }, "
	    "{ name = \"intel\"; }, { name = \"canary\"; }, "
	    "{ name = \"email\"; }, { name = \"identity\"; }, "
	    "{ name = \"credential\"; }, { name = \"http_fingerprint\"; }, "
	    "{ name = \"ipv6_leak\"; }", 1, 59, &r);
	ck_assert_msg(r.expected > 3000, "expected set suspiciously small: "
	    "%zu", r.expected);
	ck_assert_uint_eq(r.missing, 0);
	ck_assert_uint_eq(r.extra, 0);
	ck_assert_uint_eq(r.differ, 0);
	ck_assert_int_eq(r.second_run_inserted, 0);
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
	tcase_add_test(tc, test_golden_all_rules_all_plugins);
	tcase_add_test(tc, test_prefilter_is_exact);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
