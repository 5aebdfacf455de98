// SPDX-License-Identifier: MIT
/*
 * Re-reading maps from target memory that says anything: the Go heap's metadata walk
 * (user/goheap.c) and every check that a header, bucket array, directory or table is what it
 * claims (user/model.c), then the end of a capture (model_finish, the detectors, the report).
 *
 * Input: byte 0 picks the layout (bits 0-2 the release, bit 7 noswissmap), byte 1 flags (bit 0:
 * the map lies on a stack); then the map header's address (u64), the candidate address of
 * mheap_.arenas[0] (u64) and the 64 header bytes a write record carries; the rest is the
 * target's memory, as regions of (u64 address, u16 length, bytes). A read succeeds only
 * inside one region, as process_vm_readv does only where memory is mapped.
 */
#include <stdio.h>
#include "detect/detect.h"
#include "model.h"
#include "fuzz.h"
#include "report.h"

#define MAX_REGIONS 64

struct region {
	uint64_t addr;
	size_t len;
	const uint8_t *bytes;
};

struct memory {
	struct region r[MAX_REGIONS];
	int n;
};

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
	const struct memory *m = ctx;

	for (int i = 0; i < m->n; i++)
		if (addr >= m->r[i].addr && n <= m->r[i].len && addr - m->r[i].addr <= m->r[i].len - n) {
			memcpy(buf, m->r[i].bytes + (addr - m->r[i].addr), n);
			return 0;
		}
	return -1;
}

static uint64_t u64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_meta meta = { .exe = "fuzz", .go_version = "go", .map_impl = "hmap",
				     .end_reason = "duration", .trap_emulated_s = 1e-6,
				     .trap_stepped_s = 10e-6 };
	struct mw_call_rec r = { .type = MW_REC_CALL, .fn = PROBE_MAPASSIGN_FAST64, .goid = 1,
				 .t_entry = 1000, .t_ret = 2000, .entries = 1 };
	static struct gobin gb;		/* no binary: types and sites unknown */
	const size_t head = 2 + 8 + 8 + MW_HDR_BYTES;
	struct detect_opts o;
	struct detect_ctx c;
	const struct go_layout *l;
	struct memory mem = { 0 };
	struct mw_model m;
	json_object *f, *doc;
	uint8_t *copy;
	size_t off;

	if (size < head || !(l = fuzz_layout(data[0])))
		return 0;
	copy = fuzz_copy(data, size);	/* regions point into it: exactly the input's bytes */
	if (!copy)
		return 0;
	r.obj = u64_at(copy + 2);
	if (data[1] & 1)
		r.flags |= MW_F_ON_STACK;
	memcpy(r.hdr_before, copy + 18, MW_HDR_BYTES);
	memcpy(r.hdr_after, copy + 18, MW_HDR_BYTES);
	for (off = head; off + 10 <= size && mem.n < MAX_REGIONS;) {
		size_t n = (size_t)copy[off + 8] | (size_t)copy[off + 9] << 8;

		off += 10;
		if (n > size - off)
			n = size - off;
		mem.r[mem.n++] = (struct region){ u64_at(copy + off - 10), n, copy + off };
		off += n;
	}

	model_init(&m, &gb, l, 0);
	m.heap.hl = go_heap_layout_for(l->minor);
	m.heap.cand[0] = u64_at(copy + 10);
	m.heap.ncand = m.heap.hl ? 1 : 0;
	model_ingest(&m, &r, sizeof(r));
	r.t_entry = 3000, r.t_ret = 4000;
	model_ingest(&m, &r, sizeof(r));
	model_refresh(&m, mem_read, &mem, 1000000000ULL, true);
	model_refresh(&m, mem_read, &mem, 9000000000ULL, true);
	model_finish(&m, 10000000000ULL, 2000000000ULL);
	detect_defaults(&o);
	c = (struct detect_ctx){ .m = &m, .o = &o, .duration_s = 10, .start_ns = 0,
				 .end_ns = 10000000000ULL };
	f = detect_all(&c);
	doc = report_build(&m, &meta, f);
	json_object_put(doc);
	model_free(&m);
	free(copy);
	return 0;
}
