# SPDX-License-Identifier: MIT
# What a new user runs into: each failure is one line on stderr and its own exit status.
. "$(dirname "$0")/lib.sh"

SAN_MW=${MW_TOOLS:?}/../san/mapwatch	# the same command line under ASan/UBSan

# expect_status NAME STATUS STDERR-PATTERN COMMAND...: the status, and stderr is exactly one
# line that matches.
expect_status() {
	local name=$1 want=$2 pat=$3 st
	shift 3
	"$@" >"$WORK/out" 2>"$WORK/err"
	st=$?
	if [ "$st" = "$want" ] && grep -qE -- "$pat" "$WORK/err" && [ "$(wc -l <"$WORK/err")" = 1 ]; then
		ok "$name"
	else
		notok "$name (status $st, want $want; stderr, $(wc -l <"$WORK/err") lines: $(head -c 400 "$WORK/err"))"
	fi
}

# survives NAME COMMAND...: status 0 with nothing on stderr, or a failure (not a signal)
# with exactly one line on stderr.
survives() {
	local name=$1 st n
	shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	st=$?
	n=$(wc -l <"$WORK/err")
	if { [ "$st" = 0 ] && [ "$n" = 0 ]; } || { [ "$st" -gt 0 ] && [ "$st" -lt 100 ] && [ "$n" = 1 ]; }; then
		ok "$name (status $st)"
	else
		notok "$name (status $st; stderr, $n lines: $(head -c 400 "$WORK/err"))"
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
for d in nan inf -inf 1e999; do
	expect_status "-d $d: status 2" 2 "invalid duration: $d" "$MW" capture -p 1 -d "$d"
done
for v in nan inf -inf; do
	expect_status "--threshold stall_s=$v: status 2" 2 "stall_s=$v: not a finite number" \
		"$MW" capture -p 1 --threshold "stall_s=$v"
done
expect_status "unknown option: status 2" 2 "unknown option or missing value: --frob" \
	"$MW" capture -p 1 --frob
expect_status "unknown command: status 2" 2 "unknown command" "$MW" frobnicate

# report: anything that is not a well-formed capture is status 8 and one line.
printf '{"schema": "mapwatch.capture/v1", "maps": [{"id": "0x1"}]' >"$WORK/cut.json"
printf '{"schema": "mapwatch.capture/v1"} trailing' >"$WORK/trailing.json"
printf '{"schema": null}' >"$WORK/null-schema.json"
printf '[1, 2]' >"$WORK/array.json"
printf '{"schema": "mapwatch.capture/v1", "findings": {"kind": "x"}}' >"$WORK/findings.json"
printf '{"schema": "mapwatch.capture/v1", "findings": [{"sites": [1]}]}' >"$WORK/fsites.json"
printf '{"schema": "mapwatch.capture/v1", "target": {"pid": "x"}}' >"$WORK/pid.json"
: >"$WORK/empty.json"
for f in /etc/hostname cut trailing null-schema array findings fsites pid empty; do
	[ "$f" = /etc/hostname ] || f=$WORK/$f.json
	expect_status "report of a malformed file ($(basename "$f")): status 8" 8 \
		"^mapwatch: .*not a mapwatch capture" "$SAN_MW" report "$f"
done
expect_status "report of a missing file: status 1" 1 "cannot read .*No such file" \
	"$MW" report "$WORK/nonexistent.json"
printf '{"schema": "mapwatch.capture/v1", "target": {"exe": "a\\u001b[2Jb"}}' >"$WORK/esc.json"
check "report of a capture with a terminal escape in a string: printed without it" \
	bash -c "'$SAN_MW' report '$WORK/esc.json' | grep -q '(a?\[2Jb)'"

# Every input that ever broke a reader (tests/fuzz/regress/, the reproducers included),
# through the real command line built with ASan/UBSan: no crash, and a failure is one line.
regress=$(dirname "$0")/../fuzz/regress
for f in "$regress"/elfimg/* "$regress"/gobin/* "$regress"/pclntab/* "$regress"/buildinfo/*; do
	[ -f "$f" ] && survives "info on $(basename "$(dirname "$f")")/$(basename "$f")" \
		"$SAN_MW" info "$f"
done
for f in "$regress"/report/*; do
	[ -f "$f" ] && survives "report on report/$(basename "$f")" "$SAN_MW" report "$f"
done

# A Go binary whose pc-value tables are garbage: info does not read them; and one whose
# probed functions are garbage: status 6, with its line (the table alone said nothing).
perl -e '
	local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f; my $b = <$f>;
	my $at = index($b, pack("H*", "f1ffffff00000108")); die "no pclntab" if $at < 0;
	my ($pctab, $pcln) = unpack("Q<Q<", substr($b, $at + 56, 16));
	srand(1); substr($b, $at + $pctab + $_, 1) = chr(int(rand(256))) for 0 .. $pcln - $pctab - 1;
	open(my $o, ">", $ARGV[1]) or die; binmode $o; print $o $b;' "$bin" "$WORK/garbage-pcvalue"
survives "info on a Go binary with garbage pc-value tables" "$SAN_MW" info "$WORK/garbage-pcvalue"
"$MW" info "$bin" | perl -ne 'print hex($1), "\n" if / 0x[0-9a-f]+ +(0x[0-9a-f]+) /' >"$WORK/code-offsets"
perl -e '
	local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f; my $b = <$f>;
	open(my $l, "<", $ARGV[1]) or die; local $/ = "\n";
	while (my $o = <$l>) { substr($b, $o, 32) = chr(6) x 32; }	# 0x06: invalid in 64-bit mode
	open(my $o, ">", $ARGV[2]) or die; binmode $o; print $o $b;' "$bin" "$WORK/code-offsets" "$WORK/garbage-code"
expect_status "info on a Go binary whose probed functions do not decode: status 6, one line" 6 \
	"none of the [0-9]+ runtime functions to probe can be" "$SAN_MW" info "$WORK/garbage-code"
check "capture --help explains every option and the exit statuses" bash -c "
	'$MW' capture --help >'$WORK/help' && grep -q -- --ready-file '$WORK/help' &&
	grep -q -- --ringbuf-mb '$WORK/help' && grep -q 'Exit status' '$WORK/help'"

# Unprivileged, two ways: the target is another user's (its executable cannot be read), and
# the target is the user's own (readable: it is loading BPF that fails).
nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all)
d=$WORK/unpriv
if start_fixture "$d" "$bin" 1 0; then
	expect_status "unprivileged, another user's process: status 3 (cannot read it)" 3 \
		"cannot read /proc/[0-9]+/exe: Permission denied \(run as root\)" \
		"${nobody[@]}" "$MW" capture -p "$FPID" -d 1
	release_fixture
	wait_exit "$FPID" 10
fi
d=$WORK/unpriv-own
if start_fixture "$d" "${nobody[@]}" "$bin" 1 0; then
	expect_status "unprivileged, the user's own process: status 3 (BPF cannot load)" 3 \
		"BPF.*(root|CAP_BPF)" "${nobody[@]}" "$MW" capture -p "$FPID" -d 1
	release_fixture
	wait_exit "$FPID" 10
fi

# CFLAGS on the command line replaces the optimisation flags, not the project's (warnings,
# include paths): a copy of the tree builds with it.
mkdir -p "$WORK/src"
tar -C "$(dirname "$0")/../.." --exclude=./.output --exclude=./.git --exclude=./mapwatch -cf - . |
	tar -C "$WORK/src" -xf -
check "make CFLAGS=... on the command line builds, keeping the project's flags" \
	bash -c "make -C '$WORK/src' V=1 CFLAGS='-O1 -g0' mapwatch >'$WORK/build.log' 2>&1 &&
		 grep -q -- '-O1 -g0 -Wall' '$WORK/build.log' && '$WORK/src/mapwatch' --version >/dev/null"

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

# An output path that cannot be written fails at once, before anything is attached: a wrong
# path must not cost the user a whole capture.
sleep 60 & SPID=$!
PIDS+=("$SPID")
t0=$SECONDS
expect_status "--json into a missing directory: status 1 at once, before attaching" 1 \
	"cannot write /nonexistent-dir/r.json" "$MW" capture -p "$SPID" -d 30 --json /nonexistent-dir/r.json
check "--json into a missing directory: failed within 3 s, not after the capture" \
	test $((SECONDS - t0)) -le 3
expect_status "--dot into a missing directory: status 1" 1 "cannot write /nonexistent-dir/g.dot" \
	"$MW" capture -p "$SPID" -d 30 --dot /nonexistent-dir/g.dot
kill "$SPID" 2>/dev/null

# A target that exits just as mapwatch attaches: either the capture ends with a report
# (status 0, ended by the exit) or it fails as "no such process", status 4, in one line:
# never "attach failed" (7), never two lines. The fixture exits a few ms after it starts.
bad=0
for i in $(seq 12); do
	"$bin" 1 0 </dev/null >/dev/null 2>&1 &
	XPID=$!
	[ $((i % 3)) = 0 ] && sleep 0.00$i
	"$MW" capture -p "$XPID" -d 5 --lock-baseline 0 --json "$WORK/x.json" >/dev/null 2>"$WORK/x.err"
	st=$?
	wait "$XPID" 2>/dev/null
	n=$(wc -l <"$WORK/x.err")
	case $st in
	0) ;;
	4) [ "$n" = 1 ] || { bad=1; echo "# run $i: status 4 with $n lines: $(head -c 300 "$WORK/x.err")"; } ;;
	*) bad=1; echo "# run $i: status $st: $(head -c 300 "$WORK/x.err")" ;;
	esac
done
check "a target that exits while probes attach: status 0 with a report, or 4 in one line (12 runs)" \
	test "$bad" = 0
