# Loader tests: one deliberately broken lifter per rejection path
# (tests/loader/*.c, built as shared objects under tests/loader/.libs/) and
# the suite that loads them (tests/unit/check_loader.c).

# Fixtures with a correct link: one exported symbol, nothing undefined.
loader_fixtures = \
	tests/loader/good.la \
	tests/loader/good_dup.la \
	tests/loader/entry_null.la \
	tests/loader/bad_magic.la \
	tests/loader/major_mismatch.la \
	tests/loader/minor_too_new.la \
	tests/loader/size_too_small.la \
	tests/loader/null_init.la \
	tests/loader/null_handle.la \
	tests/loader/null_destroy.la \
	tests/loader/bad_name.la \
	tests/loader/no_name.la \
	tests/loader/unknown_kind.la \
	tests/loader/no_kinds.la \
	tests/loader/null_kinds.la \
	tests/loader/dup_kind.la \
	tests/loader/empty_rule_kind.la \
	tests/loader/init_fails.la \
	tests/loader/init_unterminated.la \
	tests/loader/generic_a.la \
	tests/loader/generic_b.la \
	tests/loader/config_keys.la
check_LTLIBRARIES += $(loader_fixtures) \
	tests/loader/no_entry.la tests/loader/undefined_sym.la
EXTRA_DIST += tests/loader/fixture.h

tests_loader_good_la_SOURCES = tests/loader/good.c
tests_loader_good_la_CFLAGS = $(plugin_cflags)
tests_loader_good_la_LDFLAGS = $(fixture_ldflags)
tests_loader_good_dup_la_SOURCES = tests/loader/good_dup.c
tests_loader_good_dup_la_CFLAGS = $(plugin_cflags)
tests_loader_good_dup_la_LDFLAGS = $(fixture_ldflags)
tests_loader_entry_null_la_SOURCES = tests/loader/entry_null.c
tests_loader_entry_null_la_CFLAGS = $(plugin_cflags)
tests_loader_entry_null_la_LDFLAGS = $(fixture_ldflags)
tests_loader_bad_magic_la_SOURCES = tests/loader/bad_magic.c
tests_loader_bad_magic_la_CFLAGS = $(plugin_cflags)
tests_loader_bad_magic_la_LDFLAGS = $(fixture_ldflags)
tests_loader_major_mismatch_la_SOURCES = tests/loader/major_mismatch.c
tests_loader_major_mismatch_la_CFLAGS = $(plugin_cflags)
tests_loader_major_mismatch_la_LDFLAGS = $(fixture_ldflags)
tests_loader_minor_too_new_la_SOURCES = tests/loader/minor_too_new.c
tests_loader_minor_too_new_la_CFLAGS = $(plugin_cflags)
tests_loader_minor_too_new_la_LDFLAGS = $(fixture_ldflags)
tests_loader_size_too_small_la_SOURCES = tests/loader/size_too_small.c
tests_loader_size_too_small_la_CFLAGS = $(plugin_cflags)
tests_loader_size_too_small_la_LDFLAGS = $(fixture_ldflags)
tests_loader_null_init_la_SOURCES = tests/loader/null_init.c
tests_loader_null_init_la_CFLAGS = $(plugin_cflags)
tests_loader_null_init_la_LDFLAGS = $(fixture_ldflags)
tests_loader_null_handle_la_SOURCES = tests/loader/null_handle.c
tests_loader_null_handle_la_CFLAGS = $(plugin_cflags)
tests_loader_null_handle_la_LDFLAGS = $(fixture_ldflags)
tests_loader_null_destroy_la_SOURCES = tests/loader/null_destroy.c
tests_loader_null_destroy_la_CFLAGS = $(plugin_cflags)
tests_loader_null_destroy_la_LDFLAGS = $(fixture_ldflags)
tests_loader_bad_name_la_SOURCES = tests/loader/bad_name.c
tests_loader_bad_name_la_CFLAGS = $(plugin_cflags)
tests_loader_bad_name_la_LDFLAGS = $(fixture_ldflags)
tests_loader_no_name_la_SOURCES = tests/loader/no_name.c
tests_loader_no_name_la_CFLAGS = $(plugin_cflags)
tests_loader_no_name_la_LDFLAGS = $(fixture_ldflags)
tests_loader_unknown_kind_la_SOURCES = tests/loader/unknown_kind.c
tests_loader_unknown_kind_la_CFLAGS = $(plugin_cflags)
tests_loader_unknown_kind_la_LDFLAGS = $(fixture_ldflags)
tests_loader_no_kinds_la_SOURCES = tests/loader/no_kinds.c
tests_loader_no_kinds_la_CFLAGS = $(plugin_cflags)
tests_loader_no_kinds_la_LDFLAGS = $(fixture_ldflags)
tests_loader_null_kinds_la_SOURCES = tests/loader/null_kinds.c
tests_loader_null_kinds_la_CFLAGS = $(plugin_cflags)
tests_loader_null_kinds_la_LDFLAGS = $(fixture_ldflags)
tests_loader_dup_kind_la_SOURCES = tests/loader/dup_kind.c
tests_loader_dup_kind_la_CFLAGS = $(plugin_cflags)
tests_loader_dup_kind_la_LDFLAGS = $(fixture_ldflags)
tests_loader_empty_rule_kind_la_SOURCES = tests/loader/empty_rule_kind.c
tests_loader_empty_rule_kind_la_CFLAGS = $(plugin_cflags)
tests_loader_empty_rule_kind_la_LDFLAGS = $(fixture_ldflags)
tests_loader_init_fails_la_SOURCES = tests/loader/init_fails.c
tests_loader_init_fails_la_CFLAGS = $(plugin_cflags)
tests_loader_init_fails_la_LDFLAGS = $(fixture_ldflags)
tests_loader_init_unterminated_la_SOURCES = tests/loader/init_unterminated.c
tests_loader_init_unterminated_la_CFLAGS = $(plugin_cflags)
tests_loader_init_unterminated_la_LDFLAGS = $(fixture_ldflags)
tests_loader_generic_a_la_SOURCES = tests/loader/generic_a.c
tests_loader_generic_a_la_CFLAGS = $(plugin_cflags)
tests_loader_generic_a_la_LDFLAGS = $(fixture_ldflags)
tests_loader_generic_b_la_SOURCES = tests/loader/generic_b.c
tests_loader_generic_b_la_CFLAGS = $(plugin_cflags)
tests_loader_generic_b_la_LDFLAGS = $(fixture_ldflags)
tests_loader_config_keys_la_SOURCES = tests/loader/config_keys.c
tests_loader_config_keys_la_CFLAGS = $(plugin_cflags)
tests_loader_config_keys_la_LDFLAGS = $(fixture_ldflags)

# Its entry point has another name: -export-symbols-regex would hide it,
# and the test wants a visible symbol that is not the right one.
tests_loader_no_entry_la_SOURCES = tests/loader/no_entry.c
tests_loader_no_entry_la_CFLAGS = $(plugin_cflags)
tests_loader_no_entry_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-no-undefined -shared -rpath /nowhere

# Links with an undefined symbol on purpose, so dlopen(RTLD_NOW) fails.
# (-no-undefined only matters to libtool on platforms that need it; the
# linker is not asked to refuse undefined symbols here.)
tests_loader_undefined_sym_la_SOURCES = tests/loader/undefined_sym.c
tests_loader_undefined_sym_la_CFLAGS = $(plugin_cflags)
tests_loader_undefined_sym_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -rpath /nowhere \
	-export-symbols-regex '^ttpd_lifter_entry$$'

check_PROGRAMS += tests/unit/check_loader
TESTS += tests/unit/check_loader
tests_unit_check_loader_SOURCES = tests/unit/check_loader.c
tests_unit_check_loader_CFLAGS = $(test_cflags)
tests_unit_check_loader_LDADD = $(test_ldadd)
