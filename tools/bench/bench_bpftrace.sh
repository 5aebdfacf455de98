#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 2: mapwatch's per-hit cost against bpftrace's simplest probe, an entry-only count
#   uprobe:BIN:runtime.mapassign_fast64 { @n = count(); }
# on tools/bench/maploop's loop of map writes (per-hit cost as in bench_handler.sh: loop-thread
# CPU, probed minus unprobed, over the hits each tool counted). Runs alternate: unprobed,
# bpftrace, unprobed, mapwatch, unprobed, the empty handler on the function's first
# instruction, MW_BENCH_ROUNDS times (default 3). Goal: mapwatch <= bpftrace per hit.
#
# bpftrace puts its uprobe on the symbol, i.e. the first instruction (the stack check, which
# the kernel single-steps out of line); mapwatch's entry probe sits after the stack check on
# PUSH RBP, which the kernel emulates, and its RET probes on RET, also emulated. Debian's
# bpftrace (0.17) cannot probe an offset inside a function ("compiled without uprobe offset
# support"), so the empty handler on the first instruction shows what that trap costs alone.
. "$(dirname "$0")/lib.sh"
ROUNDS=${MW_BENCH_ROUNDS:-3}

machine
need_tools
apt_need jq bpftrace
need_maploop
log "$(bpftrace --version)"
if ! mountpoint -q /sys/kernel/tracing && ! mountpoint -q /sys/kernel/debug/tracing; then
	log "tracefs is not mounted: bpftrace may need it (mount -t tracefs none /sys/kernel/tracing)"
fi
start_maploop
log "maploop PID $MLPID; mapwatch capture $(full_capture_opts) --lock-baseline 0 (the full handler)"
bts=() mws=() firsts=()
for ((r = 1; r <= ROUNDS; r++)); do
	echo "round $r:"
	per_hit bpftrace
	bts+=("$PH")
	per_hit mapwatch
	mws+=("$PH")
	per_hit empty -f
	firsts+=("$PH")
done
b=$(median "${bts[@]}") m=$(median "${mws[@]}") f=$(median "${firsts[@]}")
echo "medians, us of loop-thread CPU per hit: bpftrace $(f2 "$b / 1000"), mapwatch $(f2 "$m / 1000"), empty handler on the first instruction $(f2 "$f / 1000") (bpftrace's handler adds $(f2 "($b - $f) / 1000"))"
result "mapwatch_vs_bpftrace" "mapwatch $(f2 "$m / 1000") us/hit, bpftrace entry count $(f2 "$b / 1000") us/hit (ratio $(f2 "$m / $b"), medians of $ROUNDS alternating runs)" \
	"mapwatch <= bpftrace" "$(le "$m" "$b")"
