// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Uprobes on the Go runtime's map-write functions.
 *
 * One program fires at the entry of a function (just after its stack check when user space
 * found one), another at each of its RET instructions: uretprobes rewrite the return address
 * on the goroutine stack, which Go moves and walks, so they are never used. The attach cookie
 * carries the probe-point index. Calls in flight are keyed by (tgid, goid, function): a
 * goroutine can park inside a write and resume on another thread.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "mapwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct inflight_key {
	__u32 tgid;
	__u32 fn;
	__u64 goid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct mw_target_cfg);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct mw_write_rec);
} inflight SEC(".maps");

/* The record is too large for the BPF stack: build it here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mw_write_rec);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MW_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* resized by user space before load */
} events SEC(".maps");

/* Wake user space only when this many bytes are waiting; it also polls on a timer. */
const volatile __u64 wakeup_bytes = 64 * 1024;

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

static __always_inline int read_goid(struct pt_regs *ctx, const struct mw_target_cfg *cfg,
				     __u64 *goid)
{
	return bpf_probe_read_user(goid, sizeof(*goid), (void *)(ctx->r14 + cfg->goid_off));
}

SEC("uprobe")
int BPF_KPROBE(mw_entry)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct inflight_key key = { .tgid = pid_tgid >> 32, .fn = bpf_get_attach_cookie(ctx) };
	struct mw_target_cfg *cfg;
	struct mw_write_rec *r, *old;
	__u32 zero = 0;
	long n;

	stat_inc(MW_STAT_ENTRY_HITS);
	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg) {
		stat_inc(MW_STAT_NO_TARGET);
		return 0;
	}
	if (read_goid(ctx, cfg, &key.goid))
		key.goid = 0;

	/* A prologue that went through morestack re-enters here: keep one record. */
	old = bpf_map_lookup_elem(&inflight, &key);
	if (old && old->map == ctx->bx) {
		old->entries++;
		stat_inc(MW_STAT_REENTRY);
		return 0;
	}

	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	r->type = MW_REC_WRITE;
	r->tgid = key.tgid;
	r->fn = key.fn;
	r->flags = 0;
	r->goid = key.goid;
	r->map = ctx->bx;
	r->maptype = ctx->ax;
	r->caller = 0;
	bpf_probe_read_user(&r->caller, sizeof(r->caller), (void *)ctx->sp);
	r->tid_entry = (__u32)pid_tgid;
	r->tid_ret = 0;
	r->entries = 1;
	r->t_ret = 0;
	if (bpf_probe_read_user(r->hdr_before, sizeof(r->hdr_before), (void *)r->map))
		__builtin_memset(r->hdr_before, 0, sizeof(r->hdr_before));
	else if (cfg->writing_off < MW_HDR_BYTES &&
		 (r->hdr_before[cfg->writing_off & (MW_HDR_BYTES - 1)] & cfg->writing_mask))
		r->flags |= MW_F_WRITING_AT_ENTRY;

	n = bpf_get_stack(ctx, r->stack, sizeof(r->stack), BPF_F_USER_STACK);
	r->nstack = n < 0 ? (__s32)n : (__s32)(n / sizeof(__u64));
	if (n > 0)
		r->flags |= MW_F_STACK;
	r->t_entry = bpf_ktime_get_ns();

	if (bpf_map_update_elem(&inflight, &key, r, BPF_ANY))
		stat_inc(MW_STAT_INFLIGHT_FULL);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(mw_ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct inflight_key key = { .tgid = pid_tgid >> 32, .fn = bpf_get_attach_cookie(ctx) };
	struct mw_target_cfg *cfg;
	struct mw_write_rec *in, *r;
	__u64 flags;

	stat_inc(MW_STAT_RET_HITS);
	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	if (read_goid(ctx, cfg, &key.goid))
		key.goid = 0;
	in = bpf_map_lookup_elem(&inflight, &key);
	if (!in) {
		stat_inc(MW_STAT_RET_NO_ENTRY);
		return 0;
	}

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(MW_STAT_RB_DROPS);
		bpf_map_delete_elem(&inflight, &key);
		return 0;
	}
	__builtin_memcpy(r, in, sizeof(*r));
	r->t_ret = bpf_ktime_get_ns();
	r->tid_ret = (__u32)pid_tgid;
	if (bpf_probe_read_user(r->hdr_after, sizeof(r->hdr_after), (void *)r->map))
		__builtin_memset(r->hdr_after, 0, sizeof(r->hdr_after));
	bpf_map_delete_elem(&inflight, &key);

	flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(r, flags);
	return 0;
}

/*
 * Calibration: user space times calls of one of its own functions with this program on it
 * (an uprobe trap costs the same whatever the program does, within a few percent).
 */
SEC("uprobe")
int BPF_KPROBE(mw_calib)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	return bpf_map_lookup_elem(&targets, &tgid) ? 1 : 0;
}
