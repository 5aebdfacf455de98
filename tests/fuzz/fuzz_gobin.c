// SPDX-License-Identifier: MIT
/*
 * The whole path from an ELF image to what info and capture use: gobin_open (build info,
 * function table, moduledata), placing the text, the probe plan (disassembly), symbolising
 * PCs with inlined frames, and type names.
 */
#include "dwarf_layout.h"
#include "fuzz.h"
#include "gobin/gobin.h"
#include "probeplan.h"
#include "symbolize.h"

#define MAX_FUNCS 256	/* bound the work per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct go_buildinfo newest = { .version = "go1.26.1", .v = { 1, 26, 1 } };
	uint8_t *p = fuzz_copy(data, size);
	const struct go_layout *l;
	struct probe_plan plan;
	struct gobin gb;
	char err[256], name[256];

	if (!p)
		return 0;
	if (gobin_open_mem(&gb, p, size, "fuzz", err, sizeof(err))) {
		free(p);
		return 0;
	}
	/* a release outside the catalogue is read with the newest layout: any layout must do */
	l = go_layout_for(&gb.bi, err, sizeof(err));
	if (!l)
		l = go_layout_for(&newest, err, sizeof(err));
	fuzz_use((void *)(uintptr_t)gobin_map_impl(&gb));
	gobin_locate_text(&gb, l->md_text, err, sizeof(err));
	probeplan_build(&gb, l->impl, &plan);
	for (size_t i = 0; i < gb.pcln.nfuncs && i < MAX_FUNCS; i++) {
		const struct go_func *f = &gb.pcln.funcs[i];
		struct frame_sym fr[8];
		uint64_t pcs[] = { f->entry, f->entry + (f->end - f->entry) / 2, f->end - 1 };

		for (size_t k = 0; k < sizeof(pcs) / sizeof(pcs[0]); k++)
			fuzz_use((void *)(uintptr_t)sym_pc_frames(&gb, l, pcs[k], fr, 8));
	}
	/* type descriptors: wherever the data segments point */
	for (int i = 0; i < gb.img.nsegs; i++)
		for (uint64_t off = 0; off < gb.img.segs[i].filesz && off < 4096; off += 64)
			gotype_name(&gb, l, gb.img.segs[i].vaddr + off, name, sizeof(name));
	gobin_close(&gb);
	free(p);
	return 0;
}
