#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

/*
 * The SQLite tag store.
 *
 * Every statement the hot path runs is prepared once in store_open() and
 * reused; text is bound with SQLITE_STATIC straight from the caller's tags,
 * so an insert allocates nothing per row.  A store handle belongs to one
 * thread at a time (the connection is opened without SQLite's mutex).
 */

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *insert;
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *rule_state_one;
	sqlite3_stmt *rule_state_all;
	sqlite3_stmt *has_attackers;
	sqlite3_stmt *attacker_by_ip; /* prepared on first use */
	sqlite3_stmt *attacker_intel; /* prepared on first use */
	struct log_ratelimit warnlog;
	int busy;	/* the last error was SQLITE_BUSY / SQLITE_LOCKED */
	int wal_fd;	/* the WAL, for early writeback (-1: not open) */
	int wal_frames;	/* frames in the WAL after the last commit */
	int wal_flushed; /* frames whose writeback was started */
	int page_size;
	char err[512];
};

/* WAL tuning (see apply_pragmas, wal_hook): pages, bytes. */
#define STORE_WAL_CHECKPOINT 10000
#define STORE_WAL_WRITEBACK 256
#define STORE_WAL_SIZE_LIMIT "67108864"

/* DECNET's ttp_tag columns, in table order (decnet-host.md 3.1). */
static const char *const tag_columns[] = {
	"uuid", "source_kind", "source_id", "attacker_uuid", "identity_uuid",
	"session_id", "decky_id", "tactic", "technique_id",
	"sub_technique_id", "confidence", "rule_id", "rule_version",
	"evidence", "attack_release", "mitre_url", "created_at", NULL
};

/* The ttp_rule_state columns ttpd reads. */
static const char *const rule_state_columns[] = {
	"rule_id", "state", "confidence_max", "expires_at", NULL
};

/*
 * DECNET's table without its two FOREIGN KEY clauses (to attackers and
 * attacker_identities): a standalone ttpd database has neither table, and a
 * reference to a missing table would make the schema inconsistent for any
 * tool that turns foreign_keys on.  DECNET never enables foreign_keys on
 * SQLite, so leaving them out changes no behaviour.  When DECNET created the
 * table, its own DDL (with the FKs) is kept untouched.
 */
static const char ttp_tag_ddl[] =
	"CREATE TABLE IF NOT EXISTS ttp_tag ("
	" uuid VARCHAR NOT NULL,"
	" source_kind VARCHAR NOT NULL,"
	" source_id VARCHAR NOT NULL,"
	" attacker_uuid VARCHAR,"
	" identity_uuid VARCHAR,"
	" session_id VARCHAR,"
	" decky_id VARCHAR,"
	" tactic VARCHAR NOT NULL,"
	" technique_id VARCHAR NOT NULL,"
	" sub_technique_id VARCHAR,"
	" confidence FLOAT NOT NULL,"
	" rule_id VARCHAR NOT NULL,"
	" rule_version INTEGER NOT NULL,"
	" evidence JSON NOT NULL,"
	" attack_release VARCHAR NOT NULL,"
	" mitre_url VARCHAR,"
	" created_at DATETIME NOT NULL,"
	" PRIMARY KEY (uuid),"
	" CONSTRAINT ttp_tag_has_anchor"
	"  CHECK (attacker_uuid IS NOT NULL OR identity_uuid IS NOT NULL),"
	" CONSTRAINT ttp_tag_confidence_range"
	"  CHECK (confidence >= 0.0 AND confidence <= 1.0)"
	")";

/*
 * DECNET's 13 indexes on ttp_tag.  Every index costs a B-tree insert per
 * row, and the writer is the daemon's ceiling, so a table ttpd creates
 * itself gets, by default (store.indexes = compact), only those a query
 * can use: DECNET's single-column indexes on attacker_uuid, identity_uuid
 * and technique_id lead its two-column indexes, which SQLite uses for the
 * same lookups, and attack_release holds one value per ATT&CK release.
 * bench_store, 1M rows in batches of 50,000: 25.3 instead of 36.4 us of
 * CPU per row (realistic workload), 32.2 instead of 53.3 (worst).
 */
static const struct {
	const char *ddl;
	int compact;    /* also created by store.indexes = compact */
} ttp_tag_indexes[] = {
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_attack_release"
	  " ON ttp_tag (attack_release)", 0 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_attacker_technique"
	  " ON ttp_tag (attacker_uuid, technique_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_attacker_uuid"
	  " ON ttp_tag (attacker_uuid)", 0 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_created_at"
	  " ON ttp_tag (created_at)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_decky_id"
	  " ON ttp_tag (decky_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_identity_technique"
	  " ON ttp_tag (identity_uuid, technique_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_identity_uuid"
	  " ON ttp_tag (identity_uuid)", 0 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_rule_id"
	  " ON ttp_tag (rule_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_session_id"
	  " ON ttp_tag (session_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_sub_technique_id"
	  " ON ttp_tag (sub_technique_id)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_tactic"
	  " ON ttp_tag (tactic)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_technique_created"
	  " ON ttp_tag (technique_id, created_at)", 1 },
	{ "CREATE INDEX IF NOT EXISTS ix_ttp_tag_technique_id"
	  " ON ttp_tag (technique_id)", 0 },
};

static const char ttp_rule_state_ddl[] =
	"CREATE TABLE IF NOT EXISTS ttp_rule_state ("
	" rule_id VARCHAR NOT NULL,"
	" state VARCHAR NOT NULL,"
	" confidence_max FLOAT,"
	" expires_at DATETIME,"
	" reason VARCHAR,"
	" set_by VARCHAR,"
	" set_at DATETIME NOT NULL,"
	" PRIMARY KEY (rule_id)"
	");";

static const char insert_sql[] =
	"INSERT INTO ttp_tag (uuid, source_kind, source_id, attacker_uuid,"
	" identity_uuid, session_id, decky_id, tactic, technique_id,"
	" sub_technique_id, confidence, rule_id, rule_version, evidence,"
	" attack_release, mitre_url, created_at)"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	" ON CONFLICT (uuid) DO NOTHING";

static void store_warn(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Row-level complaints (a CHECK failure, a bad rule-state row) can repeat
 * for every event: rate-limited per store. */
static void
store_warn(struct store *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_limited(&s->warnlog, TTPD_LOG_WARNING, "%s", msg);
}

static void
set_err(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	s->busy = 0;
}

/* "<path>: <what>: <sqlite message>" */
static void
set_sqlite_err(struct store *s, const char *what)
{
	int code = sqlite3_errcode(s->db) & 0xff;

	set_err(s, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	s->busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

void
store_options_default(struct store_options *o)
{
	memset(o, 0, sizeof(*o));
	o->busy_timeout_ms = 30000;
	o->cache_size_kib = 0;
	o->synchronous = 1;
	o->create_schema = 1;
	o->indexes = STORE_INDEXES_COMPACT;
}

static int
prepare(struct store *s, const char *sql, sqlite3_stmt **out,
    const char *what)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	    NULL) != SQLITE_OK) {
		*out = NULL;
		set_sqlite_err(s, what);
		return -1;
	}
	return 0;
}

/* Run a statement that returns no rows we care about. */
static int
exec_sql(struct store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_sqlite_err(s, what);
		return -1;
	}
	return 0;
}

/* 1 if the table exists, 0 if not, -1 on error. */
static int
table_exists(struct store *s, const char *table)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT 1 FROM sqlite_master"
	    " WHERE type='table' AND name=?", &st,
	    "cannot read the schema") < 0)
		return -1;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_sqlite_err(s, "cannot read the schema");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
}

/* Every required column present in an existing table; never alters it. */
static int
check_columns(struct store *s, const char *table, const char *const *cols)
{
	sqlite3_stmt *st;
	char sql[128];
	size_t i;
	int rc, found;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM pragma_table_info('%s')"
	    " WHERE name=?", table);
	if (prepare(s, sql, &st, "cannot read the schema") < 0)
		return -1;
	for (i = 0; cols[i] != NULL; i++) {
		sqlite3_bind_text(st, 1, cols[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		found = rc == SQLITE_ROW;
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			set_sqlite_err(s, "cannot read the schema");
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
		if (!found) {
			set_err(s, "%s: table %s has no column %s, which ttpd"
			    " needs; the table is not DECNET's (left"
			    " unchanged)", s->path, table, cols[i]);
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* The indexes of a ttp_tag table ttpd has just created. */
static int
create_tag_indexes(struct store *s, enum store_indexes set)
{
	size_t i;

	for (i = 0; i < sizeof(ttp_tag_indexes) / sizeof(ttp_tag_indexes[0]);
	    i++)
		if ((set == STORE_INDEXES_DECNET || ttp_tag_indexes[i].compact) &&
		    exec_sql(s, ttp_tag_indexes[i].ddl,
		    "cannot create the schema") < 0)
			return -1;
	return 0;
}

/*
 * Create what is missing, check what exists.  Runs in one IMMEDIATE
 * transaction so two processes opening a fresh file do not race, and a
 * table is never left without its indexes.
 */
static int
prepare_schema(struct store *s, int create, enum store_indexes set)
{
	static const struct {
		const char *name;
		const char *ddl;
		const char *const *cols;
	} tables[] = {
		{ "ttp_tag", ttp_tag_ddl, tag_columns },
		{ "ttp_rule_state", ttp_rule_state_ddl, rule_state_columns },
	};
	size_t i;
	int exists;

	if (exec_sql(s, "BEGIN IMMEDIATE", "cannot lock the database") < 0)
		return -1;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		exists = table_exists(s, tables[i].name);
		if (exists < 0)
			goto fail;
		if (exists) {
			if (check_columns(s, tables[i].name,
			    tables[i].cols) < 0)
				goto fail;
			continue;
		}
		if (!create) {
			set_err(s, "%s: table %s is missing and schema creation"
			    " is disabled", s->path, tables[i].name);
			goto fail;
		}
		if (exec_sql(s, tables[i].ddl, "cannot create the schema") < 0)
			goto fail;
		if (tables[i].ddl == ttp_tag_ddl &&
		    create_tag_indexes(s, set) < 0)
			goto fail;
	}
	if (exec_sql(s, "COMMIT", "cannot commit the schema") < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * After every commit: how big the WAL is (for start_wal_writeback()), and
 * the checkpoint.  With DECNET's random uuid key a 1000-tag commit dirties
 * ~20-30 MB of pages, so SQLite's default, a checkpoint every 1000 pages
 * (4 MB), would run after every commit; every 10000 pages lets a hot page
 * be written back once for several commits (bench_store: ~25% less CPU
 * and WAL traffic per tag).  This replaces wal_autocheckpoint's own hook
 * and does what it does.
 */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *s = arg;

	s->wal_frames = frames;
	if (frames >= STORE_WAL_CHECKPOINT)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

static int
apply_pragmas(struct store *s, const struct store_options *o)
{
	sqlite3_stmt *st;
	const char *mode;
	char sql[64];
	int ok;

	sqlite3_busy_timeout(s->db, o->busy_timeout_ms);
	if (o->synchronous < 0 || o->synchronous > 2) {
		set_err(s, "%s: synchronous must be 0 (off), 1 (normal) or"
		    " 2 (full), not %d", s->path, o->synchronous);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA synchronous=%d", o->synchronous);
	if (exec_sql(s, sql, "cannot set synchronous") < 0)
		return -1;
	if (o->cache_size_kib != 0) {
		snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld",
		    (long long)(o->cache_size_kib < 0 ? -o->cache_size_kib :
		    o->cache_size_kib));
		if (exec_sql(s, sql, "cannot set cache_size") < 0)
			return -1;
	}

	/* journal_mode answers with the mode it really chose. */
	if (prepare(s, "PRAGMA journal_mode=WAL", &st,
	    "cannot switch to WAL") < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		set_sqlite_err(s, "cannot switch to WAL");
		sqlite3_finalize(st);
		return -1;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	ok = mode != NULL && (strcmp(mode, "wal") == 0 ||
	    strcmp(mode, "memory") == 0);
	if (!ok)
		set_err(s, "%s: cannot switch to WAL (journal mode stays %s)",
		    s->path, mode != NULL ? mode : "unknown");
	sqlite3_finalize(st);
	if (!ok)
		return -1;

	/* see wal_hook; shrink the WAL file again after an unusually big
	 * batch */
	sqlite3_wal_hook(s->db, wal_hook, s);
	return exec_sql(s, "PRAGMA journal_size_limit=" STORE_WAL_SIZE_LIMIT,
	    "cannot set the WAL size limit");
}

/*
 * Start writing the WAL's new pages to disk now, without waiting.  The
 * checkpoint that copies the WAL back (every ~40 MB) first fsyncs it; left
 * to the kernel's 30 s writeback, that fsync has the whole WAL to write,
 * and every event behind the checkpoint's commit waited for it (~40 ms,
 * most of the p99 latency at 10,000 events/s; with this, under 15 ms).
 * Any descriptor of the file will do: the writeback is the inode's.  The
 * durability is SQLite's as before: this only starts the writes sooner.
 */
static void
open_wal(struct store *s)
{
#ifdef HAVE_SYNC_FILE_RANGE
	char wal[4200];

	/* opened while ttpd may still be root (the file is the database
	 * owner's); a failure only means no early writeback */
	if (s->wal_fd < 0 && snprintf(wal, sizeof(wal), "%s-wal", s->path) <
	    (int)sizeof(wal))
		s->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
#else
	(void)s;
#endif
}

static void
start_wal_writeback(struct store *s)
{
#ifdef HAVE_SYNC_FILE_RANGE
	int64_t frame = (int64_t)s->page_size + 24, from, to;

	if (s->wal_frames < s->wal_flushed)
		s->wal_flushed = 0; /* the WAL started over */
	/* a megabyte at a time: fewer, larger writes */
	if (s->wal_frames - s->wal_flushed < STORE_WAL_WRITEBACK ||
	    s->page_size <= 0)
		return;
	open_wal(s);
	if (s->wal_fd < 0)
		return;
	from = 32 + (int64_t)s->wal_flushed * frame;
	to = 32 + (int64_t)s->wal_frames * frame;
	sync_file_range(s->wal_fd, from, to - from, SYNC_FILE_RANGE_WRITE);
	s->wal_flushed = s->wal_frames;
#else
	(void)s;
#endif
}

struct store *
store_open(const char *path, const struct store_options *o, char *err,
    size_t errlen)
{
	return store_open_ex(path, o, NULL, err, errlen);
}

struct store *
store_open_ex(const char *path, const struct store_options *o, int *busy,
    char *err, size_t errlen)
{
	struct store_options defaults;
	struct store *s;
	sqlite3_stmt *st;

	if (busy != NULL)
		*busy = 0;
	if (errlen > 0)
		*err = '\0';
	if (o == NULL) {
		store_options_default(&defaults);
		o = &defaults;
	}
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "store: no database path given");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = malloc(strlen(path) + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		free(s);
		return NULL;
	}
	memcpy(s->path, path, strlen(path) + 1);
	s->wal_fd = -1;
	s->warnlog = (struct log_ratelimit)LOG_RATELIMIT_INIT(60, 10);

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (s->db == NULL)
			set_err(s, "%s: cannot open the database: %s", path,
			    strerror(ENOMEM));
		else
			set_err(s, "%s: cannot open the database: %s (does"
			    " the directory exist and is it writable?)",
			    path, sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* SQLite silently falls back to read-only on a protected file. */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		set_err(s, "%s: the database file is not writable", path);
		goto fail;
	}
	if (apply_pragmas(s, o) < 0 ||
	    prepare_schema(s, o->create_schema, o->indexes) < 0)
		goto fail;

	if (prepare(s, insert_sql, &s->insert,
	    "cannot prepare the insert into ttp_tag") < 0 ||
	    prepare(s, "BEGIN IMMEDIATE", &s->begin, "cannot prepare") < 0 ||
	    prepare(s, "COMMIT", &s->commit, "cannot prepare") < 0 ||
	    prepare(s, "ROLLBACK", &s->rollback, "cannot prepare") < 0 ||
	    prepare(s, "SELECT state, confidence_max, expires_at"
	    " FROM ttp_rule_state WHERE rule_id=?", &s->rule_state_one,
	    "cannot prepare the ttp_rule_state query") < 0 ||
	    prepare(s, "SELECT rule_id, state, confidence_max, expires_at"
	    " FROM ttp_rule_state", &s->rule_state_all,
	    "cannot prepare the ttp_rule_state query") < 0 ||
	    prepare(s, "SELECT 1 FROM sqlite_master"
	    " WHERE type='table' AND name='attackers'", &s->has_attackers,
	    "cannot prepare") < 0)
		goto fail;
	if (prepare(s, "PRAGMA page_size", &st, "cannot read the page size") < 0)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		s->page_size = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	open_wal(s);
	return s;
fail:
	snprintf(err, errlen, "%s", s->err);
	if (busy != NULL)
		*busy = s->busy;
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->rule_state_one);
	sqlite3_finalize(s->rule_state_all);
	sqlite3_finalize(s->has_attackers);
	sqlite3_finalize(s->attacker_by_ip);
	sqlite3_finalize(s->attacker_intel);
	/* Closing with a transaction open rolls it back. */
	sqlite3_close(s->db);
	if (s->wal_fd >= 0)
		close(s->wal_fd);
	free(s->path);
	free(s);
}

static int
run_once(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		set_sqlite_err(s, what);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_begin(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		set_err(s, "%s: a transaction is already open", s->path);
		return -1;
	}
	return run_once(s, s->begin, "cannot begin a transaction");
}

int
store_commit(struct store *s)
{
	if (sqlite3_get_autocommit(s->db)) {
		set_err(s, "%s: commit without an open transaction", s->path);
		return -1;
	}
	/* On failure (e.g. busy) the transaction stays open: retry or roll
	 * back. */
	if (run_once(s, s->commit, "cannot commit") < 0)
		return -1;
	start_wal_writeback(s);
	return 0;
}

int
store_rollback(struct store *s)
{
	/* SQLite may already have rolled back after an I/O or full-disk
	 * error; there is nothing left to undo then. */
	if (sqlite3_get_autocommit(s->db))
		return 0;
	return run_once(s, s->rollback, "cannot roll back");
}

static void
bind_text_or_null(sqlite3_stmt *st, int col, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
}

/* Length of a fixed-size field that may lack its NUL. */
static int
field_len(const char *v, size_t max)
{
	const char *nul = memchr(v, '\0', max);

	return nul != NULL ? (int)(nul - v) : (int)max;
}

static void
bind_tag(sqlite3_stmt *st, const struct tag *t)
{
	sqlite3_bind_text(st, 1, t->uuid, field_len(t->uuid,
	    TAG_UUID_LEN), SQLITE_STATIC);
	bind_text_or_null(st, 2, t->source_kind);
	bind_text_or_null(st, 3, t->source_id);
	bind_text_or_null(st, 4, t->attacker_uuid);
	bind_text_or_null(st, 5, t->identity_uuid);
	bind_text_or_null(st, 6, t->session_id);
	bind_text_or_null(st, 7, t->decky_id);
	bind_text_or_null(st, 8, t->tactic);
	bind_text_or_null(st, 9, t->technique_id);
	bind_text_or_null(st, 10, t->sub_technique_id);
	sqlite3_bind_double(st, 11, t->confidence);
	bind_text_or_null(st, 12, t->rule_id);
	sqlite3_bind_int64(st, 13, t->rule_version);
	bind_text_or_null(st, 14, t->evidence);
	bind_text_or_null(st, 15, t->attack_release);
	bind_text_or_null(st, 16, t->mitre_url);
	sqlite3_bind_text(st, 17, t->created_at, field_len(t->created_at,
	    TAG_TIME_LEN), SQLITE_STATIC);
}

long
store_insert_tags(struct store *s, const struct tag *tags, size_t n,
    unsigned char *inserted)
{
	const struct tag *t;
	long count = 0;
	size_t i;
	int own, rc;

	if (inserted != NULL)
		memset(inserted, 0, n);
	if (n == 0)
		return 0;
	own = sqlite3_get_autocommit(s->db);
	if (own && store_begin(s) < 0)
		return -1;

	for (i = 0; i < n; i++) {
		t = &tags[i];
		/* !(>=) also drops a NaN confidence. */
		if (!(t->confidence >= TAG_CONFIDENCE_FLOOR))
			continue;
		if (t->attacker_uuid == NULL && t->identity_uuid == NULL)
			continue;
		bind_tag(s->insert, t);
		rc = sqlite3_step(s->insert);
		if (rc == SQLITE_DONE) {
			if (sqlite3_changes(s->db) > 0) {
				count++;
				if (inserted != NULL)
					inserted[i] = 1;
			}
		} else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			/* Only this row's statement was undone. */
			store_warn(s, "%s: tag %s (rule %s, %s) not stored: %s",
			    s->path, t->uuid,
			    t->rule_id != NULL ? t->rule_id : "?",
			    t->technique_id != NULL ? t->technique_id : "?",
			    sqlite3_errmsg(s->db));
		} else {
			set_err(s, "%s: cannot insert into ttp_tag: %s",
			    s->path, sqlite3_errmsg(s->db));
			sqlite3_reset(s->insert);
			goto fail;
		}
		sqlite3_reset(s->insert);
	}
	if (own && store_commit(s) < 0)
		goto fail;
	return count;
fail:
	if (inserted != NULL)
		memset(inserted, 0, n);
	if (own)
		store_rollback(s);
	return -1;
}

/* n decimal digits at p into *v; -1 if one is not a digit. */
static int
digits(const char *p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * "YYYY-MM-DD HH:MM:SS[.f{1,9}]" UTC, also with a 'T' separator and a
 * trailing 'Z' or "+00:00".  0 and *ns set, or -1.
 */
static int
parse_utc_datetime(const char *p, int64_t *ns)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, leap, nd;
	int64_t frac = 0, scale = 100000000, secs;

	if (digits(p, 4, &y) < 0 || p[4] != '-' ||
	    digits(p + 5, 2, &mo) < 0 || p[7] != '-' ||
	    digits(p + 8, 2, &d) < 0 || (p[10] != ' ' && p[10] != 'T') ||
	    digits(p + 11, 2, &h) < 0 || p[13] != ':' ||
	    digits(p + 14, 2, &mi) < 0 || p[16] != ':' ||
	    digits(p + 17, 2, &sec) < 0)
		return -1;
	p += 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale == 0)
				return -1; /* more than 9 digits */
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && *p != '\0')
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12)
		return -1;
	nd = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > nd || h > 23 || mi > 59 || sec > 59)
		return -1;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	/* Beyond year 2262 nanoseconds overflow int64: such a date is
	 * "never" for every practical purpose, so saturate. */
	if (secs >= INT64_MAX / INT64_C(1000000000))
		*ns = INT64_MAX;
	else if (secs <= INT64_MIN / INT64_C(1000000000))
		*ns = INT64_MIN + 1;
	else
		*ns = secs * INT64_C(1000000000) + frac;
	return 0;
}

/* Decode one ttp_rule_state row whose state is in column `c`. */
static int
read_rule_state(struct store *s, sqlite3_stmt *st, int c,
    const char *rule_id, struct rule_state *out)
{
	const char *state, *exp;

	memset(out, 0, sizeof(*out));
	state = (const char *)sqlite3_column_text(st, c);
	if (state != NULL && strcmp(state, "enabled") == 0)
		out->state = RULE_STATE_ENABLED;
	else if (state != NULL && strcmp(state, "disabled") == 0)
		out->state = RULE_STATE_DISABLED;
	else if (state != NULL && strcmp(state, "clipped") == 0)
		out->state = RULE_STATE_CLIPPED;
	else {
		set_err(s, "%s: ttp_rule_state row for rule %s has unknown"
		    " state \"%s\" (expected enabled, disabled or clipped)",
		    s->path, rule_id, state != NULL ? state : "NULL");
		return -1;
	}

	switch (sqlite3_column_type(st, c + 1)) {
	case SQLITE_NULL:
		break;
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		out->has_confidence_max = 1;
		out->confidence_max = sqlite3_column_double(st, c + 1);
		break;
	default:
		set_err(s, "%s: ttp_rule_state row for rule %s has a"
		    " non-numeric confidence_max \"%s\"", s->path, rule_id,
		    (const char *)sqlite3_column_text(st, c + 1));
		return -1;
	}

	if (sqlite3_column_type(st, c + 2) == SQLITE_NULL)
		return 0;
	exp = (const char *)sqlite3_column_text(st, c + 2);
	if (sqlite3_column_type(st, c + 2) != SQLITE_TEXT || exp == NULL ||
	    parse_utc_datetime(exp, &out->expires_at_ns) < 0) {
		set_err(s, "%s: ttp_rule_state row for rule %s has an"
		    " unreadable expires_at \"%s\" (expected YYYY-MM-DD"
		    " HH:MM:SS[.ffffff] UTC)", s->path, rule_id,
		    exp != NULL ? exp : "");
		return -1;
	}
	return 0;
}

int
store_rule_state(struct store *s, const char *rule_id,
    struct rule_state *out)
{
	int rc, ret;

	memset(out, 0, sizeof(*out));
	out->state = RULE_STATE_ENABLED;
	sqlite3_bind_text(s->rule_state_one, 1, rule_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->rule_state_one);
	if (rc == SQLITE_DONE)
		ret = 0;
	else if (rc == SQLITE_ROW) {
		ret = read_rule_state(s, s->rule_state_one, 0, rule_id, out);
		if (ret < 0) {
			store_warn(s, "%s", s->err);
			memset(out, 0, sizeof(*out));
			out->state = RULE_STATE_ENABLED;
		}
	} else {
		set_sqlite_err(s, "cannot read ttp_rule_state");
		ret = -1;
	}
	sqlite3_reset(s->rule_state_one);
	sqlite3_clear_bindings(s->rule_state_one);
	return ret;
}

int
store_rule_states(struct store *s,
    void (*fn)(void *ud, const char *rule_id, const struct rule_state *st),
    void *ud)
{
	struct rule_state rs;
	const char *rule_id;
	int rc;

	while ((rc = sqlite3_step(s->rule_state_all)) == SQLITE_ROW) {
		rule_id = (const char *)sqlite3_column_text(
		    s->rule_state_all, 0);
		if (rule_id == NULL)
			continue;
		if (read_rule_state(s, s->rule_state_all, 1, rule_id,
		    &rs) < 0) {
			/* One bad row does not hide the others. */
			store_warn(s, "%s", s->err);
			continue;
		}
		fn(ud, rule_id, &rs);
	}
	if (rc != SQLITE_DONE)
		set_sqlite_err(s, "cannot read ttp_rule_state");
	sqlite3_reset(s->rule_state_all);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_has_attackers(struct store *s)
{
	int rc;

	rc = sqlite3_step(s->has_attackers);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		set_sqlite_err(s, "cannot read the schema");
	sqlite3_reset(s->has_attackers);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return rc == SQLITE_ROW;
}

int
store_attacker_by_ip(struct store *s, const char *ip, char *out,
    size_t outlen)
{
	const char *uuid;
	int rc, ret;

	if (s->attacker_by_ip == NULL) {
		rc = store_has_attackers(s);
		if (rc <= 0)
			return rc;
		if (prepare(s, "SELECT uuid FROM attackers WHERE ip=? LIMIT 2",
		    &s->attacker_by_ip, "cannot query attackers") < 0)
			return -1;
	}
	sqlite3_bind_text(s->attacker_by_ip, 1, ip, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->attacker_by_ip);
	ret = 0;
	if (rc == SQLITE_ROW) {
		uuid = (const char *)sqlite3_column_text(s->attacker_by_ip, 0);
		if (uuid != NULL && strlen(uuid) < outlen) {
			snprintf(out, outlen, "%s", uuid);
			ret = 1;
		} else if (uuid != NULL) {
			set_err(s, "%s: attackers.uuid \"%s\" for %s does not"
			    " fit in %zu bytes", s->path, uuid, ip, outlen);
			ret = -1;
		}
		/* A second row means the ip is ambiguous. */
		rc = sqlite3_step(s->attacker_by_ip);
		if (rc == SQLITE_ROW)
			ret = ret < 0 ? ret : 0;
		else if (rc != SQLITE_DONE) {
			set_sqlite_err(s, "cannot query attackers");
			ret = -1;
		}
	} else if (rc != SQLITE_DONE) {
		set_sqlite_err(s, "cannot query attackers");
		ret = -1;
	}
	sqlite3_reset(s->attacker_by_ip);
	sqlite3_clear_bindings(s->attacker_by_ip);
	if (ret != 1 && out != NULL && outlen > 0)
		*out = '\0';
	return ret;
}

int
store_has_attacker_intel(struct store *s)
{
	return table_exists(s, "attacker_intel");
}

int
store_attacker_intel(struct store *s, const char *attacker_uuid,
    void (*fn)(void *ud, const char *col, int type, const char *text,
    int64_t i, double r), void *ud)
{
	sqlite3_stmt *st;
	int rc, c, n;

	if (s->attacker_intel == NULL && prepare(s, "SELECT * FROM"
	    " attacker_intel WHERE attacker_uuid=? LIMIT 1",
	    &s->attacker_intel, "cannot query attacker_intel") < 0)
		return -1;
	st = s->attacker_intel;
	sqlite3_bind_text(st, 1, attacker_uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_count(st);
		for (c = 0; c < n; c++) {
			const char *name = sqlite3_column_name(st, c);

			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				fn(ud, name, STORE_COL_INT, NULL,
				    sqlite3_column_int64(st, c), 0);
				break;
			case SQLITE_FLOAT:
				fn(ud, name, STORE_COL_REAL, NULL, 0,
				    sqlite3_column_double(st, c));
				break;
			case SQLITE_TEXT:
				fn(ud, name, STORE_COL_TEXT,
				    (const char *)sqlite3_column_text(st, c),
				    0, 0);
				break;
			default:
				fn(ud, name, STORE_COL_NULL, NULL, 0, 0);
				break;
			}
		}
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else {
		set_sqlite_err(s, "cannot query attacker_intel");
		rc = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

const char *
store_error(struct store *s)
{
	return s->err;
}

const char *
store_path(struct store *s)
{
	return s->path;
}

/* ------------------------------------------------------------------ *
 * Operator queries (ttpctl).  Prepared per call: none is on the hot path.
 */

int
store_error_busy(struct store *s)
{
	return s->busy;
}

static char *
column_dup(sqlite3_stmt *st, int c)
{
	const unsigned char *t;
	char *out;
	int n;

	if (sqlite3_column_type(st, c) == SQLITE_NULL)
		return NULL;
	t = sqlite3_column_text(st, c);
	n = sqlite3_column_bytes(st, c);
	if (t == NULL || (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
	return out;
}

void
rule_state_row_free(struct rule_state_row *r)
{
	if (r == NULL)
		return;
	free(r->rule_id);
	free(r->state);
	free(r->expires_at);
	free(r->reason);
	free(r->set_by);
	free(r->set_at);
	memset(r, 0, sizeof(*r));
}

int
store_rule_state_row(struct store *s, const char *rule_id,
    struct rule_state_row *out)
{
	sqlite3_stmt *st;
	int rc, ret;

	memset(out, 0, sizeof(*out));
	if (prepare(s, "SELECT rule_id, state, confidence_max, expires_at,"
	    " reason, set_by, set_at FROM ttp_rule_state WHERE rule_id=?",
	    &st, "cannot read ttp_rule_state") < 0)
		return -1;
	sqlite3_bind_text(st, 1, rule_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->rule_id = column_dup(st, 0);
		out->state = column_dup(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			out->has_confidence_max = 1;
			out->confidence_max = sqlite3_column_double(st, 2);
		}
		out->expires_at = column_dup(st, 3);
		out->reason = column_dup(st, 4);
		out->set_by = column_dup(st, 5);
		out->set_at = column_dup(st, 6);
		ret = 1;
	} else if (rc == SQLITE_DONE)
		ret = 0;
	else {
		set_sqlite_err(s, "cannot read ttp_rule_state");
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int
store_set_rule_state(struct store *s, const struct rule_state_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (r->rule_id == NULL || r->state == NULL || r->set_at == NULL) {
		set_err(s, "%s: a ttp_rule_state row needs rule_id, state and"
		    " set_at", s->path);
		return -1;
	}
	/* DECNET upserts the whole row (decnet-host.md 4.5). */
	if (prepare(s, "INSERT INTO ttp_rule_state (rule_id, state,"
	    " confidence_max, expires_at, reason, set_by, set_at)"
	    " VALUES (?,?,?,?,?,?,?) ON CONFLICT (rule_id) DO UPDATE SET"
	    " state=excluded.state, confidence_max=excluded.confidence_max,"
	    " expires_at=excluded.expires_at, reason=excluded.reason,"
	    " set_by=excluded.set_by, set_at=excluded.set_at", &st,
	    "cannot write ttp_rule_state") < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->rule_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->state, -1, SQLITE_STATIC);
	if (r->has_confidence_max)
		sqlite3_bind_double(st, 3, r->confidence_max);
	else
		sqlite3_bind_null(st, 3);
	bind_text_or_null(st, 4, r->expires_at);
	bind_text_or_null(st, 5, r->reason);
	bind_text_or_null(st, 6, r->set_by);
	sqlite3_bind_text(st, 7, r->set_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		set_sqlite_err(s, "cannot write ttp_rule_state");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

long
store_rollup(struct store *s, enum store_scope scope, const char *key,
    const char *since,
    void (*fn)(void *ud, const struct store_rollup *r), void *ud)
{
	struct store_rollup r;
	sqlite3_stmt *st;
	const char *where;
	char sql[1024];
	long n = 0;
	int rc, att;

	switch (scope) {
	case STORE_SCOPE_ATTACKER:
		where = "attacker_uuid = ?1";
		break;
	case STORE_SCOPE_IDENTITY:
		/* Without DECNET's attackers table only identity tags. */
		if ((att = store_has_attackers(s)) < 0)
			return -1;
		where = att ? "(identity_uuid = ?1 OR attacker_uuid IN"
		    " (SELECT uuid FROM attackers WHERE identity_id = ?1))" :
		    "identity_uuid = ?1";
		break;
	case STORE_SCOPE_SESSION:
		where = "session_id = ?1";
		break;
	default:
		where = "1";
		break;
	}
	snprintf(sql, sizeof(sql), "SELECT technique_id, sub_technique_id,"
	    " group_concat(DISTINCT tactic), COUNT(*), MIN(created_at),"
	    " MAX(created_at), MAX(confidence) FROM ttp_tag WHERE %s%s"
	    " GROUP BY technique_id, sub_technique_id"
	    " ORDER BY technique_id, sub_technique_id", where,
	    since != NULL ? " AND created_at >= ?2" : "");
	if (prepare(s, sql, &st, "cannot read ttp_tag") < 0)
		return -1;
	if (scope != STORE_SCOPE_ALL)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (since != NULL)
		sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.technique_id = (const char *)sqlite3_column_text(st, 0);
		r.sub_technique_id = (const char *)sqlite3_column_text(st, 1);
		r.tactics = (const char *)sqlite3_column_text(st, 2);
		r.count = sqlite3_column_int64(st, 3);
		r.first_seen = (const char *)sqlite3_column_text(st, 4);
		r.last_seen = (const char *)sqlite3_column_text(st, 5);
		r.max_confidence = sqlite3_column_double(st, 6);
		if (r.technique_id == NULL)
			continue;
		fn(ud, &r);
		n++;
	}
	if (rc != SQLITE_DONE) {
		set_sqlite_err(s, "cannot read ttp_tag");
		n = -1;
	}
	sqlite3_finalize(st);
	return n;
}

/* Run a SELECT of one table row by row; 0 when the table is missing. */
static int
each_row(struct store *s, const char *table, const char *sql,
    const char *cutoff, int (*row)(void *ctx, sqlite3_stmt *st), void *ctx)
{
	sqlite3_stmt *st;
	char what[128];
	int rc, exists;

	if ((exists = table_exists(s, table)) <= 0)
		return exists;
	snprintf(what, sizeof(what), "cannot read %s", table);
	if (prepare(s, sql, &st, what) < 0)
		return -1;
	sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(ctx, st) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
	if (rc != SQLITE_DONE)
		set_sqlite_err(s, what);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 1 : -1;
}

struct attacker_rows {
	int (*fn)(void *ud, const char *uuid, const char *identity_id,
	    const char *commands);
	void *ud;
};

static int
attacker_row(void *ctx, sqlite3_stmt *st)
{
	struct attacker_rows *ar = ctx;

	return ar->fn(ar->ud, (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    (const char *)sqlite3_column_text(st, 2));
}

int
store_each_attacker_commands(struct store *s, const char *cutoff,
    int (*fn)(void *ud, const char *uuid, const char *identity_id,
    const char *commands), void *ud)
{
	struct attacker_rows ar = { fn, ud };

	return each_row(s, "attackers", "SELECT uuid, identity_id, commands"
	    " FROM attackers WHERE last_seen >= ?1 ORDER BY last_seen, uuid",
	    cutoff, attacker_row, &ar);
}

struct canary_rows {
	int (*fn)(void *ud, const struct store_canary_trigger *t);
	void *ud;
};

static int
canary_row(void *ctx, sqlite3_stmt *st)
{
	struct canary_rows *cr = ctx;
	struct store_canary_trigger t;

	t.uuid = (const char *)sqlite3_column_text(st, 0);
	t.attacker_id = (const char *)sqlite3_column_text(st, 1);
	t.token_uuid = (const char *)sqlite3_column_text(st, 2);
	t.src_ip = (const char *)sqlite3_column_text(st, 3);
	t.user_agent = (const char *)sqlite3_column_text(st, 4);
	t.request_path = (const char *)sqlite3_column_text(st, 5);
	t.dns_qname = (const char *)sqlite3_column_text(st, 6);
	t.raw_headers = (const char *)sqlite3_column_text(st, 7);
	return cr->fn(cr->ud, &t);
}

int
store_each_canary_trigger(struct store *s, const char *cutoff,
    int (*fn)(void *ud, const struct store_canary_trigger *t), void *ud)
{
	struct canary_rows cr = { fn, ud };

	return each_row(s, "canary_triggers", "SELECT uuid, attacker_id,"
	    " token_uuid, src_ip, user_agent, request_path, dns_qname,"
	    " raw_headers FROM canary_triggers WHERE occurred_at >= ?1"
	    " ORDER BY occurred_at, uuid", cutoff, canary_row, &cr);
}

/* ------------------------------------------------------------------ *
 * Rule-state polling (host/reload.c): once a second on the tagging
 * thread's connection.
 */

int
store_data_version(struct store *s, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "PRAGMA data_version", &st,
	    "cannot read PRAGMA data_version") < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		set_sqlite_err(s, "cannot read PRAGMA data_version");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_rule_state_rows(struct store *s,
    void (*fn)(void *ud, const struct rule_state_row *row,
    const struct rule_state *st, const char *why), void *ud)
{
	struct rule_state_row row;
	struct rule_state rs;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT rule_id, state, confidence_max, expires_at,"
	    " reason, set_by, set_at FROM ttp_rule_state ORDER BY rule_id",
	    &st, "cannot read ttp_rule_state") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		memset(&row, 0, sizeof row);
		row.rule_id = column_dup(st, 0);
		row.state = column_dup(st, 1);
		if (sqlite3_column_type(st, 2) == SQLITE_INTEGER ||
		    sqlite3_column_type(st, 2) == SQLITE_FLOAT) {
			row.has_confidence_max = 1;
			row.confidence_max = sqlite3_column_double(st, 2);
		}
		row.expires_at = column_dup(st, 3);
		row.reason = column_dup(st, 4);
		row.set_by = column_dup(st, 5);
		row.set_at = column_dup(st, 6);
		if (row.rule_id == NULL)
			;
		else if (read_rule_state(s, st, 1, row.rule_id, &rs) < 0)
			fn(ud, &row, NULL, s->err);
		else
			fn(ud, &row, &rs, NULL);
		rule_state_row_free(&row);
	}
	if (rc != SQLITE_DONE)
		set_sqlite_err(s, "cannot read ttp_rule_state");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
