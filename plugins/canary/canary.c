/*
 * canary: the browser canary fingerprint lifter (DECNET's
 * CanaryFingerprintLifter, decnet-lifters.md section 3.3).
 *
 * Handles canary_fingerprint events and owns the rules whose match.kind
 * starts with "lifter:canary_" (DECNET R0049-R0053).  The handler is
 * chosen by the exact match.kind; an owned rule with another kind never
 * fires.  Evidence is always {metric, matched_signature}; the rule's
 * evidence_fields are ignored, as DECNET does.
 *
 *   webdriver              navigator_webdriver is JSON true
 *   automation_hash        the first truthy of canvas_audio_hash_match and
 *                          matched_tool is a string listed in
 *                          match.catalogues (exact, case-sensitive); an
 *                          absent or empty catalogue list accepts any
 *                          string
 *   webrtc_leak            webrtc_geo_mismatch is JSON true
 *   tz_lang_mismatch       tz_mismatch_zones is a JSON integer >= 3 (fixed,
 *                          as in DECNET), else lang_country_mismatch is
 *                          JSON true
 *   platform_inconsistency platform_ua_inconsistent is JSON true, else
 *                          ua_webgl_mismatch is JSON true
 *
 * Departure: a JSON boolean is never a number, so tz_mismatch_zones: true
 * is not the integer 1 (it never reached 3 in DECNET either).  A
 * match.catalogues that is not a list of strings rejects the rule at load
 * time instead of being searched as a string.
 *
 * Built against the SDK header only.  No state is kept across events.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ttpd/lifter.h>

#include "../common/pyvalue.h"

/* DECNET hard-codes this threshold instead of reading it from the rule. */
#define TZ_ZONES_THRESHOLD 3

struct canary {
	const ttpd_host *host;
	ttpd_ctx *ctx;
};

/* What a predicate decided: which metric and signature, if it fired. */
struct verdict {
	const char *metric;
	const char *signature;         /* a literal, or NULL ... */
	const ttpd_value *signature_v; /* ... a payload string */
	char buf[48];                  /* or a formatted one */
};

typedef int (*predicate_fn)(const struct canary *, const ttpd_rule *,
    const ttpd_value *payload, struct verdict *);

static const char *const canary_source_kinds[] = {
	"canary_fingerprint", NULL
};

static const char *const canary_rule_kinds[] = { "lifter:canary_*", NULL };

/* 1 when payload[key] is the JSON boolean true (not 1, not "true"). */
static int
is_true(const struct canary *c, const ttpd_value *payload, const char *key)
{
	int b = 0;

	return c->host->get_bool(c->host->object_get(payload, key), &b) ==
	    TTPD_OK && b;
}

static int
pred_webdriver(const struct canary *c, const ttpd_rule *rule,
    const ttpd_value *payload, struct verdict *out)
{
	(void)rule;
	if (!is_true(c, payload, "navigator_webdriver"))
		return 0;
	out->metric = "navigator_webdriver";
	out->signature = "navigator.webdriver_true";
	return 1;
}

/* Is the string s (len bytes) one of the rule's catalogues?  An absent,
 * null or empty list accepts everything (checked by rule_prepare). */
static int
in_catalogue(const struct canary *c, const ttpd_rule *rule, const char *s,
    size_t len)
{
	const ttpd_host *h = c->host;
	const ttpd_value *list = h->object_get(rule->match, "catalogues");
	size_t i, n = h->array_size(list), elen;
	const char *e;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++)
		if (h->get_string(h->array_get(list, i), &e, &elen) ==
		    TTPD_OK && elen == len && memcmp(e, s, len) == 0)
			return 1;
	return 0;
}

static int
pred_automation_hash(const struct canary *c, const ttpd_rule *rule,
    const ttpd_value *payload, struct verdict *out)
{
	const ttpd_host *h = c->host;
	const ttpd_value *m = h->object_get(payload, "canvas_audio_hash_match");
	const char *s;
	size_t len;

	if (!py_truthy(c->host, m))
		m = h->object_get(payload, "matched_tool");
	/* a falsy or non-string first value never fires */
	if (!py_truthy(c->host, m) || h->get_string(m, &s, &len) != TTPD_OK ||
	    !in_catalogue(c, rule, s, len))
		return 0;
	out->metric = "canvas_audio_hash";
	out->signature_v = m;
	return 1;
}

static int
pred_webrtc_leak(const struct canary *c, const ttpd_rule *rule,
    const ttpd_value *payload, struct verdict *out)
{
	(void)rule;
	if (!is_true(c, payload, "webrtc_geo_mismatch"))
		return 0;
	out->metric = "webrtc_geo_mismatch";
	out->signature = "webrtc_private_vs_source_ip";
	return 1;
}

static int
pred_tz_lang_mismatch(const struct canary *c, const ttpd_rule *rule,
    const ttpd_value *payload, struct verdict *out)
{
	int64_t zones;

	(void)rule;
	/* get_int accepts JSON integers only: not 3.0, not true */
	if (c->host->get_int(c->host->object_get(payload, "tz_mismatch_zones"),
	    &zones) == TTPD_OK && zones >= TZ_ZONES_THRESHOLD) {
		snprintf(out->buf, sizeof out->buf, "tz_zones>=%" PRId64,
		    zones);
		out->metric = "timezone_geo_mismatch";
		out->signature = out->buf;
		return 1;
	}
	if (is_true(c, payload, "lang_country_mismatch")) {
		out->metric = "language_country_mismatch";
		out->signature = "lang_vs_source_country";
		return 1;
	}
	return 0;
}

static int
pred_platform_inconsistency(const struct canary *c, const ttpd_rule *rule,
    const ttpd_value *payload, struct verdict *out)
{
	(void)rule;
	if (is_true(c, payload, "platform_ua_inconsistent")) {
		out->metric = "platform_ua_mismatch";
		out->signature = "navigator.platform_vs_userAgent";
		return 1;
	}
	if (is_true(c, payload, "ua_webgl_mismatch")) {
		out->metric = "ua_webgl_mismatch";
		out->signature = "userAgent_vs_webgl_renderer";
		return 1;
	}
	return 0;
}

/* Handlers by exact match.kind. */
static const struct {
	const char *kind;
	predicate_fn fn;
} handlers[] = {
	{ "lifter:canary_webdriver", pred_webdriver },
	{ "lifter:canary_automation_hash", pred_automation_hash },
	{ "lifter:canary_webrtc_leak", pred_webrtc_leak },
	{ "lifter:canary_tz_lang_mismatch", pred_tz_lang_mismatch },
	{ "lifter:canary_platform_inconsistency", pred_platform_inconsistency },
};

static predicate_fn
handler_for(const char *kind)
{
	size_t i;

	if (kind == NULL)
		return NULL;
	for (i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (strcmp(handlers[i].kind, kind) == 0)
			return handlers[i].fn;
	return NULL;
}

static int
canary_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	struct canary *c;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	c->host = host;
	c->ctx = ctx;
	*state = c;
	return TTPD_OK;
}

/* An unknown kind is accepted (it never fires, as in DECNET) but logged;
 * a malformed catalogue list is refused. */
static int
canary_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	const struct canary *c = state;
	const ttpd_host *h = c->host;
	const ttpd_value *list;
	size_t i, n;
	int t;

	*prepared = NULL;
	if (handler_for(rule->kind) == NULL) {
		h->log(c->ctx, TTPD_LOG_WARNING, "rule %s: match.kind '%s' is "
		    "not a canary predicate; the rule never fires",
		    rule->rule_id, rule->kind != NULL ? rule->kind : "(none)");
		return TTPD_OK;
	}
	list = h->object_get(rule->match, "catalogues");
	t = h->value_type(list);
	if (t == TTPD_VT_ABSENT || t == TTPD_VT_NULL)
		return TTPD_OK;
	if (t != TTPD_VT_ARRAY) {
		ttpd_err_set(err, "match.catalogues must be a list of strings");
		return TTPD_EINVAL;
	}
	n = h->array_size(list);
	for (i = 0; i < n; i++)
		if (h->value_type(h->array_get(list, i)) != TTPD_VT_STRING) {
			ttpd_err_set(err, "match.catalogues must be a list of "
			    "strings");
			return TTPD_EINVAL;
		}
	return TTPD_OK;
}

static int
canary_emit(const struct canary *c, ttpd_sink *sink, const ttpd_rule *rule,
    const struct verdict *v, ttpd_err *err)
{
	const ttpd_host *h = c->host;
	ttpd_value *ev = h->new_object(sink), *metric, *sig = NULL;
	int rc;

	metric = h->new_string(sink, v->metric, strlen(v->metric));
	if (v->signature != NULL)
		sig = h->new_string(sink, v->signature, strlen(v->signature));
	if (ev == NULL || metric == NULL ||
	    (v->signature != NULL && sig == NULL) ||
	    h->object_set(ev, "metric", metric) != TTPD_OK ||
	    h->object_set(ev, "matched_signature",
	    sig != NULL ? sig : v->signature_v) != TTPD_OK) {
		ttpd_err_set(err, "out of memory building evidence");
		return TTPD_ENOMEM;
	}
	rc = h->emit(sink, rule, TTPD_EMIT_ALL, 1.0, ev, 0);
	if (rc < 0) {
		ttpd_err_set(err, "emit refused a canary tag");
		return rc;
	}
	return TTPD_OK;
}

static int
canary_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	const struct canary *c = state;
	const ttpd_rule *const *rules;
	size_t n, i;
	int rc;

	rules = c->host->rules_for(sink, &n);
	for (i = 0; i < n; i++) {
		predicate_fn fn = handler_for(rules[i]->kind);
		struct verdict v;

		memset(&v, 0, sizeof v);
		if (fn == NULL || !fn(c, rules[i], ev->payload, &v))
			continue;
		if ((rc = canary_emit(c, sink, rules[i], &v, err)) < 0)
			return rc;
	}
	return TTPD_OK;
}

static void
canary_destroy(void *state)
{
	free(state);
}

TTPD_LIFTER_DEFINE(
    .name = "canary",
    .version = PACKAGE_VERSION,
    .description = "browser canary fingerprints: automation, proxy and "
	"spoofing tells (DECNET R0049-R0053)",
    .source_kinds = canary_source_kinds,
    .rule_kinds = canary_rule_kinds,
    .init = canary_init,
    .rule_prepare = canary_rule_prepare,
    .handle = canary_handle,
    .destroy = canary_destroy)
