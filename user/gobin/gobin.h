/* SPDX-License-Identifier: MIT */
/* A Go executable opened for symbolisation: ELF image, build info, function table. */
#ifndef MW_GOBIN_H
#define MW_GOBIN_H

#include "buildinfo.h"
#include "elfimg.h"
#include "pclntab.h"

#define MODULEDATA_TEXT_OFF 176	/* moduledata.text: the same in every Go 1.18+ release */

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
};

/* Open and index a Go binary. Returns enum gobin_err; message in err. */
int gobin_open(struct gobin *gb, const char *path, char *err, size_t errlen);
void gobin_close(struct gobin *gb);

/* Read a u64 at a link-time address from the file image (0 if outside). */
uint64_t gobin_u64(const struct gobin *gb, uint64_t vaddr);

#endif
