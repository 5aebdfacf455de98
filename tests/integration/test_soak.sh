# SPDX-License-Identifier: MIT
# Attach/detach soak: for every toolchain, one self-checking target (tests/fixtures/soak: deep
# moving stacks, writers parked in GC assists inside map writes, a locked map, a sync.Map,
# writes that panic) is captured SOAK_CYCLES times, 0.5 s each, with no lock baseline. Each
# capture (every probe attached: --budget off) must exit 0 with a valid report, and raise no
# concurrent_write (the target has no race); the target must stay alive and consistent throughout, and exit 0 with its summary
# when its stdin closes. `make test` runs 3 cycles per toolchain; `make soak` 100. Then one
# capture of the target's stackmaps mode, which must raise no concurrent_write either.
. "$(dirname "$0")/lib.sh"

cycles=${SOAK_CYCLES:-3}
# and one capture this long of the stackmaps mode per toolchain (10 s in the long soak)
stack_s=${SOAK_STACKMAPS_S:-$([ "$cycles" -ge 100 ] && echo 10 || echo 2)}

for go in $(toolchains); do
	d=$WORK/soak.$go
	outer=("${PIDS[@]}")
	if ! start_fixture "$d" "$MW_FIXTURES/$go/soak.pie-stripped"; then
		notok "go$go soak: could not start the target ($(tail -1 "$d/fix.out" 2>/dev/null))"
		continue
	fi
	keep=("${PIDS[@]}") # each capture's pid only while it runs: pids are reused
	t0=$SECONDS fails=0 false_races=0 done_cycles=0 events=0 lost=0 slowest=0 first_fail=
	for i in $(seq "$cycles"); do
		j=$d/c$i.json
		c0=$(date +%s%N)
		# {FFD}>&-: mapwatch must not hold the target's stdin open
		"$MW" capture -p "$FPID" -d 0.5 --lock-baseline 0 --budget off --json "$j" \
			>"$d/cap.out" 2>"$d/cap.err" {FFD}>&- &
		MWPID=$!
		PIDS=("${keep[@]}" "$MWPID")
		wait_exit "$MWPID" 60
		PIDS=("${keep[@]}")
		ms=$((($(date +%s%N) - c0) / 1000000))
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		done_cycles=$i
		if [ "$STATUS" != 0 ] || ! jq_true "$j" \
			".schema == \"mapwatch.capture/v1\" and .ended_by == \"duration\"
			 and .target.pid == $FPID and .events.total > 0"; then
			fails=$((fails + 1))
			[ -n "$first_fail" ] || first_fail="cycle $i: status $STATUS, $(tail -1 "$d/cap.err")"
		else
			events=$((events + $(jq '.events.total' "$j")))
			lost=$((lost + $(jq '.events.lost' "$j")))
			if ! jq_true "$j" '[.findings[] | select(.kind == "concurrent_write")] | length == 0'; then
				false_races=$((false_races + 1))
				echo "# go$go cycle $i: concurrent_write on a race-free target:" \
					"$(jq -c '.findings[] | select(.kind == "concurrent_write")
						| [.summary, .evidence]' "$j")"
			fi
		fi
		rm -f "$j"
		# the target must not have died or found itself inconsistent
		kill -0 "$FPID" 2>/dev/null && ! grep -q '^INCONSISTENT' "$d/fix.out" || break
	done
	echo "# go$go soak: $done_cycles of $cycles cycles in $((SECONDS - t0)) s (slowest ${slowest} ms)," \
		"$events records, $lost lost"
	check "go$go soak: $cycles attach/detach cycles, each exit 0 with a valid report${first_fail:+ (first failure: $first_fail)}" \
		test "$fails" = 0 -a "$done_cycles" = "$cycles"
	check "go$go soak: no concurrent_write on the race-free target ($false_races cycles raised one)" \
		test "$false_races" = 0
	check "go$go soak: the target is alive and consistent after every cycle$(grep -m1 '^INCONSISTENT' "$d/fix.out" | sed 's/^/: /')" \
		bash -c "kill -0 $FPID && ! grep -q '^INCONSISTENT' '$d/fix.out'"
	close_fixture
	wait_exit "$FPID" 30
	PIDS=("${outer[@]}")
	echo "# go$go soak: $(grep -m1 '^summary' "$d/fix.out")"
	check "go$go soak: the target exits 0 with a consistent summary when its stdin closes (status $STATUS)" \
		bash -c "test '$STATUS' = 0 && grep -q '^summary .*: consistent\$' '$d/fix.out'"

	# Maps on goroutine stacks that move while a write is parked (tests/fixtures/soak, mode
	# stackmaps): one goroutine's old stack, and so its map's old address, goes to another
	# goroutine of the same shape. Never a concurrent_write: a map on a stack is never shared.
	d=$WORK/stackmaps.$go
	outer=("${PIDS[@]}")
	if start_fixture "$d" "$MW_FIXTURES/$go/soak.pie-stripped" stackmaps &&
		start_capture "$d" -d "$stack_s" --json "$d/r.json"; then
		wait_exit "$MWPID" 60
		check "go$go stackmaps: a ${stack_s} s capture of maps on moving stacks ends with status 0" \
			jq_true "$d/r.json" "$STATUS == 0 and .ended_by == \"duration\"
				and ([.maps[] | select(.on_stack)] | length)
				    + ([.short_lived[] | select(.on_stack) | .made] | add // 0) > 100"
		check "go$go stackmaps: no concurrent_write on maps on goroutine stacks" \
			jq_true "$d/r.json" '[.findings[] | select(.kind == "concurrent_write")] | length == 0'
		close_fixture
		wait_exit "$FPID" 30
		check "go$go stackmaps: the target exits 0, consistent" \
			bash -c "test '$STATUS' = 0 && grep -q '^summary .*: consistent\$' '$d/fix.out'"
	else
		notok "go$go stackmaps: could not start ($(tail -1 "$d/cap.err" 2>/dev/null))"
	fi
	PIDS=("${outer[@]}")
done
