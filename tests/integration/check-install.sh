#!/bin/sh
# `make install DESTDIR=tmp` puts every part of ttpd where it belongs:
# ttpd and ttpctl in $sbindir, the plugins in $libdir/ttpd/plugins, the SDK
# header and ttpd-sdk.pc, the sample ttpd.conf in $sysconfdir/ttpd/, the
# rule pack, the man pages and ttpd.service in $docdir; then the installed
# ttpd checks the installed configuration with the installed plugins and
# rules (ttpd -t), and `make uninstall` removes what it installed.
set -u
LC_ALL=C
export LC_ALL

builddir=${TTPD_BUILDDIR:?TTPD_BUILDDIR is not set}
make=${MAKE:-make}
failures=0
checks=0

tmp=$(mktemp -d /tmp/ttpd-test.install.XXXXXX) || {
	echo "check-install: cannot create a temporary directory" >&2
	exit 1
}
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT PIPE TERM

fail()
{
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
	checks=$((checks + 1))
}

pass()
{
	echo "ok: $*"
	checks=$((checks + 1))
}

# The installation directories as this build's Makefile has them.
cat >"$tmp/vars.mk" <<'MK'
include Makefile
ttpd-print-dirs:
	@echo "sbindir='$(sbindir)'"
	@echo "pluginsdir='$(pluginsdir)'"
	@echo "libdir='$(libdir)'"
	@echo "includedir='$(includedir)'"
	@echo "sysconfdir='$(sysconfdir)'"
	@echo "localstatedir='$(localstatedir)'"
	@echo "rulepackdir='$(rulepackdir)'"
	@echo "mandir='$(mandir)'"
	@echo "docdir='$(docdir)'"
	@echo "bindir='$(bindir)'"
MK
# a nested make: not part of the outer make's job server
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! $make -s -C "$builddir" -f "$tmp/vars.mk" ttpd-print-dirs \
    >"$tmp/dirs" 2>"$tmp/err"; then
	echo "FAIL: cannot read the installation directories:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
. "$tmp/dirs"
D=$tmp/root

if $make -s -C "$builddir" install DESTDIR="$D" >"$tmp/install.log" 2>&1
then
	pass "make install DESTDIR=..."
else
	fail "make install DESTDIR=... failed:"
	cat "$tmp/install.log" >&2
	exit 1
fi

want()
{
	# want TEST PATH WHAT
	if [ "$1" "$D$2" ]; then
		pass "$3: $2"
	else
		fail "$3 missing: $2"
	fi
}

want -x "$sbindir/ttpd" "the daemon"
want -x "$sbindir/ttpctl" "the operator's tool"
want -x "$bindir/ttpd-plugin-check" "the plugin checker"
for p in rule_engine canary ipv6_leak intel behavioral email identity \
    credential http_fingerprint; do
	want -f "$pluginsdir/$p.so" "plugin $p"
done
want -f "$includedir/ttpd/lifter.h" "the SDK header"
want -f "$libdir/pkgconfig/ttpd-sdk.pc" "the pkg-config file"
want -f "$sysconfdir/ttpd/ttpd.conf" "the sample configuration"
want -d "$rulepackdir" "the rule pack"
for m in man8/ttpd.8 man8/ttpctl.8 man5/ttpd.conf.5 man3/ttpd-plugin.3 \
    man1/ttpd-plugin-check.1; do
	want -f "$mandir/$m" "man page"
done
want -f "$docdir/ttpd.service" "the systemd unit"

# plugins.dir is $libdir/ttpd/plugins
case $pluginsdir in
"$libdir"/ttpd/plugins) pass "pluginsdir is \$libdir/ttpd/plugins" ;;
*) fail "pluginsdir $pluginsdir is not $libdir/ttpd/plugins" ;;
esac

nrules=$(ls "$D$rulepackdir" 2>/dev/null | grep -c '\.yaml$')
if [ "$nrules" -gt 0 ]; then
	pass "rule pack: $nrules rules"
else
	fail "the installed rule pack has no rule"
fi

# The sample configuration points at this installation.
conf=$D$sysconfdir/ttpd/ttpd.conf
for path in "$pluginsdir" "$rulepackdir" "$localstatedir/lib/ttpd/ttpd.db" \
    "$localstatedir/lib/ttpd/stats.json"; do
	if grep -q "\"$path\"" "$conf" 2>/dev/null; then
		pass "ttpd.conf names $path"
	else
		fail "the installed ttpd.conf does not name $path"
	fi
done
# ...and so does the unit
if grep -q "^ExecStart=$sbindir/ttpd -f -c $sysconfdir/ttpd/ttpd.conf\$" \
    "$D$docdir/ttpd.service" 2>/dev/null; then
	pass "ttpd.service runs $sbindir/ttpd -f"
else
	fail "ttpd.service does not run $sbindir/ttpd -f -c" \
	    "$sysconfdir/ttpd/ttpd.conf"
fi

# The installed binary accepts the installed configuration with the
# installed plugins and rules (paths moved under DESTDIR).
if "$D$sbindir/ttpd" -c "$conf" \
    -o "plugins.dir=\"$D$pluginsdir\"" \
    -o "rules.dirs=[\"$D$rulepackdir\"]" \
    -o "store.path=\"$tmp/t.db\"" -t >"$tmp/t.out" 2>&1; then
	pass "installed ttpd -t accepts the installed configuration"
else
	fail "installed ttpd -t refuses the installed configuration:"
	cat "$tmp/t.out" >&2
fi
if grep -q "^plugin rule_engine: $D$pluginsdir/rule_engine.so " \
    "$tmp/t.out"; then
	pass "installed ttpd -t loaded the installed rule engine"
else
	fail "installed ttpd -t did not report the installed rule engine"
fi

# An SDK user finds the header through pkg-config.
if command -v pkg-config >/dev/null 2>&1; then
	cflags=$(PKG_CONFIG_PATH="$D$libdir/pkgconfig" \
	    PKG_CONFIG_SYSROOT_DIR="$D" pkg-config --cflags ttpd-sdk 2>&1)
	if [ -f "$(printf '%s' "$cflags" | sed -n \
	    's/.*-I\([^ ]*\).*/\1/p')/ttpd/lifter.h" ]; then
		pass "pkg-config --cflags ttpd-sdk finds ttpd/lifter.h"
	else
		fail "pkg-config --cflags ttpd-sdk ($cflags) does not lead" \
		    "to ttpd/lifter.h"
	fi
fi

# make uninstall leaves no file behind
if $make -s -C "$builddir" uninstall DESTDIR="$D" >"$tmp/uninstall.log" \
    2>&1; then
	left=$(find "$D" -type f | sed "s|^$D||")
	if [ -z "$left" ]; then
		pass "make uninstall removes every installed file"
	else
		fail "make uninstall leaves:" $left
	fi
else
	fail "make uninstall failed:"
	cat "$tmp/uninstall.log" >&2
fi

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
