/* Loader fixture: a second file declaring the same name as good.so. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "good",
	.version = "1.0",
	.description = "loader test: duplicate of good",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
