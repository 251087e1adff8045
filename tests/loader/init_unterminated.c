/* Loader fixture: init() fails and fills err.msg without a NUL. */
#include "config.h"

#include <string.h>

#include "fixture.h"

static int
sloppy_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	memset(err->msg, 'x', sizeof err->msg);
	return TTPD_EFATAL;
}

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "init_unterminated",
	.source_kinds = fixture_kinds,
	.init = sloppy_init,
	.handle = fixture_handle,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
