#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 7: mapwatch daemon (README: The daemon).
#  a. A busy, clean program's throughput with the daemon watching it (default budget, 1% of
#     one CPU) vs without: two identical processes of tools/bench/maploop, A and B, run its
#     "loop" (20 M map writes on one goroutine, no lock, about 0.2 s) at the same time, one
#     per CPU, over and over for SECONDS, while the daemon (--pid, --interval 10: every
#     epoch's attach and detach included) watches one of them. Watched and unwatched loops
#     thus run on the same host at the same time, and the host's own drift (10% and more
#     between runs of 20 s on a shared 2-CPU guest) cancels out; both are busy all the time,
#     as the goal's "busy program" is (a program busy half the time pays a budget of 1% of
#     one CPU out of half the CPU time: 2% of its work). Rounds swap which one is watched,
#     MW_BENCH_ROUNDS times (default 4, keep it even); the result is the geometric mean of
#     the rounds' ratios. Goal: ratio >= 0.98. (maploop's "heavy" workload is not used: two
#     goroutines on one contended mutex run at full or at half speed for seconds at a time,
#     with no probe at all.)
#  b. The daemon's peak RSS (VmHWM) watching N (default 50) Go processes of one binary for
#     30 s, every one doing a little map work, with epochs of 5 s. Goal: <= 32 MiB. Its own
#     CPU over those 30 s is printed too (no goal).
#
#   bench_daemon.sh [SECONDS] [N]     defaults 20 and 50
. "$(dirname "$0")/lib.sh"
. "$top/tools/real-servers-lib.sh"
SECS=${1:-20}
N=${2:-50}
ROUNDS=${MW_BENCH_ROUNDS:-4}

machine
need_tools
need_maploop
# loop_both: one "loop 20000000" in A and in B at once; sets A_OPS A_NS B_OPS B_NS (their
# wall times)
loop_both() {
	local x in out line
	for x in A B; do
		in=ML_${x}_IN
		echo "loop 20000000" >&"${!in}"
	done
	for x in A B; do
		out=ML_${x}_OUT
		read -r -t 600 line <&"${!out}" || fail "maploop $x did not answer"
		case $line in loop*) ;; *) fail "maploop $x said: $line" ;; esac
		printf -v "${x}_OPS" %s "$(field ops "$line")"
		printf -v "${x}_NS" %s "$(field wall_ns "$line")"
	done
}

start_ml A
start_ml B
log "maploop A (PID $ML_A_PID) and B (PID $ML_B_PID) run at once, 20 M map writes each, over and over for $SECS s a round; the daemon (mapwatch daemon --pid PID --interval 10, default budget) watches one, a different one each round"
ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then w=A u=B; else w=B u=A; fi
	wpid=ML_${w}_PID
	port=$(free_port)
	"$MW" daemon --pid "${!wpid}" --interval 10 --listen "127.0.0.1:$port" \
		--state-dir "$WORK/state" >"$WORK/d$r.out" 2>&1 &
	d=$!
	PIDS+=("$d")
	for ((i = 0; i < 200; i++)); do grep -q "daemon ready" "$WORK/d$r.out" && break; sleep 0.05; done
	grep -q "daemon ready" "$WORK/d$r.out" || fail "the daemon did not start: $(tail -3 "$WORK/d$r.out")"
	wo=0 wn=0 uo=0 un=0 end=$((SECONDS + SECS))
	while [ $SECONDS -lt $end ]; do
		loop_both
		o=${w}_OPS n=${w}_NS
		wo=$((wo + ${!o})) wn=$((wn + ${!n}))
		o=${u}_OPS n=${u}_NS
		uo=$((uo + ${!o})) un=$((un + ${!n}))
	done
	curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/m$r.txt" || true
	kill -TERM "$d"
	wait "$d" || fail "mapwatch daemon exited $?: $(tail -3 "$WORK/d$r.out")"
	forget "$d"
	a=$(calc "$uo / ($un / 1e9)") b=$(calc "$wo / ($wn / 1e9)")
	ratios+=("$(calc "$b / $a")")
	cpu=$(sed -n 's/^mapwatch_probe_cpu_seconds_total{[^}]*} //p' "$WORK/m$r.txt")
	hits=$(sed -n 's/^mapwatch_probe_hits_total{[^}]*} //p' "$WORK/m$r.txt")
	echo "round $r: $w watched $b writes/s, $u not watched $a writes/s: $(f2 "$b / $a"); $hits probe hits, probe CPU $cpu s (estimate)"
done
# The geometric mean: with as many rounds watching A as watching B, a difference between
# the two processes themselves (where their maps landed) cancels out.
gm=$(printf '%s\n' "${ratios[@]}" | awk '{ s += log($1) } END { printf "%.4f", exp(s / NR) }')
ratio=$(f2 "$gm")
result "daemon_throughput_ratio" "$ratio of the throughput of the same program not watched, at the same time (geometric mean of $ROUNDS rounds of $SECS s: $(printf '%s ' "${ratios[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.3f", (i > 1 ? ", " : ""), $i }'))" \
	">= 0.98" "$(le 0.98 "$gm")"

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
# its own CPU (user + system, all its threads) over the 30 s
cpu0=$(awk '{ print $14 + $15 }' "/proc/$d/stat")
sleep 30
cpu1=$(awk '{ print $14 + $15 }' "/proc/$d/stat")
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
result "daemon_cpu" "$(calc "($cpu1 - $cpu0) / $(getconf CLK_TCK) / 30 * 100")% of one CPU, the daemon's own, watching $targets processes for 30 s, epochs of 5 s" \
	"none" "n/a"
