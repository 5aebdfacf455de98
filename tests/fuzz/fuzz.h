/* SPDX-License-Identifier: MIT */
/* Shared by the libFuzzer harnesses (see README.md in this directory). */
#ifndef MW_FUZZ_H
#define MW_FUZZ_H

#include <stddef.h>
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

/* Keep the optimiser from dropping a computed value. */
static inline void fuzz_use(const volatile void *p)
{
	(void)p;
}

#endif
