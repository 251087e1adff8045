/*
 * identity: DECNET's IdentityLifter (decnet-lifters.md section 3.5).
 *
 * Owns the rules whose match.kind starts with "lifter:identity_" and
 * handles identity events (an attacker identity formed or merged by the
 * clusterer).  One predicate:
 *
 *   lifter:identity_password_spraying  shared_password_hash is a non-empty
 *                                      string and account_count (int) >=
 *                                      account_threshold (default 1)
 *
 * Evidence is DECNET's common recipe (evidence_fields, then
 * shared_password_hash and account_count overlaid).  The tag belongs to
 * the identity, not to the member attacker that triggered the event, so it
 * is emitted with TTPD_EMIT_IDENTITY_ONLY: attacker_uuid is left out, and
 * an event without an identity_uuid gives no tag.
 *
 * Departures, all deliberate:
 *   - a JSON boolean is never a count (DECNET's Python reads true as 1);
 *   - an account_threshold that is not an integer >= 0 rejects the rule
 *     when it is loaded; DECNET loads it and never fires.
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

#define SPRAYING_KIND "lifter:identity_password_spraying"

struct identity {
	const ttpd_host *host;
	ttpd_ctx *ctx;
};

/* What rule_prepare() makes for a password-spraying rule. */
struct prepared {
	int64_t account_threshold;
};

static int
id_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct identity *s = calloc(1, sizeof *s);

	if (s == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	s->host = host;
	s->ctx = ctx;
	*state = s;
	return TTPD_OK;
}

static int
id_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct identity *s = state;
	const ttpd_host *h = s->host;
	const ttpd_value *v;
	struct prepared *p;
	int64_t threshold = 1;
	int t;

	*prepared = NULL;
	if (rule->kind == NULL || strcmp(rule->kind, SPRAYING_KIND) != 0) {
		/* DECNET keeps such a rule in its index; it never fires */
		h->log(s->ctx, TTPD_LOG_WARNING, "rule %s: unknown kind %s, "
		    "the rule will never fire", rule->rule_id,
		    rule->kind != NULL ? rule->kind : "(none)");
		return TTPD_OK;
	}
	v = h->object_get(rule->match, "account_threshold");
	t = h->value_type(v);
	if (t != TTPD_VT_ABSENT && (h->get_int(v, &threshold) != TTPD_OK ||
	    threshold < 0)) {
		snprintf(err->msg, sizeof err->msg, "rule %s: "
		    "match.account_threshold must be an integer >= 0",
		    rule->rule_id);
		return TTPD_EINVAL;
	}
	if ((p = malloc(sizeof *p)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	p->account_threshold = threshold;
	*prepared = p;
	return TTPD_OK;
}

static void
id_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	(void)state;
	(void)rule;
	free(prepared);
}

static int
id_handle(void *state, const ttpd_event *ev, ttpd_sink *sink, ttpd_err *err)
{
	struct identity *s = state;
	const ttpd_host *h = s->host;
	const ttpd_rule *const *rules;
	const ttpd_value *hash, *count;
	const char *str;
	size_t n, i, len;
	int64_t accounts;
	int rc;

	rules = h->rules_for(sink, &n);
	hash = h->object_get(ev->payload, "shared_password_hash");
	count = h->object_get(ev->payload, "account_count");
	if (h->get_string(hash, &str, &len) != TTPD_OK || len == 0 ||
	    h->get_int(count, &accounts) != TTPD_OK)
		return TTPD_OK;
	for (i = 0; rules != NULL && i < n; i++) {
		const struct prepared *p = rules[i]->prepared;
		ttpd_value *evidence;

		if (p == NULL || accounts < p->account_threshold)
			continue;
		evidence = h->evidence_from_fields(sink, rules[i]);
		if (evidence == NULL ||
		    h->object_set(evidence, "shared_password_hash", hash) !=
		    TTPD_OK ||
		    h->object_set(evidence, "account_count", count) !=
		    TTPD_OK) {
			ttpd_err_set(err, "cannot build the evidence (out of "
			    "memory)");
			return TTPD_ENOMEM;
		}
		if ((rc = emit_rule(h, sink, rules[i], evidence,
		    TTPD_EMIT_IDENTITY_ONLY, err)) < 0)
			return rc;
	}
	return TTPD_OK;
}

static void
id_destroy(void *state)
{
	free(state);
}

static const char *const id_source_kinds[] = { "identity", NULL };

TTPD_LIFTER_DEFINE(
    .name = "identity",
    .version = PACKAGE_VERSION,
    .description = "password spraying seen across an attacker identity "
	"(DECNET IdentityLifter)",
    .source_kinds = id_source_kinds,
    .init = id_init,
    .rule_prepare = id_rule_prepare,
    .rule_release = id_rule_release,
    .handle = id_handle,
    .destroy = id_destroy)
