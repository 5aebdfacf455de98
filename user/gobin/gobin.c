// SPDX-License-Identifier: MIT
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include "gobin.h"

uint64_t gobin_u64(const struct gobin *gb, uint64_t vaddr)
{
	const uint8_t *p = elfimg_at(&gb->img, vaddr, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static int pcln_at(const uint8_t *p, size_t avail, uint64_t vaddr, void *ctx)
{
	struct gobin *gb = ctx;
	char err[128];

	return pclntab_magic_at(p) &&
	       !pclntab_parse_header(&gb->pcln, p, avail, vaddr, err, sizeof(err));
}

static int find_pclntab(struct gobin *gb, char *err, size_t errlen)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	const struct elfimg *img = &gb->img;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct elfimg_sec *s = elfimg_section(img, names[i]);

		if (!s || s->type == SHT_NOBITS || s->offset >= img->size)
			continue;
		gb->pcln_where = names[i];
		return pclntab_parse_header(&gb->pcln, img->data + s->offset,
					    img->size - s->offset, s->addr, err, errlen);
	}
	/*
	 * cgo + PIE (external link, Go <= 1.25) merges the table into .data.rel.ro, and
	 * section headers may be gone: scan non-executable segments at 8-byte alignment.
	 */
	if (elfimg_scan(img, 0, PF_X, 8, PCLN_HEADER_SIZE, pcln_at, gb) > 0) {
		gb->pcln_where = "scan";
		return 0;
	}
	snprintf(err, errlen, "no Go function table (pclntab) found");
	return -1;
}

/*
 * moduledata begins with the pcHeader address followed by the funcnametab slice, whose
 * pointer is pcHeader + funcnameOffset. PIE binaries keep the link-time value on disk too.
 */
struct md_scan {
	uint64_t pcheader, funcnametab, found;
};

static int md_at(const uint8_t *p, size_t avail, uint64_t vaddr, void *ctx)
{
	struct md_scan *c = ctx;
	uint64_t x, y;

	(void)avail;
	memcpy(&x, p, 8);
	if (x != c->pcheader)
		return 0;
	memcpy(&y, p + 8, 8);
	if (y != c->funcnametab)
		return 0;
	c->found = vaddr;
	return 1;
}

static uint64_t find_moduledata(const struct gobin *gb)
{
	struct md_scan c = { gb->pcln.vaddr, gb->pcln.vaddr + gb->pcln.funcname_off, 0 };

	elfimg_scan(&gb->img, PF_W, 0, 8, 16, md_at, &c);
	return c.found;
}

/* Everything after the ELF image is open: build info, function table, moduledata. */
static int gobin_index(struct gobin *gb, const char *name, char *err, size_t errlen)
{
	char e2[256];
	bool have_bi;

	have_bi = go_buildinfo_read(&gb->img, &gb->bi, e2, sizeof(e2)) == 0;
	if (find_pclntab(gb, err, errlen)) {
		int r = have_bi || strstr(err, "predates") ? GOBIN_ERR_UNSUPPORTED : GOBIN_ERR_NOT_GO;

		if (r == GOBIN_ERR_NOT_GO)
			snprintf(err, errlen, "%s: not a Go binary (no Go build information or "
					      "function table)", name);
		return r;
	}
	if (!have_bi) {
		snprintf(err, errlen, "%s: Go function table found but %s", name, e2);
		return strstr(e2, "predates") ? GOBIN_ERR_UNSUPPORTED : GOBIN_ERR_NOT_GO;
	}
	gb->moduledata = find_moduledata(gb);
	gb->text_known = gb->pcln.hdr_text_start != 0;
	/*
	 * Entries are offsets from the start of Go text: pcHeader.textStart says where it is up
	 * to Go 1.25 (Go 1.26 leaves it 0); moduledata.text, at an offset that depends on the
	 * release, says it in every release (gobin_locate_text).
	 */
	if (pclntab_load_funcs(&gb->pcln, gb->pcln.hdr_text_start, err, errlen))
		return GOBIN_ERR_UNSUPPORTED;
	return GOBIN_OK;
}

int gobin_open(struct gobin *gb, const char *path, char *err, size_t errlen)
{
	int r;

	memset(gb, 0, sizeof(*gb));
	if (elfimg_open(&gb->img, path, err, errlen))
		return GOBIN_ERR_OPEN;
	r = gobin_index(gb, path, err, errlen);
	if (r)
		gobin_close(gb);
	return r;
}

int gobin_open_mem(struct gobin *gb, const void *data, size_t size, const char *name, char *err,
		   size_t errlen)
{
	int r;

	memset(gb, 0, sizeof(*gb));
	if (elfimg_open_mem(&gb->img, data, size, name, err, errlen))
		return GOBIN_ERR_OPEN;
	r = gobin_index(gb, name, err, errlen);
	if (r)
		gobin_close(gb);
	return r;
}

int gobin_locate_text(struct gobin *gb, int md_text_off, char *err, size_t errlen)
{
	uint64_t text = 0;

	if (gb->moduledata && md_text_off >= 0)
		text = gobin_u64(gb, gb->moduledata + (uint64_t)md_text_off);
	if (!text)
		text = gb->pcln.hdr_text_start;
	if (!text) {
		snprintf(err, errlen, "cannot find the start of Go text (no moduledata.text, and "
				      "pcHeader.textStart is 0)");
		return -1;
	}
	pclntab_rebase(&gb->pcln, text);
	gb->text_known = true;
	return 0;
}

void gobin_close(struct gobin *gb)
{
	pclntab_free(&gb->pcln);
	elfimg_close(&gb->img);
}
