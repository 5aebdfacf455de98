// SPDX-License-Identifier: MIT
#include <string.h>
#include "gobin/varint.h"
#include "symbolize.h"

int sym_pc(const struct gobin *gb, uint64_t pc, struct frame_sym *out)
{
	const struct go_func *f = pclntab_func_at(&gb->pcln, pc);

	out->function = "?";
	out->file = "?";
	out->line = 0;
	if (!f)
		return -1;
	out->function = f->name;
	if (pclntab_line(&gb->pcln, f, pc, &out->file, &out->line)) {
		out->file = "?";
		out->line = 0;
	}
	return 0;
}

#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3

int sym_pc_frames(const struct gobin *gb, const struct go_layout *l, uint64_t pc,
		  struct frame_sym *out, int max)
{
	const struct pclntab *t = &gb->pcln;
	const struct go_func *f = pclntab_func_at(t, pc);
	const bool old = t->magic == PCLN_MAGIC_118;	/* 20-byte entries with a parent index */
	const size_t esz = old ? 20 : 16;
	uint32_t pcd, fd;
	uint64_t tree = 0, gofunc;
	int n = 0;
	int32_t idx;

	if (!f || max < 1) {
		sym_pc(gb, pc, &out[0]);
		return max < 1 ? 0 : 1;
	}
	if (l && l->md_gofunc >= 0 && gb->moduledata &&
	    !pclntab_pcdata(t, f, PCDATA_INLTREEINDEX, &pcd) &&
	    !pclntab_funcdata(t, f, FUNCDATA_INLTREE, &fd) &&
	    (gofunc = gobin_u64(gb, gb->moduledata + (uint64_t)l->md_gofunc)))
		tree = gofunc + fd;
	while (tree && n < max - 1 && !pclntab_pcvalue(t, f, pcd, pc, &idx) && idx >= 0) {
		const uint8_t *e = elfimg_at(&gb->img, tree + (uint64_t)idx * esz, esz);
		int32_t nameoff, parentpc;
		const char *name;

		if (!e)
			break;
		memcpy(&nameoff, e + (old ? 12 : 4), 4);
		memcpy(&parentpc, e + (old ? 16 : 8), 4);
		name = pclntab_name(t, nameoff);
		out[n].function = name ? name : "?";
		if (pclntab_line(t, f, pc, &out[n].file, &out[n].line)) {
			out[n].file = "?";
			out[n].line = 0;
		}
		n++;
		if (parentpc < 0)
			break;
		pc = f->entry + (uint64_t)parentpc;	/* the call site in the caller */
	}
	sym_pc(gb, pc, &out[n++]);
	return n;
}

bool sym_is_user_function(const char *fn)
{
	/*
	 * reflect too: the runtime's map functions for it are linked in as reflect.makemap,
	 * reflect.mapassign, ... (in runtime/map.go), and reflect.Value.SetMapIndex is the
	 * machinery between them and the code that called it
	 */
	static const char *const sys[] = { "runtime.", "sync.", "internal/", "sync/", "reflect." };

	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (!strncmp(fn, sys[i], strlen(sys[i])))
			return false;
	return strcmp(fn, "?") != 0;
}

#define TFLAG_EXTRA_STAR 0x2	/* abi.TFlagExtraStar: the name has a leading '*' to drop */

int gotype_name(const struct gobin *gb, const struct go_layout *l, uint64_t type, char *buf,
		size_t len)
{
	const uint8_t *tf, *ts, *p;
	uint64_t types, nlen;
	int32_t str;
	size_t off = 1;
	bool star;

	if (!gb->moduledata || l->md_types < 0 || l->type_tflag < 0 || l->type_str < 0 || !len)
		return -1;
	tf = elfimg_at(&gb->img, type + (uint64_t)l->type_tflag, 1);
	ts = elfimg_at(&gb->img, type + (uint64_t)l->type_str, 4);
	if (!tf || !ts)
		return -1;
	types = gobin_u64(gb, gb->moduledata + (uint64_t)l->md_types);
	memcpy(&str, ts, 4);
	star = *tf & TFLAG_EXTRA_STAR;
	if (!types || str <= 0)
		return -1;
	/* name: one flag byte, a uvarint length, the bytes (probes/README.md, "Type names") */
	p = elfimg_at(&gb->img, types + (uint64_t)str, 11);
	if (!p || uvarint_read(p, 11, &off, &nlen) || nlen == 0 || nlen > 4096)
		return -1;
	p = elfimg_at(&gb->img, types + (uint64_t)str + off, nlen);
	if (!p)
		return -1;
	if (star && nlen > 1 && p[0] == '*') {
		p++;
		nlen--;
	}
	if (nlen >= len)
		nlen = len - 1;
	memcpy(buf, p, nlen);
	buf[nlen] = 0;
	return 0;
}
