/*
 * Loader tests: every rejection path with the fixture plugins built under
 * tests/loader/, the good path, and the version arithmetic.
 *
 * Fixtures are copied from $TTPD_BUILDDIR/tests/loader/.libs into a private
 * temporary directory first, so the permission checks see a directory we
 * control whatever the umask of the build was.
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
#include "json.h"
#include "loader.h"
#include "plugin.h"
#include "../loader/fixture.h"

#define ERRLEN 1024

static char tmpdir[64];	/* /tmp/ttpd-check-loader-XXXXXX */
static struct registry reg;

static void
setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ttpd-check-loader-XXXXXX");
	ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
	registry_init(&reg);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	registry_free(&reg);
	nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copy src to dst with exactly `mode` (not filtered by the umask). */
static void
copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(src, O_RDONLY);
	ck_assert_msg(in >= 0, "%s: %s (is TTPD_BUILDDIR right and the "
	    "fixture built?)", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(out >= 0, "%s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(fchmod(out, mode), 0);
	close(in);
	close(out);
}

/* The built fixture `name` copied to <dir>/<as>.so; returns the copy. */
static char *
fixture_into(const char *name, const char *dir, const char *as)
{
	static char dst[PATH_MAX];
	char src[PATH_MAX];
	const char *builddir = getenv("TTPD_BUILDDIR");

	ck_assert_msg(builddir != NULL, "TTPD_BUILDDIR is not set");
	snprintf(src, sizeof src, "%s/tests/loader/.libs/%s.so", builddir,
	    name);
	snprintf(dst, sizeof dst, "%s/%s.so", dir, as);
	copy_file(src, dst, 0755);
	return dst;
}

static char *
fixture(const char *name)
{
	return fixture_into(name, tmpdir, name);
}

static int
load_as(const char *name, const char *path, const ttpd_value *config,
    char *err, size_t errlen)
{
	struct plugin_conf pc;

	memset(&pc, 0, sizeof pc);
	pc.name = (char *)name;
	pc.path = (char *)path;
	pc.config = (ttpd_value *)config;
	pc.origin = (char *)"test.conf:1";
	return loader_load(&reg, tmpdir, &pc, err, errlen);
}

static void
assert_contains(const char *err, const char *word)
{
	ck_assert_msg(strstr(err, word) != NULL, "'%s' not in: %s", word, err);
}

/*
 * The common shape of a refusal: -1, registry unchanged, one line that
 * starts with "plugin <path>: " and has a fix.
 */
static void
assert_refused(int rc, size_t nplugins_before, const char *path,
    const char *err)
{
	char prefix[PATH_MAX + 16];

	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(reg.nplugins, nplugins_before);
	snprintf(prefix, sizeof prefix, "plugin %s: ", path);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
	    "no '%s' prefix: %s", prefix, err);
	assert_contains(err, "; fix: ");
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: %s", err);
}

/* ABI part of a refusal: NOT_READ omits it, UNKNOWN says so. */
#define ABI_NOT_READ (-1)
#define ABI_UNKNOWN (-2)

static void
assert_abi(const char *err, int major, int minor)
{
	char want[128];

	if (major == ABI_NOT_READ) {
		ck_assert_msg(strstr(err, "ttpd provides") == NULL,
		    "ABI part before the descriptor was read: %s", err);
		return;
	}
	if (major == ABI_UNKNOWN)
		snprintf(want, sizeof want,
		    " (plugin ABI unknown, ttpd provides %d.%d); fix: ",
		    TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
	else
		snprintf(want, sizeof want,
		    " (plugin built for ABI %d.%d, ttpd provides %d.%d); fix: ",
		    major, minor, TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
	assert_contains(err, want);
}

/* One broken fixture per row: what the message must say. */
struct refusal {
	const char *fixture;	/* tests/loader/<fixture>.c */
	const char *conf_name;	/* name in plugins.load */
	int major, minor;	/* ABI the message reports */
	const char *words[4];	/* reason and fix words */
};

static const struct refusal refusals[] = {
	{ "undefined_sym", "undefined_sym", ABI_NOT_READ, 0,
	    { "cannot load: ", "undefined symbol",
	    "ttpd_fixture_symbol_nobody_defines", "libraries" } },
	{ "no_entry", "no_entry", ABI_NOT_READ, 0,
	    { "no ttpd_lifter_entry symbol: not a ttpd lifter",
	    "fix: define the descriptor with TTPD_LIFTER_DEFINE()" } },
	{ "entry_null", "entry_null", ABI_NOT_READ, 0,
	    { "the plugin declined to load (entry returned NULL)" } },
	{ "bad_magic", "bad_magic", ABI_UNKNOWN, 0,
	    { "bad descriptor magic 0x4c505454", "TTPD_LIFTER_DEFINE" } },
	{ "major_mismatch", "major_mismatch", TTPD_ABI_MAJOR + 1, 0,
	    { "major version differs", "fix: rebuild it against the ttpd 1.x "
	    "SDK" } },
	{ "minor_too_new", "minor_too_new", TTPD_ABI_MAJOR,
	    TTPD_ABI_MINOR + 1,
	    { "newer ABI minor", "fix: upgrade ttpd", "or rebuild" } },
	{ "size_too_small", "size_too_small", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "descriptor is smaller than its ABI version defines: ",
	    " bytes, at least ", "truncated or corrupt" } },
	{ "null_init", "null_init", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "required callback init is NULL" } },
	{ "null_handle", "null_handle", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "required callback handle is NULL" } },
	{ "null_destroy", "null_destroy", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "required callback destroy is NULL" } },
	{ "no_name", "no_name", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "the descriptor has no name", "set .name" } },
	{ "bad_name", "bad_name", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "invalid name 'Bad-Name'", "[a-z][a-z0-9_]" } },
	{ "good", "other", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "declares name 'good' but ttpd.conf loads it as 'other'",
	    "fix: rename" } },
	{ "unknown_kind", "unknown_kind", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "unknown source kind 'dns_blob'" } },
	{ "no_kinds", "no_kinds", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "declares no source kinds", ".source_kinds" } },
	{ "null_kinds", "null_kinds", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "declares no source kinds" } },
	{ "dup_kind", "dup_kind", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "source kind 'command' is listed twice" } },
	{ "empty_rule_kind", "empty_rule_kind", TTPD_ABI_MAJOR,
	    TTPD_ABI_MINOR, { "rule kind 1 is an empty string" } },
	{ "config_keys", "config_keys", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "limit", "fix: correct the plugin's config group" } },
	{ "init_fails", "init_fails", TTPD_ABI_MAJOR, TTPD_ABI_MINOR,
	    { "init failed: cannot open the fixture's database" } },
	{ "init_unterminated", "init_unterminated", TTPD_ABI_MAJOR,
	    TTPD_ABI_MINOR, { "init failed: xxxxxxxx" } },
};

START_TEST(test_refusal)
{
	const struct refusal *r = &refusals[_i];
	char err[ERRLEN], *path;
	size_t i;
	int rc;

	path = fixture(r->fixture);
	rc = load_as(r->conf_name, path, NULL, err, sizeof err);
	assert_refused(rc, 0, path, err);
	for (i = 0; i < 4 && r->words[i] != NULL; i++)
		assert_contains(err, r->words[i]);
	assert_abi(err, r->major, r->minor);
	ck_assert_ptr_null(registry_find(&reg, r->conf_name));
}
END_TEST

START_TEST(test_missing_file)
{
	char err[ERRLEN], want[ERRLEN], path[128];
	struct plugin_conf pc;

	memset(&pc, 0, sizeof pc);
	pc.name = (char *)"nothere";
	snprintf(path, sizeof path, "%s/nothere.so", tmpdir);
	snprintf(want, sizeof want, "plugin %s: cannot load: No such file or "
	    "directory; fix: check plugins.dir and the plugin name, or "
	    "build/install the plugin", path);
	ck_assert_int_eq(loader_load(&reg, tmpdir, &pc, err, sizeof err), -1);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(reg.nplugins, 0);
}
END_TEST

START_TEST(test_not_elf)
{
	char err[ERRLEN], path[128];
	FILE *fp;
	int i;

	snprintf(path, sizeof path, "%s/x.so", tmpdir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < 64; i++)
		fputs("this is a text file, not a shared object\n", fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, 0644), 0);
	assert_refused(load_as("x", path, NULL, err, sizeof err), 0, path,
	    err);
	assert_contains(err, "cannot load: ");
	assert_contains(err, "ELF");
	assert_abi(err, ABI_NOT_READ, 0);
}
END_TEST

START_TEST(test_not_regular)
{
	char err[ERRLEN], path[128];

	snprintf(path, sizeof path, "%s/d.so", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	assert_refused(load_as("d", path, NULL, err, sizeof err), 0, path,
	    err);
	assert_contains(err, "not a regular file");
}
END_TEST

START_TEST(test_group_writable_file)
{
	char err[ERRLEN], want[PATH_MAX + 32], real[PATH_MAX], *path;

	path = fixture("good");
	ck_assert_int_eq(chmod(path, 0775), 0);
	ck_assert_ptr_nonnull(realpath(path, real));
	assert_refused(load_as("good", path, NULL, err, sizeof err), 0, path,
	    err);
	assert_contains(err, "group- or world-writable");
	snprintf(want, sizeof want, "fix: chmod go-w %s", real);
	assert_contains(err, want);
}
END_TEST

START_TEST(test_world_writable_dir)
{
	char err[ERRLEN], want[PATH_MAX + 32], dir[128], real[PATH_MAX];
	char *path;

	snprintf(dir, sizeof dir, "%s/open", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	path = fixture_into("good", dir, "good");
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_ptr_nonnull(realpath(dir, real));
	assert_refused(load_as("good", path, NULL, err, sizeof err), 0, path,
	    err);
	assert_contains(err, "directory");
	assert_contains(err, "group- or world-writable");
	snprintf(want, sizeof want, "fix: chmod go-w %s", real);
	assert_contains(err, want);
}
END_TEST

/* The checks apply where the file really is, not where a link points. */
START_TEST(test_symlink_into_open_dir)
{
	char err[ERRLEN], dir[128], link[128], *target;

	snprintf(dir, sizeof dir, "%s/open", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	target = fixture_into("good", dir, "good");
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(link, sizeof link, "%s/good.so", tmpdir);
	ck_assert_int_eq(symlink(target, link), 0);
	assert_refused(load_as("good", link, NULL, err, sizeof err), 0, link,
	    err);
	assert_contains(err, "directory");
	assert_contains(err, "group- or world-writable");
}
END_TEST

/* Only run as root: nobody else can give a file away. */
START_TEST(test_foreign_owner)
{
	char err[ERRLEN], *path;

	path = fixture("good");
	ck_assert_int_eq(chown(path, 65534, (gid_t)-1), 0);
	assert_refused(load_as("good", path, NULL, err, sizeof err), 0, path,
	    err);
	assert_contains(err, "is owned by uid 65534");
	assert_contains(err, "fix: chown root ");
}
END_TEST

START_TEST(test_bad_conf_name)
{
	char err[ERRLEN];

	fixture("good");
	ck_assert_int_eq(load_as("../good", NULL, NULL, err, sizeof err), -1);
	assert_contains(err, "invalid plugin name '../good'");
	assert_contains(err, "; fix: ");
	ck_assert_uint_eq(reg.nplugins, 0);
}
END_TEST

START_TEST(test_good)
{
	char err[ERRLEN], real[PATH_MAX];
	struct fixture_calls *calls;
	struct plugin *p;
	int inits;

	fixture("good");
	/* By name from the directory, as plugins.load does by default. */
	ck_assert_int_eq(load_as("good", NULL, NULL, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(reg.nplugins, 1);
	p = registry_find(&reg, "good");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_eq(p, reg.plugins[0]);
	ck_assert_str_eq(p->name, "good");
	snprintf(err, sizeof err, "%s/good.so", tmpdir);
	ck_assert_ptr_nonnull(realpath(err, real));
	ck_assert_str_eq(p->path, real);
	ck_assert_ptr_nonnull(p->dl);
	ck_assert_ptr_nonnull(p->desc);
	ck_assert_str_eq(p->desc->name, "good");
	ck_assert_uint_eq(p->desc_size, sizeof(ttpd_lifter));
	ck_assert_ptr_nonnull(p->ctx);
	ck_assert_int_eq(p->disabled, 0);

	/* init ran once, with a host table and a context, and set state. */
	calls = p->state;
	ck_assert_ptr_nonnull(calls);
	ck_assert_uint_eq(calls->magic, FIXTURE_CALLS_MAGIC);
	ck_assert_int_eq(calls->destroys, 0);
	inits = calls->inits;
	ck_assert_int_ge(inits, 1);

	/* The registry destroys it; the code stays mapped (RTLD_NODELETE),
	 * so the counters can still be read. */
	registry_free(&reg);
	registry_init(&reg);
	ck_assert_int_eq(calls->inits, inits);
	ck_assert_int_eq(calls->destroys, 1);
}
END_TEST

START_TEST(test_config_keys_ok)
{
	static const char json[] = "{\"limit\": 7}";
	char err[ERRLEN], *path;
	ttpd_value *config;
	struct fixture_calls *calls;

	config = jv_parse(json, sizeof json - 1, err, sizeof err);
	ck_assert_ptr_nonnull(config);
	path = fixture("config_keys");
	ck_assert_int_eq(load_as("config_keys", path, config, err,
	    sizeof err), 0);
	ck_assert_uint_eq(reg.nplugins, 1);
	calls = reg.plugins[0]->state;
	ck_assert_int_eq(calls->limit, 7);
	registry_free(&reg);
	registry_init(&reg);
	jv_decref(config);
}
END_TEST

START_TEST(test_config_keys_wrong_type)
{
	static const char json[] = "{\"limit\": \"seven\"}";
	char err[ERRLEN], *path;
	ttpd_value *config;

	config = jv_parse(json, sizeof json - 1, err, sizeof err);
	ck_assert_ptr_nonnull(config);
	path = fixture("config_keys");
	assert_refused(load_as("config_keys", path, config, err, sizeof err),
	    0, path, err);
	assert_contains(err, "limit");
	assert_contains(err, "test.conf:1");
	jv_decref(config);
}
END_TEST

START_TEST(test_duplicate_name)
{
	char err[ERRLEN], *path;

	path = fixture("good");
	ck_assert_int_eq(load_as("good", path, NULL, err, sizeof err), 0);
	path = fixture("good_dup");
	assert_refused(load_as("good", path, NULL, err, sizeof err), 1, path,
	    err);
	assert_contains(err, "a plugin named 'good' is already loaded from ");
	assert_abi(err, TTPD_ABI_MAJOR, TTPD_ABI_MINOR);
	ck_assert_str_eq(registry_find(&reg, "good")->name, "good");
}
END_TEST

START_TEST(test_two_generic_owners)
{
	char err[ERRLEN], *path;

	path = fixture("generic_a");
	ck_assert_int_eq(load_as("generic_a", path, NULL, err, sizeof err), 0);
	path = fixture("generic_b");
	assert_refused(load_as("generic_b", path, NULL, err, sizeof err), 1,
	    path, err);
	assert_contains(err, "claims the generic rules, which 'generic_a' "
	    "already owns");
	ck_assert_ptr_null(registry_find(&reg, "generic_b"));
}
END_TEST

/* A failed init leaves nothing behind; the next plugin loads normally. */
START_TEST(test_init_fails_then_good)
{
	char err[ERRLEN], *path;

	path = fixture("init_fails");
	assert_refused(load_as("init_fails", path, NULL, err, sizeof err), 0,
	    path, err);
	ck_assert_ptr_null(registry_find(&reg, "init_fails"));
	ck_assert_ptr_null(reg.generic_owner);
	path = fixture("good");
	ck_assert_int_eq(load_as("good", path, NULL, err, sizeof err), 0);
	ck_assert_uint_eq(reg.nplugins, 1);
}
END_TEST

/* An err.msg without its NUL is cut at sizeof msg - 1, not overread. */
START_TEST(test_init_unterminated_msg)
{
	char err[ERRLEN], xs[sizeof(ttpd_err) + 1], *path;

	path = fixture("init_unterminated");
	assert_refused(load_as("init_unterminated", path, NULL, err,
	    sizeof err), 0, path, err);
	memset(xs, 'x', sizeof xs);
	xs[sizeof xs - 1] = '\0';
	ck_assert_ptr_null(strstr(err, xs));		/* 256 x: too many */
	xs[sizeof xs - 2] = '\0';
	assert_contains(err, xs);			/* 255 x */
}
END_TEST

/* A small or absent error buffer is not overrun. */
START_TEST(test_small_err_buffer)
{
	char err[16], *path;

	path = fixture("bad_magic");
	memset(err, 'z', sizeof err);
	ck_assert_int_eq(load_as("bad_magic", path, NULL, err, 8), -1);
	ck_assert_uint_eq(strlen(err), 7);
	ck_assert_int_eq(err[8], 'z');
	ck_assert_int_eq(load_as("bad_magic", path, NULL, NULL, 0), -1);
	ck_assert_uint_eq(reg.nplugins, 0);
}
END_TEST

struct version_case {
	uint16_t host_major, host_minor, major, minor;
	int size_delta;		/* added to the 1.0 descriptor size */
	const char *reason;	/* word expected in the reason, NULL: ok */
};

static const struct version_case version_cases[] = {
	{ 1, 0, 1, 0, 0, NULL },
	{ 1, 0, 1, 0, 64, NULL },		/* a larger descriptor is fine */
	{ 1, 10, 1, 9, 0, NULL },		/* 9 < 10, not "9" > "10" */
	{ 1, 10, 1, 10, 0, NULL },
	{ 1, 10, 1, 0, 0, NULL },
	{ 1, 10, 1, 11, 0, "minor" },
	{ 1, 9, 1, 10, 0, "minor" },
	{ 1, 0, 1, 1, 0, "minor" },
	{ 1, 0, 0, 0, 0, "major" },
	{ 1, 0, 2, 0, 0, "major" },
	{ 1, 10, 2, 10, 0, "major" },
	{ 2, 0, 1, 0, 0, "major" },
	{ 1, 0, 1, 0, -1, "smaller" },
	{ 1, 0, 1, 0, -8, "smaller" },
	{ 1, 10, 1, 9, -1, "smaller" },	/* unknown minor: 1.0 size floor */
	{ 1, 0, 2, 0, -8, "major" },		/* major is reported first */
	{ 1, 0, 1, 1, -8, "minor" },		/* then minor, then size */
};

START_TEST(test_check_version)
{
	const struct version_case *c = &version_cases[_i];
	const char *reason, *fix = "untouched";
	uint32_t size;

	size = (uint32_t)((int64_t)loader_descriptor_size_for_minor(0) +
	    c->size_delta);
	reason = loader_check_version(c->host_major, c->host_minor, c->major,
	    c->minor, size, &fix);
	if (c->reason == NULL) {
		ck_assert_msg(reason == NULL, "host %u.%u, plugin %u.%u size "
		    "%u: refused: %s", c->host_major, c->host_minor, c->major,
		    c->minor, size, reason);
		ck_assert_ptr_null(fix);
		return;
	}
	ck_assert_msg(reason != NULL, "host %u.%u, plugin %u.%u size %u: "
	    "accepted", c->host_major, c->host_minor, c->major, c->minor,
	    size);
	assert_contains(reason, c->reason);
	ck_assert_ptr_nonnull(fix);
	ck_assert_uint_gt(strlen(fix), 0);
	/* fix may be NULL */
	ck_assert_ptr_nonnull(loader_check_version(c->host_major,
	    c->host_minor, c->major, c->minor, size, NULL));
}
END_TEST

START_TEST(test_descriptor_sizes)
{
	ck_assert_uint_eq(loader_descriptor_size_for_minor(0),
	    offsetof(ttpd_lifter, destroy) + sizeof(void (*)(void *)));
	ck_assert_uint_eq(loader_descriptor_size_for_minor(TTPD_ABI_MINOR),
	    sizeof(ttpd_lifter));
	ck_assert_uint_eq(loader_descriptor_size_for_minor(TTPD_ABI_MINOR + 1),
	    0);
	ck_assert_uint_eq(loader_descriptor_size_for_minor(UINT16_MAX), 0);
	ck_assert_str_eq(loader_check_version(1, 0, 2, 1,
	    (uint32_t)sizeof(ttpd_lifter), NULL), "ABI major version differs");
}
END_TEST

static Suite *
loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc;

	tc = tcase_create("version");
	tcase_add_loop_test(tc, test_check_version, 0,
	    (int)(sizeof version_cases / sizeof version_cases[0]));
	tcase_add_test(tc, test_descriptor_sizes);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_refusal, 0,
	    (int)(sizeof refusals / sizeof refusals[0]));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_not_elf);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_group_writable_file);
	tcase_add_test(tc, test_world_writable_dir);
	tcase_add_test(tc, test_symlink_into_open_dir);
	if (geteuid() == 0)
		tcase_add_test(tc, test_foreign_owner);
	else
		fprintf(stderr, "check_loader: not root: the foreign-owner "
		    "test is not run (and not counted)\n");
	tcase_add_test(tc, test_bad_conf_name);
	tcase_add_test(tc, test_config_keys_wrong_type);
	tcase_add_test(tc, test_duplicate_name);
	tcase_add_test(tc, test_two_generic_owners);
	tcase_add_test(tc, test_init_fails_then_good);
	tcase_add_test(tc, test_init_unterminated_msg);
	tcase_add_test(tc, test_small_err_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_config_keys_ok);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
