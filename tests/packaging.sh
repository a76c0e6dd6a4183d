#!/usr/bin/env bash
# What a packager and a user of an installed chatconform rely on (make check-packaging, part of make test):
#
#  1. make help, make -n clean and make -n run install nothing: apt-get and sudo are stubs that fail
#     loudly; with every package reported missing, make help and make -n clean still work and make
#     stops on any build with one line naming the packages and scripts/deps.sh.
#  2. make install PREFIX=$tmp/usr, built in a folder of its own (the checkout's build/ and bin/ are not
#     touched) and without -Werror: the files installed are exactly the expected ones; the man pages
#     print no groff warning; from another folder, chatconform list finds every suite and chatconform
#     run passes against the mockd it starts (so mockd found its default keys there too); make
#     uninstall removes exactly what was installed.
#  3. make install DESTDIR=$tmp/dest PREFIX=/usr: the same files under DESTDIR, the programs and man
#     pages pointing at /usr/share/chatconform; make uninstall with the same DESTDIR removes them.
#
#   tests/packaging.sh        from the top of the repository; exit 0 when every check passed
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/chatconform-packaging-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

failures=0
pass() { echo "packaging: ok   $*"; }
fail() { echo "packaging: FAIL $*" >&2; failures=$((failures + 1)); }

# A make of its own, not the -n, -j or jobserver of a make test that runs this script.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "$@"; }

# ---- 1. nothing installs unasked ---------------------------------------------------------------

stubs=$tmp/stubs
mkdir -p "$stubs"
for tool in apt-get apt sudo; do
	cat >"$stubs/$tool" <<EOF
#!/bin/sh
echo "STUB $tool CALLED: \$*" >&2
echo "$tool \$*" >>"$tmp/called"
exit 99
EOF
done
# dpkg-query that knows no package: every package is missing.
printf '#!/bin/sh\nexit 1\n' >"$stubs/dpkg-query.none"
chmod +x "$stubs"/*

# True when a stub ran; why_called says which, and forgets it.
called() { [ -e "$tmp/called" ]; }
why_called() { if called; then echo "apt-get or sudo was called: $(cat "$tmp/called")"; rm -f "$tmp/called"; fi; }

out=$(PATH=$stubs:$PATH mk help 2>"$tmp/err") || true
if [ "$out" = "$(sed -n '1,8p' Makefile)" ] && [ ! -s "$tmp/err" ] && ! called; then
	pass "make help prints the help and calls neither apt-get nor sudo"
else
	fail "make help: $(cat "$tmp/err") $(why_called)"
fi
out=$(PATH=$stubs:$PATH mk -n clean 2>"$tmp/err") || true
if [ "$out" = "rm -rf build bin" ] && [ ! -s "$tmp/err" ] && ! called; then
	pass "make -n clean prints its command and calls neither apt-get nor sudo"
else
	fail "make -n clean: '$out' $(cat "$tmp/err") $(why_called)"
fi
out=$(PATH=$stubs:$PATH mk -n run 2>&1) || true
if grep -qx 'scripts/deps.sh' <<<"$out" && ! called; then
	pass "make -n run shows scripts/deps.sh as its step, without running it"
else
	fail "make -n run: $(why_called)"
fi

# Every package missing.
cp "$stubs/dpkg-query.none" "$stubs/dpkg-query"
out=$(PATH=$stubs:$PATH mk help 2>&1) || true
if [ "$out" = "$(sed -n '1,8p' Makefile)" ] && ! called; then
	pass "make help works with every package missing"
else
	fail "make help with every package missing: $out"
fi
out=$(PATH=$stubs:$PATH mk -n clean 2>&1) || true
if [ "$out" = "rm -rf build bin" ] && ! called; then
	pass "make -n clean works with every package missing"
else
	fail "make -n clean with every package missing: $out"
fi
rc=0
out=$(PATH=$stubs:$PATH mk BUILD="$tmp/nobuild" BINDIR="$tmp/nobin" all 2>&1) || rc=$?
if [ "$rc" -ne 0 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q 'missing Debian packages: .*libevent-dev' <<<"$out" &&
   grep -q 'scripts/deps.sh' <<<"$out" && [ ! -e "$tmp/nobin/mockd" ] && ! called; then
	pass "make with packages missing stops with one line: $out"
else
	fail "make with packages missing (exit $rc) said: $out $(why_called)"
fi
rm "$stubs/dpkg-query"

# ---- 2. install under a temporary PREFIX, use it from elsewhere, uninstall ----------------------

prefix=$tmp/usr
# Files already there that uninstall must leave.
mkdir -p "$prefix/bin" "$prefix/share/man/man1"
echo keep >"$prefix/bin/other-tool"
echo keep >"$prefix/share/man/man1/other.1"

# What install must write, relative to PREFIX.
{
	echo bin/mockd
	echo bin/chatconform
	echo share/man/man1/mockd.1
	echo share/man/man1/chatconform.1
	echo share/bash-completion/completions/mockd
	echo share/bash-completion/completions/chatconform
	find suites fixtures spec schemas -type f | sed 's|^|share/chatconform/|'
} | sort >"$tmp/expected"

build=(BUILD="$tmp/build" BINDIR="$tmp/bin")
if mk -j2 "${build[@]}" V=1 PREFIX="$prefix" install >"$tmp/install.log" 2>&1; then
	pass "make install PREFIX=$prefix"
else
	tail -n 30 "$tmp/install.log" >&2
	fail "make install PREFIX=$prefix"
fi
if grep -q -- ' -c -o ' "$tmp/install.log" && ! grep -- ' -c -o ' "$tmp/install.log" | grep -q -- '-Werror'; then
	pass "the install build compiles without -Werror"
else
	fail "the install build compiled with -Werror, or compiled nothing"
fi
(cd "$prefix" && find . -type f | sed 's|^\./||' | grep -v -e '^bin/other-tool$' -e '^share/man/man1/other.1$' | sort) \
	>"$tmp/installed"
if diff -u "$tmp/expected" "$tmp/installed" >"$tmp/diff"; then
	pass "make install wrote exactly the $(wc -l <"$tmp/expected") expected files"
else
	fail "make install wrote other files than expected: $(cat "$tmp/diff")"
fi
if [ -x "$prefix/bin/chatconform" ] && [ "$(stat -c %a "$prefix/share/chatconform/fixtures/keys.json")" = 644 ]; then
	pass "programs are executable, data is mode 644"
else
	fail "modes of the installed files"
fi

for page in mockd chatconform; do
	warn=$(groff -ww -man -z "$prefix/share/man/man1/$page.1" 2>&1)
	if [ -z "$warn" ] && grep -qx ".ds datadir $prefix/share/chatconform" "$prefix/share/man/man1/$page.1" &&
	   grep -qx ".ds version $(cat VERSION)" "$prefix/share/man/man1/$page.1"; then
		pass "groff -ww -man -z $page.1: no warning; its data folder and version are the installed ones"
	else
		fail "man page $page.1: $warn"
	fi
done
# Every option a program's --help shows is in its man page and its completion: the three are written by
# hand, and an option added to one only is the drift this catches.
documented() {
	local prog=$1 page=$2 comp=$3 opt missing=""
	shift 3
	# The options a help line starts with ("  -v, --verbose  ..."), not those its text mentions.
	for opt in $("$@" 2>&1 | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -o -- '--[a-z-]*' | sort -u); do
		grep -qF -- "$(sed 's/-/\\-/g' <<<"$opt")" "$page" || missing+=" $opt (man page)"
		grep -qF -- "$opt" "$comp" || missing+=" $opt (completion)"
	done
	if [ -z "$missing" ]; then
		pass "every option of '$*' is in $page and $comp"
	else
		fail "options of '$*' missing from:$missing"
	fi
}
documented mockd man/mockd.1 completions/mockd bin/mockd --help
for cmd in run list record compare; do
	documented chatconform man/chatconform.1 completions/chatconform bin/chatconform "$cmd" --help
done

for c in mockd chatconform; do
	if bash -c "source '$prefix/share/bash-completion/completions/$c' && complete -p $c" >/dev/null 2>&1; then
		pass "bash completion for $c loads"
	else
		fail "bash completion for $c does not load"
	fi
done

# From another folder: no suites/, fixtures/ or spec/ here, nor beside the executable (PREFIX/suites).
away=$tmp/x
mkdir -p "$away"
expect_cases=$(bin/chatconform list 2>/dev/null | wc -l)
got_cases=$(cd "$away" && PATH=$prefix/bin:/usr/bin:/bin chatconform list 2>"$tmp/list.err" | wc -l) || true
if [ "$got_cases" -gt 0 ] && [ "$got_cases" -eq "$expect_cases" ]; then
	pass "chatconform list from $away finds all $got_cases cases under $prefix/share/chatconform"
else
	fail "chatconform list from $away: $got_cases cases, expected $expect_cases: $(cat "$tmp/list.err")"
fi
rc=0
(cd "$away" && PATH=$prefix/bin:/usr/bin:/bin chatconform run --junit "$away/junit.xml" >"$tmp/run.log" 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && ! grep -q 'no keys file found' "$tmp/run.log"; then
	pass "chatconform run from $away against the mockd it starts: $(tail -n 1 "$tmp/run.log")"
else
	tail -n 20 "$tmp/run.log" >&2
	fail "chatconform run from $away exited $rc"
fi
if xmllint --noout --schema "$prefix/share/chatconform/schemas/junit-10.xsd" "$away/junit.xml" 2>"$tmp/xsd.err"; then
	pass "its JUnit report is valid against the installed schema"
else
	fail "the JUnit report against the installed schema: $(cat "$tmp/xsd.err")"
fi
# mockd alone, from that folder: it must find the installed keys (a widget key answers 200, not 401).
(cd "$away" && exec "$prefix/bin/mockd" --listen 127.0.0.1:0 --port-file "$tmp/port" --time-scale 0 \
	2>"$tmp/mockd.err") &
mockd_pid=$!
# The port file is complete once it ends in a newline.
for _ in $(seq 50); do [ "$(tail -c 1 "$tmp/port" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 0a ] && break; sleep 0.1; done
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$(head -n 1 "$tmp/port" 2>/dev/null)/chat" \
	-H 'x-api-key: widget-dev-key-0123456789abcdef' -H 'content-type: application/json' \
	-d '{"sessionId": "user-1", "message": "hello"}' 2>/dev/null) || true
kill "$mockd_pid" 2>/dev/null || true
wait "$mockd_pid" 2>/dev/null || true
if [ "$status" = 200 ] && ! grep -q 'no keys file found' "$tmp/mockd.err"; then
	pass "mockd started from $away finds its default keys under $prefix/share/chatconform"
else
	fail "mockd from $away: POST /chat answered '$status': $(cat "$tmp/mockd.err")"
fi

if mk "${build[@]}" PREFIX="$prefix" uninstall >"$tmp/uninstall.log" 2>&1; then
	left=$(cd "$prefix" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
	if [ "$left" = "bin/other-tool share/man/man1/other.1 " ] && [ ! -e "$prefix/share/chatconform" ]; then
		pass "make uninstall removed exactly what was installed (and left other files and folders)"
	else
		fail "after make uninstall: files left: $left"
	fi
else
	fail "make uninstall: $(cat "$tmp/uninstall.log")"
fi

# ---- 3. DESTDIR: the files under it, the paths in them without it ------------------------------

dest=$tmp/dest
if mk -j2 "${build[@]}" DESTDIR="$dest" PREFIX=/usr install >"$tmp/install2.log" 2>&1; then
	(cd "$dest/usr" && find . -type f | sed 's|^\./||' | sort) >"$tmp/installed2"
	if diff -u "$tmp/expected" "$tmp/installed2" >"$tmp/diff" &&
	   grep -q '/usr/share/chatconform/suites' "$dest/usr/bin/chatconform" &&
	   grep -q '/usr/share/chatconform/fixtures/keys.json' "$dest/usr/bin/mockd" &&
	   grep -qx '.ds datadir /usr/share/chatconform' "$dest/usr/share/man/man1/mockd.1" &&
	   [ "$(find "$dest" -mindepth 1 -maxdepth 1)" = "$dest/usr" ]; then
		pass "make install DESTDIR=$dest PREFIX=/usr: the same files, pointing at /usr/share/chatconform"
	else
		fail "make install with DESTDIR: $(cat "$tmp/diff")"
	fi
else
	tail -n 30 "$tmp/install2.log" >&2
	fail "make install DESTDIR=$dest PREFIX=/usr"
fi
mk "${build[@]}" DESTDIR="$dest" PREFIX=/usr uninstall >/dev/null 2>&1 || true
if [ -z "$(find "$dest" -type f)" ]; then
	pass "make uninstall DESTDIR=$dest PREFIX=/usr removed every file"
else
	fail "after make uninstall with DESTDIR: $(find "$dest" -type f | head -n 5)"
fi

if [ "$failures" -ne 0 ]; then
	echo "packaging: $failures check(s) failed" >&2
	exit 1
fi
echo "packaging: every check passed"
