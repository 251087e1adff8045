/* Loader fixture: declares a source kind ttpd does not know. */
#include "config.h"

#include "fixture.h"

static const char *const kinds[] = { "command", "dns_blob", NULL };

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "unknown_kind",
	.source_kinds = kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
