/* SPDX-License-Identifier: MIT */
/*
 * Discovery of processes for the daemon, without polling /proc: a BPF object of its own
 * (bpf/discover.bpf.c) reports every exec and every whole-process exit on the host through a
 * ring buffer, whose fd goes into the caller's epoll set; a one-time scan of /proc reports
 * the processes that were already running. Attach first, then scan: a process that starts
 * in between is reported twice (found and exec), never missed; user/watch.c sorts that out.
 *
 * PIDs are those of the initial PID namespace (the daemon runs in it: hostPID in Kubernetes).
 */
#ifndef MW_DISCOVER_H
#define MW_DISCOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum disc_kind {
	DISC_EXEC = 1,	/* a process ran execve (new image, same PID and start) */
	DISC_EXIT,	/* a whole process exited (its last thread, or its leader) */
	DISC_FOUND,	/* running when discover_scan() looked */
};

struct disc_event {
	enum disc_kind kind;
	pid_t pid;		/* the process */
	pid_t tid;		/* exec: the thread that called execve; exit: the thread */
	int exit_code;		/* DISC_EXIT: wait status */
	unsigned long long start;	/* process start, clock ticks since boot, as field 22
					   of /proc/PID/stat: with pid, names the process */
	char comm[16];
};

typedef void (*disc_fn)(const struct disc_event *ev, void *ctx);

struct discover;

/* Exit of the thread-group leader, even where the tracepoint says which thread is last. */
#define DISC_EXIT_BY_LEADER 1u

/* Load and attach. NULL with a one-line message in err. */
struct discover *discover_open(disc_fn cb, void *ctx, unsigned flags, char *err,
			       size_t errlen);
/* Readable (epoll) when events are waiting: then call discover_dispatch(). */
int discover_fd(const struct discover *d);
/* Hand every waiting event to the callback; how many, or -errno. */
int discover_dispatch(struct discover *d);
/* Report every process running now as DISC_FOUND (kernel threads and zombies skipped). */
int discover_scan(struct discover *d);
/* Events the ring buffer had no room for. */
uint64_t discover_lost(const struct discover *d);
/* Which exit program runs: the last thread's (false), or the leader's (true). */
bool discover_exit_by_leader(const struct discover *d);
void discover_close(struct discover *d);

/* proc_stat_read: user/target.h */
#include "target.h"

#endif
