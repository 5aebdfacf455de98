/* SPDX-License-Identifier: MIT */
/* Which functions of a binary get probes, and at which addresses and file offsets. */
#ifndef MW_PROBEPLAN_H
#define MW_PROBEPLAN_H

#include "disasm.h"
#include "gobin/gobin.h"
#include "probes.h"

struct planned_probe {
	enum probe_id id;
	const struct go_func *fn;
	int duplicates;			/* functions sharing the name (ABI wrappers) */
	struct probe_points pts;	/* link-time addresses */
	int64_t entry_off;		/* file offsets for the uprobes */
	int64_t ret_off[DISASM_MAX_RETS];
	/*
	 * The tally probe (a map write counted at entry alone): the entry if the kernel emulates
	 * its instruction, else the stack check's jump (emulated too), else the entry.
	 */
	int64_t tally_off;
	bool tally_emulated;
	char error[160];		/* non-empty: refused, not probed */
};

struct probe_plan {
	int n;
	struct planned_probe p[PROBE__COUNT];
	int usable;			/* probes without error */
	int uprobes;			/* entry + RET uprobes to attach */
};

/* Pure over the opened binary: present catalogue functions for impl, decoded. */
void probeplan_build(const struct gobin *gb, int impl, struct probe_plan *plan);

#endif
