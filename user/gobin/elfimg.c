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

int elfimg_open(struct elfimg *img, const char *path, char *err, size_t errlen)
{
	size_t shstrndx, nphdr;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	Elf *elf;
	int i;

	memset(img, 0, sizeof(*img));
	img->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	elf = elf_begin(img->fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		if (elf)
			elf_end(elf);
		close(img->fd);
		img->fd = -1;
		return -EINVAL;
	}
	img->elf = elf;
	img->data = (const uint8_t *)elf_rawfile(elf, &img->size);
	if (gelf_getclass(elf) != ELFCLASS64 || eh.e_machine != EM_X86_64 || !img->data) {
		snprintf(err, errlen, "%s: not an x86-64 ELF64 file", path);
		elfimg_close(img);
		return -EINVAL;
	}
	img->pie = eh.e_type == ET_DYN;

	if (elf_getphdrnum(elf, &nphdr))
		nphdr = 0;
	for (i = 0; i < (int)nphdr; i++) {
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
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		ns = realloc(img->secs, (img->nsecs + 1) * sizeof(*img->secs));
		if (!ns) {
			snprintf(err, errlen, "out of memory");
			elfimg_close(img);
			return -ENOMEM;
		}
		img->secs = ns;
		s = &img->secs[img->nsecs++];
		*s = (struct elfimg_sec){ .name = name, .addr = sh.sh_addr, .offset = sh.sh_offset,
					  .size = sh.sh_size, .type = sh.sh_type,
					  .flags = sh.sh_flags };
		if (sh.sh_type == SHT_SYMTAB)
			img->has_symtab = true;
		if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))
			img->has_dwarf = true;
	}
	return 0;
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

int64_t elfimg_vaddr_to_offset(const struct elfimg *img, uint64_t vaddr)
{
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *s = &img->segs[i];

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
			return (int64_t)(vaddr - s->vaddr + s->offset);
	}
	return -1;
}

const uint8_t *elfimg_at(const struct elfimg *img, uint64_t vaddr, uint64_t len)
{
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *s = &img->segs[i];
		uint64_t rel = vaddr - s->vaddr;

		if (vaddr < s->vaddr || rel >= s->filesz || len > s->filesz - rel)
			continue;
		if (s->offset + rel + len > img->size)
			return NULL;
		return img->data + s->offset + rel;
	}
	return NULL;
}

int elfimg_scan(const struct elfimg *img, uint32_t want, uint32_t avoid, unsigned align,
		size_t need, elfimg_scan_fn fn, void *ctx)
{
	for (int i = 0; i < img->nsegs; i++) {
		const struct elfimg_seg *g = &img->segs[i];

		if ((g->flags & want) != want || (g->flags & avoid))
			continue;
		for (uint64_t o = (align - g->vaddr % align) % align; o + need <= g->filesz;
		     o += align) {
			int r;

			if (g->offset + o + need > img->size)
				break;
			r = fn(img->data + g->offset + o, img->size - g->offset - o, g->vaddr + o,
			       ctx);
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
