// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dwarf_layout.h"
#include "mwerr.h"
#include "target.h"

static int open_common(struct target *t, const char *path, char *err, size_t errlen)
{
	char e[512];

	switch (gobin_open(&t->gb, path, e, sizeof(e))) {
	case GOBIN_OK:
		break;
	case GOBIN_ERR_OPEN:
		snprintf(err, errlen, "%s", e);
		/* vanished (the process exited meanwhile), or there but not an x86-64 ELF */
		return access(path, F_OK) ? MW_EXIT_NOPROC : MW_EXIT_NOTGO;
	case GOBIN_ERR_NOT_GO:
		snprintf(err, errlen, "%s", e);
		return MW_EXIT_NOTGO;
	default:
		snprintf(err, errlen, "%s: unsupported Go binary: %s", t->exe, e);
		return MW_EXIT_UNSUPPORTED;
	}
	t->layout = go_layout_for(&t->gb.bi, e, sizeof(e));
	if (t->layout) {
		t->heap = go_heap_layout_for(t->layout->minor);
	} else if (t->gb.img.has_dwarf) {
		/* Not in the catalogue: the binary's own DWARF, if it kept it, has every offset. */
		char e2[256];

		if (!dwarf_layout_read(&t->gb, path, &t->dwarf_layout, e2, sizeof(e2))) {
			t->layout = &t->dwarf_layout;
			t->layout_from_dwarf = true;
			/* Without the heap's layout, headers are validated by structure alone. */
			if (!dwarf_heap_read(path, &t->dwarf_heap, e2, sizeof(e2))) {
				t->dwarf_heap.minor = t->layout->minor;
				t->heap = &t->dwarf_heap;
			}
		} else {
			snprintf(err, errlen, "%s: %s, and its DWARF is incomplete: %s", t->exe, e,
				 e2);
		}
	} else {
		snprintf(err, errlen, "%s: %s, and the binary has no DWARF to read the runtime's "
				      "layout from (built with -ldflags=-w or stripped)", t->exe, e);
	}
	if (t->layout && gobin_locate_text(&t->gb, t->layout->md_text, e, sizeof(e))) {
		snprintf(err, errlen, "%s: unsupported Go binary: %s", t->exe, e);
		t->layout = NULL;
	}
	if (t->layout)
		return MW_EXIT_OK;
	gobin_close(&t->gb);
	return MW_EXIT_UNSUPPORTED;
}

int target_open_file(struct target *t, const char *path, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->exe, sizeof(t->exe), "%s", path);
	snprintf(t->open_path, sizeof(t->open_path), "%.63s", path);
	if (access(path, R_OK)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? MW_EXIT_NOPROC : MW_EXIT_FAIL;
	}
	return open_common(t, path, err, errlen);
}

/* PIE load bias: start of the mapping at file offset 0 minus the first PT_LOAD's address. */
static int find_bias(struct target *t, char *err, size_t errlen)
{
	char path[64], line[4096];
	struct stat st;
	FILE *f;

	if (!t->gb.img.pie)
		return 0;
	if (stat(t->open_path, &st)) {
		snprintf(err, errlen, "%s: %s", t->open_path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned maj, min;

		if (sscanf(line, "%llx-%llx %*4s %llx %x:%x %llu", &start, &end, &off, &maj, &min,
			   &ino) != 6)
			continue;
		if (off != 0 || ino != st.st_ino)
			continue;
		t->bias = start - (elfimg_first_load_vaddr(&t->gb.img) & ~0xfffULL);
		fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(err, errlen, "cannot find the executable's mapping in %s", path);
	return -1;
}

int target_open_pid(struct target *t, pid_t pid, char *err, size_t errlen)
{
	char link[64];
	ssize_t n;
	int r;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (kill(pid, 0) && errno == ESRCH) {
		snprintf(err, errlen, "no process with PID %d", pid);
		return MW_EXIT_NOPROC;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot read %s: %s%s", link, strerror(e),
			 (e == EACCES || e == EPERM) && geteuid() ? " (run as root)" : "");
		return e == ENOENT ? MW_EXIT_NOPROC : e == EACCES || e == EPERM ? MW_EXIT_PRIV :
										 MW_EXIT_FAIL;
	}
	t->exe[n] = 0;
	snprintf(t->open_path, sizeof(t->open_path), "%s", link);
	r = open_common(t, link, err, errlen);
	if (!r && find_bias(t, err, errlen)) {
		gobin_close(&t->gb);
		r = MW_EXIT_FAIL;
	}
	/* Whatever failed, a process that is gone meanwhile is "no such process". */
	if (r && !target_staying(pid)) {
		snprintf(err, errlen, "PID %d exited while mapwatch was reading it", pid);
		return MW_EXIT_NOPROC;
	}
	return r;
}

int target_share(struct target *t, const struct target *base, pid_t pid, char *err,
		 size_t errlen)
{
	char link[64];
	ssize_t n;

	*t = *base;
	if (base->layout == &base->dwarf_layout)
		t->layout = &base->dwarf_layout;
	t->pid = pid;
	t->bias = 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, t->exe, sizeof(t->exe) - 1);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s: %s", link, strerror(errno));
		return errno == ENOENT ? MW_EXIT_NOPROC : MW_EXIT_FAIL;
	}
	t->exe[n] = 0;
	snprintf(t->open_path, sizeof(t->open_path), "%s", link);
	if (find_bias(t, err, errlen))
		return target_alive(pid) ? MW_EXIT_FAIL : MW_EXIT_NOPROC;
	return MW_EXIT_OK;
}

void target_close(struct target *t)
{
	gobin_close(&t->gb);
}

int proc_stat_read(pid_t pid, char comm[16], char *state, unsigned *flags,
		   unsigned long long *start)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	size_t n, cl;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: it is what lies between the first '(' and the
	 * last ')' */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	cl = (size_t)(close_paren - open_paren - 1);
	if (cl > 15)
		cl = 15;
	memcpy(comm, open_paren + 1, cl);
	comm[cl] = 0;
	/* after ") ": state(3) ppid pgrp session tty_nr tpgid flags(9) ... starttime(22) */
	if (sscanf(close_paren + 2, "%c %*d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d "
				   "%*d %*d %*d %*d %llu", state, flags, start) != 3)
		return -1;
	return 0;
}

bool target_alive(pid_t pid)
{
	char comm[16], state;
	unsigned flags;
	unsigned long long start;

	return !proc_stat_read(pid, comm, &state, &flags, &start) && state != 'Z' && state != 'X';
}

/* The kernel's PF_EXITING (include/linux/sched.h): set by do_exit() before it drops the mm. */
#define MW_PF_EXITING 0x4u

int target_cpu_ns(pid_t pid, uint64_t *ns)
{
	struct timespec ts;
	clockid_t c;

	if (clock_getcpuclockid(pid, &c) || clock_gettime(c, &ts))
		return -1;
	*ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return 0;
}

bool target_staying(pid_t pid)
{
	char comm[16], state;
	unsigned flags;
	unsigned long long start;

	return !proc_stat_read(pid, comm, &state, &flags, &start) && state != 'Z' &&
	       state != 'X' && !(flags & MW_PF_EXITING);
}
