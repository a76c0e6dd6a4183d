#!/usr/bin/env bash
# Validate a JUnit report against the Jenkins xUnit schema the reports promise.
#
#   scripts/check-junit.sh FILE
#
# The schema is $JUNIT_XSD, else ../shared/schemas/junit-10.xsd beside the repository.  Without the
# schema the file cannot be checked: say so and exit 0.  Exit 1 only when xmllint finds the file invalid
# (or it is missing); 2 on bad usage.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: scripts/check-junit.sh FILE" >&2
	exit 2
fi
file=$1
root=$(cd "$(dirname "$0")/.." && pwd)
xsd=${JUNIT_XSD:-$root/../shared/schemas/junit-10.xsd}

if [ ! -f "$file" ]; then
	echo "check-junit: cannot validate $file: no such file" >&2
	exit 1
fi
if [ ! -f "$xsd" ]; then
	echo "check-junit: warning: schema not found at $xsd (set JUNIT_XSD); $file not validated" >&2
	exit 0
fi
if ! command -v xmllint >/dev/null; then
	echo "check-junit: cannot validate $file: xmllint is missing (apt-get install libxml2-utils)" >&2
	exit 1
fi
if ! xmllint --noout --schema "$xsd" "$file"; then
	echo "check-junit: $file is not valid against $xsd" >&2
	exit 1
fi
