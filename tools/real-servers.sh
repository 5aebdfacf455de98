#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real Go servers from Debian's archive, for tests/integration/test_real_servers.sh.
# Idempotent and quiet when everything is present. Needs root (apt-get) only to install.
#
#   tools/real-servers.sh [DIR]     DIR defaults to .output/servers
#
# Installed from bookworm (built with Go 1.19), their services never started:
#   prometheus, caddy; apache2-utils (ab, the load generator) and curl
# Unpacked, not installed, into DIR/PKG.SUITE/ (apt-get download + dpkg-deb -x):
#   prometheus from trixie           (Go 1.24, Swiss maps)
#   caddy from trixie-backports      (Go 1.26, Swiss maps)
# The extra suites are the ones tools/setup-deps.sh configures (pinned low); this script
# adds them the same way if they are missing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/.output/servers}

INSTALL_PKGS=(prometheus caddy apache2-utils curl)
UNPACK=(prometheus:trixie caddy:trixie-backports)

log() { printf 'real-servers: %s\n' "$*" >&2; }

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'
}

unpacked() {	# PKG SUITE: the unpacked binary is there and records its version
	local d=$out/$1.$2
	[ -s "$d/VERSION" ] && [ -x "$d/usr/bin/$1" ]
}

missing=()
for p in "${INSTALL_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
unpack=()
for ps in "${UNPACK[@]}"; do unpacked "${ps%%:*}" "${ps#*:}" || unpack+=("$ps"); done
[ ${#missing[@]} -eq 0 ] && [ ${#unpack[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	log "missing: ${missing[*]} ${unpack[*]}; run as root: sudo $0"
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -qq -o DPkg::Lock::Timeout=900)

# The suites, exactly as tools/setup-deps.sh adds them (it is the one place that knows how).
suites_ok() {
	apt-cache policy 2>/dev/null | grep -q ' trixie-backports/main amd64' &&
		apt-cache policy 2>/dev/null | grep -q ' trixie/main amd64'
}
if [ ${#unpack[@]} -gt 0 ] && ! suites_ok; then
	log "adding the pinned suites (tools/setup-deps.sh)"
	"$top/tools/setup-deps.sh" >/dev/null
	suites_ok || "${APT[@]}" update >/dev/null
fi

if [ ${#missing[@]} -gt 0 ]; then
	"${APT[@]}" update >/dev/null
	log "installing ${missing[*]} (services not started)"
	"$top/tools/apt-nostart.sh" "${missing[@]}"
fi

for ps in "${unpack[@]}"; do
	p=${ps%%:*} s=${ps#*:}
	d=$out/$p.$s
	tmp=$(mktemp -d /tmp/real-servers.XXXXXX)
	log "unpacking $p from $s into $d"
	# -o APT::Sandbox::User=root: the _apt user cannot write into a root-owned temp dir.
	(cd "$tmp" && "${APT[@]}" -o APT::Sandbox::User=root download "$p/$s" >/dev/null 2>&1) ||
		{ log "apt-get download $p/$s failed"; rm -rf "$tmp"; exit 1; }
	deb=$(ls "$tmp"/"${p}"_*.deb)
	rm -rf "$d"
	mkdir -p "$d"
	dpkg-deb -x "$deb" "$d"
	dpkg-deb -f "$deb" Version >"$d/VERSION"
	rm -rf "$tmp"
	[ -x "$d/usr/bin/$p" ] || { log "$deb has no usr/bin/$p"; exit 1; }
done
exit 0
