// SPDX-License-Identifier: MIT
/*
 * Ring-buffer records into the model: any bytes, any record size, in any order. The input is
 * one byte that picks a layout, then records framed as (u16 length, bytes); each record is
 * handed over in a buffer of exactly its length, aligned as the ring buffer aligns it. The
 * model is then read the way the end of a capture reads it (folded stacks, the report).
 *
 * The first byte: bits 0-2 the release (catalogue row), bit 3 a PIE load bias, bit 7
 * noswissmap. MW_FUZZ_GOBIN names a Go binary to symbolise against (tests/fuzz/seeds.sh
 * writes a small one with the seeds, whose functions and types the seed records name);
 * without it the model has no functions at all.
 */
#include <stdio.h>
#include "model.h"
#include "fuzz.h"
#include "report.h"

static struct gobin gb;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("MW_FUZZ_GOBIN");
	const struct go_layout *l;
	char err[256];

	(void)argc;
	(void)argv;
	if (!path)
		return 0;
	if (gobin_open(&gb, path, err, sizeof(err)) ||
	    !(l = go_layout_for(&gb.bi, err, sizeof(err))) ||
	    gobin_locate_text(&gb, l->md_text, err, sizeof(err))) {
		fprintf(stderr, "fuzz_ingest: %s: %s\n", path, err);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_meta meta = { .exe = "fuzz", .go_version = "go", .map_impl = "hmap",
				     .end_reason = "duration", .trap_emulated_s = 1e-6,
				     .trap_stepped_s = 10e-6 };
	const struct go_layout *l;
	struct mw_model m;
	GHashTable *folded;
	json_object *doc;
	size_t o = 1;

	if (!size)
		return 0;
	l = fuzz_layout(data[0]);
	model_init(&m, &gb, l, data[0] & 8 ? 0x1000 : 0);
	while (o + 2 <= size) {
		size_t n = (size_t)data[o] | (size_t)data[o + 1] << 8;
		uint8_t *rec;

		o += 2;
		if (n > size - o)
			n = size - o;
		rec = fuzz_copy(data + o, n);	/* malloc: aligned like a ring-buffer record */
		if (rec)
			model_ingest(&m, rec, n);
		free(rec);
		o += n;
	}
	folded = model_folded_stacks(&m);
	g_hash_table_unref(folded);
	doc = report_build(&m, &meta, NULL);
	json_object_put(doc);
	model_free(&m);
	return 0;
}
