#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 7: mapwatch daemon (README: The daemon).
#  a. A busy, clean program's throughput with the daemon watching it (default budget, 1% of
#     one CPU) vs without: tools/bench/maploop's "loop" (map writes on one goroutine, no lock)
#     run back to back for SECONDS, without the daemon, then with it (--pid, --interval 10:
#     start-up excluded, every epoch's attach and detach included). Runs alternate,
#     MW_BENCH_ROUNDS times (default 3). Goal: ratio >= 0.98. (maploop's "heavy" workload is
#     not used: two goroutines on one contended mutex run at full or at half speed for
#     seconds at a time, with no probe at all.)
#  b. The daemon's peak RSS (VmHWM) watching N (default 50) Go processes of one binary for
#     30 s, every one doing a little map work, with epochs of 5 s. Goal: <= 32 MiB.
#
#   bench_daemon.sh [SECONDS] [N]     defaults 20 and 50
. "$(dirname "$0")/lib.sh"
. "$top/tools/real-servers-lib.sh"
SECS=${1:-20}
N=${2:-50}
ROUNDS=${MW_BENCH_ROUNDS:-3}

machine
need_tools
need_maploop
start_maploop

# run_loops SECONDS: maploop "loop" commands back to back for that long; prints ops/s (wall)
run_loops() {
	local end=$((SECONDS + $1)) ops=0 ns=0
	while [ $SECONDS -lt $end ]; do
		ml "loop 20000000"
		ops=$((ops + $(field ops "$REPLY")))
		ns=$((ns + $(field wall_ns "$REPLY")))
	done
	calc "$ops / ($ns / 1e9)"
}

log "maploop PID $MLPID (a loop of map writes on one goroutine); daemon: mapwatch daemon --pid PID --interval 10 (default budget), $SECS s a run"
without=() with=()
for ((r = 1; r <= ROUNDS; r++)); do
	a=$(run_loops "$SECS")
	without+=("$a")
	port=$(free_port)
	"$MW" daemon --pid "$MLPID" --interval 10 --listen "127.0.0.1:$port" \
		--state-dir "$WORK/state" >"$WORK/d$r.out" 2>&1 &
	d=$!
	PIDS+=("$d")
	for ((i = 0; i < 200; i++)); do grep -q "daemon ready" "$WORK/d$r.out" && break; sleep 0.05; done
	b=$(run_loops "$SECS")
	curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/m$r.txt" || true
	kill -TERM "$d"
	wait "$d" || fail "mapwatch daemon exited $?: $(tail -3 "$WORK/d$r.out")"
	forget "$d"
	with+=("$b")
	cpu=$(sed -n 's/^mapwatch_probe_cpu_seconds_total{[^}]*} //p' "$WORK/m$r.txt")
	hits=$(sed -n 's/^mapwatch_probe_hits_total{[^}]*} //p' "$WORK/m$r.txt")
	echo "round $r: no daemon $a writes/s; with the daemon $b writes/s: $(f2 "$b / $a"); $hits probe hits, probe CPU $cpu s (estimate)"
done
a=$(median "${without[@]}") b=$(median "${with[@]}")
ratio=$(f2 "$b / $a")
result "daemon_throughput_ratio" "$ratio of the throughput without the daemon ($b vs $a map writes/s, medians of $ROUNDS alternating runs of $SECS s)" \
	">= 0.98" "$(le 0.98 "$ratio")"

# b. N processes of one binary, each running a light loop of map writes
log "starting $N copies of maploop (a light loop each)"
pids=()
for ((i = 0; i < N; i++)); do
	# 200k writes every second or so, on one goroutine: a little map work each
	(while echo "loop 200000"; do sleep 1; done) 2>/dev/null | "$MAPLOOP" >/dev/null 2>&1 &
	pids+=("$!")
	PIDS+=("$!")
done
sleep 2
port=$(free_port)
args=()
for p in "${pids[@]}"; do args+=(--pid "$p"); done
"$MW" daemon "${args[@]}" --interval 5 --listen "127.0.0.1:$port" --state-dir "$WORK/state" \
	>"$WORK/dn.out" 2>&1 &
d=$!
PIDS+=("$d")
for ((i = 0; i < 600; i++)); do grep -q "daemon ready" "$WORK/dn.out" && break; sleep 0.05; done
grep -q "daemon ready" "$WORK/dn.out" || fail "the daemon did not start: $(tail -3 "$WORK/dn.out")"
sleep 30
curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/mn.txt" || fail "no scrape"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$d/status")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$d/status")
targets=$(sed -n 's/^mapwatch_targets //p' "$WORK/mn.txt")
kill -TERM "$d"
wait "$d" || true
forget "$d"
mib=$(calc "$hwm / 1024")
result "daemon_rss_mib" "$mib MiB peak RSS (now $(calc "$rss / 1024") MiB) watching $targets processes for 30 s, epochs of 5 s" \
	"<= 32" "$(le "$mib" 32)"
