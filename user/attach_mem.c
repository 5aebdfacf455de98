// SPDX-License-Identifier: MIT
/* Reading the target's memory (process_vm_readv): map headers and Swiss directories. */
#include <sys/uio.h>
#include "attach_mem.h"

int attach_mem_read(void *ctx, uint64_t addr, void *buf, size_t n)
{
	pid_t pid = *(const pid_t *)ctx;
	struct iovec local = { .iov_base = buf, .iov_len = n };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = n };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}
