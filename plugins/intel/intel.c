/*
 * intel: the threat-intelligence lifter (DECNET IntelLifter,
 * decnet-lifters.md section 3.2).
 *
 * Owns the rules whose match.kind starts with "lifter:intel_" and turns
 * provider verdicts carried in an intel event's payload into tags:
 *
 *   lifter:intel_abuseipdb       AbuseIPDB categories, times score/100
 *   lifter:intel_greynoise       GreyNoise classification and tags
 *   lifter:intel_feodo           Feodo Tracker listing
 *   lifter:intel_threatfox       ThreatFox threat types
 *   lifter:intel_aggregate_bump  never fires (DECNET's is a no-op)
 *
 * A provider maps its signals (a category, a classification, a tag, a
 * threat type) to technique ids; those tables come from the plugin's
 * config group, so an operator can edit them, with DECNET's tables as
 * built-in defaults.  A rule emits, in its own emits order, every entry
 * whose technique_id (or full sub_technique_id) some signal of the event
 * maps to; a technique the rule does not list is dropped.
 *
 * Departures from DECNET, all deliberate (DESIGN.md "Parity policy"):
 *   - JSON booleans are never numbers: a boolean abuseipdb_score is not a
 *     score and a boolean category is not a category;
 *   - a non-list greynoise_tags is no tags (Python would iterate the
 *     characters of a string or the keys of a mapping);
 *   - confidence clamping and mitre_url are the host's, as for every
 *     lifter.
 *
 * Built against the SDK header only; keeps no state across events.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ttpd/lifter.h>

#include "../common/pyvalue.h"

/* Techniques one signal may map to. */
#define MAX_TECHNIQUES 8

/* One row of a provider table. */
struct mapping {
	const char *label;      /* signal name; NULL for AbuseIPDB rows */
	int64_t category;       /* AbuseIPDB category */
	double min_score;       /* AbuseIPDB: row applies from this score */
	double multiplier;      /* GreyNoise/ThreatFox lanes */
	int fallback;           /* GreyNoise class: only if nothing else */
	const char *techniques[MAX_TECHNIQUES];
	size_t n_techniques;
};

struct table {
	const struct mapping *v;
	size_t n;
	struct mapping *owned;  /* v when read from the config, else NULL */
};

struct intel {
	const ttpd_host *host;
	ttpd_ctx *ctx;
	struct table abuseipdb;
	struct table gn_classes;
	struct table gn_tags;
	struct table feodo;
	struct table threatfox;
};

/* ------------------------------------------------------------ defaults */

#define ROW(cat, ...) { NULL, cat, -INFINITY, 1.0, 0, { __VA_ARGS__ }, \
	sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *) }
#define LANE(lbl, mult, fb, ...) { lbl, 0, -INFINITY, mult, fb, \
	{ __VA_ARGS__ }, \
	sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *) }

/* AbuseIPDB category number -> techniques (4, 10, 12 ... map nothing). */
static const struct mapping default_abuseipdb[] = {
	ROW(5, "T1110"),
	ROW(7, "T1566"),
	ROW(9, "T1090"),
	ROW(11, "T1496"),
	{ NULL, 11, 80.0, 1.0, 0, { "T1566" }, 1 },
	ROW(13, "T1090"),
	ROW(14, "T1046", "T1595"),
	ROW(15, "T1190"),
	ROW(16, "T1190"),
	ROW(17, "T1566"),
	ROW(18, "T1110"),
	ROW(19, "T1595"),
	ROW(20, "T1078"),
	ROW(21, "T1190"),
	ROW(22, "T1110"),
	ROW(23, "T1190"),
};

/* GreyNoise classification lanes: "scanner" before the tags, bare
 * "malicious" after them and only for a technique no tag gave. */
static const struct mapping default_gn_classes[] = {
	LANE("scanner", 1.0, 0, "T1595"),
	LANE("malicious", 0.5, 1, "T1071"),
};

static const struct mapping default_gn_tags[] = {
	LANE("tor_exit_node", 1.0, 0, "T1090"),
	LANE("ssh_bruteforcer", 1.0, 0, "T1110"),
	LANE("web_crawler", 1.0, 0, "T1595"),
	LANE("cobalt_strike", 1.0, 0, "T1071", "T1588"),
	LANE("metasploit", 1.0, 0, "T1071", "T1588"),
	LANE("sliver", 1.0, 0, "T1071", "T1588"),
	LANE("havoc", 1.0, 0, "T1071", "T1588"),
};

static const struct mapping default_feodo[] = {
	LANE("feodo_listed", 1.0, 0, "T1071", "T1588"),
};

static const struct mapping default_threatfox[] = {
	LANE("botnet_cc", 1.0, 0, "T1071", "T1588"),
	LANE("payload_delivery", 1.0, 0, "T1105", "T1588"),
	LANE("payload", 1.0, 0, "T1588"),
	LANE("cc_skimming", 1.0, 0, "T1056"),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------ config reading */

struct loader {
	const ttpd_host *h;
	ttpd_err *err;
	const char *where;      /* "abuseipdb[3]" */
	const char *label_key;  /* "tag", "threat_type", ...; NULL: category */
	int class_lane;         /* accepts `fallback` */
	struct mapping *m;
	int failed;
};

static void
load_fail(struct loader *ld, const char *fmt, const char *a)
{
	char msg[sizeof ld->err->msg];

	if (ld->failed)
		return;
	snprintf(msg, sizeof msg, fmt, ld->where, a);
	ttpd_err_set(ld->err, msg);
	ld->failed = 1;
}

/* T followed by four digits, optionally .NNN. */
static int
is_technique_id(const char *s, size_t len)
{
	size_t i;

	if (len != 5 && len != 9)
		return 0;
	if (s[0] != 'T')
		return 0;
	for (i = 1; i < 5; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (len == 5)
		return 1;
	if (s[5] != '.')
		return 0;
	for (i = 6; i < 9; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A list of technique ids into m->techniques. */
static void
load_techniques(struct loader *ld, const ttpd_value *list,
    struct mapping *m)
{
	const ttpd_host *h = ld->h;
	size_t i, n, len;
	const char *s;

	if (h->value_type(list) != TTPD_VT_ARRAY) {
		load_fail(ld, "%s: 'techniques' must be a list of technique "
		    "ids%s", "");
		return;
	}
	n = h->array_size(list);
	if (n == 0 || n > MAX_TECHNIQUES) {
		load_fail(ld, "%s: 'techniques' must list 1 to 8 technique "
		    "ids%s", "");
		return;
	}
	for (i = 0; i < n; i++) {
		if (h->get_string(h->array_get(list, i), &s, &len) !=
		    TTPD_OK || !is_technique_id(s, len)) {
			load_fail(ld, "%s: 'techniques' entries must be "
			    "technique ids like \"T1110\" or \"T1595.002\"%s",
			    "");
			return;
		}
		m->techniques[i] = s;
	}
	m->n_techniques = n;
}

static int
load_member(void *ud, const char *key, const ttpd_value *val)
{
	struct loader *ld = ud;
	const ttpd_host *h = ld->h;
	struct mapping *m = ld->m;
	size_t len;
	double d;
	int b;

	if (strcmp(key, "techniques") == 0) {
		load_techniques(ld, val, m);
	} else if (ld->label_key != NULL && strcmp(key, ld->label_key) == 0) {
		if (h->get_string(val, &m->label, &len) != TTPD_OK ||
		    len == 0 || strlen(m->label) != len)
			load_fail(ld, "%s: '%s' must be a non-empty string",
			    key);
	} else if (ld->label_key == NULL && strcmp(key, "category") == 0) {
		if (h->get_int(val, &m->category) != TTPD_OK)
			load_fail(ld, "%s: '%s' must be an integer", key);
	} else if (ld->label_key == NULL && strcmp(key, "min_score") == 0) {
		if (h->get_number(val, &m->min_score) != TTPD_OK)
			load_fail(ld, "%s: '%s' must be a number", key);
	} else if (ld->label_key != NULL && strcmp(key, "multiplier") == 0) {
		if (h->get_number(val, &d) != TTPD_OK || !isfinite(d) ||
		    d < 0.0 || d > 1.0)
			load_fail(ld, "%s: '%s' must be a number from 0 to 1",
			    key);
		else
			m->multiplier = d;
	} else if (ld->class_lane && strcmp(key, "fallback") == 0) {
		if (h->get_bool(val, &b) != TTPD_OK)
			load_fail(ld, "%s: '%s' must be true or false", key);
		else
			m->fallback = b;
	} else {
		load_fail(ld, "%s: unknown key '%s'", key);
	}
	return ld->failed;
}

/*
 * Read config key `key` (a list of groups) into t; keep the defaults
 * when it is absent.  label_key names the signal member of each group
 * (NULL: AbuseIPDB's integer `category`).
 */
static int
load_table(struct intel *in, const char *key, const char *label_key,
    int class_lane, struct table *t, ttpd_err *err)
{
	const ttpd_host *h = in->host;
	const ttpd_value *list = h->config_value(in->ctx, key);
	struct loader ld;
	char where[96];
	size_t i, n;

	if (list == NULL)
		return TTPD_OK;
	/* the host checked the type against the key table; be sure */
	if (h->value_type(list) != TTPD_VT_ARRAY) {
		snprintf(where, sizeof where, "config %s: not a list", key);
		ttpd_err_set(err, where);
		return TTPD_EINVAL;
	}
	n = h->array_size(list);
	t->owned = calloc(n > 0 ? n : 1, sizeof *t->owned);
	if (t->owned == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	t->v = t->owned;
	t->n = n;
	memset(&ld, 0, sizeof ld);
	ld.h = h;
	ld.err = err;
	ld.where = where;
	ld.label_key = label_key;
	ld.class_lane = class_lane;
	for (i = 0; i < n && !ld.failed; i++) {
		const ttpd_value *row = h->array_get(list, i);
		struct mapping *m = &t->owned[i];

		snprintf(where, sizeof where, "config %s[%zu]", key, i);
		m->min_score = -INFINITY;
		m->multiplier = 1.0;
		m->category = INT64_MIN;
		ld.m = m;
		if (h->value_type(row) != TTPD_VT_OBJECT) {
			load_fail(&ld, "%s: must be a group { ... }%s", "");
			break;
		}
		h->object_foreach(row, load_member, &ld);
		if (ld.failed)
			break;
		if (label_key != NULL && m->label == NULL)
			load_fail(&ld, "%s: '%s' is required", label_key);
		else if (label_key == NULL && m->category == INT64_MIN)
			load_fail(&ld, "%s: '%s' is required", "category");
		else if (m->n_techniques == 0)
			load_fail(&ld, "%s: '%s' is required", "techniques");
	}
	return ld.failed ? TTPD_EINVAL : TTPD_OK;
}

/* feodo = [ "T1071", "T1588" ]: the techniques of a listing. */
static int
load_feodo(struct intel *in, ttpd_err *err)
{
	const ttpd_value *list = in->host->config_value(in->ctx, "feodo");
	struct loader ld;
	struct table *t = &in->feodo;

	if (list == NULL)
		return TTPD_OK;
	t->owned = calloc(1, sizeof *t->owned);
	if (t->owned == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	t->v = t->owned;
	t->n = 1;
	t->owned->label = "feodo_listed";
	t->owned->multiplier = 1.0;
	t->owned->min_score = -INFINITY;
	memset(&ld, 0, sizeof ld);
	ld.h = in->host;
	ld.err = err;
	ld.where = "config feodo";
	load_techniques(&ld, list, t->owned);
	return ld.failed ? TTPD_EINVAL : TTPD_OK;
}

static void
table_free(struct table *t)
{
	free(t->owned);
	t->owned = NULL;
}

static void
intel_destroy(void *state)
{
	struct intel *in = state;

	if (in == NULL)
		return;
	table_free(&in->abuseipdb);
	table_free(&in->gn_classes);
	table_free(&in->gn_tags);
	table_free(&in->feodo);
	table_free(&in->threatfox);
	free(in);
}

static int
intel_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	struct intel *in;
	const ttpd_value *gn;
	int rc;

	if ((in = calloc(1, sizeof *in)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	in->host = host;
	in->ctx = ctx;
	in->abuseipdb.v = default_abuseipdb;
	in->abuseipdb.n = NELEM(default_abuseipdb);
	in->gn_classes.v = default_gn_classes;
	in->gn_classes.n = NELEM(default_gn_classes);
	in->gn_tags.v = default_gn_tags;
	in->gn_tags.n = NELEM(default_gn_tags);
	in->feodo.v = default_feodo;
	in->feodo.n = NELEM(default_feodo);
	in->threatfox.v = default_threatfox;
	in->threatfox.n = NELEM(default_threatfox);

	gn = host->config_value(ctx, "greynoise");
	rc = load_table(in, "abuseipdb", NULL, 0, &in->abuseipdb, err);
	if (rc == TTPD_OK && gn != NULL &&
	    host->object_size(gn) != (size_t)((host->object_get(gn,
	    "classifications") != NULL) + (host->object_get(gn, "tags") !=
	    NULL))) {
		ttpd_err_set(err, "config greynoise: only 'classifications' "
		    "and 'tags' are allowed");
		rc = TTPD_EINVAL;
	}
	if (rc == TTPD_OK)
		rc = load_table(in, "greynoise.classifications",
		    "classification", 1, &in->gn_classes, err);
	if (rc == TTPD_OK)
		rc = load_table(in, "greynoise.tags", "tag", 0, &in->gn_tags,
		    err);
	if (rc == TTPD_OK)
		rc = load_feodo(in, err);
	if (rc == TTPD_OK)
		rc = load_table(in, "threatfox", "threat_type", 0,
		    &in->threatfox, err);
	if (rc != TTPD_OK) {
		intel_destroy(in);
		return rc;
	}
	*state = in;
	return TTPD_OK;
}

/* ------------------------------------------------------------ helpers */

/* payload[a] if truthy, else payload[b] (DECNET's `a or b`). */
static const ttpd_value *
first_truthy(const ttpd_host *h, const ttpd_value *payload, const char *a,
    const char *b)
{
	const ttpd_value *v = h->object_get(payload, a);

	return py_truthy(h, v) ? v : h->object_get(payload, b);
}

static int
string_eq(const ttpd_host *h, const ttpd_value *v, const char *want)
{
	const char *s;
	size_t len;

	return h->get_string(v, &s, &len) == TTPD_OK &&
	    strlen(want) == len && memcmp(s, want, len) == 0;
}

/* Does mapping m give technique emit e (its id, or its full sub-id)? */
static int
maps_to(const struct mapping *m, const ttpd_emit *e)
{
	size_t i;

	for (i = 0; i < m->n_techniques; i++)
		if (strcmp(m->techniques[i], e->technique_id) == 0 ||
		    (e->sub_technique_id != NULL &&
		    strcmp(m->techniques[i], e->sub_technique_id) == 0))
			return 1;
	return 0;
}

/* The row of t labelled by string value v that maps to e, or NULL. */
static const struct mapping *
find_lane(const ttpd_host *h, const struct table *t, const ttpd_value *v,
    const ttpd_emit *e, int fallback)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].fallback == fallback &&
		    string_eq(h, v, t->v[i].label) && maps_to(&t->v[i], e))
			return &t->v[i];
	return NULL;
}

/* The string elements of a list, or a non-empty string as a list of
 * one; NULL (nothing to add) when that would be empty. */
static ttpd_value *
string_list(const ttpd_host *h, ttpd_sink *sink, const ttpd_value *v,
    int allow_string)
{
	ttpd_value *out;
	size_t i, n;

	if (h->value_type(v) == TTPD_VT_STRING) {
		if (!allow_string || !py_truthy(h, v))
			return NULL;
		out = h->new_array(sink);
		if (out != NULL)
			h->array_append(out, v);
		return out;
	}
	if (h->value_type(v) != TTPD_VT_ARRAY)
		return NULL;
	out = NULL;
	n = h->array_size(v);
	for (i = 0; i < n; i++) {
		const ttpd_value *el = h->array_get(v, i);

		if (h->value_type(el) != TTPD_VT_STRING)
			continue;
		if (out == NULL && (out = h->new_array(sink)) == NULL)
			return NULL;
		h->array_append(out, el);
	}
	return out;
}

/* Emit e of rule r with the rule's base evidence overlaid with extra
 * (key/value pairs, NULL values skipped). */
struct extra {
	const char *key;
	const ttpd_value *val;
};

static int
fire(struct intel *in, ttpd_sink *sink, const ttpd_rule *r, size_t ei,
    double multiplier, const struct extra *extra, size_t n_extra,
    ttpd_err *err)
{
	const ttpd_host *h = in->host;
	ttpd_value *ev = h->evidence_from_fields(sink, r);
	size_t i;
	int rc;

	if (ev == NULL) {
		ttpd_err_set(err, "out of memory building evidence");
		return TTPD_ENOMEM;
	}
	for (i = 0; i < n_extra; i++)
		if (extra[i].val != NULL &&
		    h->object_set(ev, extra[i].key, extra[i].val) != TTPD_OK) {
			ttpd_err_set(err, "cannot build evidence");
			return TTPD_EINVAL;
		}
	rc = h->emit(sink, r, ei, multiplier, ev, 0);
	if (rc < 0) {
		char msg[sizeof err->msg];

		snprintf(msg, sizeof msg, "%s: emit %zu refused by the host",
		    r->rule_id, ei);
		ttpd_err_set(err, msg);
		return rc;
	}
	return TTPD_OK;
}

/* ----------------------------------------------------------- providers */

/* R0054: every category row for a category of the event and the score. */
static int
do_abuseipdb(struct intel *in, const ttpd_event *evt, ttpd_sink *sink,
    const ttpd_rule *r, ttpd_err *err)
{
	const ttpd_host *h = in->host;
	const ttpd_value *score_v, *cats;
	const ttpd_value *truncated;
	ttpd_value *hits;
	double score;
	size_t ei, ci, mi, n;
	int rc;

	score_v = h->object_get(evt->payload, "abuseipdb_score");
	/* a boolean is not a score (get_number takes ints and reals only) */
	if (h->get_number(score_v, &score) != TTPD_OK || !isfinite(score))
		return TTPD_OK;
	cats = first_truthy(h, evt->payload, "abuseipdb_categories",
	    "categories");
	if (h->value_type(cats) != TTPD_VT_ARRAY ||
	    (n = h->array_size(cats)) == 0)
		return TTPD_OK;
	for (ei = 0; ei < r->n_emits; ei++) {
		const ttpd_emit *e = r->emits[ei];
		struct extra extra[2];

		hits = NULL;
		for (ci = 0; ci < n; ci++) {
			const ttpd_value *cv = h->array_get(cats, ci);
			int64_t cat;

			if (h->get_int(cv, &cat) != TTPD_OK)
				continue;       /* bools and reals too */
			for (mi = 0; mi < in->abuseipdb.n; mi++) {
				const struct mapping *m = &in->abuseipdb.v[mi];

				if (m->category == cat &&
				    score >= m->min_score && maps_to(m, e))
					break;
			}
			if (mi == in->abuseipdb.n)
				continue;
			if (hits == NULL &&
			    (hits = h->new_array(sink)) == NULL)
				goto nomem;
			h->array_append(hits, cv);
		}
		if (hits == NULL)
			continue;
		/* DECNET's int(score): truncated towards zero */
		if (h->value_type(score_v) == TTPD_VT_INT)
			truncated = score_v;
		else if (fabs(score) < 9.2e18)
			truncated = h->new_int(sink, (int64_t)score);
		else
			truncated = h->new_real(sink, trunc(score));
		if (truncated == NULL)
			goto nomem;
		extra[0].key = "abuseipdb_categories";
		extra[0].val = hits;
		extra[1].key = "abuse_confidence_score";
		extra[1].val = truncated;
		if ((rc = fire(in, sink, r, ei, score / 100.0, extra, 2,
		    err)) != TTPD_OK)
			return rc;
	}
	return TTPD_OK;
nomem:
	ttpd_err_set(err, "out of memory");
	return TTPD_ENOMEM;
}

/* R0055: classification lanes, then tags, then fallback classes. */
static int
do_greynoise(struct intel *in, const ttpd_event *evt, ttpd_sink *sink,
    const ttpd_rule *r, ttpd_err *err)
{
	const ttpd_host *h = in->host;
	const ttpd_value *cls, *tags;
	const struct mapping *m;
	const ttpd_value *cls_out;
	ttpd_value *signals;
	size_t ei, ti, n_tags;
	double mult;
	int rc, lane;

	cls = h->object_get(evt->payload, "greynoise_classification");
	tags = h->object_get(evt->payload, "greynoise_tags");
	n_tags = h->value_type(tags) == TTPD_VT_ARRAY ?
	    h->array_size(tags) : 0;
	for (ei = 0; ei < r->n_emits; ei++) {
		const ttpd_emit *e = r->emits[ei];
		struct extra extra[2];

		signals = NULL;
		mult = 0.0;
		for (lane = 0; lane < 3; lane++) {
			size_t n = lane == 1 ? n_tags : 1;

			if (lane == 2 && signals != NULL)
				break;  /* fallback only when untriggered */
			for (ti = 0; ti < n; ti++) {
				const ttpd_value *sig = lane == 1 ?
				    h->array_get(tags, ti) : cls;

				m = lane == 1 ?
				    find_lane(h, &in->gn_tags, sig, e, 0) :
				    find_lane(h, &in->gn_classes, sig, e,
				    lane == 2);
				if (m == NULL)
					continue;
				if (signals == NULL && (signals =
				    h->new_array(sink)) == NULL)
					goto nomem;
				h->array_append(signals, sig);
				if (m->multiplier > mult)
					mult = m->multiplier;
			}
		}
		if (signals == NULL)
			continue;
		cls_out = cls != NULL ? cls : h->new_null(sink);
		if (cls_out == NULL)
			goto nomem;
		extra[0].key = "greynoise_classification";
		extra[0].val = cls_out;
		extra[1].key = "greynoise_tags";
		extra[1].val = signals;
		if ((rc = fire(in, sink, r, ei, mult, extra, 2, err)) !=
		    TTPD_OK)
			return rc;
	}
	return TTPD_OK;
nomem:
	ttpd_err_set(err, "out of memory");
	return TTPD_ENOMEM;
}

/* R0056: a listing (feodo_listed literally true). */
static int
do_feodo(struct intel *in, const ttpd_event *evt, ttpd_sink *sink,
    const ttpd_rule *r, ttpd_err *err)
{
	const ttpd_host *h = in->host;
	const ttpd_value *family;
	ttpd_value *listed;
	size_t ei, mi;
	int b, rc;

	if (h->get_bool(h->object_get(evt->payload, "feodo_listed"), &b) !=
	    TTPD_OK || !b)
		return TTPD_OK;
	family = first_truthy(h, evt->payload, "feodo_malware_family",
	    "malware_family");
	if (h->value_type(family) != TTPD_VT_STRING || !py_truthy(h, family))
		family = NULL;
	for (ei = 0; ei < r->n_emits; ei++) {
		struct extra extra[2];

		for (mi = 0; mi < in->feodo.n; mi++)
			if (maps_to(&in->feodo.v[mi], r->emits[ei]))
				break;
		if (mi == in->feodo.n)
			continue;
		if ((listed = h->new_bool(sink, 1)) == NULL) {
			ttpd_err_set(err, "out of memory");
			return TTPD_ENOMEM;
		}
		extra[0].key = "feodo_listed";
		extra[0].val = listed;
		extra[1].key = "malware_family";
		extra[1].val = family;
		if ((rc = fire(in, sink, r, ei, in->feodo.v[mi].multiplier,
		    extra, 2, err)) != TTPD_OK)
			return rc;
	}
	return TTPD_OK;
}

/* R0057: ThreatFox threat types (ioc_type is not read, as in DECNET). */
static int
do_threatfox(struct intel *in, const ttpd_event *evt, ttpd_sink *sink,
    const ttpd_rule *r, ttpd_err *err)
{
	const ttpd_host *h = in->host;
	const ttpd_value *types;
	const struct mapping *m;
	ttpd_value *hits, *families, *iocs;
	size_t ei, ti, n;
	double mult;
	int rc;

	types = string_list(h, sink, first_truthy(h, evt->payload,
	    "threatfox_threat_types", "threat_type"), 1);
	if (types == NULL || (n = h->array_size(types)) == 0)
		return TTPD_OK;
	families = string_list(h, sink, first_truthy(h, evt->payload,
	    "threatfox_malware_families", "malware_family"), 1);
	iocs = string_list(h, sink, h->object_get(evt->payload,
	    "threatfox_ioc_types"), 0);
	for (ei = 0; ei < r->n_emits; ei++) {
		struct extra extra[3];

		hits = NULL;
		mult = 0.0;
		for (ti = 0; ti < n; ti++) {
			const ttpd_value *t = h->array_get(types, ti);

			if ((m = find_lane(h, &in->threatfox, t, r->emits[ei],
			    0)) == NULL)
				continue;
			if (hits == NULL &&
			    (hits = h->new_array(sink)) == NULL) {
				ttpd_err_set(err, "out of memory");
				return TTPD_ENOMEM;
			}
			h->array_append(hits, t);
			if (m->multiplier > mult)
				mult = m->multiplier;
		}
		if (hits == NULL)
			continue;
		extra[0].key = "threat_types";
		extra[0].val = hits;
		extra[1].key = "malware_families";
		extra[1].val = families;
		extra[2].key = "ioc_types";
		extra[2].val = iocs;
		if ((rc = fire(in, sink, r, ei, mult, extra, 3, err)) !=
		    TTPD_OK)
			return rc;
	}
	return TTPD_OK;
}

/* R0058: DECNET's aggregate bump is not implemented; never fires. */
static int
do_nothing(struct intel *in, const ttpd_event *evt, ttpd_sink *sink,
    const ttpd_rule *r, ttpd_err *err)
{
	(void)in;
	(void)evt;
	(void)sink;
	(void)r;
	(void)err;
	return TTPD_OK;
}

typedef int (*provider_fn)(struct intel *, const ttpd_event *, ttpd_sink *,
    const ttpd_rule *, ttpd_err *);

/* Dispatch by the exact match.kind; an owned rule of another kind never
 * fires. */
static const struct {
	const char *kind;
	provider_fn fn;
} providers[] = {
	{ "lifter:intel_abuseipdb", do_abuseipdb },
	{ "lifter:intel_greynoise", do_greynoise },
	{ "lifter:intel_feodo", do_feodo },
	{ "lifter:intel_threatfox", do_threatfox },
	{ "lifter:intel_aggregate_bump", do_nothing },
};

static int
intel_handle(void *state, const ttpd_event *evt, ttpd_sink *sink,
    ttpd_err *err)
{
	struct intel *in = state;
	const ttpd_rule *const *rules;
	size_t n, i, k;
	int rc;

	rules = in->host->rules_for(sink, &n);
	for (i = 0; i < n; i++) {
		const ttpd_rule *r = rules[i];

		if (r->kind == NULL)
			continue;
		for (k = 0; k < NELEM(providers); k++)
			if (strcmp(r->kind, providers[k].kind) == 0)
				break;
		if (k == NELEM(providers))
			continue;
		if ((rc = providers[k].fn(in, evt, sink, r, err)) != TTPD_OK)
			return rc;
	}
	return TTPD_OK;
}

static const char *const intel_source_kinds[] = { "intel", NULL };

static const ttpd_config_key intel_config_keys[] = {
	{ "abuseipdb", TTPD_CFG_LIST, 0,
	    "AbuseIPDB rows { category; techniques; min_score }" },
	{ "greynoise", TTPD_CFG_GROUP, 0,
	    "GreyNoise { classifications = (...); tags = (...); }" },
	{ "feodo", TTPD_CFG_LIST, 0,
	    "techniques of a Feodo Tracker listing" },
	{ "threatfox", TTPD_CFG_LIST, 0,
	    "ThreatFox rows { threat_type; techniques; multiplier }" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .name = "intel",
    .version = PACKAGE_VERSION,
    .description = "AbuseIPDB, GreyNoise, Feodo Tracker and ThreatFox "
	"verdicts (DECNET IntelLifter)",
    .source_kinds = intel_source_kinds,
    .config_keys = intel_config_keys,
    .init = intel_init,
    .handle = intel_handle,
    .destroy = intel_destroy)
