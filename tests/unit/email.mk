# The email lifter (plugins/email), loaded through the host.
check_PROGRAMS += tests/unit/check_email
TESTS += tests/unit/check_email
# mime.c and artifact.c are also compiled in, for their own tests.
tests_unit_check_email_SOURCES = tests/unit/check_email.c \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h \
	plugins/email/mime.c plugins/email/mime.h \
	plugins/email/artifact.c plugins/email/artifact.h
tests_unit_check_email_CFLAGS = $(test_cflags) -I$(top_srcdir)/plugins/email
tests_unit_check_email_LDADD = $(test_ldadd)
