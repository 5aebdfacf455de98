#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: build the bundled workload, start it, capture it for a few seconds, print the report.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/.output/demo
# the newest release of the catalogue (the workload is stripped: no DWARF to fall back on)
go=/usr/lib/go-$(awk '/^[0-9]/ { v = $1 } END { print v }' "$top/tools/go-toolchains")
[ -x "$go/bin/go" ] || { echo "demo: no $go (tools/setup-deps.sh --demo installs it)" >&2; exit 1; }
mkdir -p "$out"
echo "demo: building the workload with $("$go/bin/go" version | cut -d' ' -f3)" >&2
GOCACHE=$out/gocache GOTOOLCHAIN=local GO111MODULE=off GOPROXY=off \
	"$go/bin/go" build -ldflags='-s -w' -o "$out/workload" "$top/tools/demo/main.go"

"$out/workload" >"$out/workload.out" 2>&1 &
wl=$!
trap 'kill $wl 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^ready' "$out/workload.out" && break; sleep 0.1; done
sleep 2	# let its cache fill a little, as a running service's would have
echo "demo: workload running as PID $wl (stripped); capturing for 5 s" >&2
echo "demo: \$ sudo ./mapwatch capture -p $wl -d 5 --json $out/report.json" >&2
"$top/mapwatch" capture -p "$wl" -d 5 --json "$out/report.json"
echo >&2
echo "demo: JSON report in $out/report.json; re-read it with: ./mapwatch report $out/report.json" >&2
