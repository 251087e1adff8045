/* Loader fixture: init is NULL. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "null_init",
	.source_kinds = fixture_kinds,
	.handle = fixture_handle,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
