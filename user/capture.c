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
#include "session.h"

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
	if (read_until > 0 && !(++seen & 7) && mono_s() >= read_until)
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
	bool made = false;
	int fd;

	if (!path || !strcmp(path, "-"))
		return 0;
	/*
	 * Tried, not left behind: a capture killed before its end (SIGKILL) must not leave an
	 * empty file where a report was asked for (the report itself is written atomically).
	 */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		made = fd >= 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	if (made)
		unlink(path);
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

/*
 * Poll until deadline (monotonic s): records into the model, and the session's steps.
 * Returns the end reason, or NULL at the deadline.
 */
static const char *run_until(struct session *s, double deadline, const char *ready_file)
{
	double next_progress = s->t0 + 10;

	for (;;) {
		double now = mono_s(), wake = session_wake(s);
		const char *why;
		int n;

		if (deadline < wake)
			wake = deadline;
		wake = wake - now > 0.1 ? 0.1 : wake - now;
		read_until = now + (wake > 0.005 ? wake : 0.005);
		n = attach_poll(s->at, wake > 0 ? (int)(wake * 1000) + 1 : 0);
		read_until = 0;
		if (n < 0 && n != -EINTR && n != -EAGAIN) {
			pr_err("reading the ring buffer: %s\n", strerror(-n));
			return "error";
		}
		now = mono_s();
		if (stop_signal)
			return "signal";
		if (!target_alive(s->t->pid))
			return "target exited";
		if (now >= deadline)
			return NULL;
		why = session_step(s, now);
		if (why)
			return why;
		if (s->ready && ready_file) {
			if (touch(ready_file))
				pr_err("cannot create %s: %s\n", ready_file, strerror(errno));
			ready_file = NULL;
		}
		if (now >= next_progress) {
			uint64_t st[MW_STAT__MAX];

			attach_stats(s->at, st);
			/* maps that ended (short-lived ones) are counted, not kept */
			pr_info("mapwatch: %.0f s: %llu writes seen, %u maps live and %llu ended, "
				"%llu probe hits, %llu lost; probes cost %.3f s of CPU (%.2f%% of one)\n",
				now - s->t0, (unsigned long long)s->model.writes,
				g_hash_table_size(s->model.maps),
				(unsigned long long)s->model.ended_maps,
				(unsigned long long)(st[MW_STAT_ENTRY_HITS] + st[MW_STAT_RET_HITS]),
				(unsigned long long)(st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL]),
				s->b.spent_s, 100 * s->b.spent_s / (now - s->t0));
			next_progress = now + 10;
		}
	}
}

int cmd_capture(const struct capture_opts *o)
{
	struct probe_plan plan;
	struct attach at = { 0 };
	struct session sess = { 0 };
	struct mw_model *model = &sess.model;
	struct target t;
	json_object *doc, *findings;
	double base = baseline_s(o);
	int fail = 0, rc;
	const char *why;
	char err[512];

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
	if (o->record_path && !(record_fp = fopen(o->record_path, "we"))) {
		pr_err("cannot write %s: %s\n", o->record_path, strerror(errno));
		target_close(&t);
		return MW_EXIT_FAIL;
	}
	/* the session's model is where the records go: it is set up before any arrives */
	rc = attach_load(&at, (size_t)o->ringbuf_mb << 20, on_record, model, err, sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		goto out;
	}
	install_signals();
	rc = session_start(&sess, &at, &t, &plan, o->budget, attach_calibrate(&at), base, 0, err,
			   sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		goto out;
	}
	pr_info("mapwatch: watching PID %d (%s, %s maps): %d runtime functions, %d uprobes, %s; "
		"%.6g s, Ctrl-C to stop early\n",
		o->pid, t.gb.bi.version, impl_name(t.layout->impl), plan.usable, plan.uprobes,
		o->budget > 0 ? "within a budget" : "all attached (no budget)", o->duration_s);
	if (o->budget > 0)
		pr_info("mapwatch: the budget: %.3g%% of one CPU; lock waits alone for %.1f s, then "
			"the map probes\n", o->budget * 100, base);
	why = run_until(&sess, sess.t0 + o->duration_s, o->ready_file);
	/* an attach that failed mid-capture ends it; what was seen is still reported */
	if (sess.failed && sess.fail_rc != MW_EXIT_NOPROC)
		fail = sess.fail_rc;
	session_stop(&sess, why ? why : "duration", 1.0);
	if (!strcmp(sess.meta.end_reason, "target exited"))
		pr_info("mapwatch: PID %d exited%s; writing the report\n", o->pid,
			model->fatal ? " after a fatal runtime error" : "");

	doc = session_report(&sess, &o->thresholds, &findings);
	json_object_put(findings);
	rc = fail ? fail : MW_EXIT_OK;
	if (o->json_path && report_write_json(doc, o->json_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = MW_EXIT_FAIL;
	}
	if (o->folded_path && report_write_folded(model, o->folded_path, err, sizeof(err))) {
		pr_err("%s\n", err);
		rc = MW_EXIT_FAIL;
	}
	if (o->dot_path && report_write_dot(model, o->dot_path, err, sizeof(err))) {
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
	session_free(&sess);
	target_close(&t);
	return rc;
}
