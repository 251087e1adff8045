/*
 * JSON values: the only module that includes jansson.
 *
 * Host modules and the SDK share one value type, ttpd_value (opaque).  The
 * functions here implement the value services of struct ttpd_host and give
 * the host parsing, building and serialising.  Values are reference
 * counted; jv_decref() releases one reference.
 */
#ifndef TTPD_JSON_H
#define TTPD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "ttpd/lifter.h"

/* Parse one JSON text (not NUL-terminated). On failure returns NULL and
 * writes "line:column: reason" into err. */
ttpd_value *jv_parse(const char *buf, size_t len, char *err, size_t errlen);

/* Serialise compactly, keys in insertion order.  Caller frees with free().
 * Returns NULL on failure (e.g. a cycle). */
char *jv_dump(const ttpd_value *v);

/*
 * The same text into a caller's buffer (*buf of *cap bytes, grown with
 * realloc() as needed, NUL-terminated); its length in *len.  0, or -1 on
 * failure (the buffer stays the caller's either way).
 */
int jv_dump_into(const ttpd_value *v, char **buf, size_t *cap, size_t *len);

/*
 * How many times this thread has called jv_object_set() or
 * jv_array_append() (the only ways to change a value once built): while
 * it stays the same, a live value serialises to the same text.
 */
uint64_t jv_changes(void);

void jv_incref(const ttpd_value *v);
void jv_decref(const ttpd_value *v);

/* Readers (semantics as in struct ttpd_host). */
int jv_type(const ttpd_value *v);
const ttpd_value *jv_object_get(const ttpd_value *obj, const char *key);
const ttpd_value *jv_pointer_get(const ttpd_value *v, const char *ptr);
int jv_get_string(const ttpd_value *v, const char **s, size_t *len);
int jv_get_int(const ttpd_value *v, int64_t *out);
int jv_get_number(const ttpd_value *v, double *out);
int jv_get_bool(const ttpd_value *v, int *out);
size_t jv_array_size(const ttpd_value *v);
const ttpd_value *jv_array_get(const ttpd_value *v, size_t i);
size_t jv_object_size(const ttpd_value *v);
int jv_object_foreach(const ttpd_value *obj,
    int (*fn)(void *ud, const char *key, const ttpd_value *val), void *ud);
/* String value or NULL when v is not a string. */
const char *jv_string(const ttpd_value *v);
/* Deep equality (objects compared as unordered maps). */
int jv_equal(const ttpd_value *a, const ttpd_value *b);

/* Builders: each returns a new reference (NULL on failure). */
ttpd_value *jv_new_object(void);
ttpd_value *jv_new_array(void);
ttpd_value *jv_new_string(const char *s, size_t len); /* NULL: bad UTF-8 */
ttpd_value *jv_new_int(int64_t i);
ttpd_value *jv_new_real(double d);
ttpd_value *jv_new_bool(int b);
ttpd_value *jv_new_null(void);
/* Shallow copy of an object (members shared). */
ttpd_value *jv_copy_object(const ttpd_value *obj);
/* Add a reference to val under key / at the end. TTPD_OK or TTPD_EINVAL. */
int jv_object_set(ttpd_value *obj, const char *key, const ttpd_value *val);
/* Same, but steals the caller's reference to val (also on failure). */
int jv_object_set_new(ttpd_value *obj, const char *key, ttpd_value *val);
int jv_array_append(ttpd_value *arr, const ttpd_value *val);
int jv_array_append_new(ttpd_value *arr, ttpd_value *val);

/* 1 when the buffer is valid UTF-8 (no overlongs, no surrogates). */
int jv_utf8_valid(const char *s, size_t len);

#endif
