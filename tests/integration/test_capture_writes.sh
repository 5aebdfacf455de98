# SPDX-License-Identifier: MIT
# The foundation: a Go fixture makes exactly N assigns, M deletes, 3 generic assigns and one
# clear; a capture must name each site's function and line with the exact count, for every
# toolchain, plain, stripped (-s -w), stripped PIE and cgo-PIE, and leave the target to finish
# normally.
. "$(dirname "$0")/lib.sh"

N=1000 D=300
L_A64=$(site_line assign64) L_STR=$(site_line assignstr) L_DEL=$(site_line delete64)
L_GEN=$(site_line assigngeneric) L_CLR=$(site_line clear)

site() {	# report function line op count
	jq_true "$1" "[.maps[].sites[] | select(.function == \"$2\" and .line == $3 and .op == \"$4\")]
		| (length == 1 and .[0].count == $5)"
}

for go in $(toolchains); do
	for fl in plain stripped pie-stripped cgo-pie-stripped; do
		bin=$MW_FIXTURES/$go/writes.$fl
		d=$WORK/$go.$fl
		r=$d/report.json
		name="capture go$go $fl"
		if ! start_fixture "$d" "$bin" $N $D || ! start_capture "$d" -d 60 --json "$r"; then
			notok "$name: could not start ($(tail -1 "$d/cap.err" 2>/dev/null))"
			continue
		fi
		release_fixture
		wait_exit "$FPID" 30
		fstatus=$STATUS
		wait_exit "$MWPID" 30
		check "$name: mapwatch exits 0 when the target exits" test "$STATUS" = 0
		check "$name: target finished its work and exited 0" \
			grep -qx "done 700 $N 0" "$d/fix.out"
		check "$name: target exit status 0" test "$fstatus" = 0
		check "$name: report says the target exited" \
			jq_true "$r" '.ended_by == "target exited"'
		check "$name: assign64 site, line and count" site "$r" main.assign64 "$L_A64" assign $N
		check "$name: assignStr site, line and count" site "$r" main.assignStr "$L_STR" assign $N
		check "$name: delete64 site, line and count" site "$r" main.delete64 "$L_DEL" delete $D
		check "$name: generic assign site" site "$r" main.assignGeneric "$L_GEN" assign 3
		check "$name: range-delete loop is one clear" site "$r" main.wipe "$L_CLR" clear 1
		check "$name: map types and final lengths" jq_true "$r" \
			"([.maps[] | select(.type == \"map[int64]int\")][0] | .len == 700 and .peak_len == $N and .assigns == $N and .deletes == $D)
			 and ([.maps[] | select(.type == \"map[string]int\")][0].len == $N)
			 and ([.maps[] | select(.type == \"map[main.point]bool\")][0] | .len == 0 and .clears == 1)"
		impl=swiss
		case $go in 1.19|1.2[0-3]|*-noswiss) impl=hmap ;; esac
		stripped=false pie=false
		[[ $fl == *stripped* ]] && stripped=true
		[[ $fl == *pie* ]] && pie=true
		check "$name: target description" jq_true "$r" \
			"(.target.go_version | startswith(\"go${go%-noswiss}.\")) and .target.map_impl == \"$impl\"
			 and .target.stripped == $stripped and .target.pie == $pie and .target.pid == $FPID"
		check "$name: nothing lost, one entry and one RET hit per write" jq_true "$r" \
			'.events.lost == 0 and .overhead.probe_hits == 2 * .events.total and .overhead.estimated_target_cpu_s > 0'
	done
done
