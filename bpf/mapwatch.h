/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records and configuration shared by bpf/mapwatch.bpf.c and user space.
 * Fixed-width types only; every ring-buffer record starts with its type.
 */
#ifndef MAPWATCH_H
#define MAPWATCH_H

#define MW_HDR_BYTES 64		/* raw map header copied before and after a write */
#define MW_STACK_DEPTH 16	/* user frames taken at entry (frame pointers) */
#define MW_MSG_BYTES 96		/* runtime.fatal message */
#define MW_MAX_FN 64		/* probe-point indexes are below this (user space checks) */
#define MW_MAX_TARGETS 64	/* processes one BPF object watches at once (mw_target_cfg.slot) */

enum mw_rec_type {
	MW_REC_CALL = 1,	/* one completed call: entry + RET paired by goroutine */
	MW_REC_OVERLAP,		/* a write began while another goroutine's write was in flight */
	MW_REC_FATAL,		/* runtime.fatal was called: the target is about to die */
	MW_REC_TALLY,		/* writes counted in BPF (struct mw_tally_rec): made by user space
				 * from the tally table, not sent through the ring buffer */
};

/*
 * The attach cookie of a probe says what the probed function is:
 *   bits 0-7   probe-point index (user space's catalogue)
 *   bits 8-9   register holding the object (map header, mutex) at entry: MW_REG_*
 *   bit 10     a map write: check for concurrent writers at entry
 *   bit 11     runtime.fatal: report at entry, the function never returns
 *   bit 12     the object is the result (RAX at RET), e.g. makemap
 *   bit 13     runtime.gopanic: the goroutine unwinds; calls it has in flight never return
 *   bits 14-16 cost class (user space's MW_CLASS_*): probes of one class are attached and
 *              detached together, and each class has its own generation number
 */
enum { MW_REG_NONE = 0, MW_REG_RAX, MW_REG_RBX, MW_REG_RCX };
#define MW_CK_FN(c) ((c) & 0xff)
#define MW_CK_REG(c) (((c) >> 8) & 3)
#define MW_CK_WRITE (1u << 10)
#define MW_CK_FATAL (1u << 11)
#define MW_CK_RESULT (1u << 12)
#define MW_CK_UNWIND (1u << 13)
#define MW_CK_CLASS(c) (((c) >> 14) & (MW_CLASSES - 1))
#define MW_CLASSES 8
/*
 * A tally probe (the entry of a map write, counted in BPF: mw_tally) has the probe-point
 * index of its write plus MW_FN_TALLY, so that its hits are counted apart.
 */
#define MW_FN_TALLY 48

/* Per-CPU counters, index into the "stats" array. */
enum mw_stat {
	MW_STAT_ENTRY_HITS = 0,	/* entry probes that fired */
	MW_STAT_RET_HITS,	/* RET probes that fired */
	MW_STAT_RB_DROPS,	/* ring buffer full: record lost */
	MW_STAT_RET_NO_ENTRY,	/* RET without a matching entry (attached mid-call, or its
				 * class switched off for a detach: off_mask) */
	MW_STAT_INFLIGHT_FULL,	/* in-flight table full: call not recorded (a loss) */
	MW_STAT_REENTRY,	/* entry fired again for an in-flight call (morestack) */
	MW_STAT_NO_TARGET,	/* probe hit in a process with no configuration */
	MW_STAT_WRITERS_FULL,	/* writer table full: that write not checked for overlap */
	MW_STAT_UNWOUND,	/* in-flight calls dropped because their goroutine panicked */
	MW_STAT_STALE,		/* in-flight or writer entries of an older window, dropped */
	MW_STAT_GOID_FAIL,	/* goroutine id unreadable: call not paired, not checked */
	MW_STAT_HDR_FAIL,	/* header unreadable at entry or RET: flagged, not zeros */
	MW_STAT_TALLY_FULL,	/* tally table full: a write not counted (a loss) */
	MW_STAT__MAX,
};

/* Filled by user space per target process (key: tgid) before probes attach. */
struct mw_target_cfg {
	__u32 goid_off;		/* offset of goid in runtime.g (g is in R14) */
	__u32 writing_off;	/* header byte holding the "being written" flag */
	__u8 writing_mask;	/* bits of that byte that mean "being written" */
	__u8 _pad[3];
	__u32 stack_lo_off;	/* runtime.g.stack.lo, .hi: the goroutine's stack bounds */
	__u32 stack_hi_off;
	/*
	 * Per cost class, bumped by user space each time it (re)attaches that class's probes: an
	 * in-flight or writer entry of an older generation may have lost its RET to a detach and
	 * is never trusted. (Per class: a lock wait in flight survives a window of map probes.)
	 */
	__u32 gen[MW_CLASSES];
	/*
	 * Classes being detached (bit per class): their entry probes record nothing more, so
	 * that their entries and RETs can be closed at once (the kernel takes tens of ms to close
	 * a link, and its breakpoints trap on meanwhile).
	 */
	__u32 off_mask;
	/* Index of this process's counters (fn_hits, lost) below MW_MAX_TARGETS: user space's. */
	__u32 slot;
	__u32 seed_off;		/* header bytes holding the hash seed: */
	__u32 seed_bytes;	/* 4 (hmap's hash0) or 8 (Swiss) */
};

#define MW_F_STACK 0x1		/* stack[] holds nstack frames */
#define MW_F_WRITING_AT_ENTRY 0x2	/* write flag already set at entry */
#define MW_F_ON_STACK 0x4		/* the object lies on the goroutine's stack */
#define MW_F_HDR_BEFORE_BAD 0x8		/* hdr_before could not be read: not a header */
#define MW_F_HDR_AFTER_BAD 0x10		/* hdr_after could not be read */
#define MW_F_STACK_KNOWN 0x20	/* no stack taken: this (map, caller) pair's first write had it */

/* A (map, caller) pair whose stack was taken (LRU: a pair evicted is taken again). */
struct mw_pair_key {
	__u32 tgid;
	__u32 _pad;
	__u64 map;
	__u64 caller;
};

/*
 * Writes counted in BPF, at entry alone, per (process, probe point, map, seed, immediate
 * caller): the cheap way to watch writes (one trap, no record). The value is per CPU; user
 * space sums the CPUs, takes the latest header, and deletes the entry as it reads it.
 */
#define MW_TALLY_ENTRIES 16384	/* (map, seed, caller) tallies BPF holds between reads */

struct mw_tally_key {
	__u32 tgid;
	__u32 fn;		/* the write's probe-point index (not + MW_FN_TALLY) */
	__u64 map;
	__u64 seed;
	__u64 caller;		/* return address at [RSP] on entry */
	__u32 flags;		/* MW_F_ON_STACK */
	__u32 _pad;
};

struct mw_tally_val {
	__u64 n;		/* writes */
	__u64 t_first, t_last;	/* bpf_ktime_get_ns() of the first and the last */
	__u64 maptype;		/* RAX at the last entry (the register of the map type) */
	__u8 hdr[MW_HDR_BYTES];	/* the header at the last entry (before that write) */
};

/* One tally, summed over CPUs, as user space hands it to the model (MW_REC_TALLY). */
struct mw_tally_rec {
	__u32 type;		/* MW_REC_TALLY */
	__u32 tgid;
	struct mw_tally_key k;
	struct mw_tally_val v;
};

struct mw_call_rec {
	__u32 type;		/* MW_REC_CALL */
	__u32 tgid;
	__u32 fn;		/* probe-point index (user space's table) */
	__u32 flags;		/* MW_F_* */
	__u64 goid;
	__u64 obj;		/* map header or mutex (register from the cookie, or result) */
	__u64 ax, bx;		/* RAX, RBX at entry (map type, size hint, ...) */
	__u64 ret;		/* RAX at RET */
	__u64 caller;		/* return address at [RSP] on entry */
	__u64 t_entry;		/* bpf_ktime_get_ns() */
	__u64 t_ret;
	__u32 tid_entry;
	__u32 tid_ret;
	__u32 entries;		/* entry hits for this call (>1: morestack re-entry) */
	__s32 nstack;		/* frames in stack[], or negative error */
	__u32 gen;		/* mw_target_cfg.gen at entry */
	__u32 _pad;
	__u64 stack[MW_STACK_DEPTH];
	__u8 hdr_before[MW_HDR_BYTES];
	__u8 hdr_after[MW_HDR_BYTES];
};

/* Sent at once, with a wakeup: the runtime may kill the target a moment later. */
struct mw_overlap_rec {
	__u32 type;		/* MW_REC_OVERLAP */
	__u32 tgid;
	__u64 map;
	__u64 maptype;		/* RAX at the second writer's entry */
	__u64 t;
	__u32 fn_first, fn_second;
	__u64 goid_first, goid_second;	/* goid_first 0: unknown (flag set, writer unseen) */
	__u64 caller_first, caller_second;
	__u64 t_first;
	__u32 flag_set;		/* the map's write flag was set at the second entry */
	__s32 nstack;		/* the second writer's stack */
	__u64 stack[MW_STACK_DEPTH];
};

struct mw_fatal_rec {
	__u32 type;		/* MW_REC_FATAL */
	__u32 tgid;
	__u64 goid;
	__u64 caller;
	__u64 t;
	__s32 nstack;
	__u32 msg_len;
	__u64 stack[MW_STACK_DEPTH];
	char msg[MW_MSG_BYTES];
};

#endif /* MAPWATCH_H */
