# SPDX-License-Identifier: MIT
# Shared by the benchmarks of tools/bench/ (sourced). Each script installs what it needs (as
# tools/setup-deps.sh does: Debian packages only, quiet when present), prints the machine, one
# "RESULT" line per measurement, and exits non-zero only when it could not measure: a missed
# goal is a result, not a failure.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$top/.output/bench
MW=$top/mapwatch
MWBENCH=$OUT/mwbench
BENCH=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/mapwatch-$BENCH.XXXXXX")
PIDS=()

log() { printf '# %s\n' "$*"; }
fail() { printf '%s: cannot measure: %s\n' "$BENCH" "$*" >&2; exit 1; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	# MW_BENCH_KEEP=DIR keeps what a run wrote (reports, the recorded stream, logs)
	if [ -n "${MW_BENCH_KEEP:-}" ]; then
		mkdir -p "$MW_BENCH_KEEP" && cp -r "$WORK" "$MW_BENCH_KEEP/$BENCH" || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: it exited and was waited for; cleanup must never signal a reused PID.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# The machine the numbers come from, in one line.
machine() {
	local cpu virt
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	virt=$(systemd-detect-virt --vm 2>/dev/null || true)
	[ -z "$virt" ] || [ "$virt" = none ] &&
		virt=$(grep -qw hypervisor /proc/cpuinfo && echo "virtualised (hypervisor flag)" || echo none)
	echo "machine: nproc=$(nproc) kernel=$(uname -r) cpu='$cpu' virt=$virt" \
		"load=$(cut -d' ' -f1-3 /proc/loadavg) date=$(date -u +%Y-%m-%dT%H:%MZ)"
}

# result NAME MEASURED GOAL MET: the one line each measurement prints (MET: met, missed, or
# "n/a" when there is no goal to compare with).
result() {
	printf 'RESULT %s: %s (goal %s: %s)\n' "$1" "$2" "$3" "$4"
}

# calc EXPR: floating-point arithmetic (awk); f2 EXPR: the same to two decimals.
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
f2() { awk "BEGIN { printf \"%.2f\", $1 }"; }
# le A B: "met" if A <= B, else "missed"
le() { awk -v a="$1" -v b="$2" 'BEGIN { print a <= b ? "met" : "missed" }'; }
# median of the arguments
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.10g\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

need_root() { [ "$(id -u)" -eq 0 ] || fail "needs root (BPF and uprobes): sudo $0"; }

# apt_need PKG...: install Debian packages that are missing (quiet when present).
apt_need() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=900 update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=900 install -y \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# mapwatch and mwbench, built (build dependencies first, as `make` does).
need_tools() {
	need_root
	"$top/tools/setup-deps.sh" --build || fail "tools/setup-deps.sh --build"
	nice make -s -C "$top" bench-tools >/dev/null || fail "make bench-tools"
}

# The newest Go toolchain of tools/go-toolchains that is installed (make demo installs it).
newest_go() {
	local v g=
	while read -r v; do
		[ -x "/usr/lib/go-$v/bin/go" ] && g=/usr/lib/go-$v/bin/go
	done < <(awk '/^[0-9]/ { print $1 }' "$top/tools/go-toolchains" | sort -V)
	if [ -z "$g" ]; then
		"$top/tools/setup-deps.sh" --demo >&2 || return 1
		v=$(awk '/^[0-9]/ { print $1 }' "$top/tools/go-toolchains" | sort -V | tail -1)
		g=/usr/lib/go-$v/bin/go
	fi
	echo "$g"
}

# need_maploop: builds tools/bench/maploop (cached) and sets MAPLOOP.
need_maploop() {
	local go src=$top/tools/bench/maploop/main.go
	MAPLOOP=$OUT/maploop
	[ -x "$MAPLOOP" ] && [ "$MAPLOOP" -nt "$src" ] && return 0
	go=$(newest_go) || fail "no Go toolchain (tools/setup-deps.sh --demo installs one)"
	mkdir -p "$OUT"
	GOCACHE=$top/.output/fixtures/gocache GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off \
		GOFLAGS='' nice "$go" build -o "$MAPLOOP.tmp" "$src" || fail "building maploop"
	mv "$MAPLOOP.tmp" "$MAPLOOP"
}

# start_maploop: the workload as a coprocess; sets MLPID. ml COMMAND runs one command and
# sets REPLY to its last output line (the "loop ..." or "heavy ..." summary).
start_maploop() {
	local line
	coproc MLP { exec "$MAPLOOP"; }
	MLPID=$MLP_PID
	PIDS+=("$MLPID")
	read -r -t 10 line <&"${MLP[0]}" || fail "maploop did not start"
	[ "${line% *}" = ready ] || fail "maploop said: $line"
	ML_IN=${MLP[1]} ML_OUT=${MLP[0]}
}

# start_ml NAME [VAR=VALUE...]: a maploop process (with that environment) driven through two
# fifos, for benchmarks that run two at once; sets ML_<NAME>_{PID,IN,OUT}.
start_ml() {
	local fin=$WORK/$1.in fout=$WORK/$1.out line fdi fdo name=$1
	shift
	mkfifo "$fin" "$fout"
	env "$@" "$MAPLOOP" <"$fin" >"$fout" 2>/dev/null &
	PIDS+=("$!")
	printf -v "ML_${name}_PID" %s "$!"
	exec {fdi}>"$fin" {fdo}<"$fout"
	printf -v "ML_${name}_IN" %s "$fdi"
	printf -v "ML_${name}_OUT" %s "$fdo"
	read -r -t 10 line <&"$fdo" || fail "maploop did not start"
	[ "${line% *}" = ready ] || fail "maploop said: $line"
}

# ml COMMAND [TICKS_FILE]: tick lines (heavy) go to TICKS_FILE. ml_send and ml_wait are
# its halves, to do something else while the command runs.
ml() {
	ml_send "$1"
	ml_wait "${2:-}"
}
ml_send() { echo "$1" >&"$ML_IN"; }
ml_wait() {
	local line
	while read -r -t 600 line <&"$ML_OUT"; do
		case $line in
		tick*) [ -z "${1:-}" ] || echo "$line" >>"$1" ;;
		error*) fail "maploop: $line" ;;
		*) REPLY=$line; return 0 ;;
		esac
	done
	fail "maploop stopped answering"
}

# field NAME LINE: the value of NAME=... in a line of key=value words.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }

# wait_file FILE PID SECONDS: FILE appears while PID lives (0), or not (1).
wait_file() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ -e "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stop_wait PID [SIGNAL]: signal it and wait for it to exit (its status is returned).
stop_wait() {
	local rc=0
	kill "-${2:-INT}" "$1" 2>/dev/null || true
	wait "$1" || rc=$?
	forget "$1"
	return $rc
}

# Options that make a capture probe every map write all the time, as the full-handler
# benchmarks need: "--budget off" where mapwatch has a budget (it did not always).
full_capture_opts() {
	if "$MW" capture --help 2>/dev/null | grep -q -- '--budget'; then echo "--budget off"; fi
}

# ---- real servers (tools/real-servers.sh installs them) ----
# shellcheck source=../real-servers-lib.sh
. "$top/tools/real-servers-lib.sh"

# bench_prometheus BINARY: an instance of our own on 127.0.0.1 with a data dir in WORK,
# scraping itself every second; sets SPID and URLS (what ab requests). Waits until it serves.
bench_prometheus() {
	local bin=$1 d=$WORK/prometheus i
	"$top/tools/real-servers.sh" >&2 || fail "tools/real-servers.sh"
	apt_need apache2-utils curl
	[ -x "$bin" ] || fail "$bin is not there"
	mkdir -p "$d"
	start_prometheus "$d" "$bin" || fail "no free port"
	PIDS+=("$SPID")
	for ((i = 0; i < 200; i++)); do
		serving && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.2
	done
	fail "prometheus did not serve: $(tail -2 "$d/server.log" | tr '\n' ' ')"
}

# start_load SECONDS: ab (niced) on every URL, 8 connections in all, bounded by SECONDS and 10^7
# requests; sets LOADPIDS.
start_load() {
	local c=$((8 / ${#URLS[@]})) i
	LOADPIDS=()
	for i in "${!URLS[@]}"; do
		# -t before -n: ab's -t resets the request count; -l: dynamic pages vary in length
		nice -n 19 ab -l -q -t "$1" -n 10000000 -c "$c" "${URLS[$i]}" >"$WORK/ab.$i" 2>&1 &
		LOADPIDS+=($!)
		PIDS+=($!)
	done
}

stop_load() {
	local p
	for p in "${LOADPIDS[@]}"; do stop_wait "$p" INT || true; done
}

# The Debian prometheus (bookworm, Go 1.19, stripped): a large stripped binary and a busy server.
export PROMETHEUS=${MW_BENCH_PROMETHEUS:-/usr/bin/prometheus}

# ---- the map-write loop, unprobed and under each kind of probe (bench_handler, bench_bpftrace) ----
# Each sets CPU and WALL (ns per loop op: the loop thread's CPU time, and wall time) and HITS
# (probe hits the tool counted while attached; the loop is all the target does meanwhile).

OPS=${MW_BENCH_OPS:-100000}		# map writes per probed run (~1.5 s probed)
BASE_OPS=${MW_BENCH_BASE_OPS:-2000000}	# per unprobed run (~30 ms)

loop_ns() {	# OPS: run the loop, set CPU and WALL per op
	ml "loop $1"
	CPU=$(calc "$(field cpu_ns "$REPLY") / $1")
	WALL=$(calc "$(field wall_ns "$REPLY") / $1")
}

run_unprobed() { loop_ns "$BASE_OPS"; HITS=0; }

# run_mwbench SUB [ARG...]: mwbench SUB on maploop while the loop runs; HITS from its "hits" line
# (entry + RET).
run_mwbench() {
	local p rdy=$WORK/$1.ready out=$WORK/$1.out
	rm -f "$rdy"
	"$MWBENCH" "$1" -p "$MLPID" -r "$rdy" "${@:2}" >"$out" 2>&1 &
	p=$!
	PIDS+=("$p")
	wait_file "$rdy" "$p" 30 || fail "mwbench $1 did not attach: $(cat "$out")"
	loop_ns "$OPS"
	stop_wait "$p" INT || fail "mwbench $1 failed: $(cat "$out")"
	HITS=$(awk '/^hits/ { split($2, e, "="); split($3, r, "="); print e[2] + r[2] }' "$out")
}

run_empty() { run_mwbench empty "$@"; }	# [-f]: the entry alone, at the first instruction

# mapwatch's own tally probes (the entry-only write count): mwbench tally.
run_tally() { run_mwbench tally; }

run_mapwatch() {
	local p rdy=$WORK/mw.ready j=$WORK/mw.json
	rm -f "$rdy" "$j"
	# shellcheck disable=SC2046
	"$MW" capture -p "$MLPID" -d 3600 --lock-baseline 0 $(full_capture_opts) \
		--ready-file "$rdy" --json "$j" >"$WORK/mw.out" 2>"$WORK/mw.err" &
	p=$!
	PIDS+=("$p")
	wait_file "$rdy" "$p" 60 || fail "mapwatch did not attach: $(tail -3 "$WORK/mw.err")"
	loop_ns "$OPS"
	stop_wait "$p" INT || fail "mapwatch capture failed: $(tail -3 "$WORK/mw.err")"
	HITS=$(jq '[.overhead.probes[] | select(.function == "runtime.mapassign_fast64") |
		    .entry_hits + .ret_hits] | add' "$j")
}

# bpftrace's entry-only count on the symbol (it probes the function's first instruction).
run_bpftrace() {
	local p out=$WORK/bt.out i
	: >"$out"
	bpftrace -e "uprobe:$MAPLOOP:runtime.mapassign_fast64 { @n = count(); }" >"$out" 2>&1 &
	p=$!
	PIDS+=("$p")
	for ((i = 0; i < 600; i++)); do
		grep -q '^Attaching' "$out" && break
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^Attaching' "$out" || ! kill -0 "$p" 2>/dev/null; then
		fail "bpftrace did not attach: $(grep -v RLIMIT "$out" | tail -3)"
	fi
	sleep 0.2	# "Attaching" is printed just before it attaches
	loop_ns "$OPS"
	stop_wait "$p" INT || fail "bpftrace failed: $(grep -v RLIMIT "$out" | tail -3)"
	HITS=$(awk '/^@n:/ { print $2 }' "$out")
	[ -n "$HITS" ] || fail "bpftrace printed no count: $(grep -v RLIMIT "$out" | tail -3)"
}

# per_hit KIND [ARG...]: one unprobed run, then KIND; sets PH (ns of loop-thread CPU per hit), PHW (wall),
# HPO (hits per op).
per_hit() {
	local ucpu uwall
	run_unprobed
	ucpu=$CPU uwall=$WALL
	"run_$1" "${@:2}"
	[ "${HITS:-0}" -gt 0 ] || fail "$1: no probe hit counted"
	HPO=$(calc "$HITS / $OPS")
	PH=$(calc "($CPU - $ucpu) * $OPS / $HITS")
	PHW=$(calc "($WALL - $uwall) * $OPS / $HITS")
	printf '  %-22s %9.1f ns/op (unprobed %.1f), %.3f hits/op: %7.0f ns/hit CPU, %7.0f ns/hit wall\n' \
		"$1 ${*:2}" "$CPU" "$ucpu" "$HPO" "$PH" "$PHW"
}

# alternate ROUNDS KIND...: ROUNDS rounds of per_hit for each KIND in turn (a KIND with its
# arguments is one word, e.g. "empty -f"); sets MEDIAN[KIND], ns of loop-thread CPU per hit.
declare -A MEDIAN
alternate() {
	local r k rounds=$1
	local -A all=()
	shift
	for ((r = 1; r <= rounds; r++)); do
		echo "round $r:"
		for k in "$@"; do
			# shellcheck disable=SC2086
			per_hit $k
			all[$k]+="$PH "
		done
	done
	for k in "$@"; do
		# shellcheck disable=SC2086,SC2034  # MEDIAN is read by the scripts
		MEDIAN[$k]=$(median ${all[$k]})
	done
}

# loop_bench [PKG...]: what the per-hit benchmarks share: the tools (and PKGs), maploop running.
# shellcheck disable=SC2120
loop_bench() {
	machine
	need_tools
	apt_need jq "$@"
	need_maploop
	start_maploop
	log "maploop PID $MLPID; mapwatch capture $(full_capture_opts) --lock-baseline 0 (the full handler)"
}
