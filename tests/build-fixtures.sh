#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build every Go fixture with every installed toolchain, in every flavour the tests use:
#   OUT/<go>/<fixture>.<flavour>   flavours: plain stripped pie pie-stripped cgo cgo-pie-stripped
# (every flavour for the writes fixture, stripped PIE for the others)
# <go> is a release from tools/go-toolchains, e.g. "1.27", or "1.24-noswiss"
# (GOEXPERIMENT=noswissmap,nosynchashtriemap).
# Builds are cached (GOCACHE under OUT) and skipped when the binary is newer than its source.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/.output/fixtures}
mkdir -p "$out"
export GOCACHE="$out/gocache" GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off GOFLAGS=

# Every release in tools/go-toolchains, and its bucket-map variant where it still has one
# (the same rule as tools/gen-offsets/gen-offsets).
toolchains() {
	local v g
	for v in $(awk '/^[0-9]/ { print $1 }' "$top/tools/go-toolchains" | sort -V); do
		g=/usr/lib/go-$v
		[ -x "$g/bin/go" ] || continue
		echo "$v"
		[ -d "$g/src/internal/runtime/maps" ] && [ -e "$g/src/runtime/map_noswiss.go" ] &&
			echo "$v-noswiss"
	done
	return 0
}

build_one() {	# go-variant fixture flavour
	local gv=$1 fx=$2 fl=$3 v=${1%-noswiss} exp= flags=() cgo=0
	local src="$top/tests/fixtures/$fx/main.go" bin="$out/$gv/$fx.$fl"
	[ "$gv" != "$v" ] && exp=noswissmap,nosynchashtriemap
	[ -f "$bin" ] && [ "$bin" -nt "$src" ] && return 0
	case $fl in
	plain) ;;
	stripped) flags=(-ldflags=-s\ -w) ;;
	pie) flags=(-buildmode=pie) ;;
	pie-stripped) flags=(-buildmode=pie -ldflags=-s\ -w) ;;
	cgo) cgo=1 flags=(-ldflags=-linkmode=external) ;;
	cgo-pie-stripped) cgo=1 flags=(-buildmode=pie -ldflags=-linkmode=external\ -s\ -w) ;;
	esac
	mkdir -p "$out/$gv"
	if ! CGO_ENABLED=$cgo GOEXPERIMENT=$exp "/usr/lib/go-$v/bin/go" build "${flags[@]}" \
		-o "$bin.tmp" "$src" 2>"$bin.log"; then
		echo "build-fixtures: go$gv $fx.$fl failed:" >&2
		cat "$bin.log" >&2
		return 1
	fi
	mv "$bin.tmp" "$bin"
	rm -f "$bin.log"
}
export -f build_one
export top out

# A listed release that is not installed would drop out of every test unnoticed.
missing=$(awk '/^[0-9]/ { print $1 }' "$top/tools/go-toolchains" |
	while read -r v; do [ -x "/usr/lib/go-$v/bin/go" ] || printf ' go%s' "$v"; done)

jobs=()
for gv in $(toolchains); do
	for fx in $(cd "$top/tests/fixtures" && ls); do
		# the readers are tested on every flavour of "writes"; other fixtures need one
		fls="pie-stripped"
		[ "$fx" = writes ] && fls="plain stripped pie pie-stripped cgo cgo-pie-stripped"
		for fl in $fls; do
			jobs+=("$gv $fx $fl")
		done
	done
done
echo "build-fixtures: ${#jobs[@]} Go binaries in $out (cached)" >&2
printf '%s\n' "${jobs[@]}" | xargs -P "$(nproc)" -L 1 bash -c 'build_one "$@"' _
toolchains >"$out/toolchains"
if [ -n "$missing" ]; then
	echo "build-fixtures: not installed:$missing (tools/go-toolchains; tools/setup-deps.sh installs them)" >&2
	exit 1
fi
