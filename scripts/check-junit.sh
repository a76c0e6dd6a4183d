#!/usr/bin/env bash
# Validate a JUnit report against the Jenkins xUnit schema the reports promise.
#
#   scripts/check-junit.sh FILE
#
# The schema is $JUNIT_XSD, else schemas/junit-10.xsd in this repository.  Exit 1 when the file is
# invalid, missing, or cannot be checked (no schema, no xmllint): a check that did not happen is never
# reported as a pass; 2 on bad usage.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: scripts/check-junit.sh FILE" >&2
	exit 2
fi
file=$1
root=$(cd "$(dirname "$0")/.." && pwd)
xsd=${JUNIT_XSD:-$root/schemas/junit-10.xsd}

if [ ! -f "$file" ]; then
	echo "check-junit: cannot validate $file: no such file" >&2
	exit 1
fi
if [ ! -f "$xsd" ]; then
	echo "check-junit: cannot validate $file: schema not found at $xsd (set JUNIT_XSD)" >&2
	exit 1
fi
if ! command -v xmllint >/dev/null; then
	echo "check-junit: cannot validate $file: xmllint is missing (apt-get install libxml2-utils)" >&2
	exit 1
fi
if ! xmllint --noout --schema "$xsd" "$file"; then
	echo "check-junit: $file is not valid against $xsd" >&2
	exit 1
fi
