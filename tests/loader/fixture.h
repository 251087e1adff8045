/*
 * Shared pieces of the loader test fixtures.  Each fixture is a tiny .so
 * that writes its descriptor by hand (not with TTPD_LIFTER_DEFINE) so it
 * can get exactly one thing wrong.
 */
#ifndef TTPD_TEST_LOADER_FIXTURE_H
#define TTPD_TEST_LOADER_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "ttpd/lifter.h"

/* What init() hands back as state, so the test can count the calls. */
struct fixture_calls {
	uint32_t magic;
	int inits;
	int destroys;
	int64_t limit;		/* config_keys fixture: the value it read */
};
#define FIXTURE_CALLS_MAGIC 0x46495854u /* "FIXT" */

#define FIXTURE_UNUSED __attribute__((unused))

static struct fixture_calls fixture_calls FIXTURE_UNUSED = {
	FIXTURE_CALLS_MAGIC, 0, 0, 0
};

static const char *const fixture_kinds[] FIXTURE_UNUSED = {
	"command", "auth_attempt", NULL
};

static FIXTURE_UNUSED int
fixture_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	if (host == NULL || ctx == NULL || state == NULL) {
		ttpd_err_set(err, "init called without host, ctx or state");
		return TTPD_EINVAL;
	}
	fixture_calls.inits++;
	*state = &fixture_calls;
	return TTPD_OK;
}

static FIXTURE_UNUSED int
fixture_handle(void *state, const ttpd_event *ev, ttpd_sink *sink,
    ttpd_err *err)
{
	return TTPD_OK;
}

static FIXTURE_UNUSED void
fixture_destroy(void *state)
{
	((struct fixture_calls *)state)->destroys++;
}

/* The fixed header of a correct 1.0 descriptor. */
#define FIXTURE_HEADER                                                         \
	.magic = TTPD_LIFTER_MAGIC, .size = (uint32_t)sizeof(ttpd_lifter),     \
	.abi_major = TTPD_ABI_MAJOR, .abi_minor = TTPD_ABI_MINOR

#define FIXTURE_CALLBACKS                                                      \
	.init = fixture_init, .handle = fixture_handle,                        \
	.destroy = fixture_destroy

/* The exported entry point returning `desc`. */
#define FIXTURE_ENTRY(desc)                                                    \
	TTPD_EXPORT const ttpd_lifter *ttpd_lifter_entry(uint16_t, uint16_t);  \
	TTPD_EXPORT const ttpd_lifter *                                        \
	ttpd_lifter_entry(uint16_t host_major, uint16_t host_minor)            \
	{                                                                      \
		(void)host_major;                                              \
		(void)host_minor;                                              \
		return &(desc);                                                \
	}

#endif
