#!/bin/sh
# The rule pack's generated files (conf/rules/MANIFEST, doc/rules.md) match
# the rule files, and tools/rulepack refuses changes that should have come
# with a new pack version or a new rule_version.
set -u
tool="$TTPD_BUILDDIR/tools/rulepack"
pack="$TTPD_SRCDIR/conf/rules"
table="$TTPD_SRCDIR/doc/rules.md"
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

"$tool" check "$pack" "$table" ||
	fail "the committed MANIFEST or doc/rules.md is stale (see above)"

tmp=$(mktemp -d /tmp/ttpd-rulepack.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "$pack"/*.yaml "$pack"/VERSION "$pack"/MANIFEST "$tmp"/ || exit 1
cp "$table" "$tmp"/rules.md || exit 1
"$tool" check "$tmp" "$tmp"/rules.md || fail "the copy does not check"
file=$(ls "$tmp"/discovery_TD*.yaml | head -n 1)

# An edit that keeps the rule's meaning still needs a new pack version.
echo "# edited" >> "$file"
"$tool" check "$tmp" "$tmp"/rules.md 2>/dev/null &&
	fail "check accepted an edited rule without a new pack version"
"$tool" update "$tmp" "$tmp"/rules.md 2>/dev/null &&
	fail "update accepted an edited rule without a new pack version"
echo "9999.1" > "$tmp"/VERSION
"$tool" update "$tmp" "$tmp"/rules.md ||
	fail "update refused an edit with a new pack version"
"$tool" check "$tmp" "$tmp"/rules.md || fail "check failed after update"
grep -q "^# ttpd rule pack 9999.1" "$tmp"/rules.md ||
	fail "the table does not show the new pack version"

# A new pattern needs a new rule_version as well.
sed "s/^  pattern: '/  pattern: '(?:zzzz)|/" "$file" > "$tmp"/edited &&
	mv "$tmp"/edited "$file"
echo "9999.2" > "$tmp"/VERSION
"$tool" update "$tmp" "$tmp"/rules.md 2>/dev/null &&
	fail "update accepted a new pattern without a new rule_version"
version=$(sed -n 's/^rule_version: //p' "$file")
sed "s/^rule_version: .*/rule_version: $((version + 1))/" "$file" \
    > "$tmp"/edited && mv "$tmp"/edited "$file"
"$tool" update "$tmp" "$tmp"/rules.md ||
	fail "update refused a new pattern with a new rule_version"
"$tool" check "$tmp" "$tmp"/rules.md || fail "check failed after update"

exit $failed
