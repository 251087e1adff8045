# The rule store (host/rules.c).
check_PROGRAMS += tests/unit/check_rules
TESTS += tests/unit/check_rules
tests_unit_check_rules_SOURCES = tests/unit/check_rules.c
tests_unit_check_rules_CFLAGS = $(test_cflags)
tests_unit_check_rules_LDADD = $(test_ldadd)
EXTRA_DIST += \
	tests/data/rules/types.yaml \
	tests/data/rules/one/T0001.yaml \
	tests/data/rules/one/T0002.yml \
	tests/data/rules/two/T0003.yaml \
	tests/data/rules/two/T0004.yaml
