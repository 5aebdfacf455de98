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

# How long the steady modes (contention, lightlock, bounded, shortlived) run.
export CONTEND_FOR=3s

# run_mode GO MODE WAIT-AFTER-DONE [first]: capture the mode, end it with Ctrl-C (or the
# target's death). "first": the workload is already running when the capture attaches, as on
# a real service, so that the capture's lock baseline (1 s, map probes off) measures it.
run_mode() {
	local go=$1 mode=$2 settle=$3 first=${4:-} extra=()
	D=$(mktemp -d "$WORK/$go.$mode.XXXX")
	R=$D/r.json
	# Running before the capture: long enough that the map probes, attached after the
	# start-up and the 1 s baseline, still see it on a loaded host.
	local contend=$CONTEND_FOR
	[ -n "$first" ] && contend=6s
	if ! CONTEND_FOR=$contend start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" "$mode"; then
		notok "go$go $mode: could not start the fixture"
		return 1
	fi
	if [ -n "$first" ]; then
		go_fixture
		sleep 0.3
		extra=(--lock-baseline 1)
	fi
	if ! start_capture "$D" -d 120 --threshold stall_s=2 --json "$R" "${extra[@]}"; then
		notok "go$go $mode: could not start ($(tail -1 "$D/cap.err" 2>/dev/null))"
		return 1
	fi
	[ -n "$first" ] || go_fixture
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
	# Made before the capture: the map is named by its type and the write under the lock.
	if run_mode "$go" contention 0.5 first; then
		check "go$go contention: lock_contention names the map, the lock and the write" jq_true "$R" \
			"[.findings[] | select(.kind == \"lock_contention\")] as \$f
			 | ([.maps[] | select(.sites | any(.function == \"main.(*counter).record\"
				and .line == $(line contention-write))) | .id]) as \$ids
			 | (\$ids | length) == 1 and (\$f | length) == 1
			 and (\$f[0] | .map == \$ids[0]
			      and (.sites | any(.function == \"main.(*counter).record\" and .line == $(line contention-lock)))
			      and (.sites | any(.function == \"main.(*counter).record\" and .line == $(line contention-write))))"
		check "go$go contention: 8 waiters, waits measured with the map probes off" jq_true "$R" \
			'[.findings[] | select(.kind == "lock_contention")][0].evidence
			 | .waiters == 8 and .baseline_s >= 0.9 and .baseline_wait_s > 0.1
			   and .total_wait_s >= .baseline_wait_s and .p99_wait_ms_at_most > 0'
	fi
	# A lock held well under a microsecond, under 1% busy: only mapwatch's probes would
	# make it queue. No finding.
	if run_mode "$go" lightlock 0.3 first; then
		check "go$go lightlock: a lightly used lock raises no lock_contention" jq_true "$R" \
			'(.findings | length) == 0 and .lock_baseline_s >= 0.9
			 and ([.maps[] | select(.assigns > 1000)] | length) == 1'
	fi
	# Map writes that panic (unhashable keys), recovered, all under the lock.
	if run_mode "$go" panic 0.3; then
		check "go$go panic: writes that panic under a lock raise no concurrent_write" jq_true "$R" \
			"(.findings | length) == 0 and .events.counters.calls_unwound_by_panic >= 1000
			 and ([.maps[] | select(.sites | any(.function == \"main.(*registryMap).add\"
				and .line == $(line panic-write) and .count >= 10000))] | length) == 1"
	fi
	# A cache that fills to its bound and then only overwrites.
	if run_mode "$go" bounded 0.3; then
		check "go$go bounded: a map that stopped growing is not unbounded_growth" jq_true "$R" \
			"(.findings | length) == 0
			 and ([.maps[] | select(.created_at.line == $(line bounded-make) and .len == 20000)] | length) == 1"
	fi
	# A server's shape: thousands of short-lived maps, each grown once and dropped.
	if run_mode "$go" shortlived 0.3; then
		check "go$go shortlived: no lingering finding on short-lived maps" jq_true "$R" \
			'(.findings | length) == 0'
		check "go$go shortlived: counted by creation site, not judged one by one" jq_true "$R" \
			"([.short_lived[] | select(.created_at.function == \"main.newRequestHeader\"
			    and .created_at.line == $(line shortlived-make) and .made >= 1000
			    and .ended + .alive_at_end == .made and .peak_len >= 9 and .peak_len <= 12
			    and .lives_seen >= 1 and .median_life_ms > 0 and .median_life_ms < 100)] | length) == 1
			 and ([.maps[] | select(.created_at.function == \"main.newRequestHeader\")] | length) < 20"
		check "go$go shortlived: every number is one a map could have" jq_true "$R" \
			'all(.maps[]; (.capacity == null or .len <= .capacity) and .peak_len < 1e9
			     and (.assigns == 0 or .len <= .len_first_seen + .inserts))'
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
		# (if the goroutine's stack is copied mid-loop, the header moves and its writes go on
		# at a new address: each part is a map on the stack, and together they have them all;
		# parts that ended are counted at their site, with the stack maps of other calls)
		check "go$go stackmap: a map on a goroutine stack is marked so, with its writes and site" jq_true "$R" \
			"([.maps[] | select(.sites | any(.function == \"main.stackMap\" and .line == $(line stack-put)))]) as \$live
			 | ([.short_lived[] | select(.on_stack and .created_at.function == \"main.stackMap\"
				and .created_at.line == $(line stack-put))]) as \$ended
			 | (\$live | length) + (\$ended | length) >= 1 and (\$live | all(.on_stack))
			 and ((\$live | map(.assigns) | add // 0) + (\$ended | map(.writes) | add // 0)) == 15000"
	fi
	# Running when the capture attaches (so its lock is judged too, in the baseline).
	if run_mode "$go" control 0.5 first; then
		# The control does what the others do, without the fault: two goroutines write
		# one map under a lock (contending a little), delete to stay bounded.
		check "go$go control: its map was watched: written by 2 goroutines, bounded by deletes" \
			jq_true "$R" '[.maps[] | select(.writers == 2 and .assigns > 100 and .deletes > 0
				and .len <= 41)] | length == 1'
		for kind in concurrent_write lock_contention unbounded_growth no_shrink \
			stalled_evacuation syncmap_churn; do
			check "go$go control: no $kind" jq_true "$R" \
				"[.findings[] | select(.kind == \"$kind\")] | length == 0"
		done
		check "go$go control: no finding of any other kind" jq_true "$R" '(.findings | length) == 0'
	fi
done
