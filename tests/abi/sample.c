/*
 * The ABI sample lifter: compiled against each frozen SDK header
 * (tests/abi/<version>/ttpd/lifter.h, chosen by the include path), then
 * loaded into the current host by check_abi.c.  It touches every kind of
 * host service a 1.0 lifter can use, so a host that moved one would make
 * it misbehave: config, value readers and builders, rules_for, emit.
 *
 * On a command event whose command_text contains "abi" it emits every
 * rule it is given with evidence {"seen": <command_text>, "limit": <its
 * config limit>, "abi": "<major>.<minor> built"}.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttpd/lifter.h"

struct sample {
	const ttpd_host *h;
	int64_t limit;
};

static int
sample_init(const ttpd_host *h, ttpd_ctx *ctx, void **state, ttpd_err *err)
{
	struct sample *s;

	if (!TTPD_HAS(h, now_ns)) {
		ttpd_err_set(err, "host table smaller than ABI 1.0");
		return TTPD_EINVAL;
	}
	if ((s = calloc(1, sizeof *s)) == NULL) {
		ttpd_err_set(err, "out of memory");
		return TTPD_ENOMEM;
	}
	s->h = h;
	s->limit = 7;
	if (h->config_int(ctx, "limit", &s->limit) == TTPD_EINVAL) {
		free(s);
		ttpd_err_set(err, "limit must be an integer");
		return TTPD_EINVAL;
	}
	*state = s;
	return TTPD_OK;
}

static int
sample_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	struct sample *s = state;
	const ttpd_host *h = s->h;
	const ttpd_rule *const *rules;
	const char *text;
	size_t len, n, i;
	char built[32];

	if (h->get_string(h->object_get(ev->payload, "command_text"), &text,
	    &len) != TTPD_OK || strstr(text, "abi") == NULL)
		return TTPD_OK;
	snprintf(built, sizeof built, "%d.%d built", TTPD_ABI_MAJOR,
	    TTPD_ABI_MINOR);
	rules = h->rules_for(sink, &n);
	for (i = 0; i < n; i++) {
		ttpd_value *evidence = h->new_object(sink);

		if (h->object_set(evidence, "seen",
		    h->new_string(sink, text, len)) != TTPD_OK ||
		    h->object_set(evidence, "limit",
		    h->new_int(sink, s->limit)) != TTPD_OK ||
		    h->object_set(evidence, "abi", h->new_string(sink, built,
		    strlen(built))) != TTPD_OK) {
			ttpd_err_set(err, "building evidence failed");
			return TTPD_EINVAL;
		}
		if (h->emit(sink, rules[i], TTPD_EMIT_ALL, 1.0, evidence, 0) <
		    0) {
			ttpd_err_set(err, "emit refused");
			return TTPD_EINVAL;
		}
	}
	return TTPD_OK;
}

static void
sample_destroy(void *state)
{
	free(state);
}

static const char *const sample_kinds[] = { "command", NULL };
static const ttpd_config_key sample_keys[] = {
	{ "limit", TTPD_CFG_INT, 0, "an integer echoed into the evidence" },
	{ NULL, 0, 0, NULL }
};

TTPD_LIFTER_DEFINE(
    .name = "abi_sample",
    .version = "1.0",
    .description = "ABI compatibility sample",
    .source_kinds = sample_kinds,
    .config_keys = sample_keys,
    .init = sample_init,
    .handle = sample_handle,
    .destroy = sample_destroy)
