/* SPDX-License-Identifier: MIT */
/*
 * Checked spans: the one place where an offset, length or count read from a file meets the
 * size of the buffer it indexes. Every test is written so that no sum or product of untrusted
 * values is formed before it is known not to wrap. The readers of Go binaries (elfimg,
 * pclntab, buildinfo, symbolize) index file bytes only through these.
 */
#ifndef MW_SPAN_H
#define MW_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* [off, off + len) lies within [0, size). */
static inline bool span_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* n elements of elem bytes (elem > 0) from off lie within [0, size). */
static inline bool span_array_ok(uint64_t off, uint64_t n, uint64_t elem, uint64_t size)
{
	return off <= size && n <= (size - off) / elem;
}

/* p + off if [off, off + len) lies within the size bytes at p, else NULL. */
static inline const uint8_t *span_at(const uint8_t *p, size_t size, uint64_t off, uint64_t len)
{
	return span_ok(off, len, size) ? p + off : NULL;
}

/* Little-endian loads at a checked offset: 0, or -1 (and *v = 0) if out of range. */
static inline int span_u32(const uint8_t *p, size_t size, uint64_t off, uint32_t *v)
{
	const uint8_t *q = span_at(p, size, off, 4);

	*v = 0;
	if (!q)
		return -1;
	memcpy(v, q, 4);
	return 0;
}

static inline int span_u64(const uint8_t *p, size_t size, uint64_t off, uint64_t *v)
{
	const uint8_t *q = span_at(p, size, off, 8);

	*v = 0;
	if (!q)
		return -1;
	memcpy(v, q, 8);
	return 0;
}

/* The NUL-terminated string at off, wholly within the size bytes at p, or NULL. */
static inline const char *span_str(const uint8_t *p, size_t size, uint64_t off)
{
	if (off >= size || !memchr(p + off, 0, size - off))
		return NULL;
	return (const char *)p + off;
}

#endif
