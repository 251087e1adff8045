# The intel lifter (plugins/intel), loaded through the host.
check_PROGRAMS += tests/unit/check_intel
TESTS += tests/unit/check_intel
tests_unit_check_intel_SOURCES = tests/unit/check_intel.c \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_intel_CFLAGS = $(test_cflags)
tests_unit_check_intel_LDADD = $(test_ldadd)
