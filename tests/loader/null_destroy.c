/* Loader fixture: destroy is NULL. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "null_destroy",
	.source_kinds = fixture_kinds,
	.init = fixture_init,
	.handle = fixture_handle,
};

FIXTURE_ENTRY(fixture_desc)
