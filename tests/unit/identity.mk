# The identity lifter (plugins/identity), loaded through the host.
check_PROGRAMS += tests/unit/check_identity
TESTS += tests/unit/check_identity
tests_unit_check_identity_SOURCES = tests/unit/check_identity.c \
	tests/unit/lifter_fx.c tests/unit/lifter_fx.h \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_identity_CFLAGS = $(test_cflags)
tests_unit_check_identity_LDADD = $(test_ldadd)
