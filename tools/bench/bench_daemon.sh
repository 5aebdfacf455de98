#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 7: mapwatch daemon (README: The daemon).
#  a. A busy, clean program's throughput with the daemon watching it (default budget, 1% of
#     one CPU) vs without: tools/bench/maploop's "heavy" workload runs SECONDS + 4 s; the
#     daemon (--pid, --interval 10) starts 1 s in and is stopped after SECONDS. Throughput is
#     counted from the program's own ticks over the daemon's whole life (its start-up and
#     every epoch's attach and detach included), and over the same span of a run without it.
#     Runs alternate, MW_BENCH_ROUNDS times (default 2). Goal: ratio >= 0.98.
#  b. The daemon's peak RSS (VmHWM) watching N (default 50) Go processes of one binary for
#     30 s, every one doing a little map work, with epochs of 5 s. Goal: <= 32 MiB.
#
#   bench_daemon.sh [SECONDS] [N]     defaults 20 and 50
. "$(dirname "$0")/lib.sh"
. "$top/tools/real-servers-lib.sh"
SECS=${1:-20}
N=${2:-50}
ROUNDS=${MW_BENCH_ROUNDS:-2}
RUN=$((SECS + 4))

rate() {	# TICKS FROM_NS TO_NS: ops/s between them (as bench_throughput.sh)
	awk -v a="$2" -v b="$3" '$2 >= a && !t0 { t0 = $2; o0 = $3 } $2 <= b { t1 = $2; o1 = $3 }
		END { if (t1 > t0) printf "%.0f", (o1 - o0) / ((t1 - t0) / 1e9); else print 0 }' "$1"
}

machine
need_tools
need_maploop
start_maploop
log "maploop PID $MLPID; daemon: mapwatch daemon --pid PID --interval 10 (default budget) for $SECS s"
without=() with=()
for ((r = 1; r <= ROUNDS; r++)); do
	t=$WORK/ticks.a$r
	ml_send "heavy $RUN"
	t0=$(date +%s%N)
	ml_wait "$t"
	span=${SPAN:-$((SECS * 1000000000))}
	a=$(rate "$t" $((t0 + 1000000000)) $((t0 + 1000000000 + span)))
	without+=("$a")

	t=$WORK/ticks.b$r
	port=$(free_port)
	ml_send "heavy $RUN"
	(
		sleep 1
		echo "start $(date +%s%N)"
		"$MW" daemon --pid "$MLPID" --interval 10 --listen "127.0.0.1:$port" \
			--state-dir "$WORK/state" >"$WORK/d$r.out" 2>&1 &
		d=$!
		sleep "$SECS"
		curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/m$r.txt" || true
		kill -TERM "$d"
		wait "$d"
		echo "end $(date +%s%N) $?"
	) >"$WORK/d$r.times" &
	c=$!
	PIDS+=("$c")
	ml_wait "$t"
	wait "$c" || true
	forget "$c"
	read -r _ s < <(grep '^start' "$WORK/d$r.times")
	read -r _ e rc < <(grep '^end' "$WORK/d$r.times") || fail "the daemon did not end in time"
	[ "$rc" = 0 ] || fail "mapwatch daemon exited $rc: $(tail -3 "$WORK/d$r.out")"
	SPAN=$((e - s))
	b=$(rate "$t" "$s" "$e")
	with+=("$b")
	cpu=$(sed -n 's/^mapwatch_probe_cpu_seconds_total{[^}]*} //p' "$WORK/m$r.txt")
	echo "round $r: no daemon $a ops/s; with the daemon $b ops/s: $(f2 "$b / $a"); probe CPU $cpu s (estimate)"
done
a=$(median "${without[@]}") b=$(median "${with[@]}")
ratio=$(f2 "$b / $a")
result "daemon_throughput_ratio" "$ratio of the throughput without the daemon ($b vs $a ops/s, medians of $ROUNDS alternating runs, $SECS s)" \
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
