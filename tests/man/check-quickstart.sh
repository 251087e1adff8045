#!/bin/sh
# The README's quick start stays true: its replay command, run on the
# built tree, prints exactly the summary the README quotes, and a second
# run inserts nothing.  (The command's own paths are replaced only where a
# VPATH build puts the plugins elsewhere and the database must be private.)
set -u
LC_ALL=C
export LC_ALL

srcdir=${TTPD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TTPD_BUILDDIR:-$srcdir}
readme=$srcdir/README.md

tmp=$(mktemp -d /tmp/check-quickstart.XXXXXX) || {
	echo "check-quickstart: cannot create a temporary directory" >&2
	exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM

fail()
{
	echo "FAIL: $*"
	exit 1
}

cmd=$(grep -m1 -E '^    .*host/ttpd -c conf/ttpd-dev\.conf --replay ' "$readme") ||
	fail "README: no quick-start command running host/ttpd --replay"
case $cmd in
*'--replay conf/sample-events.jsonl --tags-out -') ;;
*) fail "README quick start no longer ends with the replay this test runs: $cmd" ;;
esac
want=$(grep -m1 -oE 'events=[0-9]+ tags=[0-9]+ inserted=[0-9]+ errors=[0-9]+' \
    "$readme") || fail "README: no quoted replay summary"

run()
{
	(cd "$srcdir" && "$builddir/host/ttpd" -c conf/ttpd-dev.conf \
	    -o "plugins.dir=\"$builddir/plugins/.libs\"" \
	    -o "store.path=\"$tmp/quickstart.db\"" \
	    --replay conf/sample-events.jsonl --tags-out -) 2>"$tmp/err"
}

out=$(run) || { cat "$tmp/err"; fail "quick-start replay exited non-zero"; }
got=$(printf '%s\n' "$out" | tail -n 1)
[ "$got" = "$want" ] ||
	fail "quick start prints '$got' but README.md says '$want'"
ntags=$(printf '%s\n' "$out" | grep -c '^{')
tags=${want#*tags=}; tags=${tags%% *}
[ "$ntags" -eq "$tags" ] ||
	fail "quick start printed $ntags tag lines, summary says $tags"
echo "PASS: quick start prints $want"

again=$(run | tail -n 1) || fail "second replay exited non-zero"
case $again in
*" inserted=0 errors=0") echo "PASS: a second run inserts nothing" ;;
*) fail "second run: '$again' (tag uuids are not deterministic?)" ;;
esac
exit 0
