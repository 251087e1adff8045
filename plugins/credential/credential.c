/*
 * credential: DECNET's CredentialLifter (decnet-lifters.md section 3.6).
 *
 * Owns the rules whose match.kind starts with "lifter:credential_" and
 * handles credential and auth_attempt events.  Every count it compares
 * arrives already computed in the payload: nothing is kept across events.
 *
 *   kind                                   fires iff
 *   lifter:credential_auth_brute_generic   fail_count (int) >= fail_threshold
 *   lifter:credential_password_guessing    password_count (int) >=
 *                                          pw_threshold and username is a
 *                                          non-empty string
 *   lifter:credential_reuse                credential_hash is a non-empty
 *                                          string and reuse_count (int) >=
 *                                          reuse_threshold
 *   lifter:credential_valid_account_use    result == "success" and, when
 *                                          require_prior_brute is true,
 *                                          prior_brute is JSON true
 *   lifter:credential_default_credentials  (username, password) equals one
 *                                          of the pairs, case-sensitively
 *
 * Evidence is DECNET's common recipe (evidence_fields, then the predicate's
 * extra keys overlaid).
 *
 * Departures, all deliberate:
 *   - a JSON boolean is never a count: DECNET's Python accepts true as 1;
 *   - a threshold, flag or pairs list of the wrong type rejects the rule
 *     when it is loaded, with the reason; DECNET loads it and never fires;
 *   - reuse_threshold is a ttpd extension (DECNET hard-codes 1, which is
 *     also the default here).
 *
 * Built against the SDK header only.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ttpd/lifter.h>

#include "../common/emit.h"

struct credential {
	const ttpd_host *host;
	ttpd_ctx *ctx;
};

enum predicate {
	PRED_AUTH_BRUTE,
	PRED_PASSWORD_GUESSING,
	PRED_REUSE,
	PRED_VALID_ACCOUNT_USE,
	PRED_DEFAULT_CREDENTIALS
};

/* One (username, password) pair of R0006; lengths because a JSON string
 * may hold U+0000. */
struct pair {
	const char *user, *password;
	size_t user_len, password_len;
};

/* What rule_prepare() makes for a rule of a known kind. */
struct prepared {
	enum predicate pred;
	int64_t threshold;        /* the count predicates */
	int require_prior_brute;  /* valid_account_use */
	int own_pairs;            /* default_credentials: match.pairs given */
	struct pair *pairs;
	size_t npairs;
};

static const struct {
	const char *kind;
	enum predicate pred;
} kinds[] = {
	{ "lifter:credential_auth_brute_generic", PRED_AUTH_BRUTE },
	{ "lifter:credential_password_guessing", PRED_PASSWORD_GUESSING },
	{ "lifter:credential_reuse", PRED_REUSE },
	{ "lifter:credential_valid_account_use", PRED_VALID_ACCOUNT_USE },
	{ "lifter:credential_default_credentials", PRED_DEFAULT_CREDENTIALS },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* DECNET's pairs, used when a rule gives none. */
static const struct pair default_pairs[] = {
	{ "root", "root", 4, 4 },
	{ "admin", "admin", 5, 5 },
	{ "admin", "password", 5, 8 },
	{ "root", "", 4, 0 },
	{ "pi", "raspberry", 2, 9 },
};
#define N_DEFAULT_PAIRS (sizeof default_pairs / sizeof default_pairs[0])

static const char *
type_name(int t)
{
	switch (t) {
	case TTPD_VT_NULL:
		return "null";
	case TTPD_VT_BOOL:
		return "a boolean";
	case TTPD_VT_INT:
		return "an integer";
	case TTPD_VT_REAL:
		return "a real";
	case TTPD_VT_STRING:
		return "a string";
	case TTPD_VT_ARRAY:
		return "a list";
	case TTPD_VT_OBJECT:
		return "a mapping";
	default:
		return "absent";
	}
}

static int
cred_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct credential *c = calloc(1, sizeof *c);

	if (c == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	c->host = host;
	c->ctx = ctx;
	*state = c;
	return TTPD_OK;
}

/* match.<key> as an int >= 0 (default when absent). */
static int
match_count(const struct credential *c, const ttpd_rule *rule,
    const char *key, int64_t dflt, int64_t *out, ttpd_err *err)
{
	const ttpd_value *v = c->host->object_get(rule->match, key);
	int t = c->host->value_type(v);

	if (t == TTPD_VT_ABSENT) {
		*out = dflt;
		return TTPD_OK;
	}
	if (t != TTPD_VT_INT || c->host->get_int(v, out) != TTPD_OK ||
	    *out < 0) {
		snprintf(err->msg, sizeof err->msg, "rule %s: match.%s must "
		    "be an integer >= 0, not %s", rule->rule_id, key,
		    t == TTPD_VT_INT ? "negative" : type_name(t));
		return TTPD_EINVAL;
	}
	return TTPD_OK;
}

static int
prepare_pairs(const struct credential *c, const ttpd_rule *rule,
    struct prepared *p, ttpd_err *err)
{
	const ttpd_host *h = c->host;
	const ttpd_value *list = h->object_get(rule->match, "pairs");
	size_t i, n;

	if (h->value_type(list) == TTPD_VT_ABSENT)
		return TTPD_OK;
	if (h->value_type(list) != TTPD_VT_ARRAY) {
		snprintf(err->msg, sizeof err->msg, "rule %s: match.pairs "
		    "must be a list of [username, password] lists, not %s",
		    rule->rule_id, type_name(h->value_type(list)));
		return TTPD_EINVAL;
	}
	n = h->array_size(list);
	if (n > 0 && (p->pairs = calloc(n, sizeof *p->pairs)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const ttpd_value *pair = h->array_get(list, i);
		struct pair *q = &p->pairs[i];

		if (h->value_type(pair) != TTPD_VT_ARRAY ||
		    h->array_size(pair) != 2 ||
		    h->get_string(h->array_get(pair, 0), &q->user,
		    &q->user_len) != TTPD_OK ||
		    h->get_string(h->array_get(pair, 1), &q->password,
		    &q->password_len) != TTPD_OK) {
			snprintf(err->msg, sizeof err->msg, "rule %s: "
			    "match.pairs[%zu] must be a list of two strings "
			    "[username, password]", rule->rule_id, i);
			return TTPD_EINVAL;
		}
	}
	p->npairs = n;
	p->own_pairs = 1;
	return TTPD_OK;
}

static void
prepared_free(struct prepared *p)
{
	if (p != NULL) {
		free(p->pairs);
		free(p);
	}
}

static int
cred_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct credential *c = state;
	struct prepared *p;
	const ttpd_value *flag;
	size_t i;
	int rc = TTPD_OK, t;

	*prepared = NULL;
	for (i = 0; i < N_KINDS; i++)
		if (rule->kind != NULL && strcmp(rule->kind, kinds[i].kind) == 0)
			break;
	if (i == N_KINDS) {
		/* DECNET keeps such a rule in its index; it never fires */
		c->host->log(c->ctx, TTPD_LOG_WARNING, "rule %s: unknown kind "
		    "%s, the rule will never fire", rule->rule_id,
		    rule->kind != NULL ? rule->kind : "(none)");
		return TTPD_OK;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	p->pred = kinds[i].pred;
	switch (p->pred) {
	case PRED_AUTH_BRUTE:
		rc = match_count(c, rule, "fail_threshold", 5, &p->threshold,
		    err);
		break;
	case PRED_PASSWORD_GUESSING:
		rc = match_count(c, rule, "pw_threshold", 5, &p->threshold,
		    err);
		break;
	case PRED_REUSE:
		rc = match_count(c, rule, "reuse_threshold", 1, &p->threshold,
		    err);
		break;
	case PRED_VALID_ACCOUNT_USE:
		flag = c->host->object_get(rule->match, "require_prior_brute");
		t = c->host->value_type(flag);
		if (t != TTPD_VT_ABSENT && c->host->get_bool(flag,
		    &p->require_prior_brute) != TTPD_OK) {
			snprintf(err->msg, sizeof err->msg, "rule %s: "
			    "match.require_prior_brute must be true or false, "
			    "not %s", rule->rule_id, type_name(t));
			rc = TTPD_EINVAL;
		}
		break;
	case PRED_DEFAULT_CREDENTIALS:
		rc = prepare_pairs(c, rule, p, err);
		break;
	}
	if (rc != TTPD_OK) {
		prepared_free(p);
		return rc;
	}
	*prepared = p;
	return TTPD_OK;
}

static void
cred_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	(void)state;
	(void)rule;
	prepared_free(prepared);
}

/* 1 with *out set when payload[key] is an int (a boolean is not). */
static int
payload_int(const ttpd_host *h, const ttpd_value *payload, const char *key,
    int64_t *out)
{
	return h->get_int(h->object_get(payload, key), out) == TTPD_OK;
}

/* payload[key] when it is a non-empty string. */
static const ttpd_value *
payload_nonempty(const ttpd_host *h, const ttpd_value *payload,
    const char *key)
{
	const ttpd_value *v = h->object_get(payload, key);
	const char *s;
	size_t len;

	if (h->get_string(v, &s, &len) != TTPD_OK || len == 0)
		return NULL;
	return v;
}

static int
string_is(const ttpd_host *h, const ttpd_value *v, const char *want,
    size_t want_len)
{
	const char *s;
	size_t len;

	return h->get_string(v, &s, &len) == TTPD_OK && len == want_len &&
	    memcmp(s, want, len) == 0;
}

/* A list of (key, value) extra evidence members, in overlay order. */
struct extra {
	const char *key[2];
	const ttpd_value *val[2];
	size_t n;
};

static void
extra_add(struct extra *x, const char *key, const ttpd_value *val)
{
	if (val != NULL) {
		x->key[x->n] = key;
		x->val[x->n++] = val;
	}
}

/* 1 when the rule fires on the payload; *x gets its extra evidence. */
static int
evaluate(const ttpd_host *h, const struct prepared *p,
    const ttpd_value *payload, struct extra *x)
{
	const ttpd_value *user, *password;
	const struct pair *pairs;
	int64_t n;
	size_t i, npairs;
	int b;

	switch (p->pred) {
	case PRED_AUTH_BRUTE:
		if (!payload_int(h, payload, "fail_count", &n) ||
		    n < p->threshold)
			return 0;
		extra_add(x, "fail_count", h->object_get(payload,
		    "fail_count"));
		extra_add(x, "service", payload_nonempty(h, payload,
		    "service"));
		return 1;
	case PRED_PASSWORD_GUESSING:
		if (!payload_int(h, payload, "password_count", &n) ||
		    (user = payload_nonempty(h, payload, "username")) == NULL ||
		    n < p->threshold)
			return 0;
		extra_add(x, "username", user);
		extra_add(x, "password_count", h->object_get(payload,
		    "password_count"));
		return 1;
	case PRED_REUSE:
		if ((user = payload_nonempty(h, payload,
		    "credential_hash")) == NULL ||
		    !payload_int(h, payload, "reuse_count", &n) ||
		    n < p->threshold)
			return 0;
		extra_add(x, "credential_hash", user);
		extra_add(x, "reuse_count", h->object_get(payload,
		    "reuse_count"));
		return 1;
	case PRED_VALID_ACCOUNT_USE:
		if (!string_is(h, h->object_get(payload, "result"), "success",
		    7))
			return 0;
		if (p->require_prior_brute && (h->get_bool(h->object_get(
		    payload, "prior_brute"), &b) != TTPD_OK || !b))
			return 0;
		extra_add(x, "username", payload_nonempty(h, payload,
		    "username"));
		extra_add(x, "service", payload_nonempty(h, payload,
		    "service"));
		return 1;
	case PRED_DEFAULT_CREDENTIALS:
		user = h->object_get(payload, "username");
		password = h->object_get(payload, "password");
		if (h->value_type(user) != TTPD_VT_STRING ||
		    h->value_type(password) != TTPD_VT_STRING)
			return 0;
		pairs = p->own_pairs ? p->pairs : default_pairs;
		npairs = p->own_pairs ? p->npairs : N_DEFAULT_PAIRS;
		for (i = 0; i < npairs; i++)
			if (string_is(h, user, pairs[i].user,
			    pairs[i].user_len) && string_is(h, password,
			    pairs[i].password, pairs[i].password_len))
				break;
		if (i == npairs)
			return 0;
		extra_add(x, "username", user);
		extra_add(x, "service", payload_nonempty(h, payload,
		    "service"));
		return 1;
	}
	return 0;
}

static int
cred_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct credential *c = state;
	const ttpd_host *h = c->host;
	const ttpd_rule *const *rules;
	size_t n, i, k;
	int rc;

	rules = h->rules_for(sink, &n);
	for (i = 0; rules != NULL && i < n; i++) {
		const ttpd_rule *rule = rules[i];
		struct extra x = { { NULL, NULL }, { NULL, NULL }, 0 };
		ttpd_value *evidence;

		if (rule->prepared == NULL ||
		    !evaluate(h, rule->prepared, ev->payload, &x))
			continue;
		if ((evidence = h->evidence_from_fields(sink, rule)) == NULL) {
			ttpd_err_set(err, "cannot build the evidence (out of "
			    "memory)");
			return TTPD_ENOMEM;
		}
		for (k = 0; k < x.n; k++)
			if (h->object_set(evidence, x.key[k], x.val[k]) !=
			    TTPD_OK) {
				ttpd_err_set(err, "cannot build the evidence");
				return TTPD_ENOMEM;
			}
		if ((rc = emit_rule(h, sink, rule, evidence, 0, err)) < 0)
			return rc;
	}
	return TTPD_OK;
}

static void
cred_destroy(void *state)
{
	free(state);
}

static const char *const cred_source_kinds[] = {
	"credential", "auth_attempt", NULL
};

TTPD_LIFTER_DEFINE(
    .name = "credential",
    .version = PACKAGE_VERSION,
    .description = "brute force, password guessing, credential reuse, "
	"valid and default accounts (DECNET CredentialLifter)",
    .source_kinds = cred_source_kinds,
    .init = cred_init,
    .rule_prepare = cred_rule_prepare,
    .rule_release = cred_rule_release,
    .handle = cred_handle,
    .destroy = cred_destroy)
