# Suites for the lead's modules: tag identity, json values, pipeline.
check_PROGRAMS += tests/unit/check_tag
TESTS += tests/unit/check_tag
tests_unit_check_tag_SOURCES = tests/unit/check_tag.c
tests_unit_check_tag_CFLAGS = $(test_cflags)
tests_unit_check_tag_LDADD = $(test_ldadd)

# End-to-end suites run the real host/ttpd binary and the built plugins.
check_PROGRAMS += tests/unit/check_golden
TESTS += tests/unit/check_golden
tests_unit_check_golden_SOURCES = tests/unit/check_golden.c \
	tests/unit/golden.c tests/unit/golden.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_golden_CFLAGS = $(test_cflags)
tests_unit_check_golden_LDADD = $(test_ldadd)

check_PROGRAMS += tests/unit/check_replay
TESTS += tests/unit/check_replay
tests_unit_check_replay_SOURCES = tests/unit/check_replay.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_replay_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS)
tests_unit_check_replay_LDADD = $(test_ldadd) $(SQLITE_LIBS)
EXTRA_DIST += tests/data/replay/mixed.jsonl tests/data/replay/rules/TR0001.yaml \
	tests/data/replay/rules/TR0002.yaml tests/data/replay/rules/TR0003.yaml

check_PROGRAMS += tests/unit/check_event
TESTS += tests/unit/check_event
tests_unit_check_event_SOURCES = tests/unit/check_event.c
tests_unit_check_event_CFLAGS = $(test_cflags)
tests_unit_check_event_LDADD = $(test_ldadd)
