/* Helpers of the daemon-life tests (check_life, check_privdrop). */
#ifndef TTPD_LIFEFX_H
#define TTPD_LIFEFX_H

#include "natsfx.h"

/* Add `settings` at the start of the daemon group of f->conf. */
void lf_daemon_settings(struct fx *f, const char *settings);

#endif
