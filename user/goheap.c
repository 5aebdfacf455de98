// SPDX-License-Identifier: MIT
#include <string.h>
#include "disasm.h"
#include "goheap.h"

void goheap_init(struct go_heap *h, const struct gobin *gb, const struct go_heap_layout *hl,
		 uint64_t bias)
{
	const struct go_func *f;
	const uint8_t *code;
	uint64_t t[32];
	int n;

	memset(h, 0, sizeof(*h));
	if (!hl || !(f = pclntab_func_named(&gb->pcln, "runtime.findObject", NULL)) ||
	    f->end <= f->entry || !(code = elfimg_at(&gb->img, f->entry, f->end - f->entry)))
		return;
	n = disasm_rip_loads(code, f->end - f->entry, f->entry, t, 32);
	for (int i = 0; i < n && h->ncand < GOHEAP_MAX_CAND; i++) {
		/* mheap_ is in the zero-filled data: writable, past the file's bytes. */
		for (int s = 0; s < gb->img.nsegs; s++) {
			const struct elfimg_seg *sg = &gb->img.segs[s];

			if ((sg->flags & 2 /* PF_W */) && t[i] >= sg->vaddr &&
			    t[i] - sg->vaddr < sg->memsz && t[i] - sg->vaddr >= sg->filesz) {
				h->cand[h->ncand++] = t[i] + bias;
				break;
			}
		}
	}
	if (h->ncand)
		h->hl = hl;
}

static uint64_t rd_u64(mem_read_fn rd, void *ctx, uint64_t addr, int *err)
{
	uint64_t v = 0;

	if (rd(ctx, addr, &v, sizeof(v)))
		*err = 1;
	return v;
}

/* The mspan pointer for addr through the arena index l2: 0 if none. */
static uint64_t span_ptr(const struct go_heap_layout *hl, uint64_t l2, mem_read_fn rd, void *ctx,
			 uint64_t addr, int *err)
{
	uint64_t ri = (addr - GO_ARENA_BASE_OFFSET) / GO_HEAP_ARENA_BYTES, ha;

	if (ri >= GO_ARENA_L2_ENTRIES)
		return 0;
	ha = rd_u64(rd, ctx, l2 + ri * 8, err);
	if (!ha || *err)
		return 0;
	return rd_u64(rd, ctx,
		      ha + (uint64_t)hl->ha_spans +
			      ((addr / GO_PAGE_SIZE) % (GO_HEAP_ARENA_BYTES / GO_PAGE_SIZE)) * 8,
		      err);
}

static uint64_t field(const uint8_t *b, size_t len, int off, int size)
{
	uint64_t v = 0;

	if (off >= 0 && size > 0 && size <= 8 && (size_t)off + (size_t)size <= len)
		memcpy(&v, b + off, (size_t)size);	/* little-endian target */
	return v;
}

static int read_span(const struct go_heap_layout *hl, mem_read_fn rd, void *ctx, uint64_t sp,
		     struct go_span *s)
{
	uint8_t b[256];
	int need = 0;
	const int offs[] = { hl->sp_start + 8, hl->sp_npages + 8,
			     hl->sp_nelems + hl->sp_nelems_size,
			     hl->sp_freeindex + hl->sp_freeindex_size, hl->sp_allocbits + 8,
			     hl->sp_elemsize + 8, hl->sp_state + 1, hl->sp_sweepgen + 4 };

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (offs[i] > need)
			need = offs[i];
	if (need <= 0 || need > (int)sizeof(b) || rd(ctx, sp, b, (size_t)need))
		return -1;
	s->span = sp;
	s->start = field(b, sizeof(b), hl->sp_start, 8);
	s->npages = field(b, sizeof(b), hl->sp_npages, 8);
	s->nelems = field(b, sizeof(b), hl->sp_nelems, hl->sp_nelems_size);
	s->freeindex = field(b, sizeof(b), hl->sp_freeindex, hl->sp_freeindex_size);
	s->allocbits = field(b, sizeof(b), hl->sp_allocbits, 8);
	s->elemsize = field(b, sizeof(b), hl->sp_elemsize, 8);
	s->state = (uint8_t)field(b, sizeof(b), hl->sp_state, 1);
	s->sweepgen = (uint32_t)field(b, sizeof(b), hl->sp_sweepgen, 4);
	return 0;
}

/* A span that holds addr: its pages cover it. */
static bool span_covers(const struct go_span *s, uint64_t addr)
{
	return s->npages && s->npages <= GO_HEAP_ARENA_BYTES / GO_PAGE_SIZE * 64 &&
	       addr >= s->start && addr - s->start < s->npages * GO_PAGE_SIZE;
}

bool goheap_resolve(struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t known)
{
	if (!h->hl || h->arenas || h->tries >= 16)
		return h->arenas != 0;
	h->tries++;
	for (int i = 0; i < h->ncand; i++) {
		int err = 0;
		uint64_t l2 = rd_u64(rd, ctx, h->cand[i], &err), sp;
		struct go_span s;

		if (err || !l2)
			continue;
		sp = span_ptr(h->hl, l2, rd, ctx, known, &err);
		if (err || !sp || read_span(h->hl, rd, ctx, sp, &s) || !span_covers(&s, known))
			continue;
		h->arenas = h->cand[i];
		h->l2 = l2;
		return true;
	}
	return false;
}

int goheap_sweepgen(const struct go_heap *h, mem_read_fn rd, void *ctx, uint32_t *sg)
{
	if (!goheap_ready(h))
		return -1;
	return rd(ctx, h->arenas - (uint64_t)h->hl->arenas + (uint64_t)h->hl->sweepgen, sg,
		  sizeof(*sg));
}

int goheap_span(const struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t addr,
		struct go_span *s)
{
	int err = 0;
	uint64_t sp;

	if (!goheap_ready(h))
		return -1;
	sp = span_ptr(h->hl, h->l2, rd, ctx, addr, &err);
	if (err || !sp || read_span(h->hl, rd, ctx, sp, s) || !span_covers(s, addr))
		return -1;
	return 0;
}

int goheap_object(const struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t addr, uint32_t sg,
		  uint32_t sg_seen, struct go_obj *o)
{
	struct go_span s;
	uint64_t idx;
	uint8_t bits;

	memset(o, 0, sizeof(*o));
	if (goheap_span(h, rd, ctx, addr, &s)) {
		o->state = GO_OBJ_NOT_OBJECT;
		return 0;
	}
	if (s.state == GO_SPAN_MANUAL) {
		o->state = GO_OBJ_STACK;
		return 0;
	}
	/* span_covers bounded npages: no object outgrows its span, so sizes stay < 2^32 pages */
	if (s.state != GO_SPAN_INUSE || !s.elemsize || s.elemsize > s.npages * GO_PAGE_SIZE ||
	    (idx = (addr - s.start) / s.elemsize) >= s.nelems) {
		o->state = GO_OBJ_NOT_OBJECT;
		return 0;
	}
	o->size = s.elemsize;
	switch ((addr - s.start) % s.elemsize) {
	case 0:
		break;
	case GO_MALLOC_HEADER:
		/* Go >= 1.22: an object with pointers over 512 bytes starts after its type header */
		if (s.elemsize > 512 + GO_MALLOC_HEADER) {
			o->size -= GO_MALLOC_HEADER;
			break;
		}
		/* fall through */
	default:
		o->state = GO_OBJ_NOT_OBJECT;
		return 0;
	}
	if (s.sweepgen != sg && s.sweepgen != sg + 3) {
		o->state = GO_OBJ_UNKNOWN;	/* bits of an older cycle */
		return 0;
	}
	if (!s.allocbits || rd(ctx, s.allocbits + idx / 8, &bits, 1))
		return -1;
	if (bits & (1u << (idx % 8)))
		o->state = GO_OBJ_MARKED;
	else if (idx >= s.freeindex)
		o->state = GO_OBJ_FREE;
	else
		o->state = (int32_t)(sg - sg_seen) > 0 ? GO_OBJ_REUSED : GO_OBJ_ALLOCATED;
	return 0;
}
