# SPDX-License-Identifier: MIT
# PC -> file:line from our pclntab reader agrees with `go tool objdump` for every instruction
# of the user's functions and of the runtime's map functions, every toolchain (binaries with
# symbols: objdump needs them; stripped twins are compared to these in unit/test_pclntab).
. "$(dirname "$0")/lib.sh"

resolve=${MW_TOOLS:?}/tool_resolve
for go in $(toolchains); do
	for fl in plain pie cgo; do
		bin=$MW_FIXTURES/$go/writes.$fl
		if [ "$go" = 1.19 ] && [ "$fl" = pie ]; then
			# go1.19's objdump prints ":0" for every PC of a relocated table
			echo "skip - go$go $fl: go1.19 objdump cannot read this binary's line table"
			continue
		fi
		/usr/lib/go-${go%-noswiss}/bin/go tool objdump -s '^(main\.|runtime\.map)' "$bin" |
			awk '$1 ~ /:[0-9]+$/ && $2 ~ /^0x/ { print $2, $1 }' >"$WORK/want"
		awk '{ print $1 }' "$WORK/want" | "$resolve" "$bin" | awk '{ print $1, $2 }' >"$WORK/got"
		n=$(wc -l <"$WORK/want")
		bad=$(paste -d' ' "$WORK/want" "$WORK/got" | awk '$2 != $4' | wc -l)
		check "go$go $fl: $n PCs resolve to objdump's file:line (mismatches: $bad)" \
			test "$n" -gt 2000 -a "$bad" = 0
	done
done
