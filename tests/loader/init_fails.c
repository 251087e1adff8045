/* Loader fixture: init() refuses with a message; destroy must not run. */
#include "config.h"

#include "fixture.h"

static int
failing_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	fixture_calls.inits++;
	ttpd_err_set(err, "cannot open the fixture's database");
	return TTPD_EINVAL;
}

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "init_fails",
	.source_kinds = fixture_kinds,
	.init = failing_init,
	.handle = fixture_handle,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
