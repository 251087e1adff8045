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

struct store_options {
	int busy_timeout_ms;   /* default 30000 */
	int64_t cache_size_kib; /* PRAGMA cache_size=-N; 0 = SQLite default */
	int synchronous;       /* 0 OFF, 1 NORMAL (default), 2 FULL */
	int create_schema;     /* create missing tables/indexes (default 1) */
};

void store_options_default(struct store_options *o);

/*
 * Open (creating the file if needed) and prepare the schema: WAL,
 * synchronous, busy timeout; ttp_tag and ttp_rule_state with DECNET's
 * columns, CHECKs and indexes when missing; an existing table is accepted
 * if it has every required column.  On error returns NULL and a message
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

#endif
