# The default rule pack (conf/rules): conventions, ATT&CK ids and every
# rule's own examples run through the real rule_engine plugin.
check_PROGRAMS += tests/unit/check_rulepack
TESTS += tests/unit/check_rulepack
tests_unit_check_rulepack_SOURCES = tests/unit/check_rulepack.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_rulepack_CFLAGS = $(test_cflags)
tests_unit_check_rulepack_LDADD = $(test_ldadd)
# The benign command corpus the precision test reads.
EXTRA_DIST += tests/data/benign-commands.txt
