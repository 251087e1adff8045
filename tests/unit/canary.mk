# The canary and ipv6_leak lifters (plugins/canary, plugins/ipv6_leak),
# loaded through the host; golden parity for R0049-R0053 and R0059.
check_PROGRAMS += tests/unit/check_canary tests/unit/check_ipv6_leak
TESTS += tests/unit/check_canary tests/unit/check_ipv6_leak
tests_unit_check_canary_SOURCES = tests/unit/check_canary.c \
	tests/unit/lifter_fx.c tests/unit/lifter_fx.h \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_canary_CFLAGS = $(test_cflags)
tests_unit_check_canary_LDADD = $(test_ldadd)
tests_unit_check_ipv6_leak_SOURCES = tests/unit/check_ipv6_leak.c \
	tests/unit/lifter_fx.c tests/unit/lifter_fx.h \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_ipv6_leak_CFLAGS = $(test_cflags)
tests_unit_check_ipv6_leak_LDADD = $(test_ldadd)
