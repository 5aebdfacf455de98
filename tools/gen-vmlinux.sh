#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# CO-RE relocations make the committed header work on other kernels too.
set -euo pipefail
arch=${1:-x86}
out="$(dirname "$0")/../vmlinux/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
