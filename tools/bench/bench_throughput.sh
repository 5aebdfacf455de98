#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 3: a map-heavy Go program's throughput during a capture with mapwatch's default
# budget (`mapwatch capture -p PID -d SECONDS`, no other option) against the same program,
# not captured, at the same time. Two processes of tools/bench/maploop, A and B, each with
# GOMAXPROCS=1 (one per CPU of a 2-CPU machine, so that neither waits for the other), run its
# "heavy" workload (each op: a request map of 6 headers, a shared map under a mutex, a cache
# with deletes, a 256-byte hash) for SECONDS + 12 s at once; the capture of one of them
# starts 1 s in. Throughputs are counted from the programs' own 250 ms ticks between the
# capture's launch and its exit (start-up, lock baseline and detach included: all of it is
# what a capture costs). The host's own drift (10% and more between runs 20 s apart on a
# shared 2-CPU guest) thus cancels out. Rounds swap which one is captured, MW_BENCH_ROUNDS
# times (default 4, keep it even); the result is the geometric mean of the rounds' ratios.
# Goal: ratio >= 0.98. (With GOMAXPROCS above 1, heavy's workers contend on its mutex and
# run at full or at half speed for seconds at a time, probes or not.)
#
#   bench_throughput.sh [SECONDS]     capture duration, default 20
#   MW_BENCH_CAPTURE_OPTS="--budget 1"  options for the capture (default none: the default budget)
. "$(dirname "$0")/lib.sh"
SECS=${1:-20}
ROUNDS=${MW_BENCH_ROUNDS:-4}
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
start_ml A GOMAXPROCS=1
start_ml B GOMAXPROCS=1

# heavy_wait NAME TICKS_FILE: the tick lines of a running "heavy" go to the file, until its
# summary line
heavy_wait() {
	local out=ML_$1_OUT line
	while read -r -t 600 line <&"${!out}"; do
		case $line in
		tick*) echo "$line" >>"$2" ;;
		heavy*) return 0 ;;
		*) fail "maploop $1 said: $line" ;;
		esac
	done
	fail "maploop $1 did not answer"
}

log "maploop A (PID $ML_A_PID) and B (PID $ML_B_PID), GOMAXPROCS=1 each, run heavy at once; capture: mapwatch capture -p PID -d $SECS (default budget) of one, a different one each round"
ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then w=A u=B; else w=B u=A; fi
	wpid=ML_${w}_PID
	for x in A B; do
		in=ML_${x}_IN
		echo "heavy $RUN" >&"${!in}"
	done
	j=$WORK/cap$r.json
	(
		sleep 1
		echo "start $(date +%s%N)"
		rc=0
		"$MW" capture -p "${!wpid}" -d "$SECS" ${MW_BENCH_CAPTURE_OPTS:-} --json "$j" >"$WORK/cap$r.out" 2>"$WORK/cap$r.err" || rc=$?
		echo "end $(date +%s%N) $rc"
	) >"$WORK/cap$r.times" &
	c=$!
	PIDS+=("$c")
	heavy_wait A "$WORK/ticks.A$r"
	heavy_wait B "$WORK/ticks.B$r"
	wait "$c" || true
	forget "$c"
	read -r _ s < <(grep '^start' "$WORK/cap$r.times")
	read -r _ e rc < <(grep '^end' "$WORK/cap$r.times") || fail "the capture did not end in time"
	[ "$rc" = 0 ] || fail "mapwatch capture exited $rc: $(tail -3 "$WORK/cap$r.err")"
	a=$(rate "$WORK/ticks.$u$r" "$s" "$e") b=$(rate "$WORK/ticks.$w$r" "$s" "$e")
	ratios+=("$(calc "$b / $a")")
	echo "round $r: $w captured $b ops/s, $u not captured $a ops/s ($(calc "($e - $s) / 1e9") s from the capture's launch to its exit): $(f2 "$b / $a")"
	echo "  report: $(jq -c '{budget, overhead: (.overhead | del(.probes))} | with_entries(select(.value != null))' "$j")"
done
gm=$(printf '%s\n' "${ratios[@]}" | awk '{ s += log($1) } END { printf "%.4f", exp(s / NR) }')
result "throughput_ratio" "$(f2 "$gm") of the throughput of the same program not captured, at the same time (geometric mean of $ROUNDS rounds, capture -d $SECS: $(printf '%s ' "${ratios[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.3f", (i > 1 ? ", " : ""), $i }'))" \
	">= 0.98" "$(le 0.98 "$gm")"
