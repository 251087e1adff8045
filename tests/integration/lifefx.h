/* Helpers of the daemon-life tests (check_life, check_privdrop). */
#ifndef TTPD_LIFEFX_H
#define TTPD_LIFEFX_H

#include "natsfx.h"

/* Run <builddir>/<prog> (e.g. "host/ttpctl") with args (NULL-terminated,
 * without argv[0]); output captured into *out / *err (malloc'd, may be
 * NULL pointers).  Returns the exit status, or -1. */
int lf_run(const char *prog, const char *const *args, char **out,
    char **err);

/* Add `settings` at the start of the daemon group of f->conf. */
void lf_daemon_settings(struct fx *f, const char *settings);

#endif
