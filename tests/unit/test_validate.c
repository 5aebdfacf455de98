// SPDX-License-Identifier: MIT
/*
 * A map is judged only while it is the same live map: re-read headers validated against the
 * Go heap's span metadata, laid out here by hand in a fake target memory (go1.22 layout);
 * maps that end keep their last good state; short-lived maps are counted by creation site.
 */
#include "check.h"
#include "goheap.h"
#include "model.h"

static struct gobin gb;
static const struct go_layout *layout;
static const struct go_heap_layout *hl;
static uint64_t maptype;	/* map[int64]int's type descriptor (208-byte buckets) */

/* A map type's descriptor, found by name among the binary's types (8-aligned). */
static uint64_t find_type(const char *name)
{
	uint64_t types = gobin_u64(&gb, gb.moduledata + (uint64_t)layout->md_types);
	uint64_t etypes = gobin_u64(&gb, gb.moduledata + (uint64_t)layout->md_types + 8);
	char buf[256];

	for (uint64_t t = types; t && t < etypes; t += 8)
		if (!gotype_name(&gb, layout, t, buf, sizeof(buf)) && !strcmp(buf, name))
			return t;
	return 0;
}

/* Fake target memory: regions, read only whole. */
struct region {
	uint64_t addr;
	size_t len;
	uint8_t *bytes;
};
static struct region mem[64];
static int nmem;

static uint8_t *region(uint64_t addr, size_t len)
{
	struct region *r = &mem[nmem++];

	r->addr = addr;
	r->len = len;
	r->bytes = calloc(1, len);
	return r->bytes;
}

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
	(void)ctx;
	for (int i = nmem - 1; i >= 0; i--)
		if (addr >= mem[i].addr && addr + n <= mem[i].addr + mem[i].len) {
			memcpy(buf, mem[i].bytes + (addr - mem[i].addr), n);
			return 0;
		}
	return -1;
}

static void put(uint8_t *p, int off, uint64_t v, int size)
{
	memcpy(p + off, &v, (size_t)size);
}

#define MHEAP_ARENAS 0x600000ULL	/* &mheap_.arenas[0] (a candidate) */
#define L2 0x7f0000000000ULL		/* the arena index array */
#define HA 0x7f1000000000ULL		/* the heapArena of 0xc000000000 */
#define SPAN48 0x7f2000000000ULL	/* mspan of 48-byte objects at 0xc000010000 */
#define SPANB 0x7f2000001000ULL		/* mspan of one 8 KiB bucket array at 0xc000020000 */
#define BITS48 0x7f3000000000ULL
#define BITSB 0x7f3000001000ULL
#define HDR 0xc000010030ULL		/* object 1 of SPAN48 */
#define BUCKETS 0xc000020000ULL
#define SG 10				/* mheap_.sweepgen */

static uint8_t *span48, *bits48, *hdr;

/* One arena, two spans: 48-byte objects (a map header at index 1), a bucket array. */
static void build_heap(void)
{
	uint64_t ri = (0xc000000000ULL - GO_ARENA_BASE_OFFSET) / GO_HEAP_ARENA_BYTES;
	uint8_t *p, *sb;

	for (int i = 0; i < nmem; i++)
		free(mem[i].bytes);
	nmem = 0;
	p = region(MHEAP_ARENAS - (uint64_t)hl->arenas, (size_t)hl->arenas + 8);
	put(p, hl->arenas, L2, 8);
	put(p, hl->sweepgen, SG, 4);
	put(region(L2 + ri * 8, 8), 0, HA, 8);
	p = region(HA + (uint64_t)hl->ha_spans, 8192 * 8);
	put(p, (int)((0xc000010000ULL / GO_PAGE_SIZE) % 8192) * 8, SPAN48, 8);
	put(p, (int)((0xc000020000ULL / GO_PAGE_SIZE) % 8192) * 8, SPANB, 8);

	span48 = region(SPAN48, 256);
	put(span48, hl->sp_start, 0xc000010000ULL, 8);
	put(span48, hl->sp_npages, 1, 8);
	put(span48, hl->sp_nelems, 170, hl->sp_nelems_size);
	put(span48, hl->sp_freeindex, 0, hl->sp_freeindex_size);
	put(span48, hl->sp_allocbits, BITS48, 8);
	put(span48, hl->sp_elemsize, 48, 8);
	put(span48, hl->sp_state, GO_SPAN_INUSE, 1);
	put(span48, hl->sp_sweepgen, SG, 4);
	bits48 = region(BITS48, 32);
	bits48[0] = 0x2;	/* object 1, the header: marked */

	sb = region(SPANB, 256);
	put(sb, hl->sp_start, BUCKETS, 8);
	put(sb, hl->sp_npages, 1, 8);
	put(sb, hl->sp_nelems, 1, hl->sp_nelems_size);
	put(sb, hl->sp_allocbits, BITSB, 8);
	put(sb, hl->sp_elemsize, 8192, 8);
	put(sb, hl->sp_state, GO_SPAN_INUSE, 1);
	put(sb, hl->sp_sweepgen, SG, 4);
	region(BITSB, 8)[0] = 0x1;

	hdr = region(HDR, 64);
}

/* A header of B=5 (32 buckets of 208 bytes: 6656 in an 8 KiB slot), count, seed. */
static void set_hdr(uint64_t count, uint32_t seed)
{
	put(hdr, layout->count, count, 8);
	put(hdr, layout->seed, seed, 4);
	hdr[layout->B] = 5;
	put(hdr, layout->buckets, BUCKETS, 8);
}

static struct mw_call_rec write_at(uint64_t obj, uint64_t t, uint64_t before, uint64_t after,
				   uint32_t seed)
{
	struct mw_call_rec r = { .type = MW_REC_CALL, .fn = PROBE_MAPASSIGN_FAST64, .goid = 1,
				 .obj = obj, .ax = maptype, .t_entry = t, .t_ret = t + 1000,
				 .entries = 1 };

	memcpy(r.hdr_before + layout->count, &before, 8);
	memcpy(r.hdr_after + layout->count, &after, 8);
	memcpy(r.hdr_before + layout->seed, &seed, 4);
	memcpy(r.hdr_after + layout->seed, &seed, 4);
	r.hdr_after[layout->B] = 5;
	return r;
}

static void heap_model(struct mw_model *m)
{
	model_init(m, &gb, layout, 0);
	m->heap.hl = hl;
	m->heap.cand[0] = 0x100;	/* a wrong candidate first: it must be skipped */
	m->heap.cand[1] = MHEAP_ARENAS;
	m->heap.ncand = 2;
}

static void object_states(void)
{
	struct go_heap h = { .hl = hl, .cand = { MHEAP_ARENAS }, .ncand = 1 };
	struct go_obj o;

	build_heap();
	EXPECT(goheap_resolve(&h, fake_read, NULL, HDR) && h.arenas == MHEAP_ARENAS);
	EXPECT(!goheap_object(&h, fake_read, NULL, HDR, SG, SG, &o) &&
	       o.state == GO_OBJ_MARKED && o.size == 48);
	EXPECT(!goheap_object(&h, fake_read, NULL, HDR + 8, SG, SG, &o) &&
	       o.state == GO_OBJ_NOT_OBJECT);	/* inside an object */
	EXPECT(!goheap_object(&h, fake_read, NULL, 0xc000010060ULL, SG, SG, &o) &&
	       o.state == GO_OBJ_FREE);		/* object 2: no mark, past freeindex */
	put(span48, hl->sp_freeindex, 3, hl->sp_freeindex_size);
	EXPECT(!goheap_object(&h, fake_read, NULL, 0xc000010060ULL, SG, SG, &o) &&
	       o.state == GO_OBJ_ALLOCATED);	/* allocated since the sweep */
	EXPECT(!goheap_object(&h, fake_read, NULL, 0xc000010060ULL, SG, SG - 2, &o) &&
	       o.state == GO_OBJ_REUSED);	/* ... after a sweep that freed what we saw */
	put(span48, hl->sp_sweepgen, SG - 2, 4);
	EXPECT(!goheap_object(&h, fake_read, NULL, HDR, SG, SG, &o) &&
	       o.state == GO_OBJ_UNKNOWN);	/* not swept this cycle: bits are old */
	EXPECT(!goheap_object(&h, fake_read, NULL, BUCKETS + 8, SG, SG, &o) &&
	       o.state == GO_OBJ_MARKED && o.size == 8192 - 8);	/* after a malloc header */
	EXPECT(!goheap_object(&h, fake_read, NULL, 0xc100000000ULL, SG, SG, &o) &&
	       o.state == GO_OBJ_NOT_OBJECT);	/* no arena there */
	put(span48, hl->sp_state, GO_SPAN_MANUAL, 1);
	EXPECT(!goheap_object(&h, fake_read, NULL, HDR, SG, SG, &o) && o.state == GO_OBJ_STACK);
}

static struct mw_map *map_at(struct mw_model *m, uint64_t addr)
{
	return g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(addr));
}

static void live_map_validates(void)
{
	struct mw_model m;
	struct mw_call_rec r;
	struct mw_map *mp;

	build_heap();
	set_hdr(120, 77);
	heap_model(&m);
	r = write_at(HDR, 1000, 119, 120, 77);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	model_refresh(&m, fake_read, NULL, 2000, true);
	EXPECT(goheap_ready(&m.heap) && m.heap.arenas == MHEAP_ARENAS);
	mp = map_at(&m, HDR);
	EXPECT(mp && !mp->gone && mp->validated && mp->capacity == 256 && mp->bytes == 8192);
	model_free(&m);
}

/* Each way a header stops being the map: it ends, its last good state kept. */
static void ended_maps_keep_their_last_state(void)
{
	const char *why[6] = { 0 };
	struct mw_model m;
	struct mw_call_rec r;

	for (int c = 0; c < 6; c++) {
		struct mw_map *mp;

		build_heap();
		set_hdr(120, 77);
		heap_model(&m);
		r = write_at(HDR, 1000, 119, 120, 77);
		EXPECT(!model_ingest(&m, &r, sizeof(r)));
		model_refresh(&m, fake_read, NULL, 2000, true);
		switch (c) {
		case 0:	/* the GC collected it: no mark, past freeindex (the bytes look intact) */
			bits48[0] = 0;
			break;
		case 1:	/* another map lives there: another seed, its own bucket array, and two
			 * GC cycles since (before, the header held is still the map's) */
			set_hdr(5, 78);
			put(hdr, layout->buckets, BUCKETS + 8192, 8);
			put(region(MHEAP_ARENAS - (uint64_t)hl->arenas + (uint64_t)hl->sweepgen, 4),
			    0, SG + 4, 4);
			break;
		case 2:	/* garbage: a count no map has (a pointer), an impossible B */
			put(hdr, layout->count, 0xc000123456ULL, 8);
			hdr[layout->B] = 60;
			break;
		case 3:	/* the bucket array is far smaller than 32 buckets */
			put(region(SPANB, 256), hl->sp_elemsize, 1024, 8);
			{
				uint8_t *sb = mem[nmem - 1].bytes;

				put(sb, hl->sp_start, BUCKETS, 8);
				put(sb, hl->sp_npages, 1, 8);
				put(sb, hl->sp_nelems, 8, hl->sp_nelems_size);
				put(sb, hl->sp_allocbits, BITSB, 8);
				put(sb, hl->sp_state, GO_SPAN_INUSE, 1);
				put(sb, hl->sp_sweepgen, SG, 4);
			}
			break;
		case 4:	/* collected and allocated again after a sweep since first seen */
			bits48[0] = 0;
			put(span48, hl->sp_freeindex, 5, hl->sp_freeindex_size);
			put(region(MHEAP_ARENAS - (uint64_t)hl->arenas + (uint64_t)hl->sweepgen, 4),
			    0, SG + 2, 4);
			put(span48, hl->sp_sweepgen, SG + 2, 4);
			put(region(SPANB + (uint64_t)hl->sp_sweepgen, 4), 0, SG + 2, 4);
			break;
		case 5:	/* a creation returns its address */
			r = write_at(HDR, 3000, 0, 0, 99);
			r.fn = PROBE_MAKEMAP_SMALL;
			EXPECT(!model_ingest(&m, &r, sizeof(r)));
			break;
		}
		model_refresh(&m, fake_read, NULL, 4000, true);
		mp = NULL;
		for (guint i = 0; i < m.ended->len; i++)
			if (((struct mw_map *)g_ptr_array_index(m.ended, i))->addr == HDR)
				mp = g_ptr_array_index(m.ended, i);
		EXPECT_MSG(mp && mp->gone && mp->hdr.count == 120 && mp->peak_len == 120 &&
				   mp->capacity == 256,
			   "case %d: %s", c, mp ? mp->end_reason : "not ended");
		why[c] = mp ? mp->end_reason : NULL;
		model_free(&m);
	}
	EXPECT(why[0] && strstr(why[0], "collected"));
	EXPECT(why[1] && strstr(why[1], "seed"));
	EXPECT(why[2] && strstr(why[2], "no longer reads as a map"));
	EXPECT(why[3] && strstr(why[3], "bucket array"));
	EXPECT(why[4] && strstr(why[4], "allocated again"));
	EXPECT(why[5] && strstr(why[5], "new map"));
}

/*
 * A delete that empties a map reseeds it and keeps its bucket array: a new seed over the same
 * tables is the same map, emptied while its writes were not watched, in a re-read and in a
 * write's header alike.
 */
static void emptied_map_stays_the_same(void)
{
	struct mw_model m;
	struct mw_call_rec r;
	struct mw_map *mp;
	uint64_t buckets = BUCKETS;

	build_heap();
	set_hdr(120, 77);
	heap_model(&m);
	r = write_at(HDR, 1000, 119, 120, 77);
	memcpy(r.hdr_after + layout->buckets, &buckets, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	model_refresh(&m, fake_read, NULL, 2000, true);
	set_hdr(0, 78);	/* emptied (and reseeded) between two re-reads */
	model_refresh(&m, fake_read, NULL, 3000, true);
	mp = map_at(&m, HDR);
	EXPECT(mp && !mp->gone && mp->seed == 78 && mp->reseeds == 1 && mp->hdr.count == 0 &&
	       mp->peak_len == 120 && m.ended->len == 0);
	/* emptied again, then written: the write's header carries the third seed */
	r = write_at(HDR, 4000, 0, 1, 79);
	memcpy(r.hdr_before + layout->buckets, &buckets, 8);
	memcpy(r.hdr_after + layout->buckets, &buckets, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && mp->seed == 79 && mp->reseeds == 2 && mp->assigns == 2 &&
	       m.ended->len == 0);
	/*
	 * another seed over other tables, the header seen held before: the re-read that follows
	 * at once decides; two GC cycles later the heap cannot tell, and the map ends
	 */
	buckets += 8192;
	r = write_at(HDR, 5000, 0, 1, 80);
	memcpy(r.hdr_before + layout->buckets, &buckets, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && mp->doubt_ns == 5000 && m.doubts && m.ended->len == 0);
	set_hdr(1, 80);
	put(region(MHEAP_ARENAS - (uint64_t)hl->arenas + (uint64_t)hl->sweepgen, 4), 0, SG + 4, 4);
	model_refresh(&m, fake_read, NULL, 6000, false);
	EXPECT_MSG(m.ended->len == 1 &&
			   strstr(((struct mw_map *)g_ptr_array_index(m.ended, 0))->end_reason,
				  "could not tell"),
		   "ended %u", m.ended->len);
	model_free(&m);

	/* without the heap, another seed over other tables is another map at once */
	model_init(&m, &gb, layout, 0);
	buckets = BUCKETS;
	for (uint32_t seed = 90; seed < 92; seed++, buckets += 8192) {
		r = write_at(HDR, seed * 1000, 0, 1, seed);
		memcpy(r.hdr_before + layout->buckets, &buckets, 8);
		memcpy(r.hdr_after + layout->buckets, &buckets, 8);
		EXPECT(!model_ingest(&m, &r, sizeof(r)));
	}
	EXPECT(m.ended->len == 1 && map_at(&m, HDR) && map_at(&m, HDR)->assigns == 1 && !m.doubts);
	model_free(&m);
}

/*
 * A new seed over new tables (emptied, then grown, while unwatched: etcd's wait list, whose
 * request ids pile up overflow buckets and force same-size grows): the same map until two GC
 * cycles have begun since the header was last seen held; after that it cannot be told from
 * another map at the address, and ends saying so.
 */
static void regrown_map_stays_while_held(void)
{
	const uint64_t buckets2 = BUCKETS + 0x2000, spanb2 = SPANB + 0x800;
	struct mw_model m;
	struct mw_call_rec r;
	struct mw_map *mp;
	uint64_t buckets = BUCKETS;
	uint8_t *sb, *p;

	build_heap();
	/* a second 8 KiB bucket array, in the page after the first */
	p = region(HA + (uint64_t)hl->ha_spans + ((buckets2 / GO_PAGE_SIZE) % 8192) * 8, 8);
	put(p, 0, spanb2, 8);
	sb = region(spanb2, 256);
	put(sb, hl->sp_start, buckets2, 8);
	put(sb, hl->sp_npages, 1, 8);
	put(sb, hl->sp_nelems, 1, hl->sp_nelems_size);
	put(sb, hl->sp_allocbits, BITSB + 0x100, 8);
	put(sb, hl->sp_elemsize, 8192, 8);
	put(sb, hl->sp_state, GO_SPAN_INUSE, 1);
	put(sb, hl->sp_sweepgen, SG, 4);
	region(BITSB + 0x100, 8)[0] = 0x1;

	set_hdr(3, 77);
	heap_model(&m);
	r = write_at(HDR, 1000, 2, 3, 77);
	memcpy(r.hdr_after + layout->buckets, &buckets, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	/* the heap not resolved yet: the first map written asks for a re-read at once */
	EXPECT(m.doubts && !map_at(&m, HDR)->sg_held_known);
	m.doubts = false;
	model_refresh(&m, fake_read, NULL, 2000, true);	/* marked by the last GC: held */
	mp = map_at(&m, HDR);
	EXPECT(mp && mp->sg_held_known && mp->sg_held == SG && m.sg_last_known &&
	       m.sg_last == SG && m.sg_last_ns == 2000);

	set_hdr(1, 78);
	put(hdr, layout->buckets, buckets2, 8);
	model_refresh(&m, fake_read, NULL, 3000, true);
	mp = map_at(&m, HDR);
	EXPECT_MSG(mp && !mp->gone && mp->seed == 78 && mp->reseeds == 1 &&
			   mp->hdr.buckets == buckets2 && m.ended->len == 0,
		   "%s", mp && mp->end_reason ? mp->end_reason : "-");

	/* a write with another seed over other tables: the re-read at once finds it held */
	r = write_at(HDR, 3500, 1, 2, 85);
	memcpy(r.hdr_before + layout->buckets, &buckets, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && mp->doubt_ns && m.doubts);
	/* another new seed before that re-read (a batch of tallies): it waits for the same one */
	r = write_at(HDR, 3550, 1, 2, 86);
	memcpy(r.hdr_before + layout->buckets, &(uint64_t){ BUCKETS + 0x4000 }, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && !mp->gone && mp->doubt_ns == 3500 && mp->seed == 86 && m.ended->len == 0);
	/* ... and so does a growth that finds another (as a write does) */
	r = write_at(HDR, 3560, 2, 2, 87);
	r.fn = PROBE_HASHGROW;
	memcpy(r.hdr_before + layout->buckets, &(uint64_t){ BUCKETS + 0x6000 }, 8);
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && !mp->gone && mp->doubt_ns == 3500 && mp->seed == 87 && mp->growths == 1 &&
	       m.ended->len == 0);
	set_hdr(2, 87);
	put(hdr, layout->buckets, buckets2, 8);	/* the tables of its growth above */
	m.doubts = false;
	model_refresh(&m, fake_read, NULL, 3600, false);
	mp = map_at(&m, HDR);
	EXPECT_MSG(mp && !mp->gone && !mp->doubt_ns && mp->reseeds == 2 && mp->assigns == 3 &&
			   m.ended->len == 0,
		   "%s", mp && mp->end_reason ? mp->end_reason : "-");

	/* one GC cycle later, its span not swept yet: nothing freed there, still the map */
	set_hdr(2, 79);
	put(region(MHEAP_ARENAS - (uint64_t)hl->arenas + (uint64_t)hl->sweepgen, 4), 0, SG + 2, 4);
	model_refresh(&m, fake_read, NULL, 4000, true);
	mp = map_at(&m, HDR);
	EXPECT(mp && !mp->gone && mp->seed == 79 && mp->reseeds == 3 && m.ended->len == 0);

	/* two cycles since it was last seen held: another map may have the address now */
	set_hdr(1, 80);
	put(hdr, layout->buckets, buckets2, 8);
	put(region(MHEAP_ARENAS - (uint64_t)hl->arenas + (uint64_t)hl->sweepgen, 4), 0, SG + 6, 4);
	model_refresh(&m, fake_read, NULL, 5000, true);
	EXPECT(m.ended->len == 1 || (map_at(&m, HDR) && map_at(&m, HDR)->gone));
	model_free(&m);
}

/*
 * Growths at one address by maps of successive calls (a stack map's address is the next
 * call's map's): each is its own map, known from its growth's header, never one map with
 * every growth and no entries (node_exporter's per-scrape maps).
 */
static void growths_of_other_maps_are_theirs(void)
{
	const uint64_t addr = 0xc000500000ULL;
	struct mw_model m;
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	for (uint32_t i = 0; i < 3; i++) {
		struct mw_call_rec g = write_at(addr, 1000 + i * 1000, 8, 8, 100 + i);
		uint64_t b = BUCKETS + i * 0x10000;

		g.fn = PROBE_HASHGROW;
		g.hdr_before[layout->B] = 0;
		g.hdr_after[layout->B] = 1;
		memcpy(g.hdr_before + layout->buckets, &b, 8);
		memcpy(g.hdr_after + layout->oldbuckets, &b, 8);
		b += 0x8000;
		memcpy(g.hdr_after + layout->buckets, &b, 8);
		EXPECT(!model_ingest(&m, &g, sizeof(g)));
	}
	mp = map_at(&m, addr);
	/* hashGrow is given the map's type (RAX): the map is named by it */
	EXPECT_MSG(mp && !strcmp(mp->type, "map[int64]int"), "%s", mp ? mp->type : "-");
	EXPECT_MSG(mp && mp->growths == 1 && mp->seed == 102 && mp->hdr.count == 8 &&
			   mp->peak_len == 8 && mp->hdr.B == 1 && m.ended->len == 2,
		   "growths %lu seed %lu len %lu peak %lu B %d ended %u", mp ? mp->growths : 0,
		   mp ? mp->seed : 0, mp ? mp->hdr.count : 0, mp ? mp->peak_len : 0,
		   mp ? mp->hdr.B : -9, m.ended->len);
	model_free(&m);
}

/*
 * A Swiss map's first group (growToSmall) is its first allocation, not a growth; a table
 * that grows (growToTable) is one.
 */
static void first_group_is_no_growth(void)
{
	struct mw_model m;
	struct mw_call_rec g = write_at(HDR, 1000, 0, 0, 77);
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	g.fn = PROBE_SWISS_GROW_TO_SMALL;
	EXPECT(!model_ingest(&m, &g, sizeof(g)));
	mp = map_at(&m, HDR);
	EXPECT_MSG(mp && mp->growths == 0, "growths %lu", mp ? mp->growths : 99);
	g = write_at(HDR, 2000, 8, 8, 77);
	g.fn = PROBE_SWISS_GROW_TO_TABLE;
	EXPECT(!model_ingest(&m, &g, sizeof(g)));
	mp = map_at(&m, HDR);
	EXPECT_MSG(mp && mp->growths == 1, "growths %lu", mp ? mp->growths : 99);
	model_free(&m);
}

/* Grown while the growth probes were detached: its headers' B shows at least how often. */
static void growths_shown_by_B(void)
{
	struct mw_model m;
	struct mw_call_rec r;
	struct mw_map *mp;

	model_init(&m, &gb, layout, 0);
	r = write_at(HDR, 1000, 13500, 13501, 77);
	r.hdr_before[layout->B] = r.hdr_after[layout->B] = 11;
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	r = write_at(HDR, 9000, 58200, 58201, 77);
	r.hdr_before[layout->B] = r.hdr_after[layout->B] = 14;
	EXPECT(!model_ingest(&m, &r, sizeof(r)));
	mp = map_at(&m, HDR);
	EXPECT(mp && mp->growths == 0 && mw_map_growths(mp) == 3);
	model_free(&m);
}

/* Without span metadata (structure only), an absurd header still ends the map. */
static void structure_alone(void)
{
	struct map_hdr h = { .B = 3, .count = 64, .buckets = 1 };

	EXPECT(map_hdr_plausible(&h, layout));
	h.count = 65;	/* more than 8 slots per bucket */
	EXPECT(!map_hdr_plausible(&h, layout));
	h = (struct map_hdr){ .B = 57, .count = 1, .buckets = 1 };
	EXPECT(!map_hdr_plausible(&h, layout));
	h = (struct map_hdr){ .B = 0, .count = 1, .buckets = 1, .oldbuckets = 8 };
	EXPECT(!map_hdr_plausible(&h, layout));	/* growing from nothing */
}

/* 500 maps made at one site, each written and then replaced at the same address. */
static void short_lived_by_site(void)
{
	struct mw_model m;
	struct mw_call_rec c, w;
	const struct go_func *f = pclntab_func_named(&gb.pcln, "main.assign64", NULL);
	GPtrArray *made;

	model_init(&m, &gb, layout, 0);
	for (uint64_t i = 0; i < 500; i++) {
		uint64_t addr = 0xc000400000ULL + (i % 7) * 48, t = i * 1000000;

		c = write_at(addr, t, 0, 0, (uint32_t)i + 1);
		c.fn = PROBE_MAKEMAP_SMALL;
		c.caller = f->entry + 8;
		EXPECT(!model_ingest(&m, &c, sizeof(c)));
		w = write_at(addr, t + 3000, 2, 3, (uint32_t)i + 1);
		EXPECT(!model_ingest(&m, &w, sizeof(w)));
	}
	model_finish(&m, 500 * 1000000ULL, 1000000000ULL);
	made = model_made_sorted(&m);
	EXPECT(made->len == 1);
	if (made->len) {
		const struct mw_made *md = g_ptr_array_index(made, 0);

		EXPECT_MSG(md->made == 500 && md->ended == 493 && md->alive_at_end == 7 &&
				   md->peak_len == 3 && md->writes == 500,
			   "made %lu ended %lu alive %lu peak %lu writes %lu", md->made, md->ended,
			   md->alive_at_end, md->peak_len, md->writes);
		/* creation (RET at t + 1000) to the last write (RET at t + 4000 ns) */
		EXPECT(mw_made_median_life(md) == 3000);
	}
	EXPECT(g_hash_table_size(m.maps) == 0);	/* none judged one by one */
	g_ptr_array_unref(made);
	model_free(&m);
}

/*
 * The same, but no GC ran: none of the 300 maps is known to have ended. Each was used for a
 * few microseconds, seconds before the end: the site is still short-lived. One made and still
 * written at the end is judged on its own.
 */
static void short_lived_without_gc(void)
{
	struct mw_model m;
	struct mw_call_rec c, w;
	const struct go_func *f = pclntab_func_named(&gb.pcln, "main.assign64", NULL);
	const struct go_func *g = pclntab_func_named(&gb.pcln, "main.delete64", NULL);
	GPtrArray *made;

	model_init(&m, &gb, layout, 0);
	for (uint64_t i = 0; i < 300; i++) {
		uint64_t addr = 0xc000400000ULL + i * 48, t = i * 10000000;

		c = write_at(addr, t, 0, 0, (uint32_t)i + 1);
		c.fn = PROBE_MAKEMAP_SMALL;
		c.caller = f->entry + 8;
		EXPECT(!model_ingest(&m, &c, sizeof(c)));
		w = write_at(addr, t + 3000, 2, 3, (uint32_t)i + 1);
		EXPECT(!model_ingest(&m, &w, sizeof(w)));
	}
	c = write_at(0xc000900000ULL, 1000, 0, 0, 7);	/* another site, written to the end */
	c.fn = PROBE_MAKEMAP_SMALL;
	c.caller = g->entry + 8;
	EXPECT(!model_ingest(&m, &c, sizeof(c)));
	w = write_at(0xc000900000ULL, 9900000000ULL, 2, 3, 7);
	EXPECT(!model_ingest(&m, &w, sizeof(w)));
	model_finish(&m, 10000000000ULL, 2500000000ULL);
	made = model_made_sorted(&m);
	EXPECT_MSG(made->len == 1 && ((struct mw_made *)g_ptr_array_index(made, 0))->made == 300 &&
			   ((struct mw_made *)g_ptr_array_index(made, 0))->ended == 0,
		   "%u sites", made->len);
	EXPECT(g_hash_table_size(m.maps) == 1 &&
	       g_hash_table_lookup(m.maps, GSIZE_TO_POINTER(0xc000900000ULL)));
	g_ptr_array_unref(made);
	model_free(&m);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(object_states), CASE(live_map_validates), CASE(ended_maps_keep_their_last_state),
		CASE(emptied_map_stays_the_same), CASE(regrown_map_stays_while_held),
		CASE(growths_of_other_maps_are_theirs), CASE(growths_shown_by_B),
		CASE(first_group_is_no_growth),
		CASE(structure_alone), CASE(short_lived_by_site), CASE(short_lived_without_gc),
	};
	char path[512], err[256];

	snprintf(path, sizeof(path), "%s/1.22/writes.plain", fixtures_dir());
	if (gobin_open(&gb, path, err, sizeof(err))) {
		printf("not ok - validate: cannot open %s: %s\n", path, err);
		return 1;
	}
	layout = go_layout_for(&gb.bi, err, sizeof(err));
	layout = go_layout_for(&gb.bi, err, sizeof(err));
	hl = go_heap_layout_for(22);
	maptype = layout ? find_type("map[int64]int") : 0;
	if (!layout || !hl || !maptype) {
		printf("not ok - validate: no go1.22 layout\n");
		return 1;
	}
	return check_run("validate", cases, sizeof(cases) / sizeof(cases[0]));
}
