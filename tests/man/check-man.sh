#!/bin/sh
# The manual pages: lint them, and check them against the code so that the
# two cannot drift apart:
#  - every option of `ttpd --help` is an item of OPTIONS in ttpd(8), and
#    every item there is a real option; the SYNOPSIS matches the usage line;
#  - every setting of conf/ttpd.conf is documented in ttpd.conf(5), with
#    the same default, and ttpd.conf(5) documents no other setting;
#  - the example lifter of ttpd-plugin(3) compiles, loads and tags.
# Never skips: a missing tool or binary is a failure.
set -u
LC_ALL=C
export LC_ALL

srcdir=${TTPD_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TTPD_BUILDDIR:-$srcdir}
man=$srcdir/man
pages="ttpd.8 ttpd.conf.5 ttpd-plugin.3 ttpctl.8"
ttpd=$builddir/host/ttpd
failures=0
checks=0

tmp=$(mktemp -d /tmp/check-man.XXXXXX) || {
	echo "check-man: cannot create a temporary directory" >&2
	exit 1
}
trap 'rm -rf "$tmp"' EXIT
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

# ------------------------------------------------------------------ lint

# Every linter that is installed runs: groff and mandoc catch different
# mistakes.  At least one must be there.
linters=0
if command -v mandoc >/dev/null 2>&1; then
	linters=$((linters + 1))
	for p in $pages; do
		if out=$(mandoc -T lint -W warning "$man/$p" 2>&1) &&
		    [ -z "$out" ]; then
			pass "mandoc -T lint $p"
		else
			fail "mandoc -T lint -W warning $p:"
			printf '%s\n' "$out" >&2
		fi
	done
fi
if command -v groff >/dev/null 2>&1; then
	linters=$((linters + 1))
	for p in $pages; do
		# groff exits 0 on warnings: any output is a failure.
		if out=$(groff -mandoc -Tutf8 -ww -z "$man/$p" 2>&1) &&
		    [ -z "$out" ]; then
			pass "groff -ww $p"
		else
			fail "groff -mandoc -Tutf8 -ww -z $p:"
			printf '%s\n' "$out" >&2
		fi
	done
fi
if [ "$linters" -eq 0 ]; then
	fail "neither mandoc nor groff is installed; install one" \
	    "(apt-get install mandoc, or groff-base)"
fi

# Text of the source of section $2 of page $1 (up to the next .Sh).
section()
{
	awk -v want="$2" '
		/^\.Sh / { sub(/^\.Sh /, ""); on = ($0 == want); next }
		on' "$1"
}

# The words that follow each Fl macro in the input, "\-" turned into "-"
# and the mdoc dash prefix added: ".It Fl c Ar file , Fl \-config" gives
# "-c" and "--config".  With -s, flag clusters are split: "-ftVh" gives
# -f -t -V -h.
fl_words()
{
	awk -v split_clusters="${1:-}" '
		/^\./ {
			gsub(/\\-/, "-")
			sub(/^\./, "")
			for (i = 1; i < NF; i++) {
				if ($i != "Fl")
					continue
				w = $(i + 1)
				if (w !~ /^-?[A-Za-z][A-Za-z0-9-]*$/)
					continue
				if (w ~ /^-/ || split_clusters == "" ||
				    length(w) == 1)
					print "-" w
				else
					for (k = 1; k <= length(w); k++)
						print "-" substr(w, k, 1)
			}
		}'
}

# ---------------------------------------------------------- ttpd options

if [ ! -x "$ttpd" ]; then
	fail "$ttpd is missing: build ttpd before checking its manual"
elif ! "$ttpd" --help >"$tmp/help" 2>&1; then
	fail "$ttpd --help failed:"
	cat "$tmp/help" >&2
else
	# Options of the help text: "  -c, --config FILE" and "      --replay".
	sed -n 's/^  *\(-[A-Za-z]\), \(--[a-z][a-z0-9-]*\).*/\1\
\2/p; s/^  *\(--[a-z][a-z0-9-]*\).*/\1/p' "$tmp/help" |
	    sort -u >"$tmp/help-opts"
	section "$man/ttpd.8" OPTIONS | grep '^\.It ' | fl_words |
	    sort -u >"$tmp/man-opts"
	if [ ! -s "$tmp/help-opts" ]; then
		fail "found no option in the output of ttpd --help"
	fi
	missing=$(comm -23 "$tmp/help-opts" "$tmp/man-opts")
	extra=$(comm -13 "$tmp/help-opts" "$tmp/man-opts")
	if [ -z "$missing" ]; then
		pass "ttpd.8 OPTIONS documents all $(wc -l <"$tmp/help-opts")" \
		    "options of ttpd --help"
	else
		fail "options of ttpd --help missing from OPTIONS in ttpd.8:" \
		    $missing
	fi
	if [ -z "$extra" ]; then
		pass "ttpd.8 OPTIONS documents no option ttpd lacks"
	else
		fail "ttpd.8 OPTIONS documents options ttpd --help does" \
		    "not know:" $extra
	fi

	# The usage line (up to the first blank line) against the SYNOPSIS.
	sed '/^$/q' "$tmp/help" | tr ' ' '\n' |
	    sed -n 's/^\[\(--*[A-Za-z][A-Za-z0-9-]*\)\]*$/\1/p' |
	    awk '/^--/ { print; next }
		{ for (k = 2; k <= length($0); k++)
			print "-" substr($0, k, 1) }' |
	    sort -u >"$tmp/usage-opts"
	section "$man/ttpd.8" SYNOPSIS | fl_words -s | sort -u \
	    >"$tmp/synopsis-opts"
	if [ -s "$tmp/usage-opts" ] &&
	    cmp -s "$tmp/usage-opts" "$tmp/synopsis-opts"; then
		pass "ttpd.8 SYNOPSIS matches the usage line of ttpd --help"
	else
		fail "ttpd.8 SYNOPSIS and the usage line of ttpd --help" \
		    "differ (usage: $(tr '\n' ' ' <"$tmp/usage-opts")," \
		    "synopsis: $(tr '\n' ' ' <"$tmp/synopsis-opts"))"
	fi
fi

# ------------------------------------------------------ ttpd.conf settings

# Settings of a libconfig file, one per line: "path<TAB>value", where path
# is dotted (list elements are "[]") and value is the scalar as written
# (strings without their quotes; "" for groups, lists and arrays).  Lines
# that are only a commented-out assignment ("# name = value;") count too,
# with the path "#.name".
conf_settings()
{
	awk '
	function emit(tok) { toks[ntok++] = tok }
	{
		line = $0
		if (match(line, /^[ \t]*(#|\/\/)[ \t]*[a-z_][a-z0-9_]*[ \t]*[=:][^=]*;[ \t]*$/)) {
			t = line
			sub(/^[ \t]*(#|\/\/)[ \t]*/, "", t)
			sub(/[ \t]*[=:].*/, "", t)
			print "#." t "\t"
			next
		}
		n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1)
			if (incomment) {
				if (c == "*" && substr(line, i + 1, 1) == "/") {
					incomment = 0
					i++
				}
				continue
			}
			if (c == "\"") {
				s = ""
				for (i++; i <= n; i++) {
					c = substr(line, i, 1)
					if (c == "\\") {
						s = s substr(line, i, 2)
						i++
						continue
					}
					if (c == "\"")
						break
					s = s c
				}
				emit("\"" s)
				continue
			}
			if (c == "#" || (c == "/" && substr(line, i + 1, 1) == "/"))
				break
			if (c == "/" && substr(line, i + 1, 1) == "*") {
				incomment = 1
				i++
				continue
			}
			if (c ~ /[ \t]/)
				continue
			if (c ~ /[][{}():=;,]/) {
				emit(c)
				continue
			}
			w = c
			while (i < n && substr(line, i + 1, 1) ~ /[A-Za-z0-9_.+-]/)
				w = w substr(line, ++i, 1)
			emit(w)
		}
	}
	END {
		depth = 0
		for (k = 0; k < ntok; k++) {
			t = toks[k]
			if (t ~ /^[A-Za-z_@]/ && (toks[k + 1] == "=" || toks[k + 1] == ":")) {
				path = ""
				for (d = 1; d <= depth; d++)
					path = path stack[d] "."
				path = path t
				v = toks[k + 2]
				if (v == "{" || v == "(" || v == "[") {
					print path "\t"
					stack[++depth] = t
					k += 2
				} else {
					sub(/^"/, "", v)
					print path "\t" v
					k += 2
				}
				continue
			}
			if (t == "{" || t == "(" || t == "[") {
				stack[++depth] = "[]"
				continue
			}
			if (t == "}" || t == ")" || t == "]")
				depth--
		}
	}' "$1"
}

conf5=$man/ttpd.conf.5
if [ ! -f "$srcdir/conf/ttpd.conf" ]; then
	fail "$srcdir/conf/ttpd.conf is missing"
else
	conf_settings "$srcdir/conf/ttpd.conf" >"$tmp/settings"
	groups="store rules plugins attack log input bus daemon"
	count=0
	bad=""
	baddef=""
	while IFS='	' read -r path value; do
		case $path in
		*.*.*|*'[]'*|'#.'*)
			# Deeper settings and commented-out examples: the name
			# must at least appear.
			leaf=${path##*.}
			grep -qw -- "$leaf" "$conf5" || bad="$bad $path"
			;;
		*.*)
			item=$(grep "^\.It Cm $path\( \|$\)" "$conf5")
			if [ -z "$item" ]; then
				bad="$bad $path"
			elif [ -n "$value" ] &&
			    printf '%s\n' "$item" | grep -q 'default'; then
				# ".It Cm x.y Pq integer, ..., default 1000"
				# ".It Cm x.y Pq string, default Qq v15.1"
				def=$(printf '%s\n' "$item" |
				    sed 's/.*default *//; s/^Qq *//')
				[ "$def" = "$value" ] ||
				    baddef="$baddef $path($value/$def)"
			fi
			;;
		*)
			grep -q "^\.Ss $path\$" "$conf5" || bad="$bad $path"
			;;
		esac
		count=$((count + 1))
	done <"$tmp/settings"
	if [ "$count" -eq 0 ]; then
		fail "found no setting in conf/ttpd.conf"
	elif [ -z "$bad" ]; then
		pass "ttpd.conf.5 documents all $count settings of" \
		    "conf/ttpd.conf"
	else
		fail "settings of conf/ttpd.conf not documented in" \
		    "ttpd.conf.5:$bad"
	fi
	if [ -z "$baddef" ]; then
		pass "ttpd.conf.5 gives the defaults of conf/ttpd.conf"
	else
		fail "defaults in ttpd.conf.5 differ from conf/ttpd.conf" \
		    "(conf/man):$baddef"
	fi

	# Every "x.y" item of ttpd.conf.5 must be a setting of the sample.
	extra=""
	for item in $(sed -n 's/^\.It Cm \([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*\).*/\1/p' "$conf5"); do
		case " $groups " in
		*" ${item%%.*} "*) ;;
		*) continue ;;
		esac
		cut -f1 "$tmp/settings" | grep -qx -- "$item" ||
		    extra="$extra $item"
	done
	if [ -z "$extra" ]; then
		pass "ttpd.conf.5 documents no setting conf/ttpd.conf lacks"
	else
		fail "ttpd.conf.5 documents settings conf/ttpd.conf does" \
		    "not have:$extra"
	fi
fi

# ------------------------------------------------ the ttpd-plugin(3) example

# The .Bd -literal block of page $1 that contains a line matching $2, with
# the roff escapes the pages use undone.
literal_block()
{
	awk -v pat="$2" '
		/^\.Bd -literal/ { inb = 1; n = 0; found = 0; next }
		inb && /^\.Ed/ {
			if (found)
				for (k = 0; k < n; k++)
					print b[k]
			inb = 0
			next
		}
		inb {
			b[n++] = $0
			if ($0 ~ pat)
				found = 1
		}' "$1" | sed 's/\\e/\\/g; s/\\&//g; s/\\(dq/"/g'
}

plugin3=$man/ttpd-plugin.3
mkdir -p "$tmp/plugins" "$tmp/rules"
literal_block "$plugin3" 'TTPD_LIFTER_DEFINE\(' >"$tmp/example.c"
literal_block "$plugin3" '^rule_id: ' >"$tmp/rules/X0001.yaml"
cc=${CC:-cc}
if [ ! -s "$tmp/example.c" ] || [ ! -s "$tmp/rules/X0001.yaml" ]; then
	fail "ttpd-plugin.3: cannot find the example lifter and its rule"
elif ! $cc -std=c99 -Wall -Wextra -Werror -shared -fPIC \
    -fvisibility=hidden -I"$srcdir/sdk" -o "$tmp/plugins/example.so" \
    "$tmp/example.c" 2>"$tmp/cc.err"; then
	fail "ttpd-plugin.3: the example lifter does not compile:"
	cat "$tmp/cc.err" >&2
elif [ ! -x "$ttpd" ]; then
	fail "ttpd-plugin.3: cannot try the example without $ttpd"
else
	pass "ttpd-plugin.3: the example lifter compiles cleanly as C99"
	chmod 0755 "$tmp/plugins/example.so"
	cat >"$tmp/ttpd.conf" <<EOF
store: { path = "$tmp/t.db"; };
rules: { dirs = [ "$tmp/rules" ]; };
plugins: {
	dir = "$tmp/plugins";
	load = ( { name = "example"; config = { multiplier = 1.2; }; } );
};
EOF
	if "$ttpd" -t -c "$tmp/ttpd.conf" >"$tmp/t.out" 2>&1 &&
	    grep -q '^plugin example: .* rules=1 (X0001)$' "$tmp/t.out"; then
		pass "ttpd-plugin.3: ttpd -t loads the example and its rule"
	else
		fail "ttpd-plugin.3: ttpd -t with the example lifter:"
		cat "$tmp/t.out" >&2
	fi
	long=$(printf '%0220d' 0)
	cat >"$tmp/events.jsonl" <<EOF
{"source_kind":"command","source_id":"c-1","attacker_uuid":"a-1","payload":{"command_text":"echo $long","user":"root"}}
{"source_kind":"command","source_id":"c-2","attacker_uuid":"a-1","payload":{"command_text":"id"}}
EOF
	for run in 1 2; do
		expect="events=2 tags=1 inserted=1 errors=0"
		[ "$run" -eq 2 ] && expect="events=2 tags=1 inserted=0 errors=0"
		if "$ttpd" -c "$tmp/ttpd.conf" --replay "$tmp/events.jsonl" \
		    --tags-out "$tmp/tags.jsonl" >"$tmp/r.out" 2>"$tmp/r.err" &&
		    [ "$(cat "$tmp/r.out")" = "$expect" ]; then
			pass "ttpd-plugin.3: replay $run with the example:" \
			    "$expect"
		else
			fail "ttpd-plugin.3: replay $run with the example" \
			    "(expected $expect):"
			cat "$tmp/r.out" "$tmp/r.err" >&2
		fi
		if [ "$run" -eq 1 ]; then
			if grep -q '"technique_id":"T1059".*"confidence":0\.[56][0-9]*,.*"evidence":{"command_text":"echo 0*","user":"root","length":225}' \
			    "$tmp/tags.jsonl"; then
				pass "ttpd-plugin.3: the example's tag has" \
				    "its evidence and confidence"
			else
				fail "ttpd-plugin.3: unexpected tag from the" \
				    "example:"
				cat "$tmp/tags.jsonl" >&2
			fi
		fi
	done
fi

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
