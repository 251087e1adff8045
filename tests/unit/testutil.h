/* Helpers shared by the end-to-end suites: temp dirs, files, running ttpd. */
#ifndef TTPD_TESTUTIL_H
#define TTPD_TESTUTIL_H

#include <stddef.h>

/* A fresh directory under /tmp (caller frees the string). */
char *tu_mkdtemp(void);
/* rm -rf dir (only paths under /tmp/ttpd-test.). */
void tu_rmtree(const char *dir);
/* Write text to path; aborts the test on failure. */
void tu_write_file(const char *path, const char *text);
/* Whole file into a malloc'd NUL-terminated buffer, or NULL. */
char *tu_read_file(const char *path, size_t *len);
/* getenv() or a test failure naming the variable. */
const char *tu_env(const char *name);
/*
 * Run host/ttpd from the build tree with argv (NULL-terminated, without
 * argv[0]); stdout and stderr are captured into *out / *errout (malloc'd,
 * may be NULL pointers to discard).  Returns the exit status, or -1.
 */
int tu_run_ttpd(const char *const *args, char **out, char **errout);
/* The same for any program of the build tree, e.g. "host/ttpctl". */
int tu_run(const char *prog, const char *const *args, char **out,
    char **errout);
/*
 * Write a ttpd.conf in dir loading the in-tree plugins named in `plugins`
 * (comma-separated) with store.path <dir>/ttpd.db and the given rules dir.
 * Returns the config path (caller frees).
 */
char *tu_write_conf(const char *dir, const char *rules_dir,
    const char *plugins, const char *extra);

#endif
