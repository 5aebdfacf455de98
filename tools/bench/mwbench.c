// SPDX-License-Identifier: MIT
/*
 * mwbench: the measuring half of tools/bench/. It links mapwatch's own code (the probe plan,
 * the attach functions, the model) so that it probes exactly what mapwatch probes.
 *
 *   mwbench empty -p PID [-s SYMBOL] [-r READY_FILE] [-f | -e] [-P | -C]
 *       The empty handler (tools/bench/empty.bpf.c) on the entry and every RET of SYMBOL
 *       (default runtime.mapassign_fast64) in PID, at the file offsets mapwatch's probe plan
 *       gives, as two uprobe_multi links as mapwatch attaches them. With -f, on the
 *       function's first instruction alone (where bpftrace puts a uprobe on a symbol); with
 *       -e, on mapwatch's entry point alone (no RET). With -P, the pairing floor instead of
 *       the empty handler: the goroutine id read and a hash insert at the entry, a lookup and
 *       delete at the RET (tools/bench/empty.bpf.c). With -C (and -e), the entry-only
 *       write count instead: a per-CPU count by (process, map in RBX, caller).
 *       Creates READY_FILE once attached; on SIGINT/SIGTERM prints "hits entry=E ret=R" and
 *       detaches.
 *
 *   mwbench tally -p PID [-r READY_FILE]
 *       mapwatch's own tally probes (user/attach.c, ATTACH_TALLY: every map write's entry,
 *       counted in BPF by mw_tally) on PID, its tallies read every 100 ms as a capture reads
 *       them. Creates READY_FILE once attached; on SIGINT/SIGTERM detaches and prints
 *       "hits entry=E ret=0" for runtime.mapassign_fast64 and the writes the tallies counted.
 *
 *   mwbench window -p PID [-n CYCLES]
 *       Attaches and detaches mapwatch's map probes (BPF object, configuration and attach
 *       functions of user/attach.c) CYCLES times (default 5). For each, one line: the attach
 *       time, when the target last hit an entry probe and a RET probe after the detach began
 *       (a thread watches the hit counters every ~50 us: trapping has stopped by then), and
 *       when the detach returned (closing a uprobe_multi link waits for an RCU grace period
 *       after its breakpoints are gone; entries are closed before RETs).
 *
 *   mwbench replay FILE BINARY [-b BIAS] [-n PASSES]
 *       Replays a stream recorded by `mapwatch capture --record FILE` (records framed as
 *       u32 size, bytes) through model_ingest on this thread, PASSES times (default 5) into
 *       a fresh model each, symbolising against BINARY loaded at BIAS (PIE; `mapwatch info
 *       -p PID` prints it). Prints records/s per pass, in wall and in thread CPU time.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attach.h"
#include "empty.skel.h"
#include "model.h"
#include "probeplan.h"
#include "target.h"

int mw_verbose;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mono_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mwbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void open_target(struct target *t, pid_t pid, struct probe_plan *plan)
{
	char err[512];

	if (target_open_pid(t, pid, err, sizeof(err)))
		die("%s", err);
	probeplan_build(&t->gb, t->layout->impl, plan);
}

/* Tell the script driving us that the probes are attached: READY_FILE exists. */
static void touch_ready(const char *ready)
{
	int fd = ready ? open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;

	if (fd >= 0)
		close(fd);
}

/* ---- empty: the do-nothing handler on one function's probe points ---- */

static int cmd_empty(pid_t pid, const char *symbol, const char *ready, bool at_start,
		     bool entry_only, bool pair, bool counting)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, eo);
	LIBBPF_OPTS(bpf_uprobe_multi_opts, ro);
	unsigned long entry_off, ret_offs[DISASM_MAX_RETS];
	const struct planned_probe *pp = NULL;
	struct bpf_link *le, *lr;
	struct probe_plan plan;
	struct empty_bpf *skel;
	struct target t;
	__u64 sums[2] = { 0, 0 };
	int ncpu = libbpf_num_possible_cpus();

	open_target(&t, pid, &plan);
	for (int i = 0; i < plan.n; i++)
		if (!strcmp(probe_defs[plan.p[i].id].symbol, symbol))
			pp = &plan.p[i];
	if (!pp || pp->error[0])
		die("%s: %s is not in mapwatch's probe plan%s%s", t.exe, symbol, pp ? ": " : "",
		    pp ? pp->error : "");
	if (pp->entry_off < 0 || pp->pts.nrets < 1)
		die("%s: no entry or RET offset", symbol);
	entry_off = (unsigned long)(at_start ? elfimg_vaddr_to_offset(&t.gb.img, pp->fn->entry) :
					       pp->entry_off);
	for (int r = 0; r < pp->pts.nrets; r++)
		ret_offs[r] = (unsigned long)pp->ret_off[r];

	skel = empty_bpf__open();
	if (!skel)
		die("cannot open the empty BPF object: %s", strerror(errno));
	skel->rodata->goid_off = (__u32)t.layout->goid;
	if (empty_bpf__load(skel))
		die("cannot load the empty BPF object: %s", strerror(errno));
	/* as mapwatch does: every RET first, then the entry */
	ro.offsets = ret_offs;
	ro.cnt = (size_t)pp->pts.nrets;
	lr = at_start || entry_only ? NULL :
			bpf_program__attach_uprobe_multi(pair ? skel->progs.pair_ret :
								       skel->progs.empty_ret, pid, t.open_path,
							 NULL, &ro);
	eo.offsets = &entry_off;
	eo.cnt = 1;
	le = lr || at_start || entry_only ? bpf_program__attach_uprobe_multi(pair ? skel->progs.pair_entry :
								       counting ? skel->progs.count_entry :
								       skel->progs.empty_entry, pid,
							       t.open_path, NULL, &eo) :
			      NULL;
	if (!le)
		die("cannot attach to %s in %s: %s", symbol, t.exe, strerror(errno));
	printf("attached: %s entry (file offset %#lx, +%llu) and %d RET, %s handler\n", symbol,
	       entry_off,
	       (unsigned long long)(at_start ? 0 : pp->pts.entry - pp->fn->entry),
	       at_start || entry_only ? 0 : pp->pts.nrets, pair ? "pairing" : counting ? "counting" : "empty");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	touch_ready(ready);
	while (!stop)
		pause();
	bpf_link__destroy(le);
	bpf_link__destroy(lr);
	for (__u32 k = 0; k < 2 && ncpu > 0; k++) {
		__u64 v[ncpu];

		if (bpf_map__lookup_elem(skel->maps.hits, &k, sizeof(k), v, sizeof(v), 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			sums[k] += v[c];
	}
	printf("hits entry=%llu ret=%llu\n", (unsigned long long)sums[0],
	       (unsigned long long)sums[1]);
	empty_bpf__destroy(skel);
	target_close(&t);
	return 0;
}

/* ---- window: attach and detach one window of mapwatch's map probes ---- */

struct watch {
	struct attach *a;
	atomic_bool done;
	uint64_t hits[2];	/* entry, RET hits: the last values seen */
	double last[2];		/* monotonic s of the last read that saw each change */
};

static void read_hits(const struct attach *a, uint64_t h[2])
{
	uint64_t st[MW_STAT__MAX];

	attach_stats(a, st);
	h[0] = st[MW_STAT_ENTRY_HITS];
	h[1] = st[MW_STAT_RET_HITS];
}

static void *watcher(void *p)
{
	struct watch *w = p;

	while (!atomic_load(&w->done)) {
		uint64_t h[2];

		read_hits(w->a, h);
		for (int k = 0; k < 2; k++)
			if (h[k] != w->hits[k]) {
				w->hits[k] = h[k];
				w->last[k] = mono_s();
			}
		usleep(50);
	}
	return NULL;
}

static int drop_record(void *ctx, const void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(uint64_t *)ctx;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A window of map probes that records: the tally has windows of its own. */
#define WINDOW_SETS (ATTACH_MAPS & ~ATTACH_TALLY)

static int cmd_window(pid_t pid, int cycles)
{
	double att[cycles], attc[cycles], stop_e[cycles], stop_r[cycles], close_ms[cycles];
	struct probe_plan plan;
	struct attach a;
	struct target t;
	uint64_t records = 0;
	char err[512];
	int n = 0, rc;

	open_target(&t, pid, &plan);
	rc = attach_load(&a, 16u << 20, drop_record, &records, err, sizeof(err));
	if (!rc)
		rc = attach_configure(&a, &t, err, sizeof(err));
	if (rc)
		die("%s", err);
	printf("target: %s (%s), %d map and lock functions planned, %d uprobes, %s links\n",
	       t.exe, t.gb.bi.version, plan.usable, plan.uprobes,
	       a.multi ? "uprobe_multi" : "one per uprobe");
	for (int c = 0; c < cycles; c++) {
		struct watch w = { .a = &a };
		uint64_t h0[2], h1[2];
		double s0, t0, c0, interval, settle = 0.3;
		pthread_t th;

		c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		if ((rc = attach_target(&a, &t, &plan, WINDOW_SETS, err, sizeof(err))))
			die("%s", err);
		attc[n] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
		att[n] = a.last_attach_s * 1e3;
		read_hits(&a, h0);
		s0 = mono_s();
		while (mono_s() - s0 < settle)
			attach_poll(&a, 10);
		read_hits(&a, w.hits);
		memcpy(h1, w.hits, sizeof(h1));
		interval = h1[0] + h1[1] > h0[0] + h0[1] ?
				   (mono_s() - s0) / (double)(h1[0] + h1[1] - h0[0] - h0[1]) : -1;
		if (pthread_create(&th, NULL, watcher, &w))
			die("pthread_create: %s", strerror(errno));
		usleep(2000);	/* the watcher has taken its first readings */
		t0 = mono_s();
		attach_detach(&a, WINDOW_SETS);	/* closes on threads of its own */
		attach_detach_wait(&a);
		close_ms[n] = (mono_s() - t0) * 1e3;
		usleep(50000);	/* any hit still to come would show now */
		atomic_store(&w.done, true);
		pthread_join(th, NULL);
		while (attach_poll(&a, 0) > 0)
			;
		stop_e[n] = w.last[0] > t0 ? (w.last[0] - t0) * 1e3 : 0;
		stop_r[n] = w.last[1] > t0 ? (w.last[1] - t0) * 1e3 : 0;
		printf("cycle %d: attach %.2f ms (%.2f ms of CPU: the rest waits on the kernel); after the detach began, the last entry hit at "
		       "%.2f ms, the last RET hit at %.2f ms (a hit every %.3f ms before it); the "
		       "detach returned at %.2f ms\n",
		       c + 1, att[n], attc[n], stop_e[n], stop_r[n], interval * 1e3, close_ms[n]);
		fflush(stdout);
		if (interval < 0)
			fprintf(stderr, "mwbench: cycle %d: the target hit no probe while attached: "
					"the stop times mean nothing (is it busy?)\n", c + 1);
		n++;
	}
	printf("median: attach %.2f ms (%.2f ms of CPU), entries stopped %.2f ms, RETs stopped %.2f ms, detach "
	       "returned %.2f ms (%d cycles; %llu records received)\n",
	       median(att, n), median(attc, n), median(stop_e, n), median(stop_r, n), median(close_ms, n), n,
	       (unsigned long long)records);
	attach_close(&a);
	target_close(&t);
	return 0;
}

/* ---- tally: mapwatch's entry-only write count ---- */

static int count_tally(void *ctx, const void *data, size_t size)
{
	const struct mw_tally_rec *r = data;

	if (size >= sizeof(*r) && r->type == MW_REC_TALLY)
		*(uint64_t *)ctx += r->v.n;
	return 0;
}

static int cmd_tally(pid_t pid, const char *ready)
{
	uint64_t counted = 0, hits[MW_MAX_FN * 2];
	struct probe_plan plan;
	struct attach a;
	struct target t;
	char err[512];
	int rc;

	open_target(&t, pid, &plan);
	rc = attach_load(&a, 1u << 20, count_tally, &counted, err, sizeof(err));
	if (!rc)
		rc = attach_configure(&a, &t, err, sizeof(err));
	if (!rc)
		rc = attach_target(&a, &t, &plan, ATTACH_TALLY, err, sizeof(err));
	if (rc)
		die("%s", err);
	printf("attached: the tally probes of %s (%s links)\n", t.exe,
	       a.multi ? "uprobe_multi" : "single");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	touch_ready(ready);
	while (!stop) {
		usleep(100000);
		attach_tally_drain(&a);
	}
	attach_detach(&a, ATTACH_TALLY);
	attach_detach_wait(&a);
	attach_tally_drain(&a);
	attach_fn_hits(&a, hits);
	printf("hits entry=%llu ret=0\ncounted %llu\n",
	       (unsigned long long)hits[(PROBE_MAPASSIGN_FAST64 + MW_FN_TALLY) * 2],
	       (unsigned long long)counted);
	attach_close(&a);
	target_close(&t);
	return 0;
}

/* ---- replay: a recorded record stream through the model ---- */

static int cmd_replay(const char *file, const char *binary, uint64_t bias, int passes)
{
	struct target t;
	char err[512];
	FILE *f = fopen(file, "re");
	void **recs = NULL;
	size_t *sizes = NULL, n = 0, cap = 0, bytes = 0;
	uint32_t sz;
	double rates[passes];

	if (!f)
		die("%s: %s", file, strerror(errno));
	while (fread(&sz, sizeof(sz), 1, f) == 1) {
		void *r;

		if (sz > 1u << 20)
			die("%s: record %zu has size %u: not a --record stream", file, n, sz);
		r = aligned_alloc(8, (sz + 7) & ~7u);	/* aligned as in the ring buffer */
		if (!r || (sz && fread(r, sz, 1, f) != 1))
			die("%s: truncated at record %zu", file, n);
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			recs = realloc(recs, cap * sizeof(*recs));
			sizes = realloc(sizes, cap * sizeof(*sizes));
			if (!recs || !sizes)
				die("out of memory");
		}
		recs[n] = r;
		sizes[n++] = sz;
		bytes += sz;
	}
	fclose(f);
	if (!n)
		die("%s: no records", file);
	if (target_open_file(&t, binary, err, sizeof(err)))
		die("%s", err);
	printf("replay: %zu records (%.1f MiB) from %s, symbolised against %s (%s), bias %#llx\n",
	       n, (double)bytes / (1 << 20), file, binary, t.gb.bi.version,
	       (unsigned long long)bias);
	for (int p = 0; p < passes; p++) {
		struct mw_model m;
		uint64_t bad = 0;
		double w0, c0, w, c;

		model_init(&m, &t.gb, t.layout, bias);
		w0 = mono_s();
		c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (size_t i = 0; i < n; i++)
			bad += model_ingest(&m, recs[i], sizes[i]) != 0;
		c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		w = mono_s() - w0;
		printf("pass %d: %.0f records/s of thread CPU (%.3f s), %.0f records/s wall "
		       "(%.3f s); %llu maps, %llu rejected\n",
		       p + 1, (double)n / c, c, (double)n / w, w,
		       (unsigned long long)g_hash_table_size(m.maps), (unsigned long long)bad);
		rates[p] = (double)n / c;
		model_free(&m);
	}
	printf("median: %.0f records/s on one thread\n", median(rates, passes));
	qsort(rates, (size_t)passes, sizeof(*rates), cmp_double);
	printf("best: %.0f records/s on one thread\n", rates[passes - 1]);
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
	free(recs);
	free(sizes);
	target_close(&t);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mwbench empty -p PID [-s SYMBOL] [-r READY_FILE] [-f | -e] [-P | -C]\n"
			"       mwbench tally -p PID [-r READY_FILE]\n"
			"       mwbench window -p PID [-n CYCLES]\n"
			"       mwbench replay FILE BINARY [-b BIAS] [-n PASSES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "", *symbol = "runtime.mapassign_fast64";
	const char *ready = NULL;
	unsigned long long bias = 0;
	pid_t pid = 0;
	int opt, cycles = 5, passes = 5;
	bool at_start = false, entry_only = false, pair = false, counting = false;

	if (argc < 2)
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "p:s:r:n:b:fePC")) != -1) {
		switch (opt) {
		case 'p':
			pid = (pid_t)atoi(optarg);
			break;
		case 's':
			symbol = optarg;
			break;
		case 'r':
			ready = optarg;
			break;
		case 'n':
			cycles = passes = atoi(optarg);
			break;
		case 'f':
			at_start = true;
			break;
		case 'e':
			entry_only = true;
			break;
		case 'P':
			pair = true;
			break;
		case 'C':
			counting = true;
			break;
		case 'b':
			bias = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (!strcmp(cmd, "empty") && pid > 0)
		return cmd_empty(pid, symbol, ready, at_start, entry_only, pair, counting);
	if (!strcmp(cmd, "tally") && pid > 0)
		return cmd_tally(pid, ready);
	if (!strcmp(cmd, "window") && pid > 0 && cycles > 0 && cycles <= 1000)
		return cmd_window(pid, cycles);
	if (!strcmp(cmd, "replay") && argc - optind == 2 && passes > 0)
		return cmd_replay(argv[optind], argv[optind + 1], bias, passes);
	usage();
}
