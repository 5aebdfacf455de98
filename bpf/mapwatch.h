/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records and configuration shared by bpf/mapwatch.bpf.c and user space.
 * Fixed-width types only; every ring-buffer record starts with its type.
 */
#ifndef MAPWATCH_H
#define MAPWATCH_H

#define MW_HDR_BYTES 64		/* raw map header copied before and after a write */
#define MW_STACK_DEPTH 16	/* user frames taken at entry (frame pointers) */
#define MW_MAX_FUNCS 64		/* probe-point indices carried in the attach cookie */

enum mw_rec_type {
	MW_REC_WRITE = 1,	/* one completed map write: entry + RET paired by goroutine */
};

/* Per-CPU counters, index into the "stats" array. */
enum mw_stat {
	MW_STAT_ENTRY_HITS = 0,	/* entry probes that fired */
	MW_STAT_RET_HITS,	/* RET probes that fired */
	MW_STAT_RB_DROPS,	/* ring buffer full: record lost */
	MW_STAT_RET_NO_ENTRY,	/* RET without a matching entry (attached mid-call) */
	MW_STAT_INFLIGHT_FULL,	/* in-flight table full: entry not recorded */
	MW_STAT_REENTRY,	/* entry fired again for an in-flight call (morestack) */
	MW_STAT_NO_TARGET,	/* probe hit in a process with no configuration */
	MW_STAT__MAX,
};

/* Filled by user space per target process (key: tgid) before probes attach. */
struct mw_target_cfg {
	__u32 goid_off;		/* offset of goid in runtime.g (g is in R14) */
	__u32 writing_off;	/* header byte holding the "being written" flag */
	__u8 writing_mask;	/* bits of that byte that mean "being written" */
	__u8 _pad[7];
};

#define MW_F_STACK 0x1		/* stack[] holds nstack frames */
#define MW_F_WRITING_AT_ENTRY 0x2	/* write flag already set at entry */

struct mw_write_rec {
	__u32 type;		/* MW_REC_WRITE */
	__u32 tgid;
	__u32 fn;		/* probe-point index (user space's table) */
	__u32 flags;		/* MW_F_* */
	__u64 goid;
	__u64 map;		/* map header address (RBX at entry) */
	__u64 maptype;		/* map type descriptor (RAX at entry) */
	__u64 caller;		/* return address at [RSP] on entry */
	__u64 t_entry;		/* bpf_ktime_get_ns() */
	__u64 t_ret;
	__u32 tid_entry;
	__u32 tid_ret;
	__u32 entries;		/* entry hits for this call (>1: morestack re-entry) */
	__s32 nstack;		/* frames in stack[], or negative error */
	__u64 stack[MW_STACK_DEPTH];
	__u8 hdr_before[MW_HDR_BYTES];
	__u8 hdr_after[MW_HDR_BYTES];
};

#endif /* MAPWATCH_H */
