# The credential lifter (plugins/credential), loaded through the host.
check_PROGRAMS += tests/unit/check_credential
TESTS += tests/unit/check_credential
tests_unit_check_credential_SOURCES = tests/unit/check_credential.c \
	tests/unit/lifter_fx.c tests/unit/lifter_fx.h \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_credential_CFLAGS = $(test_cflags)
tests_unit_check_credential_LDADD = $(test_ldadd)
