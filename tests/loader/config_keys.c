/* Loader fixture: declares a required int key `limit` and reads it. */
#include "config.h"

#include "fixture.h"

static const ttpd_config_key keys[] = {
	{ "limit", TTPD_CFG_INT, 1, "how many of something" },
	{ NULL, 0, 0, NULL }
};

static int
config_init(const ttpd_host *host, ttpd_ctx *ctx, void **state,
    ttpd_err *err)
{
	if (host->config_int(ctx, "limit", &fixture_calls.limit) != TTPD_OK) {
		ttpd_err_set(err, "config key 'limit' not readable");
		return TTPD_EINVAL;
	}
	fixture_calls.inits++;
	*state = &fixture_calls;
	return TTPD_OK;
}

static const ttpd_lifter fixture_desc = {
	FIXTURE_HEADER,
	.name = "config_keys",
	.source_kinds = fixture_kinds,
	.config_keys = keys,
	.init = config_init,
	.handle = fixture_handle,
	.destroy = fixture_destroy,
};

FIXTURE_ENTRY(fixture_desc)
