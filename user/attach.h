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

struct attach_closer;

struct attach {
	struct mapwatch_bpf *skel;
	struct ring_buffer *rb;
	struct attach_link *links;
	int nlinks;
	pid_t pid;
	struct mw_target_cfg cfg;	/* as last written to BPF (generations) */
	record_fn cb;			/* records (the ring buffer's, and tallies) go to cb(ctx) */
	void *cb_ctx;
	struct attach_closer *closer;	/* closes detached links off the caller's thread */
	struct _GThreadPool *shared_pool;	/* the owner's closing threads (attach_share) */
	int stats_fd;			/* keeps BPF run-time stats on; -1 if refused */
	bool multi;		/* uprobe_multi links (kernel >= 6.6); else one link per uprobe */
	bool shared;		/* skel and rb are another attach's (attach_share) */
	int slot;		/* this process's counters in BPF (below MW_MAX_TARGETS) */
	uint64_t lost0;		/* the slot's lost count when it was taken */
	double last_attach_s, last_detach_s;	/* wall time of the last attach / detach */
};

/*
 * Probe sets, attached separately: one per cost class (user/probes.h). The lock slow paths
 * (and fatal, panic) cost a trap only when a goroutine waits or dies; the map functions trap on
 * every write and stretch the critical sections they run in, so lock waits are measured
 * without them (before they go on, and between their windows).
 */
#define ATTACH_SET(cls) (1 << (cls))
enum attach_set {
	ATTACH_CORE = ATTACH_SET(MW_CLASS_CORE),	/* runtime.fatal, runtime.gopanic */
	ATTACH_LOCKS = ATTACH_SET(MW_CLASS_LOCK),	/* mutex and semaphore slow paths */
	ATTACH_MAKE = ATTACH_SET(MW_CLASS_MAKE),	/* map creation, growth, sync.Map rebuilds */
	ATTACH_WRITES = ATTACH_SET(MW_CLASS_WRITE),	/* map writes */
	ATTACH_SYNCOPS = ATTACH_SET(MW_CLASS_SYNCOP),	/* sync.Map writes */
	ATTACH_TALLY = ATTACH_SET(MW_CLASS_TALLY),	/* map writes counted in BPF at entry */
	ATTACH_MAPS = ATTACH_MAKE | ATTACH_WRITES | ATTACH_SYNCOPS | ATTACH_TALLY,
	ATTACH_ALL = ATTACH_CORE | ATTACH_LOCKS | ATTACH_MAPS,
};
/* The sets with links attached now (not being closed). */
int attach_sets(const struct attach *a);
/* Which set a probe point belongs to (a map write's tally probe is ATTACH_TALLY as well). */
int attach_set_of(int probe_id);

/* Open and load the BPF object. Returns an MW_EXIT_* status; message in err. */
int attach_load(struct attach *a, size_t ringbuf_bytes, record_fn cb, void *ctx, char *err,
		size_t errlen);
/*
 * One loaded object watches many processes (the daemon): a, for one more of them, uses
 * owner's BPF object and ring buffer, and the counters of slot (1..MW_MAX_TARGETS-1; each
 * process watched at once needs its own; 0 is a lone capture's). Closing a detaches that
 * process and removes its state from BPF; the owner is closed last.
 */
void attach_share(struct attach *a, struct attach *owner, int slot);
/* Configure the target (offsets, generation) in BPF. MW_EXIT_* status. */
int attach_configure(struct attach *a, const struct target *t, char *err, size_t errlen);
/*
 * Attach the usable probes of the plan that belong to the sets (ATTACH_* mask): every RET
 * first, then the entries, so that no call is recorded whose RET is not watched.
 * MW_EXIT_* status.
 */
int attach_target(struct attach *a, const struct target *t, const struct probe_plan *plan,
		  int sets, char *err, size_t errlen);
/*
 * Detach the probes of the sets: marked off in BPF first (their entries record nothing more),
 * then every link closed at once, on threads of their own: the kernel takes tens of ms to
 * close a link (its breakpoints trap on meanwhile), and the caller goes on.
 * attach_detach_wait() waits for the kernel to finish.
 */
void attach_detach(struct attach *a, int sets);
/* Wait until every detached link is closed. */
void attach_detach_wait(struct attach *a);
/* ... for at most timeout_s: true if they all are. */
bool attach_detach_wait_for(struct attach *a, double timeout_s);
/* Links still being closed (0: a detach has finished). */
int attach_closing(struct attach *a);

/* Callers (runtime addresses) whose writes BPF must take a stack for every time. */
void attach_deep_callers(struct attach *a, const uint64_t *callers, unsigned n);
/*
 * Read this process's tallies (writes counted in BPF) and delete them: each, summed over the
 * CPUs, goes to the record callback as an MW_REC_TALLY record. Returns how many.
 */
int attach_tally_drain(struct attach *a);
/* Wait up to timeout_ms for records; calls cb for each. Returns records or -errno. */
int attach_poll(struct attach *a, int timeout_ms);
/* Sum of the per-CPU counters. */
void attach_stats(const struct attach *a, uint64_t out[MW_STAT__MAX]);
/*
 * Hits per probe point of this attach's process (its slot), summed over CPUs: out[fn * 2]
 * entry, out[fn * 2 + 1] RET.
 */
void attach_fn_hits(const struct attach *a, uint64_t out[MW_MAX_FN * 2]);
/* Records of this attach's process lost since attach_configure (ring buffer, tables full). */
uint64_t attach_lost(const struct attach *a);
/* The ring buffer's epoll fd: readable when records wait (an event loop's, with attach_poll). */
int attach_epoll_fd(const struct attach *a);
/*
 * Detach every probe (the target runs on untouched), remove the process's state from BPF,
 * then free (the BPF object too, unless it is shared).
 */
void attach_close(struct attach *a);

/*
 * What one uprobe hit costs the target on this host, measured on the two kinds of probed
 * instruction: one the kernel emulates (PUSH reg, where Go functions are probed past their
 * stack check) and one it single-steps out of line (RET, or any other entry: two exceptions).
 * A function of our own is called with and without a probe on each; the tiny program's own
 * run time is taken off, so these are the traps alone. Seconds per hit, < 0 if unmeasured.
 */
struct hit_cost {
	double emulated_s, stepped_s;
};
struct hit_cost attach_calibrate(struct attach *a);

/*
 * The run time of mapwatch's own BPF programs, as the kernel counts it (BPF run-time stats,
 * enabled while the object is loaded): entry, RET and tally programs, ns and runs, since load.
 * false if the kernel does not count it.
 */
struct handler_time {
	uint64_t entry_ns, entry_runs, ret_ns, ret_runs;
	uint64_t tally_ns, tally_runs;	/* the tally program (map writes counted at entry) */
};
bool attach_handler_time(const struct attach *a, struct handler_time *h);

#endif
