# The http_fingerprint lifter (plugins/http_fingerprint) and TD0801-TD0803.
check_PROGRAMS += tests/unit/check_http_fingerprint
TESTS += tests/unit/check_http_fingerprint
tests_unit_check_http_fingerprint_SOURCES = \
	tests/unit/check_http_fingerprint.c \
	tests/unit/lifter_fx.c tests/unit/lifter_fx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_http_fingerprint_CFLAGS = $(test_cflags)
tests_unit_check_http_fingerprint_LDADD = $(test_ldadd)
