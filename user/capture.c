// SPDX-License-Identifier: MIT
/* mapwatch capture: attach, stream map writes into the model, report. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attach.h"
#include "attach_mem.h"
#include "budget.h"
#include "commands.h"
#include "detect/detect.h"
#include "log.h"
#include "mwerr.h"
#include "report.h"

static volatile sig_atomic_t stop_signal, interrupts;
static FILE *record_fp;		/* --record: every record as (u32 size, bytes), for tools/bench */

/*
 * The first signal ends the capture and the report is still written. Another one says so
 * (writing is short, but the user should not wonder); a third gives up on the report.
 */
static void on_signal(int sig)
{
	static const char again[] = "mapwatch: finishing: detaching and writing the report "
				    "(interrupt once more to quit without it)\n";

	stop_signal = sig;
	interrupts++;
	if (interrupts == 2 && write(STDERR_FILENO, again, sizeof(again) - 1) < 0)
		return;
	if (interrupts >= 3)
		_exit(128 + sig);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Reading stops at this time (monotonic s, 0: never) so that a flood of records cannot hold
 * a window open past its end; the rest is read on the next poll.
 */
static double read_until;

/* Ring-buffer callback: the model checks the record's type and size. */
static int on_record(void *ctx, const void *data, size_t size)
{
	static unsigned seen;
	struct mw_model *m = ctx;
	bool was_fatal = m->fatal;
	uint32_t n = (uint32_t)size;

	if (record_fp) {	/* a failed write shows in ferror() at the end */
		fwrite(&n, sizeof(n), 1, record_fp);
		fwrite(data, size, 1, record_fp);
	}
	model_ingest(m, data, size);
	if (m->fatal && !was_fatal)
		pr_info("mapwatch: the target called runtime.fatal: \"%s\"\n", m->fatal_msg);
	/* libbpf counts this record as read whatever we return; a negative value stops it */
	if (read_until > 0 && !(++seen & 7) && now_s() >= read_until)
		return -EAGAIN;
	return 0;
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	return close(fd);
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* A path we will write at the end: make sure now that it can be created. */
static int check_output(const char *path, char *err, size_t errlen)
{
	int fd;

	if (!path || !strcmp(path, "-"))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * How long lock waits are measured with only the lock slow paths probed, before the map
 * probes go on: a fifth of the capture, at most 2 s (or --lock-baseline).
 */
static double baseline_s(const struct capture_opts *o)
{
	double b = o->lock_baseline_s >= 0 ? o->lock_baseline_s : o->duration_s * 0.2;

	if (o->lock_baseline_s < 0 && b > 2)
		b = 2;
	return b < o->duration_s ? b : o->duration_s / 2;
}

static int attach_failed(pid_t pid, int rc, const char *err);

/*
 * The capture's state while it runs: the probes attached now, the budget that decides them,
 * and the hit counters as last read, from which each class's spend is priced.
 */
struct run {
	struct attach *at;
	struct mw_model *model;
	struct target *t;
	const struct probe_plan *plan;
	struct budget b;
	int sets;			/* ATTACH_* attached now */
	int closing;			/* detached, the kernel still closing them: still trapping */
	bool hot_closing;		/* hot map probes detached, the kernel still closing them */
	double last_tick;
	uint64_t hits[MW_MAX_FN * 2];	/* as last read */
	struct handler_time ht;		/* as last read */
	double trap_entry[PROBE__COUNT];	/* seconds a hit, by what the entry probe is on */
	double trap_ret;
	double attach_s_sum, attach_s_max, close_s_max;
	unsigned attaches;
	const char *failed;		/* an attach failed mid-capture: why */
	int fail_rc;
	double t0, next_refresh, next_progress, next_step;
	bool ready;
};

#define HOT_SETS (ATTACH_WRITES | ATTACH_SYNCOPS)

/* Read the hit counters and price what each class cost since the last tick. */
static void tick(struct run *r, double now)
{
	uint64_t hits[MW_MAX_FN * 2], ce[MW_CLASS__COUNT] = { 0 }, cr[MW_CLASS__COUNT] = { 0 };
	uint64_t te = 0, tr = 0, dns_e, dns_r;
	double cost[MW_CLASS__COUNT] = { 0 }, dt = now - r->last_tick;
	struct handler_time ht;

	attach_fn_hits(r->at, hits);
	if (!attach_handler_time(r->at, &ht))
		ht = r->ht;
	for (int i = 0; i < r->plan->n; i++) {
		const struct planned_probe *pp = &r->plan->p[i];
		int c = op_class(probe_defs[pp->id].op);
		uint64_t e = hits[pp->id * 2] - r->hits[pp->id * 2];
		uint64_t x = hits[pp->id * 2 + 1] - r->hits[pp->id * 2 + 1];

		if (pp->error[0])
			continue;
		ce[c] += e;
		cr[c] += x;
		cost[c] += (double)e * r->trap_entry[pp->id] + (double)x * r->trap_ret;
	}
	/* the handlers' own run time, as the kernel timed it, shared out by hits */
	dns_e = ht.entry_ns - r->ht.entry_ns;
	dns_r = ht.ret_ns - r->ht.ret_ns;
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		te += ce[c];
		tr += cr[c];
	}
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		if (te)
			cost[c] += (double)dns_e * 1e-9 * (double)ce[c] / (double)te;
		if (tr)
			cost[c] += (double)dns_r * 1e-9 * (double)cr[c] / (double)tr;
		/* a set being closed still traps until the kernel is done: it counts as attached */
		budget_account(&r->b, c, ((r->sets | r->closing) & ATTACH_SET(c)) ? dt : 0,
			       ce[c] + cr[c], cost[c]);
	}
	if (!attach_closing(r->at))
		r->closing = 0;
	memcpy(r->hits, hits, sizeof(hits));
	r->ht = ht;
	r->last_tick = now;
}

/* Attach and detach what the budget wants now. 0, or -1 (r->failed says why). */
static int apply(struct run *r, int want, char *err, size_t errlen)
{
	int off = r->sets & ~want, on = want & ~r->sets, rc;

	if (off || on)
		pr_debug("budget: %.3f s: attach %#x, detach %#x; spent %.4f s, write rate %.3f\n",
			 now_s() - r->t0, on, off, r->b.spent_s, r->b.cls[MW_CLASS_WRITE].rate);

	if (off) {
		attach_detach(r->at, off);
		r->sets &= ~off;
		r->closing |= off;
		if (off & ATTACH_LOCKS)	/* waits in flight now are lost: off at once */
			model_lock_probes(r->model, mono_ns(), false);
		if ((off & HOT_SETS) && !(r->sets & HOT_SETS))
			r->hot_closing = true;	/* off once the kernel has closed them */
	}
	if (!on)
		return 0;
	/* on before attaching: a lock wait that overlaps the attach is not the program's own */
	if (on & HOT_SETS)
		model_hot_probes(r->model, mono_ns(), true);
	rc = attach_target(r->at, r->t, r->plan, on, err, errlen);
	r->sets |= on;	/* what did attach is detached with the rest */
	if (on & ATTACH_LOCKS)	/* on once attached: a wait must begin after its entry probe */
		model_lock_probes(r->model, mono_ns(), true);
	if (rc) {
		r->fail_rc = attach_failed(r->t->pid, rc, err);
		r->failed = r->fail_rc == MW_EXIT_NOPROC ? "target exited" : "attach failed";
		return -1;
	}
	pr_debug("budget: %.3f s: attached in %.1f ms\n", now_s() - r->t0,
		 r->at->last_attach_s * 1e3);
	r->attaches++;
	r->attach_s_sum += r->at->last_attach_s;
	if (r->at->last_attach_s > r->attach_s_max)
		r->attach_s_max = r->at->last_attach_s;
	return 0;
}

/*
 * Poll until deadline (monotonic s): records into the model, re-reads every second, and the
 * budget's decisions (when maps is set). Returns the end reason, or NULL at the deadline.
 */
static const char *run_until(struct run *r, double deadline, bool maps, const char *ready_file,
			     char *err, size_t errlen)
{
	for (;;) {
		double now = now_s(), wake = deadline;
		int n;

		if (maps && r->next_step < wake)
			wake = r->next_step;
		if (r->next_refresh < wake)
			wake = r->next_refresh;
		wake = wake - now > 0.1 ? 0.1 : wake - now;
		read_until = now + (wake > 0.005 ? wake : 0.005);
		n = attach_poll(r->at, wake > 0 ? (int)(wake * 1000) + 1 : 0);
		read_until = 0;
		if (r->model->deep_new->len) {
			attach_deep_callers(r->at, (const uint64_t *)(void *)r->model->deep_new->data,
					    r->model->deep_new->len);
			g_array_set_size(r->model->deep_new, 0);
		}
		if (n < 0 && n != -EINTR && n != -EAGAIN) {
			pr_err("reading the ring buffer: %s\n", strerror(-n));
			return "error";
		}
		now = now_s();
		if (stop_signal)
			return "signal";
		if (!target_alive(r->t->pid))
			return "target exited";
		if (r->hot_closing && !attach_closing(r->at)) {
			model_hot_probes(r->model, mono_ns(), false);
			r->hot_closing = false;
		}
		if (maps && now >= r->next_step) {
			tick(r, now);
			if (apply(r, budget_step(&r->b, now, attach_closing(r->at) > 0, &r->next_step),
				  err, errlen))
				return r->failed;
			budget_attached(&r->b, now_s());	/* a window runs from its attach */
			if (!r->ready && (r->sets & ATTACH_WRITES)) {
				r->ready = true;
				if (ready_file && touch(ready_file))
					pr_err("cannot create %s: %s\n", ready_file, strerror(errno));
			}
		}
		if (now >= deadline)
			return NULL;
		if (now >= r->next_refresh) {
			/*
			 * Maps written since the last re-read; every map once writes are watched
			 * in windows (a map written between them changes unseen).
			 */
			model_refresh(r->model, attach_mem_read, &r->t->pid, mono_ns(),
				      r->b.windows > 0);
			r->next_refresh = now + 1;
		}
		if (now >= r->next_progress) {
			uint64_t st[MW_STAT__MAX];

			attach_stats(r->at, st);
			pr_info("mapwatch: %.0f s: %llu writes on %u maps, %llu probe hits, %llu lost; "
				"probes cost %.3f s of CPU (%.2f%% of one)\n",
				now - r->t0, (unsigned long long)r->model->writes,
				g_hash_table_size(r->model->maps),
				(unsigned long long)(st[MW_STAT_ENTRY_HITS] + st[MW_STAT_RET_HITS]),
				(unsigned long long)(st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL]),
				r->b.spent_s, 100 * r->b.spent_s / (now - r->t0));
			r->next_progress = now + 10;
		}
	}
}

/* An attach that failed because the target exited meanwhile is "no such process". */
static int attach_failed(pid_t pid, int rc, const char *err)
{
	if (!target_alive_settled(pid)) {
		pr_err("PID %d exited while mapwatch was attaching its probes\n", pid);
		return MW_EXIT_NOPROC;
	}
	pr_err("%s\n", err);
	return rc;
}

/* Seconds a hit of each probe point costs: the trap for its kind of instruction. */
static void price_traps(struct run *r, struct hit_cost c, struct capture_meta *meta)
{
	/* either stands in for the other if unmeasured; a typical VM's figure if both are */
	double em = c.emulated_s > 0 ? c.emulated_s : c.stepped_s > 0 ? c.stepped_s / 2 : 6e-6;
	double st = c.stepped_s > 0 ? c.stepped_s : em * 2;

	meta->trap_measured = c.emulated_s > 0 || c.stepped_s > 0;
	meta->trap_emulated_s = em;
	meta->trap_stepped_s = st;
	r->trap_ret = st;
	for (int i = 0; i < r->plan->n; i++) {
		const struct planned_probe *pp = &r->plan->p[i];

		r->trap_entry[pp->id] = pp->pts.entry_emulated ? em : st;
	}
}

int cmd_capture(const struct capture_opts *o)
{
	struct capture_meta meta = { 0 };
	struct probe_plan plan;
	struct mw_model model = { 0 };
	struct attach at = { 0 };
	struct target t;
	struct run r = { 0 };
	uint64_t st[MW_STAT__MAX], end_ns;
	json_object *doc, *findings;
	struct detect_ctx dc;
	double t0, base = baseline_s(o);
	int present = 0, fail = 0;
	const char *why;
	char err[512];
	int rc;

	if (check_output(o->json_path, err, sizeof(err)) ||
	    check_output(o->folded_path, err, sizeof(err)) ||
	    check_output(o->dot_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		return MW_EXIT_FAIL;
	}
	rc = target_open_pid(&t, o->pid, err, sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		return rc;
	}
	probeplan_build(&t.gb, t.layout->impl, &plan);
	if (!plan.usable) {
		pr_err("%s: no map function of the runtime can be probed\n", t.exe);
		target_close(&t);
		return MW_EXIT_UNSUPPORTED;
	}
	for (int i = 0; i < plan.n; i++) {
		if (plan.p[i].error[0])
			pr_info("mapwatch: not probing %s: %s\n", probe_defs[plan.p[i].id].symbol,
				plan.p[i].error);
		else
			present |= attach_set_of(plan.p[i].id);
	}

	if (t.layout_from_dwarf)
		pr_info("mapwatch: %s is not in the probe catalogue; using offsets from the "
			"binary's DWARF\n", t.gb.bi.version);
	model_init(&model, &t.gb, t.layout, t.bias);
	model_use_heap(&model, t.heap);
	if (o->record_path && !(record_fp = fopen(o->record_path, "we"))) {
		pr_err("cannot write %s: %s\n", o->record_path, strerror(errno));
		rc = MW_EXIT_FAIL;
		goto out;
	}
	rc = attach_load(&at, (size_t)o->ringbuf_mb << 20, on_record, &model, err, sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		goto out;
	}
	r = (struct run){ .at = &at, .model = &model, .t = &t, .plan = &plan };
	price_traps(&r, attach_calibrate(&at), &meta);
	install_signals();
	rc = attach_configure(&at, &t, err, sizeof(err));
	if (!rc)
		rc = attach_target(&at, &t, &plan, ATTACH_CORE | ATTACH_LOCKS, err, sizeof(err));
	if (rc) {
		rc = attach_failed(o->pid, rc, err);
		goto out;
	}
	r.sets = (ATTACH_CORE | ATTACH_LOCKS) & present;

	clock_gettime(CLOCK_REALTIME, &meta.started);
	t0 = now_s();
	model.start_ns = mono_ns();
	model_lock_probes(&model, model.start_ns, true);
	r.t0 = r.last_tick = t0;
	attach_fn_hits(&at, r.hits);
	attach_handler_time(&at, &r.ht);
	r.next_progress = t0 + 10;
	r.next_refresh = t0 + 1;
	/* the budget runs from the start: the baseline's lock probes are paid from it too */
	budget_init(&r.b, o->budget, t0, present, ATTACH_CORE, ATTACH_LOCKS, HOT_SETS);
	why = NULL;
	if (base > 0) {
		pr_info("mapwatch: watching PID %d (%s, %s maps): measuring lock waits for %.1f s "
			"before the map probes go on\n",
			o->pid, t.gb.bi.version, impl_name(t.layout->impl), base);
		why = run_until(&r, t0 + base, false, NULL, err, sizeof(err));
	}
	if (!why) {
		model.baseline_ns = base > 0 ? mono_ns() - model.start_ns : 0;
		meta.lock_baseline_s = (double)model.baseline_ns / 1e9;
		if (o->budget > 0)
			pr_info("mapwatch: watching PID %d (%s, %s maps): %d runtime functions, %d "
				"uprobes, within a budget of %.3g%% of one CPU; %.0f s, Ctrl-C to stop "
				"early\n",
				o->pid, t.gb.bi.version, impl_name(t.layout->impl), plan.usable,
				plan.uprobes, o->budget * 100, o->duration_s);
		else
			pr_info("mapwatch: watching PID %d (%s, %s maps): %d runtime functions, %d "
				"uprobes, all attached (no budget); %.0f s, Ctrl-C to stop early\n",
				o->pid, t.gb.bi.version, impl_name(t.layout->impl), plan.usable,
				plan.uprobes, o->duration_s);
		r.next_step = now_s();
		why = run_until(&r, t0 + o->duration_s, true, o->ready_file, err, sizeof(err));
		/* an attach that failed mid-capture ends it; what was seen is still reported */
		if (r.failed && r.fail_rc != MW_EXIT_NOPROC)
			fail = r.fail_rc;
	}
	meta.end_reason = why ? why : "duration";
	/* The capture ends now; detaching (which can take a while) is not part of it. */
	meta.duration_s = now_s() - t0;
	end_ns = mono_ns();
	tick(&r, now_s());
	/*
	 * Detach first, then drain, then read the counters: with probes still on, calls made
	 * after the drain would be counted as hits but neither received nor counted as lost.
	 */
	meta.multi = at.multi;
	{
		double d0 = now_s();

		if (!at.multi)
			pr_info("mapwatch: detaching %d uprobes one by one (no uprobe_multi here)...\n",
				at.nlinks);
		attach_detach(&at, ATTACH_ALL);
		if (!attach_detach_wait_for(&at, 1.0)) {
			pr_info("mapwatch: detaching: the kernel is still closing %d probe links...\n",
				attach_closing(&at));
			attach_detach_wait(&at);
		}
		meta.detach_s = now_s() - d0;
	}
	if (r.sets & HOT_SETS || r.hot_closing)
		model_hot_probes(&model, end_ns, false);
	model_lock_probes(&model, end_ns, false);
	while (attach_poll(&at, 0) > 0)
		;
	attach_stats(&at, st);
	/* Every map's state as the capture ends (if the target lives). */
	model_refresh(&model, attach_mem_read, &t.pid, end_ns, true);
	model_finish(&model, end_ns, (uint64_t)(detect_recent_s(meta.duration_s) * 1e9));
	/* lock waits are the program's own only while the hot map probes were off */
	model.baseline_ns = model_hot_off_ns(&model, model.start_ns, end_ns);

	meta.pid = o->pid;
	meta.exe = t.exe;
	meta.go_version = t.gb.bi.version;
	meta.map_impl = impl_name(t.layout->impl);
	meta.stripped = !t.gb.img.has_symtab;
	meta.pie = t.gb.img.pie;
	meta.offsets = t.layout_from_dwarf ? "dwarf" : "catalogue";
	meta.validation = goheap_ready(&model.heap) ? "heap" : "structure";
	meta.events_total = model.records + model.rejected;
	memcpy(meta.stats, st, sizeof(st));
	meta.events_lost = st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL];
	meta.probe_hits = st[MW_STAT_ENTRY_HITS] + st[MW_STAT_RET_HITS];
	meta.budget = &r.b;
	meta.handler_entry_s = r.ht.entry_runs ? (double)r.ht.entry_ns * 1e-9 / (double)r.ht.entry_runs : -1;
	meta.handler_ret_s = r.ht.ret_runs ? (double)r.ht.ret_ns * 1e-9 / (double)r.ht.ret_runs : -1;
	meta.plan = &plan;
	attach_fn_hits(&at, meta.fn_hits);
	meta.probes_off_s = (double)model.baseline_ns / 1e9;
	meta.uprobes = plan.uprobes;
	meta.attach_s = r.attaches ? r.attach_s_sum / r.attaches : 0;
	meta.attach_max_s = r.attach_s_max;
	if (!strcmp(meta.end_reason, "target exited"))
		pr_info("mapwatch: PID %d exited%s; writing the report\n", o->pid,
			model.fatal ? " after a fatal runtime error" : "");

	dc = (struct detect_ctx){ .m = &model, .o = &o->thresholds, .duration_s = meta.duration_s,
				  .start_ns = model.start_ns, .end_ns = end_ns };
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		dc.observed[c] = report_observed_fraction(&meta, c);
	findings = detect_all(&dc);
	doc = report_build(&model, &meta, findings);
	rc = fail ? fail : MW_EXIT_OK;
	if (o->json_path && report_write_json(doc, o->json_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = MW_EXIT_FAIL;
	}
	if (o->folded_path && report_write_folded(&model, o->folded_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = MW_EXIT_FAIL;
	}
	if (o->dot_path && report_write_dot(&model, o->dot_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = MW_EXIT_FAIL;
	}
	/* JSON on stdout (--json -) is the whole of stdout: the text goes to stderr then. */
	report_print_text(doc, o->json_path && !strcmp(o->json_path, "-") ? stderr : stdout);
	fflush(stdout);
	json_object_put(doc);
out:
	if (record_fp && (ferror(record_fp) | fclose(record_fp)))
		pr_err("writing %s failed\n", o->record_path);
	record_fp = NULL;
	attach_close(&at);
	model_free(&model);
	target_close(&t);
	return rc;
}
