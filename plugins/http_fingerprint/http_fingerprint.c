/*
 * http_fingerprint: DECNET's HTTP fingerprint lifter (decnet-lifters.md
 * section 3.8), with rules it can actually own.
 *
 * DECNET's lifter looks up three fixed rule ids (HFP-0001..0003) that it
 * never ships, so it is dead in production.  Here the rules are ordinary
 * rule files owned by match.kind (the default pack's TD0801-TD0803), and
 * the lifter dispatches on these kinds:
 *
 *   lifter:http_fingerprint_ja4h_scanner  (HFP-0001) the JA4H prefix (the
 *       text before the first "_", else the first 10 characters) is one
 *       of match.catalogues (default GE11nn0000, GE20nn0000, GE30nn0000)
 *   lifter:http_fingerprint_settings      (HFP-0002) fingerprint_type is
 *       "http2_settings" or "http3_settings"
 *   lifter:http_fingerprint_ja4_quic      (HFP-0003) ja4_quic is a
 *       non-empty string
 *
 * Evidence ignores evidence_fields, as DECNET's does, and always has the
 * six keys of DECNET's http_fingerprint schema: kind, hash, protocol,
 * client_ip, seen_at, raw.  client_ip and seen_at default to "" (and
 * protocol to "h1" for JA4H) only when the key is absent.
 *
 * Fixes to DECNET's lifter (its problems, section 6 item 3):
 *   - rules are found by match.kind and respect applies_to (the host only
 *     hands a lifter the rules that apply to the event);
 *   - the scanner catalogue is data in the rule, without the duplicated
 *     entry DECNET's code has;
 *   - the evidence kind is the fingerprint_type value itself
 *     (http2_settings, http3_settings), as DECNET emits it; its comment's
 *     h2_settings/h3_settings was wrong;
 *   - sub-techniques are full dotted ids (T1592.002), like every rule;
 *   - a non-string ja4h or ja4_quic is no fingerprint (DECNET raises a
 *     TypeError for ja4h and loses every lifter's tags of the event).
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

/* Characters (code points) of a JA4H prefix without "_". */
#define JA4H_PREFIX_CHARS 10

struct hfp {
	const ttpd_host *host;
	ttpd_ctx *ctx;
};

enum predicate {
	PRED_JA4H_SCANNER,
	PRED_SETTINGS,
	PRED_JA4_QUIC
};

struct prepared {
	enum predicate pred;
	const ttpd_value *catalogues; /* JA4H: the rule's list, or NULL */
};

static const struct {
	const char *kind;
	enum predicate pred;
} kinds[] = {
	{ "lifter:http_fingerprint_ja4h_scanner", PRED_JA4H_SCANNER },
	{ "lifter:http_fingerprint_settings", PRED_SETTINGS },
	{ "lifter:http_fingerprint_ja4_quic", PRED_JA4_QUIC },
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static const char *const default_catalogue[] = {
	"GE11nn0000", "GE20nn0000", "GE30nn0000"
};
#define N_DEFAULT_CATALOGUE \
	(sizeof default_catalogue / sizeof default_catalogue[0])

static int
hfp_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct hfp *s = calloc(1, sizeof *s);

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
hfp_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct hfp *s = state;
	const ttpd_host *h = s->host;
	struct prepared *p;
	const ttpd_value *cat;
	size_t i;

	*prepared = NULL;
	for (i = 0; i < N_KINDS; i++)
		if (rule->kind != NULL && strcmp(rule->kind, kinds[i].kind) == 0)
			break;
	if (i == N_KINDS) {
		h->log(s->ctx, TTPD_LOG_WARNING, "rule %s: unknown kind %s, "
		    "the rule will never fire", rule->rule_id,
		    rule->kind != NULL ? rule->kind : "(none)");
		return TTPD_OK;
	}
	if ((p = calloc(1, sizeof *p)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	p->pred = kinds[i].pred;
	cat = h->object_get(rule->match, "catalogues");
	if (p->pred == PRED_JA4H_SCANNER &&
	    h->value_type(cat) != TTPD_VT_ABSENT) {
		if (h->value_type(cat) != TTPD_VT_ARRAY) {
			snprintf(err->msg, sizeof err->msg, "rule %s: "
			    "match.catalogues must be a list of JA4H "
			    "prefixes", rule->rule_id);
			free(p);
			return TTPD_EINVAL;
		}
		for (i = 0; i < h->array_size(cat); i++)
			if (h->value_type(h->array_get(cat, i)) !=
			    TTPD_VT_STRING) {
				snprintf(err->msg, sizeof err->msg, "rule %s: "
				    "match.catalogues[%zu] is not a string",
				    rule->rule_id, i);
				free(p);
				return TTPD_EINVAL;
			}
		p->catalogues = cat; /* lives as long as the rule */
	}
	*prepared = p;
	return TTPD_OK;
}

static void
hfp_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	(void)state;
	(void)rule;
	free(prepared);
}

/* Byte length of the JA4H prefix: up to the first '_', else the first
 * JA4H_PREFIX_CHARS code points (the string is valid UTF-8). */
static size_t
ja4h_prefix_len(const char *s, size_t len)
{
	const char *u = memchr(s, '_', len);
	size_t i = 0, chars = 0;

	if (u != NULL)
		return (size_t)(u - s);
	while (i < len && chars < JA4H_PREFIX_CHARS) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;    /* continuation bytes */
		chars++;
	}
	return i;
}

static int
in_catalogue(const ttpd_host *h, const struct prepared *p, const char *pre,
    size_t len)
{
	const char *c;
	size_t i, clen;

	if (p->catalogues == NULL) {
		for (i = 0; i < N_DEFAULT_CATALOGUE; i++)
			if (strlen(default_catalogue[i]) == len &&
			    memcmp(default_catalogue[i], pre, len) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < h->array_size(p->catalogues); i++)
		if (h->get_string(h->array_get(p->catalogues, i), &c,
		    &clen) == TTPD_OK && clen == len &&
		    memcmp(c, pre, len) == 0)
			return 1;
	return 0;
}

/* payload[key], or a new string `dflt` when the key is absent. */
static const ttpd_value *
get_or(const ttpd_host *h, ttpd_sink *sink, const ttpd_value *payload,
    const char *key, const char *dflt)
{
	const ttpd_value *v = h->object_get(payload, key);

	return v != NULL ? v : h->new_string(sink, dflt, strlen(dflt));
}

/* DECNET's six evidence keys, in its order. */
static ttpd_value *
evidence(const ttpd_host *h, ttpd_sink *sink, const ttpd_value *payload,
    const ttpd_value *kind, const ttpd_value *hash,
    const ttpd_value *protocol, const ttpd_value *raw)
{
	ttpd_value *ev = h->new_object(sink);
	const ttpd_value *ip = get_or(h, sink, payload, "client_ip", "");
	const ttpd_value *seen = get_or(h, sink, payload, "seen_at", "");

	if (ev == NULL || kind == NULL || hash == NULL || protocol == NULL ||
	    raw == NULL || ip == NULL || seen == NULL ||
	    h->object_set(ev, "kind", kind) != TTPD_OK ||
	    h->object_set(ev, "hash", hash) != TTPD_OK ||
	    h->object_set(ev, "protocol", protocol) != TTPD_OK ||
	    h->object_set(ev, "client_ip", ip) != TTPD_OK ||
	    h->object_set(ev, "seen_at", seen) != TTPD_OK ||
	    h->object_set(ev, "raw", raw) != TTPD_OK)
		return NULL;
	return ev;
}

static ttpd_value *
new_str(const ttpd_host *h, ttpd_sink *sink, const char *s)
{
	return h->new_string(sink, s, strlen(s));
}

/*
 * 1 with *out set when the rule fires, 0 when it does not, -1 when the
 * evidence cannot be built (out of memory).
 */
static int
evaluate(const ttpd_host *h, ttpd_sink *sink, const struct prepared *p,
    const ttpd_value *payload, ttpd_value **out)
{
	const ttpd_value *v;
	const char *s;
	size_t len;
	int h3;

	switch (p->pred) {
	case PRED_JA4H_SCANNER:
		v = h->object_get(payload, "ja4h");
		if (h->get_string(v, &s, &len) != TTPD_OK || len == 0 ||
		    !in_catalogue(h, p, s, ja4h_prefix_len(s, len)))
			return 0;
		*out = evidence(h, sink, payload, new_str(h, sink, "ja4h"), v,
		    get_or(h, sink, payload, "protocol", "h1"),
		    h->new_null(sink));
		break;
	case PRED_SETTINGS:
		v = h->object_get(payload, "fingerprint_type");
		if (h->get_string(v, &s, &len) != TTPD_OK)
			return 0;
		if (len == 14 && memcmp(s, "http2_settings", 14) == 0)
			h3 = 0;
		else if (len == 14 && memcmp(s, "http3_settings", 14) == 0)
			h3 = 1;
		else
			return 0;
		*out = evidence(h, sink, payload, v, new_str(h, sink, ""),
		    new_str(h, sink, h3 ? "h3" : "h2"),
		    h->object_get(payload, "settings") != NULL ?
		    h->object_get(payload, "settings") : h->new_null(sink));
		break;
	case PRED_JA4_QUIC:
		v = h->object_get(payload, "ja4_quic");
		if (h->get_string(v, &s, &len) != TTPD_OK || len == 0)
			return 0;
		*out = evidence(h, sink, payload, new_str(h, sink, "ja4_quic"),
		    v, new_str(h, sink, "h3"), h->new_null(sink));
		break;
	default:
		return 0;
	}
	return *out != NULL ? 1 : -1;
}

static int
hfp_handle(void *state, const ttpd_event *ev, ttpd_sink *sink, ttpd_err *err)
{
	struct hfp *s = state;
	const ttpd_host *h = s->host;
	const ttpd_rule *const *rules;
	size_t n, i;
	int rc;

	rules = h->rules_for(sink, &n);
	for (i = 0; rules != NULL && i < n; i++) {
		ttpd_value *evidence = NULL;

		if (rules[i]->prepared == NULL)
			continue;
		rc = evaluate(h, sink, rules[i]->prepared, ev->payload,
		    &evidence);
		if (rc == 0)
			continue;
		if (rc < 0) {
			ttpd_err_set(err, "cannot build the evidence (out of "
			    "memory)");
			return TTPD_ENOMEM;
		}
		if ((rc = emit_rule(h, sink, rules[i], evidence, 0, err)) < 0)
			return rc;
	}
	return TTPD_OK;
}

static void
hfp_destroy(void *state)
{
	free(state);
}

static const char *const hfp_source_kinds[] = { "http_fingerprint", NULL };

TTPD_LIFTER_DEFINE(
    .name = "http_fingerprint",
    .version = PACKAGE_VERSION,
    .description = "scanner JA4H prefixes, HTTP/2 and HTTP/3 settings and "
	"JA4 QUIC fingerprints (DECNET HttpFingerprintLifter)",
    .source_kinds = hfp_source_kinds,
    .init = hfp_init,
    .rule_prepare = hfp_rule_prepare,
    .rule_release = hfp_rule_release,
    .handle = hfp_handle,
    .destroy = hfp_destroy)
