# host/config.c: ttpd.conf loading, -o overrides, plugin config checks.
check_PROGRAMS += tests/unit/check_config
TESTS += tests/unit/check_config
tests_unit_check_config_SOURCES = tests/unit/check_config.c
tests_unit_check_config_CFLAGS = $(test_cflags)
tests_unit_check_config_LDADD = $(test_ldadd)
EXTRA_DIST += \
	tests/data/conf/full.conf \
	tests/data/conf/minimal.conf \
	tests/data/conf/include.conf \
	tests/data/conf/include-store.inc
