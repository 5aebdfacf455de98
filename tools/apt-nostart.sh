#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install Debian packages without ever starting the services they ship (prometheus for its
# promtool, the real servers of tools/real-servers.sh), and disable those services so that a
# later boot does not start them either. Needs root; apt-get update is the caller's.
#
#   tools/apt-nostart.sh PKG...
set -euo pipefail
[ $# -gt 0 ] || exit 0
export DEBIAN_FRONTEND=noninteractive

# A policy-rc.d that says 101 ("action forbidden") is obeyed by invoke-rc.d and by
# deb-systemd-invoke, with or without systemd as PID 1. An existing one is put back.
prc=/usr/sbin/policy-rc.d saved=""
if [ -e "$prc" ]; then
	saved=$(mktemp /tmp/policy-rc.d.XXXXXX)
	cp -p "$prc" "$saved"
fi
restore() {
	if [ -n "$saved" ]; then mv -f "$saved" "$prc"; else rm -f "$prc"; fi
}
trap restore EXIT
printf '#!/bin/sh\nexit 101\n' >"$prc"
chmod 755 "$prc"
alog=$(mktemp /tmp/apt-nostart.XXXXXX)
if ! apt-get -qq -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "$@" >"$alog" 2>&1; then
	cat "$alog" >&2
	rm -f "$alog"
	exit 1
fi
rm -f "$alog"
restore
trap - EXIT

# Every service the packages ship, disabled (and stopped, if something started it anyway).
for p in "$@"; do
	for unit in $(dpkg -L "$p" 2>/dev/null | grep -E '^/lib/systemd/system/[^/]+\.service$' |
		      xargs -r -n1 basename); do
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$unit" >/dev/null 2>&1 || true
		else
			svc=${unit%.service}
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
			[ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		fi
	done
done
exit 0
