/* Loader fixture: needs one minor more than the host provides. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	.magic = TTPD_LIFTER_MAGIC,
	.size = (uint32_t)sizeof(ttpd_lifter),
	.abi_major = TTPD_ABI_MAJOR,
	.abi_minor = TTPD_ABI_MINOR + 1,
	.name = "minor_too_new",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
