/*
 * Emitting a rule's tags, with the error message the in-tree lifters all
 * give when the host refuses them: compiled into each plugin, not part of
 * the SDK.
 */
#ifndef TTPD_PLUGINS_EMIT_H
#define TTPD_PLUGINS_EMIT_H

#include <stdio.h>

#include <ttpd/lifter.h>

/* Every emit of `rule` at full confidence; a refusal (< 0) is returned
 * with "rule ID: the host refused the tag (rc)" in err. */
static inline int
emit_rule(const ttpd_host *h, ttpd_sink *sink, const ttpd_rule *rule,
    const ttpd_value *evidence, unsigned flags, ttpd_err *err)
{
	int rc = h->emit(sink, rule, TTPD_EMIT_ALL, 1.0, evidence, flags);

	if (rc < 0)
		snprintf(err->msg, sizeof err->msg, "rule %s: the host "
		    "refused the tag (%d)", rule->rule_id, rc);
	return rc;
}

#endif
