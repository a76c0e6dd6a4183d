#!/usr/bin/env bash
# The store-fill scenario: deepwiki streams without a conversation id, each creating a conversation,
# until mockd's conversation store (50,000, docs/mockd.md, Limits) is full and evicting; throughput
# in the first and in the last window, and their ratio. See bench/README.md.
#
#   bench/store_fill.sh [BINDIR]     BINDIR holds mockd (default bin)
#
# Environment: BENCH_BUILD (where loadgen is, default build/bench), STORE_FILL_SECONDS (default 30,
# 20 with BENCH_QUICK=1; 10 to 120), STORE_FILL_WINDOW (seconds per window, default 5),
# BENCH_CONNECTIONS (default 4), BENCH_OUT_STORE (default reports/bench-store.json).
#
# mockd has no option for a smaller store, so the run has to last long enough to pass 50,000
# requests; the summary says whether it did. 127.0.0.1 only; mockd is stopped on exit and on Ctrl-C.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
quick=${BENCH_QUICK:-0}
total=${STORE_FILL_SECONDS:-$([ "$quick" = 1 ] && echo 20 || echo 30)}
window=${STORE_FILL_WINDOW:-5}
conns=${BENCH_CONNECTIONS:-4}
out=${BENCH_OUT_STORE:-reports/bench-store.json}
store_cap=50000

die() { echo "store-fill: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"

need_range STORE_FILL_SECONDS "$total" 10 120
[[ $window =~ ^[0-9]+$ ]] && [ "$window" -ge 1 ] && [ $((window * 2)) -le "$total" ] ||
	die "STORE_FILL_WINDOW must be 1 to half of STORE_FILL_SECONDS, got \"$window\""
need_range BENCH_CONNECTIONS "$conns" 1 64
need_programs "$bindir/mockd" "$build/loadgen"

"$bindir/mockd" --listen 127.0.0.1:0 --port-file "$tmp/mockd.port" --time-scale 0 \
	--keys bench/keys.json --api deepwiki --log text 2>"$tmp/mockd.log" &
mockd_pid=$!
pids+=("$mockd_pid")
port=$(wait_port "$tmp/mockd.port" "$mockd_pid" mockd)

field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
conversations() {
	"$build/loadgen" -c 1 -n 1 -d 5 -p /__admin/health -s 200 -o "$tmp/health.json" "$port" >/dev/null &&
		sed -n 's/.*"conversations":\([0-9]*\).*/\1/p' "$tmp/health.json"
}

# One loadgen run a window, back to back (a reconnect between them costs well under a millisecond),
# so every window has its own requests per second; the first and the last are compared.
nwin=$((total / window))
echo "store-fill: deepwiki /chat/stream without conversation_id, $conns connections," \
	"$nwin windows of ${window}s, store cap $store_cap conversations, $(nproc) cores"
printf '%-8s %10s %12s %10s %14s\n' window "req/s" "requests" "p99" "conversations"
failed=0
sum=0
rates=()
json_windows=""
for w in $(seq "$nwin"); do
	res=$("$build/loadgen" -c "$conns" -d "$window" -X POST -p /chat/stream \
		-H 'Authorization: Bearer dw-dev-key' -H 'Content-Type: application/json' \
		-b '{"message":"hi"}' -s 200 "$port") || true
	rps=$(field "$res" requests_per_second)
	n=$(field "$res" requests)
	if [ -z "$rps" ] || [ "$(field "$res" errors)" != 0 ]; then
		echo "store-fill: window $w: errors: ${res:-no output}" >&2
		failed=1
	fi
	sum=$((sum + ${n:-0}))
	rates+=("${rps:-0}")
	conv=$(conversations || echo "?")
	printf '%-8s %10s %12s %8sms %14s\n' "$w" "${rps:--}" "$sum" "$(field "$res" p99_ms)" "$conv"
	json_windows+="${json_windows:+,}{\"window\":$w,\"conversations\":${conv//\?/null},\"result\":${res:-null}}"
done

first=${rates[0]}
last=${rates[-1]}
ratio=$(awk -v a="$last" -v b="$first" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "null" }')
full=no
[ "$sum" -gt "$store_cap" ] && full=yes
echo "store-fill: first ${window}s $first req/s, last ${window}s $last req/s, last/first $ratio;" \
	"$sum requests in ${total}s (past the cap of $store_cap: $full)"
[ "$full" = yes ] || echo "store-fill: the store never filled: raise STORE_FILL_SECONDS" >&2

mkdir -p "$(dirname "$out")"
printf '{"connections":%s,"window_seconds":%s,"seconds":%s,"requests":%s,"store_cap":%s,"past_cap":%s,"ratio_last_first":%s,"windows":[%s]}\n' \
	"$conns" "$window" "$total" "$sum" "$store_cap" "$([ "$full" = yes ] && echo true || echo false)" \
	"$ratio" "$json_windows" >"$out"
echo "store-fill: written to $out"
exit "$failed"
