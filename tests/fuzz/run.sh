#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make fuzz: run each harness named on the command line (fuzz_buildinfo ...) for
# FUZZ_SECONDS, one after the other, at low priority; print executions and crashes of each.
#
# Corpora grow in .output/fuzz/corpus/<name>/ (seeded from tests/fuzz/seeds.sh); the
# regression inputs in tests/fuzz/regress/<name>/ are read too. A crashing input is left in
# .output/fuzz/crashes/<name>/: once fixed, copy it into tests/fuzz/regress/<name>/.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-180}
out=$top/.output/fuzz
total_crashes=0

"$top/tests/fuzz/seeds.sh" "$out/seeds" || exit 1
printf '%-16s %14s %8s %8s\n' harness executions crashes seconds
for h in "$@"; do
	name=${h#fuzz_}
	corpus=$out/corpus/$name crashes=$out/crashes/$name log=$out/$name.log
	mkdir -p "$corpus" "$crashes" "$top/tests/fuzz/regress/$name"
	cp -n "$out/seeds/$name"/* "$corpus"/ 2>/dev/null
	before=$(ls "$crashes" | wc -l)
	dict=()
	[ -f "$top/tests/fuzz/$name.dict" ] && dict=(-dict="$top/tests/fuzz/$name.dict")
	t0=$SECONDS
	MW_FUZZ_GOBIN=$out/seeds/fuzz-target.elf nice -n 10 "$out/$h" -max_total_time="$secs" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" \
		"${dict[@]}" "$corpus" "$top/tests/fuzz/regress/$name" >"$log" 2>&1
	execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log" | tail -1)
	new=$(($(ls "$crashes" | wc -l) - before))
	total_crashes=$((total_crashes + new))
	printf '%-16s %14s %8d %8d\n' "$name" "${execs:-?}" "$new" $((SECONDS - t0))
	if [ "$new" -gt 0 ]; then
		grep -m1 -E 'ERROR|runtime error' "$log" | sed 's/^/    /'
		ls -t "$crashes" | head -"$new" | sed "s|^|    $crashes/|"
	fi
done
[ "$total_crashes" -eq 0 ]
