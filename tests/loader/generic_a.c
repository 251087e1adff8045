/* Loader fixture: the first plugin to claim the generic rules. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.flags = TTPD_LIFTER_F_GENERIC_RULES,
	.name = "generic_a",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
