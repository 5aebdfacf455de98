/* SPDX-License-Identifier: MIT */
#ifndef MW_ATTACH_MEM_H
#define MW_ATTACH_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* mem_read_fn for the model; ctx points to the target's pid_t. */
int attach_mem_read(void *ctx, uint64_t addr, void *buf, size_t n);

#endif
