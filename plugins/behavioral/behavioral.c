/*
 * behavioral: DECNET's BehavioralLifter (decnet-lifters.md section 3.1).
 *
 * Source kinds session, email and http_request; owns the rules whose
 * match.kind starts with "lifter:behavioral_".  Each kind names one
 * predicate over precomputed per-session aggregates in the payload (no
 * state is kept across events):
 *
 *   beaconing          beacon_interval_s >= min_interval_s (default 0) and
 *                      beacon_jitter_pct <= max_jitter_pct (default 1.0)
 *   data_destruction   first truthy of op_text, command_text searched with
 *                      `patterns`; extra matched_op = the regex source
 *   ransom_note        first truthy of body_text, note_text; the
 *                      payment_keywords found (case-insensitive substring)
 *                      and, when require_btc_or_xmr, a BTC/XMR address;
 *                      extra btc_address, matched_keywords
 *   exfil_over_web     bytes_out (number) >= min_payload_bytes or
 *                      request_count (int) >= request_threshold
 *   db_mass_read       rows_read (int) >= min_rows or bytes_read (number)
 *                      >= min_bytes
 *   credentials_in_files, k8s_sa_token
 *                      first truthy of matched_path, request_path, path
 *                      searched with `paths`; extra matched_path
 *   docker_escape      the first spec `signals` entry present among the
 *                      payload's string signals; extra matched_signal
 *   llmnr_poisoning    llmnr_poisoned is true, or llmnr_poison_count (int)
 *                      >= 1
 *   tftp_router_config tftp_filename searched with filename_patterns
 *
 * Absent thresholds default as DECNET's (0 and 1.0 for beaconing); for
 * exfil_over_web and db_mass_read, whose defaults the reference does not
 * give, to DECNET's rule values (1048576 and 50; 10000 and 5242880).  An
 * absent list never fires.  With require_btc_or_xmr false and no address
 * in the text, btc_address is null.
 *
 * Regexes are Python re.search semantics: PCRE2 with UTF|UCP, unanchored.
 * Keywords are compared as Python's lower()-substring test would, with a
 * PCRE2 caseless literal search (Unicode simple case folding; the rare
 * full-folding differences, e.g. final sigma, are accepted).
 * A firing rule emits every emits entry with the evidence_fields evidence
 * overlaid with the predicate's extra keys.
 *
 * Departures from DECNET, all deliberate (DESIGN.md, parity policy):
 *   - JSON booleans are never numbers: true is not 1 in any threshold;
 *   - R0033 fires on email events as its applies_to says (DECNET raises
 *     TypeError from its evidence schema check and loses the event);
 *   - a malformed rule is refused at load time with the reason (an
 *     invalid regex with PCRE2's message, a non-list list, a non-string
 *     list item, a non-numeric threshold) where DECNET skips it silently;
 *   - a search that exceeds the PCRE2 limits counts as no match.
 *
 * Built against the SDK header only.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ttpd/lifter.h>

#include "../common/emit.h"
#include "../common/pyvalue.h"

#define DEFAULT_MATCH_LIMIT 1000000
#define DEFAULT_DEPTH_LIMIT 100000
#define DEFAULT_HEAP_LIMIT_KIB 20000

/* The code-defined address regexes of DECNET's ransom-note predicate. */
static const char btc_regex[] =
    "\\b(?:[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,71})\\b";
static const char xmr_regex[] =
    "\\b4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}\\b";

struct behavioral {
	const ttpd_host *host;
	ttpd_ctx *ctx;
	pcre2_match_context *match_ctx;
	pcre2_match_data *match_data;
	pcre2_code *btc, *xmr;
	uint64_t limit_hits;
};

/* A numeric threshold as written: exact for ints, as Python compares. */
struct threshold {
	int is_int;
	int64_t i;
	double d;
};

/* A compiled list item: the rule's own string value and its regex. */
struct list_item {
	const ttpd_value *source;
	const char *s;
	size_t len;
	pcre2_code *code;       /* NULL for plain string lists */
};

struct list {
	struct list_item *v;
	size_t n;
};

struct kind_entry;

/* What rule_prepare() makes for a rule whose kind is known. */
struct prepared {
	const struct kind_entry *kind;
	struct threshold t[2];
	int require_address;
	struct list list;
};

/* A key to overlay on the evidence_fields evidence. */
struct extra {
	const char *key[2];
	const ttpd_value *val[2];
	size_t n;
};

typedef int (*predicate_fn)(struct behavioral *, const ttpd_event *,
    ttpd_sink *, const struct prepared *, struct extra *);

struct kind_entry {
	const char *kind;
	const char *threshold_key[2];   /* NULL: unused */
	double threshold_default[2];
	const char *list_key;           /* NULL: none */
	int list_flags;
	predicate_fn predicate;
};

#define LIST_REGEX 0x1          /* items are regexes (else strings) */
#define LIST_KEYWORDS 0x2       /* items are case-insensitive literals */

/* ---- values ---- */

/* The first truthy payload member of `keys` (NULL-terminated), or NULL. */
static const ttpd_value *
first_truthy(const ttpd_host *h, const ttpd_value *payload,
    const char *const *keys)
{
	const ttpd_value *v;

	for (; *keys != NULL; keys++)
		if (py_truthy(h, v = h->object_get(payload, *keys)))
			return v;
	return NULL;
}

/* -1, 0, 1 comparing an int with a double exactly; 2 when unordered. */
static int
cmp_int_double(int64_t i, double d)
{
	double whole;
	int64_t t;

	if (isnan(d))
		return 2;
	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	whole = trunc(d);
	t = (int64_t)whole;
	if (i != t)
		return i < t ? -1 : 1;
	if (d > whole)
		return -1;
	if (d < whole)
		return 1;
	return 0;
}

/*
 * Compare a payload number with a threshold, as Python does; 2 when the
 * value is not of an accepted type (ints_only: TTPD_VT_INT only; never a
 * boolean) or the comparison is unordered.
 */
static int
cmp_threshold(const ttpd_host *h, const ttpd_value *v, int ints_only,
    const struct threshold *t)
{
	int64_t i;
	double d;

	switch (h->value_type(v)) {
	case TTPD_VT_INT:
		if (h->get_int(v, &i) != TTPD_OK)
			return 2;
		if (t->is_int)
			return i < t->i ? -1 : i > t->i;
		return cmp_int_double(i, t->d);
	case TTPD_VT_REAL:
		if (ints_only || h->get_number(v, &d) != TTPD_OK || isnan(d))
			return 2;
		if (t->is_int)
			return -cmp_int_double(t->i, d);
		if (isnan(t->d))
			return 2;
		return d < t->d ? -1 : d > t->d;
	default:
		return 2;
	}
}

static int
at_least(const ttpd_host *h, const ttpd_value *v, int ints_only,
    const struct threshold *t)
{
	int c = cmp_threshold(h, v, ints_only, t);

	return c == 0 || c == 1;
}

static int
at_most(const ttpd_host *h, const ttpd_value *v, const struct threshold *t)
{
	int c = cmp_threshold(h, v, 0, t);

	return c == 0 || c == -1;
}

/* ---- regexes ---- */

/* re.search(); 1 on a match, its offsets in *start and *end if given. */
static int
search(struct behavioral *b, const pcre2_code *code, const char *s,
    size_t len, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;
	int rc;

	rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, b->match_data,
	    b->match_ctx);
	if (rc >= 0) {
		ov = pcre2_get_ovector_pointer(b->match_data);
		if (start != NULL)
			*start = ov[0];
		if (end != NULL)
			*end = ov[1];
		return 1;
	}
	if (rc != PCRE2_ERROR_NOMATCH) {
		if (b->limit_hits++ == 0)
			b->host->log(b->ctx, TTPD_LOG_WARNING, "a search was "
			    "abandoned (PCRE2 error %d) and counts as no "
			    "match; further ones are counted silently", rc);
	}
	return 0;
}

static pcre2_code *
compile(const char *s, size_t len, uint32_t options, const char *what,
    size_t index, ttpd_err *err)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE offset;
	pcre2_code *code;
	int code_err;

	code = pcre2_compile((PCRE2_SPTR)s, len, options, &code_err, &offset,
	    NULL);
	if (code == NULL) {
		if (pcre2_get_error_message(code_err, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", code_err);
		snprintf(err->msg, sizeof err->msg, "%s[%zu]: %s at offset %zu",
		    what, index, (const char *)msg, (size_t)offset);
	}
	return code;
}

/* Index of the first list regex matching s, or -1. */
static long
first_list_match(struct behavioral *b, const struct list *l, const char *s,
    size_t len)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (search(b, l->v[i].code, s, len, NULL, NULL))
			return (long)i;
	return -1;
}

/* ---- predicates ---- */

static int
p_beaconing(struct behavioral *b, const ttpd_event *ev, ttpd_sink *sink,
    const struct prepared *p, struct extra *x)
{
	const ttpd_host *h = b->host;

	(void)sink;
	(void)x;
	return at_least(h, h->object_get(ev->payload, "beacon_interval_s"), 0,
	    &p->t[0]) &&
	    at_most(h, h->object_get(ev->payload, "beacon_jitter_pct"),
	    &p->t[1]);
}

static int
p_data_destruction(struct behavioral *b, const ttpd_event *ev,
    ttpd_sink *sink, const struct prepared *p, struct extra *x)
{
	static const char *const keys[] = { "op_text", "command_text", NULL };
	const ttpd_host *h = b->host;
	const ttpd_value *v;
	const char *s;
	size_t len;
	long i;

	(void)sink;
	v = first_truthy(h, ev->payload, keys);
	if (v == NULL) {
		s = "";         /* DECNET searches "" when none is truthy */
		len = 0;
	} else if (h->get_string(v, &s, &len) != TTPD_OK)
		return 0;
	if ((i = first_list_match(b, &p->list, s, len)) < 0)
		return 0;
	x->key[x->n] = "matched_op";
	x->val[x->n++] = p->list.v[i].source;
	return 1;
}

static int
p_ransom_note(struct behavioral *b, const ttpd_event *ev, ttpd_sink *sink,
    const struct prepared *p, struct extra *x)
{
	static const char *const keys[] = { "body_text", "note_text", NULL };
	const ttpd_host *h = b->host;
	ttpd_value *found, *address = NULL;
	size_t len, i, start, end;
	const char *s;

	if (h->get_string(first_truthy(h, ev->payload, keys), &s, &len) !=
	    TTPD_OK)
		return 0;
	if ((found = h->new_array(sink)) == NULL)
		return -1;
	for (i = 0; i < p->list.n; i++)
		if (search(b, p->list.v[i].code, s, len, NULL, NULL) &&
		    h->array_append(found, p->list.v[i].source) != TTPD_OK)
			return -1;
	if (h->array_size(found) == 0)
		return 0;
	if (search(b, b->btc, s, len, &start, &end) ||
	    search(b, b->xmr, s, len, &start, &end)) {
		if ((address = h->new_string(sink, s + start, end - start)) ==
		    NULL)
			return -1;
	} else if (p->require_address)
		return 0;
	else if ((address = h->new_null(sink)) == NULL)
		return -1;
	x->key[x->n] = "btc_address";
	x->val[x->n++] = address;
	x->key[x->n] = "matched_keywords";
	x->val[x->n++] = found;
	return 1;
}

static int
p_exfil_over_web(struct behavioral *b, const ttpd_event *ev,
    ttpd_sink *sink, const struct prepared *p, struct extra *x)
{
	const ttpd_host *h = b->host;

	(void)sink;
	(void)x;
	return at_least(h, h->object_get(ev->payload, "bytes_out"), 0,
	    &p->t[0]) ||
	    at_least(h, h->object_get(ev->payload, "request_count"), 1,
	    &p->t[1]);
}

static int
p_db_mass_read(struct behavioral *b, const ttpd_event *ev, ttpd_sink *sink,
    const struct prepared *p, struct extra *x)
{
	const ttpd_host *h = b->host;

	(void)sink;
	(void)x;
	return at_least(h, h->object_get(ev->payload, "rows_read"), 1,
	    &p->t[0]) ||
	    at_least(h, h->object_get(ev->payload, "bytes_read"), 0,
	    &p->t[1]);
}

static int
p_path(struct behavioral *b, const ttpd_event *ev, ttpd_sink *sink,
    const struct prepared *p, struct extra *x)
{
	static const char *const keys[] = {
		"matched_path", "request_path", "path", NULL
	};
	const ttpd_host *h = b->host;
	const ttpd_value *v;
	const char *s;
	size_t len;

	(void)sink;
	v = first_truthy(h, ev->payload, keys);
	if (h->get_string(v, &s, &len) != TTPD_OK)
		return 0;
	if (first_list_match(b, &p->list, s, len) < 0)
		return 0;
	x->key[x->n] = "matched_path";
	x->val[x->n++] = v;
	return 1;
}

static int
p_docker_escape(struct behavioral *b, const ttpd_event *ev, ttpd_sink *sink,
    const struct prepared *p, struct extra *x)
{
	const ttpd_host *h = b->host;
	const ttpd_value *signals;
	size_t i, k, n, len;
	const char *s;

	(void)sink;
	signals = h->object_get(ev->payload, "signals");
	if (h->value_type(signals) != TTPD_VT_ARRAY)
		return 0;
	n = h->array_size(signals);
	for (i = 0; i < p->list.n; i++)
		for (k = 0; k < n; k++) {
			if (h->get_string(h->array_get(signals, k), &s,
			    &len) != TTPD_OK || len != p->list.v[i].len ||
			    memcmp(s, p->list.v[i].s, len) != 0)
				continue;
			x->key[x->n] = "matched_signal";
			x->val[x->n++] = p->list.v[i].source;
			return 1;
		}
	return 0;
}

static int
p_llmnr_poisoning(struct behavioral *b, const ttpd_event *ev,
    ttpd_sink *sink, const struct prepared *p, struct extra *x)
{
	static const struct threshold one = { 1, 1, 1.0 };
	const ttpd_host *h = b->host;
	int poisoned = 0;

	(void)sink;
	(void)p;
	(void)x;
	if (h->get_bool(h->object_get(ev->payload, "llmnr_poisoned"),
	    &poisoned) == TTPD_OK && poisoned)
		return 1;
	return at_least(h, h->object_get(ev->payload, "llmnr_poison_count"),
	    1, &one);
}

static int
p_tftp_router_config(struct behavioral *b, const ttpd_event *ev,
    ttpd_sink *sink, const struct prepared *p, struct extra *x)
{
	const ttpd_host *h = b->host;
	const char *s;
	size_t len;

	(void)sink;
	(void)x;
	if (h->get_string(h->object_get(ev->payload, "tftp_filename"), &s,
	    &len) != TTPD_OK || len == 0)
		return 0;
	return first_list_match(b, &p->list, s, len) >= 0;
}

/* Dispatch by the exact match.kind string. */
static const struct kind_entry kinds[] = {
	{ "lifter:behavioral_beaconing",
	    { "min_interval_s", "max_jitter_pct" }, { 0.0, 1.0 },
	    NULL, 0, p_beaconing },
	{ "lifter:behavioral_data_destruction", { NULL, NULL }, { 0, 0 },
	    "patterns", LIST_REGEX, p_data_destruction },
	{ "lifter:behavioral_ransom_note", { NULL, NULL }, { 0, 0 },
	    "payment_keywords", LIST_KEYWORDS, p_ransom_note },
	{ "lifter:behavioral_exfil_over_web",
	    { "min_payload_bytes", "request_threshold" }, { 1048576, 50 },
	    NULL, 0, p_exfil_over_web },
	{ "lifter:behavioral_db_mass_read",
	    { "min_rows", "min_bytes" }, { 10000, 5242880 },
	    NULL, 0, p_db_mass_read },
	{ "lifter:behavioral_credentials_in_files", { NULL, NULL }, { 0, 0 },
	    "paths", LIST_REGEX, p_path },
	{ "lifter:behavioral_k8s_sa_token", { NULL, NULL }, { 0, 0 },
	    "paths", LIST_REGEX, p_path },
	{ "lifter:behavioral_docker_escape", { NULL, NULL }, { 0, 0 },
	    "signals", 0, p_docker_escape },
	{ "lifter:behavioral_llmnr_poisoning", { NULL, NULL }, { 0, 0 },
	    NULL, 0, p_llmnr_poisoning },
	{ "lifter:behavioral_tftp_router_config", { NULL, NULL }, { 0, 0 },
	    "filename_patterns", LIST_REGEX, p_tftp_router_config },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* ---- rules ---- */

static void
prepared_free(struct prepared *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->list.n; i++)
		pcre2_code_free(p->list.v[i].code);
	free(p->list.v);
	free(p);
}

static int
read_threshold(const ttpd_host *h, const ttpd_value *match, const char *key,
    double def, struct threshold *t, ttpd_err *err)
{
	const ttpd_value *v = h->object_get(match, key);

	t->is_int = 0;
	t->d = def;
	switch (h->value_type(v)) {
	case TTPD_VT_ABSENT:
		return TTPD_OK;
	case TTPD_VT_INT:
		t->is_int = 1;
		h->get_int(v, &t->i);
		t->d = (double)t->i;
		return TTPD_OK;
	case TTPD_VT_REAL:
		h->get_number(v, &t->d);
		if (!isnan(t->d))
			return TTPD_OK;
		break;
	default:
		break;
	}
	snprintf(err->msg, sizeof err->msg, "%s: must be a number", key);
	return TTPD_EINVAL;
}

static int
read_list(const ttpd_host *h, const ttpd_value *match, const char *key,
    int flags, struct list *l, ttpd_err *err)
{
	const ttpd_value *v = h->object_get(match, key);
	uint32_t options;
	size_t i, n;

	if (v == NULL)
		return TTPD_OK;         /* nothing to match: never fires */
	if (h->value_type(v) != TTPD_VT_ARRAY) {
		snprintf(err->msg, sizeof err->msg, "%s: must be a list", key);
		return TTPD_EINVAL;
	}
	if ((n = h->array_size(v)) == 0)
		return TTPD_OK;
	if ((l->v = calloc(n, sizeof *l->v)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	options = flags & LIST_KEYWORDS ?
	    PCRE2_LITERAL | PCRE2_CASELESS | PCRE2_UTF :
	    PCRE2_UTF | PCRE2_UCP;
	for (i = 0; i < n; i++) {
		struct list_item *it = &l->v[i];

		it->source = h->array_get(v, i);
		if (h->get_string(it->source, &it->s, &it->len) != TTPD_OK) {
			snprintf(err->msg, sizeof err->msg,
			    "%s[%zu]: must be a string", key, i);
			return TTPD_EINVAL;
		}
		l->n = i + 1;
		if ((flags & (LIST_REGEX | LIST_KEYWORDS)) != 0 &&
		    (it->code = compile(it->s, it->len, options, key, i,
		    err)) == NULL)
			return TTPD_EINVAL;
	}
	return TTPD_OK;
}

static int
beh_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct behavioral *b = state;
	const ttpd_host *h = b->host;
	const struct kind_entry *k = NULL;
	const ttpd_value *v;
	struct prepared *p;
	size_t i;
	int rc;

	*prepared = NULL;
	for (i = 0; i < N_KINDS && rule->kind != NULL; i++)
		if (strcmp(rule->kind, kinds[i].kind) == 0)
			k = &kinds[i];
	if (k == NULL) {
		h->log(b->ctx, TTPD_LOG_NOTICE, "rule %s: match.kind '%s' is "
		    "not a behavioral predicate; it never fires",
		    rule->rule_id, rule->kind != NULL ? rule->kind : "");
		return TTPD_OK;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	p->kind = k;
	for (i = 0; i < 2; i++)
		if (k->threshold_key[i] != NULL &&
		    (rc = read_threshold(h, rule->match, k->threshold_key[i],
		    k->threshold_default[i], &p->t[i], err)) != TTPD_OK)
			goto fail;
	if (k->list_key != NULL && (rc = read_list(h, rule->match,
	    k->list_key, k->list_flags, &p->list, err)) != TTPD_OK)
		goto fail;
	if (k->predicate == p_ransom_note) {
		int flag = 1;

		v = h->object_get(rule->match, "require_btc_or_xmr");
		if (v != NULL && h->get_bool(v, &flag) != TTPD_OK) {
			ttpd_err_set(err, "require_btc_or_xmr: must be a "
			    "boolean");
			rc = TTPD_EINVAL;
			goto fail;
		}
		p->require_address = flag;
	}
	*prepared = p;
	return TTPD_OK;
fail:
	prepared_free(p);
	return rc;
}

static void
beh_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	(void)state;
	(void)rule;
	prepared_free(prepared);
}

/* ---- instance ---- */

static void
beh_free(struct behavioral *b)
{
	if (b == NULL)
		return;
	pcre2_code_free(b->btc);
	pcre2_code_free(b->xmr);
	pcre2_match_data_free(b->match_data);
	pcre2_match_context_free(b->match_ctx);
	free(b);
}

static int
config_limit(struct behavioral *b, const char *key, int64_t *out,
    ttpd_err *err)
{
	int64_t v;
	int rc;

	rc = b->host->config_int(b->ctx, key, &v);
	if (rc == TTPD_SKIP)
		return TTPD_OK;
	if (rc != TTPD_OK || v < 1 || v > (int64_t)UINT32_MAX) {
		snprintf(err->msg, sizeof err->msg, "%s: must be an integer "
		    "from 1 to %lu", key, (unsigned long)UINT32_MAX);
		return TTPD_EINVAL;
	}
	*out = v;
	return TTPD_OK;
}

static int
beh_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct behavioral *b;
	int64_t match_limit = DEFAULT_MATCH_LIMIT;
	int64_t depth_limit = DEFAULT_DEPTH_LIMIT;
	int64_t heap_limit = DEFAULT_HEAP_LIMIT_KIB;
	int rc;

	if ((b = calloc(1, sizeof *b)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	b->host = host;
	b->ctx = ctx;
	if ((rc = config_limit(b, "match_limit", &match_limit, err)) !=
	    TTPD_OK ||
	    (rc = config_limit(b, "depth_limit", &depth_limit, err)) !=
	    TTPD_OK ||
	    (rc = config_limit(b, "heap_limit_kib", &heap_limit, err)) !=
	    TTPD_OK)
		goto fail;
	rc = TTPD_ENOMEM;
	ttpd_err_set(err, "out of memory");
	if ((b->match_ctx = pcre2_match_context_create(NULL)) == NULL ||
	    (b->match_data = pcre2_match_data_create(1, NULL)) == NULL)
		goto fail;
	pcre2_set_match_limit(b->match_ctx, (uint32_t)match_limit);
	pcre2_set_depth_limit(b->match_ctx, (uint32_t)depth_limit);
	pcre2_set_heap_limit(b->match_ctx, (uint32_t)heap_limit);
	rc = TTPD_EFATAL;
	if ((b->btc = compile(btc_regex, sizeof btc_regex - 1,
	    PCRE2_UTF | PCRE2_UCP, "btc", 0, err)) == NULL ||
	    (b->xmr = compile(xmr_regex, sizeof xmr_regex - 1,
	    PCRE2_UTF | PCRE2_UCP, "xmr", 0, err)) == NULL)
		goto fail;
	err->msg[0] = '\0';
	*state = b;
	return TTPD_OK;
fail:
	beh_free(b);
	return rc;
}

static int
beh_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct behavioral *b = state;
	const ttpd_host *h = b->host;
	const ttpd_rule *const *rules;
	size_t n, i, k;
	int rc;

	if (ev == NULL || ev->payload == NULL)
		return TTPD_OK;
	rules = h->rules_for(sink, &n);
	for (i = 0; rules != NULL && i < n; i++) {
		const ttpd_rule *rule = rules[i];
		const struct prepared *p = rule->prepared;
		struct extra x;
		ttpd_value *evidence;

		if (p == NULL)
			continue;       /* unknown kind: never fires */
		memset(&x, 0, sizeof x);
		rc = p->kind->predicate(b, ev, sink, p, &x);
		if (rc == 0)
			continue;
		if (rc < 0 ||
		    (evidence = h->evidence_from_fields(sink, rule)) == NULL)
			goto nomem;
		for (k = 0; k < x.n; k++)
			if (h->object_set(evidence, x.key[k], x.val[k]) !=
			    TTPD_OK)
				goto nomem;
		if ((rc = emit_rule(h, sink, rule, evidence, 0, err)) < 0)
			return rc;
		continue;
nomem:
		snprintf(err->msg, sizeof err->msg, "rule %s: cannot build "
		    "the evidence (out of memory)", rule->rule_id);
		return TTPD_ENOMEM;
	}
	return TTPD_OK;
}

static void
beh_destroy(void *state)
{
	struct behavioral *b = state;

	if (b == NULL)
		return;
	if (b->limit_hits)
		b->host->log(b->ctx, TTPD_LOG_INFO, "searches abandoned at a "
		    "PCRE2 limit or error: %llu",
		    (unsigned long long)b->limit_hits);
	beh_free(b);
}

static const char *const beh_source_kinds[] = {
	"session", "email", "http_request", NULL
};

static const ttpd_config_key beh_config_keys[] = {
	{ "match_limit", TTPD_CFG_INT, 0,
	    "PCRE2 match limit per search (default 1000000)" },
	{ "depth_limit", TTPD_CFG_INT, 0,
	    "PCRE2 backtracking depth limit per search (default 100000)" },
	{ "heap_limit_kib", TTPD_CFG_INT, 0,
	    "PCRE2 heap limit per search in KiB (default 20000)" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .name = "behavioral",
    .version = PACKAGE_VERSION,
    .description = "session aggregates: beaconing, destruction, ransom "
	"notes, exfiltration, credential paths, container escape, LLMNR, "
	"TFTP (DECNET BehavioralLifter)",
    .source_kinds = beh_source_kinds,
    .config_keys = beh_config_keys,
    .init = beh_init,
    .rule_prepare = beh_rule_prepare,
    .rule_release = beh_rule_release,
    .handle = beh_handle,
    .destroy = beh_destroy)
