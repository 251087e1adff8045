/*
 * ABI compatibility suite: the current SDK header keeps every released
 * field where it was (compile-time and run-time), the version check is
 * right on multi-digit minors and newer-minor plugins, and a lifter
 * compiled against each frozen SDK header loads into this host and works.
 */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "hostapi.h"
#include "json.h"
#include "loader.h"
#include "plugin.h"
#include "rules.h"
#include "tag.h"
#include "ttpd/lifter.h"

#include "abi_table.h"
#include "layout_1_0.h"

/* The same fields measured in this (current-header) translation unit. */
#define FIELD(T, f, off, sz) \
	{ #T, #f, offsetof(T, f), sizeof(((const T *)0)->f) },
static const struct abi_field current[] = {
	ABI_1_0_FIELDS(FIELD)
	{ NULL, NULL, 0, 0 }
};

int abi_asserts_compiled(void);

START_TEST(test_layout_matches_frozen_1_0)
{
	size_t i;

	ck_assert_int_eq(abi_asserts_compiled(), 1);

	for (i = 0; abi_frozen_1_0[i].type != NULL; i++) {
		const struct abi_field *o = &abi_frozen_1_0[i];
		const struct abi_field *c = &current[i];

		ck_assert_ptr_nonnull(c->type);
		ck_assert_str_eq(o->type, c->type);
		ck_assert_str_eq(o->field, c->field);
		ck_assert_msg(o->offset == c->offset && o->size == c->size,
		    "%s.%s: 1.0 has offset %zu size %zu, current header %zu "
		    "%zu", o->type, o->field, o->offset, o->size, c->offset,
		    c->size);
	}
	ck_assert_int_gt((int)i, 60);	/* every struct is in the table */
}
END_TEST

START_TEST(test_descriptor_sizes)
{
	/* the loader's table of descriptor sizes per minor starts at 1.0's */
	ck_assert_uint_eq(loader_descriptor_size_for_minor(0),
	    offsetof(ttpd_lifter, destroy) + sizeof(void (*)(void *)));
	ck_assert_uint_eq(loader_descriptor_size_for_minor(TTPD_ABI_MINOR + 1),
	    0);
	ck_assert_uint_ge(hostapi_table()->size,
	    offsetof(ttpd_host, now_ns) + sizeof(hostapi_table()->now_ns));
	ck_assert_uint_eq(hostapi_table()->abi_major, TTPD_ABI_MAJOR);
	ck_assert_uint_eq(hostapi_table()->abi_minor, TTPD_ABI_MINOR);
}
END_TEST

/* --- the version check, table-driven ------------------------------------- */

struct version_case {
	uint16_t host_major, host_minor;
	uint16_t major, minor;
	uint32_t size;		/* 0: exactly the 1.0 descriptor size */
	const char *reason;	/* NULL: accepted; else a word of the reason */
};

static const struct version_case version_cases[] = {
	/* same version */
	{ 1, 0, 1, 0, 0, NULL },
	/* older plugin minors load; minors compare as integers, not text */
	{ 1, 10, 1, 9, 0, NULL },
	{ 1, 11, 1, 10, 0, NULL },
	{ 1, 11, 1, 2, 0, NULL },	/* "2" > "11" as strings */
	{ 1, 10, 1, 0, 0, NULL },
	{ 1, 65535, 1, 65534, 0, NULL },
	/* a plugin needing a newer minor than the host has */
	{ 1, 9, 1, 10, 0, "newer ABI minor" },
	{ 1, 10, 1, 11, 0, "newer ABI minor" },
	{ 1, 2, 1, 11, 0, "newer ABI minor" },	/* "11" < "2" as strings */
	{ 1, 0, 1, 1, 0, "newer ABI minor" },
	/* major mismatch, both ways, whatever the minors */
	{ 1, 0, 2, 0, 0, "major" },
	{ 2, 0, 1, 0, 0, "major" },
	{ 1, 10, 0, 9, 0, "major" },
	{ 1, 0, 10, 0, 0, "major" },
	/* size: truncated is refused, larger (appended fields) is fine */
	{ 1, 0, 1, 0, 8, "smaller" },
	{ 1, 0, 1, 0, 16, "smaller" },
	{ 1, 0, 1, 0, 4096, NULL },
	{ 1, 10, 1, 9, 4096, NULL },
};

START_TEST(test_version_check)
{
	const struct version_case *c = &version_cases[_i];
	uint32_t size = c->size != 0 ? c->size :
	    loader_descriptor_size_for_minor(0);
	const char *fix = "untouched", *reason;

	reason = loader_check_version(c->host_major, c->host_minor, c->major,
	    c->minor, size, &fix);
	if (c->reason == NULL) {
		ck_assert_msg(reason == NULL, "host %u.%u, plugin %u.%u size "
		    "%u: refused: %s", c->host_major, c->host_minor, c->major,
		    c->minor, size, reason);
		ck_assert_ptr_null(fix);
	} else {
		ck_assert_msg(reason != NULL, "host %u.%u, plugin %u.%u size "
		    "%u: accepted", c->host_major, c->host_minor, c->major,
		    c->minor, size);
		ck_assert_msg(strstr(reason, c->reason) != NULL,
		    "'%s' not in '%s'", c->reason, reason);
		ck_assert_ptr_nonnull(fix);
		ck_assert_str_ne(fix, "untouched");
	}
}
END_TEST

/* --- a 1.0 plugin in the current host ------------------------------------ */

static char tmpdir[64];

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(src, O_RDONLY);
	ck_assert_msg(in >= 0, "%s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0755);
	ck_assert_msg(out >= 0, "%s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(fchmod(out, 0755), 0);
	close(in);
	close(out);
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ttpd-check-abi-XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
}

static void
teardown(void)
{
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
rule_problem(void *ud, const char *msg)
{
	ck_abort_msg("rule problem: %s (%p)", msg, ud);
}

/* Load the sample built against tests/abi/<version> and tag one event. */
static void
run_sample(const char *version_tag, const char *built)
{
	const char *builddir = getenv("TTPD_BUILDDIR");
	const char *srcdir = getenv("TTPD_SRCDIR");
	char src[PATH_MAX], dst[PATH_MAX], rdir[PATH_MAX], err[1024];
	const char *dirs[1];
	struct plugin_conf pc;
	struct registry reg;
	struct ruleset rs;
	struct tag_list tags;
	struct tag_settings ts = { .attack_release = "v15.1" };
	struct plugin *p;
	ttpd_value *config, *payload;
	ttpd_event ev;

	ck_assert_ptr_nonnull(builddir);
	ck_assert_ptr_nonnull(srcdir);
	snprintf(src, sizeof src, "%s/tests/abi/.libs/sample_%s.so",
	    builddir, version_tag);
	snprintf(dst, sizeof dst, "%s/abi_sample.so", tmpdir);
	copy_file(src, dst);
	snprintf(rdir, sizeof rdir, "%s/tests/abi/rules", srcdir);

	config = jv_new_object();
	jv_object_set_new(config, "limit", jv_new_int(42));
	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"abi_sample";
	pc.config = config;
	pc.origin = (char *)"check_abi";
	registry_init(&reg);
	ruleset_init(&rs);
	ck_assert_msg(loader_load(&reg, tmpdir, &pc, err, sizeof err) == 0,
	    "%s", err);
	registry_finish(&reg);
	p = reg.plugins[0];
	ck_assert_uint_eq(p->desc->abi_major, 1);
	ck_assert_uint_eq(p->desc_size, loader_descriptor_size_for_minor(
	    p->desc->abi_minor));
	dirs[0] = rdir;
	rules_load_dirs(dirs, 1, &rs, rule_problem, NULL);
	ck_assert_int_eq(registry_assign_rules(&reg, &rs, rule_problem, NULL),
	    0);
	ck_assert_uint_eq(p->nrules, 1);

	payload = jv_parse("{\"command_text\":\"echo abi\"}", 27, err,
	    sizeof err);
	ck_assert_ptr_nonnull(payload);
	memset(&ev, 0, sizeof ev);
	ev.size = sizeof ev;
	ev.source_kind = "command";
	ev.source_id = "abi-1";
	ev.attacker_uuid = "c0ffee00-0000-4000-8000-0000000000ab";
	ev.payload = payload;
	tag_list_init(&tags);
	ck_assert_int_eq(hostapi_run(p, &ev, &ts, 0, &tags), TTPD_OK);
	ck_assert_uint_eq(tags.n, 1);
	ck_assert_str_eq(tags.v[0].rule_id, "AB0001");
	ck_assert_str_eq(tags.v[0].sub_technique_id, "T1059.004");
	ck_assert_msg(strstr(tags.v[0].evidence, "\"limit\":42") != NULL &&
	    strstr(tags.v[0].evidence, built) != NULL, "evidence %s",
	    tags.v[0].evidence);

	tag_list_free(&tags);
	jv_decref(payload);
	registry_free(&reg);
	ruleset_free(&rs);
	jv_decref(config);
}

START_TEST(test_sample_1_0_loads)
{
	run_sample("1_0", "\"abi\":\"1.0 built\"");
}
END_TEST

static Suite *
abi_suite(void)
{
	Suite *s = suite_create("abi");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, test_layout_matches_frozen_1_0);
	tcase_add_test(tc, test_descriptor_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("version");
	tcase_add_loop_test(tc, test_version_check, 0,
	    (int)(sizeof version_cases / sizeof version_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("frozen headers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sample_1_0_loads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(abi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
