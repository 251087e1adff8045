/* Loader fixture: needs a symbol nothing provides, so dlopen(RTLD_NOW)
 * fails.  Linked without -no-undefined on purpose. */
#include "config.h"

#include "fixture.h"

extern int ttpd_fixture_symbol_nobody_defines(void);

static int
needy_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	return ttpd_fixture_symbol_nobody_defines();
}

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "undefined_sym",
	.source_kinds = fixture_kinds,
	.init = needy_init,
	.handle = fixture_handle,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
