/*
 * Offsets and sizes computed from the frozen SDK 1.0 header
 * (compiled with -I tests/abi/1.0, never with the current sdk/).
 */
#include "config.h"

#include <stddef.h>

#include "ttpd/lifter.h"

#include "abi_table.h"
#include "layout_1_0.h"

_Static_assert(TTPD_ABI_MAJOR == 1 && TTPD_ABI_MINOR == 0,
    "tests/abi/1.0 must hold the 1.0 header");

#define FIELD(T, f, off, sz) \
	{ #T, #f, offsetof(T, f), sizeof(((const T *)0)->f) },
const struct abi_field abi_frozen_1_0[] = {
	ABI_1_0_FIELDS(FIELD)
	{ NULL, NULL, 0, 0 }
};
