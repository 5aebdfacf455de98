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

/* Ring-buffer callback: the model checks the record's type and size. */
static int on_record(void *ctx, const void *data, size_t size)
{
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

/* Poll until deadline (monotonic s), refreshing the model. Returns the end reason or NULL. */
static const char *run_until(struct attach *at, struct mw_model *model, struct target *t,
			     double t0, double deadline, double *next_refresh, double *next_progress)
{
	for (;;) {
		double now;
		int n = attach_poll(at, 100);

		if (n < 0 && n != -EINTR) {
			pr_err("reading the ring buffer: %s\n", strerror(-n));
			return "error";
		}
		now = now_s();
		if (stop_signal)
			return "signal";
		if (!target_alive(t->pid))
			return "target exited";
		if (now >= deadline)
			return NULL;
		if (now >= *next_refresh) {
			model_refresh(model, attach_mem_read, &t->pid, mono_ns(), false);
			*next_refresh = now + 1;
		}
		if (now >= *next_progress) {
			uint64_t st[MW_STAT__MAX];

			attach_stats(at, st);
			pr_info("mapwatch: %.0f s: %llu writes on %u maps, %llu probe hits, "
				"%llu lost\n",
				now - t0, (unsigned long long)model->writes,
				g_hash_table_size(model->maps),
				(unsigned long long)(st[MW_STAT_ENTRY_HITS] + st[MW_STAT_RET_HITS]),
				(unsigned long long)(st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL]));
			*next_progress = now + 10;
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

int cmd_capture(const struct capture_opts *o)
{
	struct capture_meta meta = { 0 };
	struct probe_plan plan;
	struct mw_model model = { 0 };
	struct attach at = { 0 };
	struct target t;
	uint64_t st[MW_STAT__MAX], end_ns;
	json_object *doc, *findings;
	struct detect_ctx dc;
	double t0, next_progress, next_refresh, base = baseline_s(o);
	struct hit_cost cost;
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
	for (int i = 0; i < plan.n; i++)
		if (plan.p[i].error[0])
			pr_info("mapwatch: not probing %s: %s\n", probe_defs[plan.p[i].id].symbol,
				plan.p[i].error);

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
	cost = attach_calibrate(&at);
	install_signals();
	rc = attach_configure(&at, &t, err, sizeof(err));
	if (!rc)
		rc = attach_target(&at, &t, &plan, ATTACH_LOCKS, err, sizeof(err));
	if (rc) {
		rc = attach_failed(o->pid, rc, err);
		goto out;
	}

	clock_gettime(CLOCK_REALTIME, &meta.started);
	t0 = now_s();
	model.start_ns = mono_ns();
	next_progress = t0 + 10;
	next_refresh = t0 + 1;
	why = NULL;
	if (base > 0) {
		pr_info("mapwatch: watching PID %d (%s, %s maps): measuring lock waits for %.1f s "
			"before the map probes go on\n",
			o->pid, t.gb.bi.version, impl_name(t.layout->impl), base);
		why = run_until(&at, &model, &t, t0, t0 + base, &next_refresh, &next_progress);
	}
	if (!why) {
		model.maps_ns = mono_ns();
		model.baseline_ns = base > 0 ? model.maps_ns - model.start_ns : 0;
		rc = attach_target(&at, &t, &plan, ATTACH_MAPS, err, sizeof(err));
		if (rc) {
			rc = attach_failed(o->pid, rc, err);
			goto out;
		}
		meta.attach_s = at.last_attach_s;
		pr_info("mapwatch: watching PID %d (%s, %s maps): %d runtime functions, %d uprobes; "
			"%.0f s, Ctrl-C to stop early\n",
			o->pid, t.gb.bi.version, impl_name(t.layout->impl), plan.usable,
			plan.uprobes, o->duration_s);
		if (o->ready_file && touch(o->ready_file))
			pr_err("cannot create %s: %s\n", o->ready_file, strerror(errno));
		why = run_until(&at, &model, &t, t0, t0 + o->duration_s, &next_refresh,
				&next_progress);
	}
	meta.end_reason = why ? why : "duration";
	/* The capture ends now; detaching (which can take a while) is not part of it. */
	meta.duration_s = now_s() - t0;
	end_ns = mono_ns();
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
		attach_detach(&at, ATTACH_LOCKS | ATTACH_MAPS);
		meta.detach_s = now_s() - d0;
	}
	while (attach_poll(&at, 0) > 0)
		;
	attach_stats(&at, st);
	/* Every map's state as the capture ends (if the target lives). */
	model_refresh(&model, attach_mem_read, &t.pid, end_ns, true);
	model_finish(&model, end_ns, (uint64_t)(detect_recent_s(meta.duration_s) * 1e9));

	meta.pid = o->pid;
	meta.exe = t.exe;
	meta.go_version = t.gb.bi.version;
	meta.map_impl = impl_name(t.layout->impl);
	meta.stripped = !t.gb.img.has_symtab;
	meta.pie = t.gb.img.pie;
	meta.offsets = t.layout_from_dwarf ? "dwarf" : "catalogue";
	meta.validation = goheap_ready(&model.heap) ? "heap" : "structure";
	meta.lock_baseline_s = (double)model.baseline_ns / 1e9;
	meta.events_total = model.records + model.rejected;
	memcpy(meta.stats, st, sizeof(st));
	meta.events_lost = st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL];
	meta.probe_hits = st[MW_STAT_ENTRY_HITS] + st[MW_STAT_RET_HITS];
	/* Each kind of hit at its own measured price (either stands in for the other if unknown). */
	meta.entry_hit_s = cost.entry_s >= 0 ? cost.entry_s : cost.ret_s;
	meta.ret_hit_s = cost.ret_s >= 0 ? cost.ret_s : cost.entry_s;
	meta.per_hit_s = meta.entry_hit_s < 0 || !meta.probe_hits ? meta.entry_hit_s :
			 (meta.entry_hit_s * (double)st[MW_STAT_ENTRY_HITS] +
			  meta.ret_hit_s * (double)st[MW_STAT_RET_HITS]) / (double)meta.probe_hits;
	meta.plan = &plan;
	attach_fn_hits(&at, meta.fn_hits);
	meta.locks_s = meta.duration_s;
	meta.maps_s = model.maps_ns && end_ns > model.maps_ns ? (double)(end_ns - model.maps_ns) / 1e9 : 0;
	meta.uprobes = plan.uprobes;
	meta.hot_probes = "map writes, creations, growths, lock slow paths: entry and every RET";
	if (!strcmp(meta.end_reason, "target exited"))
		pr_info("mapwatch: PID %d exited%s; writing the report\n", o->pid,
			model.fatal ? " after a fatal runtime error" : "");

	dc = (struct detect_ctx){ .m = &model, .o = &o->thresholds, .duration_s = meta.duration_s,
				  .start_ns = model.start_ns, .end_ns = end_ns };
	findings = detect_all(&dc);
	doc = report_build(&model, &meta, findings);
	rc = MW_EXIT_OK;
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
