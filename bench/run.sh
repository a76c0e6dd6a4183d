#!/usr/bin/env bash
# Benchmark mockd against a reference evhttp server measured in the same run; see bench/README.md.
#
#   bench/run.sh [BINDIR]     BINDIR holds mockd (default bin); `make bench` builds everything first
#
# Environment: BENCH_BUILD (where loadgen and ref_server are, default build/bench), BENCH_SECONDS
# (one measurement, default 2), BENCH_ROUNDS (measurements per scenario and server, default 2; the
# best counts), BENCH_CONNECTIONS (default 4, at most 64), BENCH_OUT (default reports/bench.json).
#
# Everything talks to 127.0.0.1 only, every process started here is stopped on exit, and the whole
# run is bounded: 4 scenarios x 2 servers x BENCH_ROUNDS x BENCH_SECONDS (at most 60 s), plus setup.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
seconds=${BENCH_SECONDS:-2}
rounds=${BENCH_ROUNDS:-2}
conns=${BENCH_CONNECTIONS:-4}
out=${BENCH_OUT:-reports/bench.json}

die() { echo "bench: $*" >&2; exit 2; }

[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v s="$seconds" 'BEGIN { exit !(s >= 0.5 && s <= 10) }' ||
	die "BENCH_SECONDS must be 0.5 to 10, got \"$seconds\""
[[ $rounds =~ ^[1-5]$ ]] || die "BENCH_ROUNDS must be 1 to 5, got \"$rounds\""
awk -v s="$seconds" -v r="$rounds" 'BEGIN { exit !(s * r <= 7.5) }' ||
	die "BENCH_SECONDS x BENCH_ROUNDS must be at most 7.5 (8 measurements of each: 60 s in all)"
[[ $conns =~ ^[0-9]+$ ]] && [ "$conns" -ge 1 ] && [ "$conns" -le 64 ] ||
	die "BENCH_CONNECTIONS must be 1 to 64, got \"$conns\""
for f in "$bindir/mockd" "$build/loadgen" "$build/ref_server"; do
	[ -x "$f" ] || die "$f is missing: run make bench"
done

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait (at most 5 s) for a server to write HOST:PORT and a newline to its port file; print the port.
wait_port() {
	local file=$1 pid=$2 name=$3
	for _ in $(seq 50); do
		if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" = '\n' ]; then
			head -n 1 "$file" | sed 's/.*://'
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; die "$name exited at start"; }
		sleep 0.1
	done
	die "$name did not write its port file within 5 s"
}

# ---- the servers -------------------------------------------------------------------------------

"$bindir/mockd" --listen 127.0.0.1:0 --port-file "$tmp/mockd.port" --time-scale 0 \
	--keys bench/keys.json --log text 2>"$tmp/mockd.log" &
pids+=($!)
mockd_port=$(wait_port "$tmp/mockd.port" "${pids[-1]}" mockd)

widget_key='x-api-key: widget-dev-key-0123456789abcdef'
widget_body='{"sessionId":"s1","message":"hi"}'
dw_auth='Authorization: Bearer dw-dev-key'
dw_body='{"message":"hi"}'

# The reference sends exactly the stream bodies mockd sends for these requests: capture one of each.
"$build/loadgen" -c 1 -n 1 -d 5 -X POST -p /v1/chat/stream -H "$widget_key" -b "$widget_body" -s 200 \
	-o "$tmp/widget.ndjson" "$mockd_port" >/dev/null || die "mockd did not answer a widget stream"
"$build/loadgen" -c 1 -n 1 -d 5 -X POST -p /chat/stream -H "$dw_auth" -H 'Content-Type: application/json' \
	-b "$dw_body" -s 200 -o "$tmp/deepwiki.sse" "$mockd_port" >/dev/null || die "mockd did not answer a deepwiki stream"
grep -q '"type":"done"' "$tmp/widget.ndjson" || die "the widget stream has no done line"
grep -q '"type":"end"' "$tmp/deepwiki.sse" || die "the deepwiki stream has no end event"

"$build/ref_server" --port-file "$tmp/ref.port" --ndjson "$tmp/widget.ndjson" --sse "$tmp/deepwiki.sse" \
	2>"$tmp/ref.log" &
pids+=($!)
ref_port=$(wait_port "$tmp/ref.port" "${pids[-1]}" ref)

# ---- the scenarios -----------------------------------------------------------------------------

names=(widget-401 widget-stream deepwiki-stream admin-health)
args_widget_401=(-X POST -p /v1/chat/stream -b "$widget_body" -s 401)
args_widget_stream=(-X POST -p /v1/chat/stream -H "$widget_key" -b "$widget_body" -s 200)
args_deepwiki_stream=(-X POST -p /chat/stream -H "$dw_auth" -H 'Content-Type: application/json' -b "$dw_body" -s 200)
args_admin_health=(-p /__admin/health -s 200)

field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

echo "bench: $conns connections, best of $rounds x ${seconds}s per scenario and server, $(nproc) cores;" \
	"widget stream $(wc -l <"$tmp/widget.ndjson") lines / $(wc -c <"$tmp/widget.ndjson") bytes," \
	"deepwiki stream $(grep -c '^data:' "$tmp/deepwiki.sse") events / $(wc -c <"$tmp/deepwiki.sse") bytes"
printf '%-16s %12s %12s %7s %10s %10s\n' scenario "mockd req/s" "ref req/s" ratio "mockd p99" "ref p99"

failed=0
json="{\"connections\":$conns,\"seconds\":$seconds,\"rounds\":$rounds,\"cores\":$(nproc),\"scenarios\":["
sep=""
for name in "${names[@]}"; do
	var="args_${name//-/_}[@]"
	declare -A best=() best_rps=([mockd]=-1 [ref]=-1)
	for round in $(seq "$rounds"); do
		# The servers take turns, in the other order each round, so a burst of noise hits both.
		order="ref mockd"
		[ $((round % 2)) -eq 0 ] && order="mockd ref"
		for who in $order; do
			port=$mockd_port
			[ "$who" = ref ] && port=$ref_port
			res=$("$build/loadgen" -c "$conns" -d "$seconds" "${!var}" "$port") || true
			rps=$(field "$res" requests_per_second)
			if [ -z "$rps" ] || [ "$(field "$res" errors)" != 0 ] || [ "$(field "$res" requests)" = 0 ]; then
				echo "bench: $name: $who: errors or no responses: ${res:-no output}" >&2
				failed=1
			fi
			if awk -v a="${rps:-0}" -v b="${best_rps[$who]}" 'BEGIN { exit !(a > b) }'; then
				best[$who]=$res
				best_rps[$who]=$rps
			fi
		done
	done
	mock=${best[mockd]:-}; ref=${best[ref]:-}
	m_rps=$(field "$mock" requests_per_second); r_rps=$(field "$ref" requests_per_second)
	m_p99=$(field "$mock" p99_ms); r_p99=$(field "$ref" p99_ms)
	ratio=$(awk -v a="${m_rps:-0}" -v b="${r_rps:-0}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	printf '%-16s %12s %12s %7s %8sms %8sms\n' "$name" "${m_rps:--}" "${r_rps:--}" "$ratio" "${m_p99:--}" "${r_p99:--}"
	json+="$sep{\"scenario\":\"$name\",\"ratio\":$ratio,\"mockd\":${mock:-null},\"reference\":${ref:-null}}"
	sep=","
	unset best best_rps
done
json+="]}"

mkdir -p "$(dirname "$out")"
printf '%s\n' "$json" >"$out"
echo "bench: ratio = mockd req/s / reference req/s (1.00 = as fast as bare evhttp); written to $out"
exit "$failed"
