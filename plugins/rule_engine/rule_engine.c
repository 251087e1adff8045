/*
 * rule_engine: the generic rule-engine lifter.
 *
 * Owns every rule whose match.kind is absent or does not start with
 * "lifter:" and evaluates DECNET's RuleEngineTagger semantics
 * (decnet-lifters.md sections 2.4, 2.5 and 3.0):
 *
 *   - a rule without match.pattern never matches;
 *   - the haystack is payload[match.field] when the field is truthy, else
 *     the default field of the event's source kind; it must be a string;
 *   - the match is Python's re.search(): an unanchored search, no flags
 *     but the inline ones, Unicode-aware \w \s \b and case folding, which
 *     is PCRE2 compiled with UTF|UCP and nothing else;
 *   - on a match, every emits entry fires with multiplier 1.0 and the
 *     evidence_fields evidence, plus uid, user, src and pwd for command
 *     events.
 *
 * Departures, all deliberate:
 *   - an invalid pattern rejects the rule at load time (DECNET warns and
 *     never matches at run time);
 *   - a search that exceeds match_limit, depth_limit or heap_limit_kib,
 *     or that runs once the searches of the event in a field longer than
 *     about 2 KB have taken search_time_limit_ms, is abandoned and counts
 *     as no match (DECNET would spin for as long as Python's
 *     backtracking takes);
 *   - a haystack longer than max_subject_bytes is not searched at all.
 *     Shorter ones are searched whole, never truncated, as DECNET does.
 *
 * Speed: each distinct field is fetched and UTF-8-checked once per event,
 * then scanned once by an Aho-Corasick automaton over the literals every
 * match of each pattern must contain, with the word boundaries the pattern
 * requires around them (prefilter.c); PCRE2 (JIT) only runs for rules
 * whose literals occur.  What the loop needs of each rule is kept in one
 * array (the plan), so rules without their literals cost a bit test.
 * A pattern whose top-level alternatives each have their own literals is
 * also compiled alternative by alternative: when the literals of only one
 * are present, that one alone is searched.  A pattern or alternative that
 * begins with a group of alternatives, such as the command-start
 * (?:^|[;&|]), is searched part by part (^R, [;&|]R), each with a first
 * character PCRE2 can skip to.  The scan also notes where the first and
 * the last occurrence of each literal set end: every match contains one,
 * so no match starts after the last (PCRE2's offset limit), and when the
 * part of a pattern before its literal can only span a bounded number of
 * bytes (the set's reach, as in \bcurl\b...), none starts earlier than
 * the first allows (the search's start offset): PCRE2 then does not try
 * every start from 0.  A pattern whose head can span any length and gives
 * PCRE2 no selective first character (a command-start prefix) is first
 * searched for its tail alone, which has one (struct tail, pattern_split.c
 * cuts the text); without the tail the pattern cannot match.  The
 * prefilter never changes a result:
 * it skips only searches that cannot match (config key `prefilter` turns
 * it off, for comparison).  With `profile` on, each rule's searches are
 * timed and listed, costliest first, when the plugin stops.
 *
 * Built against the SDK header only.  PCRE2 is included here and nowhere
 * else in ttpd.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ttpd/lifter.h>

#include "../common/emit.h"
#include "../common/pyvalue.h"

#include "pattern_split.h"
#include "prefilter.h"

#define DEFAULT_MATCH_LIMIT 1000000
#define DEFAULT_DEPTH_LIMIT 100000
#define DEFAULT_HEAP_LIMIT_KIB 20000
#define DEFAULT_MAX_SUBJECT_BYTES 1048576
#define DEFAULT_SEARCH_TIME_LIMIT_MS 1000
#define MAX_SEARCH_TIME_LIMIT_MS 86400000       /* a day */
/* start offsets x subject bytes in one window of a long search; a
 * subject shorter than WINDOW_MIN_LENGTH is always one window */
#define WINDOW_WORK ((size_t)1 << 22)
#define WINDOW_MIN_LENGTH 2048
/* a window quicker than this is followed by one twice its size */
#define WINDOW_QUICK_NS 1000000
/* run_match(): the search took longer than search_time_limit_ms */
#define SEARCH_TIMED_OUT (-100000)

/* JIT machine stack: enough for the shipped patterns on long lines; a
 * search that needs more is retried with the interpreter, whose memory is
 * bounded by heap_limit_kib. */
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

/* At most one limit/error log line per rule per this many nanoseconds. */
#define LOG_INTERVAL_NS (60 * INT64_C(1000000000))

#define NO_SLOT ((size_t)-1)

/*
 * Python's re semantics; PCRE2_USE_OFFSET_LIMIT changes nothing by
 * itself, it lets a search be told that no match can start after the
 * last occurrence of the rule's required literals (see offset_limit()).
 */
#define COMPILE_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_USE_OFFSET_LIMIT)

/* The evidence keys appended to command tags, in this order. */
static const char *const aux_evidence_keys[] = {
	"uid", "user", "src", "pwd"
};

/* DECNET's default haystack per source kind when match.field is falsy. */
static const struct {
	const char *kind;
	const char *field;
} default_fields[] = {
	{ "command", "command_text" },
	{ "http_request", "raw_url" },
	{ "email", "subject" },
	{ "intel", "verdict" },
	{ "canary_fingerprint", "ua_signature" },
	{ "auth_attempt", "username" },
	{ "payload", "payload_text" },
};
#define N_DEFAULT_FIELDS (sizeof default_fields / sizeof default_fields[0])

/*
 * A payload field name used by at least one rule (or as a default).  The
 * per-event part caches the lookup and the UTF-8 check, so each distinct
 * field is fetched and validated once per event however many rules read
 * it.
 */
struct field_slot {
	char *name;
	uint64_t generation;   /* event the cache below belongs to */
	int usable;            /* the field is a valid string within the cap */
	int scanned;           /* the prefilter ran over it (hits are valid) */
	struct pf_ends *ends;  /* by filter id, when its hit bit is set: end
				  of the first and of the last occurrence the
				  scan counted */
	const char *subject;
	size_t length;
};

/*
 * A pattern (or alternative) that begins with a plain group of
 * alternatives, (?:A|B|C)REST, searched as AREST, BREST and CREST: a
 * leading (?:^|[;&|]) gives PCRE2 no first character to look for, while
 * ^REST is anchored and [;&|]REST has a start set.  A subject matches
 * the whole iff it matches a part (the group captures nothing, so REST's
 * group numbers stay).  jit as alt_jit below.
 */
struct parts {
	pcre2_code **code;
	int *jit;
	size_t n;
	int caret_split;        /* see split_carets() */
};

/*
 * A necessary tail: the pattern (or alternative) without its head, cut
 * behind an item that can span any length (a command-start prefix,
 * \bcurl\b[^;]*), where what follows has a selective first character
 * (see compile_tail()).  Every match of the whole ends with a match of
 * the tail, so a subject without one cannot match, and the tail, unlike
 * the head, gives PCRE2 a first character to skip to.  jit as alt_jit
 * below.
 */
struct tail {
	pcre2_code *code;       /* NULL: none worth searching */
	int jit;
};

/* What rule_prepare() makes for a rule with a pattern. */
struct prepared_rule {
	pcre2_code *code;
	int jit;                /* as alt_jit below */
	size_t field_slot;      /* explicit field, or NO_SLOT for the default */
	int filtered;           /* has required literals (lits, filter_id) */
	size_t filter_id;
	struct pf_literals lits;
	/* finer: per top-level alternative, one or two literal sets that
	 * must all occur (clause_ids[k] are the filter ids of the sets in
	 * clause order); NULL clause_ids = not worth it */
	struct pf_clauses clauses;
	size_t *clause_ids;
	/* per clause, its alternative compiled alone (NULL: not split);
	 * alt_jit: 0 not yet JIT-compiled (done at its first search, as
	 * many are never needed), 1 compiled, -1 interpreter */
	pcre2_code **alt_code;
	int *alt_jit;
	struct parts *alt_parts;        /* per clause, or NULL */
	struct tail *alt_tail;          /* per clause, or NULL */
	struct parts whole_parts;       /* of the whole pattern */
	struct tail tail;               /* of the whole pattern */
	int start_fixed;        /* \G: matches depend on where a search
				   starts, so it is never cut in windows */
	int elaborated;         /* alternatives, parts and tails made (at
				   the rule's first search: many rules are
				   never searched) */
	int64_t last_log_ns;    /* rate limit for the messages below */
	int logged;             /* last_log_ns is meaningful */
	uint64_t suppressed;    /* messages held back since the last one */
	uint64_t limit_hits;    /* searches abandoned at a limit */
	uint64_t match_errors;  /* other negative pcre2 results */
	size_t profile;         /* its entry in e->profiles, when profiling */
};

/* One rule in the order handle() walks them. */
struct plan_entry {
	struct prepared_rule *pr;  /* NULL: no pattern, never matches */
	size_t slot;               /* field slot, NO_SLOT for the default */
	size_t filter_id;          /* meaningful when filtered */
	int filtered;
};

/* A literal set of the prefilter, used by refs rules and clauses. */
struct filter {
	struct pf_literals lits;        /* a copy; refs 0: a free id */
	uint64_t hash;                  /* pf_literals_hash() */
	size_t refs;
};

/* What `profile` counts of one rule id (kept when the rule is replaced). */
struct rule_profile {
	char *rule_id;
	uint64_t searches;      /* events in which its pattern was searched */
	uint64_t matches;
	int64_t ns;             /* in those searches */
};

struct engine {
	const ttpd_host *host;
	ttpd_ctx *ctx;

	/* configuration */
	uint32_t match_limit;
	uint32_t depth_limit;
	uint32_t heap_limit_kib;
	int use_jit;
	size_t max_subject_bytes;
	int64_t search_time_limit_ns;   /* 0: none */
	/* when the windowed searches of the event of generation
	 * deadline_generation must stop */
	int64_t deadline;
	uint64_t deadline_generation;
	int use_prefilter;

	/* PCRE2 state reused by every search (handle() is serialised) */
	pcre2_match_context *match_ctx;
	pcre2_match_data *match_data;
	pcre2_jit_stack *jit_stack;

	/* interned field names; never shrinks (a handful of names) */
	struct field_slot *slots;
	size_t nslots, slots_cap;
	size_t default_slot[N_DEFAULT_FIELDS];
	uint64_t generation;

	/*
	 * Prefilter: the literal sets of rules and clauses, by filter id;
	 * the automaton over them, rebuilt by the first handle() after a
	 * change; per field slot, the ids whose literals occur.
	 */
	struct filter *filters;
	size_t nfilters, filters_cap;
	int pf_dirty;

	/*
	 * The plan: what the loop of handle() needs of each rule of the
	 * host's rule list, kept in one array so that rules whose literals
	 * are absent are skipped without touching the rule.  Rebuilt when
	 * the list differs from the one it was made for.
	 */
	const ttpd_rule **plan_rules;   /* the list it was made for */
	struct plan_entry *plan;
	size_t plan_n, plan_cap;
	int plan_dirty;
	/*
	 * When every rule of the plan reads the same field (plan_slot, or
	 * the kind's default when PLAN_DEFAULT), handle() visits only the
	 * rules whose literals occur: by_filter maps a rule's filter id to
	 * its plan index, unfiltered has the bit of each rule searched
	 * whatever the literals (bitsets of plan_words words, bit i for
	 * plan index i).
	 */
	size_t plan_slot;               /* NO_SLOT: mixed fields */
	int plan_default;
	size_t *by_filter, by_filter_cap;
	uint64_t *plan_filters;         /* bitset of the plan's filter ids */
	size_t filter_words;
	uint64_t *unfiltered;
	uint64_t *cand_bits;            /* per event: unfiltered + hits */
	size_t plan_words;
	size_t *cand, cand_cap;         /* per event: the plan indices */
	/*
	 * The clauses of the plan's rules in one array, read by
	 * holding_clauses() where pr->clauses has a record of ~90 bytes per
	 * clause: per rule with clauses (clause_at[filter id]), the number
	 * of clauses, then per clause its number of sets and their filter
	 * ids.  Valid while clause_tab_ready (the plan is).
	 */
	uint32_t *clause_tab;
	size_t clause_tab_cap;
	size_t *clause_at;
	size_t clause_at_cap;
	int clause_tab_ready;
	struct pf_automaton *pf;
	uint64_t *hits;
	size_t hit_words;

	/*
	 * The evidence last built in this event (evidence_generation) and
	 * the evidence_fields it was built for: rules of one event that
	 * list the same fields get the same object (the host only reads
	 * it, and frees it with the event).
	 */
	ttpd_value *evidence;
	const ttpd_rule *evidence_rule;
	uint64_t evidence_generation;

	/* `profile`: per rule id, and the events and prefilter scans */
	int profile;
	struct rule_profile *profiles;
	size_t nprofiles, profiles_cap;
	uint64_t profile_events;
	int64_t profile_scan_ns;

	/* totals, reported at destroy() */
	uint64_t limit_hits;
	uint64_t match_errors;
	uint64_t oversized;
	uint64_t bad_utf8;
};

/*
 * Strict UTF-8 check (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), at least as strict as PCRE2's own, so a subject that
 * passes may be searched with PCRE2_NO_UTF_CHECK.  ASCII runs are skipped
 * a word at a time.
 */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			uint64_t w;

			while (i + 8 <= n) {
				memcpy(&w, s + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			while (i < n && s[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			unsigned lo = 0x80, hi = 0xbf;

			if (c == 0xe0)
				lo = 0xa0;      /* overlong */
			else if (c == 0xed)
				hi = 0x9f;      /* surrogates */
			if (i + 2 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80)
				return 0;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			unsigned lo = 0x80, hi = 0xbf;

			if (c == 0xf0)
				lo = 0x90;      /* overlong */
			else if (c == 0xf4)
				hi = 0x8f;      /* above U+10FFFF */
			if (i + 3 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80)
				return 0;
			i += 4;
		} else
			return 0;
	}
	return 1;
}

/* Find or add a field name; NO_SLOT when out of memory. */
static size_t
intern_field(struct engine *e, const char *name, size_t len)
{
	struct field_slot *slot;
	size_t i;

	for (i = 0; i < e->nslots; i++)
		if (strlen(e->slots[i].name) == len &&
		    memcmp(e->slots[i].name, name, len) == 0)
			return i;
	if (e->nslots == e->slots_cap) {
		size_t cap = e->slots_cap ? e->slots_cap * 2 : 8;
		struct field_slot *v;

		v = realloc(e->slots, cap * sizeof *v);
		if (v == NULL)
			return NO_SLOT;
		e->slots = v;
		e->slots_cap = cap;
	}
	slot = &e->slots[e->nslots];
	memset(slot, 0, sizeof *slot);
	if ((slot->name = malloc(len + 1)) == NULL)
		return NO_SLOT;
	memcpy(slot->name, name, len);
	slot->name[len] = '\0';
	e->pf_dirty = 1;        /* the hit table grows with the slots */
	return e->nslots++;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The profile entry of a rule id, added when new; (size_t)-1 when out of
 * memory (the rule is then not profiled). */
static size_t
profile_entry(struct engine *e, const char *rule_id)
{
	struct rule_profile *p;
	size_t i;

	for (i = 0; i < e->nprofiles; i++)
		if (strcmp(e->profiles[i].rule_id, rule_id) == 0)
			return i;
	if (e->nprofiles == e->profiles_cap) {
		size_t cap = e->profiles_cap ? 2 * e->profiles_cap : 64;

		if ((p = realloc(e->profiles, cap * sizeof *p)) == NULL)
			return (size_t)-1;
		e->profiles = p;
		e->profiles_cap = cap;
	}
	p = &e->profiles[e->nprofiles];
	memset(p, 0, sizeof *p);
	if ((p->rule_id = strdup(rule_id)) == NULL)
		return (size_t)-1;
	return e->nprofiles++;
}

/* Costliest first; then by rule id, for a stable listing. */
static int
profile_order(const void *a, const void *b)
{
	const struct rule_profile *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return strcmp(x->rule_id, y->rule_id);
}

/*
 * The `profile` table, at destroy(): every rule searched at least once,
 * costliest first, with what the prefilter's scans took beside it.
 */
static void
log_profile(struct engine *e)
{
	const ttpd_host *h = e->host;
	int64_t total = 0;
	size_t i, searched = 0;

	qsort(e->profiles, e->nprofiles, sizeof *e->profiles,
	    profile_order);
	for (i = 0; i < e->nprofiles; i++)
		if (e->profiles[i].searches > 0) {
			total += e->profiles[i].ns;
			searched++;
		}
	h->log(e->ctx, TTPD_LOG_NOTICE, "profile: events=%" PRIu64
	    " scan_ms=%.3f search_ms=%.3f rules=%zu", e->profile_events,
	    (double)e->profile_scan_ns / 1e6, (double)total / 1e6, searched);
	for (i = 0; i < e->nprofiles; i++) {
		const struct rule_profile *p = &e->profiles[i];

		if (p->searches == 0)
			continue;
		h->log(e->ctx, TTPD_LOG_NOTICE, "profile: rule=%s searches=%"
		    PRIu64 " matched=%" PRIu64 " ms=%.3f share=%.1f%% "
		    "us_per_search=%.2f", p->rule_id, p->searches, p->matches,
		    (double)p->ns / 1e6, total > 0 ? 100.0 * (double)p->ns /
		    (double)total : 0.0, (double)p->ns / 1e3 /
		    (double)p->searches);
	}
}

/*
 * Read an int config key into [min, max]; absent keeps *out.  Returns
 * TTPD_OK or TTPD_EINVAL with a message.
 */
static int
config_uint(struct engine *e, const char *key, int64_t min, int64_t max,
    int64_t *out, ttpd_err *err)
{
	int64_t v;
	int rc;

	rc = e->host->config_int(e->ctx, key, &v);
	if (rc == TTPD_SKIP)
		return TTPD_OK;
	if (rc != TTPD_OK) {
		snprintf(err->msg, sizeof err->msg, "%s: must be an integer",
		    key);
		return TTPD_EINVAL;
	}
	if (v < min || v > max) {
		snprintf(err->msg, sizeof err->msg,
		    "%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64
		    "]", key, v, min, max);
		return TTPD_EINVAL;
	}
	*out = v;
	return TTPD_OK;
}

static void
engine_free(struct engine *e)
{
	size_t i;

	if (e == NULL)
		return;
	pcre2_match_data_free(e->match_data);
	pcre2_match_context_free(e->match_ctx);
	pcre2_jit_stack_free(e->jit_stack);
	pf_free(e->pf);
	free(e->hits);
	for (i = 0; i < e->nfilters; i++)
		if (e->filters[i].refs > 0)
			pf_literals_free(&e->filters[i].lits);
	free(e->filters);
	free(e->plan);
	free(e->plan_rules);
	free(e->by_filter);
	free(e->clause_tab);
	free(e->clause_at);
	free(e->plan_filters);
	free(e->unfiltered);
	free(e->cand_bits);
	free(e->cand);
	for (i = 0; i < e->nslots; i++) {
		free(e->slots[i].name);
		free(e->slots[i].ends);
	}
	free(e->slots);
	for (i = 0; i < e->nprofiles; i++)
		free(e->profiles[i].rule_id);
	free(e->profiles);
	free(e);
}

static int
re_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct engine *e;
	int64_t match_limit = DEFAULT_MATCH_LIMIT;
	int64_t depth_limit = DEFAULT_DEPTH_LIMIT;
	int64_t heap_limit = DEFAULT_HEAP_LIMIT_KIB;
	int64_t max_subject = DEFAULT_MAX_SUBJECT_BYTES;
	int64_t time_limit_ms = DEFAULT_SEARCH_TIME_LIMIT_MS;
	int64_t subject_max_max;
	int jit = 1, prefilter = 1, profile = 0, rc;
	uint32_t jit_available = 0;
	size_t i;

	if ((e = calloc(1, sizeof *e)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	e->host = host;
	e->ctx = ctx;

	subject_max_max = SIZE_MAX < (uint64_t)INT64_MAX ?
	    (int64_t)SIZE_MAX : INT64_MAX;
	if ((rc = config_uint(e, "match_limit", 1, UINT32_MAX,
	    &match_limit, err)) != TTPD_OK ||
	    (rc = config_uint(e, "depth_limit", 1, UINT32_MAX,
	    &depth_limit, err)) != TTPD_OK ||
	    (rc = config_uint(e, "heap_limit_kib", 1, UINT32_MAX,
	    &heap_limit, err)) != TTPD_OK ||
	    (rc = config_uint(e, "max_subject_bytes", 1, subject_max_max,
	    &max_subject, err)) != TTPD_OK ||
	    (rc = config_uint(e, "search_time_limit_ms", 0,
	    MAX_SEARCH_TIME_LIMIT_MS, &time_limit_ms, err)) != TTPD_OK)
		goto fail;
	rc = host->config_bool(ctx, "jit", &jit);
	if (rc != TTPD_OK && rc != TTPD_SKIP) {
		ttpd_err_set(err, "jit: must be a boolean");
		rc = TTPD_EINVAL;
		goto fail;
	}
	rc = host->config_bool(ctx, "prefilter", &prefilter);
	if (rc != TTPD_OK && rc != TTPD_SKIP) {
		ttpd_err_set(err, "prefilter: must be a boolean");
		rc = TTPD_EINVAL;
		goto fail;
	}
	rc = host->config_bool(ctx, "profile", &profile);
	if (rc != TTPD_OK && rc != TTPD_SKIP) {
		ttpd_err_set(err, "profile: must be a boolean");
		rc = TTPD_EINVAL;
		goto fail;
	}
	e->use_prefilter = prefilter;
	e->profile = profile;
	e->match_limit = (uint32_t)match_limit;
	e->depth_limit = (uint32_t)depth_limit;
	e->heap_limit_kib = (uint32_t)heap_limit;
	e->max_subject_bytes = (size_t)max_subject;
	e->search_time_limit_ns = time_limit_ms * 1000000;

	if (jit && (pcre2_config(PCRE2_CONFIG_JIT, &jit_available) < 0 ||
	    !jit_available)) {
		host->log(ctx, TTPD_LOG_NOTICE, "PCRE2 was built without JIT "
		    "support; using the interpreter");
		jit = 0;
	}
	e->use_jit = jit;

	rc = TTPD_ENOMEM;
	ttpd_err_set(err, "out of memory");
	if ((e->match_ctx = pcre2_match_context_create(NULL)) == NULL ||
	    (e->match_data = pcre2_match_data_create(1, NULL)) == NULL)
		goto fail;
	pcre2_set_match_limit(e->match_ctx, e->match_limit);
	pcre2_set_depth_limit(e->match_ctx, e->depth_limit);
	pcre2_set_heap_limit(e->match_ctx, e->heap_limit_kib);
	if (e->use_jit) {
		e->jit_stack = pcre2_jit_stack_create(JIT_STACK_START,
		    JIT_STACK_MAX, NULL);
		if (e->jit_stack == NULL)
			goto fail;
		pcre2_jit_stack_assign(e->match_ctx, NULL, e->jit_stack);
	}

	for (i = 0; i < N_DEFAULT_FIELDS; i++) {
		e->default_slot[i] = intern_field(e, default_fields[i].field,
		    strlen(default_fields[i].field));
		if (e->default_slot[i] == NO_SLOT)
			goto fail;
	}
	err->msg[0] = '\0';
	*state = e;
	return TTPD_OK;
fail:
	engine_free(e);
	return rc;
}

/*
 * A filter id for a literal set; (size_t)-1 when out of memory.  A
 * clause's set (shared) takes the id of an equal set if there is one:
 * many clauses ask for the same literals ("-", "curl", "wget"), and the
 * scan then marks one set instead of each.  A rule's own set always gets
 * an id of its own, which by_filter maps back to the rule alone.
 */
static size_t
alloc_filter(struct engine *e, const struct pf_literals *lits, int shared)
{
	size_t id, free_id = e->nfilters;
	uint64_t hash = pf_literals_hash(lits);

	for (id = 0; id < e->nfilters; id++) {
		struct filter *f = &e->filters[id];

		if (f->refs == 0) {
			if (free_id == e->nfilters)
				free_id = id;
		} else if (shared && f->hash == hash &&
		    pf_literals_same(&f->lits, lits)) {
			f->refs++;
			return id;
		}
	}
	if ((id = free_id) == e->nfilters) {
		if (e->nfilters == e->filters_cap) {
			size_t cap = e->filters_cap ? e->filters_cap * 2 : 16;
			struct filter *v;

			v = realloc(e->filters, cap * sizeof *v);
			if (v == NULL)
				return (size_t)-1;
			e->filters = v;
			e->filters_cap = cap;
		}
		e->nfilters++;
	}
	if (pf_literals_copy(lits, &e->filters[id].lits) < 0) {
		if (id == e->nfilters - 1)
			e->nfilters--;
		else
			e->filters[id].refs = 0;
		return (size_t)-1;
	}
	e->filters[id].refs = 1;
	e->filters[id].hash = hash;
	e->pf_dirty = 1;
	e->plan_dirty = 1;
	return id;
}

/* One user of filter id fewer. */
static void
release_filter(struct engine *e, size_t id)
{
	struct filter *f = &e->filters[id];

	if (--f->refs > 0)
		return;
	pf_literals_free(&f->lits);
	e->pf_dirty = 1;
	e->plan_dirty = 1;
}

static void
parts_free(struct parts *pt)
{
	size_t i;

	for (i = 0; i < pt->n; i++)
		pcre2_code_free(pt->code[i]);
	free(pt->code);
	free(pt->jit);
	pt->code = NULL;
	pt->jit = NULL;
	pt->n = 0;
	pt->caret_split = 0;
}

/* A piece of a pattern that compiled whole: errors are not reported. */
static pcre2_code *
compile_text(const char *text, size_t len, uint32_t options)
{
	int code_err;
	PCRE2_SIZE offset;

	return pcre2_compile((PCRE2_SPTR)text, len, COMPILE_OPTIONS | options,
	    &code_err, &offset, NULL);
}

#define ANY_FIRST_BYTE 256

/* How many bytes PCRE2 knows a match of code can start with. */
static unsigned
first_bytes(const pcre2_code *code)
{
	uint32_t type;
	const uint8_t *bitmap;
	unsigned i, bits = 0;

	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type) != 0)
		return ANY_FIRST_BYTE;
	if (type == 1)
		return 1;
	if (type != 0 || pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP,
	    &bitmap) != 0 || bitmap == NULL)
		return ANY_FIRST_BYTE;
	for (i = 0; i < 32; i++)
		bits += (unsigned)__builtin_popcount(bitmap[i]);
	return bits;
}

/* At most this many parts: more are searched whole. */
#define MAX_PARTS 65

/*
 * Fill pt with the parts of text[0..len) when it is (options)(?:A|B..)REST
 * with a group that captures nothing and carries no quantifier (see
 * ps_leading_alternatives()); leaves pt empty otherwise (or when anything
 * fails).
 */
static void
distribute(struct engine *e, const char *text, size_t len, struct parts *pt)
{
	struct ps_span alts[MAX_PARTS];
	size_t lead, rest, n, i, k;
	char *buf;

	memset(pt, 0, sizeof *pt);
	if ((n = ps_leading_alternatives(text, len, alts, MAX_PARTS,
	    &rest)) == 0)
		return;
	/* leading option settings such as (?i) stay in front of each part */
	lead = ps_lead_len(text, len);
	if ((pt->code = calloc(n, sizeof *pt->code)) == NULL ||
	    (pt->jit = calloc(n, sizeof *pt->jit)) == NULL ||
	    (buf = malloc(len)) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		size_t alt_len = alts[i].end - alts[i].start;

		memcpy(buf, text, lead);
		k = lead;
		memcpy(buf + k, text + alts[i].start, alt_len);
		k += alt_len;
		memcpy(buf + k, text + rest, len - rest);
		k += len - rest;
		pt->code[i] = compile_text(buf, k, 0);
		pt->n = i + 1;
		if (pt->code[i] == NULL)
			break;
		pt->jit[i] = e->use_jit ? 0 : -1;
	}
	free(buf);
	if (pt->n == n && pt->code[n - 1] != NULL)
		return;
fail:
	parts_free(pt);
}

/*
 * Fill pt, when distribute() did not, with two parts of a text that has
 * bare ^ alternatives ((?:^|[;&|])R deeper in it): the text anchored,
 * tried at offset 0 only, and the text without them, which means the same
 * at any other start and, unlike the text, gives PCRE2 a start set.
 */
static void
split_carets(struct engine *e, const char *text, size_t len,
    struct parts *pt)
{
	char *without;
	size_t n;

	if (pt->n > 0 || (without = malloc(len)) == NULL)
		return;
	n = ps_drop_caret_alternatives(text, len, without);
	if (n > 0 && (pt->code = calloc(2, sizeof *pt->code)) != NULL &&
	    (pt->jit = calloc(2, sizeof *pt->jit)) != NULL) {
		pt->n = 2;
		pt->caret_split = 1;
		pt->code[0] = compile_text(text, len, PCRE2_ANCHORED);
		pt->code[1] = compile_text(without, n, 0);
		pt->jit[0] = pt->jit[1] = e->use_jit ? 0 : -1;
		if (pt->code[0] == NULL || pt->code[1] == NULL ||
		    first_bytes(pt->code[1]) == ANY_FIRST_BYTE)
			parts_free(pt);
	} else if (n > 0)
		parts_free(pt);
	free(without);
}

/* Tails: at most this many items are read, and a tail must need at least
 * TAIL_MIN_LENGTH characters and start with one of at most
 * TAIL_MAX_FIRST_BYTES bytes, fewer than the whole, or it would cost as
 * much as the whole. */
#define TAIL_MAX_ITEMS 128
#define TAIL_MIN_LENGTH 3
#define TAIL_MAX_FIRST_BYTES 12

static void
tail_free(struct tail *t)
{
	pcre2_code_free(t->code);
	t->code = NULL;
}

/* Is a search for code (a tail) cheaper than one for whole_code? */
static int
selective_tail(const pcre2_code *code, unsigned whole_first_bytes)
{
	uint32_t min_length;
	unsigned n = first_bytes(code);

	return pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH,
	    &min_length) == 0 && min_length >= TAIL_MIN_LENGTH &&
	    n <= TAIL_MAX_FIRST_BYTES && n < whole_first_bytes;
}

/* Could a tail starting with this item have a selective first byte?
 * Saves compiling those that cannot (., \\s, [^...]). */
static int
may_start_selectively(const char *item)
{
	switch (item[0]) {
	case '.':
	case '^':
	case '$':
		return 0;
	case '[':
		return item[1] != '^';
	case '\\':
		return strchr("bBxp", item[1]) != NULL ||
		    !(isalnum((unsigned char)item[1]));
	default:
		return 1;
	}
}

/*
 * The tail of text[0..len), whose compiled form is whole_code (see
 * struct tail): the shortest selective one behind an unbounded item, as
 * the literals near a pattern's end are its rarest (a domain after
 * curl\b[^;]*?).  Patterns that refer to groups are left whole, as a
 * tail's group numbers differ.
 */
static void
compile_tail(struct engine *e, const char *text, size_t len,
    const pcre2_code *whole_code, struct tail *t)
{
	struct ps_item items[TAIL_MAX_ITEMS];
	size_t lead, n, i, first_unbounded, k, shortest = 0;
	unsigned whole_first_bytes;
	char *buf;

	memset(t, 0, sizeof *t);
	t->jit = e->use_jit ? 0 : -1;
	/* no tail can start with fewer bytes than one */
	if ((whole_first_bytes = first_bytes(whole_code)) <= 1 ||
	    ps_refers_to_groups(text, len))
		return;
	lead = ps_lead_len(text, len);
	n = ps_concat_items(text, lead, len, items, TAIL_MAX_ITEMS);
	for (first_unbounded = 0; first_unbounded < n &&
	    !items[first_unbounded].unbounded; first_unbounded++)
		;
	if (first_unbounded + 1 >= n || (buf = malloc(len)) == NULL)
		return;
	memcpy(buf, text, lead);
	for (i = n - 1; i > first_unbounded && t->code == NULL; i--) {
		/* compile only what could be long and start selectively */
		if (shortest < PS_LONG)
			shortest += items[i].shortest;
		if (shortest < TAIL_MIN_LENGTH ||
		    !may_start_selectively(text + items[i].start))
			continue;
		k = len - items[i].start;
		memcpy(buf + lead, text + items[i].start, k);
		t->code = compile_text(buf, lead + k, 0);
		if (t->code != NULL &&
		    !selective_tail(t->code, whole_first_bytes))
			tail_free(t);
	}
	free(buf);
}

/*
 * JIT-compile code at its first search: 1 when it runs JIT-compiled.  A
 * compilation that fails now leaves PCRE2's error code in *failure.
 */
static int
lazy_jit(pcre2_code *code, int *jit, int *failure)
{
	int rc;

	if (*jit == 0) {
		rc = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
		*jit = rc == 0 ? 1 : -1;
		if (rc != 0 && failure != NULL)
			*failure = rc;
	}
	return *jit > 0;
}

/* re.search() over the parts: lazily JIT-compiled. */
static int search_code(struct engine *, const ttpd_rule *,
    struct prepared_rule *, pcre2_code *, int, const struct field_slot *,
    PCRE2_SIZE, PCRE2_SIZE);

static int
search_parts(struct engine *e, const ttpd_rule *rule,
    struct prepared_rule *pr, struct parts *pt, const struct field_slot *f,
    PCRE2_SIZE start, PCRE2_SIZE limit)
{
	size_t i;

	for (i = 0; i < pt->n; i++) {
		if (i == 0 && pt->caret_split && start > 0)
			continue;       /* ^ cannot match there */
		if (search_code(e, rule, pr, pt->code[i], lazy_jit(pt->code[i],
		    &pt->jit[i], NULL), f, start, limit))
			return 1;
	}
	return 0;
}

static void
free_alternatives(struct prepared_rule *pr)
{
	size_t i;

	if (pr->alt_code != NULL)
		for (i = 0; i < pr->clauses.n; i++)
			pcre2_code_free(pr->alt_code[i]);
	if (pr->alt_parts != NULL)
		for (i = 0; i < pr->clauses.n; i++)
			parts_free(&pr->alt_parts[i]);
	if (pr->alt_tail != NULL)
		for (i = 0; i < pr->clauses.n; i++)
			tail_free(&pr->alt_tail[i]);
	free(pr->alt_code);
	free(pr->alt_jit);
	free(pr->alt_parts);
	free(pr->alt_tail);
	pr->alt_code = NULL;
	pr->alt_jit = NULL;
	pr->alt_parts = NULL;
	pr->alt_tail = NULL;
}

/*
 * Compile each top-level alternative alone, so that only those whose
 * clause holds are searched, each with its own start optimisations.  A
 * subject matches the pattern iff it matches one of its alternatives
 * (no verbs: the prefilter refuses them).  Group numbers change in all
 * alternatives but the first, so a later one with a backreference keeps
 * the pattern whole.  Nothing is split when anything fails: the whole
 * pattern is then searched.
 */
static void
compile_alternatives(struct engine *e, const char *pattern,
    struct prepared_rule *pr)
{
	const struct pf_clauses *c = &pr->clauses;
	uint32_t backrefs;
	size_t i, len;
	char *text;

	if (c->n < 2 || !c->splittable)
		return;
	if ((pr->alt_code = calloc(c->n, sizeof *pr->alt_code)) == NULL ||
	    (pr->alt_jit = calloc(c->n, sizeof *pr->alt_jit)) == NULL ||
	    (pr->alt_parts = calloc(c->n, sizeof *pr->alt_parts)) == NULL ||
	    (pr->alt_tail = calloc(c->n, sizeof *pr->alt_tail)) == NULL)
		goto fail;
	for (i = 0; i < c->n; i++) {
		size_t pre = i == 0 ? 0 : c->prefix_len;

		len = pre + c->v[i].len;
		if ((text = malloc(len + 1)) == NULL)
			goto fail;
		memcpy(text, pattern, pre);
		memcpy(text + pre, pattern + c->v[i].start, c->v[i].len);
		pr->alt_code[i] = compile_text(text, len, 0);
		if (pr->alt_code[i] != NULL) {
			distribute(e, text, len, &pr->alt_parts[i]);
			split_carets(e, text, len, &pr->alt_parts[i]);
			compile_tail(e, text, len, pr->alt_code[i],
			    &pr->alt_tail[i]);
		}
		free(text);
		if (pr->alt_code[i] == NULL || (i > 0 &&
		    (pcre2_pattern_info(pr->alt_code[i],
		    PCRE2_INFO_BACKREFMAX, &backrefs) != 0 || backrefs != 0)))
			goto fail;
		if (!e->use_jit)
			pr->alt_jit[i] = -1;
	}
	return;
fail:
	free_alternatives(pr);
}

static void
free_clauses(struct engine *e, struct prepared_rule *pr)
{
	size_t i, k, j = 0;

	if (pr->clause_ids != NULL)
		for (i = 0; i < pr->clauses.n; i++)
			for (k = 0; k < pr->clauses.v[i].nf; k++)
				release_filter(e, pr->clause_ids[j++]);
	free(pr->clause_ids);
	pr->clause_ids = NULL;
	free_alternatives(pr);
	pf_clauses_free(&pr->clauses);
}

/*
 * The finer clauses, when they say more than the one set: several
 * alternatives, or two sets in one.  0, or -1 when out of memory.
 */
static int
register_clauses(struct engine *e, const char *pattern, size_t len,
    struct prepared_rule *pr)
{
	size_t i, k, j = 0, total = 0, id;
	int rc;

	/* register_filter() has had pf_extract() say 1 */
	rc = pf_extract_clauses_after(pattern, len, &pr->clauses);
	if (rc <= 0)
		return rc;
	for (i = 0; i < pr->clauses.n; i++)
		total += pr->clauses.v[i].nf;
	if (total == 1) {
		pf_clauses_free(&pr->clauses);  /* the same as the one set */
		return 0;
	}
	if (pr->clauses.n == 1) {
		/* the rule's one set, checked first, stands for the first
		 * set of a lone clause: only the second is worth a filter */
		struct pf_clause *c = &pr->clauses.v[0];

		pf_literals_free(&c->f[0]);
		c->f[0] = c->f[1];
		c->nf = 1;
		total = 1;
	}
	if ((pr->clause_ids = calloc(total, sizeof *pr->clause_ids)) == NULL) {
		pf_clauses_free(&pr->clauses);
		return -1;
	}
	for (i = 0; i < pr->clauses.n; i++)
		for (k = 0; k < pr->clauses.v[i].nf; k++) {
			id = alloc_filter(e, &pr->clauses.v[i].f[k], 1);
			if (id == (size_t)-1) {
				/* undo the ids taken so far */
				while (j > 0)
					release_filter(e, pr->clause_ids[--j]);
				free(pr->clause_ids);
				pr->clause_ids = NULL;
				pf_clauses_free(&pr->clauses);
				return -1;
			}
			pr->clause_ids[j++] = id;
		}
	return 0;
}

/*
 * Give the rule a filter id when its pattern has required literals; a
 * pattern without them is simply always searched.  -1: out of memory.
 */
static int
register_filter(struct engine *e, const char *pattern, size_t len,
    struct prepared_rule *pr)
{
	size_t id;
	int rc;

	rc = pf_extract(pattern, len, &pr->lits);
	if (rc <= 0)
		return rc;
	if ((id = alloc_filter(e, &pr->lits, 0)) == (size_t)-1) {
		pf_literals_free(&pr->lits);
		return -1;
	}
	pr->filter_id = id;
	pr->filtered = 1;
	if (register_clauses(e, pattern, len, pr) < 0) {
		release_filter(e, id);
		pr->filtered = 0;
		pf_literals_free(&pr->lits);
		return -1;
	}
	return 0;
}

/*
 * Rebuild the automaton after rules or fields changed.  Without one (no
 * filtered rule, or out of memory) every rule is searched.
 */
static void
rebuild_prefilter(struct engine *e)
{
	const struct pf_literals **sets;
	size_t i;

	pf_free(e->pf);
	e->pf = NULL;
	free(e->hits);
	e->hits = NULL;
	e->hit_words = 0;
	e->pf_dirty = 0;
	if (e->nfilters == 0)
		return;
	if ((sets = calloc(e->nfilters, sizeof *sets)) == NULL)
		goto nomem;
	for (i = 0; i < e->nfilters; i++)
		sets[i] = e->filters[i].refs > 0 ? &e->filters[i].lits : NULL;
	e->pf = pf_build(sets, e->nfilters);
	free(sets);
	if (e->pf == NULL)
		goto nomem;
	e->hit_words = pf_hit_words(e->pf);
	e->hits = calloc(e->nslots * e->hit_words, sizeof *e->hits);
	for (i = 0; e->hits != NULL && i < e->nslots; i++) {
		struct pf_ends *v = realloc(e->slots[i].ends,
		    e->hit_words * 64 * sizeof *v);

		if (v != NULL)
			e->slots[i].ends = v;
		else {
			free(e->hits);
			e->hits = NULL;
		}
	}
	if (e->hits == NULL) {
		pf_free(e->pf);
		e->pf = NULL;
		e->hit_words = 0;
		goto nomem;
	}
	return;
nomem:
	/* try again at the next change; correct meanwhile, only slower */
	e->host->log(e->ctx, TTPD_LOG_WARNING, "out of memory building the "
	    "literal prefilter; every rule is searched");
}

static int
re_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct engine *e = state;
	const ttpd_host *h = e->host;
	const ttpd_value *pattern_v, *field_v;
	struct prepared_rule *pr;
	const char *pattern, *field;
	size_t pattern_len, field_len;
	PCRE2_UCHAR pcre_msg[160];
	PCRE2_SIZE offset;
	int code_err;

	*prepared = NULL;
	pattern_v = h->object_get(rule->match, "pattern");
	if (pattern_v == NULL)
		return TTPD_OK;         /* inert, as in DECNET */
	if (h->get_string(pattern_v, &pattern, &pattern_len) != TTPD_OK) {
		ttpd_err_set(err, "pattern: must be a string");
		return TTPD_EINVAL;
	}

	/* match.field if truthy, else the event kind's default */
	field_v = h->object_get(rule->match, "field");
	field = NULL;
	field_len = 0;
	if (py_truthy(h, field_v) &&
	    h->get_string(field_v, &field, &field_len) != TTPD_OK) {
		ttpd_err_set(err, "field: must be a string");
		return TTPD_EINVAL;
	}

	if ((pr = calloc(1, sizeof *pr)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	pr->field_slot = NO_SLOT;
	pr->profile = e->profile ? profile_entry(e, rule->rule_id) :
	    (size_t)-1;
	if (field != NULL) {
		if (memchr(field, '\0', field_len) != NULL) {
			/* no payload key can hold a NUL and be found by
			 * object_get(); refuse rather than never match */
			free(pr);
			ttpd_err_set(err, "field: contains a NUL character");
			return TTPD_EINVAL;
		}
		pr->field_slot = intern_field(e, field, field_len);
		if (pr->field_slot == NO_SLOT) {
			free(pr);
			ttpd_err_set(err, "out of memory");
			return TTPD_ENOMEM;
		}
	}

	pr->code = pcre2_compile((PCRE2_SPTR)pattern, pattern_len,
	    COMPILE_OPTIONS, &code_err, &offset, NULL);
	if (pr->code == NULL) {
		if (pcre2_get_error_message(code_err, pcre_msg,
		    sizeof pcre_msg) < 0)
			snprintf((char *)pcre_msg, sizeof pcre_msg,
			    "error %d", code_err);
		snprintf(err->msg, sizeof err->msg,
		    "pattern: %s at offset %zu", (const char *)pcre_msg,
		    (size_t)offset);
		free(pr);
		return TTPD_EINVAL;
	}
	/* JIT-compiled at its first search, as parts and alternatives
	 * are: many whole patterns are never searched whole */
	pr->jit = e->use_jit ? 0 : -1;
	pr->start_fixed = ps_has_start_anchor(pattern, pattern_len);
	e->plan_dirty = 1;
	if (e->use_prefilter && register_filter(e, pattern, pattern_len,
	    pr) < 0) {
		pcre2_code_free(pr->code);
		free(pr);
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	*prepared = pr;
	return TTPD_OK;
}

static void
re_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	struct engine *e = state;
	struct prepared_rule *pr = prepared;

	(void)rule;
	e->plan_dirty = 1;      /* the plan may point to pr */
	if (pr == NULL)
		return;
	if (pr->filtered) {
		release_filter(e, pr->filter_id);
		free_clauses(e, pr);
		pf_literals_free(&pr->lits);
	}
	parts_free(&pr->whole_parts);
	tail_free(&pr->tail);
	pcre2_code_free(pr->code);
	free(pr);
}

/* The interned slot of the event kind's default field, or NO_SLOT. */
static size_t
default_slot_for(const struct engine *e, const char *kind)
{
	size_t i;

	if (kind == NULL)
		return NO_SLOT;
	for (i = 0; i < N_DEFAULT_FIELDS; i++)
		if (strcmp(kind, default_fields[i].kind) == 0)
			return e->default_slot[i];
	return NO_SLOT;
}

/* Fetch and check a field once per event; the slot says if it is usable. */
static const struct field_slot *
field_for_event(struct engine *e, size_t slot_index,
    const ttpd_value *payload)
{
	struct field_slot *slot = &e->slots[slot_index];
	const ttpd_host *h = e->host;
	const ttpd_value *v;

	if (slot->generation == e->generation)
		return slot;
	slot->generation = e->generation;
	slot->usable = 0;
	v = h->object_get(payload, slot->name);
	if (h->get_string(v, &slot->subject, &slot->length) != TTPD_OK)
		return slot;    /* absent or not a string: no match */
	if (slot->length > e->max_subject_bytes) {
		e->oversized++;
		h->log(e->ctx, TTPD_LOG_DEBUG, "field %s: %zu bytes exceed "
		    "max_subject_bytes %zu; not matched", slot->name,
		    slot->length, e->max_subject_bytes);
		return slot;
	}
	if (!utf8_valid((const unsigned char *)slot->subject,
	    slot->length)) {
		e->bad_utf8++;
		h->log(e->ctx, TTPD_LOG_DEBUG, "field %s: invalid UTF-8; "
		    "not matched", slot->name);
		return slot;
	}
	slot->usable = 1;
	slot->scanned = 0;
	if (e->pf != NULL) {
		uint64_t *hits = &e->hits[slot_index * e->hit_words];
		int64_t t0 = e->profile ? mono_ns() : 0;

		memset(hits, 0, e->hit_words * sizeof *hits);
		pf_scan_ends(e->pf, (const unsigned char *)slot->subject,
		    slot->length, hits, slot->ends);
		slot->scanned = 1;
		if (e->profile)
			e->profile_scan_ns += mono_ns() - t0;
	}
	return slot;
}

/* Log a failed search at most once per rule per LOG_INTERVAL_NS. */
static void
log_search_failure(struct engine *e, const ttpd_rule *rule,
    struct prepared_rule *pr, int rc)
{
	PCRE2_UCHAR msg[160];
	int64_t now = e->host->now_ns(e->ctx);

	if (pr->logged && now - pr->last_log_ns < LOG_INTERVAL_NS) {
		pr->suppressed++;
		return;
	}
	if (rc == SEARCH_TIMED_OUT)
		snprintf((char *)msg, sizeof msg, "search_time_limit_ms "
		    "(%" PRId64 ") exceeded", e->search_time_limit_ns / 1000000);
	else if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", rc);
	e->host->log(e->ctx, TTPD_LOG_WARNING,
	    "rule %s: search abandoned, counted as no match: %s "
	    "(%" PRIu64 " limit hits, %" PRIu64 " errors for this rule; "
	    "%" PRIu64 " similar messages suppressed)", rule->rule_id,
	    (const char *)msg, pr->limit_hits, pr->match_errors,
	    pr->suppressed);
	pr->logged = 1;
	pr->last_log_ns = now;
	pr->suppressed = 0;
}

/*
 * One PCRE2 search, JIT-compiled code or (when jit is 0, or the JIT's
 * stack is too small) the interpreter: PCRE2's return code.  No match
 * starts before start or after limit (PCRE2_UNSET: anywhere), so
 * attempts there are not made: the answer is the same.  Starting at an
 * offset, PCRE2 still lets \b and lookbehinds see the text before it, and
 * ^ and \A cannot match, which is right since no match starts at 0.
 */
static inline int
match_once(struct engine *e, pcre2_code *code, int jit,
    const struct field_slot *f, PCRE2_SIZE start, PCRE2_SIZE limit)
{
	const unsigned char *s = (const unsigned char *)f->subject;
	int rc;

	/* PCRE2_NO_UTF_CHECK: start on a character's first byte */
	while (start > 0 && start < f->length && (s[start] & 0xc0) == 0x80)
		start--;
	pcre2_set_offset_limit(e->match_ctx, limit);
	if (jit) {
		rc = pcre2_jit_match(code, (PCRE2_SPTR)f->subject,
		    f->length, start, 0, e->match_data, e->match_ctx);
		if (rc != PCRE2_ERROR_JIT_STACKLIMIT)
			return rc;
		/* deep backtracking: the interpreter keeps its frames on the
		 * heap, bounded by heap_limit_kib */
	}
	return pcre2_match(code, (PCRE2_SPTR)f->subject, f->length, start,
	    PCRE2_NO_UTF_CHECK | (jit ? PCRE2_NO_JIT : 0),
	    e->match_data, e->match_ctx);
}

/*
 * match_once() over start offsets start..limit, a window of them at a
 * time when the subject is long, so that a pattern whose every attempt
 * runs on to the end of the line (\bcurl\s+(?:\S+\s+)*https?:// on
 * "curl x " repeated 10,000 times, then ";http://") is abandoned after
 * search_time_limit_ms instead of taking minutes: the attempts are the
 * same, the clock is read between windows.  The time is for all the
 * windowed searches of an event together (a line can hold the literals
 * of every rule), counted from the first.  The first window holds
 * WINDOW_WORK / length offsets, so lines of up to 2 KB are one window;
 * one that took under WINDOW_QUICK_NS is followed by one twice as large.
 * windows = 0 (a pattern with \G) searches in one piece.
 */
static int
run_match(struct engine *e, pcre2_code *code, int jit,
    const struct field_slot *f, PCRE2_SIZE start, PCRE2_SIZE limit,
    int windows)
{
	PCRE2_SIZE last = limit < f->length ? limit : f->length;
	size_t window;
	int64_t t, deadline;
	int rc;

	if (f->length < WINDOW_MIN_LENGTH || !windows ||
	    e->search_time_limit_ns == 0 || start > last ||
	    last - start < (window = WINDOW_WORK / (f->length + 1)))
		return match_once(e, code, jit, f, start, limit);
	t = mono_ns();
	if (e->deadline_generation != e->generation) {
		e->deadline = t + e->search_time_limit_ns;
		e->deadline_generation = e->generation;
	} else if (t > e->deadline)
		return SEARCH_TIMED_OUT;        /* the event's time is spent */
	deadline = e->deadline;
	for (;;) {
		PCRE2_SIZE to = last - start < window ? last :
		    start + window - 1;
		int64_t t0 = t;

		rc = match_once(e, code, jit, f, start, to);
		if (rc != PCRE2_ERROR_NOMATCH || to == last)
			return rc;
		start = to + 1;
		if ((t = mono_ns()) > deadline)
			return SEARCH_TIMED_OUT;
		if (t - t0 < WINDOW_QUICK_NS && window < last)
			window *= 2;    /* cheap attempts: fewer, larger windows */
	}
}

static int
search_code(struct engine *e, const ttpd_rule *rule,
    struct prepared_rule *pr, pcre2_code *code, int jit,
    const struct field_slot *f, PCRE2_SIZE start, PCRE2_SIZE limit)
{
	int rc;

	if (start > limit)
		return 0;
	rc = run_match(e, code, jit, f, start, limit, !pr->start_fixed);
	if (rc >= 0)
		return 1;       /* 0: matched, ovector too small; fine */
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
	    rc == SEARCH_TIMED_OUT) {
		pr->limit_hits++;
		e->limit_hits++;
	} else {
		pr->match_errors++;
		e->match_errors++;
	}
	log_search_failure(e, rule, pr, rc);
	return 0;
}

static void
log_jit_failure(struct engine *e, const ttpd_rule *rule, int failure)
{
	PCRE2_UCHAR msg[160];

	if (pcre2_get_error_message(failure, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", failure);
	e->host->log(e->ctx, TTPD_LOG_WARNING, "rule %s: JIT compilation "
	    "failed (%s); using the interpreter", rule->rule_id,
	    (const char *)msg);
}

/*
 * Is there surely no match of tail t from start (where the whole's match
 * would start)?  Its own failures say nothing: the whole is searched.
 */
static int
tail_absent(struct engine *e, const struct prepared_rule *pr, struct tail *t,
    const struct field_slot *f, PCRE2_SIZE start)
{
	if (t->code == NULL || start > f->length)
		return 0;
	return run_match(e, t->code, lazy_jit(t->code, &t->jit, NULL), f,
	    start, PCRE2_UNSET, !pr->start_fixed) == PCRE2_ERROR_NOMATCH;
}

static int
search(struct engine *e, const ttpd_rule *rule, struct prepared_rule *pr,
    const struct field_slot *f, PCRE2_SIZE start, PCRE2_SIZE limit)
{
	int failure = 0;

	if (tail_absent(e, pr, &pr->tail, f, start))
		return 0;
	if (pr->whole_parts.n > 0)
		return search_parts(e, rule, pr, &pr->whole_parts, f, start,
		    limit);
	if (pr->jit == 0 && !lazy_jit(pr->code, &pr->jit, &failure))
		log_jit_failure(e, rule, failure);
	return search_code(e, rule, pr, pr->code, pr->jit > 0, f, start,
	    limit);
}

/* Do two rules list the same evidence fields, in the same order? */
static int
same_evidence_fields(const ttpd_rule *a, const ttpd_rule *b)
{
	size_t i;

	if (a->n_evidence_fields != b->n_evidence_fields)
		return 0;
	for (i = 0; i < a->n_evidence_fields; i++)
		if (strcmp(a->evidence_fields[i], b->evidence_fields[i]) != 0)
			return 0;
	return 1;
}

/* Evidence: the evidence_fields recipe, plus the aux keys for commands. */
static ttpd_value *
build_evidence(struct engine *e, const ttpd_event *ev, ttpd_sink *sink,
    const ttpd_rule *rule)
{
	const ttpd_host *h = e->host;
	ttpd_value *evidence;
	const ttpd_value *v;
	size_t i;

	if (e->evidence_generation == e->generation &&
	    same_evidence_fields(e->evidence_rule, rule))
		return e->evidence;
	if ((evidence = h->evidence_from_fields(sink, rule)) == NULL)
		return NULL;
	e->evidence_generation = 0;     /* until it is complete */
	if (ev->source_kind == NULL || strcmp(ev->source_kind, "command") != 0)
		goto done;
	for (i = 0; i < sizeof aux_evidence_keys /
	    sizeof aux_evidence_keys[0]; i++) {
		v = h->object_get(ev->payload, aux_evidence_keys[i]);
		if (v == NULL ||
		    h->object_get(evidence, aux_evidence_keys[i]) != NULL)
			continue;
		if (h->object_set(evidence, aux_evidence_keys[i], v) !=
		    TTPD_OK)
			return NULL;
	}
done:
	e->evidence = evidence;
	e->evidence_rule = rule;
	e->evidence_generation = e->generation;
	return evidence;
}

/* Does clause i (whose first filter id is clause_ids[j]) have every one
 * of its literal sets in the hits of this field slot? */
static int
clause_holds(const struct engine *e, const struct prepared_rule *pr,
    size_t slot, size_t i, size_t j)
{
	const uint64_t *hits = &e->hits[slot * e->hit_words];
	size_t k;

	for (k = 0; k < pr->clauses.v[i].nf; k++, j++) {
		size_t id = pr->clause_ids[j];

		if (!(hits[id >> 6] & UINT64_C(1) << (id & 63)))
			return 0;
	}
	return 1;
}

/* clause_holds() from the clause table; *c moves to the next clause. */
static int
tab_clause_holds(const struct engine *e, size_t slot, const uint32_t **c)
{
	const uint64_t *hits = &e->hits[slot * e->hit_words];
	const uint32_t *ids = *c + 1, *end = ids + **c;

	*c = end;
	for (; ids < end; ids++)
		if (!(hits[*ids >> 6] & UINT64_C(1) << (*ids & 63)))
			return 0;
	return 1;
}

/*
 * The earliest offset a match can start at when every match has an
 * occurrence of lits (filter id `id`, whose hit bit is set) ending at
 * most lits->reach bytes after its start: the first occurrence's end
 * minus the reach.
 */
static PCRE2_SIZE
set_start(const struct pf_literals *lits, const struct field_slot *f,
    size_t id)
{
	if (lits->reach == PF_NO_REACH || f->ends[id].first <= lits->reach)
		return 0;
	return f->ends[id].first - lits->reach;
}

/*
 * Where a match of clause i's alternative can start: every such match
 * has a counted occurrence of a literal of each of the clause's sets, so
 * it starts before the last one of each (*limit) and, for a set with a
 * reach, no earlier than its first one allows (*start).
 */
static void
clause_bounds(const struct prepared_rule *pr, const struct field_slot *f,
    size_t i, size_t j, PCRE2_SIZE *start, PCRE2_SIZE *limit)
{
	size_t k;

	*start = 0;
	*limit = PCRE2_UNSET;
	for (k = 0; k < pr->clauses.v[i].nf; k++, j++) {
		size_t id = pr->clause_ids[j];
		PCRE2_SIZE s = set_start(&pr->clauses.v[i].f[k], f, id);

		if (f->ends[id].last < *limit)
			*limit = f->ends[id].last;
		if (s > *start)
			*start = s;
	}
}

/* A walk over the clauses of a rule that hold in a field slot, through
 * the clause table when the plan has one. */
struct clause_walk {
	const uint32_t *c;      /* the next clause in the table, or NULL */
	size_t i, j;            /* the next clause, its first filter id's
				   place in pr->clause_ids */
};

static void
clause_walk_init(const struct engine *e, const struct prepared_rule *pr,
    struct clause_walk *w)
{
	w->c = e->clause_tab_ready ?
	    e->clause_tab + e->clause_at[pr->filter_id] + 1 : NULL;
	w->i = w->j = 0;
}

/* The next clause that holds: 1, with its index in *i and its first
 * filter id's place in *j; 0 after the last. */
static inline int
next_holding_clause(const struct engine *e, const struct prepared_rule *pr,
    size_t slot, struct clause_walk *w, size_t *i, size_t *j)
{
	while (w->i < pr->clauses.n) {
		size_t nf;
		int holds;

		if (w->c != NULL) {
			nf = *w->c;
			holds = tab_clause_holds(e, slot, &w->c);
		} else {
			nf = pr->clauses.v[w->i].nf;
			holds = clause_holds(e, pr, slot, w->i, w->j);
		}
		*i = w->i++;
		*j = w->j;
		w->j += nf;
		if (holds)
			return 1;
	}
	return 0;
}

/*
 * The clauses that hold: how many, the last of them (*one), and the
 * bounds of where a match of any of their alternatives can start
 * (alternatives whose clause fails cannot match).
 */
static size_t
holding_clauses(const struct engine *e, const struct prepared_rule *pr,
    size_t slot, const struct field_slot *f, size_t *one,
    PCRE2_SIZE *start, PCRE2_SIZE *limit)
{
	struct clause_walk w;
	size_t i, j, holding = 0;
	PCRE2_SIZE s, l;

	*start = PCRE2_UNSET;
	*limit = 0;
	clause_walk_init(e, pr, &w);
	while (next_holding_clause(e, pr, slot, &w, &i, &j)) {
		*one = i;
		holding++;
		clause_bounds(pr, f, i, j, &s, &l);
		if (s < *start)
			*start = s;
		if (l > *limit)
			*limit = l;
	}
	return holding;
}

/*
 * Of the clauses that hold, those whose alternative's tail occurs from
 * start (or that have none): how many, and the last of them (*one).
 * Checked when several hold, so that one alone may be searched.
 */
static size_t
tail_holding(struct engine *e, const struct prepared_rule *pr, size_t slot,
    const struct field_slot *f, PCRE2_SIZE start, size_t *one)
{
	struct clause_walk w;
	size_t i, j, left = 0;

	clause_walk_init(e, pr, &w);
	while (next_holding_clause(e, pr, slot, &w, &i, &j))
		if (!tail_absent(e, pr, &pr->alt_tail[i], f, start)) {
			*one = i;
			left++;
		}
	return left;
}

/*
 * re.search() of a rule with clauses, between start and limit.  When one
 * clause holds and the rule is split, its alternative alone does a
 * subset of the whole pattern's work; when several do (and their tails
 * occur), the whole pattern stops at the leftmost match of any of them,
 * where one alternative after the other could scan the subject several
 * times.
 */
static int
search_clauses(struct engine *e, const ttpd_rule *rule,
    struct prepared_rule *pr, size_t slot, const struct field_slot *f,
    PCRE2_SIZE start, PCRE2_SIZE limit)
{
	size_t one = 0, holding;
	PCRE2_SIZE s, l;

	holding = holding_clauses(e, pr, slot, f, &one, &s, &l);
	if (holding == 0)
		return 0;
	if (l < limit)
		limit = l;
	if (s > start)
		start = s;
	if (pr->alt_code == NULL)
		return search(e, rule, pr, f, start, limit);
	if (holding > 1) {
		/* tails checked: one that is left has its tail */
		if ((holding = tail_holding(e, pr, slot, f, start, &one)) != 1)
			return holding > 1 && search(e, rule, pr, f, start,
			    limit);
	} else if (tail_absent(e, pr, &pr->alt_tail[one], f, start))
		return 0;
	if (pr->alt_parts[one].n > 0)
		return search_parts(e, rule, pr, &pr->alt_parts[one], f,
		    start, limit);
	return search_code(e, rule, pr, pr->alt_code[one],
	    lazy_jit(pr->alt_code[one], &pr->alt_jit[one], NULL), f, start,
	    limit);
}

/*
 * The candidate tables of the plan (see struct engine); without them
 * (mixed fields, out of memory) handle() walks every rule.
 */
static void
plan_index(struct engine *e)
{
	size_t i, first = 1, slot = NO_SLOT, n = e->plan_n;
	size_t words = (n + 63) / 64, fwords = (e->nfilters + 63) / 64;

	e->plan_slot = NO_SLOT;
	e->plan_default = 0;
	for (i = 0; i < n; i++) {
		const struct plan_entry *pe = &e->plan[i];

		if (pe->pr == NULL)
			continue;
		if (first) {
			slot = pe->slot;
			first = 0;
		} else if (pe->slot != slot)
			return;         /* mixed fields */
	}
	if (first)
		return;         /* no rule with a pattern: nothing matches */
	if (e->nfilters > e->by_filter_cap) {
		size_t *v = realloc(e->by_filter, e->nfilters * sizeof *v);
		uint64_t *m;

		if (v == NULL)
			return;
		e->by_filter = v;
		if ((m = realloc(e->plan_filters, fwords * sizeof *m)) == NULL)
			return;
		e->plan_filters = m;
		e->by_filter_cap = e->nfilters;
	}
	if (n > e->cand_cap) {
		uint64_t *u = realloc(e->unfiltered, words * sizeof *u);
		uint64_t *b;
		size_t *c;

		if (u == NULL)
			return;
		e->unfiltered = u;
		if ((b = realloc(e->cand_bits, words * sizeof *b)) == NULL)
			return;
		e->cand_bits = b;
		if ((c = realloc(e->cand, n * sizeof *c)) == NULL)
			return;
		e->cand = c;
		e->cand_cap = n;
	}
	for (i = 0; i < e->nfilters; i++)
		e->by_filter[i] = NO_SLOT;
	memset(e->unfiltered, 0, words * sizeof *e->unfiltered);
	if (fwords > 0)
		memset(e->plan_filters, 0, fwords * sizeof *e->plan_filters);
	for (i = 0; i < n; i++) {
		const struct plan_entry *pe = &e->plan[i];
		size_t id = pe->filter_id;

		if (pe->pr == NULL)
			continue;
		if (pe->filtered) {
			e->by_filter[id] = i;
			e->plan_filters[id >> 6] |= UINT64_C(1) << (id & 63);
		} else
			e->unfiltered[i >> 6] |= UINT64_C(1) << (i & 63);
	}
	e->plan_words = words;
	e->filter_words = fwords;
	e->plan_default = slot == NO_SLOT;
	e->plan_slot = slot;
}

/*
 * The plan indices of the rules worth a look for this event, in plan
 * order: the unfiltered ones and those whose filter id is in the hits
 * (most hits are ids of clauses, not of rules: plan_filters keeps only
 * the rules').  Filter ids follow load order, not always plan order: the
 * hits are turned into bits by plan index, which read back in plan order.
 */
static size_t
plan_candidates(struct engine *e, size_t slot)
{
	const uint64_t *hits = &e->hits[slot * e->hit_words];
	uint64_t *cand_bits = e->cand_bits;
	size_t w, n = 0, words = e->filter_words;

	if (words > e->hit_words)
		words = e->hit_words;
	memcpy(cand_bits, e->unfiltered, e->plan_words * sizeof *cand_bits);
	for (w = 0; w < words; w++) {
		uint64_t bits = hits[w] & e->plan_filters[w];

		while (bits != 0) {
			size_t i = e->by_filter[w * 64 +
			    (size_t)__builtin_ctzll(bits)];

			bits &= bits - 1;
			cand_bits[i >> 6] |= UINT64_C(1) << (i & 63);
		}
	}
	for (w = 0; w < e->plan_words; w++) {
		uint64_t bits = cand_bits[w];

		while (bits != 0) {
			e->cand[n++] = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
		}
	}
	return n;
}

/*
 * The clause table of the plan (see struct engine); without it (out of
 * memory) holding_clauses() reads the prepared rules.
 */
static void
plan_clauses(struct engine *e)
{
	size_t i, k, m, n = 0;

	for (i = 0; i < e->plan_n; i++) {
		const struct prepared_rule *pr = e->plan[i].pr;

		if (pr == NULL || !pr->filtered || pr->clause_ids == NULL)
			continue;
		n++;
		for (k = 0; k < pr->clauses.n; k++)
			n += 1 + pr->clauses.v[k].nf;
	}
	if (n > e->clause_tab_cap) {
		uint32_t *v = realloc(e->clause_tab, n * sizeof *v);

		if (v == NULL)
			return;
		e->clause_tab = v;
		e->clause_tab_cap = n;
	}
	if (e->nfilters > e->clause_at_cap) {
		size_t *v = realloc(e->clause_at, e->nfilters * sizeof *v);

		if (v == NULL)
			return;
		e->clause_at = v;
		e->clause_at_cap = e->nfilters;
	}
	for (n = 0, i = 0; i < e->plan_n; i++) {
		const struct prepared_rule *pr = e->plan[i].pr;
		size_t j = 0;

		if (pr == NULL || !pr->filtered || pr->clause_ids == NULL)
			continue;
		if (pr->filter_id >= e->nfilters ||
		    pr->clauses.n > UINT32_MAX)
			return;
		e->clause_at[pr->filter_id] = n;
		e->clause_tab[n++] = (uint32_t)pr->clauses.n;
		for (k = 0; k < pr->clauses.n; k++) {
			e->clause_tab[n++] = (uint32_t)pr->clauses.v[k].nf;
			for (m = 0; m < pr->clauses.v[k].nf; m++) {
				if (pr->clause_ids[j] > UINT32_MAX)
					return;
				e->clause_tab[n++] =
				    (uint32_t)pr->clause_ids[j++];
			}
		}
	}
	e->clause_tab_ready = 1;
}

/*
 * Make sure the plan describes `rules`.  The host hands the same list
 * (same pointers, same order) event after event unless rules or their
 * states change, so a comparison is all most events cost.  0, or -1 when
 * out of memory (the caller then walks the rules directly).
 */
static int
plan_for(struct engine *e, const ttpd_rule *const *rules, size_t n)
{
	size_t i;

	if (!e->plan_dirty && n == e->plan_n && (n == 0 ||
	    memcmp(rules, e->plan_rules, n * sizeof *rules) == 0))
		return 0;
	e->clause_tab_ready = 0;
	if (n > e->plan_cap) {
		struct plan_entry *p = realloc(e->plan, n * sizeof *p);
		const ttpd_rule **r;

		if (p == NULL)
			return -1;
		e->plan = p;
		if ((r = realloc(e->plan_rules, n * sizeof *r)) == NULL)
			return -1;
		e->plan_rules = r;
		e->plan_cap = n;
	}
	for (i = 0; i < n; i++) {
		struct prepared_rule *pr = rules[i]->prepared;

		e->plan_rules[i] = rules[i];
		e->plan[i].pr = pr;
		e->plan[i].slot = pr != NULL ? pr->field_slot : NO_SLOT;
		e->plan[i].filtered = pr != NULL && pr->filtered;
		e->plan[i].filter_id = pr != NULL ? pr->filter_id : 0;
	}
	e->plan_n = n;
	e->plan_dirty = 0;
	plan_index(e);
	plan_clauses(e);
	return 0;
}

/*
 * What the prefilter's searches use besides the whole pattern: its
 * alternatives compiled alone, its parts and its tails.  Made at the
 * rule's first search rather than at load, where they took a fifth of
 * the pack's start-up, most of them for rules that a day's traffic never
 * searches.  Anything that fails leaves the whole pattern to search.
 */
static void
elaborate(struct engine *e, const ttpd_rule *rule, struct prepared_rule *pr)
{
	const ttpd_host *h = e->host;
	const char *pattern;
	size_t len;

	pr->elaborated = 1;
	if (!e->use_prefilter || h->get_string(h->object_get(rule->match,
	    "pattern"), &pattern, &len) != TTPD_OK)
		return;
	if (pr->clause_ids != NULL)
		compile_alternatives(e, pattern, pr);
	distribute(e, pattern, len, &pr->whole_parts);
	split_carets(e, pattern, len, &pr->whole_parts);
	compile_tail(e, pattern, len, pr->code, &pr->tail);
}

/*
 * Search one rule whose field f is usable; on a match emit its tags.
 * TTPD_OK, or an error with a message.
 */
static int
eval_rule(struct engine *e, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err, const ttpd_rule *rule, struct prepared_rule *pr,
    size_t slot, const struct field_slot *f, int filtered)
{
	const ttpd_host *h = e->host;
	ttpd_value *evidence;
	PCRE2_SIZE start = 0, limit = PCRE2_UNSET;
	int64_t t0 = pr->profile != (size_t)-1 ? mono_ns() : 0;
	int rc, matched;

	if (!pr->elaborated)
		elaborate(e, rule, pr);
	/* the rule's literals occur (the caller checked): no match starts
	 * after the last of them, nor before the first allows */
	if (filtered && f->scanned) {
		limit = f->ends[pr->filter_id].last;
		start = set_start(&pr->lits, f, pr->filter_id);
	}
	if (filtered && f->scanned && pr->clause_ids != NULL)
		matched = search_clauses(e, rule, pr, slot, f, start, limit);
	else
		matched = search(e, rule, pr, f, start, limit);
	if (pr->profile != (size_t)-1) {
		struct rule_profile *p = &e->profiles[pr->profile];

		p->searches++;
		p->matches += matched != 0;
		p->ns += mono_ns() - t0;
	}
	if (!matched)
		return TTPD_OK;
	if ((evidence = build_evidence(e, ev, sink, rule)) == NULL) {
		snprintf(err->msg, sizeof err->msg, "rule %s: cannot build the "
		    "evidence (out of memory)", rule->rule_id);
		return TTPD_ENOMEM;
	}
	if ((rc = emit_rule(h, sink, rule, evidence, 0, err)) < 0)
		return rc;
	return TTPD_OK;
}

/* Every rule of the plan reads one field: visit only the candidates. */
static int
handle_candidates(struct engine *e, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err, const ttpd_rule *const *rules)
{
	const struct field_slot *f;
	size_t slot = e->plan_slot, n, k;
	int rc;

	if (e->plan_default)
		slot = default_slot_for(e, ev->source_kind);
	if (slot == NO_SLOT)
		return TTPD_OK;
	f = field_for_event(e, slot, ev->payload);
	if (!f->usable)
		return TTPD_OK;
	n = plan_candidates(e, slot);
	for (k = 0; k < n; k++) {
		const struct plan_entry *pe = &e->plan[e->cand[k]];

		rc = eval_rule(e, ev, sink, err, rules[e->cand[k]], pe->pr,
		    slot, f, pe->filtered);
		if (rc < 0)
			return rc;
	}
	return TTPD_OK;
}

static int
re_handle(void *state, const ttpd_event *ev, ttpd_sink *sink, ttpd_err *err)
{
	struct engine *e = state;
	const ttpd_host *h = e->host;
	const ttpd_rule *const *rules;
	const struct field_slot *f;
	size_t n, i, slot, kind_default;
	int kind_default_known = 0, planned, rc;

	if (ev == NULL || ev->payload == NULL)
		return TTPD_OK;
	rules = h->rules_for(sink, &n);
	if (rules == NULL || n == 0)
		return TTPD_OK;
	if (e->pf_dirty)
		rebuild_prefilter(e);
	planned = plan_for(e, rules, n) == 0;
	e->generation++;        /* invalidates every field cache */
	e->profile_events++;
	if (planned && e->pf != NULL && (e->plan_slot != NO_SLOT ||
	    e->plan_default))
		return handle_candidates(e, ev, sink, err, rules);
	kind_default = NO_SLOT;

	for (i = 0; i < n; i++) {
		struct prepared_rule *pr;
		size_t filter_id;
		int filtered;

		if (planned) {
			const struct plan_entry *pe = &e->plan[i];

			pr = pe->pr;
			slot = pe->slot;
			filtered = pe->filtered;
			filter_id = pe->filter_id;
		} else {
			pr = rules[i]->prepared;
			slot = pr != NULL ? pr->field_slot : NO_SLOT;
			filtered = pr != NULL && pr->filtered;
			filter_id = pr != NULL ? pr->filter_id : 0;
		}
		if (pr == NULL)
			continue;       /* no pattern: never matches */
		if (slot == NO_SLOT) {
			if (!kind_default_known) {
				kind_default = default_slot_for(e,
				    ev->source_kind);
				kind_default_known = 1;
			}
			if ((slot = kind_default) == NO_SLOT)
				continue;
		}
		f = &e->slots[slot];
		if (f->generation != e->generation)
			f = field_for_event(e, slot, ev->payload);
		if (!f->usable)
			continue;
		if (filtered && f->scanned &&
		    !(e->hits[slot * e->hit_words + (filter_id >> 6)] &
		    UINT64_C(1) << (filter_id & 63)))
			continue;       /* no required literal: cannot match */
		rc = eval_rule(e, ev, sink, err, rules[i], pr, slot, f,
		    filtered);
		if (rc < 0)
			return rc;
	}
	return TTPD_OK;
}

static void
re_destroy(void *state)
{
	struct engine *e = state;

	if (e == NULL)
		return;
	if (e->profile)
		log_profile(e);
	if (e->limit_hits || e->match_errors || e->oversized || e->bad_utf8)
		e->host->log(e->ctx, TTPD_LOG_INFO, "searches abandoned at a "
		    "limit: %" PRIu64 ", failed: %" PRIu64 "; fields not "
		    "matched: %" PRIu64 " over max_subject_bytes, %" PRIu64
		    " invalid UTF-8", e->limit_hits, e->match_errors,
		    e->oversized, e->bad_utf8);
	engine_free(e);
}

static const char *const re_source_kinds[] = {
	"command", "http_request", "auth_attempt", "payload", NULL
};

static const ttpd_config_key re_config_keys[] = {
	{ "match_limit", TTPD_CFG_INT, 0,
	    "PCRE2 match limit per search (default 1000000)" },
	{ "depth_limit", TTPD_CFG_INT, 0,
	    "PCRE2 backtracking depth limit per search (default 100000)" },
	{ "heap_limit_kib", TTPD_CFG_INT, 0,
	    "PCRE2 heap limit per search in KiB (default 20000)" },
	{ "jit", TTPD_CFG_BOOL, 0,
	    "JIT-compile the patterns (default true)" },
	{ "max_subject_bytes", TTPD_CFG_INT, 0,
	    "fields longer than this are not matched (default 1048576)" },
	{ "search_time_limit_ms", TTPD_CFG_INT, 0,
	    "the searches of an event with a long field are abandoned "
	    "after this long in all, 0 for never (default 1000)" },
	{ "prefilter", TTPD_CFG_BOOL, 0,
	    "skip searches whose required literals or tail are absent "
	    "(default true)" },
	{ "profile", TTPD_CFG_BOOL, 0,
	    "time each rule's searches and log them, costliest first, when "
	    "the plugin stops (default false)" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .flags = TTPD_LIFTER_F_GENERIC_RULES,
    .name = "rule_engine",
    .version = PACKAGE_VERSION,
    .description = "regex rules on command, HTTP, auth and payload fields "
	"(DECNET RuleEngineTagger)",
    .source_kinds = re_source_kinds,
    .config_keys = re_config_keys,
    .init = re_init,
    .rule_prepare = re_rule_prepare,
    .rule_release = re_rule_release,
    .handle = re_handle,
    .destroy = re_destroy)
