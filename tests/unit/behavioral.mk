# The behavioral lifter (plugins/behavioral), loaded through the host, and
# its golden parity with DECNET for R0031-R0040.
check_PROGRAMS += tests/unit/check_behavioral
TESTS += tests/unit/check_behavioral
tests_unit_check_behavioral_SOURCES = tests/unit/check_behavioral.c \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_behavioral_CFLAGS = $(test_cflags)
tests_unit_check_behavioral_LDADD = $(test_ldadd)
