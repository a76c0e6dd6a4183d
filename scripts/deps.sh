#!/usr/bin/env bash
# Install the Debian packages chatconform needs to build, run and test; do nothing when all are present.
#
#   scripts/deps.sh                  install what is missing (uses sudo when not root)
#   scripts/deps.sh --check          only say what is missing, on one line; exit 1 when something is
#   scripts/deps.sh --build          only what building needs (make, make install), not the tests'
#   scripts/deps.sh --bench          also what `make bench` needs (below)
# --check goes with either of the others. make runs this script only for `make run` and `make test`;
# every other target runs it with --check and stops on what is missing.
set -euo pipefail

bench=no
build_only=no
check=no
for arg in "$@"; do
	case $arg in
	--bench) bench=yes ;;
	--build) build_only=yes ;;
	--check) check=yes ;;
	*) echo "usage: scripts/deps.sh [--build | --bench] [--check]" >&2; exit 2 ;;
	esac
done
if [ "$bench" = yes ] && [ "$build_only" = yes ]; then
	echo "usage: scripts/deps.sh [--build | --bench] [--check]" >&2
	exit 2
fi

# What building the two programs needs: enough for a packager's `make install`.
packages=(
	build-essential        # cc, make
	pkg-config
	libevent-dev           # mockd's event loop and HTTP server
	libcjson-dev           # JSON in both programs
	libcurl4-openssl-dev   # the runner's HTTP client
	libssl-dev             # TLS, SHA-1 and base64 for WebSocket handshakes
	libwslay-dev           # WebSocket framing
	libpcre2-dev           # the runner's regex matcher (PCRE2)
)

# What the tests, make run and make fuzz need on top.
test_packages=(
	libcriterion-dev       # unit and integration tests
	libxml2-utils          # xmllint: JUnit reports are validated against the schema
	python3-websockets     # an independent WebSocket peer for interoperability tests
	python3-html5lib       # an independent HTML parser: the HTML report is checked in strict mode
	chromium               # a real browser: the HTML report's DOM is checked headless (tests/integration/test_html.c)
	curl                   # used by scripts and examples
	openssl                # makes the certificate of the runner's TLS tests
	libclang-rt-14-dev     # libFuzzer and sanitizer runtimes for clang: make fuzz (not make test)
	groff-base             # groff: make test checks the man pages print no warning
)
if [ "$build_only" = no ]; then
	packages+=("${test_packages[@]}")
fi

# Only for make bench, never for make test: the builds and tests do not need them.
bench_packages=(
	nginx-light            # a reference server measured beside mockd (bench/run.sh); its service is not used
	procps                 # uptime, recorded with the figures
)
if [ "$bench" = yes ]; then
	packages+=("${bench_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
	# dpkg-query prints "install ok installed" only for a package that is fully installed.
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$check" = yes ]; then
	# One line, for make to stop with: what is missing and the command that installs it.
	how="scripts/deps.sh"
	[ "$build_only" = yes ] && how="scripts/deps.sh --build"
	[ "$bench" = yes ] && how="scripts/deps.sh --bench"
	echo "missing Debian packages: ${missing[*]} (install them with $how)"
	exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
