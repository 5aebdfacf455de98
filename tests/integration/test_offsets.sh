# SPDX-License-Identifier: MIT
# probes/layouts.def is what the toolchains of tools/go-toolchains say (regenerated from their
# DWARF, then compared), and every listed release has its default row.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
for v in $(awk '/^[0-9]/ { print $1 }' "$top/tools/go-toolchains"); do
	check "go$v: installed and in the catalogue (probes/layouts.def)" bash -c \
		"[ -x /usr/lib/go-$v/bin/go ] && grep -q '^LAYOUT(${v#1.}, \"\", .*/\\* go$v\\.[0-9]* \\*/\$' '$top/probes/layouts.def'"
done
check "probes/layouts.def matches a fresh tools/gen-offsets run" \
	"$top/tools/gen-offsets/gen-offsets" --check
