/* Python str.lower() / str.strip() approximations on UTF-8 text. */
#ifndef TTPD_EMAIL_PYFOLD_H
#define TTPD_EMAIL_PYFOLD_H

#include <stddef.h>

/*
 * Lower-case s[0..len) like Python's str.lower() for ASCII, Latin-1,
 * Latin Extended-A, Greek, Cyrillic, fullwidth Latin and the few
 * characters whose lower case is ASCII (KELVIN SIGN, U+0130).  Returns a
 * malloc'd NUL-terminated string (length in *outlen) or NULL on ENOMEM.
 */
char *py_lower(const char *s, size_t len, size_t *outlen);
/* Python str.strip() bounds: whitespace as str.isspace() sees it. */
void py_strip(const char *s, size_t len, size_t *start, size_t *end);

#endif
