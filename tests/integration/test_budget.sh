# SPDX-License-Identifier: MIT
# The default budget (2% of one CPU): every planted problem, kept up at the program's own
# speed as a service has it, is still found with the hot probes in windows, on every
# toolchain; well-behaved programs raise nothing; a busy map-writing program keeps its
# throughput and the report's spend stays within the budget; the cost the report states is
# the slowdown a program shows.
. "$(dirname "$0")/lib.sh"

line() { site_line "$1" findings; }
export CONTEND_FOR=8s

# steady GO MODE [CAPTURE-ARGS...]: the workload runs before mapwatch attaches (as on a
# service), then a 5 s capture with the default budget. Sets R (the report) and D.
steady() {
	local go=$1 mode=$2
	shift 2
	D=$(mktemp -d "$WORK/$go.$mode.XXXX")
	R=$D/r.json
	if ! start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" "$mode"; then
		notok "go$go $mode: could not start the fixture"
		return 1
	fi
	go_fixture
	sleep 0.3
	"$MW" capture -p "$FPID" -d 5 --json "$R" "$@" >"$D/cap.out" 2>"$D/cap.err" {FFD}>&-
	STATUS=$?
	close_fixture
	wait_exit "$FPID" 20
	test -s "$R"
}

# finding REPORT KIND FUNCTION MARKER [FUNCTION MARKER]: a finding of KIND about the map
# written at the first site, naming every site given. (The maps were made before mapwatch
# attached, as on a service: they are known by their writers, not their creation.)
finding() {
	local r=$1 kind=$2 f1=$3 l1
	l1=$(line "$4")
	shift 2
	local sites=""
	while [ $# -ge 2 ]; do
		sites="$sites and (.sites | any(.function == \"$1\" and .line == $(line "$2")))"
		shift 2
	done
	jq_true "$r" "[.findings[] | select(.kind == \"$kind\")] as \$f
		| ([.maps[] | select(.sites | any(.function == \"$f1\" and .line == $l1)) | .id]) as \$ids
		| (\$ids | length) == 1 and (\$f | any(.map == \$ids[0] $sites))"
}

# The spend is within the budget (+20%), and the report says what ran in windows.
within_budget() {
	jq_true "$1" '.overhead.budget | .pct == 2 and .spent_cpu_s <= .allowed_cpu_s * 1.2
		and ([.classes[] | select(.class == "core")][0].windowed == false)'
}

newest=$(toolchains | tail -1)
for go in $(toolchains); do
	# Two unlocked writers on two threads, every 1-2 ms each: seen overlapping in the windows.
	# The runtime may kill the target first (before or during the capture): up to three runs.
	for try in 1 2 3; do
		CONTEND_FOR=12s steady "$go" racing --lock-baseline 0 -d 8 || continue
		finding "$R" concurrent_write main.racyA racing-a main.racyB racing-b && break
		echo "# go$go racing: run $try: $(jq -c '[[.findings[].kind], .target_died.message, .ended_by]' "$R")"
	done
	if [ -s "$R" ]; then
		check "go$go racing (budget): concurrent_write names the map and both writers (run $try)" \
			finding "$R" concurrent_write main.racyA racing-a main.racyB racing-b
		check "go$go racing (budget): spend within the budget" within_budget "$R"
	fi
	if steady "$go" leak; then
		check "go$go leak (budget): unbounded_growth names the cache and its insert" \
			finding "$R" unbounded_growth 'main.(*leakyCache).put' leak-put
		check "go$go leak (budget): the growth rate is the re-read count's (~8000/s, not a sample)" \
			jq_true "$R" '[.findings[] | select(.kind == "unbounded_growth")][0].evidence
				| .entries_per_s > 2000 and .entries_per_s < 20000'
		check "go$go leak (budget): write counts are marked sampled, with estimates" jq_true "$R" \
			'.overhead.write_observed_fraction < 1 and ([.maps[] | select(.sites | any(.function ==
				"main.(*leakyCache).put"))][0] | .estimated_writes > .assigns)'
		# The cache only inserts: its growth, re-read, is its writes (over the whole capture;
		# the estimate covers what follows the 1 s lock baseline, about 4/5 of them).
		check "go$go leak (budget): the estimated writes are the inserts the re-reads saw (0.4-1.5x)" \
			jq_true "$R" '[.maps[] | select(.sites | any(.function == "main.(*leakyCache).put"))][0]
				| (.len - .len_first_seen) as $rise
				| .estimated_writes >= 0.4 * $rise and .estimated_writes <= 1.5 * $rise'
		check "go$go leak (budget): spend within the budget" within_budget "$R"
	fi
	if steady "$go" shrunk; then
		check "go$go shrunk (budget): no_shrink names the map and its writer" \
			finding "$R" no_shrink main.touchShrunk shrunk-put
	fi
	case $go in 1.22|$newest)
		# emptied and refilled 400 times a second, mostly while its writes are not watched:
		# each emptying reseeds it (the runtime does), and it stays one map, judged clean
		if steady "$go" emptied; then
			check "go$go emptied (budget): the map emptied again and again is one map, no finding" \
				jq_true "$R" "([.maps[] | select(.sites | any(.line == $(line emptied-put)))]
					| length == 1 and .[0].assigns > 0) and (.findings | length) == 0"
		fi ;;
	esac
	if steady "$go" contention --lock-baseline 1; then
		check "go$go contention (budget): lock_contention names the map, the lock and the write" \
			jq_true "$R" "[.findings[] | select(.kind == \"lock_contention\")] as \$f
			 | (\$f | length) == 1 and (\$f[0] | (.sites | any(.function == \"main.(*counter).record\"
				and .line == $(line contention-lock))) and .evidence.waiters == 8)"
	fi
	if steady "$go" lightlock --lock-baseline 1; then
		check "go$go lightlock (budget): no finding" jq_true "$R" '(.findings | length) == 0'
	fi
	if steady "$go" shortlived; then
		check "go$go shortlived (budget): no finding" jq_true "$R" '(.findings | length) == 0'
	fi
	case $go in 1.19|1.2[0-3]|*-noswiss)
		# grown once while the capture runs, then only read: the growth probe (cheap, kept
		# attached) shows the map, its re-reads the stall
		D=$(mktemp -d "$WORK/$go.stalled.XXXX")
		R=$D/r.json
		if start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" stalled; then
			"$MW" capture -p "$FPID" -d 6 --json "$R" --ready-file "$D/attached" \
				--threshold stall_s=2 >"$D/cap.out" 2>"$D/cap.err" {FFD}>&- &
			MWPID=$!
			PIDS+=("$MWPID")
			wait_until 20 test -e "$D/attached"
			go_fixture
			wait_exit "$MWPID" 30
			close_fixture
			wait_exit "$FPID" 20
			check "go$go stalled (budget): stalled_evacuation names the map and its writer" \
				finding "$R" stalled_evacuation main.index stalled-put
		fi ;;
	esac
	case $go in 1.19|1.2[0-3])
		if steady "$go" syncchurn; then
			check "go$go syncchurn (budget): syncmap_churn at the program's own speed" jq_true "$R" \
				"[.findings[] | select(.kind == \"syncmap_churn\")] as \$f | (\$f | length) == 1
				 and (\$f[0].sites | any(.function == \"main.registerChurn\"
					and .line == $(line syncchurn-store)))"
		fi ;;
	esac
	prune_pids
done

# rates FILE FROM TO: mean of the fixture's "rate N" lines FROM..TO (1-based; TO may be $).
rates() {
	grep '^rate ' "$1" | sed -n "$2,$3p" | awk '{ s += $2; n++ } END { if (n) printf "%.0f", s / n }'
}

# A busy map-writing loop keeps >= 0.95x its throughput during a default capture, and the
# report's spend stays within the budget. A shared 2-CPU host drifts by several percent within
# seconds, and two processes' speeds shift against each other by as much: so two copies of the
# loop run at once (one per CPU), only one captured, and its during/before ratio is judged
# both alone and against the other's over the same ticks. Drift must fool both to fail it;
# a capture that costs it 5% shows in both.
go=$newest
D=$(mktemp -d "$WORK/busy.XXXX")
U=$D/other
if CONTEND_FOR=16s start_fixture "$U" "$MW_FIXTURES/$go/findings.pie-stripped" busy; then
	UPID=$FPID UFD=$FFD
	if CONTEND_FOR=16s start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" busy; then
		echo go >&"$UFD"
		go_fixture
		sleep 3
		n0=$(grep -c '^rate ' "$D/fix.out") u0=$(grep -c '^rate ' "$U/fix.out")
		"$MW" capture -p "$FPID" -d 8 --json "$D/r.json" >"$D/cap.out" 2>"$D/cap.err" \
			{FFD}>&- {UFD}>&-
		n1=$(grep -c '^rate ' "$D/fix.out") u1=$(grep -c '^rate ' "$U/fix.out")
		close_fixture
		wait_exit "$FPID" 30
		before=$(rates "$D/fix.out" 3 "$n0")
		during=$(rates "$D/fix.out" $((n0 + 2)) $((n1 - 1)))
		ubefore=$(rates "$U/fix.out" 3 "$u0")
		uduring=$(rates "$U/fix.out" $((u0 + 2)) $((u1 - 1)))
		self=$(awk -v b="$before" -v d="$during" 'BEGIN { printf "%.3f", (b > 0 ? d / b : 0) }')
		ratio=$(awk -v b="$before" -v d="$during" -v ub="$ubefore" -v ud="$uduring" \
			'BEGIN { if (b > 0 && ub > 0 && ud > 0) printf "%.3f", (d / b) / (ud / ub); else print 0 }')
		echo "# busy go$go: captured $before writes/s before, $during during ($self);" \
			"the other $ubefore, $uduring: relative $ratio" \
			"($(jq -c '.overhead.budget | [.spent_cpu_s, .allowed_cpu_s, .windows]' "$D/r.json"))"
		check "busy go$go: >= 0.95x throughput during a default capture (alone or vs an uncaptured twin)" \
			awk -v r="$ratio" -v s="$self" 'BEGIN { exit !(r >= 0.95 || s >= 0.95) }'
		check "busy go$go: spend within the budget (+20%), map writes in windows" jq_true "$D/r.json" \
			'.overhead.budget as $b | $b.spent_cpu_s <= $b.allowed_cpu_s * 1.2 and $b.windows >= 2
			 and ([$b.classes[] | select(.class == "write")][0].windowed)'
		check "busy go$go: the text report says the writes were sampled" \
			grep -q 'write  probes: in [0-9]* windows' "$D/cap.out"
		# Writes are also counted in BPF (the tally), in windows of their own: never with
		# the recording ones (their attached times add up to no more than the capture), at
		# a third or less of a recorded write's price (one emulated trap, no RET, no record).
		check "busy go$go: writes tallied in BPF in windows of their own, at under a third of a recorded write's price" \
			jq_true "$D/r.json" '.overhead.budget.classes as $c
			 | ([$c[] | select(.class == "write")][0]) as $w
			 | ([$c[] | select(.class == "tally")][0]) as $t
			 | $t.windows >= 1 and $t.hits > 0 and $w.hits > 0
			   and .overhead.writes_tallied > 0
			   and .overhead.writes_tallied < .overhead.writes_seen
			   and $w.attached_s + $t.attached_s <= .duration_s - .lock_baseline_s + 0.05
			   and ($t.cpu_s / $t.hits) * 3 < ($w.cpu_s / $w.hits) * 2'
		check "busy go$go: the text report names the tally" \
			grep -q 'tally  probes: in [0-9]* window.*counted in BPF' "$D/cap.out"
		# The probes take almost all its CPU while recording (a write traps for
		# microseconds): its counts cannot be scaled by the time (that read 1/3000 of the
		# writes), and are either not scaled at all, saying so, or scaled near the truth.
		check "busy go$go: its write count is not scaled, or scaled to 0.5-2x the writes it made" \
			jq_true "$D/r.json" "((.duration_s - .lock_baseline_s) * ${during:-0}) as \$made
			 | [.maps[] | select(.sites | any(.function == \"main.busyPut\"))][0]
			 | if .estimated_writes == null then true
			   else .estimated_writes >= 0.5 * \$made and .estimated_writes <= 2 * \$made end"
		check "busy go$go: the text says why its counts are not scaled, if they are not" \
			bash -c "jq -e '.overhead.write_estimate_fraction > 0' '$D/r.json' >/dev/null ||
				 grep -q 'to scale its counts into totals' '$D/cap.out'"
	else
		notok "busy go$go: could not start the fixture"
	fi
	exec {UFD}>&-
	wait_exit "$UPID" 30
else
	notok "busy go$go: could not start the fixture"
fi

# The cost the report states is the slowdown: a loop with ~20 us of other work per map
# write, every probe attached (--budget off), slows by the factor its estimate gives, +-25%.
D=$(mktemp -d "$WORK/cost.XXXX")
if BUSY_WORK=20000 CONTEND_FOR=12s start_fixture "$D" "$MW_FIXTURES/$go/findings.pie-stripped" busy; then
	go_fixture
	sleep 3
	n0=$(grep -c '^rate ' "$D/fix.out")
	"$MW" capture -p "$FPID" -d 5 --budget off --lock-baseline 0 --json "$D/r.json" \
		>/dev/null 2>&1 {FFD}>&-
	n1=$(grep -c '^rate ' "$D/fix.out")
	close_fixture
	wait_exit "$FPID" 20
	before=$(rates "$D/fix.out" 3 "$n0")
	during=$(rates "$D/fix.out" $((n0 + 2)) $((n1 - 1)))
	est=$(jq -r '1 / (1 - .overhead.estimated_target_cpu_s / .duration_s)' "$D/r.json")
	echo "# cost go$go: $before writes/s before, $during during: slowdown" \
		"$(awk -v b="$before" -v d="$during" 'BEGIN { printf "%.2f", b / d }'), estimated $est"
	check "cost go$go: the estimated slowdown is the measured one, +-25%" \
		awk -v b="$before" -v d="$during" -v e="$est" \
		'BEGIN { m = b / d; exit !(d > 0 && e >= 0.75 * m && e <= 1.25 * m) }'
else
	notok "cost go$go: could not start the fixture"
fi
