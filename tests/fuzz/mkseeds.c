// SPDX-License-Identifier: MIT
/*
 * Seed corpora for the fuzzers, cut from a real Go binary (a fixture):
 *
 *   mkseeds BINARY OUTDIR TAG
 *
 * A whole fixture is megabytes, and a fuzzer mutating it runs a few hundred times a second;
 * so this writes a small Go ELF with the same structure: the fixture's build info, a
 * function table holding only the probed runtime functions and main.* (their names, files,
 * pc-value tables, inline trees and code, at new offsets), a moduledata that points at it,
 * and two map type descriptors. From it: OUTDIR/gobin and OUTDIR/elfimg (with and without
 * section headers, PIE), OUTDIR/pclntab (the bare table), OUTDIR/buildinfo (the blob),
 * OUTDIR/ingest (ring-buffer records naming its functions and types) and OUTDIR/report (the
 * report a capture of those records makes). Every file is named TAG-*.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../../bpf/mapwatch.h"
#include "detect/detect.h"
#include "gobin/varint.h"
#include "model.h"
#include "report.h"
#include "target.h"

#define TEXT_VA 0x401000ULL
#define RODATA_VA 0x600000ULL
#define DATA_VA 0x700000ULL
#define MODULEDATA_BYTES 640
#define MAX_SEL 64

static void die(const char *what)
{
	fprintf(stderr, "mkseeds: %s\n", what);
	exit(1);
}

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static size_t put(struct buf *b, const void *d, size_t n)
{
	size_t at = b->n;

	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("out of memory");
	}
	if (d)
		memcpy(b->p + b->n, d, n);
	else
		memset(b->p + b->n, 0, n);
	b->n += n;
	return at;
}

static void align(struct buf *b, size_t a)
{
	while (b->n % a)
		put(b, NULL, 1);
}

static void set32(struct buf *b, size_t at, uint32_t v)
{
	memcpy(b->p + at, &v, 4);
}

static void set64(struct buf *b, size_t at, uint64_t v)
{
	memcpy(b->p + at, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A NUL-terminated string in b, shared with an equal one already there: its offset. */
static uint32_t put_str(struct buf *b, const char *s)
{
	size_t l = strlen(s) + 1;

	for (size_t o = 0; o + l <= b->n; o++)
		if (!memcmp(b->p + o, s, l) && (o == 0 || b->p[o - 1] == 0))
			return (uint32_t)o;
	return (uint32_t)put(b, s, l);
}

/* Length of the pc-value table at off (with its end byte) and its largest value; 0 if bad. */
static size_t pcv_len(const struct pclntab *t, uint32_t off, int32_t *maxv)
{
	const uint8_t *tab = t->p + t->pctab_off;
	size_t n = t->pcln_off - t->pctab_off, o = off;
	uint32_t val = UINT32_MAX;
	bool first = true;

	*maxv = -1;
	if (!off || off >= n)
		return 0;
	for (;;) {
		uint64_t uv, pcd;

		if (uvarint_read(tab, n, &o, &uv))
			return 0;
		if (uv == 0 && !first)
			return o - off;
		first = false;
		val += (uv & 1) ? ~(uint32_t)(uv >> 1) : (uint32_t)(uv >> 1);
		if ((int32_t)val > *maxv)
			*maxv = (int32_t)val;
		if (uvarint_read(tab, n, &o, &pcd))
			return 0;
	}
}

static uint32_t copy_pcv(const struct pclntab *t, uint32_t off, struct buf *pctab, int32_t *maxv)
{
	int32_t m;
	size_t len = pcv_len(t, off, maxv ? maxv : &m);

	if (!len)
		return 0;
	return (uint32_t)put(pctab, t->p + t->pctab_off + off, len);
}

struct seed_bin {
	struct buf elf;
	size_t pcln_file_off, pcln_len;		/* the table inside elf */
	size_t bi_file_off, bi_len;
	uint64_t type_va[2];
	uint64_t text_va;
	const struct go_func *sel[MAX_SEL];	/* in the fixture */
	uint64_t new_entry[MAX_SEL];
	int nsel;
};

static bool wanted(const char *name, bool small)
{
	static const char *const few[] = { "runtime.mapassign_fast64", "runtime.makemap_small",
					   "runtime.fatal", "main.assign64", "main.main" };

	if (small) {
		for (size_t i = 0; i < sizeof(few) / sizeof(few[0]); i++)
			if (!strcmp(name, few[i]))
				return true;
		return false;
	}
	if (!strncmp(name, "main.", 5))
		return true;
	for (int id = 0; id < PROBE__COUNT; id++)
		if (!strcmp(name, probe_defs[id].symbol))
			return true;
	return false;
}

/* The build info blob as stored: header, version, modinfo. */
static void buildinfo_blob(const struct gobin *gb, const uint8_t **p, size_t *n)
{
	const struct elfimg_sec *s = elfimg_section(&gb->img, ".go.buildinfo");
	size_t off = 32;
	uint64_t l;

	if (!s || s->offset >= gb->img.size)
		die("the fixture has no .go.buildinfo section");
	*p = gb->img.data + s->offset;
	if (uvarint_read(*p, gb->img.size - s->offset, &off, &l))
		die("bad build info");
	off += l;
	if (uvarint_read(*p, gb->img.size - s->offset, &off, &l))
		die("bad build info");
	*n = off + l;
}

static void make_bin(const struct target *tg, bool small, bool sections, bool pie,
		     struct seed_bin *out)
{
	const struct gobin *gb = &tg->gb;
	const struct pclntab *t = &gb->pcln;
	const struct go_layout *l = tg->layout;
	const bool old = t->magic == PCLN_MAGIC_118;
	const size_t fhdr = old ? 40 : 44, esz = old ? 20 : 16;
	struct buf names = { 0 }, cutab = { 0 }, files = { 0 }, pctab = { 0 }, recs = { 0 };
	struct buf text = { 0 }, gofunc = { 0 }, types = { 0 }, tab = { 0 }, e = { 0 };
	uint64_t gofunc_old = l->md_gofunc >= 0 ? gobin_u64(gb, gb->moduledata + l->md_gofunc) : 0;
	uint32_t recoff[MAX_SEL];
	const uint8_t *bi;
	size_t bin, text_off, ro_off, data_off, sh_off, md_at, bi_at;
	uint64_t ro_va, data_va, pcln_va, gofunc_va, types_va;
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[3] = { 0 };

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < t->nfuncs && out->nsel < MAX_SEL; i++)
		if (wanted(t->funcs[i].name, small))
			out->sel[out->nsel++] = &t->funcs[i];
	if (out->nsel < 2)
		die("too few functions to keep");
	put(&pctab, NULL, 1);	/* offset 0 means "no table" */

	for (int i = 0; i < out->nsel; i++) {
		const struct go_func *f = out->sel[i];
		const uint8_t *fn = t->p + t->pcln_off + f->funcoff;
		uint32_t np = get32(fn + 28), nf = fn[fhdr - 1], cuoff = get32(fn + 32);
		size_t rec = recs.n, code = f->end - f->entry;
		const uint8_t *c = elfimg_at(&gb->img, f->entry, code);
		int32_t maxfile = -1, maxinl = -1;
		uint32_t pcinl = 0;

		if (!c)
			die("function code not in the file");
		out->new_entry[i] = text.n;
		put(&text, c, code);
		put(&recs, fn, fhdr + (np + nf) * 4);
		set32(&recs, rec + 0, (uint32_t)out->new_entry[i]);
		set32(&recs, rec + 4, put_str(&names, f->name));
		set32(&recs, rec + 16, copy_pcv(t, get32(fn + 16), &pctab, NULL));
		set32(&recs, rec + 20, copy_pcv(t, get32(fn + 20), &pctab, &maxfile));
		set32(&recs, rec + 24, copy_pcv(t, get32(fn + 24), &pctab, NULL));
		/* this function's slice of cutab: file numbers 0 .. maxfile */
		set32(&recs, rec + 32, (uint32_t)(cutab.n / 4));
		for (int32_t k = 0; k <= maxfile; k++) {
			uint64_t at = t->cu_off + ((uint64_t)cuoff + (uint64_t)k) * 4;
			uint32_t fo = at + 4 <= t->filetab_off ? get32(t->p + at) : UINT32_MAX, nfo;

			nfo = fo < t->pctab_off - t->filetab_off ?
				      put_str(&files, (const char *)t->p + t->filetab_off + fo) :
				      UINT32_MAX;
			put(&cutab, &nfo, 4);
		}
		for (uint32_t k = 0; k < np; k++) {
			uint32_t old_off = get32(fn + fhdr + k * 4), no;

			no = copy_pcv(t, old_off, &pctab, k == 2 ? &maxinl : NULL);
			if (k == 2)
				pcinl = no;
			set32(&recs, rec + fhdr + k * 4, no);
		}
		for (uint32_t k = 0; k < nf; k++) {
			uint32_t fd = get32(fn + fhdr + (np + k) * 4), nfd = UINT32_MAX;
			const uint8_t *tree;

			/* the inline tree, its function names moved to the new name table */
			if (k == 3 && fd != UINT32_MAX && pcinl && maxinl >= 0 && gofunc_old &&
			    (tree = elfimg_at(&gb->img, gofunc_old + fd, (maxinl + 1) * esz))) {
				align(&gofunc, 4);
				nfd = (uint32_t)put(&gofunc, tree, (maxinl + 1) * esz);
				for (int32_t x = 0; x <= maxinl; x++) {
					size_t at = nfd + x * esz + (old ? 12 : 4);
					const char *nm = pclntab_name(t, (int32_t)get32(gofunc.p + at));

					set32(&gofunc, at, put_str(&names, nm ? nm : "?"));
				}
			}
			set32(&recs, rec + fhdr + (np + k) * 4, nfd);
		}
		recoff[i] = (uint32_t)rec;
		align(&recs, 4);
	}

	/* the table: header, names, cutab, filetab, pctab, functab + _func records */
	put(&tab, t->p, 8);
	put(&tab, NULL, 64);
	set64(&tab, 8, (uint64_t)out->nsel);
	set64(&tab, 16, cutab.n / 4);
	set64(&tab, 32, tab.n);
	put(&tab, names.p, names.n);
	set64(&tab, 40, tab.n);
	put(&tab, cutab.p, cutab.n);
	set64(&tab, 48, tab.n);
	put(&tab, files.p, files.n);
	set64(&tab, 56, tab.n);
	put(&tab, pctab.p, pctab.n);
	align(&tab, 8);
	set64(&tab, 64, tab.n);
	{
		size_t ft = put(&tab, NULL, (out->nsel + 1) * 8), recbase = (out->nsel + 1) * 8;

		for (int i = 0; i < out->nsel; i++) {
			set32(&tab, ft + i * 8, (uint32_t)out->new_entry[i]);
			set32(&tab, ft + i * 8 + 4, (uint32_t)(recbase + recoff[i]));
		}
		set32(&tab, ft + out->nsel * 8, (uint32_t)text.n);
		put(&tab, recs.p, recs.n);
	}

	/* two map types: abi.Type at the layout's offsets, names in the types area */
	put(&types, NULL, 0x400);
	for (int k = 0; k < 2; k++) {
		static const char *const tn[] = { "map[int64]int", "*map[string][]uint8" };
		size_t d = 0x40 + k * 0x80, nm = 0x200 + k * 0x40;
		uint8_t len = (uint8_t)strlen(tn[k]);

		set32(&types, d + l->type_str, (uint32_t)nm);
		types.p[d + l->type_tflag] = k ? 0x2 : 0;	/* TFlagExtraStar */
		if (l->bucketsize_u16 >= 0) {
			uint16_t bs = 144;

			memcpy(types.p + d + l->bucketsize_u16, &bs, 2);
		}
		if (l->groupsize_u64 >= 0)
			set64(&types, d + l->groupsize_u64, 136);
		types.p[nm] = 1;
		types.p[nm + 1] = len;
		memcpy(types.p + nm + 2, tn[k], len);
	}

	/* the file: ELF header, 3 program headers, text, read-only data, data, sections */
	put(&e, NULL, sizeof(eh) + sizeof(ph));
	align(&e, 64);
	text_off = e.n;
	out->text_va = TEXT_VA + text_off;
	put(&e, text.p, text.n);
	align(&e, 64);
	ro_off = e.n;
	ro_va = RODATA_VA + ro_off;
	pcln_va = ro_va;
	out->pcln_file_off = e.n;
	out->pcln_len = tab.n;
	put(&e, tab.p, tab.n);
	align(&e, 64);
	gofunc_va = ro_va + (e.n - ro_off);
	put(&e, gofunc.p, gofunc.n);
	align(&e, 64);
	types_va = ro_va + (e.n - ro_off);
	put(&e, types.p, types.n);
	out->type_va[0] = types_va + 0x40;
	out->type_va[1] = types_va + 0xc0;
	align(&e, 64);
	data_off = e.n;
	data_va = DATA_VA + data_off;
	buildinfo_blob(gb, &bi, &bin);
	bi_at = put(&e, bi, bin);
	out->bi_file_off = bi_at;
	out->bi_len = bin;
	align(&e, 16);
	md_at = put(&e, NULL, MODULEDATA_BYTES);
	set64(&e, md_at, pcln_va);
	set64(&e, md_at + 8, pcln_va + 72);
	set64(&e, md_at + l->md_text, out->text_va);
	set64(&e, md_at + l->md_types, types_va);
	if (l->md_gofunc >= 0)
		set64(&e, md_at + l->md_gofunc, gofunc_va);
	if (t->hdr_text_start)	/* Go <= 1.25 also say it in the table */
		set64(&e, out->pcln_file_off + 24, out->text_va);

	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = text_off,
			      .p_vaddr = out->text_va, .p_paddr = out->text_va,
			      .p_filesz = ro_off - text_off, .p_memsz = ro_off - text_off,
			      .p_align = 0x1000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_offset = ro_off,
			      .p_vaddr = ro_va, .p_paddr = ro_va, .p_filesz = data_off - ro_off,
			      .p_memsz = data_off - ro_off, .p_align = 0x1000 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = data_off,
			      .p_vaddr = data_va, .p_paddr = data_va, .p_filesz = e.n - data_off,
			      .p_memsz = e.n - data_off + 64, .p_align = 0x1000 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = pie ? ET_DYN : ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = out->text_va;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	if (sections) {
		static const char shstr[] = "\0.text\0.gopclntab\0.go.buildinfo\0.noptrdata\0"
					    ".shstrtab";
		size_t str_off = put(&e, shstr, sizeof(shstr));
		Elf64_Shdr sh[6] = {
			{ 0 },
			{ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
			  .sh_addr = out->text_va, .sh_offset = text_off, .sh_size = text.n,
			  .sh_addralign = 32 },
			{ .sh_name = 7, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC,
			  .sh_addr = pcln_va, .sh_offset = out->pcln_file_off, .sh_size = tab.n,
			  .sh_addralign = 32 },
			{ .sh_name = 18, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE,
			  .sh_addr = data_va + (bi_at - data_off), .sh_offset = bi_at,
			  .sh_size = bin, .sh_addralign = 16 },
			{ .sh_name = 32, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE,
			  .sh_addr = data_va + (md_at - data_off), .sh_offset = md_at,
			  .sh_size = MODULEDATA_BYTES, .sh_addralign = 32 },
			{ .sh_name = 43, .sh_type = SHT_STRTAB, .sh_offset = str_off,
			  .sh_size = sizeof(shstr), .sh_addralign = 1 },
		};

		align(&e, 8);
		sh_off = put(&e, sh, sizeof(sh));
		eh.e_shoff = sh_off;
		eh.e_shnum = 6;
		eh.e_shstrndx = 5;
	}
	memcpy(e.p, &eh, sizeof(eh));
	memcpy(e.p + sizeof(eh), ph, sizeof(ph));
	out->elf = e;
	free(names.p), free(cutab.p), free(files.p), free(pctab.p), free(recs.p);
	free(text.p), free(gofunc.p), free(types.p), free(tab.p);
}

static void write_file(const char *dir, const char *sub, const char *tag, const char *name,
		       const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s-%s", dir, sub, tag, name);
	f = fopen(path, "w");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		die(strerror(errno));
}

/* Index of a layout for fuzz_ingest's first byte (see pick_layout there). */
static uint8_t layout_byte(const struct go_layout *l)
{
	static const int minors[] = { 19, 21, 22, 23, 24, 25, 26 };
	uint8_t b = 0;

	for (int i = 0; i < 7; i++)
		if (minors[i] == l->minor)
			b = (uint8_t)i;
	return b | (l->experiment[0] ? 0x80 : 0);
}

static void hdr_bytes(const struct go_layout *l, uint8_t *h, uint64_t count)
{
	memset(h, 0, MW_HDR_BYTES);
	memcpy(h + l->count, &count, 8);
	if (l->B >= 0) {
		uint64_t buckets = 0xc000100000ULL;

		h[l->B] = 3;
		memcpy(h + l->buckets, &buckets, 8);
	} else {
		uint64_t dir = 0xc000200000ULL;

		memcpy(h + l->dirptr, &dir, 8);
	}
}

/* Records as the BPF side sends them: writes, creations, growth, locks, an overlap, fatal. */
static void make_records(const struct seed_bin *s, const struct target *tg, struct buf *out)
{
	const struct go_layout *l = tg->layout;
	uint64_t user_pc[4] = { 0 };
	int nuser = 0;
	uint8_t sel = layout_byte(l);

	put(out, &sel, 1);
	for (int i = 0; i < s->nsel && nuser < 4; i++)
		if (!strncmp(s->sel[i]->name, "main.", 5) &&
		    s->sel[i]->end - s->sel[i]->entry > 8)
			user_pc[nuser++] = s->text_va + s->new_entry[i] + 5;
	if (!nuser)
		die("no main.* function kept");
	/* creations first, then what writes and grows them */
	for (int k = 0; k < 2 * s->nsel; k++) {
		struct mw_call_rec r = { .type = MW_REC_CALL, .tgid = 1 };
		uint16_t len = sizeof(r);
		int id, i = k % s->nsel;

		for (id = 0; id < PROBE__COUNT; id++)
			if (!strcmp(s->sel[i]->name, probe_defs[id].symbol))
				break;
		if (id == PROBE__COUNT || (probe_defs[id].op == MW_OP_CREATE) != (k < s->nsel))
			continue;
		r.fn = (uint32_t)id;
		r.flags = MW_F_STACK | (i % 5 == 4 ? MW_F_ON_STACK : 0);
		r.goid = 1 + i % 3;
		r.obj = 0xc000010000ULL + (i % 2) * 0x100;
		r.ax = s->type_va[i % 2];
		r.bx = 16;
		r.ret = r.obj;
		r.caller = user_pc[i % nuser] + 1;
		r.t_entry = 1000000ULL * (i + 1);
		r.t_ret = r.t_entry + 5000;
		r.entries = 1;
		r.nstack = 3;
		r.stack[0] = s->text_va + s->new_entry[i];
		r.stack[1] = r.caller;
		r.stack[2] = user_pc[(i + 1) % nuser] + 1;
		hdr_bytes(l, r.hdr_before, (uint64_t)i);
		hdr_bytes(l, r.hdr_after, (uint64_t)i + 1);
		put(out, &len, 2);
		put(out, &r, sizeof(r));
	}
	{
		struct mw_overlap_rec o = { .type = MW_REC_OVERLAP, .tgid = 1, .map = 0xc000010000ULL,
					    .maptype = s->type_va[0], .goid_first = 1,
					    .goid_second = 2, .caller_first = user_pc[0] + 1,
					    .caller_second = user_pc[nuser - 1] + 1, .nstack = 2 };
		struct mw_fatal_rec f = { .type = MW_REC_FATAL, .tgid = 1, .goid = 2,
					  .caller = user_pc[0] + 1, .nstack = 1,
					  .msg_len = 21 };
		uint16_t len = sizeof(o);

		o.stack[1] = user_pc[0] + 1;
		put(out, &len, 2);
		put(out, &o, sizeof(o));
		memcpy(f.msg, "concurrent map writes", 21);
		len = sizeof(f);
		put(out, &len, 2);
		put(out, &f, sizeof(f));
	}
}

/* Replay the records into a model, as a capture would, and build its report. */
static char *make_report(const char *elf_path, const struct buf *recs)
{
	struct capture_meta meta = { .pid = 4242, .exe = "/srv/fixture", .go_version = "go",
				     .map_impl = "hmap", .offsets = "catalogue",
				     .duration_s = 5, .end_reason = "duration",
				     .events_total = 30, .probe_hits = 60, .trap_emulated_s = 1e-6,
				     .uprobes = 32, .trap_stepped_s = 10e-6 };
	struct target t;
	struct mw_model m;
	json_object *doc, *findings = json_object_new_array(), *f;
	char err[512], *s;
	size_t o = 1;

	if (target_open_file(&t, elf_path, err, sizeof(err))) {
		fprintf(stderr, "mkseeds: the seed binary does not open: %s\n", err);
		exit(1);
	}
	meta.go_version = t.gb.bi.version;
	meta.map_impl = impl_name(t.layout->impl);
	model_init(&m, &t.gb, t.layout, 0);
	while (o + 2 <= recs->n) {
		uint16_t n;

		memcpy(&n, recs->p + o, 2);
		model_ingest(&m, recs->p + o + 2, n);
		o += 2 + n;
	}
	f = finding_new("unbounded_growth", "warning", 0xc000010000ULL,
			"map[int64]int grew from 0 to 12 entries and never shrank");
	finding_add_site(f, &m.fatal_site);
	json_object_object_add(finding_evidence(f), "len_first_seen", json_object_new_int(0));
	json_object_array_add(findings, f);
	doc = report_build(&m, &meta, findings);
	s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));
	json_object_put(doc);
	model_free(&m);
	target_close(&t);
	return s;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		bool small, sections, pie;
	} v[] = {
		{ "full.elf", false, true, false },
		{ "noshdr.elf", false, false, false },
		{ "pie.elf", false, true, true },
		{ "small.elf", true, true, false },
		{ "small-noshdr.elf", true, false, false },
	};
	static struct target tg;
	char err[512], path[4096];
	const char *dir, *tag;

	if (argc != 4)
		die("usage: mkseeds BINARY OUTDIR TAG");
	dir = argv[2];
	tag = argv[3];
	if (target_open_file(&tg, argv[1], err, sizeof(err))) {
		fprintf(stderr, "mkseeds: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct seed_bin s;
		struct buf recs = { 0 };
		char *rep;

		make_bin(&tg, v[i].small, v[i].sections, v[i].pie, &s);
		write_file(dir, "gobin", tag, v[i].name, s.elf.p, s.elf.n);
		write_file(dir, "elfimg", tag, v[i].name, s.elf.p, s.elf.n);
		if (i == 0) {
			write_file(dir, "pclntab", tag, "full.bin", s.elf.p + s.pcln_file_off,
				   s.pcln_len);
			write_file(dir, "buildinfo", tag, "blob.bin", s.elf.p + s.bi_file_off,
				   s.bi_len);
			/* the binary the ingest fuzzer symbolises against, and its records */
			snprintf(path, sizeof(path), "%s/%s-target.elf", dir, tag);
			write_file(dir, ".", tag, "target.elf", s.elf.p, s.elf.n);
			make_records(&s, &tg, &recs);
			write_file(dir, "ingest", tag, "records.bin", recs.p, recs.n);
			rep = make_report(path, &recs);
			write_file(dir, "report", tag, "capture.json", rep, strlen(rep));
			free(rep);
			free(recs.p);
		}
		if (v[i].small && v[i].sections)
			write_file(dir, "pclntab", tag, "small.bin", s.elf.p + s.pcln_file_off,
				   s.pcln_len);
		free(s.elf.p);
	}
	target_close(&tg);
	return 0;
}
