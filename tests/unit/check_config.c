/* Unit tests for host/config.c: ttpd.conf loading, overrides, checks. */
#include "config.h"

#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "json.h"

/* The three required settings, on lines 1-3 of every generated file. */
#define REQ \
	"store: { path = \"db\"; };\n" \
	"rules: { dirs = [ \"r\" ]; };\n" \
	"plugins: { dir = \"p\"; };\n"

static char tmpdir[PATH_MAX];	/* realpath of a fresh mkdtemp dir */
static char conf_path[PATH_MAX + 16];
static char err[1024];
static struct config cfg;

static void
setup(void)
{
	char tmpl[] = "/tmp/check_config.XXXXXX";
	char *real;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	real = realpath(tmpl, NULL);
	ck_assert_ptr_nonnull(real);
	snprintf(tmpdir, sizeof(tmpdir), "%s", real);
	free(real);
	snprintf(conf_path, sizeof(conf_path), "%s/t.conf", tmpdir);
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
teardown(void)
{
	config_free(&cfg);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Writes text to <tmpdir>/t.conf and loads it with the overrides. */
static int
load_text_ov(const char *text, const char *const *ov, size_t nov)
{
	write_file(conf_path, text);
	config_free(&cfg);
	return config_load(conf_path, ov, nov, &cfg, err, sizeof(err));
}

static int
load_text(const char *text)
{
	return load_text_ov(text, NULL, 0);
}

static int
load_one_ov(const char *text, const char *ov)
{
	const char *ovs[1] = { ov };

	return load_text_ov(text, ovs, 1);
}

/* Expected message for a setting on `line` of t.conf. */
static const char *
at(int line, const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "%s:%d: ", conf_path, line);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	return buf;
}

static const char *
srcdir(void)
{
	const char *s = getenv("TTPD_SRCDIR");

	return s != NULL ? s : TTPD_TEST_SRCDIR;
}

/* realpath() of a directory under the source tree. */
static char *
src_real(const char *rel)
{
	char buf[PATH_MAX];
	char *r;

	snprintf(buf, sizeof(buf), "%s/%s", srcdir(), rel);
	r = realpath(buf, NULL);
	ck_assert_msg(r != NULL, "realpath %s: %s", buf, strerror(errno));
	return r;
}

static char *
joined(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *r = malloc(n);

	ck_assert_ptr_nonnull(r);
	snprintf(r, n, "%s/%s", a, b);
	return r;
}

static void
assert_str_path(const char *got, const char *dir, const char *rel)
{
	char *want = joined(dir, rel);

	ck_assert_str_eq(got, want);
	free(want);
}

static int64_t
int_at(const ttpd_value *obj, const char *ptr)
{
	int64_t v = -12345;

	ck_assert_msg(jv_get_int(jv_pointer_get(obj, ptr), &v) == TTPD_OK,
	    "no integer at %s", ptr);
	return v;
}

/* ------------------------------------------------------ whole files */

START_TEST(test_full_file)
{
	char *path, *dir, *parent;
	const struct plugin_conf *pc;
	const ttpd_value *c, *mixed;
	const char *s;
	size_t len;
	double d;
	int b;

	path = joined(srcdir(), "tests/data/conf/full.conf");
	ck_assert_msg(config_load(path, NULL, 0, &cfg, err, sizeof(err)) == 0,
	    "%s", err);
	dir = src_real("tests/data/conf");
	parent = src_real("tests/data");

	assert_str_path(cfg.file, dir, "full.conf");
	assert_str_path(cfg.store_path, dir, "state/full.db");
	ck_assert_int_eq(cfg.store_batch_size, 250);
	ck_assert_int_eq(cfg.store_cache_kib, 5000000000LL);
	ck_assert_int_eq(cfg.store_synchronous, 2);
	ck_assert_int_eq(cfg.store_busy_timeout_ms, 1500);
	ck_assert_int_eq(cfg.store_indexes, 1);

	ck_assert_uint_eq(cfg.nrules_dirs, 3);
	assert_str_path(cfg.rules_dirs[0], dir, "rules");
	/* a leading ../ is folded into the (symlink-free) directory */
	assert_str_path(cfg.rules_dirs[1], parent, "extra-rules");
	ck_assert_str_eq(cfg.rules_dirs[2], "/abs/rules");

	assert_str_path(cfg.plugins_dir, dir, "plugins");
	ck_assert_uint_eq(cfg.nplugins, 2);
	pc = &cfg.plugins[0];
	ck_assert_str_eq(pc->name, "rule_engine");
	ck_assert_ptr_null(pc->path);
	{
		char want[PATH_MAX + 32];

		snprintf(want, sizeof(want), "%s:17", path);
		ck_assert_str_eq(pc->origin, want);
	}
	c = pc->config;
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(jv_type(c), TTPD_VT_OBJECT);
	ck_assert_uint_eq(jv_object_size(c), 8);
	ck_assert_int_eq(int_at(c, "/match_limit"), 5000);
	ck_assert_int_eq(jv_get_bool(jv_object_get(c, "jit"), &b), TTPD_OK);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(jv_type(jv_object_get(c, "ratio")), TTPD_VT_REAL);
	ck_assert_int_eq(jv_get_number(jv_object_get(c, "ratio"), &d),
	    TTPD_OK);
	ck_assert(d == 0.25);
	ck_assert_int_eq(int_at(c, "/big"), 8589934592LL);
	ck_assert_int_eq(jv_get_string(jv_object_get(c, "label"), &s, &len),
	    TTPD_OK);
	ck_assert_str_eq(s, "caf\xc3\xa9 \"q\"\tt");
	ck_assert_int_eq(jv_type(jv_object_get(c, "ports")), TTPD_VT_ARRAY);
	ck_assert_uint_eq(jv_array_size(jv_object_get(c, "ports")), 3);
	ck_assert_int_eq(int_at(c, "/ports/2"), 443);
	mixed = jv_object_get(c, "mixed");
	ck_assert_uint_eq(jv_array_size(mixed), 6);
	ck_assert_int_eq(jv_type(jv_array_get(mixed, 0)), TTPD_VT_INT);
	ck_assert_str_eq(jv_string(jv_array_get(mixed, 1)), "two");
	ck_assert_int_eq(jv_type(jv_array_get(mixed, 2)), TTPD_VT_REAL);
	ck_assert_int_eq(jv_type(jv_array_get(mixed, 3)), TTPD_VT_BOOL);
	ck_assert_str_eq(jv_string(jv_pointer_get(mixed, "/4/deep")), "yes");
	ck_assert_int_eq(jv_type(jv_array_get(mixed, 5)), TTPD_VT_ARRAY);
	ck_assert_uint_eq(jv_array_size(jv_array_get(mixed, 5)), 0);
	ck_assert_int_eq(int_at(c, "/nested/inner/leaf"), -7);
	ck_assert_int_eq(jv_type(jv_pointer_get(c, "/nested/empty")),
	    TTPD_VT_OBJECT);

	pc = &cfg.plugins[1];
	ck_assert_str_eq(pc->name, "third_party2");
	assert_str_path(pc->path, dir, "lib/tp.so");
	ck_assert_ptr_null(pc->config);

	assert_str_path(cfg.attack_bundle, dir, "attack/enterprise.json");
	ck_assert_str_eq(cfg.attack_release, "v18.1");
	ck_assert_int_eq(cfg.log_level, TTPD_LOG_DEBUG);
	ck_assert_int_eq(cfg.log_syslog, 1);
	ck_assert_int_eq(cfg.max_event_bytes, 4096);
	ck_assert_int_eq(cfg.anchor_derive, 1);
	free(path);
	free(dir);
	free(parent);
}
END_TEST

START_TEST(test_defaults)
{
	char *path = joined(srcdir(), "tests/data/conf/minimal.conf");

	ck_assert_msg(config_load(path, NULL, 0, &cfg, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(cfg.store_path, "/var/tmp/minimal.db");
	ck_assert_int_eq(cfg.store_batch_size, 10000);
	ck_assert_int_eq(cfg.store_cache_kib, 65536);
	ck_assert_int_eq(cfg.store_synchronous, 1);
	ck_assert_int_eq(cfg.store_busy_timeout_ms, 30000);
	ck_assert_int_eq(cfg.store_indexes, 0);
	ck_assert_uint_eq(cfg.nrules_dirs, 1);
	ck_assert_str_eq(cfg.rules_dirs[0], "/etc/ttpd/rules");
	ck_assert_str_eq(cfg.plugins_dir, "/usr/lib/ttpd/plugins");
	ck_assert_uint_eq(cfg.nplugins, 0);
	ck_assert_ptr_null(cfg.plugins);
	ck_assert_ptr_null(cfg.attack_bundle);
	ck_assert_str_eq(cfg.attack_release, "v15.1");
	ck_assert_int_eq(cfg.log_level, TTPD_LOG_INFO);
	ck_assert_int_eq(cfg.log_syslog, 0);
	ck_assert_int_eq(cfg.max_event_bytes, 1048576);
	ck_assert_int_eq(cfg.anchor_derive, 0);
	free(path);
}
END_TEST

START_TEST(test_empty_groups_and_empty_bundle)
{
	ck_assert_msg(load_text(REQ
	    "attack: { bundle = \"\"; };\n"
	    "log: { };\n"
	    "input: { };\n"
	    "plugins2: { };\n") == -1, "loaded");
	ck_assert_str_eq(err, at(7, "unknown setting 'plugins2'"));
	ck_assert_msg(load_text(REQ
	    "attack: { bundle = \"\"; };\n"
	    "log: { };\n"
	    "input: { };\n") == 0, "%s", err);
	ck_assert_ptr_null(cfg.attack_bundle);
	ck_assert_int_eq(cfg.log_level, TTPD_LOG_INFO);
	ck_assert_uint_eq(cfg.nplugins, 0);
}
END_TEST

/* bus.* and daemon.*: defaults, values, refusals. */
START_TEST(test_bus_keys)
{
	static const char base[] =
	    "store: { path = \"/tmp/x.db\"; };\n"
	    "rules: { dirs = [ \"/r\" ]; };\n"
	    "plugins: { dir = \"/p\"; };\n";
	char *text;

	ck_assert_msg(load_text(base) == 0, "%s", err);
	ck_assert_uint_eq(cfg.bus_nservers, 0);
	ck_assert_str_eq(cfg.bus_name, "ttpd");
	ck_assert_ptr_null(cfg.bus_user);
	ck_assert_ptr_null(cfg.bus_token);
	ck_assert_ptr_null(cfg.bus_queue_group);
	ck_assert_int_eq(cfg.bus_mode, CONF_BUS_CORE);
	ck_assert_int_eq(cfg.bus_tls, 0);
	ck_assert_int_eq(cfg.bus_queue_size, 65536);
	ck_assert_int_eq(cfg.bus_heartbeat_s, 30);
	ck_assert_str_eq(cfg.bus_stream, "DECNET");
	ck_assert_int_eq(cfg.bus_stream_retention, CONF_RETENTION_LIMITS);
	ck_assert_str_eq(cfg.bus_consumer, "ttpd");
	ck_assert_int_eq(cfg.bus_fetch_batch, 1000);
	ck_assert_int_eq(cfg.bus_ack_wait_s, 60);
	ck_assert_int_eq(cfg.bus_max_deliver, 5);
	ck_assert_str_eq(cfg.bus_dead_letter, "ttpd.dead_letter");
	ck_assert_str_eq(cfg.pidfile, "/run/ttpd.pid");

	ck_assert(asprintf(&text, "%s"
	    "bus: { servers = [ \"nats://a:4222\", \"tls://b:4443\" ];\n"
	    " mode = \"jetstream\"; queue_group = \"g\"; user = \"u\";\n"
	    " password = \"p\"; tls = \"required\"; tls_ca = \"ca.pem\";\n"
	    " subjects = [ ]; stream_subjects = [ \"attacker.>\" ];\n"
	    " stream_retention = \"workqueue\"; max_deliver = 2; };\n"
	    "daemon: { pidfile = \"run/t.pid\"; };\n", base) > 0);
	ck_assert_msg(load_text(text) == 0, "%s", err);
	free(text);
	ck_assert_uint_eq(cfg.bus_nservers, 2);
	/* URLs are kept as written, not resolved like paths */
	ck_assert_str_eq(cfg.bus_servers[1], "tls://b:4443");
	ck_assert_int_eq(cfg.bus_mode, CONF_BUS_JETSTREAM);
	ck_assert_str_eq(cfg.bus_queue_group, "g");
	ck_assert_int_eq(cfg.bus_tls, 1);
	/* paths are resolved against the file's directory */
	ck_assert_str_eq(cfg.bus_tls_ca + strlen(tmpdir), "/ca.pem");
	ck_assert_str_eq(cfg.pidfile + strlen(tmpdir), "/run/t.pid");
	ck_assert_uint_eq(cfg.bus_nsubjects, 0);
	ck_assert_uint_eq(cfg.bus_nstream_subjects, 1);
	ck_assert_int_eq(cfg.bus_stream_retention, CONF_RETENTION_WORKQUEUE);
	ck_assert_int_eq(cfg.bus_max_deliver, 2);

	ck_assert(asprintf(&text, "%sbus: { mode = \"pull\"; };\n", base) >
	    0);
	ck_assert_int_eq(load_text(text), -1);
	free(text);
	ck_assert_msg(strstr(err, "bus.mode: unknown value \"pull\" "
	    "(expected core or jetstream)") != NULL, "%s", err);
	ck_assert(asprintf(&text, "%sbus: { queue_size = 2; };\n", base) > 0);
	ck_assert_int_eq(load_text(text), -1);
	free(text);
	ck_assert_msg(strstr(err, "out of range") != NULL, "%s", err);
	ck_assert(asprintf(&text, "%sbus: { servers = \"nats://a\"; };\n",
	    base) > 0);
	ck_assert_int_eq(load_text(text), -1);
	free(text);
	ck_assert_msg(strstr(err, "bus.servers") != NULL, "%s", err);
}
END_TEST

START_TEST(test_shipped_confs)
{
	static const char *const files[] = {
		"conf/ttpd.conf", "conf/ttpd-dev.conf"
	};
	char *conf_dir = src_real("conf");
	char *top = src_real(".");

	for (size_t i = 0; i < 2; i++) {
		char *path = joined(srcdir(), files[i]);

		config_free(&cfg);
		ck_assert_msg(config_load(path, NULL, 0, &cfg, err,
		    sizeof(err)) == 0, "%s: %s", files[i], err);
		ck_assert_uint_ge(cfg.nrules_dirs, 1);
		ck_assert_uint_ge(cfg.nplugins, 1);
		ck_assert_str_eq(cfg.plugins[0].name, "rule_engine");
		free(path);
	}
	/* ttpd-dev.conf (loaded last) points into the built tree */
	assert_str_path(cfg.store_path, top, "ttpd-dev.db");
	assert_str_path(cfg.rules_dirs[0], conf_dir, "rules");
	assert_str_path(cfg.plugins_dir, top, "plugins/.libs");
	free(conf_dir);
	free(top);
}
END_TEST

START_TEST(test_include)
{
	char *path = joined(srcdir(), "tests/data/conf/include.conf");
	char *dir = src_real("tests/data/conf");

	ck_assert_msg(config_load(path, NULL, 0, &cfg, err, sizeof(err)) == 0,
	    "%s", err);
	assert_str_path(cfg.store_path, dir, "included.db");
	ck_assert_int_eq(cfg.store_batch_size, 77);
	free(path);
	free(dir);

	/* an error in an included file names that file and its line */
	write_file(conf_path, "@include \"part.inc\"\n" REQ);
	{
		char part[PATH_MAX + 16], want[PATH_MAX + 128];

		snprintf(part, sizeof(part), "%s/part.inc", tmpdir);
		write_file(part, "# part\nlog: {\n\tlevl = \"info\";\n};\n");
		config_free(&cfg);
		ck_assert_int_eq(config_load(conf_path, NULL, 0, &cfg, err,
		    sizeof(err)), -1);
		snprintf(want, sizeof(want),
		    "%s:3: unknown setting 'log.levl'", part);
		ck_assert_str_eq(err, want);

		/* a syntax error in it too, and a missing included file */
		write_file(part, "# part\nlog: {\n\tlevel = ;\n};\n");
		ck_assert_int_eq(config_load(conf_path, NULL, 0, &cfg, err,
		    sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:3: syntax error", part);
		ck_assert_str_eq(err, want);
		ck_assert_int_eq(remove(part), 0);
		ck_assert_int_eq(config_load(conf_path, NULL, 0, &cfg, err,
		    sizeof(err)), -1);
		ck_assert_str_eq(err, at(1, "cannot open include file"));
	}
}
END_TEST

/* ----------------------------------------------------------- errors */

START_TEST(test_unknown_top_level)
{
	ck_assert_int_eq(load_text(REQ "\n\nstorage: { path = \"x\"; };\n"),
	    -1);
	ck_assert_str_eq(err, at(6, "unknown setting 'storage'"));
	ck_assert_int_eq(load_text(REQ "verbose = true;\n"), -1);
	ck_assert_str_eq(err, at(4, "unknown setting 'verbose'"));
}
END_TEST

START_TEST(test_unknown_in_group)
{
	ck_assert_int_eq(load_text(
	    "store: {\n"
	    "\tpath = \"db\";\n"
	    "\tpathh = \"db\";\n"
	    "};\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(3, "unknown setting 'store.pathh'"));
}
END_TEST

START_TEST(test_unknown_in_plugin_entry)
{
	ck_assert_int_eq(load_text(
	    "store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: {\n"
	    "\tdir = \"p\";\n"
	    "\tload = (\n"
	    "\t\t{ name = \"a\"; },\n"
	    "\t\t{ name = \"b\";\n"
	    "\t\t  confg = { x = 1; }; }\n"
	    "\t);\n"
	    "};\n"), -1);
	ck_assert_str_eq(err, at(8, "unknown setting 'plugins.load[1].confg' "
	    "(a plugins.load entry takes name, path and config)"));
}
END_TEST

START_TEST(test_wrong_types)
{
	ck_assert_int_eq(load_text(REQ "input: {\n"
	    "\tmax_event_bytes = \"1M\";\n};\n"), -1);
	ck_assert_str_eq(err, at(5, "input.max_event_bytes: expected "
	    "integer, got string"));
	ck_assert_int_eq(load_text(REQ "input: { max_event_bytes = 2048.0; };\n"),
	    -1);
	ck_assert_str_eq(err, at(4, "input.max_event_bytes: expected "
	    "integer, got float"));
	ck_assert_int_eq(load_text("store: { path = 1; };\n"
	    "rules: { dirs = [ \"r\" ]; };\nplugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(1, "store.path: expected string, got "
	    "integer"));
	ck_assert_int_eq(load_text(REQ "log = \"debug\";\n"), -1);
	ck_assert_str_eq(err, at(4, "log: expected group, got string"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = \"r\"; };\nplugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(2, "rules.dirs: expected list of strings, "
	    "got string"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = ( \"r\",\n 5 ); };\nplugins: { dir = \"p\"; };\n"),
	    -1);
	ck_assert_str_eq(err, at(3, "rules.dirs[1]: expected string, got "
	    "integer"));
	ck_assert_int_eq(load_text(REQ "log: { level = 7; };\n"), -1);
	ck_assert_str_eq(err, at(4, "log.level: expected string, got "
	    "integer"));
	ck_assert_int_eq(load_text(REQ "attack: { release = true; };\n"), -1);
	ck_assert_str_eq(err, at(4, "attack.release: expected string, got "
	    "boolean"));
}
END_TEST

START_TEST(test_plugin_entry_types)
{
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = \"rule_engine\"; };\n"), -1);
	ck_assert_str_eq(err, at(3, "plugins.load: expected list of groups, "
	    "got string"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = [ \"rule_engine\" ]; };\n"), -1);
	ck_assert_str_eq(err, at(3, "plugins.load[0]: expected group, got "
	    "string"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = (\n"
	    "{ name = \"a\"; config = 3; } ); };\n"), -1);
	ck_assert_str_eq(err, at(4, "plugins.load[0].config: expected group, "
	    "got integer"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = (\n"
	    "{ path = \"/x.so\"; } ); };\n"), -1);
	ck_assert_str_eq(err, at(4, "plugins.load[0]: missing required "
	    "setting 'name'"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = (\n"
	    "{ name = \"a\"; path = 1; } ); };\n"), -1);
	ck_assert_str_eq(err, at(4, "plugins.load[0].path: expected string, "
	    "got integer"));
	/* an empty list and an empty array load nothing */
	ck_assert_msg(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = [ ]; };\n") == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 0);
}
END_TEST

START_TEST(test_ranges)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "store: { batch_size = 0; };",
		  "store.batch_size: 0 is out of range (1..100000)" },
		{ "store: { batch_size = 100001; };",
		  "store.batch_size: 100001 is out of range (1..100000)" },
		{ "store: { cache_size_kib = -1; };",
		  "store.cache_size_kib: -1 is out of range (must be at "
		  "least 0)" },
		{ "store: { busy_timeout_ms = -5; };",
		  "store.busy_timeout_ms: -5 is out of range "
		  "(0..2147483647)" },
		{ "input: { max_event_bytes = 1023; };",
		  "input.max_event_bytes: 1023 is out of range "
		  "(1024..67108864)" },
		{ "input: { max_event_bytes = 67108865; };",
		  "input.max_event_bytes: 67108865 is out of range "
		  "(1024..67108864)" },
		{ "input: { max_event_bytes = 9000000000L; };",
		  "input.max_event_bytes: 9000000000 is out of range "
		  "(1024..67108864)" },
	};
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* store.path comes from -o so the group may be partial */
		snprintf(text, sizeof(text), "rules: { dirs = [ \"r\" ]; };\n"
		    "plugins: { dir = \"p\"; };\n\n%s\n", cases[i].text);
		ck_assert_int_eq(load_one_ov(text, "store.path=\"/db\""), -1);
		ck_assert_str_eq(err, at(4, "%s", cases[i].msg));
	}
	/* the bounds themselves are accepted */
	ck_assert_msg(load_text("store: { path = \"db\"; batch_size = 1;\n"
	    "cache_size_kib = 0; busy_timeout_ms = 0; };\n"
	    "rules: { dirs = [ \"r\" ]; };\nplugins: { dir = \"p\"; };\n"
	    "input: { max_event_bytes = 67108864; };\n") == 0, "%s", err);
	ck_assert_int_eq(cfg.store_batch_size, 1);
	ck_assert_int_eq(cfg.max_event_bytes, 67108864);
}
END_TEST

START_TEST(test_enums)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "store: { path = \"db\"; synchronous = \"NORMAL\"; };",
		  "store.synchronous: unknown value \"NORMAL\" (expected off, "
		  "normal or full)" },
		{ "store: { path = \"db\"; indexes = \"all\"; };",
		  "store.indexes: unknown value \"all\" (expected compact or "
		  "decnet)" },
		{ "log: { level = \"warn\"; };",
		  "log.level: unknown value \"warn\" (expected err, error, "
		  "warning, notice, info or debug)" },
		{ "log: { target = \"file\"; };",
		  "log.target: unknown value \"file\" (expected stderr or "
		  "syslog)" },
		{ "input: { anchor_policy = \"keep\"; };",
		  "input.anchor_policy: unknown value \"keep\" (expected drop "
		  "or derive)" },
	};
	static const struct {
		const char *level;
		int value;
	} levels[] = {
		{ "err", TTPD_LOG_ERR }, { "warning", TTPD_LOG_WARNING },
		{ "notice", TTPD_LOG_NOTICE }, { "info", TTPD_LOG_INFO },
		{ "debug", TTPD_LOG_DEBUG },
	};
	static const char *const sync[] = { "off", "normal", "full" };
	char text[512], ov[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "rules: { dirs = [ \"r\" ]; };\n"
		    "plugins: { dir = \"p\"; };\n%s\n", bad[i].text);
		ck_assert_int_eq(load_one_ov(text, "store.path=\"/db\""), -1);
		ck_assert_str_eq(err, at(3, "%s", bad[i].msg));
	}
	for (size_t i = 0; i < 5; i++) {
		snprintf(ov, sizeof(ov), "log.level=\"%s\"", levels[i].level);
		ck_assert_msg(load_one_ov(REQ, ov) == 0, "%s", err);
		ck_assert_int_eq(cfg.log_level, levels[i].value);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(ov, sizeof(ov), "store.synchronous=\"%s\"", sync[i]);
		ck_assert_msg(load_one_ov(REQ, ov) == 0, "%s", err);
		ck_assert_int_eq(cfg.store_synchronous, i);
	}
}
END_TEST

START_TEST(test_missing_required)
{
	ck_assert_int_eq(load_text("\nstore: { batch_size = 5; };\n"
	    "rules: { dirs = [ \"r\" ]; };\nplugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(2, "missing required setting 'store.path'"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "plugins: { dir = \"p\"; };\n"), -1);
	{
		char want[PATH_MAX + 64];

		snprintf(want, sizeof(want), "%s: missing required setting "
		    "'rules.dirs'", conf_path);
		ck_assert_str_eq(err, want);
	}
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\nplugins: { load = ( ); };\n"), -1);
	ck_assert_str_eq(err, at(3, "missing required setting 'plugins.dir'"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ ]; };\nplugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(2, "rules.dirs: must name at least one "
	    "directory"));
	ck_assert_int_eq(load_text("store: { path = \"\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\nplugins: { dir = \"p\"; };\n"), -1);
	ck_assert_str_eq(err, at(1, "store.path: must not be empty"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\", \"\" ]; };\nplugins: { dir = \"p\"; };\n"),
	    -1);
	ck_assert_str_eq(err, at(2, "rules.dirs[1]: must not be empty"));
	ck_assert_int_eq(load_text(""), -1);
}
END_TEST

START_TEST(test_plugin_names)
{
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = (\n"
	    "{ name = \"rule_engine\"; },\n"
	    "{ name = \"other\"; },\n"
	    "{ name = \"rule_engine\";\n"
	    "  path = \"/x.so\"; } ); };\n"), -1);
	ck_assert_str_eq(err, at(6, "plugins.load[2].name: duplicate plugin "
	    "name \"rule_engine\" (first loaded at %s:4)", conf_path));
	static const char *const bad[] = {
		"Rule", "9lives", "_x", "a-b", "a.b", "", "caf\xc3\xa9", "a b"
	};
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "store: { path = \"db\"; };\n"
		    "rules: { dirs = [ \"r\" ]; };\n"
		    "plugins: { dir = \"p\"; load = (\n"
		    "{ name = \"%s\"; } ); };\n", bad[i]);
		ck_assert_int_eq(load_text(text), -1);
		ck_assert_str_eq(err, at(4, "plugins.load[0].name: invalid "
		    "plugin name \"%s\" (expected [a-z][a-z0-9_]*)", bad[i]));
	}
	ck_assert_msg(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = ( { name = \"a\"; },\n"
	    "{ name = \"z9_x\"; } ); };\n") == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 2);
}
END_TEST

START_TEST(test_syntax_error)
{
	/*
	 * (A string token right before the error, as in `level "info";`,
	 * is leaked by libconfig 1.5 itself; these cases avoid that so the
	 * suite stays clean under valgrind.)
	 */
	ck_assert_int_eq(load_text(REQ "log: {\n\ttarget = \"stderr\";\n"
	    "\tlevel = 3 ];\n};\n"), -1);
	ck_assert_str_eq(err, at(6, "syntax error"));
	ck_assert_int_eq(load_text(REQ "\n\nlog: { level = info; };\n"), -1);
	ck_assert_str_eq(err, at(6, "syntax error"));
	ck_assert_int_eq(load_text("a = 1;\na = 2;\n"), -1);
	ck_assert_str_eq(err, at(2, "duplicate setting name"));
}
END_TEST

START_TEST(test_wide_integer_literal)
{
	/* libconfig 1.5 would read this as 705032704 */
	ck_assert_int_eq(load_text(REQ "# 5000000000 in a comment is fine\n"
	    "store2: { s = \"9999999999\"; x9999999999 = 1; };\n"
	    "input: {\n\tmax_event_bytes = 5000000000;\n};\n"), -1);
	ck_assert_msg(strcmp(err, at(7, "integer 5000000000 does not fit in "
	    "32 bits; write it with an L suffix (5000000000L)")) == 0 ||
	    /* a libconfig that reads 64-bit literals reports the range */
	    strcmp(err, at(5, "unknown setting 'store2'")) == 0, "%s", err);
	ck_assert_msg(load_text(REQ "input: { max_event_bytes = 2048; };\n"
	    "# 1.5e10 0x10 -2147483648 are fine\n") == 0, "%s", err);
}
END_TEST

START_TEST(test_plugin_config_values)
{
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = ( { name = \"a\"; config = {\n"
	    "\tok = \"fine\";\n"
	    "\tbad = \"\\xff\\xfe\";\n"
	    "}; } ); };\n"), -1);
	ck_assert_str_eq(err, at(5, "plugins.load[0].config.bad: string is "
	    "not valid UTF-8"));
	ck_assert_int_eq(load_text("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = ( { name = \"a\"; config = {\n"
	    "\tl = ( 1, { huge = 1e400; } );\n"
	    "}; } ); };\n"), -1);
	ck_assert_str_eq(err, at(4, "plugins.load[0].config.l[1].huge: inf is "
	    "not a finite number"));
}
END_TEST

START_TEST(test_missing_file)
{
	char path[PATH_MAX + 32], want[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	ck_assert_int_eq(config_load(path, NULL, 0, &cfg, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "cannot open %s: %s", path,
	    strerror(ENOENT));
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(cfg.file);

	ck_assert_int_eq(config_load(tmpdir, NULL, 0, &cfg, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "cannot read %s: %s", tmpdir,
	    strerror(EISDIR));
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(config_load(NULL, NULL, 0, &cfg, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "no configuration file given");
	ck_assert_int_eq(config_load("", NULL, 0, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "no configuration file given");

	/* a tiny buffer is truncated, not overrun */
	{
		char small[8];

		memset(small, 'x', sizeof(small));
		ck_assert_int_eq(config_load(path, NULL, 0, &cfg, small,
		    sizeof(small)), -1);
		ck_assert_str_eq(small, "cannot ");
	}
}
END_TEST

/* -------------------------------------------------------- overrides */

START_TEST(test_override_string)
{
	ck_assert_msg(load_one_ov(REQ, "store.path=\"/srv/other.db\"") == 0,
	    "%s", err);
	ck_assert_str_eq(cfg.store_path, "/srv/other.db");
	/* spaces around = and a closing ; are tolerated */
	ck_assert_msg(load_one_ov(REQ, " attack.release = \"v16\" ;") == 0,
	    "%s", err);
	ck_assert_str_eq(cfg.attack_release, "v16");
}
END_TEST

START_TEST(test_override_type_error)
{
	ck_assert_int_eq(load_one_ov(REQ, "store.batch_size=\"many\""), -1);
	ck_assert_str_eq(err, "-o store.batch_size=\"many\": "
	    "store.batch_size: expected integer, got string");
	ck_assert_int_eq(load_one_ov(REQ, "store.batch_size=0"), -1);
	ck_assert_str_eq(err, "-o store.batch_size=0: store.batch_size: 0 is "
	    "out of range (1..100000)");
	ck_assert_int_eq(load_one_ov(REQ, "store=5"), -1);
	ck_assert_str_eq(err, "-o store=5: store: expected group, got "
	    "integer");
}
END_TEST

START_TEST(test_override_create)
{
	const char *ov[] = {
		"log.level=\"debug\"",
		"input.max_event_bytes=2048",
		"input.anchor_policy=\"derive\"",
	};

	ck_assert_msg(load_text_ov(REQ, ov, 3) == 0, "%s", err);
	ck_assert_int_eq(cfg.log_level, TTPD_LOG_DEBUG);
	ck_assert_int_eq(cfg.max_event_bytes, 2048);
	ck_assert_int_eq(cfg.anchor_derive, 1);
	/* a whole group, and the required settings, may come from -o */
	{
		const char *ov2[] = {
			"store={ path = \"/a.db\"; batch_size = 9; }",
			"rules.dirs=[\"/r\"]",
			"plugins.dir=\"/p\"",
		};

		ck_assert_msg(load_text_ov("", ov2, 3) == 0, "%s", err);
		ck_assert_str_eq(cfg.store_path, "/a.db");
		ck_assert_int_eq(cfg.store_batch_size, 9);
	}
}
END_TEST

START_TEST(test_override_list)
{
	ck_assert_msg(load_one_ov(REQ, "rules.dirs=[ \"/a\", \"/b\" ]") == 0,
	    "%s", err);
	ck_assert_uint_eq(cfg.nrules_dirs, 2);
	ck_assert_str_eq(cfg.rules_dirs[0], "/a");
	ck_assert_str_eq(cfg.rules_dirs[1], "/b");
	/* one element of an array */
	ck_assert_msg(load_one_ov("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"/r0\", \"/r1\", \"/r2\" ]; };\n"
	    "plugins: { dir = \"p\"; };\n", "rules.dirs.[1]=\"/x\"") == 0,
	    "%s", err);
	ck_assert_uint_eq(cfg.nrules_dirs, 3);
	ck_assert_str_eq(cfg.rules_dirs[0], "/r0");
	ck_assert_str_eq(cfg.rules_dirs[1], "/x");
	ck_assert_str_eq(cfg.rules_dirs[2], "/r2");
	ck_assert_int_eq(load_one_ov("store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"/r0\", \"/r1\" ]; };\n"
	    "plugins: { dir = \"p\"; };\n", "rules.dirs.[0]=5"), -1);
	ck_assert_str_eq(err, "-o rules.dirs.[0]=5: 'rules.dirs' is an array "
	    "of strings; set it whole as a list ( ... ) to mix types");
	/* the only element of an array may change type; validation says no */
	ck_assert_int_eq(load_one_ov(REQ, "rules.dirs.[0]=5"), -1);
	ck_assert_str_eq(err, "-o rules.dirs.[0]=5: rules.dirs[0]: expected "
	    "string, got integer");
	ck_assert_int_eq(load_one_ov(REQ, "rules.dirs.[1]=\"/y\""), -1);
	ck_assert_str_eq(err, "-o rules.dirs.[1]=\"/y\": 'rules.dirs' has 1 "
	    "element(s), no [1]");
	/* a list of plugins */
	ck_assert_msg(load_one_ov(REQ, "plugins.load=( { name = \"a\"; }, "
	    "{ name = \"b\"; config = { k = 1; }; } )") == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 2);
	ck_assert_str_eq(cfg.plugins[1].name, "b");
	ck_assert_str_eq(cfg.plugins[1].origin, "-o plugins.load=( { name = "
	    "\"a\"; }, { name = \"b\"; config = { k = 1; }; } )");
}
END_TEST

#define TWO_PLUGINS \
	"store: { path = \"db\"; };\n" \
	"rules: { dirs = [ \"r\" ]; };\n" \
	"plugins: { dir = \"p\"; load = (\n" \
	"\t{ name = \"first\"; config = { jit = true; n = 1; }; },\n" \
	"\t{ name = \"second\"; }\n" \
	"); };\n"

START_TEST(test_override_plugin_config_by_index)
{
	const char *ov[] = {
		"plugins.load.[0].config.jit=false",
		"plugins.load[1].config.deep.er=2",
	};
	char want[PATH_MAX + 32];
	int b = 1;

	ck_assert_msg(load_text_ov(TWO_PLUGINS, ov, 2) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 2);
	ck_assert_str_eq(cfg.plugins[0].name, "first");
	ck_assert_int_eq(jv_get_bool(jv_object_get(cfg.plugins[0].config,
	    "jit"), &b), TTPD_OK);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(int_at(cfg.plugins[0].config, "/n"), 1);
	ck_assert_str_eq(cfg.plugins[1].name, "second");
	ck_assert_int_eq(int_at(cfg.plugins[1].config, "/deep/er"), 2);
	/* entries keep their origin in the file */
	snprintf(want, sizeof(want), "%s:5", conf_path);
	ck_assert_str_eq(cfg.plugins[1].origin, want);

	/* replacing a whole entry keeps the order of the list */
	ck_assert_msg(load_one_ov(TWO_PLUGINS,
	    "plugins.load.[0]={ name = \"zeroth\"; }") == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 2);
	ck_assert_str_eq(cfg.plugins[0].name, "zeroth");
	ck_assert_ptr_null(cfg.plugins[0].config);
	ck_assert_str_eq(cfg.plugins[0].origin,
	    "-o plugins.load.[0]={ name = \"zeroth\"; }");
	ck_assert_str_eq(cfg.plugins[1].name, "second");
	ck_assert_str_eq(cfg.plugins[1].origin, want);

	/* an error in a later entry still names its line in the file */
	ck_assert_int_eq(load_one_ov(TWO_PLUGINS,
	    "plugins.load.[0].name=\"second\""), -1);
	ck_assert_str_eq(err, at(5, "plugins.load[1].name: duplicate plugin "
	    "name \"second\" (first loaded at -o "
	    "plugins.load.[0].name=\"second\")"));
}
END_TEST

START_TEST(test_override_malformed)
{
	ck_assert_int_eq(load_one_ov(REQ, "store.path=\"unterminated"), -1);
	ck_assert_msg(strncmp(err, "-o store.path=\"unterminated: ", 29) == 0,
	    "%s", err);
	ck_assert_int_eq(load_one_ov(REQ, "store.path=/var/db"), -1);
	ck_assert_str_eq(err, "-o store.path=/var/db: syntax error (a string "
	    "value needs double quotes: KEY=\"...\")");
	ck_assert_int_eq(load_one_ov(REQ, "store.path"), -1);
	ck_assert_str_eq(err, "-o store.path: expected KEY=VALUE");
	ck_assert_int_eq(load_one_ov(REQ, "store.path="), -1);
	ck_assert_str_eq(err, "-o store.path=: missing value after '='");
	ck_assert_int_eq(load_one_ov(REQ, "=5"), -1);
	ck_assert_str_eq(err, "-o =5: bad key: empty key");
	ck_assert_int_eq(load_one_ov(REQ, "store..path=\"x\""), -1);
	ck_assert_str_eq(err, "-o store..path=\"x\": bad key: empty name in "
	    "the key");
	ck_assert_int_eq(load_one_ov(REQ, "store.[x]=1"), -1);
	ck_assert_str_eq(err, "-o store.[x]=1: bad key: expected [N] with a "
	    "decimal index");
	ck_assert_int_eq(load_one_ov(REQ, "[0]=1"), -1);
	ck_assert_str_eq(err, "-o [0]=1: bad key: the key must start with a "
	    "name");
	ck_assert_int_eq(load_one_ov(REQ, "store.=1"), -1);
	ck_assert_str_eq(err, "-o store.=1: bad key: the key ends with '.'");
	ck_assert_int_eq(load_one_ov(REQ, "store.path=\"a\"; evil = 1"), -1);
	ck_assert_str_eq(err, "-o store.path=\"a\"; evil = 1: the value must "
	    "be one libconfig value, not several settings");
	ck_assert_int_eq(load_one_ov(REQ, "store.path.x=1"), -1);
	ck_assert_str_eq(err, "-o store.path.x=1: 'store.path' is a string, "
	    "not a group");
	ck_assert_int_eq(load_one_ov(REQ, "store.[0]=1"), -1);
	ck_assert_str_eq(err, "-o store.[0]=1: 'store' is a group, not a "
	    "list");
	ck_assert_int_eq(load_one_ov(REQ, "store.batch_size=5000000000"), -1);
	ck_assert_msg(strcmp(err, "-o store.batch_size=5000000000: integer "
	    "5000000000 does not fit in 32 bits; write it with an L suffix "
	    "(5000000000L)") == 0 || strstr(err, "out of range") != NULL,
	    "%s", err);
}
END_TEST

START_TEST(test_override_unknown_key)
{
	ck_assert_int_eq(load_one_ov(REQ, "store.pathh=\"x\""), -1);
	ck_assert_str_eq(err, "-o store.pathh=\"x\": unknown setting "
	    "'store.pathh'");
	ck_assert_int_eq(load_one_ov(REQ, "stor.path=\"x\""), -1);
	ck_assert_str_eq(err, "-o stor.path=\"x\": unknown setting 'stor'");
	ck_assert_int_eq(load_one_ov(TWO_PLUGINS,
	    "plugins.load.[1].confg.x=1"), -1);
	ck_assert_str_eq(err, "-o plugins.load.[1].confg.x=1: unknown setting "
	    "'plugins.load[1].confg' (a plugins.load entry takes name, path "
	    "and config)");
}
END_TEST

START_TEST(test_override_order)
{
	const char *ov[] = {
		"log.level=\"err\"",
		"store.batch_size=0",		/* invalid, but overridden */
		"log.level=\"notice\"",
		"store.batch_size=10",
	};

	ck_assert_msg(load_text_ov(REQ, ov, 4) == 0, "%s", err);
	ck_assert_int_eq(cfg.log_level, TTPD_LOG_NOTICE);
	ck_assert_int_eq(cfg.store_batch_size, 10);
}
END_TEST

/* ------------------------------------------------------------ paths */

START_TEST(test_relative_paths)
{
	char sub[PATH_MAX + 16], oldcwd[PATH_MAX], want[PATH_MAX + 64];
	const char *ov[] = {
		"plugins.dir=\"../plugs\"",
		"attack.bundle=\"./b.json\"",
	};

	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_ptr_nonnull(getcwd(oldcwd, sizeof(oldcwd)));
	ck_assert_int_eq(chdir(sub), 0);

	/* from the file: against the file's directory (tmpdir) */
	ck_assert_msg(load_text_ov("store: { path = \"state/x.db\"; };\n"
	    "rules: { dirs = [ \"r\", \"./r2\", \"../r3\", \"/abs\" ]; };\n"
	    "plugins: { dir = \"p\"; load = ( { name = \"a\"; "
	    "path = \"a.so\"; } ); };\n"
	    "attack: { bundle = \"attack.json\"; };\n", ov, 2) == 0,
	    "%s", err);
	assert_str_path(cfg.store_path, tmpdir, "state/x.db");
	assert_str_path(cfg.rules_dirs[0], tmpdir, "r");
	assert_str_path(cfg.rules_dirs[1], tmpdir, "r2");
	/* tmpdir is /tmp/check_config.XXXXXX after realpath() */
	snprintf(want, sizeof(want), "%s", tmpdir);
	*strrchr(want, '/') = '\0';
	assert_str_path(cfg.rules_dirs[2], want, "r3");
	ck_assert_str_eq(cfg.rules_dirs[3], "/abs");
	assert_str_path(cfg.plugins[0].path, tmpdir, "a.so");
	/* from -o: against the working directory (tmpdir/sub) */
	assert_str_path(cfg.plugins_dir, tmpdir, "plugs");
	assert_str_path(cfg.attack_bundle, sub, "b.json");

	ck_assert_msg(load_one_ov(REQ, "store.path=\"rel.db\"") == 0, "%s",
	    err);
	assert_str_path(cfg.store_path, sub, "rel.db");
	/* :memory: is not a path */
	ck_assert_msg(load_one_ov(REQ, "store.path=\":memory:\"") == 0, "%s",
	    err);
	ck_assert_str_eq(cfg.store_path, ":memory:");
	/* a relative config path works too */
	write_file("rel.conf", REQ);
	config_free(&cfg);
	ck_assert_msg(config_load("rel.conf", NULL, 0, &cfg, err,
	    sizeof(err)) == 0, "%s", err);
	assert_str_path(cfg.file, sub, "rel.conf");
	assert_str_path(cfg.store_path, sub, "db");

	ck_assert_int_eq(chdir(oldcwd), 0);
}
END_TEST

/* ------------------------------------------------------------- print */

static void
assert_same_config(const struct config *a, const struct config *b)
{
	ck_assert_str_eq(a->store_path, b->store_path);
	ck_assert_int_eq(a->store_batch_size, b->store_batch_size);
	ck_assert_int_eq(a->store_cache_kib, b->store_cache_kib);
	ck_assert_int_eq(a->store_synchronous, b->store_synchronous);
	ck_assert_int_eq(a->store_busy_timeout_ms, b->store_busy_timeout_ms);
	ck_assert_int_eq(a->store_indexes, b->store_indexes);
	ck_assert_uint_eq(a->nrules_dirs, b->nrules_dirs);
	for (size_t i = 0; i < a->nrules_dirs; i++)
		ck_assert_str_eq(a->rules_dirs[i], b->rules_dirs[i]);
	ck_assert_str_eq(a->plugins_dir, b->plugins_dir);
	ck_assert_uint_eq(a->nplugins, b->nplugins);
	for (size_t i = 0; i < a->nplugins; i++) {
		ck_assert_str_eq(a->plugins[i].name, b->plugins[i].name);
		ck_assert_pstr_eq(a->plugins[i].path, b->plugins[i].path);
		ck_assert_int_eq(a->plugins[i].config == NULL,
		    b->plugins[i].config == NULL);
		if (a->plugins[i].config != NULL) {
			char *da = jv_dump(a->plugins[i].config);
			char *db = jv_dump(b->plugins[i].config);

			ck_assert_msg(jv_equal(a->plugins[i].config,
			    b->plugins[i].config), "%s != %s", da, db);
			/* same order of members too */
			ck_assert_str_eq(da, db);
			free(da);
			free(db);
		}
	}
	ck_assert_pstr_eq(a->attack_bundle, b->attack_bundle);
	ck_assert_str_eq(a->attack_release, b->attack_release);
	ck_assert_int_eq(a->log_level, b->log_level);
	ck_assert_int_eq(a->log_syslog, b->log_syslog);
	ck_assert_int_eq(a->max_event_bytes, b->max_event_bytes);
	ck_assert_int_eq(a->anchor_derive, b->anchor_derive);
}

static void
print_round_trip(const char *path, const char *const *ov, size_t nov)
{
	struct config again;
	char printed[PATH_MAX + 32];
	FILE *fp;

	config_free(&cfg);
	ck_assert_msg(config_load(path, ov, nov, &cfg, err, sizeof(err)) == 0,
	    "%s", err);
	snprintf(printed, sizeof(printed), "%s/printed.conf", tmpdir);
	fp = fopen(printed, "w");
	ck_assert_ptr_nonnull(fp);
	config_print(&cfg, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_msg(config_load(printed, NULL, 0, &again, err,
	    sizeof(err)) == 0, "reloading the printed config: %s", err);
	assert_same_config(&cfg, &again);
	config_free(&again);
}

START_TEST(test_print_round_trip)
{
	char *full = joined(srcdir(), "tests/data/conf/full.conf");
	char *minimal = joined(srcdir(), "tests/data/conf/minimal.conf");
	char *shipped = joined(srcdir(), "conf/ttpd.conf");
	const char *ov[] = {
		"plugins.load.[0].config.s=\"back\\\\slash \\\"quote\\\" "
		    "nl\\n tab\\t ctl\\x01 \xe2\x82\xac\"",
		"plugins.load.[0].config.wide=[ 1L, 2L ]",
		"plugins.load.[0].config.reals=[ 1.0, 2.5e-300, -0.0 ]",
		"plugins.load.[0].config.whole=3.0",
		"plugins.load.[0].config.negwide=-9000000000L",
		"plugins.load.[1].config={ }",
		"attack.bundle=\"\"",
	};

	print_round_trip(full, NULL, 0);
	print_round_trip(full, ov, sizeof(ov) / sizeof(ov[0]));
	print_round_trip(minimal, NULL, 0);
	print_round_trip(shipped, NULL, 0);
	free(full);
	free(minimal);
	free(shipped);
}
END_TEST

START_TEST(test_print_text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_msg(load_one_ov(REQ, "log.level=\"warning\"") == 0, "%s",
	    err);
	fp = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(fp);
	config_print(&cfg, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(strstr(buf, "log: {\n\tlevel = \"warning\";\n"
	    "\ttarget = \"stderr\";\n\tfacility = \"daemon\";\n};\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\tbatch_size = 10000;\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\tload = ( );\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\tsynchronous = \"normal\";\n"));
	free(buf);
}
END_TEST

/* ------------------------------------------------- plugin key checks */

static const ttpd_config_key test_keys[] = {
	{ "limit", TTPD_CFG_INT, 1, "required integer" },
	{ "ratio", TTPD_CFG_REAL, 0, "a real" },
	{ "name", TTPD_CFG_STRING, 0, "a string" },
	{ "on", TTPD_CFG_BOOL, 0, "a boolean" },
	{ "items", TTPD_CFG_LIST, 0, "a list" },
	{ "sub", TTPD_CFG_GROUP, 0, "a group" },
	{ NULL, 0, 0, NULL }
};

static int
check_one(const char *config_group)
{
	char text[1024];

	snprintf(text, sizeof(text), "store: { path = \"db\"; };\n"
	    "rules: { dirs = [ \"r\" ]; };\n"
	    "plugins: { dir = \"p\"; load = (\n"
	    "{ name = \"x\"; %s } ); };\n", config_group);
	ck_assert_msg(load_text(text) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nplugins, 1);
	return config_check_plugin(&cfg.plugins[0], test_keys, err,
	    sizeof(err));
}

START_TEST(test_check_plugin)
{
	/* every type, int accepted for a real, lists and arrays */
	ck_assert_msg(check_one("config = { limit = 3; ratio = 1; "
	    "name = \"n\"; on = true; items = ( 1, \"a\" ); sub = { a = 1; }; "
	    "};") == 0, "%s", err);
	ck_assert_msg(check_one("config = { limit = 3L; ratio = 0.5; "
	    "items = [ 1, 2 ]; };") == 0, "%s", err);

	ck_assert_int_eq(check_one("config = { limit = 3; limt = 4; };"), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'limt': unknown "
	    "key (known keys: limit, ratio, name, on, items, sub)"));
	ck_assert_int_eq(check_one("config = { limit = 3.5; };"), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'limit': expected "
	    "integer, got float"));
	ck_assert_int_eq(check_one("config = { limit = 1; on = 1; };"), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'on': expected "
	    "boolean, got integer"));
	ck_assert_int_eq(check_one("config = { limit = 1; ratio = \"1\"; };"),
	    -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'ratio': expected "
	    "number, got string"));
	ck_assert_int_eq(check_one("config = { limit = 1; sub = [ 1 ]; };"),
	    -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'sub': expected "
	    "group, got list"));
	ck_assert_int_eq(check_one("config = { limit = 1; items = { }; };"),
	    -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'items': expected "
	    "list, got group"));
	ck_assert_int_eq(check_one("config = { ratio = 2.0; };"), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'limit': required "
	    "but not set"));
	ck_assert_int_eq(check_one(""), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'limit': required "
	    "but not set"));

	/* a plugin that declares no keys accepts no config */
	ck_assert_int_eq(check_one("config = { a = 1; };"), -1);
	ck_assert_int_eq(config_check_plugin(&cfg.plugins[0], NULL, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, at(4, "plugin 'x': config key 'a': unknown key "
	    "(this plugin takes no config keys)"));
	ck_assert_msg(load_text(TWO_PLUGINS) == 0, "%s", err);
	ck_assert_int_eq(config_check_plugin(&cfg.plugins[1], NULL, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_check_plugin(&cfg.plugins[1], test_keys + 1,
	    err, sizeof(err)), 0);
	{
		static const ttpd_config_key empty[] = { { NULL, 0, 0, NULL } };
		static const ttpd_config_key broken[] = {
			{ "k", 42, 0, "bad type" }, { NULL, 0, 0, NULL }
		};

		ck_assert_int_eq(config_check_plugin(&cfg.plugins[0], empty,
		    err, sizeof(err)), -1);
		ck_assert_int_eq(config_check_plugin(&cfg.plugins[1], broken,
		    err, sizeof(err)), -1);
		ck_assert_str_eq(err, at(5, "plugin 'second': config key 'k': "
		    "declared with unknown type 42"));
	}
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_groups_and_empty_bundle);
	tcase_add_test(tc, test_shipped_confs);
	tcase_add_test(tc, test_bus_keys);
	tcase_add_test(tc, test_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_top_level);
	tcase_add_test(tc, test_unknown_in_group);
	tcase_add_test(tc, test_unknown_in_plugin_entry);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_plugin_entry_types);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_enums);
	tcase_add_test(tc, test_missing_required);
	tcase_add_test(tc, test_plugin_names);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_wide_integer_literal);
	tcase_add_test(tc, test_plugin_config_values);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("overrides");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_override_string);
	tcase_add_test(tc, test_override_type_error);
	tcase_add_test(tc, test_override_create);
	tcase_add_test(tc, test_override_list);
	tcase_add_test(tc, test_override_plugin_config_by_index);
	tcase_add_test(tc, test_override_malformed);
	tcase_add_test(tc, test_override_unknown_key);
	tcase_add_test(tc, test_override_order);
	tcase_add_test(tc, test_relative_paths);
	suite_add_tcase(s, tc);

	tc = tcase_create("print_and_plugins");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_print_round_trip);
	tcase_add_test(tc, test_print_text);
	tcase_add_test(tc, test_check_plugin);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
