// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process discovery for the daemon: one record per exec and per whole-process exit, so that
 * user space follows Go processes as they start without polling /proc.
 *
 * BTF-typed tracepoints (tp_btf): they attach through the kernel's BTF, so tracefs need not
 * be mounted (it is not, on the hosts this runs on), and the arguments are typed.
 *
 * A thread that exits is not a process that exits: only the last thread's exit is sent. Newer
 * kernels' tracepoint says which that is (group_dead; 6.18 has it); on a kernel whose
 * tracepoint has no such argument user space loads the other program, which sends the exit of
 * the thread-group leader (a leader that exits before its other threads, which Go's never
 * does, is then reported early).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "discover_event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} disc_events SEC(".maps");

/* Records the ring buffer had no room for (user space reports them). */
__u64 disc_lost = 0;

static void send(struct task_struct *p, __u32 kind)
{
	struct mw_disc_event *e = bpf_ringbuf_reserve(&disc_events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&disc_lost, 1);
		return;
	}
	e->kind = kind;
	e->tgid = BPF_CORE_READ(p, tgid);
	e->tid = BPF_CORE_READ(p, pid);
	e->exit_code = kind == MW_DISC_EXIT ? BPF_CORE_READ(p, exit_code) : 0;
	/* the leader's start: a thread's own start_boottime is when that thread began */
	e->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_ringbuf_submit(e, 0);
}

/* After the new image is in place: comm is the new program's, the PID the process's. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(disc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	send(p, MW_DISC_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(disc_exit_group, struct task_struct *p, bool group_dead)
{
	if (group_dead)
		send(p, MW_DISC_EXIT);
	return 0;
}

/* A tracepoint without group_dead: the leader stands for the process. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(disc_exit_leader, struct task_struct *p)
{
	if (BPF_CORE_READ(p, pid) == BPF_CORE_READ(p, tgid))
		send(p, MW_DISC_EXIT);
	return 0;
}
