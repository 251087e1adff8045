/*
 * JSON values over jansson.  ttpd_value is json_t behind an opaque name so
 * that jansson never appears outside this file.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

#define J(v) ((json_t *)(uintptr_t)(const void *)(v))
#define V(j) ((ttpd_value *)(void *)(j))

ttpd_value *
jv_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;

	/* Duplicate keys would silently keep the last; DECNET (Python) also
	 * keeps the last, so allow them.  Big integers fail cleanly. */
	j = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%d:%d: %s", jerr.line,
			    jerr.column, jerr.text);
		return NULL;
	}
	return V(j);
}

char *
jv_dump(const ttpd_value *v)
{
	if (v == NULL)
		return NULL;
	return json_dumps(J(v), JSON_COMPACT | JSON_ENCODE_ANY);
}

void
jv_incref(const ttpd_value *v)
{
	if (v != NULL)
		json_incref(J(v));
}

void
jv_decref(const ttpd_value *v)
{
	if (v != NULL)
		json_decref(J(v));
}

int
jv_type(const ttpd_value *v)
{
	if (v == NULL)
		return TTPD_VT_ABSENT;
	switch (json_typeof(J(v))) {
	case JSON_NULL:
		return TTPD_VT_NULL;
	case JSON_TRUE:
	case JSON_FALSE:
		return TTPD_VT_BOOL;
	case JSON_INTEGER:
		return TTPD_VT_INT;
	case JSON_REAL:
		return TTPD_VT_REAL;
	case JSON_STRING:
		return TTPD_VT_STRING;
	case JSON_ARRAY:
		return TTPD_VT_ARRAY;
	case JSON_OBJECT:
		return TTPD_VT_OBJECT;
	}
	return TTPD_VT_ABSENT;
}

const ttpd_value *
jv_object_get(const ttpd_value *obj, const char *key)
{
	if (obj == NULL || key == NULL || !json_is_object(J(obj)))
		return NULL;
	return V(json_object_get(J(obj), key));
}

/* Decode one RFC 6901 reference token ("~1" is '/', "~0" is '~'). */
static int
pointer_token(const char *p, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '~') {
			if (i + 1 >= n || (p[i + 1] != '0' && p[i + 1] != '1'))
				return -1;
			c = p[i + 1] == '0' ? '~' : '/';
			i++;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

const ttpd_value *
jv_pointer_get(const ttpd_value *v, const char *ptr)
{
	json_t *cur = J(v);
	char tok[1024];

	if (v == NULL || ptr == NULL)
		return NULL;
	if (*ptr == '\0')
		return v;
	if (*ptr != '/')
		return NULL;
	while (*ptr == '/') {
		const char *start = ptr + 1, *end = strchr(start, '/');
		size_t n = end != NULL ? (size_t)(end - start) : strlen(start);

		if (pointer_token(start, n, tok, sizeof tok) != 0)
			return NULL;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *endp;
			unsigned long idx;

			/* Array index: digits only, no leading zero. */
			if (tok[0] < '0' || tok[0] > '9' ||
			    (tok[0] == '0' && tok[1] != '\0'))
				return NULL;
			idx = strtoul(tok, &endp, 10);
			if (*endp != '\0')
				return NULL;
			cur = json_array_get(cur, idx);
		} else
			return NULL;
		if (cur == NULL)
			return NULL;
		ptr = start + n;
	}
	return V(cur);
}

int
jv_get_string(const ttpd_value *v, const char **s, size_t *len)
{
	if (v == NULL || !json_is_string(J(v)))
		return TTPD_EINVAL;
	if (s != NULL)
		*s = json_string_value(J(v));
	if (len != NULL)
		*len = json_string_length(J(v));
	return TTPD_OK;
}

const char *
jv_string(const ttpd_value *v)
{
	if (v == NULL || !json_is_string(J(v)))
		return NULL;
	return json_string_value(J(v));
}

int
jv_get_int(const ttpd_value *v, int64_t *out)
{
	if (v == NULL || !json_is_integer(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = (int64_t)json_integer_value(J(v));
	return TTPD_OK;
}

int
jv_get_number(const ttpd_value *v, double *out)
{
	if (v == NULL || !json_is_number(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = json_number_value(J(v));
	return TTPD_OK;
}

int
jv_get_bool(const ttpd_value *v, int *out)
{
	if (v == NULL || !json_is_boolean(J(v)))
		return TTPD_EINVAL;
	if (out != NULL)
		*out = json_is_true(J(v));
	return TTPD_OK;
}

size_t
jv_array_size(const ttpd_value *v)
{
	if (v == NULL || !json_is_array(J(v)))
		return 0;
	return json_array_size(J(v));
}

const ttpd_value *
jv_array_get(const ttpd_value *v, size_t i)
{
	if (v == NULL || !json_is_array(J(v)))
		return NULL;
	return V(json_array_get(J(v), i));
}

size_t
jv_object_size(const ttpd_value *v)
{
	if (v == NULL || !json_is_object(J(v)))
		return 0;
	return json_object_size(J(v));
}

int
jv_object_foreach(const ttpd_value *obj,
    int (*fn)(void *ud, const char *key, const ttpd_value *val), void *ud)
{
	const char *key;
	json_t *val;
	int rc;

	if (obj == NULL || fn == NULL || !json_is_object(J(obj)))
		return 0;
	json_object_foreach(J(obj), key, val) {
		if ((rc = fn(ud, key, V(val))) != 0)
			return rc;
	}
	return 0;
}

int
jv_equal(const ttpd_value *a, const ttpd_value *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(J(a), J(b));
}

ttpd_value *
jv_new_object(void)
{
	return V(json_object());
}

ttpd_value *
jv_new_array(void)
{
	return V(json_array());
}

ttpd_value *
jv_new_string(const char *s, size_t len)
{
	if (s == NULL)
		return NULL;
	/* jansson validates UTF-8 and refuses invalid sequences. */
	return V(json_stringn(s, len));
}

ttpd_value *
jv_new_int(int64_t i)
{
	return V(json_integer((json_int_t)i));
}

ttpd_value *
jv_new_real(double d)
{
	if (!isfinite(d))
		return NULL;
	return V(json_real(d));
}

ttpd_value *
jv_new_bool(int b)
{
	return V(json_boolean(b));
}

ttpd_value *
jv_new_null(void)
{
	return V(json_null());
}

ttpd_value *
jv_copy_object(const ttpd_value *obj)
{
	if (obj == NULL || !json_is_object(J(obj)))
		return NULL;
	return V(json_copy(J(obj)));
}

/* Would adding `val` under `container` create a cycle? */
static int
contains(json_t *haystack, json_t *needle, int depth)
{
	size_t i;
	const char *key;
	json_t *m;

	if (haystack == needle)
		return 1;
	if (depth > 64)
		return 1; /* refuse absurd nesting as if it were a cycle */
	if (json_is_object(haystack)) {
		json_object_foreach(haystack, key, m) {
			if ((json_is_object(m) || json_is_array(m)) &&
			    contains(m, needle, depth + 1))
				return 1;
		}
	} else if (json_is_array(haystack)) {
		json_array_foreach(haystack, i, m) {
			if ((json_is_object(m) || json_is_array(m)) &&
			    contains(m, needle, depth + 1))
				return 1;
		}
	}
	return 0;
}

static int
container_ok(json_t *container, json_t *val)
{
	if (!json_is_object(val) && !json_is_array(val))
		return 1;
	return !contains(val, container, 0);
}

int
jv_object_set(ttpd_value *obj, const char *key, const ttpd_value *val)
{
	if (obj == NULL || key == NULL || val == NULL ||
	    !json_is_object(J(obj)) || !container_ok(J(obj), J(val)))
		return TTPD_EINVAL;
	return json_object_set(J(obj), key, J(val)) == 0 ? TTPD_OK :
	    TTPD_EINVAL;
}

int
jv_object_set_new(ttpd_value *obj, const char *key, ttpd_value *val)
{
	int rc = jv_object_set(obj, key, val);

	jv_decref(val);
	return rc;
}

int
jv_array_append(ttpd_value *arr, const ttpd_value *val)
{
	if (arr == NULL || val == NULL || !json_is_array(J(arr)) ||
	    !container_ok(J(arr), J(val)))
		return TTPD_EINVAL;
	return json_array_append(J(arr), J(val)) == 0 ? TTPD_OK : TTPD_EINVAL;
}

int
jv_array_append_new(ttpd_value *arr, ttpd_value *val)
{
	int rc = jv_array_append(arr, val);

	jv_decref(val);
	return rc;
}

int
jv_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
