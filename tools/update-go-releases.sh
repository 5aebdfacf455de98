#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bring mapwatch up to the Go releases Debian ships: find every golang-1.NN-go (NN >= 19) that
# the configured suites offer (tools/setup-deps.sh --suites adds and pins them), install or
# upgrade each from its suite (apt-get install -t SUITE), rewrite tools/go-toolchains,
# regenerate the offsets catalogue (probes/layouts.def) from the toolchains' DWARF, update the
# release list in README.md, then build and run every test, whose matrix is that list.
# Adding a Go release is running this (as root) and committing what it changed.
#
#   tools/update-go-releases.sh             everything above (`make catalogue` runs this)
#   tools/update-go-releases.sh --no-test   stop after the catalogue and README
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/tools/go-toolchains
min_minor=19
run_tests=1
case "${1:-}" in
--no-test) run_tests=0 ;;
"") ;;
*) echo "usage: $0 [--no-test]" >&2; exit 2 ;;
esac
log() { printf 'update-go-releases: %s\n' "$*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
	log "needs root (apt-get): sudo $0"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# 1. What the suites offer: for each golang-1.NN-go, the suite that has its newest version.
"$top/tools/setup-deps.sh" --suites
found=()
for pkg in $(apt-cache search --names-only '^golang-1\.[0-9]+-go$' | awk '{ print $1 }'); do
	v=${pkg#golang-}
	v=${v%-go}
	[ "${v#1.}" -ge "$min_minor" ] || continue
	best= suite=
	# "golang-1.27-go | 1.27.4-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages"
	while IFS='|' read -r _ ver src; do
		ver=$(echo $ver)
		s=$(echo "$src" | awk '{ print $2 }')
		s=${s%%/*}
		if [ -z "$best" ] || dpkg --compare-versions "$ver" gt "$best"; then
			best=$ver suite=$s
		fi
	done < <(apt-cache madison "$pkg")
	[ -n "$suite" ] || continue
	found+=("$v $suite")
	log "go$v: $best from $suite"
done
if [ "${#found[@]}" -eq 0 ]; then
	log "no golang-1.NN-go package found in the configured suites"
	exit 1
fi

# 2. The list the rest of the project reads.
{
	sed -n '/^#/p' "$list"
	printf '%s\n' "${found[@]}" | sort -V
} >"$list.new"
mv "$list.new" "$list"

# 3. Install or upgrade each, pinned to its suite.
while read -r v s; do
	log "installing golang-$v-go from $s"
	apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends -t "$s" \
		"golang-$v-go" >/dev/null
done < <(awk '/^[0-9]/' "$list")

# 4. The catalogue, from every listed toolchain's DWARF.
"$top/tools/gen-offsets/gen-offsets"

# 5. README: the release range and the table of releases, between their markers.
perl -e '
	my ($list, $layouts, $readme) = @ARGV;
	my (@rel, %suite, %rows);
	open(my $l, "<", $list) or die "$list: $!";
	while (<$l>) { next unless /^(\d+)\.(\d+)\s+(\S+)/; push @rel, $2; $suite{$2} = $3; }
	open(my $t, "<", $layouts) or die "$layouts: $!";
	while (<$t>) {
		next unless /^LAYOUT\((\d+), "([^"]*)".*\/\* (go\S+)/;
		push @{ $rows{$1} }, $2 eq "" ? "`$3`" : "`$3` `$2`";
	}
	my %have = map { $_ => 1 } @rel;
	my @gaps = grep { !$have{$_} } $rel[0] .. $rel[-1];
	my $range = "Go 1.$rel[0] to 1.$rel[-1]";
	$range .= " (" . join(", ", map { "1.$_" } @gaps) . " not in the catalogue yet)" if @gaps;
	my $table = "| release | Debian suite | catalogue rows (the patch release the offsets were read from) |\n"
		. "|---|---|---|\n";
	$table .= "| 1.$_ | $suite{$_} | " . join(", ", @{ $rows{$_} || ["**none: run tools/gen-offsets/gen-offsets**"] }) . " |\n"
		for @rel;
	local $/;
	open(my $r, "<", $readme) or die "$readme: $!";
	my $s = <$r>;
	close $r;
	$s =~ s/(<!--go-range-->).*?(<!--\/go-range-->)/$1$range$2/s or die "README: no go-range marker\n";
	$s =~ s/(<!--go-releases-->\n).*?(<!--\/go-releases-->)/$1$table$2/s or die "README: no go-releases marker\n";
	open(my $w, ">", "$readme.new") or die; print $w $s; close $w;
	rename "$readme.new", $readme or die;
' "$list" "$top/probes/layouts.def" "$top/README.md"

log "releases: $(awk '/^[0-9]/ { printf "%s ", $1 }' "$list")"
git -C "$top" status --short -- tools/go-toolchains probes/layouts.def README.md >&2 || true

# 6. Build and run every test (every per-toolchain test runs over the new list).
if [ "$run_tests" = 1 ]; then
	make -C "$top" test
	log "commit tools/go-toolchains, probes/layouts.def and README.md if the tests passed"
fi
