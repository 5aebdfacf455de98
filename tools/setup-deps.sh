#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install everything mapwatch needs to build and test, from Debian's packages only.
# Idempotent and quiet when everything is present. Needs root (apt-get).
#
#   tools/setup-deps.sh            build deps + fuzzer runtime + every Go toolchain the tests use
#   tools/setup-deps.sh --build    build deps only (what `make` needs)
#   tools/setup-deps.sh --fuzz     build deps and clang's libFuzzer runtime (what `make fuzz` needs)
#   tools/setup-deps.sh --demo     build deps and the newest Go (what `make demo` needs)
#   tools/setup-deps.sh --suites   the pinned Go suites, and fresh package lists (what
#                                  tools/update-go-releases.sh searches)
set -euo pipefail

want_go=1 want_fuzz=1
case "${1:-}" in
--build) want_go=0 want_fuzz=0 ;;
--fuzz) want_go=0 ;;
--demo) want_go=newest want_fuzz=0 ;;
--suites) want_go=suites want_fuzz=0 ;;
esac

# Go toolchains, version:suite, from tools/go-toolchains. Pinned low suites are used only
# with -t SUITE.
GO_VERSIONS=()
while read -r v s _; do
	case $v in '' | '#'*) continue ;; esac
	GO_VERSIONS+=("$v:$s")
done <"$(dirname "$0")/go-toolchains"

BUILD_PKGS=(clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcapstone-dev libdw-dev libjson-c-dev libglib2.0-dev jq
	    libmicrohttpd-dev libsystemd-dev pkg-config make gcc binutils)

# Only the tests need these: systemd for systemd-analyze (the unit file), python3-yaml for
# the deployment examples, util-linux for setpriv (discovery with only the unit's capabilities).
TEST_PKGS=(graphviz util-linux perl systemd python3-yaml)
# promtool (test_metrics_format) ships only in the prometheus package, whose server must not
# start: installed through tools/apt-nostart.sh.
TEST_PKGS_NOSTART=(prometheus)

log() { printf 'setup-deps: %s\n' "$*" >&2; }

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			printf '%s\n' "$p"
	done
}

if [ "$(id -u)" -ne 0 ]; then
	m=$(missing_pkgs "${BUILD_PKGS[@]}")
	[ -z "$m" ] && exit 0
	log "missing packages: $(echo $m); run as root: sudo $0"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	log "apt-get update"
	apt-get -qq -o DPkg::Lock::Timeout=900 update >/dev/null
	updated=1
}

# Extra suites, pinned to priority 1 so nothing is upgraded from them unless asked with -t.
add_suites() {
	local list=/etc/apt/sources.list.d/mapwatch-go.sources pref=/etc/apt/preferences.d/mapwatch-go
	if [ ! -f "$list" ]; then
		cat >"$list" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		updated=0
	fi
	if [ ! -f "$pref" ]; then
		cat >"$pref" <<'PIN'
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: *
Pin: release n=trixie-backports
Pin-Priority: 1
PIN
	fi
}

if [ "$want_go" = suites ]; then
	add_suites
	updated=0
	apt_update
	exit 0
fi

m=$(missing_pkgs "${BUILD_PKGS[@]}")
if [ -n "$m" ]; then
	apt_update
	log "installing $(echo $m)"
	apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $m >/dev/null
fi

# libbpf >= 1.3 attaches a window of uprobes as one uprobe_multi link (opened and closed in one
# call); bookworm has 1.1, bookworm-backports 1.4: installed from there, like the toolchains.
if ! pkg-config --atleast-version=1.3 libbpf 2>/dev/null; then
	add_suites
	apt_update
	log "installing libbpf 1.4 from bookworm-backports"
	apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends \
		-t bookworm-backports libbpf-dev libbpf1 >/dev/null
fi

# libFuzzer and the sanitizer runtimes of the installed clang (tests/fuzz/): Debian ships them
# apart, as libclang-rt-<major>-dev (bookworm's clang is 14).
if [ "$want_fuzz" = 1 ]; then
	v=$(clang -dumpversion | cut -d. -f1)
	m=$(missing_pkgs "libclang-rt-$v-dev")
	if [ -n "$m" ]; then
		apt_update
		log "installing $m"
		apt-get -qq install -y --no-install-recommends $m >/dev/null
	fi
fi

if [ "$want_go" = newest ]; then
	GO_VERSIONS=("${GO_VERSIONS[-1]}")
	want_go=1
fi
if [ "$want_go" = 1 ]; then
	m=$(missing_pkgs "${TEST_PKGS[@]}")
	if [ -n "$m" ]; then
		apt_update
		log "installing $(echo $m)"
		apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends $m >/dev/null
	fi
	m=$(missing_pkgs "${TEST_PKGS_NOSTART[@]}")
	if [ -n "$m" ]; then
		apt_update
		log "installing $(echo $m) (services not started)"
		"$(dirname "$0")/apt-nostart.sh" $m
	fi
	need=()
	for vs in "${GO_VERSIONS[@]}"; do
		v=${vs%%:*}
		[ -x "/usr/lib/go-$v/bin/go" ] || need+=("$vs")
	done
	if [ "${#need[@]}" -gt 0 ]; then
		add_suites
		apt_update
		for vs in "${need[@]}"; do
			v=${vs%%:*} s=${vs#*:}
			log "installing golang-$v-go from $s"
			apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends -t "$s" "golang-$v-go" >/dev/null
		done
	fi
fi
exit 0
