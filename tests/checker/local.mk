# ttpd-plugin-check tests: misbehaving fixture lifters (one source,
# tests/checker/misbehave.c, built once per misbehaviour) and the script
# that runs the checker on them and on every in-tree plugin.
checker_fixtures = \
	tests/checker/good.la \
	tests/checker/bad_descriptor.la \
	tests/checker/rule_reject.la \
	tests/checker/init_twice.la \
	tests/checker/cfg_missing.la \
	tests/checker/cfg_unknown.la \
	tests/checker/cfg_wrong_type.la \
	tests/checker/kind_unhandled.la \
	tests/checker/undeclared_tags.la \
	tests/checker/crash_malformed.la \
	tests/checker/crash_truncated.la \
	tests/checker/crash_huge.la \
	tests/checker/crash_wrong_type.la \
	tests/checker/crash_utf8.la \
	tests/checker/err_unterminated.la \
	tests/checker/slow.la \
	tests/checker/crash_init.la \
	tests/checker/crash_handle.la \
	tests/checker/crash_ctor.la
check_LTLIBRARIES += $(checker_fixtures)

tests_checker_good_la_SOURCES = tests/checker/misbehave.c
tests_checker_good_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"good"'
tests_checker_good_la_LDFLAGS = $(fixture_ldflags)
tests_checker_bad_descriptor_la_SOURCES = tests/checker/misbehave.c
tests_checker_bad_descriptor_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"bad_descriptor"' -DMISBEHAVE_BAD_DESCRIPTOR
tests_checker_bad_descriptor_la_LDFLAGS = $(fixture_ldflags)
tests_checker_rule_reject_la_SOURCES = tests/checker/misbehave.c
tests_checker_rule_reject_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"rule_reject"' -DMISBEHAVE_RULE_REJECT
tests_checker_rule_reject_la_LDFLAGS = $(fixture_ldflags)
tests_checker_init_twice_la_SOURCES = tests/checker/misbehave.c
tests_checker_init_twice_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"init_twice"' -DMISBEHAVE_INIT_TWICE
tests_checker_init_twice_la_LDFLAGS = $(fixture_ldflags)
tests_checker_cfg_missing_la_SOURCES = tests/checker/misbehave.c
tests_checker_cfg_missing_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"cfg_missing"' -DMISBEHAVE_CFG_MISSING
tests_checker_cfg_missing_la_LDFLAGS = $(fixture_ldflags)
tests_checker_cfg_unknown_la_SOURCES = tests/checker/misbehave.c
tests_checker_cfg_unknown_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"cfg_unknown"' -DMISBEHAVE_CFG_UNKNOWN
tests_checker_cfg_unknown_la_LDFLAGS = $(fixture_ldflags)
tests_checker_cfg_wrong_type_la_SOURCES = tests/checker/misbehave.c
tests_checker_cfg_wrong_type_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"cfg_wrong_type"' -DMISBEHAVE_CFG_WRONG_TYPE
tests_checker_cfg_wrong_type_la_LDFLAGS = $(fixture_ldflags)
tests_checker_kind_unhandled_la_SOURCES = tests/checker/misbehave.c
tests_checker_kind_unhandled_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"kind_unhandled"' -DMISBEHAVE_KIND_UNHANDLED
tests_checker_kind_unhandled_la_LDFLAGS = $(fixture_ldflags)
tests_checker_undeclared_tags_la_SOURCES = tests/checker/misbehave.c
tests_checker_undeclared_tags_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"undeclared_tags"' -DMISBEHAVE_UNDECLARED_TAGS
tests_checker_undeclared_tags_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_malformed_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_malformed_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_malformed"' -DMISBEHAVE_CRASH_MALFORMED
tests_checker_crash_malformed_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_truncated_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_truncated_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_truncated"' -DMISBEHAVE_CRASH_TRUNCATED
tests_checker_crash_truncated_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_huge_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_huge_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_huge"' -DMISBEHAVE_CRASH_HUGE
tests_checker_crash_huge_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_wrong_type_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_wrong_type_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_wrong_type"' -DMISBEHAVE_CRASH_WRONG_TYPE
tests_checker_crash_wrong_type_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_utf8_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_utf8_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_utf8"' -DMISBEHAVE_CRASH_UTF8
tests_checker_crash_utf8_la_LDFLAGS = $(fixture_ldflags)
tests_checker_err_unterminated_la_SOURCES = tests/checker/misbehave.c
tests_checker_err_unterminated_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"err_unterminated"' -DMISBEHAVE_ERR_UNTERMINATED
tests_checker_err_unterminated_la_LDFLAGS = $(fixture_ldflags)
tests_checker_slow_la_SOURCES = tests/checker/misbehave.c
tests_checker_slow_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"slow"' -DMISBEHAVE_SLOW
tests_checker_slow_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_init_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_init_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_init"' -DMISBEHAVE_CRASH_INIT
tests_checker_crash_init_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_handle_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_handle_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_handle"' -DMISBEHAVE_CRASH_HANDLE
tests_checker_crash_handle_la_LDFLAGS = $(fixture_ldflags)
tests_checker_crash_ctor_la_SOURCES = tests/checker/misbehave.c
tests_checker_crash_ctor_la_CFLAGS = $(plugin_cflags) \
	-DFIXTURE_NAME='"crash_ctor"' -DMISBEHAVE_CRASH_CTOR
tests_checker_crash_ctor_la_LDFLAGS = $(fixture_ldflags)

TESTS += tests/checker/check-plugin-check.sh tests/checker/check-crash.sh
EXTRA_DIST += tests/checker/check-plugin-check.sh tests/checker/check-crash.sh \
	$(checker_rules)
checker_rules = \
	tests/checker/rules/CK_crash_handle.yaml \
	tests/checker/rules/CK_good.yaml \
	tests/checker/rules/CK_rule_reject.yaml \
	tests/checker/rules/CK_slow.yaml \
	tests/checker/rules/CK_undeclared_tags.yaml
checker_fixture_files = \
	tests/checker/fixtures-good/events/commands.jsonl \
	tests/checker/fixtures-good/expected/commands.jsonl \
	tests/checker/fixtures-bad/events/commands.jsonl \
	tests/checker/fixtures-bad/expected/commands.jsonl
EXTRA_DIST += tests/checker/misbehave.c $(checker_fixture_files)

# host/crash.c on its own: the line, the scopes, a real fault.
check_PROGRAMS += tests/checker/check_crash
TESTS += tests/checker/check_crash
tests_checker_check_crash_SOURCES = tests/checker/check_crash.c
tests_checker_check_crash_CFLAGS = $(test_cflags)
tests_checker_check_crash_LDADD = $(test_ldadd)
