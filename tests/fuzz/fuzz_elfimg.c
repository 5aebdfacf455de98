// SPDX-License-Identifier: MIT
/* ELF segment mapping: open, sections, vaddr -> bytes and file offsets, segment scans. */
#include <elf.h>
#include "fuzz.h"
#include "gobin/elfimg.h"

/* Touch the first and last byte of what a scan hands over. */
static int touch(const uint8_t *p, size_t avail, uint64_t vaddr, void *ctx)
{
	uint64_t *sum = ctx;

	*sum += p[0] + (avail ? p[avail - 1] : 0) + vaddr;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_copy(data, size);
	struct elfimg img;
	char err[256];
	uint64_t sum = 0;

	if (!p)
		return 0;
	if (elfimg_open_mem(&img, p, size, "fuzz", err, sizeof(err))) {
		free(p);
		return 0;
	}
	for (int i = 0; i < img.nsegs; i++) {
		const struct elfimg_seg *s = &img.segs[i];
		const uint64_t at[] = { s->vaddr, s->vaddr + s->filesz - 1, s->vaddr + s->filesz,
					s->vaddr + s->filesz / 2, s->vaddr - 1 };
		const uint64_t lens[] = { 0, 1, 8, 72, s->filesz, UINT64_MAX };

		for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				const uint8_t *b = elfimg_at(&img, at[a], lens[l]);

				if (b && lens[l])
					sum += b[0] + b[lens[l] - 1];
			}
			sum += (uint64_t)elfimg_vaddr_to_offset(&img, at[a]);
		}
	}
	fuzz_use(elfimg_section(&img, ".gopclntab"));
	fuzz_use(elfimg_section(&img, ".go.buildinfo"));
	elfimg_scan(&img, 0, PF_X, 8, 72, touch, &sum);
	elfimg_scan(&img, PF_W, 0, 16, 32, touch, &sum);
	elfimg_scan(&img, 0, 0, 4096, 1, touch, &sum);
	sum += elfimg_first_load_vaddr(&img);
	fuzz_use(&sum);
	elfimg_close(&img);
	free(p);
	return 0;
}
