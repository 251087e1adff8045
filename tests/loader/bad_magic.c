/* Loader fixture: the descriptor magic is wrong. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	.magic = 0x4c505454u,	/* "TTPL" byte-swapped */
	.size = (uint32_t)sizeof(ttpd_lifter),
	.abi_major = TTPD_ABI_MAJOR,
	.abi_minor = TTPD_ABI_MINOR,
	.name = "bad_magic",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

FIXTURE_ENTRY(fixture_desc)
