/* Loader fixture: handle is NULL. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "null_handle",
	.source_kinds = fixture_kinds,
	.init = fixture_init,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
