/* SPDX-License-Identifier: MIT */
/*
 * What a capture learned: maps (keyed by header address), the sites that write them, mutex
 * waits, concurrent writers, the runtime's fatal error. Pure: records in, state out; target
 * memory is read only through the reader the caller passes to model_refresh().
 */
#ifndef MW_MODEL_H
#define MW_MODEL_H

#include <glib.h>
#include <linux/types.h>
#include <stdbool.h>
#include "../bpf/mapwatch.h"
#include "goheap.h"
#include "probes.h"
#include "symbolize.h"

struct map_hdr {
	uint64_t count;
	bool writing;
	uint64_t seed;
	int B;				/* hmap; -1 otherwise */
	int noverflow;
	uint64_t buckets, oldbuckets, nevacuate;
	uint64_t dirptr;		/* Swiss */
	int64_t dirlen;			/* Swiss; -1 otherwise */
	int globaldepth;
};

/* Pure: decode a raw header with a layout. */
void map_hdr_decode(const uint8_t *raw, const struct go_layout *l, struct map_hdr *h);
/* Pure: could this header belong to a live map? (A freed or reused one often cannot.) */
bool map_hdr_plausible(const struct map_hdr *h, const struct go_layout *l);

/* What shows that a map is alive as the capture ends (lingering findings need one). */
enum mw_alive {
	MW_ALIVE_UNKNOWN = 0,	/* nothing: not judged */
	MW_ALIVE_VALID,		/* its header and tables validate and are allocated (no GC since) */
	MW_ALIVE_MARKED,	/* marked by a GC that began after mapwatch first saw it */
	MW_ALIVE_WRITTEN,	/* the program wrote it in the last part of the capture */
};
const char *mw_alive_name(enum mw_alive a);

struct mw_site {
	uint64_t pc;			/* link-time PC of the call in the user's frame */
	enum mw_op op;
	uint64_t count;
	struct frame_sym sym;
};

struct mw_overlap {
	uint64_t goid_first, goid_second;
	struct frame_sym first, second;	/* the two writers' sites */
	bool flag_set;
};

struct mw_map {
	uint64_t addr;			/* runtime address of the header */
	uint64_t maptype;		/* link-time address of the type descriptor, 0 unknown */
	char type[256];			/* "" unknown */
	bool created_seen;		/* its creation was probed */
	bool created_carried;		/* ... in an earlier epoch (model_carry): created_at known */
	bool syncmap_dirty;		/* a sync.Map's dirty map (made by dirtyLocked) */
	bool on_stack;			/* header on a goroutine stack: moves if the stack is copied */
	bool gone;			/* ended: no longer this map (end_reason says why) */
	const char *end_reason;		/* static string */
	uint64_t end_ns;
	uint64_t seed;			/* hash seed: another map at the address has another */
	bool seed_known;
	unsigned reseeds;		/* new seeds over its own tables: emptied while unwatched */
	uint32_t sg_first;		/* mheap_.sweepgen when first validated */
	bool sg_known;
	bool validated;			/* a re-read header validated at least once */
	bool alive_marked;		/* marked by a GC that began after sg_first */
	/*
	 * mheap_.sweepgen at the last re-read that found the header marked by the last GC, or
	 * allocated since its span's sweep: no sweep can free it before the next GC cycle
	 * begins, so until sweepgen moves the header is this map's, whatever its seed and tables.
	 */
	uint32_t sg_held;
	bool sg_held_known;
	/*
	 * A write found another seed over other tables after the header was seen held: this map
	 * (emptied and regrown unwatched) if the re-read that follows at once finds the header
	 * still held, else another map since then. 0: no doubt.
	 */
	uint64_t doubt_ns;
	enum mw_alive alive;		/* set by model_finish */
	uint64_t peak_ns;		/* when the count last reached a new peak */
	uint64_t made_ns;		/* creation (RET of makemap), 0 not seen */
	uint64_t last_ok_ns;		/* last write or validated re-read */
	struct frame_sym created_at;
	/* Site key: the creating call, or a stack map's first writer (| MW_MADE_ON_STACK). */
	uint64_t made_at_pc;
	struct frame_sym made_at;
	uint64_t made_maptype;		/* maptype known at creation (site key) */
	uint64_t hint;
	struct map_hdr hdr;		/* latest known */
	uint64_t hdr_ns;		/* ... as it was then: a header older is not the state now */
	bool hdr_pre_write;		/* ... read by a tally at its last write's entry: what that
					 * write did to it is not seen */
	uint64_t first_len;		/* len when first seen */
	uint64_t peak_len, max_drop;	/* max_drop: largest fall below a running peak */
	uint64_t assigns, deletes, clears, growths;	/* growths: runtime growths probed */
	int B_min;			/* hmap: the smallest B of a header taken (-1 none) */
	uint64_t inserts, removals;	/* writes that raised / lowered the count */
	uint64_t writing_at_entry;	/* writes that found the map already being written */
	uint64_t overlaps;
	struct mw_overlap overlap;	/* the first naming both writers, else the first */
	uint64_t first_ns, last_ns;
	uint64_t capacity, bytes;	/* slots and table memory; 0 unknown */
	uint64_t sized_dirptr;		/* Swiss: the directory the capacity was read from */
	uint64_t old_bytes;		/* hmap: old bucket array still allocated */
	uint64_t evac_since_ns;		/* hmap: oldbuckets and nevacuate unchanged since */
	uint64_t reread_ns;		/* last re-read from the target (a record older is stale) */
	uint64_t evac_nevacuate, evac_old;
	bool dirty;			/* written since the last refresh */
	GHashTable *writers;		/* set of goids */
	GArray *sites;			/* struct mw_site */
};

/*
 * Growths, at least: those probed, or for a bucket map the doublings its headers show (B never
 * falls; the growth probes may have been detached when it grew).
 */
static inline uint64_t mw_map_growths(const struct mw_map *mp)
{
	uint64_t shown = mp->B_min >= 0 && mp->hdr.B > mp->B_min ?
				 (uint64_t)(mp->hdr.B - mp->B_min) : 0;

	return mp->growths > shown ? mp->growths : shown;
}

/*
 * Maps a lingering finding (growth, shrink, stall) can be about: still this map at the end,
 * written (or grown) by the program during the capture, with evidence that it is alive (model_finish),
 * and not sync.Map internals.
 */
static inline bool map_is_durable(const struct mw_map *mp)
{
	/* a growth is a write too (the runtime grows a map inside an assign) */
	return !mp->gone && !mp->syncmap_dirty && mp->alive != MW_ALIVE_UNKNOWN &&
	       mp->assigns + mp->deletes + mp->clears + mp->growths > 0;
}

/*
 * Maps made at one site (creation PC and type) during the capture. Servers make thousands of
 * short-lived maps (a header map per request); those are reported here, not one by one.
 */
#define MW_LIFE_SAMPLES 512
struct mw_made {
	uint64_t pc;			/* link-time PC of the creating call */
	uint64_t maptype;
	char type[256];
	struct frame_sym site;
	bool on_stack;			/* maps on a stack: site is their writer (no makemap) */
	uint64_t made, ended, alive_at_end, folded;
	uint64_t idle;			/* alive at the end, but used briefly long before it */
	uint64_t peak_len;		/* largest count any of them reached */
	uint64_t writes;
	uint64_t assigns, deletes, clears, growths;	/* writes by op, and growths */
	uint64_t nlife;			/* lives seen (creation to a later sign of life) */
	uint64_t life_ns[MW_LIFE_SAMPLES];	/* a uniform sample of them */
};
#define MW_MADE_ON_STACK (1ULL << 63)	/* in a site key: a stack map, keyed by its writer */
/* Median of the sampled lives, ns (0: none seen after its creation). */
uint64_t mw_made_median_life(const struct mw_made *md);
/*
 * Maps from a site that makes this many, most of them ended or used only briefly long before
 * the end, are short-lived (whether the GC freed them yet depends on when it ran).
 */
#define MW_SHORT_LIVED_MIN 10
/* Maps on a stack, ended, from a site that wrote this many: counted at that site. */
#define MW_STACK_FOLD_MIN 2

#define MW_WAIT_BUCKETS 48		/* log2 histogram of lock waits, ns */
struct mw_mutex {
	uint64_t addr;
	uint64_t total_ns;
	uint64_t nwaits;
	uint64_t hist[MW_WAIT_BUCKETS];	/* waits by floor(log2(ns)) */
	uint64_t base_ns, base_waits;	/* waits while map probes were detached (baseline) */
	uint64_t unnamed_ns, unnamed_waits;	/* waits while hot probes that name no map were on,
					 * and no recording ones (model_rec_probes) */
	GHashTable *waiters;		/* set of goids */
	GArray *sites;			/* struct mw_site: where the lock was taken */
	GHashTable *maps;		/* map addr -> ns waited before writing it (gsize) */
};

/* A sync.Map (Go <= 1.23) whose dirty map is rebuilt: every entry is copied each time. */
struct mw_syncmap {
	uint64_t addr;
	uint64_t rebuilds, copied;
	uint64_t ops[PROBE__COUNT];	/* writes by method (probe id) */
	uint64_t first_ns, last_ns;
	GArray *sites;			/* struct mw_site: the Store/LoadOrStore calls */
};

/*
 * What an epoch of the daemon knew of a live map that the next epoch keeps: where it was
 * made, and the last pair of writers seen in it at once. Applied to the next epoch's map at
 * the same address only if its hash seed is the same (another map there has another seed).
 */
struct mw_carry {
	uint64_t seed;
	uint64_t tables;		/* bucket array or Swiss directory (same_tables) */
	bool created;			/* created_at known */
	struct frame_sym created_at;
	uint64_t maptype;		/* link-time */
	char type[256];
	bool overlap_known;		/* overlap names both writers */
	struct mw_overlap overlap;
	uint64_t overlap_ns;		/* when that epoch ended */
};

struct mw_model {
	const struct gobin *gb;
	const struct go_layout *layout;
	uint64_t bias;
	GHashTable *maps;		/* addr -> struct mw_map * */
	GHashTable *mutexes;		/* addr -> struct mw_mutex * */
	GHashTable *pending;		/* goid -> struct pending_lock *: acquired, no write yet */
	GHashTable *syncmaps;		/* addr -> struct mw_syncmap * */
	GHashTable *copy_hint;		/* goid -> size of the dirty map dirtyLocked just made */
	GHashTable *folded;		/* GBytes {probe id, link-time PCs innermost first} -> count */
	GHashTable *made;		/* GBytes "function, file, line, on stack, maptype" ->
					 * struct mw_made * (made_of) */
	GPtrArray *ended;		/* struct mw_map *: ended maps not made during the capture */
	struct go_heap heap;
	uint64_t start_ns;		/* capture started (CLOCK_MONOTONIC) */
	uint64_t maps_ns;		/* map probes first attached (the lock baseline ended); 0 before */
	GArray *hot;			/* struct mw_span: when the hot map probes were attached */
	GArray *rec;			/* struct mw_span: when the recording write probes were */
	GArray *lock;			/* struct mw_span: when the lock probes were attached */
	GHashTable *pc_sites;		/* link-time PC -> what it says of a site (a cache) */
	GHashTable *pair_stacks;	/* GBytes {map, caller} -> the stack BPF took for it */
	GHashTable *deep_seen;		/* callers (runtime addresses) that are not user code */
	GArray *deep_new;		/* ... found since the caller last took them (uint64_t) */
	uint64_t stacks_missed;		/* writes without a stack whose pair's stack was unknown */
	uint64_t baseline_ns;		/* time with the hot map probes detached, 0 none */
	uint64_t unnamed_ns;		/* model_unnamed_ns over the session */
	bool doubts;			/* a map's identity waits for a re-read (doubt_ns), or the
					 * heap's metadata for a first map to be resolved against */
	uint32_t sg_last;		/* mheap_.sweepgen at the last re-read that read it, */
	uint64_t sg_last_ns;		/* ... when */
	bool sg_last_known;
	uint64_t ended_maps;		/* maps seen to end during the capture */
	uint64_t records;		/* records accepted, of every type */
	uint64_t writes;		/* writes seen: recorded, or counted in BPF */
	uint64_t tallied;		/* ... of them counted in BPF (tally records) */
	uint64_t rejected;		/* malformed records */
	bool fatal;
	char fatal_msg[MW_MSG_BYTES + 1];
	uint64_t fatal_goid;
	struct frame_sym fatal_site;
	GHashTable *carried;		/* addr -> struct mw_carry *: from earlier epochs */
};

/*
 * For the daemon's next epoch: what prev (finished) and the epochs before it knew of live
 * maps, as a table for the next model's carried (addr -> struct mw_carry *, freed with it).
 * Bounded: at most MW_CARRY_MAX maps.
 */
#define MW_CARRY_MAX 65536
GHashTable *model_carry(const struct mw_model *prev, uint64_t now_ns);
/*
 * Share a symbol cache (link-time PC -> site, see model_pc_cache_new) with every model of
 * one executable: m takes a reference and drops its own.
 */
GHashTable *model_pc_cache_new(void);
void model_share_pc_cache(struct mw_model *m, GHashTable *cache);
/* Let m know what earlier epochs did (takes the table). */
void model_take_carried(struct mw_model *m, GHashTable *carried);

/* An interval [on, off) (off 0: still on), CLOCK_MONOTONIC ns. */
struct mw_span {
	uint64_t on, off;
};
/*
 * The hot map probes (writes, sync.Map writes) were attached (on) or detached at t: they
 * stretch the critical sections they run in, so lock waits that overlap them do not count as
 * the program's own.
 */
void model_hot_probes(struct mw_model *m, uint64_t t, bool on);
/*
 * The map-write probes that record (entry and RET, by goroutine) were attached or detached at
 * t. The hot probes also include ones that name no map a goroutine wrote after a wait (map
 * writes tallied in BPF, sync.Map writes): waits while hot probes but no recording ones were
 * on are neither the program's own nor tied to a map (struct mw_mutex unnamed_*).
 */
void model_rec_probes(struct mw_model *m, uint64_t t, bool on);
/* How long, from start to end, hot probes were on but no recording ones. */
uint64_t model_unnamed_ns(const struct mw_model *m, uint64_t start, uint64_t end);
/* The lock probes were attached (on) or detached at t: waits are seen only while they are. */
void model_lock_probes(struct mw_model *m, uint64_t t, bool on);
/*
 * How long, from start to end, lock waits were measured clean: the lock probes attached and
 * the hot map probes detached. With no lock spans recorded, the lock probes count as on.
 */
uint64_t model_hot_off_ns(const struct mw_model *m, uint64_t start, uint64_t end);

void model_init(struct mw_model *m, const struct gobin *gb, const struct go_layout *l,
		uint64_t bias);
/* Validate re-read headers against the Go heap's metadata from now on (NULL: structure only). */
void model_use_heap(struct mw_model *m, const struct go_heap_layout *hl);
void model_free(struct mw_model *m);
/* Decode one ring-buffer record (any type; size checked). 0, or -1 if it is not valid. */
int model_ingest(struct mw_model *m, const void *data, size_t size);
/*
 * Folded stacks ("outermost;...;innermost;probed function" -> count), symbolised now:
 * the ingest path only counts raw stacks. Caller unrefs the table.
 */
GHashTable *model_folded_stacks(const struct mw_model *m);
/* Maps sorted by writes, most first, ended ones included (g_ptr_array_unref it). */
GPtrArray *model_maps_sorted(const struct mw_model *m);
/* Creation sites of short-lived maps, most made first (g_ptr_array_unref it). */
GPtrArray *model_made_sorted(const struct mw_model *m);

/*
 * Re-read the headers of maps written since the last refresh (all maps if all) and work out
 * their capacity and table memory (Swiss tables live behind a directory BPF does not walk).
 * now_ns is CLOCK_MONOTONIC, the clock of the records. Unreadable maps keep what was known.
 */
void model_refresh(struct mw_model *m, mem_read_fn rd, void *ctx, uint64_t now_ns, bool all);

/*
 * The capture is over (after the last model_refresh): sort every site list by count, fold
 * short-lived maps into their creation site, and decide for each map what shows it alive at
 * end_ns (written within recent_ns, marked by a GC, or validated). Detectors and reports only
 * read the model after this.
 */
void model_finish(struct mw_model *m, uint64_t end_ns, uint64_t recent_ns);

#endif
