# SPDX-License-Identifier: MIT
# Helpers for integration tests: start a Go fixture behind a handshake, capture it, assert.
# Every wait is bounded.

MW=${MW:?} MW_FIXTURES=${MW_FIXTURES:?}
WORK=$(mktemp -d /tmp/mapwatch-it.XXXXXX)
trap 'cleanup_all' EXIT
PIDS=()

cleanup_all() {
	local p
	for p in "${PIDS[@]}"; do { kill -9 "$p" && wait "$p"; } 2>/dev/null; done
	# MW_TEST_KEEP=DIR keeps the work dir (logs, reports) of each test, to read a failure
	if [ -n "${MW_TEST_KEEP:-}" ]; then
		mkdir -p "$MW_TEST_KEEP" && cp -r "$WORK" "$MW_TEST_KEEP/$(basename "$0" .sh).$$" || true
	fi
	rm -rf "$WORK"
}

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }

# check NAME COMMAND...: one test case from one command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

# wait_until SECONDS COMMAND...: poll every 50 ms.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# wait_exit PID SECONDS: wait for a child to exit, with a bound; sets STATUS.
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			STATUS=124
			return 1
		fi
		sleep 0.05
	done
	wait "$pid"
	STATUS=$?
}

# start_fixture DIR BIN ARGS...: stdin is a FIFO the test writes "go" into; waits for "ready".
start_fixture() {
	local d=$1 bin=$2
	shift 2
	mkdir -p "$d"
	mkfifo "$d/in"
	"$bin" "$@" <"$d/in" >"$d/fix.out" 2>&1 &
	FPID=$!
	PIDS+=("$FPID")
	exec {FFD}>"$d/in"
	wait_until 10 grep -q '^ready' "$d/fix.out"
}

# go_fixture: let it do its writes; it then waits for close_fixture before exiting.
go_fixture() {
	echo go >&"$FFD"
}

close_fixture() {
	exec {FFD}>&-
}

release_fixture() {
	go_fixture
	close_fixture
}

# start_capture DIR ARGS...: mapwatch capture -p $FPID, waits until every probe is attached.
# No lock baseline unless ARGS ask for one (--lock-baseline S), and no budget unless ARGS
# give one (--budget PCT): most tests count writes exactly.
start_capture() {
	local d=$1
	shift
	# {FFD}>&-: mapwatch must not hold the fixture's stdin open
	"$MW" capture -p "$FPID" --ready-file "$d/attached" --lock-baseline 0 --budget off "$@" \
		>"$d/cap.out" 2>"$d/cap.err" {FFD}>&- &
	MWPID=$!
	PIDS+=("$MWPID")
	wait_until 20 test -e "$d/attached" -o ! -e "/proc/$MWPID"
	test -e "$d/attached"
}

# site_line MARKER [FIXTURE]: line of "SITE:MARKER" in a fixture's source (default: writes).
site_line() {
	grep -n "SITE:$1\$" "$(dirname "${BASH_SOURCE[0]}")/../fixtures/${2:-writes}/main.go" | cut -d: -f1
}

toolchains() { cat "$MW_FIXTURES/toolchains"; }

# prune_pids: keep in PIDS only the children still running (a reaped pid is reused, and
# lib.sh's cleanup would kill whoever got it).
prune_pids() {
	local p live=" $(jobs -p | tr '\n' ' ') " still=()
	for p in "${PIDS[@]}"; do [[ $live == *" $p "* ]] && still+=("$p"); done
	PIDS=("${still[@]}")
}

# cpu_ticks PID: user + system CPU time the process has used, in clock ticks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }	# comm may hold spaces and parentheses
	set -- $s
	echo $((${12} + ${13}))
}

# cpu_at_least PID TICKS: the process has used at least TICKS clock ticks of CPU.
cpu_at_least() {
	local t
	t=$(cpu_ticks "$1") && [ "$t" -ge "$2" ]
}

# jq_true FILE FILTER: the filter yields true.
jq_true() {
	[ "$(jq -r "$2" "$1" 2>/dev/null)" = true ]
}
