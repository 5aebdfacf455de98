#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark 4: attaching and detaching one window of map probes on a large stripped binary:
# Debian's prometheus (bookworm, 50 MB, stripped; tools/real-servers.sh installs it), our own
# instance on 127.0.0.1 under ab load, so that its map functions are hit all the time.
# mwbench window (tools/bench/mwbench.c) uses mapwatch's own BPF object and attach functions
# (user/attach.c: attach_target and attach_detach of the map set, uprobe_multi links) and, per
# cycle, prints the attach time (and the CPU time of the attaching thread: the rest is a wait in
# the kernel), when the target last hit an entry and a RET probe after the
# detach began (a thread reads the hit counters every ~50 us), and when the detach returned:
# closing a uprobe_multi link removes its breakpoints, then waits for an RCU tasks-trace grace
# period; the entries' link is closed first, then the RETs' (user/attach.c), so the RETs trap
# until the first grace period is over.
# A short capture's report (.overhead.attach_ms, .detach_ms) is printed as a cross-check.
# MW_BENCH_CYCLES cycles (default 10). Goal: attach + detach <= 5 ms.
. "$(dirname "$0")/lib.sh"
CYCLES=${MW_BENCH_CYCLES:-10}

machine
need_tools
apt_need jq
bench_prometheus "$PROMETHEUS"
log "$PROMETHEUS ($("$MW" info "$PROMETHEUS" | awk '/^go version/ { print $3 } /^stripped/ { print "stripped " $2 }' | tr '\n' ' ')), PID $SPID, $(stat -c %s "$PROMETHEUS") bytes"
start_load 120
sleep 2
"$MWBENCH" window -p "$SPID" -n "$CYCLES" | tee "$WORK/window.out" || fail "mwbench window"
"$MW" capture -p "$SPID" -d 2 --lock-baseline 0 --json "$WORK/cap.json" >/dev/null 2>"$WORK/cap.err" ||
	fail "mapwatch capture: $(tail -3 "$WORK/cap.err")"
stop_load
echo "capture report: $(jq -c '.overhead | {uprobes, links, attach_ms, detach_ms}' "$WORK/cap.json")"
read -r att attc stope stop close < <(awk '/^median:/ { print $3, substr($5, 2), $11, $15, $19 }' "$WORK/window.out")
[ -n "$close" ] || fail "no median in mwbench's output"
result "window_until_trapping_stops" "attach $(f2 "$att") ms ($(f2 "$attc") ms of CPU, the rest waiting in the kernel) + detach until the last probe hit $(f2 "$stop") ms = $(f2 "$att + $stop") ms (entries stopped at $(f2 "$stope") ms; median of $CYCLES)" \
	"<= 5 ms" "$(le "$(calc "$att + $stop")" 5)"
result "window_until_close_returns" "attach $(f2 "$att") ms + detach until it returned $(f2 "$close") ms = $(f2 "$att + $close") ms (median of $CYCLES)" \
	"<= 5 ms" "$(le "$(calc "$att + $close")" 5)"
