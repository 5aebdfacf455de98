#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 5: user space's ingest rate. A real capture of a busy server (our own instance of
# Debian's prometheus on 127.0.0.1 under ab load) records every ring-buffer record it receives
# (`mapwatch capture --record FILE`, a hidden option: u32 size, then the record), and mwbench
# replay (tools/bench/mwbench.c) feeds the stream through model_ingest (user/model.c), on one
# thread, into a fresh model per pass, symbolising against the same binary. Prints records/s of
# thread CPU and wall time per pass, and their median. Goal: >= 2 M records/s on one core.
#
#   bench_ingest.sh [SECONDS]     how long to record (default 5)
. "$(dirname "$0")/lib.sh"
SECS=${1:-5}
PASSES=${MW_BENCH_PASSES:-5}

machine
need_tools
bench_prometheus "$PROMETHEUS"
bias=$("$MW" info -p "$SPID" | sed -n 's/.*loaded at bias \(0x[0-9a-f]*\).*/\1/p')
log "$PROMETHEUS, PID $SPID, load bias ${bias:-0 (not PIE)}; recording ${SECS} s under ab load"
start_load $((SECS + 30))
sleep 1
"$MW" capture -p "$SPID" -d "$SECS" --lock-baseline 0 --record "$WORK/stream" \
	--json "$WORK/cap.json" >/dev/null 2>"$WORK/cap.err" || fail "mapwatch capture: $(tail -3 "$WORK/cap.err")"
stop_load
stop_wait "$SPID" TERM || true
log "recorded $(stat -c %s "$WORK/stream") bytes; the capture's report: $(jq -c '.events | {total, lost}' "$WORK/cap.json")"
"$MWBENCH" replay "$WORK/stream" "$PROMETHEUS" -b "${bias:-0}" -n "$PASSES" | tee "$WORK/replay.out" ||
	fail "mwbench replay"
rate=$(awk '/^median:/ { print $2 }' "$WORK/replay.out")
best=$(awk '/^best:/ { print $2 }' "$WORK/replay.out")
n=$(awk '/^replay:/ { print $2 }' "$WORK/replay.out")
result "ingest_rate" "$(f2 "$rate / 1e6") M records/s of one thread's CPU (median of $PASSES passes over $n records from prometheus; best $(f2 "$best / 1e6") M)" \
	">= 2 M/s" "$(le 2e6 "$rate")"
