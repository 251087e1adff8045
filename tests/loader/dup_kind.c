/* Loader fixture: a source kind listed twice. */
#include "config.h"

#include "fixture.h"

static const char *const kinds[] = { "command", "session", "command", NULL };

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "dup_kind",
	.source_kinds = kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
