/* SPDX-License-Identifier: MIT */
/*
 * The Go heap's own metadata, read from the target's memory: which span holds an address,
 * whether that span is in use, the size of its objects, and whether the object at the address
 * is allocated, free, or was freed and handed out again since a map was first seen there.
 *
 * The walk is the runtime's spanOf(): mheap_.arenas[0] (one level on linux/amd64) holds a
 * pointer per 64 MiB arena to its heapArena, whose spans[] has the *mspan of each 8 KiB page.
 * In a span, allocBits are the marks of the last GC once the span is swept (its sweepgen is
 * mheap_.sweepgen, or +3 when cached), and freeindex is where allocation resumes: an object
 * below freeindex without its bit was allocated after that sweep, one above it without its bit
 * is free.
 *
 * mheap_ itself is found without symbols (binaries are often stripped): runtime.findObject
 * loads mheap_.arenas[0] with a RIP-relative MOV; each such load of a writable address is a
 * candidate, and the first whose walk finds a span holding an address known to be Go memory
 * (a map header the program wrote) is taken. Pure given the memory reader.
 */
#ifndef MW_GOHEAP_H
#define MW_GOHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gobin/gobin.h"
#include "probes.h"

/* Reads target memory: 0, or -1 if [addr, addr+n) cannot be read. */
typedef int (*mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t n);

#define GOHEAP_MAX_CAND 8
#define GO_MALLOC_HEADER 8	/* Go >= 1.22: the type pointer before a larger pointerful object */

struct go_heap {
	const struct go_heap_layout *hl;	/* NULL: not available for this binary */
	uint64_t cand[GOHEAP_MAX_CAND];		/* runtime addresses of &mheap_.arenas[0]? */
	int ncand;
	uint64_t arenas;			/* the one that resolved, 0 not yet */
	uint64_t l2;				/* its value: the arena index array */
	int tries;				/* resolve attempts with distinct addresses */
};

struct go_span {
	uint64_t span;				/* the mspan's address */
	uint64_t start, npages, nelems, freeindex, allocbits, elemsize;
	uint32_t sweepgen;
	uint8_t state;
};

enum go_obj_state {
	GO_OBJ_UNKNOWN = 0,	/* in an in-use span, not swept this cycle: cannot tell */
	GO_OBJ_MARKED,		/* allocated, and marked by the last GC (or allocated during it) */
	GO_OBJ_ALLOCATED,	/* allocated since the last sweep */
	GO_OBJ_FREE,		/* free: the GC collected it */
	GO_OBJ_REUSED,		/* freed and allocated again since it was first seen */
	GO_OBJ_NOT_OBJECT,	/* not the start of an object, or not in an in-use heap span */
	GO_OBJ_STACK,		/* goroutine stack memory (a span the runtime manages itself) */
};

struct go_obj {
	enum go_obj_state state;
	uint64_t size;				/* bytes of the object's slot (size class) */
};

/* Find the candidates in the binary; h->hl NULL if the release or the code is unknown. */
void goheap_init(struct go_heap *h, const struct gobin *gb, const struct go_heap_layout *hl,
		 uint64_t bias);
static inline bool goheap_ready(const struct go_heap *h)
{
	return h->arenas != 0;
}
/* Try the candidates against an address known to be Go memory. True once resolved. */
bool goheap_resolve(struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t known);
/* mheap_.sweepgen: 0, or -1. */
int goheap_sweepgen(const struct go_heap *h, mem_read_fn rd, void *ctx, uint32_t *sg);
/* The span holding addr: 0, or -1 if none (not Go heap memory, or unreadable). */
int goheap_span(const struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t addr,
		struct go_span *s);
/*
 * The object at addr. sg is mheap_.sweepgen now, sg_seen its value when the object was first
 * seen (a sweep since then makes an unmarked slot below freeindex someone else's). 0, or -1
 * if memory could not be read.
 */
int goheap_object(const struct go_heap *h, mem_read_fn rd, void *ctx, uint64_t addr, uint32_t sg,
		  uint32_t sg_seen, struct go_obj *o);

#endif
