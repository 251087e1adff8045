/*
 * The tag store: the only module that includes sqlite3.
 *
 * Kept behind a small interface (open, begin, insert, commit, rule state,
 * lookups) so that a MariaDB/MySQL backend can sit beside it later.
 * Schema is compatible with DECNET's ttp_tag and ttp_rule_state
 * (decnet-host.md section 3): created when missing, left alone when present.
 */
#ifndef TTPD_STORE_H
#define TTPD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tag.h"

struct store;

/* Which of DECNET's ttp_tag indexes a table ttpd creates gets. */
enum store_indexes {
	STORE_INDEXES_COMPACT = 0, /* the 9 a query can use (default) */
	STORE_INDEXES_DECNET = 1   /* all 13, as DECNET creates them */
};

struct store_options {
	int busy_timeout_ms;   /* default 30000 */
	int64_t cache_size_kib; /* PRAGMA cache_size=-N; 0 = SQLite default */
	int synchronous;       /* 0 OFF, 1 NORMAL (default), 2 FULL */
	int create_schema;     /* create missing tables/indexes (default 1) */
	enum store_indexes indexes; /* for a table ttpd creates */
};

void store_options_default(struct store_options *o);

/*
 * Open (creating the file if needed) and prepare the schema: WAL,
 * synchronous, busy timeout; ttp_tag and ttp_rule_state with DECNET's
 * columns and CHECKs when missing, ttp_tag with the index set of
 * o->indexes; an existing table (and its indexes) is never altered, only
 * checked for every required column.  On error returns NULL and a message
 * naming the file in err.
 */
struct store *store_open(const char *path, const struct store_options *o,
    char *err, size_t errlen);
void store_close(struct store *s);

/* Transactions: one per batch. Return 0 or -1 (message in store_error()). */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);

/*
 * Insert tags inside the current transaction (or in its own one when none
 * is open) with INSERT ... ON CONFLICT(uuid) DO NOTHING; tags whose
 * confidence is below TAG_CONFIDENCE_FLOOR, or that have no anchor, are
 * skipped and not written.  Returns the number of rows really inserted, or
 * -1 on error.  If `inserted` is non-NULL, inserted[i] is set to 1 for each
 * tag that became a new row, 0 otherwise.
 */
long store_insert_tags(struct store *s, const struct tag *tags, size_t n,
    unsigned char *inserted);

/*
 * Rule state of one rule; RULE_STATE_ENABLED with nothing else when the
 * table has no row.  Returns 0, or -1 on error.
 */
int store_rule_state(struct store *s, const char *rule_id,
    struct rule_state *out);

/* Callback form: every row of ttp_rule_state. Returns 0 or -1. */
int store_rule_states(struct store *s,
    void (*fn)(void *ud, const char *rule_id, const struct rule_state *st),
    void *ud);

/* Whether DECNET's `attackers` table exists (anchor lookups possible):
 * 1 yes, 0 no, -1 error. */
int store_has_attackers(struct store *s);
/* uuid of the one attackers row with this ip: 1 found (out filled),
 * 0 none or ambiguous, -1 error. */
int store_attacker_by_ip(struct store *s, const char *ip, char *out,
    size_t outlen);

/* Whether an `attacker_intel` table exists (intel catch-up): 1, 0, -1. */
int store_has_attacker_intel(struct store *s);

/* Column types handed to the store_attacker_intel() callback. */
enum { STORE_COL_NULL = 0, STORE_COL_INT, STORE_COL_REAL, STORE_COL_TEXT };

/*
 * The attacker_intel row of one attacker: fn is called once per column
 * (name, STORE_COL_* type, text for TEXT, integer or real value).
 * Returns 1 (row found), 0 (none), -1 (error, see store_error()).
 */
int store_attacker_intel(struct store *s, const char *attacker_uuid,
    void (*fn)(void *ud, const char *col, int type, const char *text,
    int64_t i, double r), void *ud);

const char *store_error(struct store *s);
const char *store_path(struct store *s);

/* ------------------------------------------------------------------
 * Operator queries (ttpctl).  Additive; none of these is on the hot path.
 */

/* Whether the last failure was SQLite being busy or locked (another
 * process holding the write lock past busy_timeout_ms): 1 or 0. */
int store_error_busy(struct store *s);

/*
 * store_open() that also says whether a failure was the database being
 * locked (*busy = 1) rather than anything else.
 */
struct store *store_open_ex(const char *path, const struct store_options *o,
    int *busy, char *err, size_t errlen);

/* One ttp_rule_state row as stored (strings malloc'd, NULL = SQL NULL). */
struct rule_state_row {
	char *rule_id;
	char *state;            /* "enabled", "disabled", "clipped" */
	int has_confidence_max;
	double confidence_max;
	char *expires_at;       /* "YYYY-MM-DD HH:MM:SS.ffffff" UTC */
	char *reason;
	char *set_by;
	char *set_at;
};
void rule_state_row_free(struct rule_state_row *r);
/* The row of rule_id: 1 found, 0 none, -1 error. */
int store_rule_state_row(struct store *s, const char *rule_id,
    struct rule_state_row *out);
/* Insert or replace the row of r->rule_id (DECNET's upsert). 0 or -1. */
int store_set_rule_state(struct store *s, const struct rule_state_row *r);

/* Which tags a rollup counts (decnet-host.md 3.5). */
enum store_scope {
	STORE_SCOPE_ALL = 0,   /* the whole fleet */
	STORE_SCOPE_ATTACKER,  /* attacker_uuid = key */
	STORE_SCOPE_IDENTITY,  /* identity_uuid = key, or the attacker's
	                        * attackers.identity_id = key */
	STORE_SCOPE_SESSION    /* session_id = key */
};

/* One (technique, sub-technique) group of a rollup. */
struct store_rollup {
	const char *technique_id;
	const char *sub_technique_id; /* NULL: tags without one */
	const char *tactics;          /* distinct tactics, comma-separated */
	int64_t count;
	const char *first_seen;       /* MIN(created_at) */
	const char *last_seen;        /* MAX(created_at) */
	double max_confidence;
};

/*
 * Group the tags of a scope (and created_at >= since, when since is not
 * NULL) by (technique_id, sub_technique_id), in id order; fn is called per
 * group (strings valid during the call).  Returns the number of groups or
 * -1.
 */
long store_rollup(struct store *s, enum store_scope scope, const char *key,
    const char *since,
    void (*fn)(void *ud, const struct store_rollup *r), void *ud);

/*
 * Backfill sources in a DECNET database (decnet-host.md 5.2), streamed
 * row by row.  Both return 1 when done, 0 when the table does not exist,
 * -1 on error; fn returning non-zero stops early (that value returned as
 * -1 with the error left to the caller).
 *
 * attackers with last_seen >= cutoff: uuid, identity_id, commands (the
 * JSON text as stored, may be NULL).
 */
int store_each_attacker_commands(struct store *s, const char *cutoff,
    int (*fn)(void *ud, const char *uuid, const char *identity_id,
    const char *commands), void *ud);

/* canary_triggers with occurred_at >= cutoff. */
struct store_canary_trigger {
	const char *uuid;
	const char *attacker_id;
	const char *token_uuid;
	const char *src_ip;
	const char *user_agent;
	const char *request_path;
	const char *dns_qname;
	const char *raw_headers;
};
int store_each_canary_trigger(struct store *s, const char *cutoff,
    int (*fn)(void *ud, const struct store_canary_trigger *t), void *ud);

/* ------------------------------------------------------------------
 * Rule-state polling (host/reload.c).  Additive.
 */

/* PRAGMA data_version: changes when another connection (any process)
 * commits.  0 or -1. */
int store_data_version(struct store *s, int64_t *out);
/*
 * Every ttp_rule_state row, in rule_id order: fn gets the row as stored
 * and its decoded state, or st NULL and why (a message naming the file
 * and the rule) for a row ttpd cannot read.  0 or -1.
 */
int store_rule_state_rows(struct store *s,
    void (*fn)(void *ud, const struct rule_state_row *row,
    const struct rule_state *st, const char *why), void *ud);

#endif
