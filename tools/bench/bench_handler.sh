#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 1: what mapwatch's BPF handler costs per probe hit, against an empty handler on the
# same probe points: the entry (after the stack check) and every RET of
# runtime.mapassign_fast64, hit by tools/bench/maploop's tight loop of map writes.
#   per-hit cost = (loop time probed - loop time unprobed) / hits
# in the loop thread's CPU time (a trap is charged to the thread that hits it; wall time is
# printed too). Runs alternate: unprobed, empty, unprobed, mapwatch, MW_BENCH_ROUNDS times
# (default 5), MW_BENCH_OPS writes per probed run (default 100000). Goal: ratio <= 1.05.
# Also prints the empty handler on the entry alone (a trap the kernel emulates) against a RET
# (single-stepped): what each kind of probe point costs before any handler runs; and the
# pairing floor (mwbench empty -P): the goroutine id and a hash insert at the entry, a lookup and
# delete at the RET, the least any handler that pairs a call's entry with its RET must do;
# and an entry-only write count by (map, caller) in a per-CPU hash (mwbench empty -e -C); and
# mapwatch's own entry-only count, its tally probes (mwbench tally).
. "$(dirname "$0")/lib.sh"
ROUNDS=${MW_BENCH_ROUNDS:-5}

loop_bench
alternate "$ROUNDS" empty mapwatch "empty -e" "empty -P" "empty -e -C" tally
e=${MEDIAN[empty]} m=${MEDIAN[mapwatch]} ee=${MEDIAN[empty -e]} pf=${MEDIAN[empty -P]}
ec=${MEDIAN[empty -e -C]} tl=${MEDIAN[tally]}
# What the two kinds of trap cost: the entry (PUSHQ BP, which the kernel emulates) alone, and
# hence a RET (single-stepped out of line): a call hits one entry and one RET.
log "trap kinds: the empty handler on the entry alone $(f2 "$ee / 1000") us a hit, so a RET" \
	"about $(f2 "(2 * $e - $ee) / 1000") us; mapwatch's handler adds $(f2 "2 * ($m - $e) / 1000") us a call"
log "pairing floor: $(f2 "$pf / $e") times the empty handler (adds $(f2 "2 * ($pf - $e) / 1000") us a call)"
log "entry-only count: $(f2 "$ec / $ee") times the empty handler on the entry alone; $(f2 "$ec / 1000") us a write" \
	"against $(f2 "2 * $m / 1000") us with mapwatch's handler on the entry and RET"
log "mapwatch's tally (its entry-only count, header and seed read, writing flag checked):" \
	"$(f2 "$tl / $ee") times the empty handler on the entry alone; $(f2 "$tl / 1000") us a write," \
	"$(f2 "2 * $m / $tl") times cheaper than a recorded write"
ratio=$(f2 "$m / $e")
result "handler_cost_ratio" "mapwatch/empty per-hit cost $ratio ($(f2 "$m / 1000") vs $(f2 "$e / 1000") us of loop-thread CPU per hit, medians of $ROUNDS alternating runs)" \
	"<= 1.05" "$(le "$ratio" 1.05)"
