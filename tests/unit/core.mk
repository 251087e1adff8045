# Suites for the lead's modules: tag identity, json values, pipeline.
check_PROGRAMS += tests/unit/check_tag
TESTS += tests/unit/check_tag
tests_unit_check_tag_SOURCES = tests/unit/check_tag.c
tests_unit_check_tag_CFLAGS = $(test_cflags)
tests_unit_check_tag_LDADD = $(test_ldadd)
