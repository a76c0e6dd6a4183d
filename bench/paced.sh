#!/usr/bin/env bash
# The paced-stream scenario: how late mockd's tokens arrive against their schedule; see bench/README.md.
#
#   bench/paced.sh [BINDIR]     BINDIR holds mockd (default bin); `make bench` builds everything first
#
# mockd runs at --time-scale 1 with one scripted widget rule: PACED_TOKENS (20) tokens, the first
# PACED_INTERVAL_MS (50) ms after the request, then one every PACED_INTERVAL_MS (20 tokens/s).
# build/bench/lateness measures every token's lateness (arrival - (request sent + first + k x
# interval)) for 1 stream (PACED_ROUNDS_1 rounds, default 10) and for PACED_STREAMS (1000) concurrent
# streams (PACED_ROUNDS_N rounds, default 2), their requests sent evenly over PACED_SPREAD_MS (250:
# 4,000 new streams a second, then 20,000 tokens a second) and, as a stress row, over one interval
# (20,000 requests a second); and the same against build/bench/paced_ref, a bare epoll writer sending
# the same bytes on the same schedule: the floor.
#
# Environment: BENCH_BUILD (default build/bench), BENCH_OUT (default reports/bench-paced.json).
# Talks to 127.0.0.1 only; every process started here is stopped on exit; about 35 s.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
out=${BENCH_OUT:-reports/bench-paced.json}
tokens=${PACED_TOKENS:-20}
interval=${PACED_INTERVAL_MS:-50}
streams=${PACED_STREAMS:-1000}
rounds1=${PACED_ROUNDS_1:-10}
roundsn=${PACED_ROUNDS_N:-2}
spread=${PACED_SPREAD_MS:-250}

die() { echo "bench: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
need_range PACED_TOKENS "$tokens" 2 200
need_range PACED_INTERVAL_MS "$interval" 1 1000
need_range PACED_STREAMS "$streams" 1 2000
need_range PACED_ROUNDS_1 "$rounds1" 1 30
need_range PACED_ROUNDS_N "$roundsn" 1 5
need_range PACED_SPREAD_MS "$spread" 0 5000
need_programs "$bindir/mockd" "$build/lateness" "$build/paced_ref" "$build/loadgen"
# 1,000 streams are 1,000 sockets on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

paced_rule "$tmp/scripts" "$tokens" "$interval"

"$bindir/mockd" --listen 127.0.0.1:0 --port-file "$tmp/mockd.port" --time-scale 1 \
	--keys bench/keys.json --scripts "$tmp/scripts" --log text 2>"$tmp/mockd.log" &
pids+=($!)
mockd_port=$(wait_port "$tmp/mockd.port" "${pids[-1]}" mockd)

key='x-api-key: widget-dev-key-0123456789abcdef'
"$build/loadgen" -c 1 -n 1 -d 10 -X POST -p /v1/chat/stream -H "$key" -b '{"sessionId":"capture","message":"paced"}' \
	-s 200 -o "$tmp/paced.ndjson" "$mockd_port" >/dev/null || die "mockd did not answer the paced stream"
[ "$(grep -c '"type":"token"' "$tmp/paced.ndjson")" = "$tokens" ] || die "the captured stream has not $tokens tokens"

"$build/paced_ref" --lines "$tmp/paced.ndjson" --first-ms "$interval" --interval-ms "$interval" \
	--port-file "$tmp/ref.port" 2>"$tmp/ref.log" &
pids+=($!)
ref_port=$(wait_port "$tmp/ref.port" "${pids[-1]}" ref)

field() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.]*\).*/\1/p" <<<"$1"; }

echo "bench: paced streams, $tokens tokens at ${interval} ms (first at ${interval} ms), time scale 1, $(nproc) cores," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %-7s %9s %9s %9s %9s\n' scenario server "p50 ms" "p99 ms" "max ms" tokens

failed=0
json="{\"tokens\":$tokens,\"interval_ms\":$interval,\"cores\":$(nproc),\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"scenarios\":["
sep=""
# scenario name, streams, rounds, spread of the requests in ms
rows=("paced-1 1 $rounds1 0" "paced-$streams $streams $roundsn $spread" "paced-$streams-burst $streams $roundsn $interval")
for row in "${rows[@]}"; do
	read -r name n rounds sp <<<"$row"
	declare -A res=()
	for who in ref mockd; do
		port=$mockd_port
		[ "$who" = ref ] && port=$ref_port
		r=$("$build/lateness" -n "$n" -r "$rounds" -s "$sp" -t "$tokens" -f "$interval" -i "$interval" -H "$key" \
			-b '{"sessionId":"p%d","message":"paced"}' "$port") || {
			echo "bench: $name: $who: ${r:-no output}" >&2
			failed=1
		}
		res[$who]=$r
		printf '%-18s %-7s %9s %9s %9s %9s\n' "$name" "$who" "$(field "$r" p50_ms)" "$(field "$r" p99_ms)" \
			"$(field "$r" max_ms)" "$(field "$r" tokens)"
	done
	cmp=$(awk -v a="$(field "${res[mockd]}" p99_ms)" -v b="$(field "${res[ref]}" p99_ms)" \
		'BEGIN { printf "mockd p99 - floor p99 = %.2f ms, mockd p99 / floor p99 = %.1f", a - b, (b > 0 ? a / b : 0) }')
	echo "                   $cmp"
	json+="$sep{\"scenario\":\"$name\",\"streams\":$n,\"rounds\":$rounds,\"spread_ms\":$sp,\"mockd\":${res[mockd]:-null},\"floor\":${res[ref]:-null}}"
	sep=","
	unset res
done
json+="]}"
mkdir -p "$(dirname "$out")"
printf '%s\n' "$json" >"$out"
echo "bench: lateness = arrival - (request sent + first_token + k x interval); written to $out"
exit "$failed"
