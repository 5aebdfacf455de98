# SPDX-License-Identifier: MIT
# mapwatch daemon as an operator runs it: started first, then Go programs with planted problems
# (several toolchains at once, hmap and Swiss) are found as they start; their series appear in
# /metrics with the right creation sites, the findings gauge shows the planted kinds and nothing
# on a clean program; a program that exits loses its series; one that dies of "concurrent map
# writes" leaves a report naming the map and both sites; a real Prometheus scrapes it; SIGHUP
# re-reads the config; bad input gets one clear line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../../tools/real-servers-lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
FAILED=
trap '' PIPE	# a fixture that died: writing to its pipe fails, and the test goes on
notok() { echo "not ok - $*"; FAILED=1; }
S=$WORK/state
# Fixtures run under names of their own (the rules match on them, and nothing else here).
fixture() {	# NAME TOOLCHAIN: a copy of the findings fixture called NAME
	cp "$MW_FIXTURES/$2/findings.pie-stripped" "$WORK/$1"
}
# start_named DIR NAME MODE [ENV=V...]: a fixture behind a handshake (lib.sh's, with env)
start_named() {
	local d=$1 name=$2 mode=$3
	shift 3
	mkdir -p "$d"
	mkfifo "$d/in"
	env "$@" "$WORK/$name" "$mode" <"$d/in" >"$d/fix.out" 2>&1 &
	PIDS+=("$!")
	eval "${name//[-.]/_}_pid=$!"
	exec {fd}>"$d/in"
	eval "${name//[-.]/_}_fd=$fd"
	wait_until 10 grep -q '^ready' "$d/fix.out"
}
go_named() {	# NAME: let it run its mode
	local v="${1//[-.]/_}_fd"
	echo go >&"${!v}"
}
pid_of() { local v="${1//[-.]/_}_pid"; echo "${!v}"; }

scrape() { curl -sf --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$WORK/m.txt"; }
# has_series REGEX: the last scrape has a sample line matching it (anchored at the start)
has_series() { grep -Eq "^$1" "$WORK/m.txt"; }
scrape_has() { scrape && has_series "$1"; }

# --- bad input: one line each ---------------------------------------------------------------
"$MW" daemon --comm x --bogus >"$WORK/e1.out" 2>&1
st=$?
check "unknown flag: status 2, one line" test "$st" = 2 -a "$(wc -l <"$WORK/e1.out")" = 1
"$MW" daemon --comm x --listen 127.0.0.1 >"$WORK/e2.out" 2>&1
st=$?
check "bad listen address: status 2, one line naming it" \
	test "$st" = 2 -a "$(wc -l <"$WORK/e2.out")" = 1 -a -n "$(grep -F '127.0.0.1' "$WORK/e2.out")"
"$MW" daemon >"$WORK/e3.out" 2>&1
st=$?
check "no rule: status 2, one line saying which options" \
	test "$st" = 2 -a "$(wc -l <"$WORK/e3.out")" = 1 -a -n "$(grep -F -- '--comm' "$WORK/e3.out")"
BUSYPORT=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' \
	"$BUSYPORT" &
PIDS+=("$!")
wait_until 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BUSYPORT" 2>/dev/null
timeout 20 "$MW" daemon --comm x --listen "127.0.0.1:$BUSYPORT" --state-dir "$WORK/s0" \
	>"$WORK/e4.out" 2>&1
st=$?
check "port in use: status 1, one line saying so" \
	test "$st" = 1 -a "$(wc -l <"$WORK/e4.out")" = 1 -a -n "$(grep -i 'in use' "$WORK/e4.out")"
printf 'comm = x\nbudget = lots\n' >"$WORK/bad.conf"
"$MW" daemon --config "$WORK/bad.conf" >"$WORK/e5.out" 2>&1
st=$?
check "bad config file: status 2, one line with file:line" \
	test "$st" = 2 -a "$(wc -l <"$WORK/e5.out")" = 1 -a -n "$(grep -F 'bad.conf:2' "$WORK/e5.out")"

# --- --check: what would be watched, and why not ---------------------------------------------
fixture dchk 1.26
cp /bin/sleep "$WORK/dnotgo"
"$WORK/dnotgo" 60 &
PIDS+=("$!")
start_named "$WORK/chk" dchk control
"$MW" daemon --comm dchk --comm dnotgo --check >"$WORK/check.out" 2>&1
st=$?
check "--check: status 0" test "$st" = 0
check "--check: the Go program would be watched" grep -Eq "^watch +$(pid_of dchk) dchk " "$WORK/check.out"
check "--check: the program that is not Go is named, with why not" \
	grep -Eq "^skip .* dnotgo .*not.*Go" "$WORK/check.out"
kill "$(pid_of dchk)"

# --- the daemon, then the programs ---------------------------------------------------------
for n in drace:1.22 dleak:1.26 dshrink:1.24-noswiss dclean:1.27 dexit:1.25 dcrash:1.23 \
	dlate:1.21 dnew:1.25-noswiss; do
	fixture "${n%%:*}" "${n#*:}"
done
ln -s dleak "$WORK/dleak2"	# a second process of the same file (parsed once, its own load address)
PORT=$(free_port)
printf '# the test config\ncomm drace\ncomm = dleak\ncomm dleak2\ncomm dshrink\ncomm dclean\ncomm dexit\ncomm dcrash\ncomm dnotgo\n' \
	>"$WORK/mw.conf"
"$MW" daemon --config "$WORK/mw.conf" --listen "127.0.0.1:$PORT" --state-dir "$S" \
	--interval 4 >"$WORK/d.out" 2>&1 &
DPID=$!
PIDS+=("$DPID")
check "the daemon says it is ready, with its address" \
	wait_until 30 grep -q "daemon ready.*127.0.0.1:$PORT/metrics" "$WORK/d.out"
check "/metrics answers, with no target yet" scrape_has "mapwatch_targets 0"

start_named "$WORK/leak" dleak leak CONTEND_FOR=60s
start_named "$WORK/leak2" dleak2 leak CONTEND_FOR=60s
start_named "$WORK/shrink" dshrink shrunk CONTEND_FOR=60s
start_named "$WORK/clean" dclean control CONTEND_FOR=60s
start_named "$WORK/exit" dexit control CONTEND_FOR=60s
# the programs are watched before they make their maps (their creation is what names them)
for n in dleak dleak2 dshrink dclean dexit; do
	wait_until 20 grep -q "watching PID $(pid_of $n) " "$WORK/d.out"
done
check "every program started after the daemon is watched, once (no exec seen twice)" \
	test "$(grep -c '^mapwatch: watching PID' "$WORK/d.out")" = 5 -a "$(grep -c 'ran exec' "$WORK/d.out")" = 0
for n in dleak dleak2 dshrink dclean dexit; do go_named $n; done

p=$(pid_of dleak)
check "go1.26 (Swiss) leak: unbounded_growth in the findings gauge within 30 s" \
	wait_until 30 scrape_has "mapwatch_findings\{pid=\"$p\",kind=\"unbounded_growth\"\} [1-9]"
check "  ...its map's series are labelled by creation site (main.newLeakyCache) and type" \
	has_series "mapwatch_map_entries\{pid=\"$p\",function=\"main.newLeakyCache\",file=\"[^\"]*main.go\",line=\"$(site_line leak-make findings)\",type=\"map\[string\]\[\]uint8\"\} [1-9]"
check "  ...and count its writes by op" \
	has_series "mapwatch_map_writes_total\{pid=\"$p\",function=\"main.newLeakyCache\",.*op=\"assign\"\} [1-9]"
p=$(pid_of dleak2)
# (its own creation site if the make probes were on when it made the map: under the budget they
# may be in a window then, and the map is labelled by type alone)
check "a second process of the same executable (PIE, loaded elsewhere): its own series, its leak found" \
	wait_until 20 bash -c "curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >'$WORK/m.txt' &&
		grep -Eq '^mapwatch_map_entries\{pid=\"$p\",.*type=\"map\[string\]\[\]uint8\"\} [1-9]' '$WORK/m.txt' &&
		grep -Eq '^mapwatch_findings\{pid=\"$p\",kind=\"unbounded_growth\"\} [1-9]' '$WORK/m.txt'"
# Two writers racing (racecrash before its second line); the runtime's own check may kill it
# first (then its series go with it): up to three runs, like the findings test.
for run in 1 2 3; do
	start_named "$WORK/race$run" drace racecrash
	wait_until 20 grep -q "watching PID $(pid_of drace) " "$WORK/d.out"
	go_named drace
	p=$(pid_of drace)
	wait_until 30 bash -c "curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >'$WORK/m.txt' &&
		grep -Eq '^mapwatch_findings\{pid=\"$p\",kind=\"concurrent_write\"\} [1-9]' '$WORK/m.txt' ||
		! kill -0 $p 2>/dev/null"
	has_series "mapwatch_findings\{pid=\"$p\",kind=\"concurrent_write\"\} [1-9]" && break
	# not seen racing in time (it races now and then), or dead: it must not outlive its run,
	# or the count of programs alive below misses it
	kill -0 "$p" 2>/dev/null && echo "# run $run: no race seen in 30 s; stopped" ||
		echo "# run $run: the racing program died before a scrape showed it"
	kill -9 "$p" 2>/dev/null
	wait_exit "$p" 5
done
check "go1.22 (hmap) racing writers: concurrent_write in the findings gauge (run $run)" \
	has_series "mapwatch_findings\{pid=\"$p\",kind=\"concurrent_write\"\} [1-9]"
check "  ...and concurrent writes counted at the map's creation site (main.newRacyMap)" \
	has_series "mapwatch_map_concurrent_writes_total\{pid=\"$p\",function=\"main.newRacyMap\",.*\} [1-9]"
p=$(pid_of dshrink)
check "go1.24 noswiss (hmap) emptied map: no_shrink in the findings gauge" \
	wait_until 30 scrape_has "mapwatch_findings\{pid=\"$p\",kind=\"no_shrink\"\} [1-9]"
p=$(pid_of dclean)
check "go1.27 clean program: its series are there (probe hits), and no finding" \
	wait_until 15 bash -c "curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >'$WORK/m.txt' &&
		grep -Eq '^mapwatch_probe_hits_total\{pid=\"$p\"\} [1-9]' '$WORK/m.txt' &&
		! grep -Eq '^mapwatch_findings\{pid=\"$p\"' '$WORK/m.txt'"
check "per target: probe CPU seconds, attached seconds, lost events, target info" \
	bash -c "grep -Eq '^mapwatch_probe_cpu_seconds_total\{pid=\"$p\"\} ' '$WORK/m.txt' &&
		grep -Eq '^mapwatch_attached_seconds_total\{pid=\"$p\"\} ' '$WORK/m.txt' &&
		grep -Eq '^mapwatch_lost_events_total\{pid=\"$p\"\} ' '$WORK/m.txt' &&
		grep -Eq '^mapwatch_target_info\{pid=\"$p\",exe=\"$WORK/dclean\",go_version=\"go1.27' '$WORK/m.txt'"
cpu=$(sed -n "s/^mapwatch_probe_cpu_seconds_total{pid=\"$(pid_of dleak)\"} //p" "$WORK/m.txt")
t=$(($(date +%s) - $(stat -c %Y "$WORK/leak/fix.out")))
check "probe CPU of the leaking program ($cpu s over ~$t s) within its 1% budget (+20%)" \
	awk -v c="$cpu" -v t="$t" 'BEGIN { exit !(c != "" && c <= 0.012 * t) }'
alive() { local n c=0; for n in "$@"; do kill -0 "$(pid_of "$n")" 2>/dev/null && c=$((c + 1)); done; echo $c; }
n=$(alive drace dleak dleak2 dshrink dclean dexit)
check "one target per program alive ($n)" wait_until 10 scrape_has "mapwatch_targets $n"
scrape
promtool check metrics <"$WORK/m.txt" >"$WORK/promtool.out" 2>&1
st=$?
check "promtool check metrics on a live scrape: no error, no lint problem" \
	test "$st" = 0 -a ! -s "$WORK/promtool.out"
[ -s "$WORK/promtool.out" ] && sed 's/^/    /' "$WORK/promtool.out" | head -5

# A program that exits loses its series.
p=$(pid_of dexit)
kill "$p"
check "a program that exits: its series are gone" \
	wait_until 15 bash -c "curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >'$WORK/m2.txt' &&
		! grep -q 'pid=\"$p\"' '$WORK/m2.txt' &&
		grep -q '^mapwatch_targets $(alive drace dleak dleak2 dshrink dclean)\$' '$WORK/m2.txt'"

# A real Prometheus scrapes the daemon, and PromQL finds a mapwatch series.
if command -v prometheus >/dev/null; then
	PP=$(free_port)
	mkdir -p "$WORK/prom"
	cat >"$WORK/prom/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: mapwatch
	    static_configs:
	      - targets: ['127.0.0.1:$PORT']
	EOF
	prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
		--web.listen-address="127.0.0.1:$PP" >"$WORK/prom/log" 2>&1 &
	PIDS+=("$!")
	q="http://127.0.0.1:$PP/api/v1/query?query=mapwatch_findings%7Bkind%3D%22unbounded_growth%22%7D"
	check "a real Prometheus scrapes the daemon: PromQL returns mapwatch_findings{kind=\"unbounded_growth\"}" \
		wait_until 40 bash -c "curl -sf --max-time 5 '$q' | jq -e '.data.result | length >= 1' >/dev/null"
	check "  ...and the scrape target is up" \
		wait_until 10 bash -c "curl -sf --max-time 5 'http://127.0.0.1:$PP/api/v1/query?query=up%7Bjob%3D%22mapwatch%22%7D' |
			jq -e '.data.result[0].value[1] == \"1\"' >/dev/null"
else
	notok "prometheus is not installed (tools/setup-deps.sh installs it)"
fi

# A program that dies of "concurrent map writes" leaves a report naming the map and both sites.
# It races now and then until the daemon has seen it (the gauge), then flat out until the
# runtime kills it: the evidence is what the daemon saw before.
start_named "$WORK/crash" dcrash racecrash
wait_until 20 grep -q "watching PID $(pid_of dcrash) " "$WORK/d.out"
go_named dcrash
p=$(pid_of dcrash)
# (the runtime may kill it while it races: its report is then the evidence all the same)
check "go1.23: the racing program's concurrent_write is in the gauge (or it died already)" \
	wait_until 40 bash -c "curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >'$WORK/m.txt' &&
		grep -Eq '^mapwatch_findings\{pid=\"$p\",kind=\"concurrent_write\"\} [1-9]' '$WORK/m.txt' ||
		! kill -0 $p 2>/dev/null"
go_named dcrash
check "go1.23: the program dies of concurrent map writes" \
	wait_until 60 bash -c "grep -q 'concurrent map writes' '$WORK/crash/fix.out' && ! kill -0 $p 2>/dev/null"
check "  ...and leaves a fatal report in the state dir" \
	wait_until 10 bash -c "ls '$S'/mapwatch-*-$p-fatal.json"
r=$(ls "$S"/mapwatch-*-"$p"-fatal.json 2>/dev/null | head -1)
check "  ...that says the target died of it" \
	jq_true "$r" '.target_died.message == "concurrent map writes"'
sites=$(jq -r '[.findings[] | select(.kind == "concurrent_write")][0] | [.sites[].function] | unique | join(" ")' "$r" 2>/dev/null)
check "  ...both writers' sites: $sites" bash -c "[[ '$sites' == *main.racyA* && '$sites' == *main.racyB* ]]"
check "  ...and the map (its address, made in main.newRacyMap)" \
	jq_true "$r" '[.findings[] | select(.kind == "concurrent_write")][0] |
		(.map != null) and (.summary | test("made in main.newRacyMap"))'
"$MW" report "$r" >"$WORK/report.txt" 2>&1
check "  ...readable with mapwatch report" \
	grep -q 'concurrent_write.*main.racy' "$WORK/report.txt"

# SIGHUP: the config file is read again; a program it now names is watched.
echo "comm dlate" >>"$WORK/mw.conf"
kill -HUP "$DPID"
check "SIGHUP: configuration reloaded" wait_until 10 grep -q "configuration reloaded" "$WORK/d.out"
check "  ...the programs watched stay watched (not taken for new ones)" \
	bash -c "sleep 1; ! grep -q 'no longer watched: it ran exec' '$WORK/d.out'"
start_named "$WORK/late" dlate control CONTEND_FOR=30s
check "  ...a program the new config names (go1.21) is watched" \
	wait_until 20 grep -q "watching PID $(pid_of dlate) " "$WORK/d.out"
go_named dlate
echo "budget = lots" >>"$WORK/mw.conf"
kill -HUP "$DPID"
check "SIGHUP with a bad config: one line, the daemon keeps the old one and runs on" \
	wait_until 10 bash -c "grep -q 'SIGHUP: .*mw.conf.*keeping' '$WORK/d.out' && kill -0 $DPID"
start_named "$WORK/new" dnew control CONTEND_FOR=30s
"$WORK/dnotgo" 30 &
PIDS+=("$!")
ng=$!
check "a program a rule names that is not Go: one line saying so" \
	wait_until 10 grep -q "not watching PID $ng (dnotgo, $WORK/dnotgo): not a Go program" "$WORK/d.out"
check "  ...counted in mapwatch_attach_errors_total{reason=\"not_go\"}" \
	wait_until 10 scrape_has 'mapwatch_attach_errors_total\{reason="not_go"\} [1-9]'
# A Go program that exits at once (an unknown mode): whenever the daemon gets to it, one line,
# and it runs on.
fixture dquick 1.26
sed -i '/budget = lots/d' "$WORK/mw.conf"
echo "comm dquick" >>"$WORK/mw.conf"
kill -HUP "$DPID"
wait_until 10 bash -c "[ \$(grep -c 'configuration reloaded' '$WORK/d.out') -ge 2 ]"
for i in 1 2 3 4 5; do "$WORK/dquick" nosuchmode >/dev/null 2>&1; done
check "Go programs that exit as they start: one line each, and the daemon runs on" \
	wait_until 10 bash -c "[ \$(grep -Ec 'PID [0-9]+ (\\(dquick\\) )?(exited before it could be watched|exited while its probes|no longer watched: exited)' '$WORK/d.out') -ge 5 ] && kill -0 $DPID &&
		curl -sf --max-time 5 http://127.0.0.1:$PORT/metrics >/dev/null"
check "a program no rule names is not watched" \
	bash -c "sleep 2; ! grep -q 'watching PID $(pid_of dnew) ' '$WORK/d.out'"

# A state dir it cannot write: one line, and it runs on (metrics still served).
PORT2=$(free_port)
touch "$WORK/notadir"
"$MW" daemon --comm dnew --listen "127.0.0.1:$PORT2" --state-dir "$WORK/notadir/state" \
	>"$WORK/d2.out" 2>&1 &
D2=$!
PIDS+=("$D2")
check "a state dir it cannot write: one line, and it runs on" \
	wait_until 30 bash -c "grep -q 'daemon ready' '$WORK/d2.out' &&
		grep -q 'cannot write to the state dir' '$WORK/d2.out' && kill -0 $D2 &&
		curl -sf --max-time 5 http://127.0.0.1:$PORT2/metrics | grep -q '^mapwatch_targets 1'"
kill -TERM "$D2"
wait_exit "$D2" 20

# SIGTERM: everything detached, status 0, within seconds.
t0=$SECONDS
kill -TERM "$DPID"
wait_exit "$DPID" 30
check "SIGTERM: exits 0 within 10 s" test "$STATUS" = 0 -a $((SECONDS - t0)) -le 10
check "  ...saying it detaches every target" grep -q "no longer watched: stopping" "$WORK/d.out"
p=$(pid_of dleak)
check "  ...and the watched programs run on" kill -0 "$p"
grep -q "^mapwatch: " "$WORK/d.out" && grep "^mapwatch: " "$WORK/d.out" | grep -v "watching\|ready\|no longer\|report written\|reloaded\|SIGHUP\|detaching" | sed 's/^/    unexpected: /' | head -5
[ -n "$FAILED" ] && sed 's/^/    # daemon: /' "$WORK/d.out" | grep -v "budget " | tail -40
exit 0
