/* One field of an SDK struct as some header lays it out. */
#ifndef TTPD_ABI_TABLE_H
#define TTPD_ABI_TABLE_H

#include <stddef.h>

struct abi_field {
	const char *type, *field;
	size_t offset, size;
};

/* From the frozen 1.0 header (frozen_1_0.c); ends with a NULL type. */
extern const struct abi_field abi_frozen_1_0[];

#endif
