# Operating ttpd: the ATT&CK bundle check and ttpctl.
check_PROGRAMS += tests/unit/check_attack
TESTS += tests/unit/check_attack
tests_unit_check_attack_SOURCES = tests/unit/check_attack.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_attack_CFLAGS = $(test_cflags)
tests_unit_check_attack_LDADD = $(test_ldadd)
