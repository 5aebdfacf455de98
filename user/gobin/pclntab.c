// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pclntab.h"
#include "span.h"
#include "varint.h"

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

bool pclntab_magic_at(const uint8_t *p)
{
	uint32_t m = rd32(p);

	return (m == PCLN_MAGIC_118 || m == PCLN_MAGIC_120) && p[4] == 0 && p[5] == 0 &&
	       p[6] == 1 && p[7] == 8;
}

int pclntab_parse_header(struct pclntab *t, const uint8_t *p, size_t len, uint64_t vaddr,
			 char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	if (len < PCLN_HEADER_SIZE || !pclntab_magic_at(p)) {
		uint32_t m = len >= 4 ? rd32(p) : 0;

		if (m == 0xfffffffbu || m == 0xfffffffau)
			snprintf(err, errlen, "Go function table predates Go 1.18 (not supported)");
		else
			snprintf(err, errlen, "no Go 1.18+ amd64 function table (pclntab)");
		return -1;
	}
	t->p = p;
	t->len = len;
	t->vaddr = vaddr;
	t->magic = rd32(p);
	t->minlc = p[6];
	t->nfunc = rd64(p + 8);
	t->nfiles = rd64(p + 16);
	t->hdr_text_start = rd64(p + 24);
	t->funcname_off = rd64(p + 32);
	t->cu_off = rd64(p + 40);
	t->filetab_off = rd64(p + 48);
	t->pctab_off = rd64(p + 56);
	t->pcln_off = rd64(p + 64);
	/*
	 * The five areas follow each other inside the table, and the function table holds
	 * nfunc + 1 pairs of u32 (the last one is the end of text). Every later read is checked
	 * against these bounds.
	 */
	if (t->funcname_off < PCLN_HEADER_SIZE || t->cu_off < t->funcname_off ||
	    t->filetab_off < t->cu_off || t->pctab_off < t->filetab_off ||
	    t->pcln_off < t->pctab_off || t->nfunc == 0 || t->nfunc == UINT64_MAX ||
	    !span_array_ok(t->pcln_off, t->nfunc + 1, 8, len) ||
	    t->nfiles > t->filetab_off - t->cu_off) {
		snprintf(err, errlen, "corrupt Go function table header");
		return -1;
	}
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct go_func *x = a, *y = b;

	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Bytes of the table from the _func record at funcoff (within the function table area). */
static const uint8_t *func_rec(const struct pclntab *t, uint32_t funcoff, size_t *avail)
{
	uint64_t off = t->pcln_off + (uint64_t)funcoff;	/* both below 2^63: no wrap */

	if (off >= t->len)
		return NULL;
	*avail = t->len - off;
	return t->p + off;
}

int pclntab_load_funcs(struct pclntab *t, uint64_t text_start, char *err, size_t errlen)
{
	const uint8_t *ftab = t->p + t->pcln_off;	/* nfunc + 1 pairs: checked by the header */
	const uint8_t *names = t->p + t->funcname_off;
	size_t nameslen = t->cu_off - t->funcname_off;
	uint64_t prev = 0;

	free(t->funcs);
	t->funcs = calloc(t->nfunc, sizeof(*t->funcs));
	if (!t->funcs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->text_start = text_start;
	for (uint64_t i = 0; i < t->nfunc; i++) {
		uint32_t eoff = rd32(ftab + i * 8), foff = rd32(ftab + i * 8 + 4);
		uint32_t next = rd32(ftab + (i + 1) * 8), noff;
		struct go_func *f = &t->funcs[i];
		const uint8_t *fn;
		size_t avail;

		if (eoff < prev || next < eoff || !(fn = func_rec(t, foff, &avail)) || avail < 8) {
			snprintf(err, errlen, "corrupt Go function table (entry %llu)",
				 (unsigned long long)i);
			goto fail;
		}
		prev = eoff;
		noff = rd32(fn + 4);
		if (!(f->name = span_str(names, nameslen, noff))) {
			snprintf(err, errlen, "corrupt Go function name (entry %llu)",
				 (unsigned long long)i);
			goto fail;
		}
		f->entry = text_start + eoff;
		f->end = text_start + next;
		f->funcoff = foff;
	}
	t->nfuncs = t->nfunc;
	/* Already sorted in a valid table; keep the invariant explicit and cheap. */
	qsort(t->funcs, t->nfuncs, sizeof(*t->funcs), cmp_entry);
	return 0;
fail:
	free(t->funcs);
	t->funcs = NULL;
	t->nfuncs = 0;
	return -1;
}

void pclntab_rebase(struct pclntab *t, uint64_t text_start)
{
	for (size_t i = 0; i < t->nfuncs; i++) {
		t->funcs[i].entry = t->funcs[i].entry - t->text_start + text_start;
		t->funcs[i].end = t->funcs[i].end - t->text_start + text_start;
	}
	t->text_start = text_start;
}

void pclntab_free(struct pclntab *t)
{
	free(t->funcs);
	t->funcs = NULL;
	t->nfuncs = 0;
}

const struct go_func *pclntab_func_at(const struct pclntab *t, uint64_t pc)
{
	size_t lo = 0, hi = t->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->funcs[mid].entry <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (pc >= t->funcs[lo - 1].end)
		return NULL;
	return &t->funcs[lo - 1];
}

const struct go_func *pclntab_func_named(const struct pclntab *t, const char *name, int *count)
{
	const struct go_func *best = NULL;
	int n = 0;

	for (size_t i = 0; i < t->nfuncs; i++) {
		const struct go_func *f = &t->funcs[i];

		if (strcmp(f->name, name))
			continue;
		n++;
		if (!best || f->end - f->entry > best->end - best->entry)
			best = f;
	}
	if (count)
		*count = n;
	return best;
}

/*
 * Value of the pc-value table at off for target pc, as the runtime's pcvalue(): the value is
 * an int32 that wraps (Go's arithmetic), so it is kept in a uint32 here.
 */
static int pcvalue(const struct pclntab *t, uint32_t off, uint64_t entry, uint64_t target,
		   int32_t *out)
{
	const uint8_t *tab = t->p + t->pctab_off;
	size_t n = t->pcln_off - t->pctab_off, o = off;
	uint64_t pc = entry;
	uint32_t val = UINT32_MAX;	/* -1 */
	bool first = true;

	if (off == 0 || off >= n)
		return -1;
	for (;;) {
		uint64_t uv, pcd;

		if (uvarint_read(tab, n, &o, &uv))
			return -1;
		if (uv == 0 && !first)
			return -1;
		first = false;
		val += (uv & 1) ? ~(uint32_t)(uv >> 1) : (uint32_t)(uv >> 1);
		if (uvarint_read(tab, n, &o, &pcd))
			return -1;
		pc += pcd * t->minlc;
		if (target < pc) {
			*out = val <= INT32_MAX ? (int32_t)val : -(int32_t)(UINT32_MAX - val) - 1;
			return 0;
		}
	}
}

int pclntab_pcvalue(const struct pclntab *t, const struct go_func *f, uint32_t off, uint64_t pc,
		    int32_t *out)
{
	return pcvalue(t, off, f->entry, pc, out);
}

/* _func: npcdata u32 @28; nfuncdata u8 and the arrays after the fields of this format. */
static int func_tables(const struct pclntab *t, const struct go_func *f, uint32_t *npcdata,
		       uint32_t *nfuncdata, size_t *arrays)
{
	size_t avail, hdr = t->magic == PCLN_MAGIC_118 ? 40 : 44;
	const uint8_t *fn = func_rec(t, f->funcoff, &avail);

	if (!fn || avail < hdr)
		return -1;
	*npcdata = rd32(fn + 28);
	*nfuncdata = fn[hdr - 1];
	*arrays = hdr;
	if (!span_array_ok(hdr, (uint64_t)*npcdata + *nfuncdata, 4, avail))
		return -1;
	return 0;
}

int pclntab_pcdata(const struct pclntab *t, const struct go_func *f, int i, uint32_t *off)
{
	uint32_t np, nf;
	size_t a, avail;

	if (func_tables(t, f, &np, &nf, &a) || i < 0 || (uint32_t)i >= np)
		return -1;
	*off = rd32(func_rec(t, f->funcoff, &avail) + a + (size_t)i * 4);
	return *off ? 0 : -1;
}

int pclntab_funcdata(const struct pclntab *t, const struct go_func *f, int i, uint32_t *off)
{
	uint32_t np, nf;
	size_t a, avail;

	if (func_tables(t, f, &np, &nf, &a) || i < 0 || (uint32_t)i >= nf)
		return -1;
	*off = rd32(func_rec(t, f->funcoff, &avail) + a + ((size_t)np + (size_t)i) * 4);
	return *off == 0xffffffffu ? -1 : 0;
}

const char *pclntab_name(const struct pclntab *t, int32_t off)
{
	if (off < 0)
		return NULL;
	return span_str(t->p + t->funcname_off, t->cu_off - t->funcname_off, (uint64_t)off);
}

int pclntab_line(const struct pclntab *t, const struct go_func *f, uint64_t pc, const char **file,
		 int *line)
{
	size_t avail;
	const uint8_t *fn = func_rec(t, f->funcoff, &avail);
	const uint8_t *cutab = t->p + t->cu_off;
	size_t cun = t->filetab_off - t->cu_off, ftn = t->pctab_off - t->filetab_off;
	uint32_t pcfile, pcln, cuoff, fileoff;
	int32_t fileno, ln;
	const char *name;

	if (!fn || avail < 36 || pc < f->entry || pc >= f->end)
		return -1;
	pcfile = rd32(fn + 20);
	pcln = rd32(fn + 24);
	cuoff = rd32(fn + 32);
	if (pcvalue(t, pcfile, f->entry, pc, &fileno) || pcvalue(t, pcln, f->entry, pc, &ln))
		return -1;
	/* cutab[cuoff + fileno] is a u32 offset of the file's name in filetab */
	if (fileno < 0 || span_u32(cutab, cun, ((uint64_t)cuoff + (uint64_t)fileno) * 4, &fileoff) ||
	    !(name = span_str(t->p + t->filetab_off, ftn, fileoff)))
		return -1;
	*file = name;
	*line = ln;
	return 0;
}
