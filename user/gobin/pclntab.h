/* SPDX-License-Identifier: MIT */
/*
 * The Go function table (pclntab, Go 1.18+ format): functions, names, PC -> file:line.
 * It survives `-ldflags='-s -w'`, so this is how stripped binaries are symbolised.
 */
#ifndef MW_PCLNTAB_H
#define MW_PCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCLN_MAGIC_118 0xfffffff0u	/* Go 1.18, 1.19 */
#define PCLN_MAGIC_120 0xfffffff1u	/* Go 1.20 and later */
#define PCLN_HEADER_SIZE 72

struct go_func {
	uint64_t entry;		/* link-time address */
	uint64_t end;		/* next function's entry (includes padding) */
	const char *name;	/* points into the pclntab bytes */
	uint32_t funcoff;	/* offset of its _func in the function table area */
};

struct pclntab {
	const uint8_t *p;	/* pcHeader */
	size_t len;		/* bytes available from p */
	uint64_t vaddr;		/* link-time address of pcHeader */
	uint32_t magic;
	uint8_t minlc;
	uint64_t nfunc, nfiles;
	uint64_t hdr_text_start;	/* pcHeader.textStart (0 in Go 1.26) */
	uint64_t text_start;		/* the one in use */
	uint64_t funcname_off, cu_off, filetab_off, pctab_off, pcln_off;
	struct go_func *funcs;	/* sorted by entry */
	size_t nfuncs;
};

/* Pure: validate the header at p. Functions are not decoded yet. */
int pclntab_parse_header(struct pclntab *t, const uint8_t *p, size_t len, uint64_t vaddr,
			 char *err, size_t errlen);
/* Pure: decode every function with text_start as the base of entry offsets. */
int pclntab_load_funcs(struct pclntab *t, uint64_t text_start, char *err, size_t errlen);
/* Pure: move every function to a new base of entry offsets (text_start). */
void pclntab_rebase(struct pclntab *t, uint64_t text_start);
void pclntab_free(struct pclntab *t);

/* Function containing pc (link-time address), or NULL. */
const struct go_func *pclntab_func_at(const struct pclntab *t, uint64_t pc);
/*
 * Function named name. Several functions can share a name (ABI wrappers); the largest is
 * the real body. *count, if given, receives how many share the name.
 */
const struct go_func *pclntab_func_named(const struct pclntab *t, const char *name, int *count);
/* file and line of pc inside f; 0 or -1. *file points into the table. */
int pclntab_line(const struct pclntab *t, const struct go_func *f, uint64_t pc, const char **file,
		 int *line);

/* Value of pc-value table off (in pctab) at pc inside f; 0 or -1. */
int pclntab_pcvalue(const struct pclntab *t, const struct go_func *f, uint32_t off, uint64_t pc,
		    int32_t *out);
/* pcdata[i] / funcdata[i] table offsets of f; 0 or -1 (absent). */
int pclntab_pcdata(const struct pclntab *t, const struct go_func *f, int i, uint32_t *off);
int pclntab_funcdata(const struct pclntab *t, const struct go_func *f, int i, uint32_t *off);
/* Function name at funcnametab offset, or NULL. */
const char *pclntab_name(const struct pclntab *t, int32_t off);

/* True if the 8 bytes at p start a plausible Go 1.18+ amd64 pcHeader. */
bool pclntab_magic_at(const uint8_t *p);

#endif
