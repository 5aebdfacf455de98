#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Write the fuzzers' seed corpora into OUT (default .output/fuzz/seeds), one directory per
# harness, cut from the Go fixtures by mkseeds (tests/fuzz/mkseeds.c): small Go ELF files
# with the structure of each toolchain's binaries, their function tables and build info, the
# ring-buffer records of a capture of them, and its report. Also OUT/fuzz-target.elf, the
# binary fuzz_ingest symbolises against (MW_FUZZ_GOBIN). Needs tests/build-fixtures.sh and
# make .output/tools/mkseeds.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/.output/fuzz/seeds}
fx=${MW_FIXTURES:-$top/.output/fixtures}
mkseeds=$top/.output/tools/mkseeds

[ -x "$mkseeds" ] || { echo "seeds: $mkseeds missing (make fuzzers)" >&2; exit 1; }
[ -s "$fx/toolchains" ] || { echo "seeds: no fixtures in $fx (tests/build-fixtures.sh)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
for g in $(cat "$fx/toolchains"); do
	"$mkseeds" "$fx/$g/writes.stripped" "$out" "$g"
	newest=$g
done
cp "$out/$newest-target.elf" "$out/fuzz-target.elf"
