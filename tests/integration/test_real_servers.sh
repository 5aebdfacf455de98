# SPDX-License-Identifier: MIT
# Real Go servers from Debian's archive (tools/real-servers.sh) and a net/http hello-world,
# each on 127.0.0.1 with a temp data dir, captured for 8 s while ab loads them (the load
# runs while the probes attach, as it does on a real service). Asserted: the server keeps
# serving (no failed request before, during or after), mapwatch exits 0 with a report
# that parses, every number in it is one a map can have (tests/integration/realsrv.jq), and
# no finding of a kind these servers do not have under this load:
#   concurrent_write    every map these servers write from several goroutines is written
#                       under its lock (net/http, context, prometheus, caddy);
#   unbounded_growth,   an 8 s ab run on a fresh server reaches a steady state: request
#   no_shrink,          maps live for one request, the long-lived ones (registries,
#   stalled_evacuation  connection pools) are bounded by the handful of URLs and clients.
# lock_contention and the throughput with and without the capture are printed, not asserted.
# Bounded: every wait has a limit, each ab run stops after SECONDS or 20000 requests.
# About 3 minutes on 2 cores, half of it mapwatch detaching its uprobes (0.2-0.5 s each).
# MW_REALSRV_KEEP=DIR keeps each server's report, text and logs.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
T0=$SECONDS
CAPTURE_S=8
LOAD_S=2	# the run without capture

if ! "$top/tools/real-servers.sh"; then
	notok "real servers: tools/real-servers.sh installs them"
	exit 0
fi
SRV=$top/.output/servers

# The hello-world fixture, built with Go 1.26 (tests/build-fixtures.sh builds it too).
HELLO=$MW_FIXTURES/1.26/hello.pie-stripped
if [ ! -x "$HELLO" ] && [ -x /usr/lib/go-1.26/bin/go ]; then
	HELLO=$WORK/hello
	GOCACHE=$MW_FIXTURES/gocache GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off GOFLAGS= \
		/usr/lib/go-1.26/bin/go build -buildmode=pie -ldflags='-s -w' -o "$HELLO" \
		"$top/tests/fixtures/hello/main.go" || HELLO=
fi

# free_port, start_prometheus / start_caddy / start_hello DIR BINARY (set SPID, URLS, READY),
# serving
. "$top/tools/real-servers-lib.sh"

# load OUT SECONDS: ab on every URL at once, 8 connections in all, at most SECONDS and
# 20000 requests each. Sets RPS (requests/s, summed). Status 0 if every request succeeded.
load() {
	local out=$1 secs=$2 c=$((8 / ${#URLS[@]})) i ok=0 pids=()
	for i in "${!URLS[@]}"; do
		# -t before -n: ab's -t resets the request count; -l: dynamic pages vary in length
		ab -l -q -t "$secs" -n 20000 -c "$c" "${URLS[$i]}" >"$out.$i" 2>&1 &
		pids+=($!)	# not in PIDS: bounded by -t and -n, and waited for here
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || ok=1
	done
	RPS=0
	for i in "${!URLS[@]}"; do
		grep -q '^Failed requests: *0$' "$out.$i" && ! grep -q '^Non-2xx' "$out.$i" &&
			[ "$(awk '/^Complete requests/ {print $3}' "$out.$i")" -gt 0 ] 2>/dev/null || ok=1
		RPS=$(awk -v a="$RPS" '/^Requests per second/ {a += $4} END {printf "%.0f", a}' "$out.$i")
	done
	[ $ok = 0 ] || echo "# $(basename "$out"): $(grep -hE '^(Failed|Non-2xx|Complete)|apr_' "$out".* | tr '\n' ' ')"
	return $ok
}

# load_until FILE OUT: ab in 1 s runs until FILE exists (the probes are attached), then one
# more; bounded by 30 s. Status 0 if every request succeeded.
load_until() {
	local f=$1 out=$2 n=0 ok=0
	while [ $n -lt 30 ]; do
		load "$out.$n" 1 || ok=1
		n=$((n + 1))
		[ -e "$f" ] && break
		kill -0 "$MWPID" 2>/dev/null || break
	done
	load "$out.$n" 1 || ok=1
	return $ok
}

# forget PID: an exited child leaves PIDS, so that cleanup never signals a reused PID.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

stop_server() {
	kill "$SPID" 2>/dev/null
	wait_exit "$SPID" 10 || true
	forget "$SPID"
}

# run NAME KIND BINARY
run() {
	local name=$1 kind=$2 bin=$3 d rps0 rps1 v r ver t0
	d=$WORK/$name
	mkdir -p "$d"
	r=$d/r.json v=$d/v.json
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		notok "$name: binary $bin is there"
		return
	fi
	t0=$SECONDS
	ver=$("$MW" info "$bin" 2>/dev/null | awk '/^go version:/ {print $3}')
	check "$name: mapwatch info reads the binary (${ver:-?})" test -n "$ver"
	if ! "start_$kind" "$d" "$bin"; then
		notok "$name: starts"
		return
	fi
	PIDS+=("$SPID")
	if ! wait_until 40 serving; then
		notok "$name: serves on 127.0.0.1 ($(tail -2 "$d/server.log" | tr '\n' ' '))"
		stop_server
		return
	fi
	ok "$name: serves on 127.0.0.1"
	echo "# $name: serving after $((SECONDS - t0)) s"
	check "$name: ab without capture, no failed request" load "$d/ab0" "$LOAD_S"
	rps0=$RPS

	# Load while the probes attach (mapwatch reads the binary first: ab already runs when
	# the first probe goes in), then a measured run inside the capture.
	t0=$SECONDS
	# (in a subshell that notes when it exited: this shell is busy with ab meanwhile; the
	# capture ends by itself after -d)
	(
		"$MW" capture -p "$SPID" -d "$CAPTURE_S" --json "$r" --ready-file "$d/attached" \
			>"$d/cap.out" 2>"$d/cap.err"
		s=$?
		date +%s.%N >"$d/exited"
		exit $s
	) &
	MWPID=$!
	PIDS+=("$MWPID")
	local okA=0 okB=0
	load_until "$d/attached" "$d/abA" || okA=1
	if [ -e "$d/attached" ]; then
		load "$d/ab1" $((CAPTURE_S - 1)) || okB=1	# ends before the capture does
		rps1=$RPS
	else
		okB=1 rps1=0
	fi
	wait_exit "$MWPID" 90
	local gone written
	gone=$(cat "$d/exited" 2>/dev/null || echo 0)
	written=$(date -r "$r" +%s.%N 2>/dev/null || echo 0)
	forget "$MWPID"
	t0=$((SECONDS - t0))
	check "$name: mapwatch capture -d $CAPTURE_S exits 0" test "$STATUS" = 0
	# Ending the capture (detaching, draining, re-reading every map) happens before the
	# report; what follows it (closing the BPF state) must not keep the user waiting.
	echo "# $name: exited $(awk -v g="$gone" -v w="$written" 'BEGIN { printf "%.2f", g - w }') s after writing its report"
	check "$name: exits within 1 s of writing its report" \
		awk -v g="$gone" -v w="$written" 'BEGIN { exit !(w > 0 && g >= w && g - w < 1) }'
	[ "$STATUS" = 0 ] || echo "# status $STATUS: $(tail -2 "$d/cap.err" | tr '\n' ' ')"
	check "$name: no failed request while the probes attach" test $okA = 0
	check "$name: no failed request during the capture" test $okB = 0
	check "$name: still serving after the capture" load "$d/ab2" 1
	check "$name: server still running" kill -0 "$SPID"
	echo "# $name: the capture took $t0 s from start to exit"
	echo "# $name: throughput $rps0 req/s without capture, $rps1 req/s during it" \
	     "($(awk -v a="$rps0" -v b="$rps1" 'BEGIN {printf "%.0f", a ? 100 * b / a : 0}')%)"
	stop_server
	if [ -n "${MW_REALSRV_KEEP:-}" ]; then
		mkdir -p "$MW_REALSRV_KEEP/$name"
		cp -r "$d"/. "$MW_REALSRV_KEEP/$name/" 2>/dev/null
	fi

	if ! jq -e '.schema == "mapwatch.capture/v1"' "$r" >/dev/null 2>&1 ||
		! jq -c -f "$(dirname "$0")/realsrv.jq" "$r" >"$v" 2>"$d/jq.err"; then
		notok "$name: the JSON report parses"
		return
	fi
	ok "$name: the JSON report parses"
	echo "# $name: $(jq -r '"\(.target.go_version), \(.maps | length) maps, \(.events.total) events, \(.events.lost) lost, \(.overhead.probe_hits) probe hits, \(.duration_s * 10 | round / 10) s"' "$r")"
	echo "# $name: findings $(jq -c .kinds "$v")"
	local rule what
	for rule in pointer len_over_capacity len_over_inserts peak_below_len bytes_vs_capacity \
		capacity_never_had evacuation_state stall_over_duration rates unwritten; do
		case $rule in
		pointer) what="no count, capacity or size is a pointer (>= 2^40)" ;;
		len_over_capacity) what="len <= capacity" ;;
		len_over_inserts) what="len <= len when first seen + inserts" ;;
		peak_below_len) what="peak_len >= len" ;;
		bytes_vs_capacity) what="bytes consistent with capacity (and B)" ;;
		capacity_never_had) what="no capacity beyond what the peak count or size hint calls for" ;;
		evacuation_state) what="stalled_evacuation on a possible state (B >= 1, nevacuate <= 2^B)" ;;
		stall_over_duration) what="no stall longer than the capture" ;;
		rates) what="rates <= the counts observed" ;;
		unwritten) what="every finding names a map written during the capture" ;;
		esac
		if jq -e ".$rule | length == 0" "$v" >/dev/null; then
			ok "$name: $what"
		else
			notok "$name: $what ($(jq ".$rule | length" "$v") maps or findings)"
			jq -r ".$rule[:3][] | \"#   \" + .[:300]" "$v"
		fi
	done
	local kind
	for kind in concurrent_write unbounded_growth no_shrink stalled_evacuation; do
		if jq -e ".kinds.$kind // 0 | . == 0" "$v" >/dev/null; then
			ok "$name: no $kind finding"
		else
			notok "$name: no $kind finding ($(jq ".kinds.$kind" "$v") raised)"
			jq -r "[.findings[] | select(.kind == \"$kind\")][:2][] | \"#   \" + .summary[:300]" "$r"
		fi
	done
	jq -r '.findings[] | select(.kind == "lock_contention") | "# \(.kind) (not asserted): \(.summary[:240])"' "$r" |
		head -3
}

run prometheus-bookworm prometheus /usr/bin/prometheus
run prometheus-trixie prometheus "$SRV/prometheus.trixie/usr/bin/prometheus"
run caddy-bookworm caddy /usr/bin/caddy
run caddy-trixie-backports caddy "$SRV/caddy.trixie-backports/usr/bin/caddy"
run hello-go1.26 hello "$HELLO"
echo "# test_real_servers: $((SECONDS - T0)) s"
