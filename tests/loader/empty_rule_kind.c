/* Loader fixture: an empty string among the rule kinds. */
#include "config.h"

#include "fixture.h"

static const char *const rule_kinds[] = { "lifter:empty_rule_kind_*", "",
	NULL };

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "empty_rule_kind",
	.source_kinds = fixture_kinds,
	.rule_kinds = rule_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
