#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 6: mapwatch's peak memory (VmHWM, the peak resident set) during a capture of a busy
# real server: our own instance of Debian's prometheus on 127.0.0.1 (its own data dir in a
# temp folder) under ab load for the whole capture, captured with default options. The peak is
# GNU time's maximum RSS (ru_maxrss: VmHWM when mapwatch exits, the report written); VmHWM
# read from /proc every second while it runs is printed too. Goal: <= 64 MiB.
#
#   bench_rss.sh [SECONDS]     capture duration (default 60)
. "$(dirname "$0")/lib.sh"
SECS=${1:-60}

machine
need_tools
apt_need jq time
bench_prometheus "$PROMETHEUS"
log "$PROMETHEUS, PID $SPID; capture -d $SECS under ab load"
start_load $((SECS + 30))
sleep 1
/usr/bin/time -f 'maxrss_kb %M' -o "$WORK/time" "$MW" capture -p "$SPID" -d "$SECS" \
	--json "$WORK/cap.json" >/dev/null 2>"$WORK/cap.err" &
tp=$!
PIDS+=("$tp")
hwm=0 samples=()
while kill -0 "$tp" 2>/dev/null; do
	mp=$(awk '{ print $1 }' "/proc/$tp/task/$tp/children" 2>/dev/null || true)
	if [ -n "$mp" ]; then
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$mp/status" 2>/dev/null || true)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		[ -n "$h" ] && samples+=("$h")
	fi
	sleep 1
done
stop_wait "$tp" || fail "mapwatch capture: $(tail -3 "$WORK/cap.err")"
stop_load
kb=$(awk '/^maxrss_kb/ { print $2 }' "$WORK/time")
[ -n "$kb" ] || fail "GNU time printed no maximum RSS"
echo "capture: $(jq -c '{ended_by, events: .events.total, lost: .events.lost, maps: (.maps | length), short_lived_sites: (.short_lived | length), maps_ended}' "$WORK/cap.json" 2>/dev/null || true)"
echo "VmHWM read while it ran: ${samples[*]:-none} kB"
result "rss_peak" "$(f2 "$kb / 1024") MiB peak RSS (VmHWM at exit; $(f2 "$hwm / 1024") MiB seen while capturing) over a ${SECS} s capture of prometheus under ab load" \
	"<= 64 MiB" "$(le "$kb" 65536)"
