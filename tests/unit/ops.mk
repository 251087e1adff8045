# Operating ttpd: the ATT&CK bundle check and ttpctl.
check_PROGRAMS += tests/unit/check_attack
TESTS += tests/unit/check_attack
tests_unit_check_attack_SOURCES = tests/unit/check_attack.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_attack_CFLAGS = $(test_cflags)
tests_unit_check_attack_LDADD = $(test_ldadd)

check_PROGRAMS += tests/unit/check_ttpctl
TESTS += tests/unit/check_ttpctl
tests_unit_check_ttpctl_SOURCES = tests/unit/check_ttpctl.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_ttpctl_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS)
tests_unit_check_ttpctl_LDADD = $(test_ldadd) $(SQLITE_LIBS)

# Every example of ttpd.conf(5) goes through the configuration check.
check_PROGRAMS += tests/unit/check_confexamples
TESTS += tests/unit/check_confexamples
tests_unit_check_confexamples_SOURCES = tests/unit/check_confexamples.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_confexamples_CFLAGS = $(test_cflags)
tests_unit_check_confexamples_LDADD = $(test_ldadd)
