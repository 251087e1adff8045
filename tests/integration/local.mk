# Bus integration tests: a real nats-server (started by the test on a free
# loopback port) and the real host/ttpd daemon against a temp SQLite file.
check_PROGRAMS += tests/integration/check_bus_core
TESTS += tests/integration/check_bus_core
tests_integration_check_bus_core_SOURCES = \
	tests/integration/check_bus_core.c \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_bus_core_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_bus_core_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS) \
	$(NATS_CFLAGS)
tests_integration_check_bus_core_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)

check_PROGRAMS += tests/integration/check_bus_js
TESTS += tests/integration/check_bus_js
tests_integration_check_bus_js_SOURCES = \
	tests/integration/check_bus_js.c \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_bus_js_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_bus_js_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS) \
	$(NATS_CFLAGS)
tests_integration_check_bus_js_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)

check_PROGRAMS += tests/integration/check_bus_parity
TESTS += tests/integration/check_bus_parity
tests_integration_check_bus_parity_SOURCES = \
	tests/integration/check_bus_parity.c \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_bus_parity_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_bus_parity_CFLAGS = $(test_cflags) \
	$(SQLITE_CFLAGS) $(NATS_CFLAGS)
tests_integration_check_bus_parity_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)

# Daemon life: ttpd -T, per-plugin counters, the stats file and ttpctl
# status; the privilege drop (root only: SKIP, exit 77, otherwise).
check_PROGRAMS += tests/integration/check_life
TESTS += tests/integration/check_life
tests_integration_check_life_SOURCES = \
	tests/integration/check_life.c \
	tests/integration/lifefx.c tests/integration/lifefx.h \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_life_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_life_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS) \
	$(NATS_CFLAGS)
tests_integration_check_life_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)

check_PROGRAMS += tests/integration/check_privdrop
TESTS += tests/integration/check_privdrop
tests_integration_check_privdrop_SOURCES = \
	tests/integration/check_privdrop.c \
	tests/integration/lifefx.c tests/integration/lifefx.h \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_privdrop_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_privdrop_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS) \
	$(NATS_CFLAGS)
tests_integration_check_privdrop_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)

# make install DESTDIR=...: every file in its place, the installed ttpd
# accepts the installed configuration, make uninstall cleans up.
TESTS += tests/integration/check-install.sh
EXTRA_DIST += tests/integration/check-install.sh

# Rules at runtime: rule files and ttp_rule_state changed under a running
# daemon (host/reload.c).
check_PROGRAMS += tests/integration/check_reload
TESTS += tests/integration/check_reload
tests_integration_check_reload_SOURCES = \
	tests/integration/check_reload.c \
	tests/integration/natsfx.c tests/integration/natsfx.h \
	tests/unit/testutil.c tests/unit/testutil.h
tests_integration_check_reload_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_integration_check_reload_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS) \
	$(NATS_CFLAGS)
tests_integration_check_reload_LDADD = $(test_ldadd) $(SQLITE_LIBS) \
	$(NATS_LIBS)
