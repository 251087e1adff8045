/* Loader fixture: an empty source_kinds list. */
#include "config.h"

#include "fixture.h"

static const char *const kinds[] = { NULL };

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "no_kinds",
	.source_kinds = kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
