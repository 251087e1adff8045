/* Loader fixture: built for ABI 2.0. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	.magic = TTPD_LIFTER_MAGIC,
	.size = (uint32_t)sizeof(ttpd_lifter),
	.abi_major = TTPD_ABI_MAJOR + 1,
	.abi_minor = 0,
	.name = "major_mismatch",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
