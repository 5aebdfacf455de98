# SPDX-License-Identifier: MIT
# The metrics exposition (user/metrics.c) as Prometheus itself reads it: promtool parses and
# lints what tests/unit/tool_metrics prints (every family, escaped labels, the "_other" fold).
. "$(dirname "$0")/lib.sh"

if ! command -v promtool >/dev/null; then
	notok "promtool is not installed (tools/setup-deps.sh installs prometheus for it)"
	exit 0
fi
"$MW_TOOLS/tool_metrics" >"$WORK/metrics.txt"
check "tool_metrics prints an exposition" grep -q '^mapwatch_targets 2$' "$WORK/metrics.txt"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1
st=$?
check "promtool check metrics: no error, no lint problem" test "$st" = 0 -a ! -s "$WORK/promtool.out"
[ "$st" = 0 ] || cat "$WORK/promtool.out"
# A control: the same check fails on a label value with a raw newline, so it does read values.
sed 's/exe="\/opt\/odd\\nname"/exe="\/opt\/odd\nname"/' "$WORK/metrics.txt" >"$WORK/broken.txt"
check "promtool rejects a raw newline in a label value (control)" \
	bash -c '! promtool check metrics <"$1" >/dev/null 2>&1' _ "$WORK/broken.txt"
