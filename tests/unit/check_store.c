#include "config.h"

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "store.h"
#include "tag.h"

/*
 * The store is checked from the outside: a second, plain sqlite3
 * connection inspects what store.c wrote.
 */

/* One directory for the run (removed by the unchecked teardown, which
 * runs even when a test fails), one subdirectory per test. */
static char topdir[PATH_MAX];
static char dir[PATH_MAX + 32];
static char dbpath[PATH_MAX + 64];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
setup_run(void)
{
	snprintf(topdir, sizeof(topdir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(topdir));
}

static void
teardown_run(void)
{
	nftw(topdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t.XXXXXX", topdir);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/ttp.db", dir);
}

static void
teardown(void)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct store *
open_store(void)
{
	struct store_options o;
	struct store *s;
	char err[512] = "";

	store_options_default(&o);
	s = store_open(dbpath, &o, err, sizeof(err));
	ck_assert_msg(s != NULL, "store_open: %s", err);
	return s;
}

static sqlite3 *
raw_open(void)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg != NULL ? msg : "?");
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Column col of every row, joined with '|'. Caller frees. */
static char *
raw_column_join(sqlite3 *db, const char *sql, int col)
{
	sqlite3_stmt *st;
	size_t len = 0, cap = 64, n;
	const char *v;
	char *out;

	out = calloc(1, cap);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, col);
		if (v == NULL)
			v = "NULL";
		n = strlen(v) + 2;
		if (len + n >= cap) {
			cap = (len + n) * 2;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
		    len > 0 ? "|" : "", v);
	}
	sqlite3_finalize(st);
	return out;
}

static char *
raw_join(sqlite3 *db, const char *sql)
{
	return raw_column_join(db, sql, 0);
}

static char *
schema_snapshot(void)
{
	sqlite3 *db = raw_open();
	char *snap;

	snap = raw_join(db, "SELECT type || ' ' || name || ' ' ||"
	    " coalesce(sql, '') FROM sqlite_master ORDER BY name");
	sqlite3_close(db);
	return snap;
}

static char *
xdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* A complete tag; tag.c is not used so the test stands alone. */
static void
make_tag(struct tag *t, int n, const char *attacker, const char *identity,
    double confidence)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->uuid, sizeof(t->uuid),
	    "00000000-0000-5000-8000-%012d", n);
	t->source_kind = xdup("command");
	t->source_id = xdup("cmd_42");
	t->attacker_uuid = xdup(attacker);
	t->identity_uuid = xdup(identity);
	t->session_id = xdup("sid-1");
	t->decky_id = NULL;
	t->tactic = xdup("discovery");
	t->technique_id = xdup("T1083");
	t->sub_technique_id = NULL;
	t->confidence = confidence;
	t->rule_id = xdup("R0014");
	t->rule_version = 2;
	t->evidence = xdup("{\"matched_tokens\": [\"ls\"]}");
	t->attack_release = xdup("v15.1");
	t->mitre_url = xdup("https://attack.mitre.org/techniques/T1083");
	snprintf(t->created_at, sizeof(t->created_at),
	    "2024-05-06 07:08:09.%06d", n);
}

static void
clear_tag(struct tag *t)
{
	tag_free(t);
}

static void
clear_tags(struct tag *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		clear_tag(&t[i]);
}

static int64_t
count_tags(void)
{
	sqlite3 *db = raw_open();
	int64_t n;

	n = raw_int(db, "SELECT count(*) FROM ttp_tag");
	sqlite3_close(db);
	return n;
}

/* DECNET's tables as its migration creates them (decnet-host.md 3). */
static const char decnet_ddl_head[] =
	"CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
	" CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));"
	"INSERT INTO alembic_version VALUES ('4a914b1d62a0');"
	"CREATE TABLE attacker_identities (uuid VARCHAR NOT NULL,"
	" campaign_id VARCHAR, ipv6_link_local_iids JSON,"
	" PRIMARY KEY (uuid));"
	"CREATE TABLE attackers (uuid VARCHAR NOT NULL, ip VARCHAR NOT NULL,"
	" identity_id VARCHAR, last_seen DATETIME, commands JSON,"
	" PRIMARY KEY (uuid),"
	" FOREIGN KEY (identity_id) REFERENCES attacker_identities (uuid));"
	"CREATE INDEX ix_attackers_ip ON attackers (ip);"
	"CREATE TABLE ttp_rule (rule_id VARCHAR NOT NULL,"
	" rule_version INTEGER NOT NULL, source_path VARCHAR NOT NULL,"
	" yaml_content TEXT NOT NULL, updated_at DATETIME NOT NULL,"
	" updated_by VARCHAR NOT NULL, PRIMARY KEY (rule_id));"
	"CREATE TABLE ttp_rule_state (rule_id VARCHAR NOT NULL,"
	" state VARCHAR NOT NULL, confidence_max FLOAT,"
	" expires_at DATETIME, reason VARCHAR, set_by VARCHAR,"
	" set_at DATETIME NOT NULL, PRIMARY KEY (rule_id));"
	"CREATE TABLE ttp_tag ("
	" uuid VARCHAR NOT NULL, source_kind VARCHAR NOT NULL,"
	" source_id VARCHAR NOT NULL, attacker_uuid VARCHAR,"
	" identity_uuid VARCHAR, session_id VARCHAR, decky_id VARCHAR,"
	" tactic VARCHAR NOT NULL, technique_id VARCHAR NOT NULL,"
	" sub_technique_id VARCHAR, confidence FLOAT NOT NULL,"
	" rule_id VARCHAR NOT NULL, rule_version INTEGER NOT NULL,"
	" evidence JSON NOT NULL, attack_release VARCHAR NOT NULL,";

static const char decnet_ddl_tail[] =
	" created_at DATETIME NOT NULL,"
	" PRIMARY KEY (uuid),"
	" CONSTRAINT ttp_tag_has_anchor"
	"  CHECK (attacker_uuid IS NOT NULL OR identity_uuid IS NOT NULL),"
	" CONSTRAINT ttp_tag_confidence_range"
	"  CHECK (confidence >= 0.0 AND confidence <= 1.0),"
	" FOREIGN KEY (attacker_uuid) REFERENCES attackers (uuid)"
	"  ON DELETE CASCADE,"
	" FOREIGN KEY (identity_uuid) REFERENCES attacker_identities (uuid)"
	"  ON DELETE CASCADE);"
	"CREATE INDEX ix_ttp_tag_attack_release ON ttp_tag (attack_release);"
	"CREATE INDEX ix_ttp_tag_attacker_technique"
	" ON ttp_tag (attacker_uuid, technique_id);"
	"CREATE INDEX ix_ttp_tag_attacker_uuid ON ttp_tag (attacker_uuid);"
	"CREATE INDEX ix_ttp_tag_created_at ON ttp_tag (created_at);"
	"CREATE INDEX ix_ttp_tag_decky_id ON ttp_tag (decky_id);"
	"CREATE INDEX ix_ttp_tag_identity_technique"
	" ON ttp_tag (identity_uuid, technique_id);"
	"CREATE INDEX ix_ttp_tag_identity_uuid ON ttp_tag (identity_uuid);"
	"CREATE INDEX ix_ttp_tag_rule_id ON ttp_tag (rule_id);"
	"CREATE INDEX ix_ttp_tag_session_id ON ttp_tag (session_id);"
	"CREATE INDEX ix_ttp_tag_sub_technique_id"
	" ON ttp_tag (sub_technique_id);"
	"CREATE INDEX ix_ttp_tag_tactic ON ttp_tag (tactic);"
	"CREATE INDEX ix_ttp_tag_technique_created"
	" ON ttp_tag (technique_id, created_at);"
	"CREATE INDEX ix_ttp_tag_technique_id ON ttp_tag (technique_id);";

/* DECNET's database; with_mitre_url = 0 leaves one column out. */
static void
create_decnet_db(int with_mitre_url)
{
	sqlite3 *db = raw_open();
	char *sql;
	size_t len;

	len = strlen(decnet_ddl_head) + strlen(decnet_ddl_tail) + 64;
	sql = malloc(len);
	ck_assert_ptr_nonnull(sql);
	snprintf(sql, len, "%s%s%s", decnet_ddl_head,
	    with_mitre_url ? " mitre_url VARCHAR," : "", decnet_ddl_tail);
	raw_exec(db, "PRAGMA journal_mode=WAL");
	raw_exec(db, sql);
	free(sql);
	sqlite3_close(db);
}

static const char *const expected_columns[][3] = {
	/* name, declared type, NOT NULL */
	{ "uuid", "VARCHAR", "1" },
	{ "source_kind", "VARCHAR", "1" },
	{ "source_id", "VARCHAR", "1" },
	{ "attacker_uuid", "VARCHAR", "0" },
	{ "identity_uuid", "VARCHAR", "0" },
	{ "session_id", "VARCHAR", "0" },
	{ "decky_id", "VARCHAR", "0" },
	{ "tactic", "VARCHAR", "1" },
	{ "technique_id", "VARCHAR", "1" },
	{ "sub_technique_id", "VARCHAR", "0" },
	{ "confidence", "FLOAT", "1" },
	{ "rule_id", "VARCHAR", "1" },
	{ "rule_version", "INTEGER", "1" },
	{ "evidence", "JSON", "1" },
	{ "attack_release", "VARCHAR", "1" },
	{ "mitre_url", "VARCHAR", "0" },
	{ "created_at", "DATETIME", "1" },
};

/* DECNET's 13 indexes: name, columns, also in store.indexes = compact. */
static const struct {
	const char *name, *cols;
	int compact;
} expected_indexes[] = {
	{ "ix_ttp_tag_attack_release", "attack_release", 0 },
	{ "ix_ttp_tag_attacker_technique", "attacker_uuid|technique_id", 1 },
	{ "ix_ttp_tag_attacker_uuid", "attacker_uuid", 0 },
	{ "ix_ttp_tag_created_at", "created_at", 1 },
	{ "ix_ttp_tag_decky_id", "decky_id", 1 },
	{ "ix_ttp_tag_identity_technique", "identity_uuid|technique_id", 1 },
	{ "ix_ttp_tag_identity_uuid", "identity_uuid", 0 },
	{ "ix_ttp_tag_rule_id", "rule_id", 1 },
	{ "ix_ttp_tag_session_id", "session_id", 1 },
	{ "ix_ttp_tag_sub_technique_id", "sub_technique_id", 1 },
	{ "ix_ttp_tag_tactic", "tactic", 1 },
	{ "ix_ttp_tag_technique_created", "technique_id|created_at", 1 },
	{ "ix_ttp_tag_technique_id", "technique_id", 0 },
};

/* The indexes of ttp_tag are exactly DECNET's (all 13) or the compact
 * set, each with DECNET's columns. */
static void
assert_index_set(sqlite3 *db, int all)
{
	char want[1024] = "", sql[256], *got;
	size_t i, n = 0;

	for (i = 0; i < 13; i++) {
		if (!all && !expected_indexes[i].compact)
			continue;
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "%s%s", n++ > 0 ? "|" : "", expected_indexes[i].name);
		snprintf(sql, sizeof(sql), "SELECT name FROM"
		    " pragma_index_info('%s') ORDER BY seqno",
		    expected_indexes[i].name);
		got = raw_join(db, sql);
		ck_assert_str_eq(got, expected_indexes[i].cols);
		free(got);
	}
	ck_assert_uint_eq(n, all ? 13 : 9);
	got = raw_join(db, "SELECT name FROM sqlite_master WHERE type='index'"
	    " AND tbl_name='ttp_tag' AND sql IS NOT NULL ORDER BY name");
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_schema_created)
{
	struct store *s = open_store();
	sqlite3_stmt *st;
	sqlite3 *db;
	char *got;
	size_t n;

	store_close(s);
	db = raw_open();

	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT name, type, \"notnull\","
	    " pk FROM pragma_table_info('ttp_tag') ORDER BY cid", -1, &st,
	    NULL), SQLITE_OK);
	for (n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
		ck_assert_uint_lt(n, 17);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0),
		    expected_columns[n][0]);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 1),
		    expected_columns[n][1]);
		ck_assert_int_eq(sqlite3_column_int(st, 2),
		    expected_columns[n][2][0] - '0');
		ck_assert_int_eq(sqlite3_column_int(st, 3), n == 0);
	}
	sqlite3_finalize(st);
	ck_assert_uint_eq(n, 17);

	/* Named CHECKs, present and enforced. */
	got = raw_join(db, "SELECT sql FROM sqlite_master WHERE name='ttp_tag'");
	ck_assert_ptr_nonnull(strstr(got, "CONSTRAINT ttp_tag_has_anchor"));
	ck_assert_ptr_nonnull(strstr(got, "CONSTRAINT ttp_tag_confidence_range"));
	free(got);
	ck_assert_int_ne(sqlite3_exec(db, "INSERT INTO ttp_tag VALUES ('u1',"
	    " 'k', 's', 'a', NULL, NULL, NULL, 't', 'T1', NULL, 1.5, 'r', 1,"
	    " '{}', 'v15.1', NULL, '2024-01-01 00:00:00.000000')", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db),
	    "ttp_tag_confidence_range"));
	ck_assert_int_ne(sqlite3_exec(db, "INSERT INTO ttp_tag VALUES ('u2',"
	    " 'k', 's', NULL, NULL, NULL, NULL, 't', 'T1', NULL, 0.5, 'r', 1,"
	    " '{}', 'v15.1', NULL, '2024-01-01 00:00:00.000000')", NULL, NULL,
	    NULL), SQLITE_OK);
	ck_assert_ptr_nonnull(strstr(sqlite3_errmsg(db), "ttp_tag_has_anchor"));

	/* By default the compact set: DECNET's indexes minus four. */
	assert_index_set(db, 0);

	/* Standalone file: no foreign keys to absent DECNET tables. */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM"
	    " pragma_foreign_key_list('ttp_tag')"), 0);

	got = raw_join(db, "SELECT name || ':' || type || ':' || \"notnull\""
	    " FROM pragma_table_info('ttp_rule_state') ORDER BY cid");
	ck_assert_str_eq(got, "rule_id:VARCHAR:1|state:VARCHAR:1|"
	    "confidence_max:FLOAT:0|expires_at:DATETIME:0|reason:VARCHAR:0|"
	    "set_by:VARCHAR:0|set_at:DATETIME:1");
	free(got);

	got = raw_join(db, "PRAGMA journal_mode");
	ck_assert_str_eq(got, "wal");
	free(got);
	sqlite3_close(db);
}
END_TEST

/* Opening the existing file with options o changes nothing in its
 * schema. */
static void
assert_open_keeps_schema(const struct store_options *o)
{
	char err[512] = "", *before, *after;
	struct store *s;

	before = schema_snapshot();
	s = store_open(dbpath, o, err, sizeof(err));
	ck_assert_msg(s != NULL, "store_open: %s", err);
	store_close(s);
	after = schema_snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}

START_TEST(test_reopen_keeps_schema)
{
	store_close(open_store());
	assert_open_keeps_schema(NULL);
}
END_TEST

START_TEST(test_decnet_db_accepted_unchanged)
{
	char *before, *after;
	struct store *s;
	struct tag t;
	sqlite3 *db;

	create_decnet_db(1);
	before = schema_snapshot();
	ck_assert_ptr_nonnull(strstr(before, "REFERENCES attackers"));

	s = open_store();
	make_tag(&t, 1, "att-1", NULL, 0.8);
	ck_assert_int_eq(store_insert_tags(s, &t, 1, NULL), 1);
	clear_tag(&t);
	store_close(s);

	after = schema_snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);

	db = raw_open();
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM ttp_tag"), 1);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM alembic_version"
	    " WHERE version_num='4a914b1d62a0'"), 1);
	sqlite3_close(db);
}
END_TEST

/* store.indexes = decnet: all 13; reopening with either set never adds
 * or drops an index of an existing table. */
START_TEST(test_index_sets)
{
	struct store_options o;
	struct store *s;
	char err[512] = "";
	sqlite3 *db;

	store_options_default(&o);
	ck_assert_int_eq(o.indexes, STORE_INDEXES_COMPACT);
	o.indexes = STORE_INDEXES_DECNET;
	s = store_open(dbpath, &o, err, sizeof(err));
	ck_assert_msg(s != NULL, "store_open: %s", err);
	store_close(s);
	db = raw_open();
	assert_index_set(db, 1);
	sqlite3_close(db);
	assert_open_keeps_schema(NULL);

	unlink(dbpath);
	store_close(open_store());
	assert_open_keeps_schema(&o);
	db = raw_open();
	assert_index_set(db, 0);
	sqlite3_close(db);
}
END_TEST

/* What the compact set leaves out costs no query an index: every lookup
 * DECNET's indexes serve is still answered through one. */
START_TEST(test_compact_indexes_serve_lookups)
{
	static const char *const where[] = {
		"attacker_uuid = 'a'", "identity_uuid = 'i'",
		"technique_id = 'T1'", "attack_release = 'v18.1'",
		"attacker_uuid = 'a' AND technique_id = 'T1'",
		"identity_uuid = 'i' AND technique_id = 'T1'",
		"technique_id = 'T1' AND created_at >= '2026'",
		"created_at >= '2026'", "decky_id = 'd'", "rule_id = 'R1'",
		"session_id = 's'", "sub_technique_id = 'T1.001'",
		"tactic = 'discovery'",
	};
	char sql[256], *plan;
	sqlite3 *db;
	size_t i;

	store_close(open_store());
	db = raw_open();
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		/* detail is the plan's fourth column */
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN SELECT * FROM"
		    " ttp_tag WHERE %s", where[i]);
		plan = raw_column_join(db, sql, 3);
		if (strcmp(where[i], "attack_release = 'v18.1'") == 0)
			/* one value per release: a scan is the right plan */
			ck_assert_msg(strstr(plan, "SCAN") != NULL, "%s: %s",
			    where[i], plan);
		else
			ck_assert_msg(strstr(plan, "USING INDEX") != NULL ||
			    strstr(plan, "USING COVERING INDEX") != NULL,
			    "%s: %s", where[i], plan);
		free(plan);
	}
	sqlite3_close(db);
}
END_TEST

/* Descriptors of this process whose target ends with suffix (NULL: all). */
static int
count_fds(const char *suffix)
{
	char link[PATH_MAX + 32], target[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	ssize_t len;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (suffix == NULL || (strlen(target) >= strlen(suffix) &&
		    strcmp(target + strlen(target) - strlen(suffix),
		    suffix) == 0))
			n++;
	}
	closedir(d);
	return n;
}

/* A commit starts the WAL's writeback through a descriptor of the store's
 * own, which goes with the store. */
START_TEST(test_wal_writeback_descriptor)
{
	int before = count_fds(NULL);
	struct store *s;
	struct tag t;

	s = open_store();
	make_tag(&t, 1, "att-1", NULL, 0.8);
	ck_assert_int_eq(store_insert_tags(s, &t, 1, NULL), 1);
	clear_tag(&t);
#ifdef HAVE_SYNC_FILE_RANGE
	/* SQLite's own and the store's */
	ck_assert_int_eq(count_fds("/ttp.db-wal"), 2);
#endif
	store_close(s);
	ck_assert_int_eq(count_fds(NULL), before);
}
END_TEST

START_TEST(test_missing_column_rejected)
{
	struct store_options o;
	char err[512] = "";
	char *before, *after;

	create_decnet_db(0);
	before = schema_snapshot();
	store_options_default(&o);
	ck_assert_ptr_null(store_open(dbpath, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, "ttp_tag") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, "mitre_url") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, dbpath) != NULL, "err: %s", err);
	after = schema_snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_rule_state_missing_column_rejected)
{
	struct store_options o;
	char err[512] = "";
	sqlite3 *db = raw_open();

	raw_exec(db, "CREATE TABLE ttp_rule_state (rule_id VARCHAR NOT NULL,"
	    " state VARCHAR NOT NULL, confidence_max FLOAT,"
	    " set_at DATETIME NOT NULL, PRIMARY KEY (rule_id))");
	sqlite3_close(db);
	store_options_default(&o);
	ck_assert_ptr_null(store_open(dbpath, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, "ttp_rule_state") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, "expires_at") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, dbpath) != NULL, "err: %s", err);
	/* All-or-nothing: ttp_tag was not created either. */
	db = raw_open();
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master"
	    " WHERE name='ttp_tag'"), 0);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_create_schema_disabled)
{
	struct store_options o;
	char err[512] = "";
	sqlite3 *db;

	store_options_default(&o);
	o.create_schema = 0;
	ck_assert_ptr_null(store_open(dbpath, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, "ttp_tag") != NULL, "err: %s", err);
	ck_assert_msg(strstr(err, dbpath) != NULL, "err: %s", err);
	db = raw_open();
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master"), 0);
	sqlite3_close(db);

	/* With DECNET's tables in place it opens. */
	create_decnet_db(1);
	store_close(store_open(dbpath, &o, err, sizeof(err)));
	ck_assert_msg(err[0] == '\0', "err: %s", err);
}
END_TEST

START_TEST(test_bad_options_rejected)
{
	struct store_options o;
	char err[512] = "";

	store_options_default(&o);
	o.synchronous = 7;
	ck_assert_ptr_null(store_open(dbpath, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, "synchronous") != NULL, "err: %s", err);
	ck_assert_ptr_null(store_open("", &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, "path") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_insert_then_reinsert)
{
	struct store *s = open_store();
	unsigned char ins[3] = { 9, 9, 9 };
	struct tag t[3], mixed[2];

	make_tag(&t[0], 1, "att-1", NULL, 0.5);
	make_tag(&t[1], 2, "att-1", "id-1", 0.9);
	make_tag(&t[2], 3, NULL, "id-1", 1.0);
	ck_assert_int_eq(store_insert_tags(s, t, 3, ins), 3);
	ck_assert_int_eq(ins[0], 1);
	ck_assert_int_eq(ins[1], 1);
	ck_assert_int_eq(ins[2], 1);
	ck_assert_int_eq(store_insert_tags(s, t, 3, ins), 0);
	ck_assert_int_eq(ins[0], 0);
	ck_assert_int_eq(ins[1], 0);
	ck_assert_int_eq(ins[2], 0);
	ck_assert_int_eq(store_insert_tags(s, t, 3, NULL), 0);

	make_tag(&mixed[0], 2, "att-1", NULL, 0.5);
	make_tag(&mixed[1], 4, "att-1", NULL, 0.5);
	ck_assert_int_eq(store_insert_tags(s, mixed, 2, ins), 1);
	ck_assert_int_eq(ins[0], 0);
	ck_assert_int_eq(ins[1], 1);
	ck_assert_int_eq(store_insert_tags(s, mixed, 0, ins), 0);

	clear_tags(t, 3);
	clear_tags(mixed, 2);
	store_close(s);
	ck_assert_int_eq(count_tags(), 4);
}
END_TEST

START_TEST(test_values_and_first_wins)
{
	struct store *s = open_store();
	struct tag t, again;
	sqlite3 *db;
	char *got;

	make_tag(&t, 7, "att-7", NULL, 0.55);
	t.sub_technique_id = xdup("T1083.001");
	ck_assert_int_eq(store_insert_tags(s, &t, 1, NULL), 1);

	/* Same uuid, other values: the first row stays. */
	make_tag(&again, 7, "att-7", NULL, 0.95);
	snprintf(again.created_at, sizeof(again.created_at),
	    "2030-01-01 00:00:00.000000");
	ck_assert_int_eq(store_insert_tags(s, &again, 1, NULL), 0);
	store_close(s);

	db = raw_open();
	got = raw_join(db, "SELECT uuid || ',' || source_kind || ',' ||"
	    " source_id || ',' || attacker_uuid || ',' ||"
	    " coalesce(identity_uuid, 'NULL') || ',' || session_id || ',' ||"
	    " coalesce(decky_id, 'NULL') || ',' || tactic || ',' ||"
	    " technique_id || ',' || sub_technique_id || ',' || confidence ||"
	    " ',' || rule_id || ',' || rule_version || ',' || evidence || ','"
	    " || attack_release || ',' || mitre_url || ',' || created_at"
	    " FROM ttp_tag");
	ck_assert_str_eq(got, "00000000-0000-5000-8000-000000000007,command,"
	    "cmd_42,att-7,NULL,sid-1,NULL,discovery,T1083,T1083.001,0.55,"
	    "R0014,2,{\"matched_tokens\": [\"ls\"]},v15.1,"
	    "https://attack.mitre.org/techniques/T1083,"
	    "2024-05-06 07:08:09.000007");
	free(got);
	got = raw_join(db, "SELECT typeof(confidence) || ',' ||"
	    " typeof(rule_version) || ',' || typeof(evidence) || ',' ||"
	    " typeof(created_at) || ',' || typeof(decky_id) FROM ttp_tag");
	ck_assert_str_eq(got, "real,integer,text,text,null");
	free(got);
	sqlite3_close(db);
	clear_tag(&t);
	clear_tag(&again);
}
END_TEST

/* inserted[] follows the caller's indexes, whatever the uuid order, and
 * the first of two equal uuids in one batch wins. */
START_TEST(test_batch_order_invisible)
{
	static const int ids[] = { 5, 3, 9, 3, 1, 7 };
	struct store *s = open_store();
	unsigned char ins[6];
	struct tag t[6];
	sqlite3 *db;
	char *got;
	size_t i;

	for (i = 0; i < 6; i++)
		make_tag(&t[i], ids[i], "att-1", NULL, 0.5 + 0.05 * (double)i);
	ck_assert_int_eq(store_insert_tags(s, t, 6, ins), 5);
	ck_assert_int_eq(ins[0], 1);
	ck_assert_int_eq(ins[1], 1);
	ck_assert_int_eq(ins[2], 1);
	ck_assert_int_eq(ins[3], 0);
	ck_assert_int_eq(ins[4], 1);
	ck_assert_int_eq(ins[5], 1);
	/* again, with one new tag in the middle */
	clear_tag(&t[2]);
	make_tag(&t[2], 4, "att-1", NULL, 0.5);
	ck_assert_int_eq(store_insert_tags(s, t, 6, ins), 1);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(ins[i], i == 2);
	store_close(s);

	db = raw_open();
	got = raw_join(db, "SELECT substr(uuid, 25) || '=' || confidence"
	    " FROM ttp_tag ORDER BY uuid");
	ck_assert_str_eq(got, "000000000001=0.7|000000000003=0.55|"
	    "000000000004=0.5|000000000005=0.5|000000000007=0.75|"
	    "000000000009=0.6");
	free(got);
	sqlite3_close(db);
	clear_tags(t, 6);
}
END_TEST

START_TEST(test_confidence_floor)
{
	struct store *s = open_store();
	unsigned char ins[3];
	struct tag t[3];

	make_tag(&t[0], 1, "att-1", NULL, 0.29);
	make_tag(&t[1], 2, "att-1", NULL, 0.3);
	make_tag(&t[2], 3, "att-1", NULL, 0.0);
	ck_assert_int_eq(store_insert_tags(s, t, 3, ins), 1);
	ck_assert_int_eq(ins[0], 0);
	ck_assert_int_eq(ins[1], 1);
	ck_assert_int_eq(ins[2], 0);
	clear_tags(t, 3);
	store_close(s);
	ck_assert_int_eq(count_tags(), 1);
}
END_TEST

START_TEST(test_anchorless_skipped)
{
	struct store *s = open_store();
	unsigned char ins[3];
	struct tag t[3];

	make_tag(&t[0], 1, NULL, NULL, 0.8);
	make_tag(&t[1], 2, NULL, "id-2", 0.8);
	make_tag(&t[2], 3, "att-3", NULL, 0.8);
	ck_assert_int_eq(store_insert_tags(s, t, 3, ins), 2);
	ck_assert_int_eq(ins[0], 0);
	ck_assert_int_eq(ins[1], 1);
	ck_assert_int_eq(ins[2], 1);
	clear_tags(t, 3);
	store_close(s);
	ck_assert_int_eq(count_tags(), 2);
}
END_TEST

START_TEST(test_check_violation_skips_row_only)
{
	struct store *s = open_store();
	unsigned char ins[4];
	struct tag t[4];

	make_tag(&t[0], 1, "att-1", NULL, 0.8);
	make_tag(&t[1], 2, "att-1", NULL, 1.5);
	make_tag(&t[2], 3, "att-1", NULL, 0.8);
	/* A NOT NULL violation is a row problem too. */
	make_tag(&t[3], 4, "att-1", NULL, 0.8);
	free(t[3].tactic);
	t[3].tactic = NULL;
	ck_assert_int_eq(store_insert_tags(s, t, 4, ins), 2);
	ck_assert_int_eq(ins[0], 1);
	ck_assert_int_eq(ins[1], 0);
	ck_assert_int_eq(ins[2], 1);
	ck_assert_int_eq(ins[3], 0);

	/* Inside a caller's transaction the good rows survive as well. */
	clear_tags(t, 4);
	make_tag(&t[0], 5, "att-1", NULL, 1.5);
	make_tag(&t[1], 6, "att-1", NULL, 0.8);
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_insert_tags(s, t, 2, ins), 1);
	ck_assert_int_eq(store_commit(s), 0);
	clear_tags(t, 2);
	store_close(s);
	ck_assert_int_eq(count_tags(), 3);
}
END_TEST

struct seen_states {
	int n;
	int enabled, disabled, clipped;
	int64_t exp_ns;
};

static void
collect_state(void *ud, const char *rule_id, const struct rule_state *st)
{
	struct seen_states *seen = ud;

	seen->n++;
	if (strcmp(rule_id, "R-en") == 0 && st->state == RULE_STATE_ENABLED)
		seen->enabled++;
	if (strcmp(rule_id, "R-dis") == 0 && st->state == RULE_STATE_DISABLED)
		seen->disabled++;
	if (strcmp(rule_id, "R-clip") == 0 && st->state == RULE_STATE_CLIPPED &&
	    st->has_confidence_max && st->confidence_max == 0.6)
		seen->clipped++;
	if (strcmp(rule_id, "R-exp") == 0)
		seen->exp_ns = st->expires_at_ns;
}

START_TEST(test_rule_state)
{
	struct store *s = open_store();
	struct seen_states seen;
	struct rule_state rs;
	sqlite3 *db = raw_open();

	raw_exec(db, "INSERT INTO ttp_rule_state (rule_id, state,"
	    " confidence_max, expires_at, set_at) VALUES"
	    " ('R-en', 'enabled', NULL, NULL, '2024-01-01 00:00:00.000000'),"
	    " ('R-dis', 'disabled', NULL, NULL, '2024-01-01 00:00:00.000000'),"
	    " ('R-clip', 'clipped', 0.6, NULL, '2024-01-01 00:00:00.000000'),"
	    " ('R-exp', 'clipped', 0.5, '2020-01-02 03:04:05.250000',"
	    "  '2020-01-01 00:00:00.000000'),"
	    " ('R-nofrac', 'disabled', NULL, '2031-12-31 23:59:59',"
	    "  '2024-01-01 00:00:00'),"
	    " ('R-tz', 'disabled', NULL, '2024-02-29T12:00:00.5Z',"
	    "  '2024-01-01 00:00:00'),"
	    " ('R-off', 'disabled', 1, '2024-02-29T12:00:00+00:00',"
	    "  '2024-01-01 00:00:00'),"
	    " ('R-bad', 'paused', NULL, NULL, '2024-01-01 00:00:00'),"
	    " ('R-badexp', 'disabled', NULL, '2024-02-30 00:00:00',"
	    "  '2024-01-01 00:00:00'),"
	    " ('R-offset', 'disabled', NULL, '2024-01-01 00:00:00+02:00',"
	    "  '2024-01-01 00:00:00')");
	sqlite3_close(db);

	ck_assert_int_eq(store_rule_state(s, "R-en", &rs), 0);
	ck_assert_int_eq(rs.state, RULE_STATE_ENABLED);
	ck_assert_int_eq(rs.has_confidence_max, 0);
	ck_assert_int_eq(rs.expires_at_ns, 0);

	ck_assert_int_eq(store_rule_state(s, "R-dis", &rs), 0);
	ck_assert_int_eq(rs.state, RULE_STATE_DISABLED);
	ck_assert_int_eq(rs.expires_at_ns, 0);

	ck_assert_int_eq(store_rule_state(s, "R-clip", &rs), 0);
	ck_assert_int_eq(rs.state, RULE_STATE_CLIPPED);
	ck_assert_int_eq(rs.has_confidence_max, 1);
	ck_assert_double_eq(rs.confidence_max, 0.6);
	ck_assert_int_eq(rs.expires_at_ns, 0);

	ck_assert_int_eq(store_rule_state(s, "R-exp", &rs), 0);
	ck_assert_int_eq(rs.state, RULE_STATE_CLIPPED);
	ck_assert_double_eq(rs.confidence_max, 0.5);
	ck_assert_int_eq(rs.expires_at_ns,
	    INT64_C(1577934245) * 1000000000 + 250000000);

	ck_assert_int_eq(store_rule_state(s, "R-nofrac", &rs), 0);
	ck_assert_int_eq(rs.expires_at_ns, INT64_C(1956527999) * 1000000000);
	ck_assert_int_eq(store_rule_state(s, "R-tz", &rs), 0);
	ck_assert_int_eq(rs.expires_at_ns,
	    INT64_C(1709208000) * 1000000000 + 500000000);
	ck_assert_int_eq(store_rule_state(s, "R-off", &rs), 0);
	ck_assert_int_eq(rs.expires_at_ns, INT64_C(1709208000) * 1000000000);
	ck_assert_int_eq(rs.has_confidence_max, 1);
	ck_assert_double_eq(rs.confidence_max, 1.0);

	/* No row: enabled and nothing else. */
	memset(&rs, 0x5a, sizeof(rs));
	ck_assert_int_eq(store_rule_state(s, "R-none", &rs), 0);
	ck_assert_int_eq(rs.state, RULE_STATE_ENABLED);
	ck_assert_int_eq(rs.has_confidence_max, 0);
	ck_assert_int_eq(rs.expires_at_ns, 0);

	/* Unknown state and unreadable times are errors for that row. */
	ck_assert_int_eq(store_rule_state(s, "R-bad", &rs), -1);
	ck_assert_ptr_nonnull(strstr(store_error(s), "R-bad"));
	ck_assert_ptr_nonnull(strstr(store_error(s), "paused"));
	ck_assert_int_eq(store_rule_state(s, "R-badexp", &rs), -1);
	ck_assert_ptr_nonnull(strstr(store_error(s), "2024-02-30"));
	ck_assert_int_eq(store_rule_state(s, "R-offset", &rs), -1);

	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(store_rule_states(s, collect_state, &seen), 0);
	ck_assert_int_eq(seen.n, 7);
	ck_assert_int_eq(seen.enabled, 1);
	ck_assert_int_eq(seen.disabled, 1);
	ck_assert_int_eq(seen.clipped, 1);
	ck_assert_int_eq(seen.exp_ns,
	    INT64_C(1577934245) * 1000000000 + 250000000);
	store_close(s);
}
END_TEST

START_TEST(test_attacker_lookup)
{
	struct store *s = open_store();
	char uuid[TAG_UUID_LEN + 1];
	sqlite3 *db;

	ck_assert_int_eq(store_has_attackers(s), 0);
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.1", uuid,
	    sizeof(uuid)), 0);

	db = raw_open();
	raw_exec(db, "CREATE TABLE attackers (uuid VARCHAR NOT NULL,"
	    " ip VARCHAR NOT NULL, PRIMARY KEY (uuid));"
	    "INSERT INTO attackers VALUES"
	    " ('11111111-1111-4111-8111-111111111111', '10.0.0.1'),"
	    " ('22222222-2222-4222-8222-222222222222', '10.0.0.2'),"
	    " ('33333333-3333-4333-8333-333333333333', '10.0.0.2')");
	sqlite3_close(db);

	ck_assert_int_eq(store_has_attackers(s), 1);
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.1", uuid,
	    sizeof(uuid)), 1);
	ck_assert_str_eq(uuid, "11111111-1111-4111-8111-111111111111");
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.9", uuid,
	    sizeof(uuid)), 0);
	ck_assert_str_eq(uuid, "");
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.2", uuid,
	    sizeof(uuid)), 0);
	ck_assert_str_eq(uuid, "");
	/* The statement is reusable after each answer. */
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.1", uuid,
	    sizeof(uuid)), 1);
	ck_assert_int_eq(store_attacker_by_ip(s, "10.0.0.1", uuid, 8), -1);
	ck_assert_ptr_nonnull(strstr(store_error(s), "10.0.0.1"));
	store_close(s);
}
END_TEST

START_TEST(test_transactions)
{
	struct store *s = open_store();
	struct tag t[2];
	sqlite3 *db;

	make_tag(&t[0], 1, "att-1", NULL, 0.8);
	make_tag(&t[1], 2, "att-1", NULL, 0.8);

	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_begin(s), -1);
	ck_assert_ptr_nonnull(strstr(store_error(s), "already"));
	ck_assert_int_eq(store_insert_tags(s, t, 2, NULL), 2);
	ck_assert_int_eq(store_rollback(s), 0);
	ck_assert_int_eq(count_tags(), 0);

	/* Rolled-back rows were never there: they insert as new. */
	ck_assert_int_eq(store_begin(s), 0);
	ck_assert_int_eq(store_insert_tags(s, t, 2, NULL), 2);
	/* Not visible to another connection before commit. */
	ck_assert_int_eq(count_tags(), 0);
	ck_assert_int_eq(store_commit(s), 0);
	ck_assert_int_eq(count_tags(), 2);

	ck_assert_int_eq(store_commit(s), -1);
	ck_assert_ptr_nonnull(strstr(store_error(s), "without"));
	ck_assert_int_eq(store_rollback(s), 0);

	/* Without begin, the insert commits on its own. */
	clear_tags(t, 2);
	make_tag(&t[0], 3, "att-1", NULL, 0.8);
	ck_assert_int_eq(store_insert_tags(s, t, 1, NULL), 1);
	ck_assert_int_eq(count_tags(), 3);
	clear_tag(&t[0]);

	db = raw_open();
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM ttp_tag"), 3);
	sqlite3_close(db);
	store_close(s);
}
END_TEST

START_TEST(test_locked_database_is_an_error)
{
	struct store_options o;
	struct store *s;
	char err[512] = "";
	struct tag t;
	sqlite3 *db;

	store_options_default(&o);
	o.busy_timeout_ms = 50;
	s = store_open(dbpath, &o, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	make_tag(&t, 1, "att-1", NULL, 0.8);

	db = raw_open();
	raw_exec(db, "BEGIN IMMEDIATE");
	ck_assert_int_eq(store_insert_tags(s, &t, 1, NULL), -1);
	ck_assert_msg(strstr(store_error(s), "locked") != NULL, "%s",
	    store_error(s));
	ck_assert_ptr_nonnull(strstr(store_error(s), dbpath));
	ck_assert_int_eq(store_begin(s), -1);
	raw_exec(db, "ROLLBACK");
	sqlite3_close(db);

	ck_assert_int_eq(store_insert_tags(s, &t, 1, NULL), 1);
	clear_tag(&t);
	store_close(s);
}
END_TEST

START_TEST(test_unwritable_path)
{
	struct store_options o;
	char err[512] = "", path[PATH_MAX + 96];
	FILE *f;

	store_options_default(&o);
	snprintf(path, sizeof(path), "%s/no/such/dir/ttp.db", dir);
	ck_assert_ptr_null(store_open(path, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, path) != NULL, "err: %s", err);

	/* A parent that is a file, not a directory (fails even as root). */
	snprintf(path, sizeof(path), "%s/plain", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	snprintf(path, sizeof(path), "%s/plain/ttp.db", dir);
	err[0] = '\0';
	ck_assert_ptr_null(store_open(path, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, path) != NULL, "err: %s", err);

	/* A file that is not a database at all. */
	snprintf(path, sizeof(path), "%s/junk.db", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("this is not an SQLite database, not even close to one....\n"
	    "padding padding padding padding padding padding padding\n", f);
	fclose(f);
	err[0] = '\0';
	ck_assert_ptr_null(store_open(path, &o, err, sizeof(err)));
	ck_assert_msg(strstr(err, path) != NULL, "err: %s", err);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_unchecked_fixture(tc, setup_run, teardown_run);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_created);
	tcase_add_test(tc, test_reopen_keeps_schema);
	tcase_add_test(tc, test_decnet_db_accepted_unchanged);
	tcase_add_test(tc, test_index_sets);
	tcase_add_test(tc, test_wal_writeback_descriptor);
	tcase_add_test(tc, test_compact_indexes_serve_lookups);
	tcase_add_test(tc, test_missing_column_rejected);
	tcase_add_test(tc, test_rule_state_missing_column_rejected);
	tcase_add_test(tc, test_create_schema_disabled);
	tcase_add_test(tc, test_bad_options_rejected);
	tcase_add_test(tc, test_insert_then_reinsert);
	tcase_add_test(tc, test_values_and_first_wins);
	tcase_add_test(tc, test_batch_order_invisible);
	tcase_add_test(tc, test_confidence_floor);
	tcase_add_test(tc, test_anchorless_skipped);
	tcase_add_test(tc, test_check_violation_skips_row_only);
	tcase_add_test(tc, test_rule_state);
	tcase_add_test(tc, test_attacker_lookup);
	tcase_add_test(tc, test_transactions);
	tcase_add_test(tc, test_locked_database_is_an_error);
	tcase_add_test(tc, test_unwritable_path);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
