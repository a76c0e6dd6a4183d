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
# HOLD_ROUNDS (3) rounds, each a hold run against both servers, the floor first in odd rounds and
# mockd first in even ones: a figure of one run moves by a third from run to run on this machine (the
# kernel's loopback work is most of it), so the ratio is taken in each round, between runs seconds
# apart, and the median of the rounds' ratios is the result.
#
# Recorded for each server and round: its CPU (utime + stime from /proc/PID/stat) over the hold run
# divided by the tokens delivered, in µs a token; then its peak RSS (VmHWM) and its RSS at the end
# (VmRSS); the listen overflows and drops during its runs (TcpExt ListenOverflows + ListenDrops from
# /proc/net/netstat: counters of the network namespace, so another program's overflow in the same
# seconds would count too). Exit 1 when a stream failed or a figure is missing (a run too short to
# show 10 clock ticks of CPU has no CPU per token).
#
# Environment: BENCH_BUILD (default build/bench), BENCH_OUT (default reports/bench-hold.json),
# BENCH_QUICK=1 (1 round unless HOLD_ROUNDS is set).
# Talks to 127.0.0.1 only; every process started here is stopped on exit; about 12 s a round.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
out=${BENCH_OUT:-reports/bench-hold.json}
streams=${HOLD_STREAMS:-10000}
tokens=${HOLD_TOKENS:-20}
interval=${HOLD_INTERVAL_MS:-250}
spread=${HOLD_SPREAD_MS:-0}
quick=${BENCH_QUICK:-0}
rounds=${HOLD_ROUNDS:-3}
[ "$quick" = 1 ] && rounds=${HOLD_ROUNDS:-1}

die() { echo "bench: hold: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
need_range HOLD_STREAMS "$streams" 1 20000
need_range HOLD_TOKENS "$tokens" 2 200
need_range HOLD_INTERVAL_MS "$interval" 1 1000
need_range HOLD_SPREAD_MS "$spread" 0 10000
need_range HOLD_ROUNDS "$rounds" 1 9
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
	"${spread} ms, time scale 1, $rounds rounds, $(nproc) cores, load $load"
printf '%-5s %-8s %8s %5s %8s %9s %9s %9s %7s %9s\n' round server complete cut "conn err" "conn p50" "conn p99" \
	"peak open" "CPU s" "us/token"

failed=0
declare -A us=() drops=() complete=() runs=()
ratios=()
# One hold run against one server: its row, and its figures in us[], drops[], complete[], runs[].
hold_run() {
	local round=$1 who=$2 pid=$3 port=$4 r c0 c1 d0 d1 got
	c0=$(cpu_ticks "$pid") d0=$(listen_drops)
	r=$("$build/hold" -n "$streams" -t "$tokens" -s "$spread" -H "$key" \
		-b '{"sessionId":"h%d","message":"paced"}' "$port") || {
		echo "bench: hold-$streams: round $round: $who: ${r:-no output}" >&2
		failed=1
	}
	c1=$(cpu_ticks "$pid") d1=$(listen_drops)
	kill -0 "$pid" 2>/dev/null || { echo "bench: hold-$streams: $who exited during the run" >&2; failed=1; }
	drops[$who]=$((${drops[$who]:-0} + d1 - d0))
	got=$(field "$r" tokens)
	# CPU time comes in clock ticks (10 ms): a run too short to show 10 of them has no figure.
	us[$who]=$(awk -v t="$((c1 - c0))" -v hz="$hz" -v n="${got:-0}" \
		'BEGIN { if (n > 0 && t >= 10) printf "%.2f", t * 1e6 / hz / n; else print "null" }')
	[ "${us[$who]}" != null ] || {
		echo "bench: hold-$streams: round $round: $who: no CPU per token ($((c1 - c0)) ticks of CPU, ${got:-no} tokens)" >&2
		failed=1
	}
	[ "$(field "$r" complete)" = "$streams" ] || complete[$who]=$(field "$r" complete)
	printf '%-5s %-8s %8s %5s %8s %9s %9s %9s %7s %9s\n' "$round" "$who" "$(field "$r" complete)" "$(field "$r" cut)" \
		"$(field "$r" connect_errors)" "$(field "$r" connect_p50_ms)ms" "$(field "$r" connect_p99_ms)ms" \
		"$(field "$r" peak_open_streams)" "$(awk -v t="$((c1 - c0))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')" \
		"${us[$who]}"
	[ "$(field "$r" peak_open_streams)" = "$streams" ] ||
		echo "bench: hold-$streams: $who: at most $(field "$r" peak_open_streams) streams were open at once" \
			"(longer streams, HOLD_INTERVAL_MS, would overlap them all)" >&2
	runs[$who]+="${runs[$who]:+,}{\"round\":$round,\"hold\":${r:-null},\"cpu_seconds\":$(awk -v t="$((c1 - c0))" -v hz="$hz" 'BEGIN { print t / hz }'),\"us_per_token\":${us[$who]},\"listen_overflows\":$((d1 - d0))}"
}

for round in $(seq "$rounds"); do
	order="ref mockd"
	[ $((round % 2)) = 0 ] && order="mockd ref"
	for who in $order; do
		if [ "$who" = ref ]; then hold_run "$round" ref "$ref_pid" "$ref_port"; else hold_run "$round" mockd "$mockd_pid" "$mockd_port"; fi
	done
	ratios+=("$(awk -v a="${us[mockd]}" -v b="${us[ref]}" 'BEGIN { if (a != "null" && b != "null" && b > 0) printf "%.2f", a / b; else print "null" }')")
done

json="{\"streams\":$streams,\"tokens\":$tokens,\"interval_ms\":$interval,\"spread_ms\":$spread,\"rounds\":$rounds,\"cores\":$(nproc),\"load\":\"$load\",\"servers\":{"
sep=""
declare -A hwm=()
for who in ref mockd; do
	pid=$mockd_pid
	[ "$who" = ref ] && pid=$ref_pid
	hwm[$who]=$(status_kb "$pid" VmHWM)
	json+="$sep\"$who\":{\"runs\":[${runs[$who]}],\"peak_rss_kb\":${hwm[$who]:-null},\"end_rss_kb\":$(status_kb "$pid" VmRSS),"
	json+="\"listen_overflows\":${drops[$who]:-0}}"
	sep=","
done
# The median of the rounds' ratios ("null" when a round has none: then there is no result).
ratio=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } $1 == "null" { bad = 1 }
	END { if (bad || !NR) print "null"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
verdict() { awk -v v="$1" -v max="$2" 'BEGIN { if (v == "null") print "no figure"; else if (v + 0 <= max) print "met"; else print "NOT met" }'; }
mb() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }
peak_mb=$(mb "${hwm[mockd]}")
echo "peak RSS: mockd $peak_mb MB, ref $(mb "${hwm[ref]}") MB; listen overflows: mockd ${drops[mockd]:-0}, ref ${drops[ref]:-0}"
echo "hold-$streams: mockd us/token / floor us/token = $ratio, the median of rounds (${ratios[*]}) ($(verdict "$ratio" 1.5): <= 1.5);" \
	"mockd peak RSS = $peak_mb MB ($(verdict "$peak_mb" 60): <= 60);" \
	"listen overflows = ${drops[mockd]:-0} ($(verdict "${drops[mockd]:-0}" 0): 0);" \
	"complete ${complete[mockd]:-$streams}/$streams in every round"
json+="},\"ratios_cpu_per_token\":[$(IFS=,; echo "${ratios[*]}")],\"ratio_cpu_per_token\":$ratio}"
mkdir -p "$(dirname "$out")"
printf '%s\n' "$json" >"$out"
echo "bench: us/token = the server's CPU (user + system) during the run / tokens delivered; written to $out"
exit "$failed"
