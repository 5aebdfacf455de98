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

bool sym_is_user_function(const char *fn)
{
	static const char *const sys[] = { "runtime.", "sync.", "internal/", "sync/" };

	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (!strncmp(fn, sys[i], strlen(sys[i])))
			return false;
	return strcmp(fn, "?") != 0;
}

#define TYPE_TFLAG_OFF 20
#define TYPE_STR_OFF 40
#define TFLAG_EXTRA_STAR 0x2

int gotype_name(const struct gobin *gb, const struct go_layout *l, uint64_t type, char *buf,
		size_t len)
{
	const uint8_t *t = elfimg_at(&gb->img, type, 48), *p;
	uint64_t types, nlen;
	int32_t str;
	size_t off = 1;
	bool star;

	if (!t || !gb->moduledata || l->md_types < 0)
		return -1;
	types = gobin_u64(gb, gb->moduledata + (uint64_t)l->md_types);
	memcpy(&str, t + TYPE_STR_OFF, 4);
	star = t[TYPE_TFLAG_OFF] & TFLAG_EXTRA_STAR;
	if (!types || str <= 0)
		return -1;
	/* name: one flag byte, a uvarint length, the bytes */
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
