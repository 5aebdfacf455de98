#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 2: mapwatch's per-hit cost against bpftrace's simplest probe, an entry-only count
#   uprobe:BIN:runtime.mapassign_fast64 { @n = count(); }
# on tools/bench/maploop's loop of map writes (per-hit cost as in bench_handler.sh: loop-thread
# CPU, probed minus unprobed, over the hits each tool counted). Runs alternate: unprobed,
# bpftrace, unprobed, mapwatch, unprobed, the empty handler on the function's first
# instruction, unprobed, mapwatch's tally (its entry-only count: mwbench tally),
# MW_BENCH_ROUNDS times (default 3). Goal: mapwatch <= bpftrace per hit.
#
# bpftrace puts its uprobe on the symbol, i.e. the first instruction (the stack check, which
# the kernel single-steps out of line); mapwatch's entry probe sits after the stack check on
# PUSH RBP, which the kernel emulates, and its RET probes on RET, also emulated. Debian's
# bpftrace (0.17) cannot probe an offset inside a function ("compiled without uprobe offset
# support"), so the empty handler on the first instruction shows what that trap costs alone.
# bpftrace attaches to the binary for every process (no PID filter); only maploop runs it.
. "$(dirname "$0")/lib.sh"
ROUNDS=${MW_BENCH_ROUNDS:-3}

loop_bench bpftrace
log "$(bpftrace --version)"
# Checked with 0.17 in a mount namespace without tracefs: it attaches uprobes through
# perf_event_open all the same, and only prints "failed to detach probe" (uprobe_events) at exit.
if ! mountpoint -q /sys/kernel/tracing && ! mountpoint -q /sys/kernel/debug/tracing; then
	log "tracefs is not mounted: bpftrace attaches through perf_event_open anyway (its 'failed to detach probe' at exit is harmless)"
fi
alternate "$ROUNDS" bpftrace mapwatch "empty -f" tally
b=${MEDIAN[bpftrace]} m=${MEDIAN[mapwatch]} f=${MEDIAN[empty -f]} t=${MEDIAN[tally]}
echo "medians, us of loop-thread CPU per hit: bpftrace $(f2 "$b / 1000"), mapwatch $(f2 "$m / 1000"), empty handler on the first instruction $(f2 "$f / 1000") (bpftrace's handler adds $(f2 "($b - $f) / 1000"))"
result "mapwatch_vs_bpftrace" "mapwatch $(f2 "$m / 1000") us/hit, bpftrace entry count $(f2 "$b / 1000") us/hit (ratio $(f2 "$m / $b"), medians of $ROUNDS alternating runs)" \
	"mapwatch <= bpftrace" "$(le "$m" "$b")"
# mapwatch's own entry-only count (the tally probes, in the windows that alternate with the
# recording ones): the same job as bpftrace's, per hit and so per write
result "tally_vs_bpftrace" "mapwatch's tally $(f2 "$t / 1000") us/write, bpftrace entry count $(f2 "$b / 1000") us/write (ratio $(f2 "$t / $b"), medians of $ROUNDS alternating runs)" \
	"tally <= bpftrace" "$(le "$t" "$b")"
