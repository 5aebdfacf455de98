# SPDX-License-Identifier: MIT
# Each finding kind from a real Go program that has the problem, for every toolchain where the
# kind applies: the finding names the map by its creation site and the user's function and
# line. A well-behaved program raises none.
. "$(dirname "$0")/lib.sh"

line() { site_line "$1" findings; }

# finding REPORT KIND MAKE-FUNCTION MAKE-MARKER FUNCTION MARKER [FUNCTION MARKER]
finding() {
	local r=$1 kind=$2 mf=$3 ml mk=$4
	ml=$(line "$mk")
	shift 4
	local sites=""
	while [ $# -ge 2 ]; do
		sites="$sites and (.sites | any(.function == \"$1\" and .line == $(line "$2")))"
		shift 2
	done
	jq_true "$r" "[.findings[] | select(.kind == \"$kind\")] as \$f
		| ([.maps[] | select(.created_at.function == \"$mf\" and .created_at.line == $ml) | .id]) as \$ids
		| (\$ids | length) == 1 and (\$f | any(.map == \$ids[0] $sites))"
}

# run_mode GO MODE WAIT-AFTER-DONE: capture the mode, end it with Ctrl-C (or the target's death).
run_mode() {
	local go=$1 mode=$2 settle=$3
	D=$(mktemp -d "$WORK/$go.$mode.XXXX")
	R=$D/r.json
	if ! start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" "$mode" ||
		! start_capture "$D" -d 120 --threshold stall_s=2 --json "$R"; then
		notok "go$go $mode: could not start ($(tail -1 "$D/cap.err" 2>/dev/null))"
		return 1
	fi
	go_fixture
	wait_until 60 bash -c "grep -q '^done' '$D/fix.out' || ! kill -0 $FPID 2>/dev/null"
	sleep "$settle"
	kill -INT "$MWPID" 2>/dev/null
	wait_exit "$MWPID" 20
	close_fixture
	wait_exit "$FPID" 20
	test -s "$R"
}

for go in $(toolchains); do
	# Two unlocked writers overlap by chance (likely, not certain, in one run: the probes
	# widen each write to tens of microseconds); up to three runs.
	for try in 1 2 3; do
		run_mode "$go" race 0 || break
		finding "$R" concurrent_write main.newShared race-make \
			main.writerA race-a main.writerB race-b && break
		echo "# go$go race: run $try saw no overlap: $(jq -c '[.findings[].kind, .target_died]' "$R")"
	done
	if [ -s "$R" ]; then
		check "go$go race: concurrent_write names the map and both writers (run $try)" \
			finding "$R" concurrent_write main.newShared race-make \
			main.writerA race-a main.writerB race-b
		check "go$go race: two goroutine ids, critical" jq_true "$R" \
			'[.findings[] | select(.kind == "concurrent_write")][0]
			 | .severity == "critical" and (.evidence.goroutines | length) == 2'
		check "go$go race: if the runtime killed the target, the report says so" jq_true "$R" \
			'if .target_died then (.target_died.message == "concurrent map writes") else true end'
	fi
	if run_mode "$go" contention 0.5; then
		check "go$go contention: lock_contention names the map, the lock and the write" \
			finding "$R" lock_contention 'main.newCounter' contention-make \
			'main.(*counter).record' contention-lock 'main.(*counter).record' contention-write
		check "go$go contention: 8 waiters, waits summed" jq_true "$R" \
			'[.findings[] | select(.kind == "lock_contention")][0].evidence
			 | .waiters == 8 and .total_wait_s > 0.1 and .p99_wait_ms > 0'
	fi
	if run_mode "$go" growth 0.5; then
		check "go$go growth: unbounded_growth names the map and the insert" \
			finding "$R" unbounded_growth 'main.newCache' growth-make \
			'main.(*cache).put' growth-put
	fi
	if run_mode "$go" shrink 1.5; then
		check "go$go shrink: no_shrink names the map and the deletes" \
			finding "$R" no_shrink main.newTable shrink-make main.drop shrink-delete
	fi
	case $go in 1.19|1.2[0-3]|*-noswiss)
		if run_mode "$go" stalled 3; then
			check "go$go stalled: stalled_evacuation names the map and its writer" \
				finding "$R" stalled_evacuation main.newIndex stalled-make \
				main.index stalled-put
		fi ;;
	esac
	# sync.Map: writes counted by method in every release; dirty-map churn where sync.Map
	# still has a dirty map (Go <= 1.23, and builds with nosynchashtriemap).
	if run_mode "$go" syncmap 0.5; then
		check "go$go syncmap: 2000 stores counted on one sync.Map, at the user's line" jq_true "$R" \
			"(.sync_maps | length) == 1 and (.sync_maps[0].writes | (.Store // 0) + (.Swap // 0)) == 2000
			 and (.sync_maps[0].sites | any(.op == \"syncmap-write\" and .function == \"main.register\"
			      and .line == $(line syncmap-store) and .count == 2000))"
		case $go in
		1.19|1.2[0-3]|*-noswiss)
			check "go$go syncmap: syncmap_churn names the storing function" jq_true "$R" \
				"[.findings[] | select(.kind == \"syncmap_churn\")] | length == 1 and
				 (.[0].sites | any(.function == \"main.register\" and .line == $(line syncmap-store)))
				 and .[0].evidence.rebuilds >= 10 and .[0].evidence.entries_copied >= 10000"
			check "go$go syncmap: sync.Map internals raise nothing else" jq_true "$R" \
				'(.findings | length) == 1' ;;
		*)
			check "go$go syncmap: a HashTrieMap sync.Map has no dirty map to churn" jq_true "$R" \
				'(.findings | length) == 0 and .sync_maps[0].dirty_rebuilds == 0' ;;
		esac
	fi
	if run_mode "$go" stackmap 0.5; then
		check "go$go stackmap: a map on a goroutine stack is marked so, with its writes and site" jq_true "$R" \
			"([.maps[] | select(.on_stack and .assigns == 15000
			   and (.sites | any(.function == \"main.stackMap\" and .line == $(line stack-put))))] | length) == 1"
	fi
	if run_mode "$go" control 0.5; then
		# The control does what the others do, without the fault: two goroutines write
		# one map under a lock (contending a little), delete to stay bounded.
		check "go$go control: its map was watched: 400 writes by 2 goroutines, made in main.newSessions" \
			jq_true "$R" "[.maps[] | select(.created_at.function == \"main.newSessions\"
				and .created_at.line == $(line control-make))] | length == 1
				and .[0].assigns == 400 and .[0].writers == 2 and .[0].deletes > 0"
		for kind in concurrent_write lock_contention unbounded_growth no_shrink \
			stalled_evacuation syncmap_churn; do
			check "go$go control: no $kind" jq_true "$R" \
				"[.findings[] | select(.kind == \"$kind\")] | length == 0"
		done
		check "go$go control: no finding of any other kind" jq_true "$R" '(.findings | length) == 0'
	fi
done
