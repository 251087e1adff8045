/* Loader fixture: source_kinds is NULL. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "null_kinds",
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
