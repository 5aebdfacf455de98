// SPDX-License-Identifier: MIT
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "discover.h"
#include "discover.skel.h"
#include "discover_event.h"

/* A kernel thread (PF_KTHREAD in /proc/PID/stat's flags) runs no program. */
#define PF_KTHREAD_FLAG 0x00200000u

struct discover {
	struct discover_bpf *skel;
	struct ring_buffer *rb;
	disc_fn cb;
	void *ctx;
	unsigned long long ns_per_tick;
	bool by_leader;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct discover *d = ctx;
	const struct mw_disc_event *r = data;
	struct disc_event ev = { 0 };

	if (size < sizeof(*r))
		return 0;
	ev.kind = r->kind == MW_DISC_EXEC ? DISC_EXEC : DISC_EXIT;
	ev.pid = (pid_t)r->tgid;
	ev.tid = (pid_t)r->tid;
	ev.exit_code = r->exit_code;
	/* the kernel's own conversion for /proc/PID/stat (nsec_to_clock_t) */
	ev.start = r->start_ns / d->ns_per_tick;
	memcpy(ev.comm, r->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = 0;
	d->cb(&ev, d->ctx);
	return 0;
}

/*
 * Does this kernel's sched_process_exit say whether the exiting thread is the last one? Its
 * BTF prototype has the argument: (void *, struct task_struct *, bool group_dead).
 */
static bool exit_has_group_dead(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	bool yes = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	t = id > 0 ? btf__type_by_id(btf, (__u32)id) : NULL;
	if (t)
		t = btf__type_by_id(btf, t->type);	/* pointer */
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);	/* function prototype */
	if (t && btf_is_func_proto(t))
		yes = btf_vlen(t) >= 3;
	btf__free(btf);
	return yes;
}

static struct discover *fail(struct discover *d, char *err, size_t errlen, const char *what,
			     int e)
{
	snprintf(err, errlen, "cannot %s: %s%s", what, strerror(e),
		 (e == EPERM || e == EACCES) ?
			 " (needs root, or CAP_BPF and CAP_PERFMON)" :
		 e == ENOENT || e == ESRCH ? " (is this kernel built with BPF and BTF?)" : "");
	discover_close(d);
	return NULL;
}

struct discover *discover_open(disc_fn cb, void *ctx, unsigned flags, char *err,
			       size_t errlen)
{
	struct discover *d = calloc(1, sizeof(*d));
	long tick = sysconf(_SC_CLK_TCK);
	int e;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->cb = cb;
	d->ctx = ctx;
	d->ns_per_tick = 1000000000ull / (unsigned long long)(tick > 0 ? tick : 100);
	d->by_leader = (flags & DISC_EXIT_BY_LEADER) || !exit_has_group_dead();
	d->skel = discover_bpf__open();
	if (!d->skel)
		return fail(d, err, errlen, "open the discovery BPF object", errno);
	bpf_program__set_autoload(d->skel->progs.disc_exit_group, !d->by_leader);
	bpf_program__set_autoload(d->skel->progs.disc_exit_leader, d->by_leader);
	e = discover_bpf__load(d->skel);
	if (e)
		return fail(d, err, errlen, "load the discovery BPF programs", -e);
	e = discover_bpf__attach(d->skel);
	if (e)
		return fail(d, err, errlen, "attach to the sched_process_exec/exit tracepoints", -e);
	d->rb = ring_buffer__new(bpf_map__fd(d->skel->maps.disc_events), on_sample, d, NULL);
	if (!d->rb)
		return fail(d, err, errlen, "create the discovery ring buffer", errno);
	return d;
}

int discover_fd(const struct discover *d)
{
	return ring_buffer__epoll_fd(d->rb);
}

int discover_dispatch(struct discover *d)
{
	return ring_buffer__consume(d->rb);
}

int discover_scan(struct discover *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct disc_event ev = { .kind = DISC_FOUND };
		unsigned pflags;
		char *end, state;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		ev.pid = ev.tid = (pid_t)pid;
		if (proc_stat_read(ev.pid, ev.comm, &state, &pflags, &ev.start) ||
		    (pflags & PF_KTHREAD_FLAG) || state == 'Z' || state == 'X')
			continue;	/* gone meanwhile, a kernel thread, or dead */
		d->cb(&ev, d->ctx);
		n++;
	}
	closedir(dir);
	return n;
}

uint64_t discover_lost(const struct discover *d)
{
	return d->skel && d->skel->bss ? d->skel->bss->disc_lost : 0;
}

bool discover_exit_by_leader(const struct discover *d)
{
	return d->by_leader;
}

void discover_close(struct discover *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	discover_bpf__destroy(d->skel);
	free(d);
}
