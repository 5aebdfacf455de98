// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmarks' baseline handler (tools/bench/bench_handler.sh): attached to the same probe
 * points as mapwatch's, it does nothing but count its hits (one per-CPU array increment), so
 * that what mapwatch's handler adds to the cost of a uprobe trap can be told apart from the
 * trap itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* [0] entry hits, [1] RET hits */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &idx);

	if (v)
		*v += 1;
	return 0;
}

SEC("uprobe.multi")
int BPF_KPROBE(empty_entry)
{
	return count(0);
}

SEC("uprobe.multi")
int BPF_KPROBE(empty_ret)
{
	return count(1);
}
