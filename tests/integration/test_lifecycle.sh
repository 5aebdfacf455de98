# SPDX-License-Identifier: MIT
# How a capture ends: Ctrl-C, the duration, or the target dying. In each case the report is
# written, and a target that outlives the capture runs on unharmed. (Ending a capture detaches
# about 40 uprobes; on a loaded host each detach can take 0.1-0.25 s, hence the 30 s bounds.)
. "$(dirname "$0")/lib.sh"

last=$(toolchains | grep -v noswiss | tail -1)
first=$(toolchains | head -1)

for go in "$first" "$last"; do
	bin=$MW_FIXTURES/$go/writes.pie-stripped
	killed_report=

	# Ctrl-C while the target is idle; then the target does its work without probes.
	d=$WORK/sigint.$go
	if start_fixture "$d" "$bin" 100 10 && start_capture "$d" -d 120 --json "$d/r.json"; then
		kill -INT "$MWPID"
		wait_exit "$MWPID" 30
		check "go$go: SIGINT ends the capture with status 0" test "$STATUS" = 0
		check "go$go: SIGINT still writes the report" jq_true "$d/r.json" '.ended_by == "signal"'
		check "go$go: the text report is printed" grep -q '^MAPS WRITTEN' "$d/cap.out"
		check "go$go: no temp file left behind" test -z "$(ls "$d" | grep '\.tmp\.')"
		release_fixture
		wait_exit "$FPID" 20
		check "go$go: target runs on after detach and exits 0" \
			test "$STATUS" = 0 -a "$(tail -1 "$d/fix.out")" = "done 90 100 0"
	else
		notok "go$go: SIGINT case could not start"
	fi

	# Ctrl-C after the writes, the target still alive: the report has every map's state now,
	# capacity and table memory included (Swiss tables are read through their directory).
	d=$WORK/state.$go
	if start_fixture "$d" "$bin" 5000 4000 && start_capture "$d" -d 120 --json "$d/r.json"; then
		go_fixture
		wait_until 20 grep -q '^done' "$d/fix.out"
		kill -INT "$MWPID"
		wait_exit "$MWPID" 30
		check "go$go: live state of each map after the writes" jq_true "$d/r.json" \
			'([.maps[] | select(.type == "map[int64]int")][0] | .len == 1000 and .peak_len == 5000
			   and .capacity >= 5000 and .bytes > 5000 * 16)
			 and ([.maps[] | select(.type == "map[string]int")][0] | .len == 5000 and .capacity >= 5000)
			 and ([.maps[] | select(.type == "map[main.point]bool")][0] | .len == 0 and .capacity >= 3 and .bytes > 0)'
		close_fixture
		wait_exit "$FPID" 20
	else
		notok "go$go: state case could not start"
	fi

	# The duration ends an idle capture.
	d=$WORK/duration.$go
	if start_fixture "$d" "$bin" 10 0 && start_capture "$d" -d 1 --json "$d/r.json"; then
		wait_exit "$MWPID" 30
		check "go$go: -d 1 ends the capture" test "$STATUS" = 0
		check "go$go: report says duration" jq_true "$d/r.json" \
			'.ended_by == "duration" and .duration_s >= 1 and .duration_s < 5 and (.maps | length) == 0'
		release_fixture
		wait_exit "$FPID" 20
	else
		notok "go$go: duration case could not start"
	fi

	# The target is killed in the middle of its writes: what was seen is reported.
	d=$WORK/killed.$go
	if start_fixture "$d" "$bin" 1000000 0 && start_capture "$d" -d 120 --json "$d/r.json"; then
		# Kill it in the middle of its writes: once they have cost it a fifth of a second
		# of CPU (a probed write costs microseconds, so thousands were seen), long before
		# its two million writes are done.
		t0=$(cpu_ticks "$FPID")
		release_fixture
		check "go$go: the target is writing under probes before it is killed" \
			wait_until 20 cpu_at_least "$FPID" $((t0 + $(getconf CLK_TCK) / 5))
		check "  ...and has not finished" bash -c "! grep -q '^done' '$d/fix.out'"
		kill -9 "$FPID"
		wait_exit "$MWPID" 30
		check "go$go: target killed mid-capture: status 0" test "$STATUS" = 0
		check "go$go: target killed mid-capture: report with the writes seen" jq_true "$d/r.json" \
			'.ended_by == "target exited" and ([.maps[].sites[] | select(.function == "main.assign64")][0].count > 100)'
		killed_report=$d/r.json
	else
		notok "go$go: kill case could not start"
	fi

	# Folded stacks and the Graphviz graph of a capture.
	d=$WORK/graphs.$go
	if start_fixture "$d" "$bin" 200 50 &&
		start_capture "$d" -d 60 --folded "$d/w.folded" --dot "$d/w.dot"; then
		release_fixture
		wait_exit "$FPID" 20
		wait_exit "$MWPID" 30
		check "go$go: --folded: root-first stacks with counts, ending in the runtime function" \
			bash -c "grep -qE '^runtime\.goexit;runtime\.main;main\.main;main\.assign64;runtime\.mapassign_fast64 200\$' '$d/w.folded' &&
				 ! grep -vqE '^[^ ]+( [^ ]+)* [0-9]+\$' '$d/w.folded'"
		check "go$go: --dot renders with Graphviz and shows the sites" \
			bash -c "dot -Tsvg '$d/w.dot' -o '$d/w.svg' && grep -q 'main.assign64' '$d/w.svg' &&
				 grep -q 'assign x200' '$d/w.svg'"
	else
		notok "go$go: graphs case could not start"
	fi

	# mapwatch report re-renders a saved capture.
	check "go$go: mapwatch report re-renders the JSON" \
		bash -c "'$MW' report '${killed_report:-none}' | grep -q 'main.assign64 (.*main.go:'"
done
