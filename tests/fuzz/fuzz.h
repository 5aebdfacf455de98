/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer harnesses (see README.md in this directory). */
#ifndef MW_FUZZ_H
#define MW_FUZZ_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A private copy of the input in a buffer of exactly size bytes, so that ASan sees a read one
 * byte past the end (and the code under test may keep pointers into it). Free with free().
 */
static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);

	if (p && size)
		memcpy(p, data, size);
	return p;
}

#ifdef MW_PROBES_H
/*
 * The layout a fuzzed record or memory is read with, from one input byte: bits 0-2 the
 * release (every catalogue row), bit 7 the noswissmap experiment.
 */
static inline const struct go_layout *fuzz_layout(uint8_t b)
{
	static const int minors[] = { 19, 21, 22, 23, 24, 25, 26, 27 };
	struct go_buildinfo bi = { .v = { 1, minors[b & 7], 0 } };
	char err[256];

	if (b & 0x80)
		snprintf(bi.experiments, sizeof(bi.experiments), "noswissmap");
	return go_layout_for(&bi, err, sizeof(err));
}
#endif

/* Keep the optimiser from dropping a computed value. */
static inline void fuzz_use(const volatile void *p)
{
	(void)p;
}

#endif
