# SPDX-License-Identifier: MIT
# Faults, for every toolchain:
#   - mapwatch SIGKILLed mid-capture (and during start-up) leaves no BPF program or link
#     behind (bpftool), and the target runs on, consistent, and exits 0;
#   - a ring buffer too small for the writes: every call the probes saw is either a record
#     received or counted lost, exactly;
#   - a target that dies of the runtime's own "concurrent map writes": the report is still
#     written, says how the target died, and names the map and both writers.
. "$(dirname "$0")/lib.sh"

# held_ids PID: "prog ID" and "link ID" for every BPF program and link PID holds open.
held_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | sed -nE 's/^(prog|link)_id:[[:space:]]*([0-9]+)$/\1 \2/p' |
		sort -u
}

# listed_ids: every BPF program and link the kernel lists, as "prog ID" and "link ID".
listed_ids() {
	{
		bpftool -j prog show | jq -r '.[] | "prog \(.id)"'
		bpftool -j link show | jq -r '.[] | "link \(.id)"'
	} | sort -u
}

# none_left IDS: none of these programs or links is still listed.
none_left() {
	[ -z "$(comm -12 <(echo "$1") <(listed_ids))" ]
}

# no_orphans: every mapwatch program (mw_*), and every link to one, is held open by a live
# mapwatch (other captures may be running on this host: theirs are theirs).
orphans() {
	local held mw
	held=$(for p in $(pgrep -x mapwatch); do held_ids "$p"; done | sort -u)
	mw=$(bpftool -j prog show | jq -r '.[] | select(.name | startswith("mw_")) | .id')
	{
		for id in $mw; do echo "prog $id"; done
		bpftool -j link show | jq -r --arg mw "$mw" \
			'($mw | split("\n")) as $ids
			 | .[] | select((.prog_id | tostring) as $p | any($ids[]; . == $p)) | "link \(.id)"'
	} | sort -u | comm -23 - <(echo "$held")
}
no_orphans() { [ -z "$(orphans)" ]; }

# check_no_orphans NAME: within 10 s (a program is freed a moment after its process dies).
check_no_orphans() {
	if wait_until 10 no_orphans; then ok "$1"; else notok "$1: $(orphans | tr '\n' ' ')"; fi
}


# alive_consistent: the soak target still runs and has found nothing wrong.
alive_consistent() {
	kill -0 "$FPID" 2>/dev/null && ! grep -q '^INCONSISTENT' "$1/fix.out"
}

# exits_clean DIR: close the soak target's stdin; it must exit 0 with its summary.
exits_clean() {
	close_fixture
	wait_exit "$FPID" 30
	[ "$STATUS" = 0 ] && grep -q '^summary .*: consistent$' "$1/fix.out"
}

last=$(toolchains | grep -v noswiss | tail -1)

for go in $(toolchains); do
	# SIGKILL while the probes are on and the target is busy: calls in flight, writers
	# parked inside map writes. The kernel must drop every link and program with the
	# process, and the target must not notice.
	d=$WORK/kill.$go
	if start_fixture "$d" "$MW_FIXTURES/$go/soak.pie-stripped" && start_capture "$d" -d 120; then
		sleep 0.3
		ids=$(held_ids "$MWPID")
		kill -9 "$MWPID"
		wait_exit "$MWPID" 10 2>/dev/null # bash's "Killed"
		check "go$go kill -9: mapwatch held its programs and links ($(echo "$ids" | grep -c '^prog') programs, $(echo "$ids" | grep -c '^link') links)" \
			bash -c "grep -q '^prog ' <<<'$ids' && grep -q '^link ' <<<'$ids'"
		check "go$go kill -9 mid-capture: none of its programs or links is left (bpftool)" \
			wait_until 10 none_left "$ids"
		check_no_orphans "go$go kill -9 mid-capture: no mw_ program or link without a live mapwatch"
		sleep 1
		check "go$go kill -9 mid-capture: the target runs on, consistent" alive_consistent "$d"
		check "go$go kill -9 mid-capture: the target exits 0 with a consistent summary" exits_clean "$d"
	else
		notok "go$go kill -9: could not start ($(tail -1 "$d/cap.err" 2>/dev/null))"
	fi

	# A ring buffer of 1 MiB (about 2800 call records) while mapwatch is stopped (SIGSTOP)
	# and the target makes 45,000 map writes: most calls find the buffer full. Every call
	# the probes saw returns through one RET hit, which either submitted a record (received,
	# in events.total) or counted ring_buffer_full (in events.lost). The target is idle when
	# the probes attach and when the capture ends, so no call straddles either edge.
	# (It must be idle at the end: mapwatch drains the ring buffer, then refreshes the maps'
	# state, then reads the counters with the probes still attached, so a busy target's
	# calls in between are counted in ret_hits and neither received nor lost.)
	n=20000 del=5000
	d=$WORK/overflow.$go
	if start_fixture "$d" "$MW_FIXTURES/$go/writes.pie-stripped" $n $del &&
		start_capture "$d" -d 120 --ringbuf-mb 1 --json "$d/r.json"; then
		kill -STOP "$MWPID"
		go_fixture
		wait_until 60 grep -q '^done' "$d/fix.out"
		kill -CONT "$MWPID"
		sleep 0.2
		kill -INT "$MWPID"
		wait_exit "$MWPID" 30
		close_fixture
		wait_exit "$FPID" 20
		echo "# go$go overflow: $(jq -c '.events | {total, lost, rejected} + (.counters
			| {ret_hits, entry_hits, ring_buffer_full, entry_reentered})' "$d/r.json" 2>/dev/null)"
		check "go$go overflow: capture ends with status 0 and a report" \
			jq_true "$d/r.json" "$STATUS == 0 and .ended_by == \"signal\""
		check "go$go overflow: the 1 MiB ring buffer overflowed, and lost counts exactly its drops" \
			jq_true "$d/r.json" '.events | .counters.ring_buffer_full > 10000
				and .lost == .counters.ring_buffer_full and .counters.inflight_table_full == 0'
		check "go$go overflow: records received + lost = calls the probes saw (RET hits)" \
			jq_true "$d/r.json" '.events | .total + .lost == .counters.ret_hits and .rejected == 0
				and .counters.ret_without_entry == 0 and .counters.stale_entries_dropped == 0
				and .counters.goroutine_unreadable == 0'
		check "go$go overflow: every call entered once and returned (entry hits = RET hits + re-entries)" \
			jq_true "$d/r.json" '.events.counters | .entry_hits == .ret_hits + .entry_reentered'
		check "go$go overflow: the probes saw at least every write the target made ($((2 * n + del + 4)))" \
			jq_true "$d/r.json" ".events.counters.ret_hits >= $((2 * n + del + 4))
				and ([.maps[].sites[] | select(.function == \"main.assign64\") | .count] | add) <= $n"
	else
		notok "go$go overflow: could not start ($(tail -1 "$d/cap.err" 2>/dev/null))"
	fi

	# The target dies of the runtime's own "concurrent map writes" (two goroutines, no lock;
	# the runtime catches them in nearly every run, up to three runs): mapwatch ends on its
	# own and writes the report anyway.
	fstatus=
	for try in 1 2 3; do
		d=$WORK/race.$go.$try
		if ! start_fixture "$d" "$MW_FIXTURES/$go/findings.pie-stripped" race ||
			! start_capture "$d" -d 120 --json "$d/r.json"; then
			fstatus=
			break
		fi
		go_fixture
		wait_until 60 bash -c "grep -q '^done' '$d/fix.out' || ! kill -0 $FPID 2>/dev/null"
		close_fixture
		wait_exit "$FPID" 20
		fstatus=$STATUS
		[ "$fstatus" != 0 ] && break
		echo "# go$go race: run $try, the runtime did not catch the race"
		kill -INT "$MWPID"
		wait_exit "$MWPID" 30
	done
	if [ -z "$fstatus" ]; then
		notok "go$go race: could not start ($(tail -1 "$d/cap.err" 2>/dev/null))"
	elif [ "$fstatus" != 0 ]; then
		wait_exit "$MWPID" 30
		check "go$go race: the target died of concurrent map writes (status $fstatus, run $try)" \
			grep -q '^fatal error: concurrent map writes' "$d/fix.out"
		check "go$go race: mapwatch ends by itself with status 0 and writes the report" \
			jq_true "$d/r.json" "$STATUS == 0 and .ended_by == \"target exited\""
		check "go$go race: target_died says concurrent map writes" \
			jq_true "$d/r.json" '.target_died.message == "concurrent map writes"'
		name="go$go race: concurrent_write names the map (made in main.newShared) and both writers"
		if jq_true "$d/r.json" "([.maps[] | select(.created_at.function == \"main.newShared\"
				and .created_at.line == $(site_line race-make findings)) | .id]) as \$ids
			 | (\$ids | length) == 1 and ([.findings[] | select(.kind == \"concurrent_write\"
				and .map == \$ids[0]
				and (.sites | any(.function == \"main.writerA\" and .line == $(site_line race-a findings)))
				and (.sites | any(.function == \"main.writerB\" and .line == $(site_line race-b findings))))]
				| length) == 1"; then
			ok "$name"
		else
			notok "$name"
			echo "# go$go race: $(jq -c '[(.findings[] | {kind, map, sites: [.sites[] | [.function, .line]],
				evidence}), (.maps[] | select(.created_at.function == "main.newShared" or .concurrent_writes > 0)
				| {id, created_at, concurrent_writes, writes_finding_flag_set, ended})]' "$d/r.json")"
		fi
	else
		notok "go$go race: the runtime caught no concurrent write in 3 runs"
	fi
	prune_pids
done

# SIGKILL during start-up: while the BPF object loads, calibrates, or attaches.
for i in 1 2 3 4 5; do
	d=$WORK/early.$i
	if ! start_fixture "$d" "$MW_FIXTURES/$last/soak.pie-stripped"; then
		notok "go$last kill -9 during start-up: could not start the target"
		continue
	fi
	"$MW" capture -p "$FPID" -d 120 --lock-baseline 0 --ready-file "$d/attached" \
		>"$d/cap.out" 2>"$d/cap.err" {FFD}>&- &
	MWPID=$!
	PIDS+=("$MWPID")
	delay=$((RANDOM % 800))
	sleep "$(printf '0.%03d' "$delay")"
	phase=running
	[ -e "$d/attached" ] || phase=starting
	kill -9 "$MWPID"
	wait_exit "$MWPID" 10 2>/dev/null
	echo "# go$last kill -9 after ${delay} ms ($phase)"
	check_no_orphans "go$last kill -9 during start-up ($i, ${delay} ms, $phase): no mw_ program or link without a live mapwatch"
	sleep 0.5
	check "go$last kill -9 during start-up ($i): the target runs on, consistent" \
		bash -c "kill -0 $FPID && ! grep -q '^INCONSISTENT' '$d/fix.out'"
	check "go$last kill -9 during start-up ($i): the target exits 0 with a consistent summary" \
		exits_clean "$d"
	prune_pids
done
