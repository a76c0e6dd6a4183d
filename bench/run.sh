#!/usr/bin/env bash
# Benchmark mockd against two references measured in the same run, a bare evhttp server (ref_server)
# and nginx serving the same bytes as static files; see bench/README.md.
#
#   bench/run.sh [BINDIR]     BINDIR holds mockd (default bin); `make bench` builds everything first
#
# Environment: BENCH_BUILD (where loadgen and ref_server are, default build/bench), BENCH_SECONDS
# (one measurement, default 2), BENCH_ROUNDS (measurements per scenario and server, default 2; the
# best of each server counts, and the median of each round's ratios is shown beside),
# BENCH_CONNECTIONS (default 4, at most 64), BENCH_OUT (default reports/bench.json), BENCH_QUICK=1
# (1 round of 1 s unless set), BENCH_NGINX (the nginx binary, default nginx on PATH; "none" to measure
# without it).
#
# Everything talks to 127.0.0.1 only, every process started here is stopped on exit and on Ctrl-C,
# and the whole run is bounded: 4 scenarios x 3 servers x BENCH_ROUNDS x BENCH_SECONDS (at most
# 90 s), plus setup.
set -euo pipefail

cd "$(dirname "$0")/.."
bindir=${1:-bin}
build=${BENCH_BUILD:-build/bench}
quick=${BENCH_QUICK:-0}
seconds=${BENCH_SECONDS:-$([ "$quick" = 1 ] && echo 1 || echo 2)}
rounds=${BENCH_ROUNDS:-$([ "$quick" = 1 ] && echo 1 || echo 2)}
conns=${BENCH_CONNECTIONS:-4}
out=${BENCH_OUT:-reports/bench.json}
nginx_bin=${BENCH_NGINX:-nginx}

die() { echo "bench: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"

[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v s="$seconds" 'BEGIN { exit !(s >= 0.5 && s <= 10) }' ||
	die "BENCH_SECONDS must be 0.5 to 10, got \"$seconds\""
[[ $rounds =~ ^[1-5]$ ]] || die "BENCH_ROUNDS must be 1 to 5, got \"$rounds\""
awk -v s="$seconds" -v r="$rounds" 'BEGIN { exit !(s * r <= 7.5) }' ||
	die "BENCH_SECONDS x BENCH_ROUNDS must be at most 7.5 (12 measurements of each: 90 s in all)"
need_range BENCH_CONNECTIONS "$conns" 1 64
need_programs "$bindir/mockd" "$build/loadgen" "$build/ref_server"
if [ "$nginx_bin" != none ]; then
	command -v "$nginx_bin" >/dev/null ||
		die "$nginx_bin is missing: scripts/deps.sh --bench installs nginx-light (or BENCH_NGINX=none)"
fi

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

# nginx, the reference a reader knows: one worker in the foreground, its config, pid file, logs and
# temp folders all in $tmp, on a free port of 127.0.0.1. It serves the captured bodies as static files
# (Content-Length, sendfile) where mockd and ref_server send chunks; the 401 is a `return` with the
# same bytes and Content-Type. nginx answers a POST to a static file with 405, so `error_page 405 =200`
# turns that into the file (an internal redirect as a GET), the usual way to do it.
write_nginx_conf() {
	local port=$1 dir=$tmp/nginx user=""
	# As root the worker drops to nobody, which must be able to read the files (they are public).
	if [ "$(id -u)" -eq 0 ]; then
		user="user nobody $(id -gn nobody);"
		chmod 755 "$tmp"
		chmod -R a+rX "$dir"
	fi
	cat >"$dir/nginx.conf" <<-EOF
	$user
	daemon off;
	master_process on;
	worker_processes 1;
	pid $dir/nginx.pid;
	error_log $dir/error.log warn;
	events { worker_connections 512; }
	http {
	    access_log off;
	    server_tokens off;
	    etag off;
	    sendfile on;
	    tcp_nodelay on;
	    keepalive_requests 100000000;
	    types { }
	    client_body_temp_path $dir/body;
	    proxy_temp_path $dir/proxy;
	    fastcgi_temp_path $dir/fastcgi;
	    uwsgi_temp_path $dir/uwsgi;
	    scgi_temp_path $dir/scgi;
	    server {
	        listen 127.0.0.1:$port;
	        root $dir/www;
	        location = /v1/chat/stream {
	            default_type "application/json; charset=utf-8";
	            if (\$http_x_api_key = "") {
	                return 401 '{"error":"Unauthorized"}';
	            }
	            error_page 405 =200 /widget.ndjson;
	        }
	        location = /chat/stream {
	            error_page 405 =200 /deepwiki.sse;
	        }
	        location = /widget.ndjson {
	            internal;
	            default_type "application/x-ndjson; charset=utf-8";
	            add_header Cache-Control "no-store, no-transform";
	            add_header X-Accel-Buffering no;
	        }
	        location = /deepwiki.sse {
	            internal;
	            default_type text/event-stream;
	            add_header Cache-Control no-cache;
	            add_header X-Accel-Buffering no;
	        }
	        location = /__admin/health {
	            alias $dir/www/health.json;
	            default_type "application/json; charset=utf-8";
	        }
	    }
	}
	EOF
}

# Start nginx on a port nothing listens on; another process may take it first, so try a few. Print the port.
start_nginx() {
	local dir=$tmp/nginx port
	mkdir -p "$dir/www"
	cp "$tmp/widget.ndjson" "$tmp/deepwiki.sse" "$dir/www/"
	cp "$tmp/health.json" "$dir/www/health.json"
	# The files of the two POST locations must exist, or nginx answers 404 before the 405.
	mkdir -p "$dir/www/v1/chat" "$dir/www/chat"
	: >"$dir/www/v1/chat/stream"
	: >"$dir/www/chat/stream"
	for _ in $(seq 10); do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		write_nginx_conf "$port"
		"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" 2>"$dir/stderr.log" &
		pids+=($!)
		for _ in $(seq 50); do
			if ! kill -0 "${pids[-1]}" 2>/dev/null; then
				grep -qs 'Address already in use' "$dir/error.log" "$dir/stderr.log" && break
				{ cat "$dir/error.log" "$dir/stderr.log" 2>/dev/null || true; } >&2
				die "nginx exited at start"
			fi
			if [ -s "$dir/nginx.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				echo "$port"
				return 0
			fi
			sleep 0.1
		done
		kill -0 "${pids[-1]}" 2>/dev/null && die "nginx did not listen within 5 s"
	done
	die "nginx found no free port in 10 tries"
}

nginx_port=""
servers="mockd ref"
if [ "$nginx_bin" != none ]; then
	"$build/loadgen" -c 1 -n 1 -d 5 -p /__admin/health -s 200 -o "$tmp/health.json" "$mockd_port" >/dev/null ||
		die "mockd did not answer /__admin/health"
	start_nginx >"$tmp/nginx.port"
	nginx_port=$(cat "$tmp/nginx.port")
	servers="mockd ref nginx"
fi

# ---- the scenarios -----------------------------------------------------------------------------

names=(widget-401 widget-stream deepwiki-stream admin-health)
args_widget_401=(-X POST -p /v1/chat/stream -b "$widget_body" -s 401)
args_widget_stream=(-X POST -p /v1/chat/stream -H "$widget_key" -b "$widget_body" -s 200)
args_deepwiki_stream=(-X POST -p /chat/stream -H "$dw_auth" -H 'Content-Type: application/json' -b "$dw_body" -s 200)
args_admin_health=(-p /__admin/health -s 200)

field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "null" }'; }
# The median of the numbers given ("null" when there are none, or one is "null").
median() {
	[ $# -gt 0 ] || { echo null; return; }
	printf '%s\n' "$@" | sort -g | awk '/null/ { bad = 1 } { v[NR] = $1 }
		END { if (bad || !NR) print "null"; else if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2];
		      else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms() { local v; v=$(field "$1" p99_ms); echo "${v:+${v}ms}"; }
port_of() { case $1 in mockd) echo "$mockd_port" ;; ref) echo "$ref_port" ;; nginx) echo "$nginx_port" ;; esac; }

echo "bench: $conns connections, best of $rounds x ${seconds}s per scenario and server ($servers), $(nproc) cores;" \
	"widget stream $(wc -l <"$tmp/widget.ndjson") lines / $(wc -c <"$tmp/widget.ndjson") bytes," \
	"deepwiki stream $(grep -c '^data:' "$tmp/deepwiki.sse") events / $(wc -c <"$tmp/deepwiki.sse") bytes"
printf '%-16s %11s %11s %11s %9s %11s %9s %9s %9s %9s %9s\n' scenario "mockd req/s" "ref req/s" "nginx req/s" \
	mockd/ref mockd/nginx "mockd p99" "ref p99" "nginx p99" "med/ref" "med/nginx"

failed=0
json="{\"connections\":$conns,\"seconds\":$seconds,\"rounds\":$rounds,\"cores\":$(nproc),\"scenarios\":["
sep=""
for name in "${names[@]}"; do
	var="args_${name//-/_}[@]"
	declare -A best=() best_rps=([mockd]=-1 [ref]=-1 [nginx]=-1) round_rps=()
	per_ref=() per_ngx=()
	for round in $(seq "$rounds"); do
		# The servers take turns, the order rotating each round, so a burst of noise hits all of them.
		order=$servers
		for _ in $(seq $((round - 1))); do
			order="${order#* } ${order%% *}"
		done
		for who in $order; do
			res=$("$build/loadgen" -c "$conns" -d "$seconds" "${!var}" "$(port_of "$who")") || true
			rps=$(field "$res" requests_per_second)
			if [ -z "$rps" ] || [ "$(field "$res" errors)" != 0 ] || [ "$(field "$res" requests)" = 0 ]; then
				echo "bench: $name: $who: errors or no responses: ${res:-no output}" >&2
				failed=1
			fi
			if awk -v a="${rps:-0}" -v b="${best_rps[$who]}" 'BEGIN { exit !(a > b) }'; then
				best[$who]=$res
				best_rps[$who]=$rps
			fi
			round_rps[$who]=${rps:-0}
		done
		# This round's ratios: measured back to back, they share the round's noise.
		per_ref+=("$(ratio "${round_rps[mockd]}" "${round_rps[ref]}")")
		[ "$nginx_bin" = none ] || per_ngx+=("$(ratio "${round_rps[mockd]}" "${round_rps[nginx]}")")
	done
	med_ref=$(median "${per_ref[@]}"); med_ngx=$(median "${per_ngx[@]}")
	mock=${best[mockd]:-}; ref=${best[ref]:-}; ngx=${best[nginx]:-}
	m_rps=$(field "$mock" requests_per_second); r_rps=$(field "$ref" requests_per_second)
	n_rps=$(field "$ngx" requests_per_second)
	ratio_ref=$(ratio "$m_rps" "$r_rps"); ratio_ngx=$(ratio "$m_rps" "$n_rps")
	printf '%-16s %11s %11s %11s %9s %11s %9s %9s %9s %9s %9s\n' "$name" "${m_rps:--}" "${r_rps:--}" "${n_rps:--}" \
		"$ratio_ref" "$ratio_ngx" "$(ms "$mock")" "$(ms "$ref")" "$(ms "$ngx")" "$med_ref" "$med_ngx"
	json+="$sep{\"scenario\":\"$name\",\"ratio\":$ratio_ref,\"ratio_nginx\":$ratio_ngx,"
	json+="\"ratio_median\":$med_ref,\"ratio_nginx_median\":$med_ngx,"
	json+="\"mockd\":${mock:-null},\"reference\":${ref:-null},\"nginx\":${ngx:-null}}"
	sep=","
	unset best best_rps round_rps
done
json+="]}"

mkdir -p "$(dirname "$out")"
printf '%s\n' "$json" >"$out"
echo "bench: mockd/ref and mockd/nginx = mockd's best req/s / that server's best (1.00 = as fast);" \
	"med/ref and med/nginx = the median of the rounds' ratios; written to $out"
exit "$failed"
