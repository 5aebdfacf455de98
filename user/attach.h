/* SPDX-License-Identifier: MIT */
/* The only part of user space that talks to the kernel: load BPF, attach uprobes, read back. */
#ifndef MW_ATTACH_H
#define MW_ATTACH_H

#include <linux/types.h>
#include <stdint.h>
#include "../bpf/mapwatch.h"
#include "probeplan.h"
#include "target.h"

struct mapwatch_bpf;
struct ring_buffer;
struct bpf_link;

typedef int (*record_fn)(void *ctx, const void *data, size_t size);

struct attach_link {
	struct bpf_link *link;	/* one uprobe, or a whole set's entries or RETs (uprobe_multi) */
	bool entry;		/* entry probes (detached before any RET) */
	int set;		/* ATTACH_* */
};

struct attach {
	struct mapwatch_bpf *skel;
	struct ring_buffer *rb;
	struct attach_link *links;
	int nlinks;
	pid_t pid;
	bool multi;		/* uprobe_multi links (kernel >= 6.6); else one link per uprobe */
	double last_attach_s, last_detach_s;	/* wall time of the last attach / detach */
};

/*
 * Probe sets, attached separately. The lock slow paths (and fatal, panic) cost a trap only
 * when a goroutine waits or dies; the map functions trap on every write and stretch the
 * critical sections they run in, so lock waits are first measured without them.
 */
enum attach_set {
	ATTACH_LOCKS = 1,	/* mutex slow paths, runtime.fatal, runtime.gopanic */
	ATTACH_MAPS = 2,	/* map writes, creation, growth, sync.Map */
};
/* Which set a probe point belongs to. */
int attach_set_of(int probe_id);

/* Open and load the BPF object. Returns an MW_EXIT_* status; message in err. */
int attach_load(struct attach *a, size_t ringbuf_bytes, record_fn cb, void *ctx, char *err,
		size_t errlen);
/* Configure the target (offsets, generation) in BPF. MW_EXIT_* status. */
int attach_configure(struct attach *a, const struct target *t, char *err, size_t errlen);
/*
 * Attach the usable probes of the plan that belong to the sets (ATTACH_* mask): every RET
 * first, then the entries, so that no call is recorded whose RET is not watched.
 * MW_EXIT_* status.
 */
int attach_target(struct attach *a, const struct target *t, const struct probe_plan *plan,
		  int sets, char *err, size_t errlen);
/* Detach the probes of the sets (entries first, then RETs). */
void attach_detach(struct attach *a, int sets);

/* Wait up to timeout_ms for records; calls cb for each. Returns records or -errno. */
int attach_poll(struct attach *a, int timeout_ms);
/* Sum of the per-CPU counters. */
void attach_stats(const struct attach *a, uint64_t out[MW_STAT__MAX]);
/* Hits per probe point, summed over CPUs: out[fn * 2] entry, out[fn * 2 + 1] RET. */
void attach_fn_hits(const struct attach *a, uint64_t out[MW_MAX_FN * 2]);
/* Detach every probe (the target runs on untouched), then free. */
void attach_close(struct attach *a);

/*
 * Measure what one uprobe hit costs on this host, for the two kinds of probed instruction:
 * a function's entry (its first instruction is emulated) and a RET (single-stepped, two
 * exceptions). A local function is called with and without a probe on each. Seconds per
 * hit, or negative where it could not be measured.
 */
struct hit_cost {
	double entry_s, ret_s;
};
struct hit_cost attach_calibrate(struct attach *a);

#endif
