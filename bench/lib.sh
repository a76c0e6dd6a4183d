# What the bench scripts share; each sources it right after defining die() (its own prefix for messages).
#
#   tmp       a scratch folder, removed at exit
#   pids      the processes to stop at exit (add with pids+=($!))
#   wait_port FILE PID NAME   wait (at most 5 s) for a server to write HOST:PORT and a newline to FILE; print the port
#   paced_rule DIR TOKENS INTERVAL_MS   write DIR/paced.json: tokens "t0", " t1", ... at first_token_ms = interval_ms
#   need_range NAME VALUE LO HI          die unless VALUE is a whole number from LO to HI (NAME says which setting)
#   need_programs FILE...                die unless each FILE is executable (the bench programs: make bench)

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

paced_rule() {
	local dir=$1 tokens=$2 interval=$3 toks
	mkdir -p "$dir"
	toks=$(seq 0 $((tokens - 1)) | sed 's/^0$/"t0"/; s/^\([1-9][0-9]*\)$/" t\1"/' | paste -sd, -)
	printf '{"id":"paced","api":"widget","match":{"message":"paced"},"reply":{"tokens":[%s]},"timing":{"first_token_ms":%d,"interval_ms":%d}}\n' \
		"$toks" "$interval" "$interval" >"$dir/paced.json"
}

need_range() {
	local name=$1 value=$2 lo=$3 hi=$4
	[[ $value =~ ^[0-9]+$ ]] && [ "$value" -ge "$lo" ] && [ "$value" -le "$hi" ] ||
		die "$name must be $lo to $hi, got \"$value\""
}

need_programs() {
	local f
	for f in "$@"; do
		[ -x "$f" ] || die "$f is missing: run make bench"
	done
}
