/*
 * Python value semantics the in-tree lifters share (DECNET's lifters are
 * Python): compiled into each plugin, not part of the SDK.
 */
#ifndef TTPD_PLUGINS_PYVALUE_H
#define TTPD_PLUGINS_PYVALUE_H

#include <ttpd/lifter.h>

/* Python truthiness of a value: absent, null, false, 0, 0.0, "", [] and
 * {} are false.  A boolean stays a boolean (never 1/0). */
static inline int
py_truthy(const ttpd_host *h, const ttpd_value *v)
{
	const char *s;
	size_t len;
	int64_t i;
	double d;
	int b;

	switch (h->value_type(v)) {
	case TTPD_VT_BOOL:
		return h->get_bool(v, &b) == TTPD_OK && b;
	case TTPD_VT_INT:
		return h->get_int(v, &i) == TTPD_OK && i != 0;
	case TTPD_VT_REAL:
		return h->get_number(v, &d) == TTPD_OK && d != 0.0;
	case TTPD_VT_STRING:
		return h->get_string(v, &s, &len) == TTPD_OK && len > 0;
	case TTPD_VT_ARRAY:
		return h->array_size(v) > 0;
	case TTPD_VT_OBJECT:
		return h->object_size(v) > 0;
	default:
		return 0;
	}
}

#endif
