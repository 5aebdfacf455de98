/* SPDX-License-Identifier: MIT */
/* CLOCK_MONOTONIC, in seconds and ns: the clock of BPF's records and of every timer. */
#ifndef MW_MONO_H
#define MW_MONO_H

#include <stdint.h>
#include <time.h>

static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif
