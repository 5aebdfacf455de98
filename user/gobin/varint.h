/* SPDX-License-Identifier: MIT */
/* Go's unsigned LEB128 varints, bounds-checked. */
#ifndef MW_VARINT_H
#define MW_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* Read a uvarint at p[*off] (n bytes in p); advance *off. 0, or -1 if truncated/overlong. */
static inline int uvarint_read(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;

	while (*off < n && shift < 64) {
		uint8_t b = p[(*off)++];

		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

#endif
