// SPDX-License-Identifier: MIT
/*
 * Test helper (tests/integration/test_discover.sh): discovery and the watch set in an epoll
 * loop, as the daemon will run them, printing one line per event and decision:
 *
 *   found pid=P verdict=V go=G comm=C exe=E      (the start-up scan; named processes only)
 *   ready found=N watched=M exit_by_leader=0|1   (attached, scanned)
 *   exec pid=P tid=T comm=C verdict=V go=G exe=E (G: the Go version, "no", "old" or "-")
 *   exit pid=P tid=T status=S
 *   watch pid=P go=G exe=E | reexec pid=P images=N go=G exe=E | unwatch pid=P why=W
 *   end lost=N watched=M                         (stdin closed, or SIGTERM/SIGINT)
 *
 * tool_discover [--exe PATH] [--comm NAME] [--pid PID] [--all-go] [--leader-exit]
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "discover.h"
#include "watch.h"

struct tool {
	struct watchset ws;
	int ep;
	int found;
};

static const char *go_of(const struct proc_facts *pf)
{
	switch (pf->go) {
	case GOKIND_GO: return pf->go_version;
	case GOKIND_NOT_GO: return "no";
	case GOKIND_GO_OLD: return "old";
	case GOKIND_UNREADABLE: return "unreadable";
	default: return "-";
	}
}

static void on_watch(const struct watched *w, void *ctx)
{
	struct tool *t = ctx;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };

	/* readable when the process exits: a lost exit event is noticed all the same */
	epoll_ctl(t->ep, EPOLL_CTL_ADD, w->pidfd, &ev);
	printf("watch pid=%d go=%s exe=%s\n", w->pid, go_of(&w->facts), w->facts.exe);
}

static void on_reexec(const struct watched *w, void *ctx)
{
	(void)ctx;
	printf("reexec pid=%d images=%u go=%s exe=%s\n", w->pid, w->images, go_of(&w->facts),
	       w->facts.exe);
}

static void on_unwatch(const struct watched *w, const char *why, void *ctx)
{
	(void)ctx;
	printf("unwatch pid=%d why=%s\n", w->pid, why);
}

static const struct watch_ops ops = { on_watch, on_reexec, on_unwatch };

static void on_event(const struct disc_event *ev, void *ctx)
{
	struct tool *t = ctx;
	struct proc_facts pf;
	enum watch_verdict v;

	if (ev->kind == DISC_EXIT) {
		printf("exit pid=%d tid=%d status=%d\n", ev->pid, ev->tid, ev->exit_code);
		watchset_exit(&t->ws, ev->pid, ev->start, ev->exit_code);
		return;
	}
	v = watchset_exec(&t->ws, ev->pid, ev->start, ev->comm, &pf);
	if (ev->kind == DISC_FOUND) {
		t->found++;
		if (v == WATCH_NO_RULE || v == WATCH_GONE)
			return;
		printf("found pid=%d verdict=%s go=%s comm=%s exe=%s\n", ev->pid,
		       watch_verdict_name(v), go_of(&pf), pf.comm, pf.exe);
		return;
	}
	printf("exec pid=%d tid=%d comm=%s verdict=%s go=%s exe=%s\n", ev->pid, ev->tid, ev->comm,
	       watch_verdict_name(v), v == WATCH_GONE ? "-" : go_of(&pf),
	       v == WATCH_GONE ? "-" : pf.exe);
}

static int quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	(void)l, (void)fmt, (void)ap;
	return 0;
}

static int loop(struct tool *t, struct discover *d)
{
	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(t->ep, evs, 16, 1000);

		if (n < 0 && errno != EINTR)
			return -1;
		/* the ring buffer first: an exit event arrives before the pidfd is readable */
		discover_dispatch(d);
		watchset_reap(&t->ws);
		for (int i = 0; i < n; i++) {
			char buf[256];

			if (evs[i].data.u64 == 2 && read(0, buf, sizeof(buf)) <= 0)
				return 0;
			if (evs[i].data.u64 == 3)
				return 0;
		}
	}
}

int main(int argc, char **argv)
{
	static struct tool t;
	struct watch_rules rules;
	struct epoll_event ev = { .events = EPOLLIN };
	struct discover *d;
	unsigned flags = 0;
	char err[512];
	sigset_t sigs;
	int sfd, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet);
	watch_rules_init(&rules);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--leader-exit")) {
			flags |= DISC_EXIT_BY_LEADER;
			continue;
		}
		if (strncmp(o, "--", 2) ||
		    watch_rules_add(&rules, o + 2, strcmp(o, "--all-go") ? argv[++i] : NULL, err,
				    sizeof(err))) {
			fprintf(stderr, "tool_discover: %s\n", strncmp(o, "--", 2) ? "usage" : err);
			return 2;
		}
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	t.ep = epoll_create1(EPOLL_CLOEXEC);
	watchset_init(&t.ws, &rules, &ops, &t);
	d = discover_open(on_event, &t, flags, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "tool_discover: %s\n", err);
		return 3;
	}
	ev.data.u64 = 0;
	epoll_ctl(t.ep, EPOLL_CTL_ADD, discover_fd(d), &ev);
	ev.data.u64 = 2;
	epoll_ctl(t.ep, EPOLL_CTL_ADD, 0, &ev);
	ev.data.u64 = 3;
	epoll_ctl(t.ep, EPOLL_CTL_ADD, sfd, &ev);
	/* attached first, then the scan: nothing that starts in between is missed */
	discover_scan(d);
	printf("ready found=%d watched=%u exit_by_leader=%d\n", t.found,
	       g_hash_table_size(t.ws.by_pid), discover_exit_by_leader(d));
	r = loop(&t, d);
	discover_dispatch(d);
	printf("end lost=%llu watched=%u\n", (unsigned long long)discover_lost(d),
	       g_hash_table_size(t.ws.by_pid));
	watchset_free(&t.ws);
	discover_close(d);
	watch_rules_free(&rules);
	close(sfd);
	close(t.ep);
	return r ? 1 : 0;
}
