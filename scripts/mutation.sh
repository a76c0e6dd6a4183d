#!/usr/bin/env bash
# make mutation: prove the suites by breaking mockd one rule at a time.
#
# For every break in `mockd --list-breaks`, start mockd with it and run that API's suites with
# --strict (so SHOULD cases count). A break is detected when some case fails that passes against an
# unbroken mockd (a case that is only BLOCKED, its precondition not met, does not count: it never
# reached its clause): each API's suites are first run without a break, and must pass there, so that a
# case failing for its own reasons cannot pass for a detection. A break that no case catches is a
# hole in the suites: the script prints a table and exits 1 when there is one.
#
#   scripts/mutation.sh [BINDIR]        BINDIR holds mockd and chatconform (default bin)
#   BREAKS="a b" scripts/mutation.sh    only these breaks
set -uo pipefail

bindir=${1:-bin}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

catalog=$("$bindir/mockd" --list-breaks) || { echo "mutation: cannot list the breaks of $bindir/mockd" >&2; exit 2; }

wanted=" $(echo ${BREAKS:-}) "   # any whitespace between names
# The baseline: each API's suites against an unbroken mockd, strict. Anything failing here is a
# defect of the mock or the suite, and would make every break look detected.
declare -A baseline_ok
apis=$(awk '{print $2}' <<<"$catalog" | sort -u)
for api in $apis; do
	[ -d "suites/$api" ] || continue
	if "$bindir/chatconform" run "suites/$api" --strict --junit "$work/baseline-$api.xml" \
		--mockd "$bindir/mockd" >"$work/baseline-$api.log" 2>&1; then
		baseline_ok[$api]=1
	else
		echo "mutation: suites/$api fails against an unbroken mockd; fix that first:" >&2
		grep -E '^(FAIL|ERROR|WARN) ' "$work/baseline-$api.log" | head -20 >&2
		exit 1
	fi
done

total=0
detected=0
missed=()
printf '%-28s %-9s %-7s %s\n' "BREAK" "API" "FAILED" "FIRST FAILING CASE"
while read -r name api _rule; do
	[ -n "$name" ] || continue
	if [ -n "${BREAKS:-}" ] && [[ "$wanted" != *" $name "* ]]; then
		continue
	fi
	total=$((total + 1))
	if [ ! -d "suites/$api" ]; then
		printf '%-28s %-9s %-7s %s\n' "$name" "$api" "-" "no suite for this API"
		missed+=("$name")
		continue
	fi
	out="$work/$name.log"
	"$bindir/chatconform" run "suites/$api" --strict --junit "$work/$name.xml" \
		--mockd "$bindir/mockd" --mockd-arg="--break=$name" >"$out" 2>&1
	rc=$?
	failed=$(grep -cE '^(FAIL|ERROR) ' "$out")
	first=$(grep -m1 -E '^(FAIL|ERROR) ' "$out" | awk '{print $2}')
	if [ "$rc" -eq 1 ] && [ "$failed" -gt 0 ]; then
		detected=$((detected + 1))
		printf '%-28s %-9s %-7s %s\n' "$name" "$api" "$failed" "$first"
	else
		blocked=$(grep -m1 -E '^BLOCKED ' "$out" | awk '{print $2}')
		if [ "$rc" -eq 0 ]; then
			why="NOT DETECTED: every case passed"
		elif [ -n "$blocked" ]; then
			# A blocked case never reached its clause: the case that owns the broken rule is missing.
			why="NOT DETECTED: cases were only blocked (first: $blocked), none failed"
		else
			why="harness problem (exit $rc): $(grep -m1 -E 'chatconform:|error' "$out")"
		fi
		printf '%-28s %-9s %-7s %s\n' "$name" "$api" "0" "$why"
		missed+=("$name")
	fi
done <<<"$catalog"

echo
echo "mutation: $detected of $total breaks detected"
if [ ${#missed[@]} -gt 0 ]; then
	echo "mutation: not detected: ${missed[*]}" >&2
	exit 1
fi
[ "$total" -gt 0 ] || { echo "mutation: no breaks were run" >&2; exit 1; }
