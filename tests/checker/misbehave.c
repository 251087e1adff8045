/*
 * ttpd-plugin-check fixtures: one small lifter built once per
 * misbehaviour.  FIXTURE_NAME names both the .so and the descriptor, and
 * exactly one MISBEHAVE_* macro selects the one thing it gets wrong (none:
 * the well-behaved control "good").  tests/checker/check-plugin-check.sh
 * runs the checker on each and asserts which check fails; the crash
 * fixtures also serve the crash-attribution tests of ttpd itself.
 *
 * Rules for them are in tests/checker/rules (match.kind
 * lifter:<name>_all).  The crashes are plain bugs (a NULL dereference, an
 * assertion) made deterministic.
 */
#include "config.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttpd/lifter.h"

#ifndef FIXTURE_NAME
#error "build with -DFIXTURE_NAME='\"name\"'"
#endif

#define MAX_RULES 16

struct fx {
	const ttpd_host *h;
	ttpd_ctx *ctx;
	const ttpd_rule *rules[MAX_RULES];	/* MISBEHAVE_UNDECLARED_TAGS */
	size_t nrules;
};

/*
 * A real fault, not raise(): a store through a NULL struct pointer to a
 * member at offset 8, the usual crash (and one UBSan's null check does
 * not turn into an exit under --enable-sanitizers).
 */
static void __attribute__((unused))
crash(void)
{
	volatile int *volatile p = (volatile int *)(uintptr_t)8;

	*p = 1;
}

#ifdef MISBEHAVE_CRASH_CTOR
/* Runs inside dlopen(), before the host ever calls the plugin. */
static void __attribute__((constructor))
crash_at_load(void)
{
	crash();
}
#endif

#if defined(MISBEHAVE_KIND_UNHANDLED) || defined(MISBEHAVE_CRASH_HANDLE)
static const char *const fx_kinds[] = { "command", "session", NULL };
#else
static const char *const fx_kinds[] = { "command", NULL };
#endif

#if defined(MISBEHAVE_BAD_DESCRIPTOR)
/* A config key of a type that does not exist. */
static const ttpd_config_key fx_keys[] = {
	{ "depth", 99, 0, "a key of no known type" },
	{ NULL, 0, 0, NULL }
};
#elif defined(MISBEHAVE_CFG_MISSING)
static const ttpd_config_key fx_keys[] = {
	{ "pattern", TTPD_CFG_STRING, 0, "optional, but init needs it" },
	{ NULL, 0, 0, NULL }
};
#elif defined(MISBEHAVE_CFG_UNKNOWN)
static const ttpd_config_key fx_keys[] = {
	{ "limits", TTPD_CFG_GROUP, 0, "{ max = N; }" },
	{ NULL, 0, 0, NULL }
};
#elif defined(MISBEHAVE_CFG_WRONG_TYPE)
static const ttpd_config_key fx_keys[] = {
	{ "limit", TTPD_CFG_INT, 0, "declared an int, read as a string" },
	{ NULL, 0, 0, NULL }
};
#else
#define fx_keys NULL
#endif

#ifdef MISBEHAVE_CFG_UNKNOWN
static int
only_max(void *ud, const char *key, const ttpd_value *val)
{
	(void)ud;
	(void)val;
	if (strcmp(key, "max") != 0)
		abort();	/* "cannot happen": it did */
	return 0;
}
#endif

static int
fx_init(const ttpd_host *h, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct fx *fx;
#ifdef MISBEHAVE_INIT_TWICE
	static int initialised;	/* never reset by destroy() */

	if (initialised) {
		ttpd_err_set(err, "already initialised");
		return TTPD_EINVAL;
	}
	initialised = 1;
#endif
#ifdef MISBEHAVE_CRASH_INIT
	crash();
#endif
#ifdef MISBEHAVE_CFG_MISSING
	{
		const char *pattern = NULL;

		h->config_string(ctx, "pattern", &pattern);
		if (strlen(pattern) == 0) {	/* NULL when absent */
			ttpd_err_set(err, "empty pattern");
			return TTPD_EINVAL;
		}
	}
#endif
#ifdef MISBEHAVE_CFG_UNKNOWN
	h->object_foreach(h->config_value(ctx, "limits"), only_max, NULL);
#endif
#ifdef MISBEHAVE_CFG_WRONG_TYPE
	if (h->config_value(ctx, "limit") != NULL) {
		const char *s = NULL;

		h->config_string(ctx, "limit", &s);	/* TTPD_EINVAL */
		if (strlen(s) > 10) {
			ttpd_err_set(err, "limit too long");
			return TTPD_EINVAL;
		}
	}
#endif
	if ((fx = calloc(1, sizeof *fx)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	fx->h = h;
	fx->ctx = ctx;
	*state = fx;
	(void)err;
	return TTPD_OK;
}

static int
fx_rule_prepare(void *state, const ttpd_rule *rule, void **prepared,
    ttpd_err *err)
{
	struct fx *fx = state;

	*prepared = NULL;
#ifdef MISBEHAVE_RULE_REJECT
	(void)fx;
	ttpd_err_set(err, "rejects every rule");
	return TTPD_EINVAL;
#else
	if (fx->nrules < MAX_RULES)
		fx->rules[fx->nrules++] = rule;
	(void)err;
	return TTPD_OK;
#endif
}

static void
fx_rule_release(void *state, const ttpd_rule *rule, void *prepared)
{
	struct fx *fx = state;
	size_t i;

	(void)prepared;
	for (i = 0; i < fx->nrules; i++)
		if (fx->rules[i] == rule) {
			fx->rules[i] = fx->rules[--fx->nrules];
			break;
		}
}

#ifdef MISBEHAVE_SLOW
/* Burn CPU time of our own: the checker measures CPU, not wall time. */
static void
burn_ms(long ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000L +
	    (t.tv_nsec - t0.tv_nsec) / 1000000L < ms);
}
#endif

static int
fx_handle(void *state, const ttpd_event *ev, ttpd_sink *sink, ttpd_err *err)
{
	struct fx *fx = state;
	const ttpd_host *h = fx->h;
	const ttpd_value *text = h->object_get(ev->payload, "command_text");
	const ttpd_rule *const *rules;
	const char *s = NULL;
	size_t n, i, len = 0;
	int have_text;

	have_text = h->get_string(text, &s, &len) == TTPD_OK;
#ifdef MISBEHAVE_KIND_UNHANDLED
	if (strcmp(ev->source_kind, "session") == 0) {
		ttpd_err_set(err, "session events are not supported yet");
		return TTPD_EINVAL;
	}
#endif
#ifdef MISBEHAVE_CRASH_HANDLE
	if (have_text && strstr(s, "crash-me") != NULL)
		crash();
#endif
#ifdef MISBEHAVE_CRASH_MALFORMED
	/* assumes some member is a string whenever there are members */
	if (h->object_size(ev->payload) > 0) {
		struct { int seen; } any = { 0 };
		const char *k[] = { "command_text", "user", "id" };

		for (i = 0; i < 3; i++)
			if (h->value_type(h->object_get(ev->payload, k[i])) ==
			    TTPD_VT_STRING)
				any.seen = 1;
		if (!any.seen)
			crash();
	}
#endif
#ifdef MISBEHAVE_CRASH_TRUNCATED
	if (have_text && len == 0)
		abort();	/* assert(len > 0) */
#endif
#ifdef MISBEHAVE_CRASH_HUGE
	if (have_text) {
		char copy[65536];

		if (len >= sizeof copy)
			abort();	/* what a stack protector would do */
		memcpy(copy, s, len);
	}
#endif
#ifdef MISBEHAVE_CRASH_WRONG_TYPE
	if (h->value_type(text) == TTPD_VT_INT ||
	    h->value_type(text) == TTPD_VT_REAL) {
		const char *t = NULL;

		h->get_string(text, &t, NULL);
		if (strlen(t) > 0)	/* t is NULL: not a string */
			return TTPD_OK;
	}
#endif
#ifdef MISBEHAVE_CRASH_UTF8
	if (have_text && strlen(s) != len)
		abort();	/* assert(no NUL inside) */
#endif
#ifdef MISBEHAVE_ERR_UNTERMINATED
	if (!have_text) {
		memset(err->msg, 'x', sizeof err->msg);	/* no NUL */
		return TTPD_EINVAL;
	}
#endif
#ifdef MISBEHAVE_SLOW
	if (have_text && strstr(s, "wget") != NULL)
		burn_ms(60);
#endif
	if (!have_text || strstr(s, "wget") == NULL)
		return TTPD_OK;
#ifdef MISBEHAVE_UNDECLARED_TAGS
	/* every rule it was given, whatever the event's kind */
	(void)rules;
	(void)n;
	for (i = 0; i < fx->nrules; i++)
		h->emit(sink, fx->rules[i], TTPD_EMIT_ALL, 1.0,
		    h->evidence_from_fields(sink, fx->rules[i]), 0);
#else
	rules = h->rules_for(sink, &n);
	for (i = 0; i < n; i++)
		h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0,
		    h->evidence_from_fields(sink, rules[i]), 0);
#endif
	(void)err;
	return TTPD_OK;
}

static void
fx_destroy(void *state)
{
	free(state);
}

TTPD_LIFTER_DEFINE(
    .name = FIXTURE_NAME,
    .version = "1.0",
    .description = "ttpd-plugin-check fixture",
    .source_kinds = fx_kinds,
    .config_keys = fx_keys,
    .init = fx_init,
    .rule_prepare = fx_rule_prepare,
    .rule_release = fx_rule_release,
    .handle = fx_handle,
    .destroy = fx_destroy)
