// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The benchmarks' baseline handler (tools/bench/bench_handler.sh): attached to the same probe
 * points as mapwatch's, it does nothing but count its hits (one per-CPU array increment), so
 * that what mapwatch's handler adds to the cost of a uprobe trap can be told apart from the
 * trap itself.
 *
 * pair_entry / pair_ret are the least a handler must do to pair a call's entry with its RET by
 * goroutine (what proves two writers in one map at once): read the goroutine id, insert the
 * call at the entry, find and delete it at the RET. They price that floor (mwbench empty -P).
 * count_entry is the least an entry-only write count must do: count the write by (process,
 * map, caller) in a per-CPU hash, ebpf_exporter's way (mwbench empty -e -C).
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

/* offset of goid in runtime.g (g is in R14): set by mwbench before load */
const volatile __u32 goid_off;

struct call_key {
	__u32 tgid;
	__u32 _pad;
	__u64 goid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct call_key);
	__type(value, __u64);
} calls SEC(".maps");

struct site_key {
	__u32 tgid;
	__u32 _pad;
	__u64 map;
	__u64 caller;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct site_key);
	__type(value, __u64);
} sites SEC(".maps");

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

static __always_inline int call_key(struct pt_regs *ctx, struct call_key *k)
{
	k->tgid = bpf_get_current_pid_tgid() >> 32;
	k->_pad = 0;
	k->goid = 0;
	return bpf_probe_read_user(&k->goid, sizeof(k->goid), (void *)(ctx->r14 + goid_off));
}

SEC("uprobe.multi")
int BPF_KPROBE(pair_entry)
{
	struct call_key k;
	__u64 t = bpf_ktime_get_ns();

	count(0);
	if (call_key(ctx, &k))
		return 0;
	bpf_map_update_elem(&calls, &k, &t, BPF_ANY);
	return 0;
}

SEC("uprobe.multi")
int BPF_KPROBE(pair_ret)
{
	struct call_key k;

	count(1);
	if (call_key(ctx, &k) || !bpf_map_lookup_elem(&calls, &k))
		return 0;
	bpf_map_delete_elem(&calls, &k);
	return 0;
}

SEC("uprobe.multi")
int BPF_KPROBE(count_entry)
{
	struct site_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .map = ctx->bx };
	__u64 one = 1, *v;

	count(0);
	bpf_probe_read_user(&k.caller, sizeof(k.caller), (void *)ctx->sp);
	v = bpf_map_lookup_elem(&sites, &k);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&sites, &k, &one, BPF_NOEXIST);
	return 0;
}
