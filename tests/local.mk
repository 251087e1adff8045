# Test suites. Each area has its own fragment.
test_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	-DTTPD_TEST_SRCDIR='"$(abs_top_srcdir)"'
test_ldadd = host/libttpdhost.la $(CHECK_LIBS)
include tests/unit/local.mk
include tests/loader/local.mk
include tests/plugins/local.mk
include tests/man/local.mk
include tests/integration/local.mk
