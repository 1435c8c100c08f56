#!/usr/bin/env bash
# Runs `go test "$@"`, showing its output as it comes, and when it fails, repeats at the end what
# failed: the failing tests and specs, Ginkgo's timed-out specs, and the tests a timeout panic
# found running. A CI log is read from its tail, and a timeout panic's goroutine dump would
# otherwise be all the tail shows.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"${GO:-go}" test "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	echo
	echo "=== what failed (hack/gotest.sh) ==="
	grep -a -E '^(--- FAIL|FAIL|ok |panic:)|\[(FAIL|TIMEDOUT|PANICKED|INTERRUPTED)\]|^running tests:|^[[:space:]]+Test[A-Za-z0-9_/]+ \(' "$log" | grep -v '^ok ' | head -n 60
fi
exit "$rc"
