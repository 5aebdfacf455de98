# SPDX-License-Identifier: MIT
# Process discovery (bpf/discover.bpf.c, user/discover.c, user/watch.c) through
# tests/unit/tool_discover: exec and exit events of real processes, the Go / not-Go decision,
# re-execs both ways, one exit per process whatever its threads, the start-up scan, watch
# rules, and discovery with only the capabilities tools/mapwatch.service grants.
. "$(dirname "$0")/lib.sh"

TOOL=("$MW_TOOLS/tool_discover")
first=$(toolchains | head -1)
last=$(toolchains | grep -v noswiss | tail -1)
HELLO_OLD=$MW_FIXTURES/$first/hello.pie-stripped
WRITES=$MW_FIXTURES/$last/writes.pie-stripped
REEXEC=$MW_FIXTURES/$last/reexec.pie-stripped

# start_tool NAME ARGS...: tool_discover in the background, output in $WORK/NAME.out; waits
# for its "ready" line. Sets TPID.
start_tool() {
	local name=$1
	shift
	"${TOOL[@]}" "$@" </dev/null >"$WORK/$name.out" 2>"$WORK/$name.err" &
	TPID=$!
	PIDS+=("$TPID")
	wait_until 20 grep -qs '^ready ' "$WORK/$name.out"
}

stop_tool() {	# NAME: SIGTERM, and its last line
	kill -TERM "$TPID"
	wait_exit "$TPID" 20
	wait_until 5 grep -q '^end ' "$WORK/$1.out"
}

# has NAME REGEX: a line of the tool's output matches (extended regex, whole line).
has() { grep -Eq "^$2\$" "$WORK/$1.out"; }
count() { grep -Ec "^$2\$" "$WORK/$1.out"; }
# seen NAME REGEX: has, within 10 s (events arrive asynchronously)
seen() { wait_until 10 has "$@"; }

# A Go program running before discovery starts is found by the scan.
"$HELLO_OLD" 127.0.0.1:0 >/dev/null 2>&1 &
PRE=$!
PIDS+=("$PRE")
wait_until 10 test -e "/proc/$PRE/exe"
sleep 0.2

if ! start_tool all --all-go; then
	notok "tool_discover --all-go is ready ($(cat "$WORK/all.err"))"
	exit 0
fi
ok "tool_discover --all-go is ready: $(grep '^ready' "$WORK/all.out")"
check "scan: the Go process already running is found and watched" \
	has all "found pid=$PRE verdict=watch go=go$first[^ ]* comm=hello.pie-strip exe=$HELLO_OLD"
check "scan: ...and put in the watch set" has all "watch pid=$PRE go=go$first.* exe=$HELLO_OLD"
check "scan: a program that is not Go is not reported (no rule asks for it)" \
	bash -c "! grep -q '^found pid=$$ ' '$WORK/all.out'"

# A Go program started now: exec (the Go release read from its build info), one exit.
d=$WORK/writes
if start_fixture "$d" "$WRITES" 10 0; then
	check "exec of a Go program: decided Go (go$last), watched" \
		seen all "exec pid=$FPID tid=[0-9]+ comm=writes.pie-stri verdict=watch go=go$last[^ ]* exe=$WRITES"
	check "  ...watch line" has all "watch pid=$FPID go=go$last.*"
	threads=$(ls "/proc/$FPID/task" | wc -l)
	release_fixture
	wait_exit "$FPID" 20
	check "exit of the Go program: status 0" seen all "exit pid=$FPID tid=[0-9]+ status=0"
	check "  ...one exit event for the process, though it ran $threads threads" \
		test "$(count all "exit pid=$FPID .*")" = 1 -a "$threads" -gt 1
	check "  ...unwatched" seen all "unwatch pid=$FPID why=exited with status 0"
else
	notok "the writes fixture could not start"
fi

# Programs that are not Go: decided so; their exit statuses as wait statuses.
sleep 3 &
P=$!
check "exec of a C program: not Go" seen all "exec pid=$P tid=$P comm=sleep verdict=no_rule go=no exe=/usr/bin/sleep"
wait "$P"
check "  ...its exit, status 0" seen all "exit pid=$P tid=$P status=0"
sh -c 'exit 3' &
P=$!
wait "$P"
check "exit status 3 is wait status 768" seen all "exit pid=$P tid=$P status=768"
sleep 30 &
P=$!
seen all "exec pid=$P .*" >/dev/null
kill -9 "$P"
wait "$P" 2>/dev/null
check "a process killed by SIGKILL: wait status 9" seen all "exit pid=$P tid=$P status=9"

# Not Go, then Go in the same process: bash execs the Go program.
bash -c "sleep 0.5; exec '$HELLO_OLD' 127.0.0.1:0" >/dev/null 2>&1 &
P=$!
PIDS+=("$P")
check "re-exec shell -> Go: the shell's exec, not Go" \
	seen all "exec pid=$P tid=$P comm=bash verdict=no_rule go=no exe=/usr/bin/bash"
check "  ...then the same PID's exec of the Go program, watched" \
	seen all "exec pid=$P tid=$P comm=hello.pie-strip verdict=watch go=go$first[^ ]* exe=$HELLO_OLD"
check "  ...watch line" has all "watch pid=$P go=go$first.*"
kill "$P"
wait "$P" 2>/dev/null
check "  ...killed by SIGTERM: unwatched" seen all "unwatch pid=$P why=killed by signal 15"

# Go, then another Go (an older release) in the same process; then Go, then not Go.
d=$WORK/reexec-go
if start_fixture "$d" "$REEXEC" "$HELLO_OLD" 127.0.0.1:0; then
	check "re-exec Go -> Go: the first image watched" \
		seen all "exec pid=$FPID tid=[0-9]+ comm=reexec.pie-stri verdict=watch go=go$last[^ ]* exe=$REEXEC"
	go_fixture
	# Go's syscall.Exec may run on any thread: the event names the process all the same
	check "  ...the second image: same PID, go$first" \
		seen all "exec pid=$FPID tid=[0-9]+ comm=hello.pie-strip verdict=watch go=go$first[^ ]* exe=$HELLO_OLD"
	check "  ...a re-exec of a watched process, not a new process" \
		has all "reexec pid=$FPID images=2 go=go$first.* exe=$HELLO_OLD"
	check "  ...watched once" test "$(count all "watch pid=$FPID .*")" = 1
	kill "$FPID"
	wait_exit "$FPID" 20
	check "  ...and one exit" seen all "exit pid=$FPID tid=[0-9]+ status=15"
else
	notok "the reexec fixture could not start"
fi
d=$WORK/reexec-c
if start_fixture "$d" "$REEXEC" /usr/bin/sleep 30; then
	seen all "watch pid=$FPID .*" >/dev/null
	go_fixture
	check "re-exec Go -> not Go: unwatched" seen all "unwatch pid=$FPID why=re-exec: no_rule"
	check "  ...the exec says why" \
		has all "exec pid=$FPID tid=[0-9]+ comm=sleep verdict=no_rule go=no exe=/usr/bin/sleep"
	kill "$FPID"
	wait_exit "$FPID" 20
	check "  ...its exit still reported" seen all "exit pid=$FPID tid=[0-9]+ status=15"
else
	notok "the reexec fixture could not start (to sleep)"
fi
stop_tool all
check "SIGTERM ends the tool, nothing lost" has all "end lost=0 watched=[0-9]+"
check "  ...the Go process found at start was watched to the end" \
	test "$(grep "^unwatch pid=$PRE " "$WORK/all.out")" = "unwatch pid=$PRE why=stopping"

# Kernels without group_dead: the leader's exit stands for the process.
if start_tool leader --all-go --leader-exit; then
	check "--leader-exit: the leader's exit program is loaded" has leader "ready found=[0-9]+ watched=[0-9]+ exit_by_leader=1"
	d=$WORK/leader
	if start_fixture "$d" "$WRITES" 10 0; then
		seen leader "watch pid=$FPID .*" >/dev/null
		release_fixture
		wait_exit "$FPID" 20
		check "--leader-exit: one exit for the Go process" seen leader "exit pid=$FPID tid=$FPID status=0"
		check "  ...only one" test "$(count leader "exit pid=$FPID .*")" = 1
	fi
	stop_tool leader
else
	notok "tool_discover --leader-exit could not start ($(cat "$WORK/leader.err"))"
fi

# Watch rules: an executable, a name, a PID; the rest is not read at all.
if start_tool rules --exe "$WRITES" --comm sleep --pid "$PRE"; then
	check "--pid: the process named is found" has rules "found pid=$PRE verdict=watch go=go$first.*"
	d=$WORK/rules-exe
	if start_fixture "$d" "$WRITES" 10 0; then
		check "--exe: that executable is watched" seen rules "exec pid=$FPID .* verdict=watch go=go$last[^ ]* exe=$WRITES"
		release_fixture
		wait_exit "$FPID" 20
	fi
	"$MW_FIXTURES/$last/hello.pie-stripped" 127.0.0.1:0 >/dev/null 2>&1 &
	P=$!
	PIDS+=("$P")
	check "no rule names it: not watched, its executable not even read" \
		seen rules "exec pid=$P tid=$P comm=hello.pie-strip verdict=no_rule go=- exe=.*"
	kill "$P"
	wait "$P" 2>/dev/null
	sleep 3 &
	P=$!
	check "--comm names a program that is not Go: said so" \
		seen rules "exec pid=$P tid=$P comm=sleep verdict=not_go go=no exe=/usr/bin/sleep"
	wait "$P"
	stop_tool rules
else
	notok "tool_discover with rules could not start ($(cat "$WORK/rules.err"))"
fi

# The capabilities of tools/mapwatch.service, as an unprivileged user: enough to discover and
# to read other users' executables; none at all is refused with one line.
caps=+bpf,+perfmon,+sys_ptrace,+dac_read_search
if setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,$caps \
	--ambient-caps=-all,$caps --bounding-set=-all,$caps true 2>/dev/null; then
	TOOL=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,$caps
	      --ambient-caps=-all,$caps --bounding-set=-all,$caps "$MW_TOOLS/tool_discover")
	if start_tool caps --all-go; then
		ok "uid 65534 with CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH: discovery attaches"
		check "  ...and finds root's Go process by its build info" \
			has caps "found pid=$PRE verdict=watch go=go$first.*"
		d=$WORK/caps
		if start_fixture "$d" "$WRITES" 10 0; then
			check "  ...and decides root's new Go process" \
				seen caps "exec pid=$FPID .* verdict=watch go=go$last[^ ]* exe=$WRITES"
			release_fixture
			wait_exit "$FPID" 20
		fi
		stop_tool caps
	else
		notok "discovery with the unit's capabilities ($(cat "$WORK/caps.err"))"
	fi
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$MW_TOOLS/tool_discover" --all-go </dev/null >"$WORK/nocap.out" 2>"$WORK/nocap.err"
	st=$?
	check "no capability: status 3, one line that says what is needed" \
		test "$st" = 3 -a "$(wc -l <"$WORK/nocap.err")" = 1
	grep -q "CAP_BPF and CAP_PERFMON" "$WORK/nocap.err" || cat "$WORK/nocap.err"
else
	echo "skip - setpriv cannot drop to uid 65534 with capabilities here"
fi
kill "$PRE" 2>/dev/null
