# Host API tests: fixture lifters driven by their events
# (tests/plugins/*.c, built as shared objects under tests/plugins/.libs/)
# and the suite that loads them (tests/unit/check_hostapi.c).
check_LTLIBRARIES += tests/plugins/probe.la tests/plugins/other.la \
	tests/plugins/generic.la

tests_plugins_probe_la_SOURCES = tests/plugins/probe.c
tests_plugins_probe_la_CFLAGS = $(plugin_cflags)
tests_plugins_probe_la_LDFLAGS = $(fixture_ldflags)
tests_plugins_other_la_SOURCES = tests/plugins/other.c
tests_plugins_other_la_CFLAGS = $(plugin_cflags)
tests_plugins_other_la_LDFLAGS = $(fixture_ldflags)
tests_plugins_generic_la_SOURCES = tests/plugins/generic.c
tests_plugins_generic_la_CFLAGS = $(plugin_cflags)
tests_plugins_generic_la_LDFLAGS = $(fixture_ldflags)

check_PROGRAMS += tests/unit/check_hostapi
TESTS += tests/unit/check_hostapi
tests_unit_check_hostapi_SOURCES = tests/unit/check_hostapi.c
tests_unit_check_hostapi_CFLAGS = $(test_cflags)
tests_unit_check_hostapi_LDADD = $(test_ldadd)
