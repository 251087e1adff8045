/* Helpers of the daemon-life tests (see lifefx.h). */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifefx.h"
#include "testutil.h"

void
lf_daemon_settings(struct fx *f, const char *settings)
{
	char *text = tu_read_file(f->conf, NULL), *p, *nt;

	ck_assert(text != NULL);
	p = strstr(text, "daemon: {");
	ck_assert(p != NULL);
	p += strlen("daemon: {");
	ck_assert(asprintf(&nt, "%.*s %s %s", (int)(p - text), text, settings,
	    p) > 0);
	tu_write_file(f->conf, nt);
	free(nt);
	free(text);
}
