/* SPDX-License-Identifier: MIT */
/* A Go executable opened for symbolisation: ELF image, build info, function table. */
#ifndef MW_GOBIN_H
#define MW_GOBIN_H

#include "buildinfo.h"
#include "elfimg.h"
#include "pclntab.h"

enum gobin_err {
	GOBIN_OK = 0,
	GOBIN_ERR_OPEN,		/* cannot open or not ELF x86-64 */
	GOBIN_ERR_NOT_GO,	/* no build info and no function table */
	GOBIN_ERR_UNSUPPORTED,	/* Go, but a format this tool cannot read */
};

struct gobin {
	struct elfimg img;
	struct go_buildinfo bi;
	struct pclntab pcln;
	uint64_t moduledata;	/* link-time address, 0 if not found */
	const char *pcln_where;	/* section name, or "scan" */
	bool text_known;	/* function addresses are link-time addresses */
};

/*
 * Open and index a Go binary: build info, function table, moduledata. Returns enum
 * gobin_err; message in err. Function names, sizes and lines are usable at once; their
 * addresses are offsets from the start of Go text until gobin_locate_text() places them.
 */
int gobin_open(struct gobin *gb, const char *path, char *err, size_t errlen);
/* The same over an ELF image in memory (name for messages); data must outlive gb. */
int gobin_open_mem(struct gobin *gb, const void *data, size_t size, const char *name, char *err,
		   size_t errlen);
/*
 * Give the functions their link-time addresses: moduledata.text, at md_text_off (from the
 * release's layout, probes/layouts.def), else pcHeader.textStart. 0, or -1 with a message.
 */
int gobin_locate_text(struct gobin *gb, int md_text_off, char *err, size_t errlen);
void gobin_close(struct gobin *gb);

/* Read a u64 at a link-time address from the file image (0 if outside). */
uint64_t gobin_u64(const struct gobin *gb, uint64_t vaddr);

#endif
