#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every benchmark of tools/bench/, one after the other (README: Benchmarks). Each prints the
# machine and its RESULT lines; this prints the RESULT lines again at the end. Exits non-zero
# only if a benchmark could not measure (a missed goal is a result). About 8 minutes:
#   bench_handler.sh     1. mapwatch's BPF handler vs an empty one, per probe hit
#   bench_bpftrace.sh    2. mapwatch vs a bpftrace entry count, per probe hit
#   bench_throughput.sh  3. a map-heavy program's throughput during a default capture
#   bench_window.sh      4. attach + detach of one window of map probes on prometheus
#   bench_ingest.sh      5. user space's ingest rate from a recorded stream
#   bench_rss.sh         6. mapwatch's peak RSS over a capture of prometheus under load
#   bench_daemon.sh      7. the daemon: a busy program's throughput, and its RSS with 50 targets
# MW_BENCH_RSS_SECONDS (default 60) and MW_BENCH_THROUGHPUT_SECONDS (default 20) shorten the
# longest two; every benchmark's own variables (MW_BENCH_ROUNDS, ...) apply to all.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp /tmp/mapwatch-bench.XXXXXX)
trap 'rm -f "$log"' EXIT
failed=()
for b in handler bpftrace "throughput ${MW_BENCH_THROUGHPUT_SECONDS:-20}" window ingest \
	"rss ${MW_BENCH_RSS_SECONDS:-60}" daemon; do
	read -r name arg <<<"$b"
	echo "=== bench_$name.sh $arg"
	# shellcheck disable=SC2086
	"$here/bench_$name.sh" $arg 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" = 0 ] || failed+=("bench_$name.sh")
done
echo "=== results"
grep -h '^machine:' "$log" | head -1
grep -h '^RESULT' "$log"
if [ ${#failed[@]} -gt 0 ]; then
	echo "could not measure: ${failed[*]}"
	exit 1
fi
