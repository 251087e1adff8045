/* Loader fixture: a valid minimal lifter; init and destroy are counted. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "good",
	.version = "1.0",
	.description = "loader test: valid",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
