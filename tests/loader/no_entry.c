/* Loader fixture: a valid descriptor behind a wrongly named entry point. */
#include "config.h"

#include "fixture.h"

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "no_entry",
	.source_kinds = fixture_kinds,
	FIXTURE_CALLBACKS,
};

TTPD_EXPORT const ttpd_lifter *lifter_entry(uint16_t, uint16_t);

TTPD_EXPORT const ttpd_lifter *
lifter_entry(uint16_t host_major, uint16_t host_minor)
{
	(void)host_major;
	(void)host_minor;
	return &fixture_desc;
}
