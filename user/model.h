/* SPDX-License-Identifier: MIT */
/*
 * What a capture learned: maps (keyed by header address) and the sites that write them.
 * Pure: records in, state out; no kernel, no I/O.
 */
#ifndef MW_MODEL_H
#define MW_MODEL_H

#include <glib.h>
#include <stdbool.h>
#include <linux/types.h>
#include "../bpf/mapwatch.h"
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

struct mw_site {
	uint64_t pc;			/* link-time PC of the call in the user's frame */
	enum mw_op op;
	uint64_t count;
	struct frame_sym sym;
};

struct mw_map {
	uint64_t addr;			/* runtime address of the header */
	uint64_t maptype;		/* link-time address of the type descriptor, 0 unknown */
	char type[256];			/* "" unknown */
	struct map_hdr hdr;		/* after the last write seen */
	uint64_t peak_len;
	uint64_t assigns, deletes, clears, growths;
	uint64_t writing_at_entry;	/* writes that found the map already being written */
	uint64_t first_ns, last_ns;
	uint64_t capacity, bytes;	/* slots and table memory; 0 unknown */
	bool dirty;			/* written since the last refresh */
	GHashTable *writers;		/* set of goids */
	GArray *sites;			/* struct mw_site */
};

struct mw_model {
	const struct gobin *gb;
	const struct go_layout *layout;
	uint64_t bias;
	GHashTable *maps;		/* addr -> struct mw_map * */
	uint64_t writes;		/* records accepted */
	uint64_t rejected;		/* malformed records */
	uint64_t reentries;		/* entry probes that fired twice (morestack) */
};

void model_init(struct mw_model *m, const struct gobin *gb, const struct go_layout *l,
		uint64_t bias);
void model_free(struct mw_model *m);
/* Account one completed write. 0, or -1 if the record is not valid. */
int model_add_write(struct mw_model *m, const struct mw_write_rec *r);
/* Maps sorted by writes, most first (array of struct mw_map *; g_ptr_array_unref it). */
GPtrArray *model_maps_sorted(const struct mw_model *m);
/* Reads target memory: 0, or -1 if [addr, addr+n) cannot be read. */
typedef int (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t n);

/*
 * Re-read the headers of maps written since the last refresh (all maps if all) and work out
 * their capacity and table memory (Swiss tables live behind a directory BPF does not walk).
 * Maps whose memory cannot be read keep what was last known.
 */
void model_refresh(struct mw_model *m, mem_read_fn rd, void *ctx, bool all);

#endif
