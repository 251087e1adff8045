/* Host-internal allocation that aborts on exhaustion (never for plugin or
 * bus input sizes, which are bounded before they get here). */
#ifndef TTPD_XMALLOC_H
#define TTPD_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup() that maps NULL to NULL. */
char *xstrdup_or_null(const char *s);
/* asprintf() that aborts on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
