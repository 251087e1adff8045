/*
 * Host API test fixture "probe": one lifter that exercises the whole
 * service table, steered by the event payload so a single plugin covers
 * many paths (tests/unit/check_hostapi.c).
 *
 * payload.action (default "emit"):
 *   "emit"      emit payload.rule (a rule id among the rules this instance
 *               was given, gated or not; default: every rule rules_for()
 *               returns) with emits index payload.index (default
 *               TTPD_EMIT_ALL), multiplier payload.multiplier (default 1),
 *               evidence payload.evidence ("fields": evidence_from_fields,
 *               "payload": the payload itself, an object: that object,
 *               absent: NULL) and TTPD_EMIT_IDENTITY_ONLY when
 *               payload.identity_only is true.  handle() returns the first
 *               emit result that is not TTPD_OK.
 *   "list"      emit {"rules": [ids rules_for() returned]} with the rule
 *               payload.report (default the first listed) at index 0.
 *   "builders"  emit evidence made with every value builder.
 *   "mutate"    emit index 0 of payload.rule (or the first rule) four
 *               times with one evidence object: {"n":1,"a":[1]}, then
 *               after n became 2, after 2 was appended to a (a change
 *               inside it), and unchanged; then once with an equal new
 *               object.
 *   "bad"       try invalid emits and value operations and emit their
 *               return codes as the evidence of one final good emit.
 *   "config"    run payload.queries, a list of [type, key] pairs (type
 *               string|int|real|bool|value, key a string or null), and
 *               emit {"results": [{"rc": rc, "v": value}, ...]}.
 * Then payload.fail "einval" or "efatal" makes handle() fail that way.
 *
 * rule_prepare() rejects a rule whose match.reject is true.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ttpd/lifter.h"

#define PROBE_MAX_RULES 64

struct probe {
	const ttpd_host *h;
	ttpd_ctx *ctx;
	/* every rule given to rule_prepare() and not yet released */
	const ttpd_rule *rules[PROBE_MAX_RULES];
	size_t nrules;
};

static const char *const probe_kinds[] = { "command", "session", NULL };
static const char *const probe_rule_kinds[] = { "lifter:probe_*", NULL };

static const ttpd_config_key probe_keys[] = {
	{ "label", TTPD_CFG_STRING, 0, "a string" },
	{ "limit", TTPD_CFG_INT, 0, "an integer" },
	{ "ratio", TTPD_CFG_REAL, 0, "a real" },
	{ "whole", TTPD_CFG_REAL, 0, "a real written as an integer" },
	{ "verbose", TTPD_CFG_BOOL, 0, "a boolean" },
	{ "items", TTPD_CFG_LIST, 0, "a list" },
	{ "nested", TTPD_CFG_GROUP, 0, "a group" },
	{ NULL, 0, 0, NULL }
};

static int
probe_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct probe *p = calloc(1, sizeof *p);

	if (p == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	p->h = host;
	p->ctx = ctx;
	*state = p;
	return TTPD_OK;
}

static int
probe_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct probe *p = state;
	const ttpd_value *reject = p->h->object_get(rule->match, "reject");
	int yes = 0;
	int *marker;

	if (p->h->get_bool(reject, &yes) == TTPD_OK && yes) {
		ttpd_err_set(err, "match.reject is set");
		return TTPD_EINVAL;
	}
	if (p->nrules == PROBE_MAX_RULES) {
		ttpd_err_set(err, "too many rules for the probe fixture");
		return TTPD_EINVAL;
	}
	/* something to free in rule_release(), so leaks show up */
	if ((marker = malloc(sizeof *marker)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	*marker = (int)p->nrules;
	p->rules[p->nrules++] = rule;
	*prepared = marker;
	return TTPD_OK;
}

static void
probe_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	struct probe *p = state;
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i] == rule) {
			memmove(&p->rules[i], &p->rules[i + 1],
			    (p->nrules - i - 1) * sizeof p->rules[0]);
			p->nrules--;
			break;
		}
	free(prepared);
}

static void
probe_destroy(void *state)
{
	free(state);
}

static const ttpd_rule *
find_rule(struct probe *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i]->rule_id, id) == 0)
			return p->rules[i];
	return NULL;
}

/* payload[key] as a string, or NULL. */
static const char *
payload_string(struct probe *p, const ttpd_event *ev, const char *key)
{
	const char *s = NULL;

	if (p->h->get_string(p->h->object_get(ev->payload, key), &s, NULL) !=
	    TTPD_OK)
		return NULL;
	return s;
}

/*
 * The rule payload[key] names (set *rc to TTPD_EINVAL when it names none),
 * else the first rule rules_for() returns (NULL when there is none).
 */
static const ttpd_rule *
chosen_rule(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    const char *key, int *rc, ttpd_err *err)
{
	const char *id = payload_string(p, ev, key);
	const ttpd_rule *const *rules;
	const ttpd_rule *r;
	size_t n;

	*rc = TTPD_OK;
	if (id != NULL) {
		if ((r = find_rule(p, id)) == NULL) {
			ttpd_err_set(err, "payload names a rule the probe does "
			    "not have");
			*rc = TTPD_EINVAL;
		}
		return r;
	}
	rules = p->h->rules_for(sink, &n);
	if (n == 0) {
		*rc = TTPD_SKIP;
		return NULL;
	}
	return rules[0];
}

static int
do_emit(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_rule *one = NULL;
	const ttpd_rule *const *rules;
	const ttpd_value *v;
	const char *id, *evmode;
	size_t n, i, index = TTPD_EMIT_ALL;
	double multiplier = 1.0;
	unsigned flags = 0;
	int64_t i64;
	int yes = 0, result = TTPD_OK;

	if ((id = payload_string(p, ev, "rule")) != NULL) {
		if ((one = find_rule(p, id)) == NULL) {
			ttpd_err_set(err, "payload names a rule the probe does "
			    "not have");
			return TTPD_EINVAL;
		}
		rules = &one;
		n = 1;
	} else
		rules = h->rules_for(sink, &n);
	if (h->get_int(h->object_get(ev->payload, "index"), &i64) == TTPD_OK)
		index = (size_t)i64;
	h->get_number(h->object_get(ev->payload, "multiplier"), &multiplier);
	if (h->get_bool(h->object_get(ev->payload, "identity_only"), &yes) ==
	    TTPD_OK && yes)
		flags |= TTPD_EMIT_IDENTITY_ONLY;
	v = h->object_get(ev->payload, "evidence");
	evmode = payload_string(p, ev, "evidence");
	for (i = 0; i < n; i++) {
		const ttpd_value *evidence = NULL;
		int rc;

		if (evmode != NULL && strcmp(evmode, "fields") == 0)
			evidence = h->evidence_from_fields(sink, rules[i]);
		else if (evmode != NULL && strcmp(evmode, "payload") == 0)
			evidence = ev->payload;
		else if (h->value_type(v) == TTPD_VT_OBJECT)
			evidence = v;
		rc = h->emit(sink, rules[i], index, multiplier, evidence,
		    flags);
		if (rc != TTPD_OK && result == TTPD_OK)
			result = rc;
	}
	if (result < 0)
		ttpd_err_set(err, "emit failed");
	return result;
}

static int
do_list(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_rule *const *rules;
	const ttpd_rule *report = NULL;
	ttpd_value *o, *ids;
	const char *id;
	size_t n, i;

	rules = h->rules_for(sink, &n);
	o = h->new_object(sink);
	ids = h->new_array(sink);
	for (i = 0; i < n; i++)
		h->array_append(ids, h->new_string(sink, rules[i]->rule_id,
		    strlen(rules[i]->rule_id)));
	h->object_set(o, "rules", ids);
	if ((id = payload_string(p, ev, "report")) != NULL)
		report = find_rule(p, id);
	else if (n > 0)
		report = rules[0];
	if (report == NULL) {
		ttpd_err_set(err, "nothing to report with");
		return TTPD_SKIP;
	}
	return h->emit(sink, report, 0, 1.0, o, 0);
}

static int
do_builders(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_rule *r;
	ttpd_value *o, *a;
	int rc;

	if ((r = chosen_rule(p, ev, sink, "rule", &rc, err)) == NULL)
		return rc;
	o = h->new_object(sink);
	h->object_set(o, "s", h->new_string(sink, "h\xc3\xa9llo", 6));
	h->object_set(o, "s0", h->new_string(sink, "a\0b", 3));
	h->object_set(o, "i", h->new_int(sink, -42));
	h->object_set(o, "big", h->new_int(sink, INT64_MAX));
	h->object_set(o, "r", h->new_real(sink, 2.5));
	h->object_set(o, "t", h->new_bool(sink, 1));
	h->object_set(o, "f", h->new_bool(sink, 0));
	h->object_set(o, "n", h->new_null(sink));
	a = h->new_array(sink);
	h->array_append(a, h->new_int(sink, 1));
	h->array_append(a, h->new_string(sink, "two", 3));
	h->array_append(a, h->new_null(sink));
	/* a value borrowed from the payload */
	h->array_append(a, h->object_get(ev->payload, "cmd"));
	h->object_set(o, "a", a);
	h->object_set(o, "fields", h->evidence_from_fields(sink, r));
	h->object_set(o, "bad_utf8_is_null",
	    h->new_bool(sink, h->new_string(sink, "\xff", 1) == NULL));
	return h->emit(sink, r, 0, 1.0, o, 0);
}

static int
do_mutate(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_rule *r;
	ttpd_value *o, *a;
	int rc;

	if ((r = chosen_rule(p, ev, sink, "rule", &rc, err)) == NULL)
		return rc;
	o = h->new_object(sink);
	a = h->new_array(sink);
	h->object_set(o, "n", h->new_int(sink, 1));
	h->array_append(a, h->new_int(sink, 1));
	h->object_set(o, "a", a);
	if ((rc = h->emit(sink, r, 0, 1.0, o, 0)) != TTPD_OK)
		return rc;
	h->object_set(o, "n", h->new_int(sink, 2));
	if ((rc = h->emit(sink, r, 0, 1.0, o, 0)) != TTPD_OK)
		return rc;
	h->array_append(a, h->new_int(sink, 2));
	if ((rc = h->emit(sink, r, 0, 1.0, o, 0)) != TTPD_OK)
		return rc;
	if ((rc = h->emit(sink, r, 0, 1.0, o, 0)) != TTPD_OK)
		return rc;
	o = h->new_object(sink);
	a = h->new_array(sink);
	h->object_set(o, "n", h->new_int(sink, 2));
	h->array_append(a, h->new_int(sink, 1));
	h->array_append(a, h->new_int(sink, 2));
	h->object_set(o, "a", a);
	return h->emit(sink, r, 0, 1.0, o, 0);
}

static void
record(const ttpd_host *h, ttpd_sink *sink, ttpd_value *o, const char *key,
    int rc)
{
	h->object_set(o, key, h->new_int(sink, rc));
}

static int
do_bad(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_rule *r;
	ttpd_rule foreign;
	ttpd_value *res, *a, *b, *arr;
	int rc;

	if ((r = chosen_rule(p, ev, sink, "rule", &rc, err)) == NULL)
		return rc;
	res = h->new_object(sink);
	/* a copy of a real rule: same contents, not a pointer the host gave */
	foreign = *r;
	record(h, sink, res, "foreign", h->emit(sink, &foreign, 0, 1.0, NULL,
	    0));
	record(h, sink, res, "null_rule", h->emit(sink, NULL, 0, 1.0, NULL,
	    0));
	record(h, sink, res, "index", h->emit(sink, r, r->n_emits, 1.0, NULL,
	    0));
	record(h, sink, res, "index_far", h->emit(sink, r, r->n_emits + 100,
	    1.0, NULL, 0));
	record(h, sink, res, "nan", h->emit(sink, r, 0, NAN, NULL, 0));
	record(h, sink, res, "inf", h->emit(sink, r, 0, INFINITY, NULL, 0));
	record(h, sink, res, "array_evidence", h->emit(sink, r, 0, 1.0,
	    h->new_array(sink), 0));
	record(h, sink, res, "string_evidence", h->emit(sink, r, 0, 1.0,
	    h->new_string(sink, "x", 1), 0));
	record(h, sink, res, "null_sink", h->emit(NULL, r, 0, 1.0, NULL, 0));

	a = h->new_object(sink);
	b = h->new_object(sink);
	arr = h->new_array(sink);
	record(h, sink, res, "set_ok", h->object_set(a, "b", b));
	record(h, sink, res, "cycle", h->object_set(b, "a", a));
	record(h, sink, res, "self", h->object_set(a, "self", a));
	record(h, sink, res, "array_self", h->array_append(arr, arr));
	record(h, sink, res, "set_on_array", h->object_set(arr, "k",
	    h->new_int(sink, 1)));
	record(h, sink, res, "append_on_object", h->array_append(a,
	    h->new_int(sink, 1)));
	record(h, sink, res, "set_null", h->object_set(a, "k", NULL));
	/* a is still a tree, so the final emit can serialise it */
	h->object_set(res, "nested", a);
	return h->emit(sink, r, 0, 1.0, res, 0);
}

static int
do_config(struct probe *p, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const ttpd_host *h = p->h;
	const ttpd_value *queries = h->object_get(ev->payload, "queries");
	const ttpd_rule *r;
	ttpd_value *o, *results;
	size_t i;
	int rc;

	if ((r = chosen_rule(p, ev, sink, "rule", &rc, err)) == NULL)
		return rc;
	o = h->new_object(sink);
	results = h->new_array(sink);
	h->object_set(o, "results", results);
	for (i = 0; i < h->array_size(queries); i++) {
		const ttpd_value *q = h->array_get(queries, i);
		const char *type = NULL, *key = NULL;
		ttpd_value *res = h->new_object(sink);
		ttpd_value *val = NULL;
		const ttpd_value *cv;
		const char *s;
		int64_t n;
		double d;
		int bo;

		h->get_string(h->array_get(q, 0), &type, NULL);
		h->get_string(h->array_get(q, 1), &key, NULL);
		if (type == NULL) {
			ttpd_err_set(err, "query without a type");
			return TTPD_EINVAL;
		}
		if (strcmp(type, "string") == 0) {
			if ((rc = h->config_string(p->ctx, key, &s)) == TTPD_OK)
				val = h->new_string(sink, s, strlen(s));
		} else if (strcmp(type, "int") == 0) {
			if ((rc = h->config_int(p->ctx, key, &n)) == TTPD_OK)
				val = h->new_int(sink, n);
		} else if (strcmp(type, "real") == 0) {
			if ((rc = h->config_real(p->ctx, key, &d)) == TTPD_OK)
				val = h->new_real(sink, d);
		} else if (strcmp(type, "bool") == 0) {
			if ((rc = h->config_bool(p->ctx, key, &bo)) == TTPD_OK)
				val = h->new_bool(sink, bo);
		} else if (strcmp(type, "value") == 0) {
			cv = h->config_value(p->ctx, key);
			rc = cv != NULL ? TTPD_OK : TTPD_SKIP;
			/* host-owned config value, kept by reference */
			val = (ttpd_value *)(uintptr_t)cv;
		} else {
			ttpd_err_set(err, "unknown query type");
			return TTPD_EINVAL;
		}
		record(h, sink, res, "rc", rc);
		if (val != NULL)
			h->object_set(res, "v", val);
		h->array_append(results, res);
	}
	return h->emit(sink, r, 0, 1.0, o, 0);
}

static int
probe_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct probe *p = state;
	const char *action = payload_string(p, ev, "action");
	const char *fail = payload_string(p, ev, "fail");
	int rc;

	if (action == NULL || strcmp(action, "emit") == 0)
		rc = do_emit(p, ev, sink, err);
	else if (strcmp(action, "list") == 0)
		rc = do_list(p, ev, sink, err);
	else if (strcmp(action, "builders") == 0)
		rc = do_builders(p, ev, sink, err);
	else if (strcmp(action, "mutate") == 0)
		rc = do_mutate(p, ev, sink, err);
	else if (strcmp(action, "bad") == 0)
		rc = do_bad(p, ev, sink, err);
	else if (strcmp(action, "config") == 0)
		rc = do_config(p, ev, sink, err);
	else {
		ttpd_err_set(err, "unknown action");
		return TTPD_EINVAL;
	}
	if (fail != NULL && strcmp(fail, "einval") == 0) {
		ttpd_err_set(err, "probe was asked to fail");
		return TTPD_EINVAL;
	}
	if (fail != NULL && strcmp(fail, "efatal") == 0) {
		ttpd_err_set(err, "probe was asked to die");
		return TTPD_EFATAL;
	}
	return rc;
}

TTPD_LIFTER_DEFINE(
    .name = "probe",
    .version = "1.0",
    .description = "host API test fixture driven by the payload",
    .source_kinds = probe_kinds,
    .rule_kinds = probe_rule_kinds,
    .config_keys = probe_keys,
    .init = probe_init,
    .rule_prepare = probe_rule_prepare,
    .rule_release = probe_rule_release,
    .handle = probe_handle,
    .destroy = probe_destroy);
