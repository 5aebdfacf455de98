#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build every Go fixture with every installed toolchain, in every flavour the tests use:
#   OUT/<go>/<fixture>.<flavour>   flavours: plain stripped pie pie-stripped cgo cgo-pie-stripped
# (every flavour for the writes fixture, stripped PIE for the others)
# <go> is "1.24" or "1.24-noswiss" (GOEXPERIMENT=noswissmap,nosynchashtriemap).
# Builds are cached (GOCACHE under OUT) and skipped when the binary is newer than its source.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/.output/fixtures}
mkdir -p "$out"
export GOCACHE="$out/gocache" GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off GOFLAGS=

toolchains() {
	local v
	for v in 1.19 1.21 1.22 1.23 1.24 1.25 1.26; do
		[ -x "/usr/lib/go-$v/bin/go" ] || continue
		echo "$v"
		case $v in 1.24|1.25) echo "$v-noswiss" ;; esac
	done
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
