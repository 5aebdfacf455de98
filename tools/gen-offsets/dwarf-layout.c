// SPDX-License-Identifier: MIT
/* Print the probes/layouts.def row for a Go binary, read from its DWARF. */
#include <stdio.h>
#include "dwarf_layout.h"

int main(int argc, char **argv)
{
	struct go_layout l;
	struct gobin gb;
	char err[512];
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *exp;

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
