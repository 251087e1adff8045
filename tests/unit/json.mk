# JSON values. The suite compares jv_parse with jansson's own parser, so it
# (alone among the tests) builds against jansson directly.
check_PROGRAMS += tests/unit/check_json
TESTS += tests/unit/check_json
tests_unit_check_json_SOURCES = tests/unit/check_json.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_json_CFLAGS = $(test_cflags) $(JANSSON_CFLAGS)
tests_unit_check_json_LDADD = $(test_ldadd) $(JANSSON_LIBS)
