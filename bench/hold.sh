#!/usr/bin/env bash
# The hold scenario: 10,000 paced streams at once; mockd's memory, its listen queue and its CPU per
# token against a bare writer's (paced_ref) in the same run; see bench/README.md.
#
#   bench/hold.sh [BINDIR]     BINDIR holds mockd (default bin); `make bench` builds everything first
#
# mockd runs at --time-scale 1 with one scripted widget rule: HOLD_TOKENS (20) tokens, the first
# HOLD_INTERVAL_MS (250) ms after the request, then one every HOLD_INTERVAL_MS; build/bench/hold opens
# HOLD_STREAMS (10000) connections, holds them all, sends one request on each (over HOLD_SPREAD_MS, 0)
# and reads every stream to its done line. A stream lasts 20 x 250 ms = 5 s, longer than mockd takes
# to answer 10,000 requests on 2 shared cores, so all of them are open at once (hold's
# peak_open_streams says whether they were). The same against build/bench/paced_ref, the floor.
#
# Recorded for each server: its CPU (utime + stime from /proc/PID/stat) over the hold run divided by
# the tokens delivered, in µs a token; its peak RSS (VmHWM) and its RSS at the end (VmRSS); the
# listen overflows and drops during the run (TcpExt ListenOverflows + ListenDrops from
# /proc/net/netstat: counters of the network namespace, so another program's overflow in the same
# seconds would count too). Exit 1 when a stream failed or a figure is missing (a run too short to
# show 10 clock ticks of CPU has no CPU per token).
#
# Environment: BENCH_BUILD (default build/bench), BENCH_OUT (default reports/bench-hold.json).
# Talks to 127.0.0.1 only; every process started here is stopped on exit; about 20 s.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
out=${BENCH_OUT:-reports/bench-hold.json}
streams=${HOLD_STREAMS:-10000}
tokens=${HOLD_TOKENS:-20}
interval=${HOLD_INTERVAL_MS:-250}
spread=${HOLD_SPREAD_MS:-0}

die() { echo "bench: hold: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
need_range HOLD_STREAMS "$streams" 1 20000
need_range HOLD_TOKENS "$tokens" 2 200
need_range HOLD_INTERVAL_MS "$interval" 1 1000
need_range HOLD_SPREAD_MS "$spread" 0 10000
need_programs "$bindir/mockd" "$build/hold" "$build/paced_ref" "$build/loadgen"
# Each server holds HOLD_STREAMS sockets, and so does the client: raise the soft limit to the hard
# one (hold raises its own and says so when the hard one is too low; mockd does not raise its own).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((streams + 64)) ] ||
	die "ulimit -n is $(ulimit -n), $streams streams need $((streams + 64)) descriptors in mockd (raise the hard limit)"

paced_rule "$tmp/scripts" "$tokens" "$interval"

"$bindir/mockd" --listen 127.0.0.1:0 --port-file "$tmp/mockd.port" --time-scale 1 \
	--keys bench/keys.json --scripts "$tmp/scripts" --log text 2>"$tmp/mockd.log" &
pids+=($!)
mockd_pid=${pids[-1]}
mockd_port=$(wait_port "$tmp/mockd.port" "$mockd_pid" mockd)

key='x-api-key: widget-dev-key-0123456789abcdef'
"$build/loadgen" -c 1 -n 1 -d 10 -X POST -p /v1/chat/stream -H "$key" -b '{"sessionId":"capture","message":"paced"}' \
	-s 200 -o "$tmp/paced.ndjson" "$mockd_port" >/dev/null || die "mockd did not answer the paced stream"
[ "$(grep -c '"type":"token"' "$tmp/paced.ndjson")" = "$tokens" ] || die "the captured stream has not $tokens tokens"

"$build/paced_ref" --lines "$tmp/paced.ndjson" --first-ms "$interval" --interval-ms "$interval" \
	--port-file "$tmp/ref.port" 2>"$tmp/ref.log" &
pids+=($!)
ref_pid=${pids[-1]}
ref_port=$(wait_port "$tmp/ref.port" "$ref_pid" ref)

field() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.]*\).*/\1/p" <<<"$1"; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# A line of /proc/PID/status, in kB.
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# TcpExt ListenOverflows + ListenDrops of this network namespace.
listen_drops() {
	awk '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) name[i] = $i; h = 1; next }
		for (i = 2; i <= NF; i++) if (name[i] == "ListenOverflows" || name[i] == "ListenDrops") s += $i }
		END { print s + 0 }' /proc/net/netstat
}
hz=$(getconf CLK_TCK)

load="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: hold, $streams streams at once of $tokens tokens at ${interval} ms (first at ${interval} ms), requests over" \
	"${spread} ms, time scale 1, $(nproc) cores, load $load"
printf '%-8s %8s %5s %8s %9s %9s %9s %7s %9s %9s %9s %9s\n' server complete cut "conn err" "conn p50" "conn p99" \
	"peak open" "CPU s" "us/token" "peak RSS" "end RSS" overflows

failed=0
json="{\"streams\":$streams,\"tokens\":$tokens,\"interval_ms\":$interval,\"spread_ms\":$spread,\"cores\":$(nproc),\"load\":\"$load\",\"servers\":{"
sep=""
declare -A us=() hwm=() drops=() res=()
for who in ref mockd; do
	pid=$mockd_pid port=$mockd_port
	[ "$who" = ref ] && pid=$ref_pid port=$ref_port
	rss0=$(status_kb "$pid" VmRSS)
	c0=$(cpu_ticks "$pid") d0=$(listen_drops)
	r=$("$build/hold" -n "$streams" -t "$tokens" -s "$spread" -H "$key" \
		-b '{"sessionId":"h%d","message":"paced"}' "$port") || {
		echo "bench: hold-$streams: $who: ${r:-no output}" >&2
		failed=1
	}
	c1=$(cpu_ticks "$pid") d1=$(listen_drops)
	kill -0 "$pid" 2>/dev/null || { echo "bench: hold-$streams: $who exited during the run" >&2; failed=1; }
	hwm[$who]=$(status_kb "$pid" VmHWM) rss1=$(status_kb "$pid" VmRSS)
	drops[$who]=$((d1 - d0))
	got=$(field "$r" tokens)
	# CPU time comes in clock ticks (10 ms): a run too short to show 10 of them has no figure.
	us[$who]=$(awk -v t="$((c1 - c0))" -v hz="$hz" -v n="${got:-0}" \
		'BEGIN { if (n > 0 && t >= 10) printf "%.2f", t * 1e6 / hz / n; else print "null" }')
	[ "${us[$who]}" != null ] || {
		echo "bench: hold-$streams: $who: no CPU per token ($((c1 - c0)) ticks of CPU, ${got:-no} tokens)" >&2
		failed=1
	}
	res[$who]=$r
	mb() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
	printf '%-8s %8s %5s %8s %9s %9s %9s %7s %9s %9s %9s %9s\n' "$who" "$(field "$r" complete)" "$(field "$r" cut)" \
		"$(field "$r" connect_errors)" "$(field "$r" connect_p50_ms)ms" "$(field "$r" connect_p99_ms)ms" \
		"$(field "$r" peak_open_streams)" "$(awk -v t="$((c1 - c0))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')" \
		"${us[$who]}" "$(mb "${hwm[$who]}")" "$(mb "$rss1")" "${drops[$who]}"
	[ "$(field "$r" peak_open_streams)" = "$streams" ] ||
		echo "bench: hold-$streams: $who: at most $(field "$r" peak_open_streams) streams were open at once" \
			"(longer streams, HOLD_INTERVAL_MS, would overlap them all)" >&2
	json+="$sep\"$who\":{\"hold\":${r:-null},\"cpu_seconds\":$(awk -v t="$((c1 - c0))" -v hz="$hz" 'BEGIN { print t / hz }'),"
	json+="\"us_per_token\":${us[$who]},\"rss_start_kb\":${rss0:-null},\"peak_rss_kb\":${hwm[$who]:-null},"
	json+="\"end_rss_kb\":${rss1:-null},\"listen_overflows\":${drops[$who]}}"
	sep=","
done
ratio=$(awk -v a="${us[mockd]}" -v b="${us[ref]}" 'BEGIN { if (a != "null" && b > 0) printf "%.2f", a / b; else print "null" }')
verdict() { awk -v v="$1" -v max="$2" 'BEGIN { if (v == "null") print "no figure"; else if (v + 0 <= max) print "met"; else print "NOT met" }'; }
peak_mb=$(awk -v k="${hwm[mockd]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
echo "hold-$streams: mockd us/token / floor us/token = $ratio ($(verdict "$ratio" 1.5): <= 1.5);" \
	"mockd peak RSS = $peak_mb MB ($(verdict "$peak_mb" 60): <= 60);" \
	"listen overflows = ${drops[mockd]} ($(verdict "${drops[mockd]}" 0): 0);" \
	"complete $(field "${res[mockd]}" complete)/$streams"
json+="},\"ratio_cpu_per_token\":$ratio}"
mkdir -p "$(dirname "$out")"
printf '%s\n' "$json" >"$out"
echo "bench: us/token = the server's CPU (user + system) during the run / tokens delivered; written to $out"
exit "$failed"
