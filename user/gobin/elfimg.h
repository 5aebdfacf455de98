/* SPDX-License-Identifier: MIT */
/* An ELF file mapped read-only, with its segments and sections (libelf). */
#ifndef MW_ELFIMG_H
#define MW_ELFIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELFIMG_MAX_SEGS 32

struct elfimg_seg {
	uint64_t vaddr, memsz, offset, filesz;
	uint32_t flags;		/* PF_R | PF_W | PF_X */
};

struct elfimg_sec {
	const char *name;
	uint64_t addr, offset, size;
	uint32_t type;
	uint64_t flags;		/* SHF_* */
};

struct elfimg {
	int fd;
	void *elf;		/* Elf * */
	const uint8_t *data;	/* the whole file */
	size_t size;
	bool pie;		/* ET_DYN */
	bool has_symtab;
	bool has_dwarf;
	int nsegs;
	struct elfimg_seg segs[ELFIMG_MAX_SEGS];
	int nsecs;
	struct elfimg_sec *secs;
};

/* Open path; on failure returns -errno or -EINVAL (not ELF), with a message in err. */
int elfimg_open(struct elfimg *img, const char *path, char *err, size_t errlen);
/* The same over an image in memory (named name in messages); data must outlive img. */
int elfimg_open_mem(struct elfimg *img, const void *data, size_t size, const char *name,
		    char *err, size_t errlen);
void elfimg_close(struct elfimg *img);

const struct elfimg_sec *elfimg_section(const struct elfimg *img, const char *name);
/* File bytes backing [vaddr, vaddr+len), or NULL when not all in the file. */
const uint8_t *elfimg_at(const struct elfimg *img, uint64_t vaddr, uint64_t len);
/* File offset of a virtual address inside the file-backed part of a PT_LOAD segment, or -1. */
int64_t elfimg_vaddr_to_offset(const struct elfimg *img, uint64_t vaddr);
/*
 * Call fn at every align-aligned address of the file-backed PT_LOAD segments whose flags
 * include all of want and none of avoid, while at least need bytes remain; fn gets the bytes
 * there, how many remain in the file, and the address. Stops when fn returns nonzero and
 * returns that value; 0 if none did.
 */
typedef int (*elfimg_scan_fn)(const uint8_t *p, size_t avail, uint64_t vaddr, void *ctx);
int elfimg_scan(const struct elfimg *img, uint32_t want, uint32_t avoid, unsigned align,
		size_t need, elfimg_scan_fn fn, void *ctx);

/* Link-time address of the first PT_LOAD (for the PIE load bias). */
uint64_t elfimg_first_load_vaddr(const struct elfimg *img);

#endif
