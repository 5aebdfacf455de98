# SPDX-License-Identifier: MIT
# `capture --json -` is for pipes (| jq): stdout holds exactly one JSON document, and the
# text report goes to stderr. Checked on the newest toolchain's stripped PIE.
. "$(dirname "$0")/lib.sh"

go=$(toolchains | grep -v noswiss | tail -1)
d=$WORK/stdout
if ! start_fixture "$d" "$MW_FIXTURES/$go/writes.pie-stripped" 200 50; then
	notok "--json -: could not start the fixture"
	exit 0
fi
"$MW" capture -p "$FPID" --lock-baseline 0 --budget off --ready-file "$d/attached" -d 30 --json - \
	>"$d/out" 2>"$d/err" {FFD}>&- &
MWPID=$!
PIDS+=("$MWPID")
wait_until 20 test -e "$d/attached"
release_fixture
wait_exit "$FPID" 30
wait_exit "$MWPID" 30
check "--json -: mapwatch exits 0" test "$STATUS" = 0
check "--json -: stdout is exactly one JSON document" \
	test "$(jq -s 'length' "$d/out" 2>/dev/null)" = 1
check "--json -: it is the capture, with every write (2 x 200 + 3)" jq_true "$d/out" \
	'.schema == "mapwatch.capture/v1" and ([.maps[].assigns] | add) == 403'
check "--json -: the text report went to stderr" grep -q '^MAPS WRITTEN' "$d/err"
check "--json -: no text on stdout" bash -c "! grep -q '^MAPS WRITTEN\|^FINDINGS' '$d/out'"
