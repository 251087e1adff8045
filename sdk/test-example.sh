#!/bin/sh
# The SDK as a third party gets it: `make install-sdk` into a temporary
# DESTDIR; the installed example lifter (pkg-config --variable=exampledir)
# is copied to a directory of its own and built there with its own
# Makefile and nothing but pkg-config pointed at that staging area (no
# source tree), checked with the installed ttpd-plugin-check, installed
# into the SDK's plugindir, loaded into the real ttpd and its tags checked.
set -u
: "${TTPD_BUILDDIR:?}" "${TTPD_SRCDIR:?}"
umask 022
tmp=$(mktemp -d /tmp/ttpd-test.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
stage="$tmp/root"
pkg_config=${PKG_CONFIG:-pkg-config}

die() {
	echo "FAIL: $1"
	shift
	for f in "$@"; do sed 's/^/    /' "$f"; done
	exit 1
}

# 1. Install the SDK (header, .pc, ttpd-plugin-check) into the staging area.
MAKEFLAGS= MFLAGS= ${MAKE:-make} -s -C "$TTPD_BUILDDIR" install-sdk \
    DESTDIR="$stage" > "$tmp/install.log" 2>&1 ||
    die "make install-sdk" "$tmp/install.log"
pc=$(find "$stage" -name ttpd-sdk.pc | head -n 1)
checker=$(find "$stage" -name ttpd-plugin-check -type f | head -n 1)
header=$(find "$stage" -path '*/ttpd/lifter.h' | head -n 1)
[ -n "$pc" ] || die "no ttpd-sdk.pc installed"
[ -n "$checker" ] && [ -x "$checker" ] || die "no ttpd-plugin-check installed"
[ -n "$header" ] || die "no ttpd/lifter.h installed"
echo "ok: SDK installed ($pc)"

# 2. Only the staged SDK is visible to pkg-config; the compiler sees no
#    source tree.
PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$($pkg_config --cflags ttpd-sdk) || die "pkg-config --cflags ttpd-sdk"
case "$cflags" in
*"$stage"*) ;;
*) die "pkg-config --cflags does not point into the staged SDK: $cflags" ;;
esac
plugindir=$($pkg_config --variable=plugindir ttpd-sdk)
case "$plugindir" in
"$stage"/*) destdir= ;;		# pkgconf applies the sysroot here too
/*) destdir=$stage; plugindir="$stage$plugindir" ;;
*) die "plugindir '$plugindir' is not absolute" ;;
esac

exampledir=$($pkg_config --variable=exampledir ttpd-sdk)
case "$exampledir" in
"$stage"/*) ;;
/*) exampledir="$stage$exampledir" ;;
*) die "exampledir '$exampledir' is not absolute" ;;
esac
[ -f "$exampledir/Makefile" ] && [ -f "$exampledir/dlexec.c" ] ||
    die "the example is not installed in $exampledir"

# 3. Copy the installed example, build, check and install it with its own
#    Makefile.
cp -R "$exampledir" "$tmp/dlexec" || exit 99
example="$tmp/dlexec"
ex_make() {
	MAKEFLAGS= MFLAGS= ${MAKE:-make} -C "$example" \
	    PKG_CONFIG="$pkg_config" CFLAGS="-O2 -g -Werror" "$@"
}
ex_make > "$tmp/build.log" 2>&1 || die "building the example" "$tmp/build.log"
[ -f "$example/dlexec.so" ] || die "no dlexec.so built" "$tmp/build.log"
grep -q -- "-I$stage" "$tmp/build.log" ||
    die "the example was not compiled with the staged SDK" "$tmp/build.log"
echo "ok: the installed example built in a directory of its own"
ex_make check TTPD_PLUGIN_CHECK="$checker" > "$tmp/check.log" 2>&1 ||
    die "make check of the example (ttpd-plugin-check)" "$tmp/check.log"
grep -q '^summary: 16 passed, 0 failed, 0 skipped' "$tmp/check.log" ||
    die "ttpd-plugin-check did not run every check" "$tmp/check.log"
echo "ok: example passes the installed ttpd-plugin-check"
ex_make install DESTDIR="$destdir" > "$tmp/inst.log" 2>&1 ||
    die "make install of the example" "$tmp/inst.log"
[ -f "$plugindir/dlexec.so" ] || die "dlexec.so not in $plugindir" \
    "$tmp/inst.log"
echo "ok: example installed into the SDK's plugindir"

# 4. Load it into the real host.
cat > "$tmp/ttpd.conf" <<CONF
store: { path = "$tmp/ttpd.db"; };
rules: { dirs = [ "$example/rules" ]; };
plugins: { dir = "$plugindir"; load = (
	{ name = "dlexec"; config = { max_commands = 100; }; }
); };
log: { level = "warning"; };
CONF
ttpd="$TTPD_BUILDDIR/host/ttpd"
"$ttpd" -t -c "$tmp/ttpd.conf" > "$tmp/t.out" 2>&1 || die "ttpd -t" "$tmp/t.out"
grep -q '^plugin dlexec: .* kinds=command,session rules=2 (XD0001,XD0002)' \
    "$tmp/t.out" || die "ttpd -t does not list dlexec and its rules" \
    "$tmp/t.out"
"$ttpd" -c "$tmp/ttpd.conf" --replay "$example/events/sessions.jsonl" \
    --tags-out "$tmp/tags.jsonl" > "$tmp/replay.out" 2>&1 ||
    die "ttpd --replay" "$tmp/replay.out"
n=$(wc -l < "$tmp/tags.jsonl")
[ "$n" -eq 8 ] || die "expected 8 tags, got $n" "$tmp/tags.jsonl"
expect() {	# expect SOURCE_ID RULE TECHNIQUE
	grep "\"source_id\":\"$1\"" "$tmp/tags.jsonl" |
	    grep "\"rule_id\":\"$2\"" | grep -q "$3" ||
	    die "no $2 $3 tag on $1" "$tmp/tags.jsonl"
}
expect dx-1 XD0001 '"sub_technique_id":"T1059.004"'
expect dx-1 XD0001 '"technique_id":"T1105"'
expect dx-2 XD0002 '"sub_technique_id":"T1222.002"'
expect dx-3 XD0001 '"shell":"bash"'
expect dx-s2 XD0002 '"execute":"./mips scan"'
if grep -q '"source_id":"dx-4"' "$tmp/tags.jsonl"; then
	die "dx-4 (a download that is never run) was tagged" "$tmp/tags.jsonl"
fi
echo "ok: ttpd loads the example and tags the events"
