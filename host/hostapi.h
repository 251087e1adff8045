/*
 * The host side of the SDK: the service table, instance contexts and the
 * per-call sink where tags are assembled.
 */
#ifndef TTPD_HOSTAPI_H
#define TTPD_HOSTAPI_H

#include <stdint.h>

#include "plugin.h"
#include "tag.h"
#include "ttpd/lifter.h"

struct plugin_conf;

/* Settings that tag assembly needs. */
struct tag_settings {
	const char *attack_release;
};

/* The one service table (static, lives for the process). */
const ttpd_host *hostapi_table(void);

/* Instance context for p with its config group (a reference is kept). */
ttpd_ctx *hostapi_ctx_new(struct plugin *p, const ttpd_value *config);
void hostapi_ctx_free(ttpd_ctx *ctx);

/*
 * Run one event through one plugin: build the sink, call handle(), and on
 * success append the tags it emitted to `out`.  On error the plugin's tags
 * for this event are dropped, the error counted and logged (rate-limited).
 * Returns the plugin's return code.
 */
int hostapi_run(struct plugin *p, const ttpd_event *ev,
    const struct tag_settings *ts, int64_t now_ns, struct tag_list *out);

/*
 * The ttpd_err buffers handed to plugins (init, rule_prepare, handle).
 * hostapi_err_prepare() fills one with the fill byte (0 unless
 * hostapi_set_err_fill() changed it: ttpd-plugin-check uses a non-zero
 * byte so that a message without its NUL shows).  hostapi_err_finish()
 * runs after the call (`failed`: the call returned an error): 0 when the
 * buffer holds a NUL; 1 when the plugin did not touch it (now ""; counted
 * when failed); -1 when it wrote a message without a NUL (now cut at the
 * last byte; always counted).
 */
void hostapi_set_err_fill(int byte);
void hostapi_err_prepare(ttpd_err *err);
int hostapi_err_finish(ttpd_err *err, int failed);
void hostapi_err_counts(unsigned long *unterminated, unsigned long *unset);
/* The error message of this thread's last handle() call ("" when it did
 * not fail) and, in *state, what hostapi_err_finish() said about it. */
const char *hostapi_last_handle_error(int *state);

#endif
