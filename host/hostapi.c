/*
 * The host side of the SDK: the service table handed to every plugin, the
 * instance context, and the sink in which one handle() call's tags are
 * assembled with the invariants of DESIGN.md "Tag identity".
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crash.h"
#include "hostapi.h"
#include "json.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"

struct ttpd_sink {
	struct ttpd_ctx *ctx;
	const ttpd_event *ev;
	const struct tag_settings *ts;
	int64_t now_ns;
	struct tag_list *out;
	char created_at[TAG_TIME_LEN + 1];
	/* values made by new_*(), released when handle() returns */
	ttpd_value **vals;
	size_t nvals, capvals;
	/* rules_for() answer: rules, or the bucket's own list */
	const ttpd_rule *const *answer;
	const ttpd_rule **rules;
	size_t nrules, caprules;
	size_t rule_cursor;	/* where owned_rule() looks first */
	/* the event's strings as tags copy them, measured at the first
	 * emit() of the event (ev_strs_ready) */
	struct tag_str {
		const char *s;	/* NULL: SQL NULL */
		size_t n;
	} kind, id, attacker, identity, session, decky, release;
	int ev_strs_ready;
	/*
	 * The evidence last serialised in this handle() call and its text:
	 * an engine hands one object to every rule of an event that fires,
	 * and while no value changed since (jv_changes()) it serialises to
	 * the same text.  Nor can the pointer name another object by then:
	 * the plugin's values live until handle() returns, the event's and
	 * the config's longer, and a value freed sooner was replaced by a
	 * change.  Forgotten at each handle().
	 */
	const ttpd_value *dumped;
	uint64_t dumped_changes;
	char *dump;
	size_t dump_len, dump_cap;
};

/* A rule of the plugin by the address of its public part. */
struct owned_rule {
	uintptr_t pub;
	struct rule *rule;
};

struct ttpd_ctx {
	struct plugin *plugin;
	ttpd_value *config;  /* the plugin's config group, or NULL */
	struct ttpd_sink sink; /* reused: calls are serialised per instance */
	struct log_ratelimit errlog;
	/*
	 * The plugin's rules sorted by address, so that emit() finds a
	 * rule without a walk and without trusting the pointer; made again
	 * when the plugin's list may have changed (another generation, or
	 * another list or length: attaching a rule no bucket takes does not
	 * bump the generation).
	 */
	struct owned_rule *owned;
	size_t nowned, capowned;
	unsigned long owned_gen;
	struct rule *const *owned_list;
	size_t owned_n;
	int owned_ready;
};

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- logging and config ------------------------------------------------- */

static void
h_log(ttpd_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	if (level > log_level())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt != NULL ? fmt : "(null)", ap);
	va_end(ap);
	if (level < TTPD_LOG_ERR)
		level = TTPD_LOG_ERR;
	if (level > TTPD_LOG_DEBUG)
		level = TTPD_LOG_DEBUG;
	log_msg(level, "plugin %s: %s",
	    ctx != NULL && ctx->plugin != NULL ? ctx->plugin->name : "?", buf);
}

/* Walk a dotted key inside the config group. */
static const ttpd_value *
config_lookup(ttpd_ctx *ctx, const char *key)
{
	const ttpd_value *v;
	char part[256];

	if (ctx == NULL || ctx->config == NULL || key == NULL)
		return NULL;
	v = ctx->config;
	while (*key != '\0') {
		const char *dot = strchr(key, '.');
		size_t n = dot != NULL ? (size_t)(dot - key) : strlen(key);

		/* empty parts (".a", "a..b", "a.") name nothing */
		if (n == 0 || n >= sizeof part ||
		    (dot != NULL && dot[1] == '\0'))
			return NULL;
		memcpy(part, key, n);
		part[n] = '\0';
		v = jv_object_get(v, part);
		if (v == NULL)
			return NULL;
		key += n + (dot != NULL);
	}
	return v;
}

static int
h_config_string(ttpd_ctx *ctx, const char *key, const char **out)
{
	const ttpd_value *v = config_lookup(ctx, key);

	if (v == NULL)
		return TTPD_SKIP;
	if (out == NULL || jv_type(v) != TTPD_VT_STRING)
		return TTPD_EINVAL;
	*out = jv_string(v);
	return TTPD_OK;
}

static int
h_config_int(ttpd_ctx *ctx, const char *key, int64_t *out)
{
	const ttpd_value *v = config_lookup(ctx, key);

	if (v == NULL)
		return TTPD_SKIP;
	return out == NULL ? TTPD_EINVAL : jv_get_int(v, out);
}

static int
h_config_real(ttpd_ctx *ctx, const char *key, double *out)
{
	const ttpd_value *v = config_lookup(ctx, key);

	if (v == NULL)
		return TTPD_SKIP;
	return out == NULL ? TTPD_EINVAL : jv_get_number(v, out);
}

static int
h_config_bool(ttpd_ctx *ctx, const char *key, int *out)
{
	const ttpd_value *v = config_lookup(ctx, key);

	if (v == NULL)
		return TTPD_SKIP;
	return out == NULL ? TTPD_EINVAL : jv_get_bool(v, out);
}

static const ttpd_value *
h_config_value(ttpd_ctx *ctx, const char *key)
{
	if (key == NULL || *key == '\0')
		return ctx != NULL ? ctx->config : NULL;
	return config_lookup(ctx, key);
}

/* --- building values ----------------------------------------------------- */

static ttpd_value *
sink_keep(ttpd_sink *sink, ttpd_value *v)
{
	if (sink == NULL || v == NULL) {
		jv_decref(v);
		return NULL;
	}
	if (sink->nvals == sink->capvals) {
		sink->capvals = sink->capvals == 0 ? 16 : sink->capvals * 2;
		sink->vals = xreallocarray(sink->vals, sink->capvals,
		    sizeof *sink->vals);
	}
	sink->vals[sink->nvals++] = v;
	return v;
}

static ttpd_value *
h_new_object(ttpd_sink *sink)
{
	return sink_keep(sink, jv_new_object());
}

static ttpd_value *
h_new_array(ttpd_sink *sink)
{
	return sink_keep(sink, jv_new_array());
}

static ttpd_value *
h_new_string(ttpd_sink *sink, const char *s, size_t len)
{
	return sink_keep(sink, jv_new_string(s, len));
}

static ttpd_value *
h_new_int(ttpd_sink *sink, int64_t i)
{
	return sink_keep(sink, jv_new_int(i));
}

static ttpd_value *
h_new_real(ttpd_sink *sink, double d)
{
	return sink_keep(sink, jv_new_real(d));
}

static ttpd_value *
h_new_bool(ttpd_sink *sink, int b)
{
	return sink_keep(sink, jv_new_bool(b));
}

static ttpd_value *
h_new_null(ttpd_sink *sink)
{
	return sink_keep(sink, jv_new_null());
}

/* --- rules and tags ------------------------------------------------------ */

/* A bucket's rule list and whether a rule of it is disabled, read again
 * after rules or states changed (rarely: reload, ttpctl). */
static void
refresh_bucket(struct kind_rules *b)
{
	size_t i;

	b->pubs = xreallocarray(b->pubs, b->n > 0 ? b->n : 1,
	    sizeof *b->pubs);
	b->any_disabled = 0;
	for (i = 0; i < b->n; i++) {
		b->pubs[i] = &b->v[i]->pub;
		if (b->v[i]->state.state == RULE_STATE_DISABLED)
			b->any_disabled = 1;
	}
	b->gen = rules_generation();
}

static const ttpd_rule *const *
h_rules_for(ttpd_sink *sink, size_t *n)
{
	struct plugin *p;
	size_t i, k;

	if (n != NULL)
		*n = 0;
	if (sink == NULL || n == NULL)
		return NULL;
	p = sink->ctx->plugin;
	sink->nrules = 0;
	sink->rule_cursor = 0;
	sink->answer = (const ttpd_rule *const *)sink->rules;
	for (k = 0; k < p->nby_kind; k++) {
		struct kind_rules *b = &p->by_kind[k];

		if (strcmp(b->kind, sink->ev->source_kind) != 0)
			continue;
		if (b->gen != rules_generation())
			refresh_bucket(b);
		if (!b->any_disabled) {
			/* the usual case: every rule, no copy, no state read */
			sink->answer = b->pubs;
			sink->nrules = b->n;
			break;
		}
		if (b->n > sink->caprules) {
			sink->caprules = b->n;
			sink->rules = xreallocarray(sink->rules, b->n,
			    sizeof *sink->rules);
		}
		/* an expired disabled state does not gate */
		for (i = 0; i < b->n; i++)
			if (b->v[i]->state.state != RULE_STATE_DISABLED ||
			    rule_state_effective(&b->v[i]->state,
			    sink->now_ns) != RULE_STATE_DISABLED)
				sink->rules[sink->nrules++] = &b->v[i]->pub;
		/* sink->rules may have moved */
		sink->answer = (const ttpd_rule *const *)sink->rules;
		break;
	}
	*n = sink->nrules;
	return sink->answer;
}

static ttpd_value *
h_evidence_from_fields(ttpd_sink *sink, const ttpd_rule *rule)
{
	ttpd_value *ev;
	size_t i;

	if (sink == NULL || rule == NULL)
		return NULL;
	ev = h_new_object(sink);
	if (ev == NULL)
		return NULL;
	for (i = 0; i < rule->n_evidence_fields; i++) {
		const char *f = rule->evidence_fields[i];
		const ttpd_value *v = jv_object_get(sink->ev->payload, f);

		if (v != NULL)
			jv_object_set(ev, f, v);
	}
	return ev;
}

static int
cmp_owned(const void *a, const void *b)
{
	uintptr_t x = ((const struct owned_rule *)a)->pub;
	uintptr_t y = ((const struct owned_rule *)b)->pub;

	return x < y ? -1 : x > y;
}

static struct owned_rule *
find_owned(ttpd_ctx *ctx, uintptr_t key)
{
	size_t lo = 0, hi = ctx->nowned;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ctx->owned[mid].pub < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ctx->nowned && ctx->owned[lo].pub == key ?
	    &ctx->owned[lo] : NULL;
}

static void
index_owned(ttpd_ctx *ctx)
{
	struct plugin *p = ctx->plugin;
	size_t i;

	if (p->nrules > ctx->capowned) {
		ctx->capowned = p->nrules;
		ctx->owned = xreallocarray(ctx->owned, ctx->capowned,
		    sizeof *ctx->owned);
	}
	for (i = 0; i < p->nrules; i++) {
		ctx->owned[i].pub = (uintptr_t)&p->rules[i]->pub;
		ctx->owned[i].rule = p->rules[i];
	}
	ctx->nowned = p->nrules;
	if (ctx->nowned > 1)
		qsort(ctx->owned, ctx->nowned, sizeof *ctx->owned, cmp_owned);
	ctx->owned_gen = rules_generation();
	ctx->owned_list = p->rules;
	ctx->owned_n = p->nrules;
	ctx->owned_ready = 1;
}

/*
 * Is `rule` one this sink's plugin owns? (guards against stray pointers
 * from a confused plugin without trusting them)  *in_answer: it is the
 * rules_for() answer's next rule, so it applies to the event's kind.
 */
static struct rule *
owned_rule(ttpd_sink *sink, const ttpd_rule *pub, int *in_answer)
{
	ttpd_ctx *ctx = sink->ctx;
	struct plugin *p = ctx->plugin;
	struct owned_rule *o;

	/* a plugin that emits the answer's rules in turn */
	*in_answer = sink->rule_cursor < sink->nrules &&
	    sink->answer[sink->rule_cursor] == pub;
	if (*in_answer) {
		sink->rule_cursor++;
		return (struct rule *)(void *)((char *)(uintptr_t)pub -
		    offsetof(struct rule, pub));
	}
	if (!ctx->owned_ready || ctx->owned_gen != rules_generation() ||
	    ctx->owned_list != p->rules || ctx->owned_n != p->nrules)
		index_owned(ctx);
	if ((o = find_owned(ctx, (uintptr_t)pub)) == NULL)
		return NULL;
	return o->rule;
}

static int
rule_applies(const struct rule *r, const char *kind)
{
	size_t i;

	for (i = 0; i < r->pub.n_applies_to; i++)
		if (strcmp(r->pub.applies_to[i], kind) == 0)
			return 1;
	return 0;
}

static void
measure(struct tag_str *ts, const char *s)
{
	ts->s = s;
	ts->n = s != NULL ? strlen(s) : 0;
}

/* Room a string takes in a tag's block. */
static size_t
room(const struct tag_str *ts)
{
	return ts->s != NULL ? ts->n + 1 : 0;
}

/* Copy a string into the block at *at; where it went (NULL for NULL). */
static char *
put(char **at, const struct tag_str *ts)
{
	char *d = *at;

	if (ts->s == NULL)
		return NULL;
	memcpy(d, ts->s, ts->n);
	d[ts->n] = '\0';
	*at = d + ts->n + 1;
	return d;
}

/* The evidence's text (in *out), serialised again only when it may
 * differ from the last one (see struct ttpd_sink); NULL when it cannot
 * be serialised. */
static const struct tag_str *
evidence_text(ttpd_sink *sink, const ttpd_value *evidence,
    struct tag_str *out)
{
	if (evidence == NULL) {
		out->s = "{}";
		out->n = 2;
		return out;
	}
	if (evidence != sink->dumped || jv_changes() != sink->dumped_changes) {
		sink->dumped = NULL;
		if (jv_dump_into(evidence, &sink->dump, &sink->dump_cap,
		    &sink->dump_len) != 0)
			return NULL;
		sink->dumped = evidence;
		sink->dumped_changes = jv_changes();
	}
	out->s = sink->dump;
	out->n = sink->dump_len;
	return out;
}

static int
h_emit(ttpd_sink *sink, const ttpd_rule *pub, size_t emit_index,
    double multiplier, const ttpd_value *evidence, unsigned flags)
{
	const ttpd_event *ev;
	struct plugin *p;
	struct rule *r;
	size_t first, last, i;
	const struct tag_str *evtext, *attacker;
	struct tag_str evbuf, rule_id, none = { NULL, 0 };
	int in_answer;

	if (sink == NULL || pub == NULL || !isfinite(multiplier))
		return TTPD_EINVAL;
	if (evidence != NULL && jv_type(evidence) != TTPD_VT_OBJECT)
		return TTPD_EINVAL;
	if ((r = owned_rule(sink, pub, &in_answer)) == NULL)
		return TTPD_EINVAL;
	if (!in_answer && !rule_applies(r, sink->ev->source_kind))
		return TTPD_EINVAL; /* DECNET never tags outside applies_to */
	if (emit_index == TTPD_EMIT_ALL) {
		first = 0;
		last = r->pub.n_emits;
	} else if (emit_index < r->pub.n_emits) {
		first = emit_index;
		last = emit_index + 1;
	} else
		return TTPD_EINVAL;
	p = sink->ctx->plugin;
	if (rule_state_effective(&r->state, sink->now_ns) ==
	    RULE_STATE_DISABLED) {
		p->counters.gated++;
		return TTPD_SKIP;
	}
	ev = sink->ev;
	if (!sink->ev_strs_ready) {
		measure(&sink->kind, ev->source_kind);
		measure(&sink->id, ev->source_id);
		measure(&sink->attacker, ev->attacker_uuid);
		measure(&sink->identity, ev->identity_uuid);
		measure(&sink->session, ev->session_id);
		measure(&sink->decky, ev->decky_id);
		measure(&sink->release, sink->ts->attack_release);
		sink->ev_strs_ready = 1;
	}
	attacker = (flags & TTPD_EMIT_IDENTITY_ONLY) ? &none : &sink->attacker;
	if (attacker->s == NULL && ev->identity_uuid == NULL)
		return TTPD_SKIP; /* no anchor: DECNET refuses such a tag */
	if ((evtext = evidence_text(sink, evidence, &evbuf)) == NULL)
		return TTPD_EINVAL; /* unserialisable (cycle) */
	if (sink->created_at[0] == '\0')
		tag_format_time(sink->now_ns, sink->created_at);
	measure(&rule_id, r->pub.rule_id);
	for (i = first; i < last; i++) {
		const ttpd_emit *em = r->pub.emits[i];
		const char *sub_id = em->sub_technique_id != NULL &&
		    em->sub_technique_id[0] != '\0' ? em->sub_technique_id :
		    NULL;
		struct tag *t = tag_list_push(sink->out);
		struct tag_str tactic, technique, sub, url;
		char urlbuf[TAG_MITRE_URL_SIZE], *at;

		measure(&tactic, em->tactic);
		measure(&technique, em->technique_id);
		measure(&sub, sub_id);
		url.n = tag_mitre_url_into(em->technique_id, sub_id, urlbuf);
		url.s = url.n > 0 ? urlbuf : NULL;
		tag_uuid(ev->source_kind, ev->source_id, r->pub.rule_id,
		    r->pub.rule_version, em->technique_id, sub_id, t->uuid);
		/* one allocation for every string of the tag */
		at = t->strings = xmalloc(room(&sink->kind) + room(&sink->id) +
		    room(attacker) + room(&sink->identity) +
		    room(&sink->session) + room(&sink->decky) + room(&tactic) +
		    room(&technique) + room(&sub) + room(&rule_id) +
		    room(evtext) + room(&sink->release) + room(&url));
		t->source_kind = put(&at, &sink->kind);
		t->source_id = put(&at, &sink->id);
		t->attacker_uuid = put(&at, attacker);
		t->identity_uuid = put(&at, &sink->identity);
		t->session_id = put(&at, &sink->session);
		t->decky_id = put(&at, &sink->decky);
		t->tactic = put(&at, &tactic);
		t->technique_id = put(&at, &technique);
		t->sub_technique_id = put(&at, &sub);
		t->confidence = tag_confidence(em->confidence, multiplier,
		    &r->state, sink->now_ns);
		t->rule_id = put(&at, &rule_id);
		t->rule_version = r->pub.rule_version;
		t->evidence = put(&at, evtext);
		t->attack_release = put(&at, &sink->release);
		t->mitre_url = put(&at, &url);
		memcpy(t->created_at, sink->created_at, sizeof t->created_at);
	}
	return TTPD_OK;
}

static int64_t
h_now_ns(ttpd_ctx *ctx)
{
	(void)ctx;
	return tag_now_ns();
}

static const ttpd_host host_table = {
	.size = sizeof(ttpd_host),
	.abi_major = TTPD_ABI_MAJOR,
	.abi_minor = TTPD_ABI_MINOR,
	.log = h_log,
	.config_string = h_config_string,
	.config_int = h_config_int,
	.config_real = h_config_real,
	.config_bool = h_config_bool,
	.config_value = h_config_value,
	.value_type = jv_type,
	.object_get = jv_object_get,
	.pointer_get = jv_pointer_get,
	.get_string = jv_get_string,
	.get_int = jv_get_int,
	.get_number = jv_get_number,
	.get_bool = jv_get_bool,
	.array_size = jv_array_size,
	.array_get = jv_array_get,
	.object_size = jv_object_size,
	.object_foreach = jv_object_foreach,
	.new_object = h_new_object,
	.new_array = h_new_array,
	.new_string = h_new_string,
	.new_int = h_new_int,
	.new_real = h_new_real,
	.new_bool = h_new_bool,
	.new_null = h_new_null,
	.object_set = jv_object_set,
	.array_append = jv_array_append,
	.rules_for = h_rules_for,
	.evidence_from_fields = h_evidence_from_fields,
	.emit = h_emit,
	.now_ns = h_now_ns,
};

/* --- error buffers ------------------------------------------------------ */

static int err_fill;	/* 0: a plugin that writes nothing left "" */
static unsigned long n_unterminated, n_unset;

void
hostapi_set_err_fill(int byte)
{
	err_fill = byte & 0xff;
}

void
hostapi_err_prepare(ttpd_err *err)
{
	memset(err->msg, err_fill, sizeof err->msg);
}

int
hostapi_err_finish(ttpd_err *err, int failed)
{
	size_t i;

	if (memchr(err->msg, '\0', sizeof err->msg) != NULL)
		return 0;
	/* Never trust an unterminated message; tell the untouched buffer
	 * apart from a written one for ttpd-plugin-check. */
	for (i = 0; i < sizeof err->msg; i++)
		if ((unsigned char)err->msg[i] != err_fill)
			break;
	if (i == sizeof err->msg) {
		if (failed)
			n_unset++;
		err->msg[0] = '\0';
		return 1;
	}
	n_unterminated++;
	err->msg[sizeof err->msg - 1] = '\0';
	return -1;
}

void
hostapi_err_counts(unsigned long *unterminated, unsigned long *unset)
{
	if (unterminated != NULL)
		*unterminated = n_unterminated;
	if (unset != NULL)
		*unset = n_unset;
}

const ttpd_host *
hostapi_table(void)
{
	return &host_table;
}

ttpd_ctx *
hostapi_ctx_new(struct plugin *p, const ttpd_value *config)
{
	ttpd_ctx *ctx = xcalloc(1, sizeof *ctx);
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(60, 5);

	ctx->plugin = p;
	ctx->config = (ttpd_value *)(uintptr_t)config;
	jv_incref(config);
	ctx->sink.ctx = ctx;
	ctx->errlog = rl;
	return ctx;
}

void
hostapi_ctx_free(ttpd_ctx *ctx)
{
	if (ctx == NULL)
		return;
	jv_decref(ctx->config);
	free(ctx->sink.vals);
	free(ctx->sink.rules);
	free(ctx->sink.dump);
	free(ctx->owned);
	free(ctx);
}

/* The last handle() message of this thread, for ttpd-plugin-check. */
static _Thread_local char last_err[sizeof(((ttpd_err *)0)->msg)];
static _Thread_local int last_err_state;

const char *
hostapi_last_handle_error(int *state)
{
	if (state != NULL)
		*state = last_err_state;
	return last_err;
}

int
hostapi_run(struct plugin *p, const ttpd_event *ev,
    const struct tag_settings *ts, int64_t now_ns, struct tag_list *out)
{
	ttpd_sink *sink = &p->ctx->sink;
	size_t start = out->n, i;
	struct crash_scope cs;
	ttpd_err err;
	int64_t t0;
	int rc;

	sink->ev = ev;
	sink->ts = ts;
	sink->now_ns = now_ns != 0 ? now_ns : tag_now_ns();
	sink->out = out;
	sink->created_at[0] = '\0';
	sink->nvals = 0;
	sink->nrules = 0;
	sink->answer = NULL;
	sink->rule_cursor = 0;
	sink->ev_strs_ready = 0;
	sink->dumped = NULL;
	hostapi_err_prepare(&err);

	crash_enter(&cs, p->name, p->path, "handle", ev->source_kind);
	t0 = mono_ns();
	rc = p->desc->handle(p->state, ev, sink, &err);
	p->counters.ns_spent += (uint64_t)(mono_ns() - t0);
	crash_leave(&cs);
	last_err_state = hostapi_err_finish(&err, rc < 0);
	if (rc < 0)	/* only errors are asked for; keep the hot path cheap */
		memcpy(last_err, err.msg, sizeof last_err);
	else
		last_err[0] = '\0';
	p->counters.events++;

	for (i = 0; i < sink->nvals; i++)
		jv_decref(sink->vals[i]);
	sink->nvals = 0;
	sink->ev = NULL;
	sink->out = NULL;

	if (rc < 0) {
		tag_list_truncate(out, start);
		p->counters.errors++;
		log_limited(&p->ctx->errlog, TTPD_LOG_WARNING,
		    "plugin %s: %s event %s: error %d: %s; its tags for this "
		    "event are dropped", p->name, ev->source_kind,
		    ev->source_id, rc, err.msg[0] != '\0' ? err.msg :
		    "(no message)");
		if (rc == TTPD_EFATAL && !p->disabled) {
			p->disabled = 1;
			log_err("plugin %s (%s): fatal error; the plugin is "
			    "disabled until ttpd restarts", p->name, p->path);
		}
		return rc;
	}
	p->counters.tags += out->n - start;
	return rc;
}
