#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run every test: unit (no BPF), then integration (real BPF against real Go programs).
# Each test prints "ok - name" or "not ok - name"; this prints the total last:
#   N passed, N failed
# MW_TESTS=pattern runs only the test files whose name matches.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export MW_FIXTURES=${MW_FIXTURES:-$top/.output/fixtures}
export MW="$top/mapwatch" MW_TOOLS="$top/.output/tests"
log=$(mktemp /tmp/mapwatch-tests.XXXXXX)
trap 'rm -f "$log"' EXIT

if ! tests/build-fixtures.sh "$MW_FIXTURES"; then
	echo "not ok - build Go fixtures" | tee -a "$log"
fi

run() {	# name command...
	local name=$1 t0=$SECONDS rc
	shift
	[ -n "${MW_TESTS:-}" ] && [[ $name != *$MW_TESTS* ]] && return 0
	echo "# $name"
	"$@" 2>&1 | tee -a "$log"
	rc=${PIPESTATUS[0]}
	# A test program that dies without reporting its cases still counts as a failure.
	[ "$rc" -eq 0 ] || grep -q "^not ok - " "$log" ||
		echo "not ok - $name exited with status $rc" | tee -a "$log"
	echo "# $name: $((SECONDS - t0)) s"
}

for t in "$MW_TOOLS"/test_*; do
	run "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
	run "integration/$(basename "$t" .sh)" bash "$t"
done

passed=$(grep -c '^ok - ' "$log")
failed=$(grep -c '^not ok - ' "$log")
skipped=$(grep -c '^skip - ' "$log")
if [ "$failed" -gt 0 ]; then
	echo
	echo "failed:"
	grep '^not ok - ' "$log" | sed 's/^/  /'
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
