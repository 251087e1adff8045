/* Loader fixture: the entry point declines (returns NULL). */
#include "config.h"

#include "fixture.h"

TTPD_EXPORT const ttpd_lifter *ttpd_lifter_entry(uint16_t, uint16_t);

TTPD_EXPORT const ttpd_lifter *
ttpd_lifter_entry(uint16_t host_major, uint16_t host_minor)
{
	(void)host_major;
	(void)host_minor;
	return NULL;
}
