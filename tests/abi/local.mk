# ABI compatibility suite: a frozen copy of every released SDK header
# (tests/abi/<major>.<minor>/ttpd/lifter.h), the 1.0 struct layout
# (layout_1_0.h), a sample lifter compiled against each frozen header and
# the suite that loads it into the current host (tests/abi/check_abi.c).
#
# Releasing SDK 1.N: copy sdk/ttpd/lifter.h to tests/abi/1.N/ttpd/, add a
# sample_1_N.la built with -I$(srcdir)/tests/abi/1.N like sample_1_0.la
# below, and a run_sample("1_N", ...) test.
abi_frozen_headers = tests/abi/1.0/ttpd/lifter.h

check_LTLIBRARIES += tests/abi/sample_1_0.la tests/abi/libabifrozen.la
# -I the frozen header only, never sdk/: per-target CPPFLAGS replace
# AM_CPPFLAGS.
tests_abi_sample_1_0_la_SOURCES = tests/abi/sample.c
tests_abi_sample_1_0_la_CPPFLAGS = -I$(top_srcdir)/tests/abi/1.0 \
	-I$(top_builddir)
tests_abi_sample_1_0_la_CFLAGS = $(plugin_cflags)
tests_abi_sample_1_0_la_LDFLAGS = $(fixture_ldflags)

tests_abi_libabifrozen_la_SOURCES = tests/abi/frozen_1_0.c \
	tests/abi/abi_table.h tests/abi/layout_1_0.h
tests_abi_libabifrozen_la_CPPFLAGS = -I$(top_srcdir)/tests/abi/1.0 \
	-I$(top_srcdir)/tests/abi -I$(top_builddir)
tests_abi_libabifrozen_la_CFLAGS = $(AM_CFLAGS)

check_PROGRAMS += tests/abi/check_abi
TESTS += tests/abi/check_abi
tests_abi_check_abi_SOURCES = tests/abi/check_abi.c
tests_abi_check_abi_CFLAGS = $(test_cflags)
tests_abi_check_abi_LDADD = tests/abi/libabifrozen.la $(test_ldadd)

EXTRA_DIST += $(abi_frozen_headers) tests/abi/rules/AB0001.yaml

# The assertions themselves are tested: check-mutation compiles
# assert_1_0.c against broken copies of the header (generated with $(CC)).
tests_abi_check_abi_SOURCES += tests/abi/assert_1_0.c
TESTS += tests/abi/check-mutation
CLEANFILES += tests/abi/check-mutation
EXTRA_DIST += tests/abi/check-mutation.in
tests/abi/check-mutation: $(top_srcdir)/tests/abi/check-mutation.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tests/abi && \
	$(SED) -e 's|@CC[@]|$(CC)|g' $(top_srcdir)/tests/abi/check-mutation.in \
	    > $@.tmp && chmod +x $@.tmp && mv $@.tmp $@
