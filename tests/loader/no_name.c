/* Loader fixture: the name is NULL. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
