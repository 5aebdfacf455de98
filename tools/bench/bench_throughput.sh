#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 3: a map-heavy Go program's throughput with no capture and during a capture with
# mapwatch's default budget (`mapwatch capture -p PID -d SECONDS`, no other option).
# tools/bench/maploop's "heavy" workload (GOMAXPROCS goroutines, each op: a request map of 6
# headers, a shared map under a mutex, a per-worker cache with deletes, a 256-byte hash) runs
# SECONDS + 12 s; the capture starts 1 s in. Its throughput is counted from its own 250 ms
# ticks between the capture's launch and its exit (start-up, lock baseline and detach
# included: all of it is what a capture costs), and over the same span of a run without a
# capture. Runs alternate, MW_BENCH_ROUNDS times (default 2). Goal: ratio >= 0.98.
#
#   bench_throughput.sh [SECONDS]     capture duration, default 20
. "$(dirname "$0")/lib.sh"
SECS=${1:-20}
ROUNDS=${MW_BENCH_ROUNDS:-2}
RUN=$((SECS + 12))

# rate TICKS FROM_NS TO_NS: ops/s between the first tick at or after FROM and the last at or
# before TO.
rate() {
	awk -v a="$2" -v b="$3" '$2 >= a && !t0 { t0 = $2; o0 = $3 } $2 <= b { t1 = $2; o1 = $3 }
		END { if (t1 > t0) printf "%.0f", (o1 - o0) / ((t1 - t0) / 1e9); else print 0 }' "$1"
}

machine
need_tools
apt_need jq
need_maploop
start_maploop
log "maploop PID $MLPID, GOMAXPROCS $(nproc); capture: mapwatch capture -p PID -d $SECS (default budget)"
without=() with=()
for ((r = 1; r <= ROUNDS; r++)); do
	# without a capture: the same span, 1 s in
	t=$WORK/ticks.a$r
	ml_send "heavy $RUN"
	t0=$(date +%s%N)
	ml_wait "$t"
	span=${SPAN:-$((SECS * 1000000000 + 3000000000))}
	a=$(rate "$t" $((t0 + 1000000000)) $((t0 + 1000000000 + span)))
	without+=("$a")

	# with a capture, launched 1 s in; its launch and exit times are kept
	t=$WORK/ticks.b$r j=$WORK/cap$r.json
	ml_send "heavy $RUN"
	(
		sleep 1
		echo "start $(date +%s%N)"
		rc=0
		"$MW" capture -p "$MLPID" -d "$SECS" --json "$j" >"$WORK/cap$r.out" 2>"$WORK/cap$r.err" || rc=$?
		echo "end $(date +%s%N) $rc"
	) >"$WORK/cap$r.times" &
	c=$!
	PIDS+=("$c")
	ml_wait "$t"
	wait "$c" || true
	forget "$c"
	read -r _ s < <(grep '^start' "$WORK/cap$r.times")
	read -r _ e rc < <(grep '^end' "$WORK/cap$r.times") || fail "the capture did not end in time"
	[ "$rc" = 0 ] || fail "mapwatch capture exited $rc: $(tail -3 "$WORK/cap$r.err")"
	SPAN=$((e - s))
	b=$(rate "$t" "$s" "$e")
	with+=("$b")
	echo "round $r: no capture $a ops/s; during the capture $b ops/s ($(calc "$SPAN / 1e9") s from launch to exit): $(f2 "$b / $a")"
	echo "  report: $(jq -c '{budget, overhead: (.overhead | del(.probes))} | with_entries(select(.value != null))' "$j")"
done
a=$(median "${without[@]}") b=$(median "${with[@]}")
ratio=$(f2 "$b / $a")
result "throughput_ratio" "$ratio of the throughput without a capture ($b vs $a ops/s, medians of $ROUNDS alternating runs, capture -d $SECS)" \
	">= 0.98" "$(le 0.98 "$ratio")"
