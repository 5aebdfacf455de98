/* SPDX-License-Identifier: MIT */
/* A running Go process: its executable, Go layout, and where it is loaded. */
#ifndef MW_TARGET_H
#define MW_TARGET_H

#include <stdbool.h>
#include <sys/types.h>
#include "gobin/gobin.h"
#include "probes.h"

struct target {
	pid_t pid;			/* 0 for a binary on disk */
	char exe[4096];			/* path as the kernel names it */
	char open_path[64];		/* /proc/PID/exe: stays valid if the file is replaced */
	struct gobin gb;
	const struct go_layout *layout;
	struct go_layout dwarf_layout;	/* when the release is not in the catalogue */
	bool layout_from_dwarf;
	const struct go_heap_layout *heap;	/* NULL: headers validated by structure only */
	struct go_heap_layout dwarf_heap;
	uint64_t bias;			/* runtime address - link-time address (PIE) */
};

/* Open a process (pid > 0) or a file. Returns an MW_EXIT_* status; message in err. */
int target_open_pid(struct target *t, pid_t pid, char *err, size_t errlen);
int target_open_file(struct target *t, const char *path, char *err, size_t errlen);
void target_close(struct target *t);
/*
 * Another process running the executable base was opened from (same file): t borrows base's
 * parsed binary (base must outlive it, and t is not closed) and has its own PID, paths and
 * load bias. MW_EXIT_* status; message in err.
 */
int target_share(struct target *t, const struct target *base, pid_t pid, char *err,
		 size_t errlen);
/* /proc/PID/stat: comm, state, flags, start in ticks. 0, or -1 if the process is gone. */
int proc_stat_read(pid_t pid, char comm[16], char *state, unsigned *flags,
		   unsigned long long *start);
/* Still running (not gone, not a zombie)? */
bool target_alive(pid_t pid);
/*
 * Running and not on its way out? For a failure that an exiting process would explain: a
 * process loses its memory before it is a zombie, but every thread of it is marked exiting
 * (the leader's flag is the one read) before that, so the answer needs no wait.
 */
bool target_staying(pid_t pid);
/* The CPU time every thread of the process has used (its CPU clock), ns. 0, or -1. */
int target_cpu_ns(pid_t pid, uint64_t *ns);

#endif
