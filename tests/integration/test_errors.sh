# SPDX-License-Identifier: MIT
# What a new user runs into: each failure is one line on stderr and its own exit status.
. "$(dirname "$0")/lib.sh"

# expect_status NAME STATUS STDERR-PATTERN COMMAND...
expect_status() {
	local name=$1 want=$2 pat=$3 st
	shift 3
	"$@" >"$WORK/out" 2>"$WORK/err"
	st=$?
	if [ "$st" = "$want" ] && grep -qE -- "$pat" "$WORK/err"; then
		ok "$name"
	else
		notok "$name (status $st, want $want; stderr: $(head -c 300 "$WORK/err"))"
	fi
}

go=$(toolchains | tail -1)
bin=$MW_FIXTURES/$go/writes.pie-stripped

expect_status "no such process: status 4" 4 "no process with PID" "$MW" capture -p 999999 -d 1
sleep 60 & SPID=$!
PIDS+=("$SPID")
expect_status "non-Go process: status 5" 5 "not a Go binary" "$MW" capture -p "$SPID" -d 1
expect_status "info on a non-Go file: status 5" 5 "not a Go binary" "$MW" info /bin/true
expect_status "info on a missing file: status 4" 4 "No such file" "$MW" info /nonexistent/x
head -c 300000 "$bin" >"$WORK/truncated"
expect_status "info on a truncated Go binary: one clear line" 5 "^mapwatch: .*truncated" \
	"$MW" info "$WORK/truncated"
check "  ...and exactly one line" test "$(wc -l <"$WORK/err")" = 1
expect_status "capture without -p: usage, status 2" 2 "give -p PID" "$MW" capture
expect_status "bad duration: status 2" 2 "invalid duration" "$MW" capture -p 1 -d -3
expect_status "unknown command: status 2" 2 "unknown command" "$MW" frobnicate
expect_status "report of a non-report: status 8" 8 "not a mapwatch capture" \
	"$MW" report /etc/hostname
check "capture --help explains every option and the exit statuses" bash -c "
	'$MW' capture --help >'$WORK/help' && grep -q -- --ready-file '$WORK/help' &&
	grep -q -- --ringbuf-mb '$WORK/help' && grep -q 'Exit status' '$WORK/help'"

# Unprivileged: cannot read the target or load BPF.
d=$WORK/unpriv
if start_fixture "$d" "$bin" 1 0; then
	expect_status "unprivileged user: status 3" 3 "root|CAP_BPF" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$MW" capture -p "$FPID" -d 1
	release_fixture
	wait_exit "$FPID" 10
fi

# info on a live process shows the probe points of its runtime.
d=$WORK/info
if start_fixture "$d" "$bin" 1 0; then
	"$MW" info -p "$FPID" >"$WORK/info.txt" 2>&1
	check "info -p: go version, Swiss or hmap, stripped PIE, load bias" \
		grep -qE "^PIE: +yes \(loaded at bias 0x" "$WORK/info.txt"
	check "info -p: every map-write function probed after its stack check" \
		bash -c "grep -E '^runtime\.map(assign|delete|clear)' '$WORK/info.txt' | grep -c 'after check' | grep -qx 7"
	check "info -p: creation, growth and lock slow path probed; runtime.fatal at entry only" \
		bash -c "grep -qE '^runtime\.makemap +.*after check +1' '$WORK/info.txt' &&
			 grep -qE '^internal/runtime/maps\.\(\*table\)\.rehash ' '$WORK/info.txt' &&
			 grep -qE '^internal/sync\.\(\*Mutex\)\.lockSlow ' '$WORK/info.txt' &&
			 grep -qE '^runtime\.fatal +.*at entry +0' '$WORK/info.txt'"
	release_fixture
	wait_exit "$FPID" 10
fi
