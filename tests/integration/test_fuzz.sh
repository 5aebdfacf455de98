# SPDX-License-Identifier: MIT
# The fuzz harnesses (tests/fuzz/): every input that ever broke a reader, the reproducers of
# issue 9 included, runs clean under ASan/UBSan; then each harness fuzzes for a few seconds
# (MW_FUZZ_SMOKE, default 4) from the seeds. `make fuzz` is the long run.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
fz=$top/.output/fuzz
smoke=${MW_FUZZ_SMOKE:-4}
seeds=$WORK/seeds

if ! "$top/tests/fuzz/seeds.sh" "$seeds" >"$WORK/seeds.log" 2>&1; then
	notok "fuzz: seed corpora could not be written: $(tail -1 "$WORK/seeds.log")"
fi
export MW_FUZZ_GOBIN=$seeds/fuzz-target.elf
for h in buildinfo pclntab elfimg gobin report ingest refresh; do
	bin=$fz/fuzz_$h regress=$top/tests/fuzz/regress/$h
	if [ ! -x "$bin" ]; then
		notok "fuzz/$h: harness not built (make fuzzers; needs clang and libclang-rt)"
		continue
	fi
	files=("$regress"/*)
	[ -e "${files[0]}" ] || files=()
	if [ ${#files[@]} -gt 0 ]; then
		if "$bin" "${files[@]}" >"$WORK/$h.regress.log" 2>&1; then
			ok "fuzz/$h: ${#files[@]} regression inputs run clean under ASan/UBSan"
		else
			notok "fuzz/$h: a regression input fails: $(grep -E 'Running|ERROR|runtime error' "$WORK/$h.regress.log" | grep -m1 -B1 -E 'ERROR|runtime error' | tr '\n' ' ')"
		fi
	fi
	mkdir -p "$WORK/corpus.$h" "$fz/crashes/$h"
	cp "$seeds/$h"/* "$WORK/corpus.$h"/ 2>/dev/null
	dict=()
	[ -f "$top/tests/fuzz/$h.dict" ] && dict=(-dict="$top/tests/fuzz/$h.dict")
	# a harness that never failed has no regress/ folder (git keeps no empty folder)
	dirs=("$WORK/corpus.$h")
	[ -d "$regress" ] && dirs+=("$regress")
	if "$bin" "${dict[@]}" -max_total_time="$smoke" -seed=1 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$fz/crashes/$h/" "${dirs[@]}" >"$WORK/$h.log" 2>&1; then
		ok "fuzz/$h: ${smoke} s smoke from $(ls "$seeds/$h" 2>/dev/null | wc -l) seeds, $(awk '/number_of_executed_units/ { print $2 }' "$WORK/$h.log") executions, no crash"
	else
		notok "fuzz/$h: smoke run failed: $(grep -m1 -E 'ERROR|runtime error' "$WORK/$h.log"); input kept in $fz/crashes/$h/"
	fi
done
