/*
 * Host API test fixture "other": shares the "command" kind with the probe
 * and always emits one tag (the first rule rules_for() returns, emits
 * entry 0), so tests can see that another lifter's failure costs it
 * nothing and that plugins run in load order.  No rule_kinds: it owns
 * the default "lifter:other_*".  No rule_prepare, no config keys.
 */
#include "config.h"

#include <stdlib.h>

#include "ttpd/lifter.h"

struct other {
	const ttpd_host *h;
};

static const char *const other_kinds[] = { "command", NULL };

static int
other_init(const ttpd_host *host, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct other *o = calloc(1, sizeof *o);

	(void)ctx;
	if (o == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	o->h = host;
	*state = o;
	return TTPD_OK;
}

static int
other_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct other *o = state;
	const ttpd_rule *const *rules;
	size_t n;
	int rc;

	(void)ev;
	rules = o->h->rules_for(sink, &n);
	if (n == 0)
		return TTPD_SKIP;
	rc = o->h->emit(sink, rules[0], 0, 1.0, NULL, 0);
	if (rc < 0)
		ttpd_err_set(err, "emit failed");
	return rc;
}

static void
other_destroy(void *state)
{
	free(state);
}

TTPD_LIFTER_DEFINE(
    .name = "other",
    .version = "1.0",
    .description = "host API test fixture that always emits one tag",
    .source_kinds = other_kinds,
    .init = other_init,
    .handle = other_handle,
    .destroy = other_destroy);
