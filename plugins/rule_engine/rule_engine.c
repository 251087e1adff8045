/* placeholder: replaced by the rule engine implementation */
#include <ttpd/lifter.h>

static const char *const kinds[] = { "command", NULL };
static int re_init(const ttpd_host *h, ttpd_ctx *c, void **s, ttpd_err *e) { (void)h; (void)c; (void)e; *s = NULL; return TTPD_OK; }
static int re_handle(void *s, const ttpd_event *ev, ttpd_sink *k, ttpd_err *e) { (void)s; (void)ev; (void)k; (void)e; return TTPD_OK; }
static void re_destroy(void *s) { (void)s; }
TTPD_LIFTER_DEFINE(.name = "rule_engine", .version = "0", .source_kinds = kinds,
    .init = re_init, .handle = re_handle, .destroy = re_destroy)
