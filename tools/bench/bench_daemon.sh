#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 7: mapwatch daemon (README: The daemon).
#  a. A busy, clean program's throughput with the daemon watching it (default budget, 1% of
#     one CPU) vs without: two identical processes of tools/bench/maploop, A and B, take turns
#     running its "loop" (20 M map writes on one goroutine, no lock, about 0.2 s) for SECONDS,
#     while the daemon (--pid, --interval 10: every epoch's attach and detach included)
#     watches one of them. Watched and unwatched loops thus run on the same host at the same
#     time, and the host's own drift (10% and more between runs of 20 s on a shared 2-CPU
#     guest) cancels out; each goes first in turn. Rounds swap which one is watched,
#     MW_BENCH_ROUNDS times (default 4, keep it even); the result is the geometric mean of
#     the rounds' ratios. Goal: ratio >= 0.98. (maploop's "heavy" workload is not used: two
#     goroutines on one contended mutex run at full or at half speed for seconds at a time,
#     with no probe at all.)
#  b. The daemon's peak RSS (VmHWM) watching N (default 50) Go processes of one binary for
#     30 s, every one doing a little map work, with epochs of 5 s. Goal: <= 32 MiB.
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
# start_ml NAME: a maploop process driven through two fifos; sets ML_<NAME>_{PID,IN,OUT}.
start_ml() {
	local fin=$WORK/$1.in fout=$WORK/$1.out line fdi fdo
	mkfifo "$fin" "$fout"
	"$MAPLOOP" <"$fin" >"$fout" 2>/dev/null &
	PIDS+=("$!")
	printf -v "ML_$1_PID" %s "$!"
	exec {fdi}>"$fin" {fdo}<"$fout"
	printf -v "ML_$1_IN" %s "$fdi"
	printf -v "ML_$1_OUT" %s "$fdo"
	read -r -t 10 line <&"$fdo" || fail "maploop did not start"
	[ "${line% *}" = ready ] || fail "maploop said: $line"
}

# loop_in NAME: one "loop 20000000" in that process; sets OPS and NS (its wall time)
loop_in() {
	local in=ML_$1_IN out=ML_$1_OUT line
	echo "loop 20000000" >&"${!in}"
	read -r -t 600 line <&"${!out}" || fail "maploop $1 did not answer"
	case $line in loop*) ;; *) fail "maploop $1 said: $line" ;; esac
	OPS=$(field ops "$line") NS=$(field wall_ns "$line")
}

start_ml A
start_ml B
log "maploop A (PID $ML_A_PID) and B (PID $ML_B_PID) take turns, 20 M map writes each, for $SECS s a round; the daemon (mapwatch daemon --pid PID --interval 10, default budget) watches one, a different one each round"
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
	wo=0 wn=0 uo=0 un=0 end=$((SECONDS + SECS)) k=0
	while [ $SECONDS -lt $end ]; do
		# each goes first in turn
		for x in $( ((k++ % 2)) && echo "$u $w" || echo "$w $u"); do
			loop_in "$x"
			if [ "$x" = "$w" ]; then wo=$((wo + OPS)) wn=$((wn + NS)); else uo=$((uo + OPS)) un=$((un + NS)); fi
		done
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
ratio=$(printf '%s\n' "${ratios[@]}" | awk '{ s += log($1) } END { printf "%.2f", exp(s / NR) }')
result "daemon_throughput_ratio" "$ratio of the throughput of the same program not watched, at the same time (geometric mean of $ROUNDS rounds of $SECS s: $(printf '%s ' "${ratios[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.3f", (i > 1 ? ", " : ""), $i }'))" \
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
