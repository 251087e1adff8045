/*
 * Host API test fixture "generic": the F_GENERIC_RULES owner, so it gets
 * every rule whose match.kind is absent or not "lifter:...".  Its
 * rule_kinds compete with the probe's "lifter:probe_*": an exact entry,
 * a longer prefix and a shorter one (registry_rule_owner() tests).  It
 * emits every entry of every rule rules_for() returns.
 */
#include "config.h"

#include <stdlib.h>

#include "ttpd/lifter.h"

struct generic {
	const ttpd_host *h;
};

static const char *const generic_kinds[] = { "session", NULL };
static const char *const generic_rule_kinds[] = {
	"lifter:pro*",		/* shorter than the probe's prefix */
	"lifter:probe_exact",	/* exact: beats the probe's prefix */
	"lifter:probe_long_*",	/* longer than the probe's prefix */
	NULL
};

static int
generic_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	struct generic *g = calloc(1, sizeof *g);

	(void)ctx;
	if (g == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	g->h = host;
	*state = g;
	return TTPD_OK;
}

static int
generic_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct generic *g = state;
	const ttpd_rule *const *rules;
	size_t n, i;
	int rc;

	(void)ev;
	rules = g->h->rules_for(sink, &n);
	for (i = 0; i < n; i++)
		if ((rc = g->h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0, NULL,
		    0)) < 0) {
			ttpd_err_set(err, "emit failed");
			return rc;
		}
	return TTPD_OK;
}

static void
generic_destroy(void *state)
{
	free(state);
}

TTPD_LIFTER_DEFINE(
    .flags = TTPD_LIFTER_F_GENERIC_RULES,
    .name = "generic",
    .version = "1.0",
    .description = "host API test fixture owning the generic rules",
    .source_kinds = generic_kinds,
    .rule_kinds = generic_rule_kinds,
    .init = generic_init,
    .handle = generic_handle,
    .destroy = generic_destroy);
