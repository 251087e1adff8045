# The SQLite tag store. The test opens its own sqlite3 connection to
# inspect what host/store.c wrote, hence the extra SQLite flags.
check_PROGRAMS += tests/unit/check_store
TESTS += tests/unit/check_store
tests_unit_check_store_SOURCES = tests/unit/check_store.c
tests_unit_check_store_CFLAGS = $(test_cflags) $(SQLITE_CFLAGS)
tests_unit_check_store_LDADD = $(test_ldadd) $(SQLITE_LIBS)
