// SPDX-License-Identifier: MIT
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "dwarf_layout.h"

int gobin_map_impl(const struct gobin *gb)
{
	/* Swiss tables split; bucket maps grow with hashGrow (probes/README.md, "Map
	 * implementation"). */
	if (pclntab_func_named(&gb->pcln, "internal/runtime/maps.(*table).split", NULL))
		return IMPL_SWISS;
	return IMPL_HMAP;
}

/*
 * Every offset of a layout lies inside a runtime struct of at most a few hundred bytes (and
 * writing_mask is a byte); anything larger read from a file is refused, so that no later
 * sum of an offset and a size can overflow.
 */
#define MAX_LAYOUT_VALUE 4096
/* Any value read from DWARF: the heap's metadata has large offsets (heapArena.spans) and
 * constants (64 MiB arenas); more than this is not Go's runtime. */
#define MAX_DWARF_VALUE (1 << 30)

/* One wanted value: a field of one of several candidate structs, or a constant. */
struct want {
	const char *const structs[4];	/* candidates, first found wins */
	const char *field;		/* NULL: a constant named structs[0] */
	int *out;
	int found_rank;			/* index of the candidate that gave the value, or -1 */
	int *size;			/* optional: the field's size in bytes */
};

static int die_uint(Dwarf_Die *d, unsigned attr, Dwarf_Word *v)
{
	Dwarf_Attribute a;

	return dwarf_attr(d, attr, &a) && dwarf_formudata(&a, v) == 0 ? 0 : -1;
}

static void match_struct(Dwarf_Die *s, const char *name, struct want *w, int nw)
{
	for (int i = 0; i < nw; i++) {
		Dwarf_Die m;
		int rank = -1;

		if (!w[i].field)
			continue;
		for (int k = 0; k < 4 && w[i].structs[k]; k++)
			if (!strcmp(w[i].structs[k], name))
				rank = k;
		if (rank < 0 || (w[i].found_rank >= 0 && w[i].found_rank <= rank))
			continue;
		if (dwarf_child(s, &m))
			continue;
		do {
			Dwarf_Word off;
			const char *mn = dwarf_diename(&m);

			if (dwarf_tag(&m) == DW_TAG_member && mn && !strcmp(mn, w[i].field) &&
			    !die_uint(&m, DW_AT_data_member_location, &off)) {
				Dwarf_Attribute ta;
				Dwarf_Die td;
				Dwarf_Word sz;

				*w[i].out = off <= MAX_DWARF_VALUE ? (int)off : INT_MAX;
				w[i].found_rank = rank;
				if (w[i].size && dwarf_attr(&m, DW_AT_type, &ta) &&
				    dwarf_formref_die(&ta, &td) && !die_uint(&td, DW_AT_byte_size, &sz))
					*w[i].size = (int)sz;
			}
		} while (dwarf_siblingof(&m, &m) == 0);
	}
}

static void match_constant(Dwarf_Die *c, const char *name, struct want *w, int nw)
{
	for (int i = 0; i < nw; i++) {
		Dwarf_Attribute a;
		Dwarf_Sword v;

		if (w[i].field || !w[i].structs[0] || strcmp(w[i].structs[0], name))
			continue;
		if (dwarf_attr(c, DW_AT_const_value, &a) && dwarf_formsdata(&a, &v) == 0) {
			*w[i].out = v >= 0 && v <= MAX_DWARF_VALUE ? (int)v : INT_MAX;
			w[i].found_rank = 0;
		}
	}
}

/* Fill every want from the DWARF of the file at path. 0, or -1 without DWARF. */
static int dwarf_walk(const char *path, struct want *w, int nw, char *err, size_t errlen)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(dw = dwarf_begin(fd, DWARF_C_READ))) {
		snprintf(err, errlen, "no DWARF debug information");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *name = dwarf_diename(&d);
				int tag = dwarf_tag(&d);

				if (!name)
					continue;
				if (tag == DW_TAG_structure_type)
					match_struct(&d, name, w, nw);
				else if (tag == DW_TAG_constant)
					match_constant(&d, name, w, nw);
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	return 0;
}

int dwarf_layout_read(const struct gobin *gb, const char *path, struct go_layout *l, char *err,
		      size_t errlen)
{
	const bool swiss = gobin_map_impl(gb) == IMPL_SWISS;
	const char *hdr = swiss ? "internal/runtime/maps.Map" : "runtime.hmap";
	int rc = 0;

	memset(l, -1, sizeof(*l));
	l->minor = gb->bi.v.minor;
	l->experiment = "";
	l->impl = swiss ? IMPL_SWISS : IMPL_HMAP;
	struct want w[] = {
		{ { "runtime.g" }, "goid", &l->goid, -1 },
		{ { "runtime.g" }, "stack", &l->stack_lo, -1 },		/* stack.lo at +0 */
		{ { "runtime.stack" }, "hi", &l->stack_hi, -1 },
		{ { "runtime.moduledata" }, "text", &l->md_text, -1 },
		{ { "runtime.moduledata" }, "types", &l->md_types, -1 },
		{ { "runtime.moduledata" }, "gofunc", &l->md_gofunc, -1 },
		{ { hdr }, swiss ? "used" : "count", &l->count, -1 },
		{ { hdr }, swiss ? "writing" : "flags", &l->writing, -1 },
		{ { hdr }, swiss ? "seed" : "hash0", &l->seed, -1 },
		/* hmap only */
		{ { swiss ? NULL : "runtime.hashWriting" }, NULL, &l->writing_mask, -1 },
		{ { swiss ? NULL : hdr }, "B", &l->B, -1 },
		{ { swiss ? NULL : hdr }, "noverflow", &l->noverflow, -1 },
		{ { swiss ? NULL : hdr }, "buckets", &l->buckets, -1 },
		{ { swiss ? NULL : hdr }, "oldbuckets", &l->oldbuckets, -1 },
		{ { swiss ? NULL : hdr }, "nevacuate", &l->nevacuate, -1 },
		{ { swiss ? NULL : "internal/abi.OldMapType", "internal/abi.MapType",
		    "runtime.maptype" },
		  swiss ? NULL : "BucketSize", &l->bucketsize_u16, -1 },
		{ { swiss ? NULL : "runtime.maptype" }, swiss ? NULL : "bucketsize",
		  &l->bucketsize_u16, -1 },
		/* Swiss only */
		{ { swiss ? hdr : NULL }, "dirPtr", &l->dirptr, -1 },
		{ { swiss ? hdr : NULL }, "dirLen", &l->dirlen, -1 },
		{ { swiss ? hdr : NULL }, "globalDepth", &l->globaldepth, -1 },
		{ { swiss ? "internal/abi.SwissMapType" : NULL, "internal/abi.MapType" },
		  swiss ? "GroupSize" : NULL, &l->groupsize_u64, -1 },
		{ { swiss ? "internal/runtime/maps.table" : NULL }, "capacity", &l->table_capacity,
		  -1 },
		/* the type descriptor: internal/abi.Type from Go 1.21, runtime._type before */
		{ { "internal/abi.Type" }, "TFlag", &l->type_tflag, -1 },
		{ { "runtime._type" }, "tflag", &l->type_tflag, -1 },
		{ { "internal/abi.Type" }, "Str", &l->type_str, -1 },
		{ { "runtime._type" }, "str", &l->type_str, -1 },
		/* optional: a HashTrieMap sync.Map (Go >= 1.24) has no dirty map */
		{ { "sync.Map" }, "dirty", &l->syncmap_dirty, -1 },
	};
	const int nw = sizeof(w) / sizeof(w[0]);

	if (swiss)
		l->writing_mask = 0xff;	/* toggled with ^= 1: any bit set means a writer */

	if (dwarf_walk(path, w, nw, err, errlen))
		return -1;
	if (l->stack_lo >= 0 && l->stack_lo <= MAX_LAYOUT_VALUE && l->stack_hi >= 0 &&
	    l->stack_hi <= MAX_LAYOUT_VALUE)
		l->stack_hi += l->stack_lo;	/* g.stack.hi = g.stack + stack.hi */
	for (int i = 0; i < nw && !rc; i++) {
		bool found = false;

		if (!w[i].structs[0] || w[i].out == &l->syncmap_dirty)
			continue;
		/* Rows that fill one value (a field renamed between releases): one is enough. */
		for (int j = 0; j < nw; j++)
			found |= w[j].out == w[i].out && w[j].found_rank >= 0;
		if (!found) {
			snprintf(err, errlen, "DWARF has no %s%s%s", w[i].structs[0],
				 w[i].field ? "." : "", w[i].field ? w[i].field : "");
			rc = -1;
		} else if (*w[i].out < 0 || *w[i].out > MAX_LAYOUT_VALUE) {
			/* offsets index small structs; a value this large is not a layout */
			snprintf(err, errlen, "DWARF gives %s%s%s = %d, not a plausible offset",
				 w[i].structs[0], w[i].field ? "." : "", w[i].field ? w[i].field : "",
				 *w[i].out);
			rc = -1;
		}
	}
	if (!rc && l->syncmap_dirty > MAX_LAYOUT_VALUE) {
		snprintf(err, errlen, "DWARF gives sync.Map.dirty = %d, not a plausible offset",
			 l->syncmap_dirty);
		rc = -1;
	}
	return rc;
}

int dwarf_heap_read(const char *path, struct go_heap_layout *h, char *err, size_t errlen)
{
	int page = -1, arena = -1, inuse = -1, manual = -1;
	struct want w[] = {
		{ { "runtime.mheap" }, "arenas", &h->arenas, -1 },
		{ { "runtime.mheap" }, "sweepgen", &h->sweepgen, -1 },
		{ { "runtime.heapArena" }, "spans", &h->ha_spans, -1 },
		{ { "runtime.mspan" }, "startAddr", &h->sp_start, -1 },
		{ { "runtime.mspan" }, "npages", &h->sp_npages, -1 },
		{ { "runtime.mspan" }, "nelems", &h->sp_nelems, -1, &h->sp_nelems_size },
		{ { "runtime.mspan" }, "freeindex", &h->sp_freeindex, -1, &h->sp_freeindex_size },
		{ { "runtime.mspan" }, "allocBits", &h->sp_allocbits, -1 },
		{ { "runtime.mspan" }, "elemsize", &h->sp_elemsize, -1 },
		{ { "runtime.mspan" }, "state", &h->sp_state, -1 },
		{ { "runtime.mspan" }, "sweepgen", &h->sp_sweepgen, -1 },
		/* constants the heap walk assumes (probes/README.md): checked, not read */
		{ { "runtime.pageSize" }, NULL, &page, -1 },
		{ { "runtime.heapArenaBytes" }, NULL, &arena, -1 },
		{ { "runtime.mSpanInUse" }, NULL, &inuse, -1 },
		{ { "runtime.mSpanManual" }, NULL, &manual, -1 },
	};
	const int nw = sizeof(w) / sizeof(w[0]);

	memset(h, -1, sizeof(*h));
	if (dwarf_walk(path, w, nw, err, errlen))
		return -1;
	for (int i = 0; i < nw; i++) {
		if (w[i].found_rank < 0 || *w[i].out < 0 || *w[i].out == INT_MAX ||
		    (w[i].size && (*w[i].size < 1 || *w[i].size > 8))) {
			snprintf(err, errlen, "DWARF has no %s%s%s", w[i].structs[0],
				 w[i].field ? "." : "", w[i].field ? w[i].field : "");
			return -1;
		}
	}
	if (page != GO_PAGE_SIZE || arena != GO_HEAP_ARENA_BYTES || inuse != GO_SPAN_INUSE ||
	    manual != GO_SPAN_MANUAL) {
		snprintf(err, errlen, "the Go heap's constants differ from what mapwatch knows "
				      "(page %d, arena %d, span states %d/%d)", page, arena, inuse,
			 manual);
		return -1;
	}
	return 0;
}
