/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records of bpf/discover.bpf.c: every exec, and every whole-process exit, on the host.
 * Fixed-width types only.
 */
#ifndef MW_DISCOVER_EVENT_H
#define MW_DISCOVER_EVENT_H

#define MW_COMM_LEN 16

enum mw_disc_kind {
	MW_DISC_EXEC = 1,	/* a process ran execve: a new image, same PID */
	MW_DISC_EXIT,		/* the last thread of a process exited (or its leader, see below) */
};

struct mw_disc_event {
	__u32 kind;
	__u32 tgid;		/* the process (PID as /proc names it, initial PID namespace) */
	__u32 tid;		/* exec: the thread that called execve; exit: the thread */
	__s32 exit_code;	/* exit: the wait status (exit status << 8, or the signal) */
	__u64 start_ns;		/* the process's start, ns since boot: with tgid, names it
				   across PID reuse (/proc/PID/stat starttime, in ns) */
	char comm[MW_COMM_LEN];
};

#endif
