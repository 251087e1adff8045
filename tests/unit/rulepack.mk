# The default rule pack (conf/rules): conventions, ATT&CK ids and every
# rule's own examples run through the real rule_engine plugin.
check_PROGRAMS += tests/unit/check_rulepack
TESTS += tests/unit/check_rulepack
tests_unit_check_rulepack_SOURCES = tests/unit/check_rulepack.c \
	tests/unit/testutil.c tests/unit/testutil.h
tests_unit_check_rulepack_CFLAGS = $(test_cflags)
tests_unit_check_rulepack_LDADD = $(test_ldadd)
# The benign command corpus the precision test reads.
EXTRA_DIST += tests/data/benign-commands.txt

# tools/rulepack: the generated rule table (doc/rules.md) and the pack's
# version manifest (conf/rules/MANIFEST); the test fails when either is
# stale or a rule changed without the version bump it needs.
noinst_PROGRAMS += tools/rulepack
tools_rulepack_SOURCES = tools/rulepack.c
tools_rulepack_LDADD = host/libttpdhost.la
TESTS += tests/unit/rulepack-sync.sh
EXTRA_DIST += tests/unit/rulepack-sync.sh doc/rules.md

# Regenerate doc/rules.md and conf/rules/MANIFEST after editing rules
# (refuses until conf/rules/VERSION and any needed rule_version are bumped).
rulepack-update: tools/rulepack
	tools/rulepack update $(srcdir)/conf/rules $(srcdir)/doc/rules.md
.PHONY: rulepack-update
