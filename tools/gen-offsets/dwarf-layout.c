// SPDX-License-Identifier: MIT
/*
 * Print the probes/layouts.def row for each Go binary, read from its DWARF; with --heap first,
 * the probes/heap.def row instead.
 */
#include <stdio.h>
#include <string.h>
#include "dwarf_layout.h"

static int heap_row(const char *path)
{
	struct go_heap_layout h;
	struct gobin gb;
	char err[512];

	if (gobin_open(&gb, path, err, sizeof(err)) ||
	    dwarf_heap_read(path, &h, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	printf("HEAP(%d,  %d, %d,  %d,  %d, %d, %d, %d, %d, %d, %d, %d, %d, %d)\t/* %s */\n",
	       gb.bi.v.minor, h.arenas, h.sweepgen, h.ha_spans, h.sp_start, h.sp_npages,
	       h.sp_nelems, h.sp_nelems_size, h.sp_freeindex, h.sp_freeindex_size, h.sp_allocbits,
	       h.sp_elemsize, h.sp_state, h.sp_sweepgen, gb.bi.version);
	gobin_close(&gb);
	return 0;
}

int main(int argc, char **argv)
{
	bool heap = argc > 1 && !strcmp(argv[1], "--heap");
	struct go_layout l;
	struct gobin gb;
	char err[512];
	int rc = 0;

	for (int i = heap ? 2 : 1; i < argc; i++) {
		const char *exp;

		if (heap) {
			rc |= heap_row(argv[i]);
			continue;
		}
		if (gobin_open(&gb, argv[i], err, sizeof(err)) ||
		    dwarf_layout_read(&gb, argv[i], &l, err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			rc = 1;
			continue;
		}
		exp = go_buildinfo_has_experiment(&gb.bi, "noswissmap") ? "noswissmap" : "";
		printf("LAYOUT(%d, \"%s\", %s, %d, %d, %d,  %d, %d, %#04x, %d,  %d, %d, %d, %d, %d,  %d, %d, %d,"
		       "  %d, %d, %d,  %d, %d, %d,  %d, %d,  %d)\t/* %s */\n",
		       l.minor, exp, l.impl == IMPL_SWISS ? "SWISS" : "HMAP", l.goid, l.stack_lo,
		       l.stack_hi, l.count,
		       l.writing, l.writing_mask, l.seed, l.B, l.noverflow, l.buckets, l.oldbuckets,
		       l.nevacuate, l.dirptr, l.dirlen, l.globaldepth, l.bucketsize_u16,
		       l.groupsize_u64, l.table_capacity, l.md_text, l.md_types, l.md_gofunc, l.type_tflag,
		       l.type_str, l.syncmap_dirty, gb.bi.version);
		gobin_close(&gb);
	}
	return rc;
}
