// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfimg.h"
#include "span.h"

/* Segments and sections of an ELF already opened by libelf (elf is owned by img from here). */
static int elfimg_index(struct elfimg *img, Elf *elf, const char *name, char *err, size_t errlen)
{
	size_t shstrndx, nphdr;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	int i;

	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(err, errlen, "%s: not an ELF file", name);
		if (elf)
			elf_end(elf);
		return -EINVAL;
	}
	img->elf = elf;
	img->data = (const uint8_t *)elf_rawfile(elf, &img->size);
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64 || !img->data) {
		snprintf(err, errlen, "%s: not an x86-64 ELF64 file", name);
		return -EINVAL;
	}
	img->pie = eh.e_type == ET_DYN;

	if (elf_getphdrnum(elf, &nphdr))
		nphdr = 0;
	for (i = 0; i < (int)nphdr && i < 65536; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (img->nsegs == ELFIMG_MAX_SEGS)
			break;
		img->segs[img->nsegs++] = (struct elfimg_seg){
			.vaddr = ph.p_vaddr, .memsz = ph.p_memsz, .offset = ph.p_offset,
			.filesz = ph.p_filesz, .flags = ph.p_flags,
		};
	}

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;	/* no section headers: callers scan segments */
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		struct elfimg_sec *s, *ns;
		GElf_Shdr sh;
		const char *sname;

		if (!gelf_getshdr(scn, &sh))
			continue;
		sname = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!sname)
			continue;
		ns = realloc(img->secs, (img->nsecs + 1) * sizeof(*img->secs));
		if (!ns) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		img->secs = ns;
		s = &img->secs[img->nsecs++];
		*s = (struct elfimg_sec){ .name = sname, .addr = sh.sh_addr, .offset = sh.sh_offset,
					  .size = sh.sh_size, .type = sh.sh_type,
					  .flags = sh.sh_flags };
		if (sh.sh_type == SHT_SYMTAB)
			img->has_symtab = true;
		if (!strcmp(sname, ".debug_info") || !strcmp(sname, ".zdebug_info"))
			img->has_dwarf = true;
	}
	return 0;
}

static int libelf_ready(char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	return 0;
}

int elfimg_open(struct elfimg *img, const char *path, char *err, size_t errlen)
{
	int r;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if ((r = libelf_ready(err, errlen)))
		return r;
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	r = elfimg_index(img, elf_begin(img->fd, ELF_C_READ_MMAP, NULL), path, err, errlen);
	if (r)
		elfimg_close(img);
	return r;
}

int elfimg_open_mem(struct elfimg *img, const void *data, size_t size, const char *name,
		    char *err, size_t errlen)
{
	int r;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if ((r = libelf_ready(err, errlen)))
		return r;
	/* libelf reads a native-endian image in place; it does not write to it. */
	r = elfimg_index(img, elf_memory((char *)data, size), name, err, errlen);
	if (r)
		elfimg_close(img);
	return r;
}

void elfimg_close(struct elfimg *img)
{
	if (img->elf)
		elf_end(img->elf);
	if (img->fd >= 0)
		close(img->fd);
	free(img->secs);
	memset(img, 0, sizeof(*img));
	img->fd = -1;
}

const struct elfimg_sec *elfimg_section(const struct elfimg *img, const char *name)
{
	for (int i = 0; i < img->nsecs; i++)
		if (!strcmp(img->secs[i].name, name))
			return &img->secs[i];
	return NULL;
}

/*
 * The bytes of a segment the file really holds, and how many (at most p_filesz): p_offset and
 * p_filesz are whatever the file says, so the segment may start or end past the end of the
 * file. NULL if it starts past the end.
 */
static const uint8_t *seg_bytes(const struct elfimg *img, const struct elfimg_seg *s, uint64_t *n)
{
	*n = 0;
	if (s->offset > img->size)
		return NULL;
	*n = s->filesz < img->size - s->offset ? s->filesz : img->size - s->offset;
	return img->data + s->offset;
}

int64_t elfimg_vaddr_to_offset(const struct elfimg *img, uint64_t vaddr)
{
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *s = &img->segs[i];
		uint64_t n;

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
			return seg_bytes(img, s, &n) && vaddr - s->vaddr < n ?
				       (int64_t)(s->offset + (vaddr - s->vaddr)) : -1;
	}
	return -1;
}

const uint8_t *elfimg_at(const struct elfimg *img, uint64_t vaddr, uint64_t len)
{
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *s = &img->segs[i];
		uint64_t rel = vaddr - s->vaddr, n;
		const uint8_t *b;

		if (vaddr < s->vaddr || rel >= s->filesz || !span_ok(rel, len, s->filesz))
			continue;
		b = seg_bytes(img, s, &n);
		return b ? span_at(b, n, rel, len) : NULL;
	}
	return NULL;
}

int elfimg_scan(const struct elfimg *img, uint32_t want, uint32_t avoid, unsigned align,
		size_t need, elfimg_scan_fn fn, void *ctx)
{
	if (!align)
		return 0;
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *g = &img->segs[i];
		uint64_t n;
		const uint8_t *b = seg_bytes(img, g, &n);

		if (!b || (g->flags & want) != want || (g->flags & avoid))
			continue;
		for (uint64_t o = (align - g->vaddr % align) % align; span_ok(o, need, n);
		     o += align) {
			/* what remains of the file from there, as the caller may read past the
			 * segment (the segment's bytes start within the file: no wrap) */
			int r = fn(b + o, img->size - g->offset - o, g->vaddr + o, ctx);

			if (r)
				return r;
		}
	}
	return 0;
}

uint64_t elfimg_first_load_vaddr(const struct elfimg *img)
{
	return img->nsegs ? img->segs[0].vaddr : 0;
}
