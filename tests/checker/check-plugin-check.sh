#!/bin/sh
# ttpd-plugin-check: every in-tree plugin passes; the well-behaved fixture
# passes; each misbehaving fixture (tests/checker/misbehave.c) makes exactly
# the check it targets fail, and the checker exits 1 on it.
set -u
# Built with --enable-sanitizers, the fatal signals still belong to the
# code under test (its handler, or the default action), not to ASan's.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:handle_abort=0"
export ASAN_OPTIONS
: "${TTPD_BUILDDIR:?}" "${TTPD_SRCDIR:?}"
checker="$TTPD_BUILDDIR/host/ttpd-plugin-check"
rules="$TTPD_SRCDIR/tests/checker/rules"
umask 022
tmp=$(mktemp -d /tmp/ttpd-test.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
# plugins are refused from group/world-writable places: use our own
mkdir "$tmp/plugins"
failed=0

# run NAME SO ARGS...: output in $tmp/NAME.out, status in $status
run() {
	name=$1 so=$2
	shift 2
	"$checker" "$@" "$so" > "$tmp/$name.out" 2>&1
	status=$?
}

fixture() {
	cp "$TTPD_BUILDDIR/tests/checker/.libs/$1.so" "$tmp/plugins/$1.so" ||
	    exit 99
	echo "$tmp/plugins/$1.so"
}

show() {
	sed 's/^/    /' "$tmp/$1.out"
}

# expect_pass NAME SO ARGS...
expect_pass() {
	name=$1
	run "$@"
	if [ "$status" -ne 0 ] || ! grep -q '^summary: .* 0 failed' \
	    "$tmp/$name.out"; then
		echo "FAIL: $name: ttpd-plugin-check exit $status, expected 0"
		show "$name"
		failed=1
	else
		echo "ok: $name passes"
	fi
}

# expect_fail NAME CHECK SO ARGS...: CHECK must fail (and nothing may
# crash the checker itself)
expect_fail() {
	name=$1 check=$2 so=$3
	shift 3
	run "$name" "$so" "$@"
	if [ "$status" -ne 1 ]; then
		echo "FAIL: $name: exit $status, expected 1"
		show "$name"
		failed=1
	elif ! grep -q "^FAIL $check: " "$tmp/$name.out"; then
		echo "FAIL: $name: no 'FAIL $check:' line"
		show "$name"
		failed=1
	elif ! grep -q '^summary: ' "$tmp/$name.out"; then
		echo "FAIL: $name: no summary line"
		show "$name"
		failed=1
	else
		echo "ok: $name fails $check: $(grep "^FAIL $check: " \
		    "$tmp/$name.out" | cut -c1-160)"
	fi
}

# Every in-tree plugin with the default rule pack.
for p in rule_engine canary ipv6_leak intel behavioral email identity \
    credential http_fingerprint; do
	cp "$TTPD_BUILDDIR/plugins/.libs/$p.so" "$tmp/plugins/$p.so" || exit 99
	expect_pass "$p" "$tmp/plugins/$p.so" -r "$TTPD_SRCDIR/conf/rules"
done

# The control fixture, with rules and matching fixtures.
expect_pass good "$(fixture good)" -r "$rules" \
    -d "$TTPD_SRCDIR/tests/checker/fixtures-good"

# One misbehaviour per check.
expect_fail bad_descriptor descriptor "$(fixture bad_descriptor)"
expect_fail rule_reject rules "$(fixture rule_reject)" -r "$rules"
expect_fail init_twice init-destroy-twice "$(fixture init_twice)"
cat > "$tmp/cfg.conf" <<CONF
store: { path = "$tmp/unused.db"; };
rules: { dirs = [ "$rules" ]; };
plugins: { dir = "$tmp/plugins"; load = (
	{ name = "cfg_missing"; config = { pattern = "wget"; }; }
); };
CONF
expect_fail cfg_missing config-missing "$(fixture cfg_missing)" \
    -c "$tmp/cfg.conf"
expect_fail cfg_unknown config-unknown "$(fixture cfg_unknown)"
expect_fail cfg_wrong_type config-wrong-type "$(fixture cfg_wrong_type)"
expect_fail kind_unhandled kinds-declared "$(fixture kind_unhandled)"
expect_fail undeclared_tags kinds-undeclared "$(fixture undeclared_tags)" \
    -r "$rules"
expect_fail crash_malformed payload-malformed "$(fixture crash_malformed)"
expect_fail crash_truncated payload-truncated "$(fixture crash_truncated)"
expect_fail crash_huge payload-huge "$(fixture crash_huge)"
expect_fail crash_wrong_type fields-wrong-type "$(fixture crash_wrong_type)"
expect_fail crash_utf8 invalid-utf8 "$(fixture crash_utf8)"
expect_fail err_unterminated error-strings "$(fixture err_unterminated)"
expect_fail slow time-budget "$(fixture slow)" -r "$rules" -b 10
expect_fail fixtures_differ fixtures "$tmp/plugins/good.so" -r "$rules" \
    -d "$TTPD_SRCDIR/tests/checker/fixtures-bad"
expect_fail crash_init descriptor "$(fixture crash_init)"

# A crash names the case: the check line says what was running.
if ! grep -q "^FAIL payload-huge: .*case '.*' on command: crashed: signal 6 (SIGABRT)" \
    "$tmp/crash_huge.out"; then
	echo "FAIL: crash_huge: the failure does not name the case and signal"
	show crash_huge
	failed=1
fi
if ! grep -q "^FAIL descriptor: crashed: signal 11 (SIGSEGV) while loading" \
    "$tmp/crash_init.out"; then
	echo "FAIL: crash_init: the failure does not say it crashed loading"
	show crash_init
	failed=1
fi
# The other checks still ran after a crashing case.
if ! grep -q '^PASS fields-wrong-type' "$tmp/crash_huge.out"; then
	echo "FAIL: crash_huge: checks after the crash did not run"
	show crash_huge
	failed=1
fi

# Usage errors exit 2.
"$checker" > /dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: no argument: exit status not 2"; failed=1; }
"$checker" -u "$tmp/plugins/good.so" > /dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: -u without -d: exit status not 2"; failed=1; }

# The manual: lint it, and its OPTIONS against -h.
page="$TTPD_SRCDIR/man/ttpd-plugin-check.1"
linted=0
if command -v mandoc > /dev/null 2>&1; then
	linted=1
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	[ -z "$out" ] || { echo "FAIL: mandoc -T lint: $out"; failed=1; }
fi
if command -v groff > /dev/null 2>&1; then
	linted=1
	out=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
	[ -z "$out" ] || { echo "FAIL: groff -ww: $out"; failed=1; }
fi
[ $linted -eq 1 ] || { echo "FAIL: neither mandoc nor groff to lint" \
    "the manual"; failed=1; }
"$checker" -h | sed -n 's/^  *-\([A-Za-z]\) .*/\1/p' | sort > "$tmp/help-opts"
awk '/^\.Sh OPTIONS|^\.Sh DESCRIPTION/ { on = 1; next } /^\.Sh / { on = 0 }
    on && /^\.It Fl [A-Za-z]/ { print $3 }' "$page" | sort > "$tmp/man-opts"
if [ -s "$tmp/help-opts" ] && cmp -s "$tmp/help-opts" "$tmp/man-opts"; then
	echo "ok: ttpd-plugin-check(1) documents exactly the options of -h"
else
	echo "FAIL: options of -h ($(tr '\n' ' ' < "$tmp/help-opts")) and" \
	    "of the manual ($(tr '\n' ' ' < "$tmp/man-opts")) differ"
	failed=1
fi

exit $failed
