/* Loader fixture: claims a descriptor shorter than ABI 1.0 defines. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	.magic = TTPD_LIFTER_MAGIC,
	.size = (uint32_t)offsetof(ttpd_lifter, destroy),
	.abi_major = TTPD_ABI_MAJOR,
	.abi_minor = TTPD_ABI_MINOR,
	.name = "size_too_small",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
