/* SPDX-License-Identifier: MIT */
/*
 * Which processes the daemon watches: watch rules (--exe, --comm, --pid, --all-go), whether
 * a process's executable is a Go program (its build information, read by user/gobin/), and
 * the set of watched processes, each held by a pidfd so that a reused PID is never taken
 * for the process that had it.
 *
 * A process is named by its PID and its start time (clock ticks since boot, /proc/PID/stat):
 * an event whose start differs is about another process that had the PID. The pidfd,
 * opened before the process's facts are read and checked after, proves that the facts are
 * that process's, and becomes readable when it exits even if its exit event was lost.
 */
#ifndef MW_WATCH_H
#define MW_WATCH_H

#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

enum go_kind {
	GOKIND_UNKNOWN = 0,	/* not read (no rule could match) */
	GOKIND_NOT_GO,
	GOKIND_GO,
	GOKIND_GO_OLD,		/* Go before 1.18: a build-info format mapwatch does not read */
	GOKIND_UNREADABLE,	/* the executable could not be opened */
};

struct proc_facts {
	pid_t pid;
	unsigned long long start;	/* clock ticks since boot */
	char comm[16];
	char exe[PATH_MAX];		/* as /proc/PID/exe names it; may end in " (deleted)" */
	dev_t dev;			/* of the executable */
	ino_t ino;
	enum go_kind go;
	char go_version[128];		/* GOKIND_GO: "go1.26.11" (experiments included) */
	char why[256];			/* GOKIND_NOT_GO, _GO_OLD, _UNREADABLE: the reader's reason */
};

enum watch_verdict {
	WATCH_YES,
	WATCH_NO_RULE,		/* no rule names it (Go or not: not looked at) */
	WATCH_NOT_GO,		/* a rule names it, but it is not a Go program */
	WATCH_GO_OLD,		/* a rule names it, but its Go is too old */
	WATCH_UNREADABLE,	/* a rule names it, but its executable cannot be read */
	WATCH_GONE,		/* exited before it could be looked at */
};

struct watch_rules {
	GPtrArray *exes;	/* struct exe_rule */
	GPtrArray *comms;	/* char *, at most 15 bytes (the kernel's comm) */
	GArray *pids;		/* struct pid_rule */
	bool all_go;
};

void watch_rules_init(struct watch_rules *r);
void watch_rules_free(struct watch_rules *r);
/*
 * Add one rule: opt "exe" (a path), "comm", "pid" (a running process: the rule is that
 * process, not a later one with its PID) or "all-go" (arg unused). 0, or -1 with a message.
 */
int watch_rules_add(struct watch_rules *r, const char *opt, const char *arg, char *err,
		    size_t errlen);
bool watch_rules_empty(const struct watch_rules *r);

/* /proc: start, comm, executable path and inode. 0, or -1 if the process is gone. */
int proc_facts_read(pid_t pid, struct proc_facts *pf);
/*
 * Is the executable at path a Go program? From its build information (user/gobin/): the
 * version into version, the reason it is not into why.
 */
enum go_kind go_exe_kind(const char *path, char *version, size_t vlen, char *why,
			size_t whylen);
/* go_exe_kind of the process's executable, through /proc/PID/exe: sets go, go_version, why. */
void proc_facts_read_go(struct proc_facts *pf);
/* A --comm rule names comm. */
bool watch_rules_name(const struct watch_rules *r, const char *comm);
/* Pure: could a rule match these facts, Go or not (so: is reading the ELF worth it)? */
bool watch_rules_match(const struct watch_rules *r, const struct proc_facts *pf);
/* Pure: the decision, from facts whose go is known (or UNKNOWN when no rule matched). */
enum watch_verdict watch_decide(const struct watch_rules *r, const struct proc_facts *pf);
const char *watch_verdict_name(enum watch_verdict v);

struct watched {
	pid_t pid;
	int pidfd;			/* readable once the process has exited */
	unsigned long long start;
	unsigned images;		/* 1, + 1 per re-exec into a watched Go program */
	struct proc_facts facts;	/* of the current image */
	char event_comm[16];		/* the comm of the exec event that found this image */
};

struct watch_ops {
	void (*watch)(const struct watched *w, void *ctx);	/* newly watched */
	void (*reexec)(const struct watched *w, void *ctx);	/* new image, still watched */
	void (*unwatch)(const struct watched *w, const char *why, void *ctx);
};

struct watchset {
	GHashTable *by_pid;		/* pid -> struct watched */
	const struct watch_rules *rules;
	const struct watch_ops *ops;
	void *ctx;
};

void watchset_init(struct watchset *ws, const struct watch_rules *r,
		   const struct watch_ops *ops, void *ctx);
/* Every process still watched is unwatched ("stopping"), every pidfd closed. */
void watchset_free(struct watchset *ws);
/*
 * A process ran exec, or was found running (start from the event; 0: any; comm: the exec
 * event's, NULL if none). Reads its facts, decides, and watches, re-watches (re-exec) or
 * unwatches it. Returns the verdict; facts in pf if not NULL.
 *
 * An event read late can find the next image already in place (a shell's `env PROG`: the
 * event of env's exec, read after env ran exec in turn): that image is watched, and its own
 * event, when it comes, is no re-exec. It is known by its comm: another than the event's
 * that found the image, and the image's own.
 */
enum watch_verdict watchset_exec(struct watchset *ws, pid_t pid, unsigned long long start,
				 const char *comm, struct proc_facts *pf);
/*
 * A process found running (a scan of /proc): as watchset_exec, but one already watched with
 * the same executable is left as it is (a scan is not an exec). Facts in pf if not NULL.
 */
enum watch_verdict watchset_found(struct watchset *ws, pid_t pid, unsigned long long start,
				  struct proc_facts *pf);
/* A process exited: unwatched if it is the one watched under that PID. */
bool watchset_exit(struct watchset *ws, pid_t pid, unsigned long long start, int status);
/* Unwatch every process whose pidfd says it has exited (its exit event lost). */
int watchset_reap(struct watchset *ws);
const struct watched *watchset_find(const struct watchset *ws, pid_t pid);
/* Start watching a process without rules (tests; the facts must be of that process). */
const struct watched *watchset_add(struct watchset *ws, const struct proc_facts *pf);

#endif
