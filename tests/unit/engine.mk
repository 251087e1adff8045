# The rule_engine lifter (plugins/rule_engine), loaded through the host.
check_PROGRAMS += tests/unit/check_rule_engine
TESTS += tests/unit/check_rule_engine
tests_unit_check_rule_engine_SOURCES = tests/unit/check_rule_engine.c \
	tests/unit/testutil.c tests/unit/testutil.h \
	plugins/rule_engine/prefilter.c plugins/rule_engine/prefilter.h \
	plugins/rule_engine/pattern_split.c plugins/rule_engine/pattern_split.h
tests_unit_check_rule_engine_CFLAGS = $(test_cflags) $(PCRE2_CFLAGS)
tests_unit_check_rule_engine_LDADD = $(test_ldadd) $(PCRE2_LIBS)
