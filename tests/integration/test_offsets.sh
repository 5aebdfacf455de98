# SPDX-License-Identifier: MIT
# probes/layouts.def is what the installed toolchains' DWARF says (regenerated, then compared).
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
check "probes/layouts.def matches a fresh tools/gen-offsets run" \
	"$top/tools/gen-offsets/gen-offsets" --check
