/* SPDX-License-Identifier: MIT */
/* The probe catalogue (the .def files in probes/) as C tables, and the layout for a binary. */
#ifndef MW_PROBES_H
#define MW_PROBES_H

#include <stdint.h>
#include "gobin/buildinfo.h"

enum mw_op {
	MW_OP_ASSIGN = 1, MW_OP_DELETE, MW_OP_CLEAR,	/* map writes */
	MW_OP_CREATE, MW_OP_GROW, MW_OP_LOCK, MW_OP_SYNCMAP, MW_OP_SYNCMAP_OP, MW_OP_FATAL,
	MW_OP_UNWIND,
};
enum { IMPL_HMAP = 1, IMPL_SWISS = 2 };

enum probe_id {
#define PROBE(id, sym, op, impls, reg, delta, treg) PROBE_##id,
#include "../probes/functions.def"
#undef PROBE
	PROBE__COUNT
};

struct probe_def {
	const char *symbol;
	enum mw_op op;
	int impls;
	int reg;		/* MW_REG_* */
	int delta;		/* object = register + delta */
	int treg;		/* MW_REG_* holding the map's type at entry (NONE: no type) */
};

static inline int op_is_write(enum mw_op op)
{
	return op == MW_OP_ASSIGN || op == MW_OP_DELETE || op == MW_OP_CLEAR;
}

/* Probed at entry alone: the call never returns (fatal) or only tells us a goroutine unwinds. */
static inline int op_entry_only(enum mw_op op)
{
	return op == MW_OP_FATAL || op == MW_OP_UNWIND;
}

/*
 * Cost classes: the probes of a class are attached and detached together (one uprobe_multi
 * link for their entries, one for their RETs), and the budget (user/budget.h) decides per
 * class whether it stays attached or runs in windows.
 *   core    runtime.fatal, runtime.gopanic: rare, and needed whenever anything is probed
 *   lock    mutex and semaphore slow paths: a trap only when a goroutine waits
 *   make    map creation and growth, sync.Map dirty-map rebuilds
 *   write   map writes: a trap on every assign, delete, clear, at entry and at each RET
 *   syncop  sync.Map writes
 *   tally   map writes again, counted in BPF at entry alone (one cheap trap, no record): the
 *           write probes' entries with another program, never attached with the write class
 *           (the budget alternates them); no probe's own class (op_class)
 */
enum mw_class { MW_CLASS_CORE, MW_CLASS_LOCK, MW_CLASS_MAKE, MW_CLASS_WRITE, MW_CLASS_SYNCOP,
		MW_CLASS_TALLY, MW_CLASS__COUNT };

static inline enum mw_class op_class(enum mw_op op)
{
	switch (op) {
	case MW_OP_FATAL:
	case MW_OP_UNWIND: return MW_CLASS_CORE;
	case MW_OP_LOCK: return MW_CLASS_LOCK;
	case MW_OP_CREATE:
	case MW_OP_GROW:
	case MW_OP_SYNCMAP: return MW_CLASS_MAKE;
	case MW_OP_SYNCMAP_OP: return MW_CLASS_SYNCOP;
	default: return MW_CLASS_WRITE;
	}
}
const char *class_name(enum mw_class c);

/* "Swap" for "internal/sync.(*HashTrieMap[...]).Swap": the method a probe stands for. */
const char *probe_method(int id);

/* The attach cookie for a probe point (see bpf/mapwatch.h). */
unsigned long long probe_cookie(int id);
/* ... for the tally probe on a map write's entry: its own hit counters, the tally class. */
unsigned long long probe_tally_cookie(int id);

extern const struct probe_def probe_defs[PROBE__COUNT];

struct go_layout {
	int minor;
	const char *experiment;
	int impl;			/* IMPL_HMAP or IMPL_SWISS */
	int goid, stack_lo, stack_hi;
	int count, writing, writing_mask, seed;
	int B, noverflow, buckets, oldbuckets, nevacuate;
	int dirptr, dirlen, globaldepth;
	int bucketsize_u16, groupsize_u64, table_capacity;
	int md_text, md_types, md_gofunc;
	int type_tflag, type_str;	/* abi.Type (runtime._type): TFlag byte, Str nameOff */
	int syncmap_dirty;		/* sync.Map.dirty; -1: HashTrieMap (Go >= 1.24) */
};

/* Bytes of a map header's hash seed: hmap's hash0 is a uint32, a Swiss map's seed a uintptr. */
static inline int layout_seed_bytes(const struct go_layout *l)
{
	return l->impl == IMPL_HMAP ? 4 : 8;
}

/*
 * The Go heap's metadata, to tell a live map from freed or reused memory (user/goheap.c):
 * mheap_.arenas -> heapArena.spans[page] -> mspan. Offsets from probes/heap.def; -1 absent.
 */
struct go_heap_layout {
	int minor;
	int arenas, sweepgen;		/* runtime.mheap */
	int ha_spans;			/* runtime.heapArena.spans */
	int sp_start, sp_npages, sp_nelems, sp_nelems_size, sp_freeindex, sp_freeindex_size;
	int sp_allocbits, sp_elemsize, sp_state, sp_sweepgen;	/* runtime.mspan */
};

/*
 * Constants of the Go heap on linux/amd64, the same in every release from 1.19 (the offsets
 * generator checks them against each toolchain's DWARF): 8 KiB pages, 64 MiB arenas indexed
 * from arenaBaseOffset in one level of 2^22 entries; span states.
 */
#define GO_PAGE_SIZE 8192
#define GO_HEAP_ARENA_BYTES (64 << 20)
#define GO_ARENA_BASE_OFFSET 0xffff800000000000ULL
#define GO_ARENA_L2_ENTRIES (1ULL << 22)
#define GO_SPAN_INUSE 1
#define GO_SPAN_MANUAL 2

/* The heap layout for a Go release (minor version), or NULL. */
const struct go_heap_layout *go_heap_layout_for(int minor);

/* The layout for a binary's Go version and experiments, or NULL (message in err). */
const struct go_layout *go_layout_for(const struct go_buildinfo *bi, char *err, size_t errlen);
/* The releases the catalogue has rows for, e.g. "go1.19, go1.21 ... go1.27"; returns buf. */
const char *go_catalogue_releases(char *buf, size_t len);
const char *impl_name(int impl);
const char *op_name(enum mw_op op);

#endif
