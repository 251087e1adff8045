/*
 * The 1.0 layout asserted against the current SDK header at compile time.
 * Part of check_abi, and compiled alone (-fsyntax-only) against mutated
 * copies of the header by check-mutation to prove that it catches them.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ttpd/lifter.h"

#include "layout_1_0.h"

/*
 * Compile time: every field of every 1.0 struct at its 1.0 offset with its
 * 1.0 size (LP64, where the numbers were taken).  Inserting, removing,
 * reordering or retyping a released field stops the build here.
 */
#if UINTPTR_MAX == UINT64_MAX && SIZE_MAX == UINT64_MAX
#define ASSERT_FIELD(T, f, off, sz)                                            \
	_Static_assert(offsetof(T, f) == (off) &&                              \
	    sizeof(((const T *)0)->f) == (sz),                                 \
	    #T "." #f " moved or changed size: that breaks ABI 1.0");
ABI_1_0_FIELDS(ASSERT_FIELD)
#define ASSERT_SIZE(T, sz)                                                     \
	_Static_assert(sizeof(T) >= (sz), #T " shrank: that breaks ABI 1.0");
ABI_1_0_STRUCT_SIZES(ASSERT_SIZE)
#endif
/* Not size-prefixed: arrays of them and buffers of them are ABI. */
_Static_assert(sizeof(ttpd_err) == 256, "ttpd_err must stay 256 bytes");
_Static_assert(sizeof(((ttpd_config_key *)0)->name) == sizeof(char *) &&
    offsetof(ttpd_config_key, description) + sizeof(char *) ==
    sizeof(ttpd_config_key),
    "ttpd_config_key is an array element: it can never grow");

int abi_asserts_compiled(void);

int
abi_asserts_compiled(void)
{
	return 1;
}
