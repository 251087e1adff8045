# The email lifter (plugins/email), loaded through the host.
check_PROGRAMS += tests/unit/check_email
TESTS += tests/unit/check_email
tests_unit_check_email_SOURCES = tests/unit/check_email.c \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_email_CFLAGS = $(test_cflags)
tests_unit_check_email_LDADD = $(test_ldadd)
