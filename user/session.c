// SPDX-License-Identifier: MIT
/* One process watched under a budget: attach, windows, re-reads, and the report. */
#include <math.h>
#include <string.h>
#include <time.h>
#include "attach_mem.h"
#include "log.h"
#include "mwerr.h"
#include "session.h"

/* An attach that failed because the target exited meanwhile is "no such process". */
static int attach_failed(pid_t pid, int rc, const char *err)
{
	if (!target_staying(pid)) {
		pr_err("PID %d exited while mapwatch was attaching its probes\n", pid);
		return MW_EXIT_NOPROC;
	}
	pr_err("%s\n", err);
	return rc;
}

/* Seconds a hit of each probe point costs: the trap for its kind of instruction. */
static void price_traps(struct session *s, struct hit_cost c)
{
	/* either stands in for the other if unmeasured; a typical VM's figure if both are */
	double em = c.emulated_s > 0 ? c.emulated_s : c.stepped_s > 0 ? c.stepped_s / 2 : 6e-6;
	double st = c.stepped_s > 0 ? c.stepped_s : em * 2;

	s->meta.trap_measured = c.emulated_s > 0 || c.stepped_s > 0;
	s->meta.trap_emulated_s = em;
	s->meta.trap_stepped_s = st;
	s->trap_ret = st;
	for (int i = 0; i < s->plan->n; i++) {
		const struct planned_probe *pp = &s->plan->p[i];

		s->trap_entry[pp->id] = pp->pts.entry_emulated ? em : st;
		s->trap_tally[pp->id] = pp->tally_emulated ? em : st;
	}
}

/*
 * The target's CPU since the last tick, and what the probes cost it, with the map-write
 * probes recording (or tallying), being closed (trapping, recording nothing), or detached:
 * the work each part of the capture saw (budget_work_fraction).
 */
static void account_work(struct session *s, double dt, const double cost[MW_CLASS__COUNT])
{
	struct budget_work *w = &s->meta.work;
	double c = 0, dc;
	uint64_t ns;

	if (target_cpu_ns(s->t->pid, &ns)) {
		s->cpu_ok = false;
		return;
	}
	for (int i = 0; i < MW_CLASS__COUNT; i++)
		c += cost[i];
	dc = s->cpu_ok && ns >= s->cpu_ns ? (double)(ns - s->cpu_ns) * 1e-9 : -1;
	s->cpu_ns = ns;
	s->cpu_ok = true;
	if (dc < 0 || !s->maps)
		return;	/* the first reading, or the lock baseline */
	w->known = true;
	if (s->sets & SESSION_WRITE_SETS) {
		w->in_cpu += dc;
		w->in_cost += c;
		w->in_s += dt;
	} else if (s->closing & SESSION_WRITE_SETS) {
		w->tail_cpu += dc;
		w->tail_cost += c;
		w->tail_s += dt;
	} else {
		w->out_cpu += dc;
		w->out_cost += c;
		w->out_s += dt;
	}
}

/* Read the hit counters and price what each class cost since the last tick. */
static void tick(struct session *s, double now)
{
	uint64_t hits[MW_MAX_FN * 2], ce[MW_CLASS__COUNT] = { 0 }, cr[MW_CLASS__COUNT] = { 0 };
	uint64_t te = 0, tr = 0, ct = 0, dns_e, dns_r;
	double cost[MW_CLASS__COUNT] = { 0 }, dt = now - s->last_tick;
	struct handler_time ht;

	attach_fn_hits(s->at, hits);
	if (!attach_handler_time(s->at, &ht))
		ht = s->ht;
	for (int i = 0; i < s->plan->n; i++) {
		const struct planned_probe *pp = &s->plan->p[i];
		int c = op_class(probe_defs[pp->id].op);
		uint64_t e = hits[pp->id * 2] - s->hits[pp->id * 2];
		uint64_t x = hits[pp->id * 2 + 1] - s->hits[pp->id * 2 + 1];

		if (pp->error[0])
			continue;
		ce[c] += e;
		cr[c] += x;
		cost[c] += (double)e * s->trap_entry[pp->id] + (double)x * s->trap_ret;
		if (c == MW_CLASS_WRITE) {	/* its tally probe: the entry, or the stack
						 * check's jump (priced by trap_tally) */
			int ti = (pp->id + MW_FN_TALLY) * 2;

			e = hits[ti] - s->hits[ti];
			ct += e;
			cost[MW_CLASS_TALLY] += (double)e * s->trap_tally[pp->id];
		}
	}
	if (ht.tally_runs > s->ht.tally_runs)	/* the tally program's own time, shared out */
		cost[MW_CLASS_TALLY] += (double)(ht.tally_ns - s->ht.tally_ns) * 1e-9 *
					(double)ct /
					(double)(ht.tally_runs - s->ht.tally_runs > ct ?
							 ht.tally_runs - s->ht.tally_runs : ct);
	/*
	 * The handlers' own run time, as the kernel timed it, shared out by hits. (One object
	 * watching several processes: the time is shared out over all of theirs, so a process's
	 * share is its hits' share only on average.)
	 */
	dns_e = ht.entry_ns - s->ht.entry_ns;
	dns_r = ht.ret_ns - s->ht.ret_ns;
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		te += ce[c];
		tr += cr[c];
	}
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		uint64_t re = ht.entry_runs - s->ht.entry_runs, rr = ht.ret_runs - s->ht.ret_runs;

		/* per run, times this process's runs (they are all of them in a capture) */
		if (re)
			cost[c] += (double)dns_e * 1e-9 * (double)ce[c] / (double)(re > te ? re : te);
		if (rr)
			cost[c] += (double)dns_r * 1e-9 * (double)cr[c] / (double)(rr > tr ? rr : tr);
		/* a set being closed still traps until the kernel is done: it counts as attached */
		budget_account(&s->b, c, ((s->sets | s->closing) & ATTACH_SET(c)) ? dt : 0,
			       c == MW_CLASS_TALLY ? ct : ce[c] + cr[c], cost[c]);
	}
	account_work(s, dt, cost);
	if (!attach_closing(s->at))
		s->closing = 0;
	memcpy(s->hits, hits, sizeof(hits));
	s->ht = ht;
	s->last_tick = now;
}

/* Attach and detach what the budget wants now. 0, or -1 (s->failed says why). */
static int apply(struct session *s, int want)
{
	int off = s->sets & ~want, on = want & ~s->sets, rc;
	char err[512];

	if (off || on)
		pr_debug("budget %d: %.3f s: attach %#x, detach %#x; spent %.4f s, write rate %.3f\n",
			 s->t->pid, mono_s() - s->t0, on, off, s->b.spent_s,
			 s->b.cls[MW_CLASS_WRITE].rate);
	if (off) {
		attach_detach(s->at, off);
		s->sets &= ~off;
		s->closing |= off;
		if (off & ATTACH_LOCKS)	/* waits in flight now are lost: off at once */
			model_lock_probes(&s->model, mono_ns(), false);
		if ((off & SESSION_HOT_SETS) && !(s->sets & SESSION_HOT_SETS))
			s->hot_closing = true;	/* off once the kernel has closed them */
		if ((off & SESSION_RECORD_SETS) && !(s->sets & SESSION_RECORD_SETS))
			s->rec_closing = true;
	}
	if (!on)
		return 0;
	/* on before attaching: a lock wait that overlaps the attach is not the program's own */
	if (on & SESSION_HOT_SETS)
		model_hot_probes(&s->model, mono_ns(), true);
	if (on & SESSION_RECORD_SETS)
		model_rec_probes(&s->model, mono_ns(), true);
	rc = attach_target(s->at, s->t, s->plan, on, err, sizeof(err));
	s->sets |= on;	/* what did attach is detached with the rest */
	if (on & ATTACH_LOCKS)	/* on once attached: a wait must begin after its entry probe */
		model_lock_probes(&s->model, mono_ns(), true);
	if (rc) {
		s->fail_rc = attach_failed(s->t->pid, rc, err);
		s->failed = s->fail_rc == MW_EXIT_NOPROC ? "target exited" : "attach failed";
		return -1;
	}
	s->attaches++;
	s->attach_s_sum += s->at->last_attach_s;
	if (s->at->last_attach_s > s->attach_s_max)
		s->attach_s_max = s->at->last_attach_s;
	return 0;
}

int session_start(struct session *s, struct attach *at, const struct target *t,
		  const struct probe_plan *plan, double share, struct hit_cost cost,
		  double baseline_s, int pin, char *err, size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->at = at;
	s->t = t;
	s->plan = plan;
	for (int i = 0; i < plan->n; i++)
		if (!plan->p[i].error[0])
			s->present |= attach_set_of(plan->p[i].id);
	model_init(&s->model, &t->gb, t->layout, t->bias);
	model_use_heap(&s->model, t->heap);
	price_traps(s, cost);
	/*
	 * Started before the attach: a session whose attach failed because the target died can
	 * still be stopped and reported (the daemon's core probes stay on between its sessions,
	 * and runtime.fatal's record may be waiting).
	 */
	clock_gettime(CLOCK_REALTIME, &s->meta.started);
	s->t0 = s->last_tick = mono_s();
	s->model.start_ns = mono_ns();
	attach_fn_hits(at, s->hits);
	memcpy(s->hits0, s->hits, sizeof(s->hits0));
	attach_handler_time(at, &s->ht);
	s->next_refresh = s->t0 + 1;
	s->next_drain = s->t0 + SESSION_DRAIN_S;
	s->maps_at = s->t0 + (baseline_s > 0 ? baseline_s : 0);
	s->meta.lock_baseline_planned_s = baseline_s > 0 ? baseline_s : 0;
	s->next_step = share > 0 ? fmin(s->t0 + 0.01, s->maps_at) : s->maps_at;
	/* the budget runs from the start: the baseline's lock probes are paid from it too */
	budget_init(&s->b, share, s->t0, s->present, ATTACH_CORE, ATTACH_LOCKS, SESSION_HOT_SETS);
	budget_aim(&s->b, BUDGET_AIM);
	/* map writes tallied in BPF in every other window: a write costs one cheap trap */
	budget_alternate(&s->b, ATTACH_WRITES, ATTACH_TALLY);
	budget_pin_while(&s->b, pin & s->present);
	rc = attach_configure(at, t, err, errlen);
	/* what the last session left on (session.keep) is not attached twice */
	if (!rc)
		rc = attach_target(at, t, plan, (ATTACH_CORE | ATTACH_LOCKS) & ~attach_sets(at),
				   err, errlen);
	s->sets = (ATTACH_CORE | ATTACH_LOCKS) & s->present;
	if (rc) {
		if (!target_staying(t->pid)) {
			snprintf(err, errlen, "PID %d exited while mapwatch was attaching its probes",
				 t->pid);
			rc = MW_EXIT_NOPROC;
		}
		return rc;
	}
	model_lock_probes(&s->model, mono_ns(), true);
	return MW_EXIT_OK;
}

double session_wake(const struct session *s)
{
	if (s->model.doubts)
		return 0;	/* a map's identity waits for a re-read */
	return fmin(fmin(s->next_step, s->next_refresh), s->next_drain);
}

const char *session_step(struct session *s, double now)
{
	struct mw_model *m = &s->model;

	/*
	 * A write found another seed over other tables at a map's address: the heap can tell
	 * whether it is still the map's header only now, while no GC cycle has freed it since.
	 */
	if (m->doubts) {
		m->doubts = false;
		model_refresh(m, attach_mem_read, (void *)&s->t->pid, mono_ns(), false);
	}
	if (m->deep_new->len) {
		attach_deep_callers(s->at, (const uint64_t *)(void *)m->deep_new->data,
				    m->deep_new->len);
		g_array_set_size(m->deep_new, 0);
	}
	if (s->hot_closing && !attach_closing(s->at)) {
		model_hot_probes(m, mono_ns(), false);
		s->hot_closing = false;
	}
	if (s->rec_closing && !attach_closing(s->at)) {
		model_rec_probes(m, mono_ns(), false);
		s->rec_closing = false;
	}
	/*
	 * BPF's tallies, read often enough that its table never fills: sooner after a drain
	 * that found many (a server that makes maps per request adds one a map).
	 */
	if (now >= s->next_drain) {
		int n = s->present & ATTACH_TALLY ? attach_tally_drain(s->at) : 0;

		s->next_drain = now + (n > MW_TALLY_ENTRIES / 8 ? SESSION_DRAIN_S / 5 : SESSION_DRAIN_S);
	}
	/*
	 * The lock baseline attaches the lock probes whatever they cost: on a program whose locks
	 * are contended all the time they can cost most of a CPU. Priced every 10 ms; once they
	 * cost more than the budget allows, the baseline ends and the controller windows them.
	 */
	if (!s->maps && s->b.share > 0 && now >= s->next_step && now < s->maps_at) {
		tick(s, now);
		if (budget_overspent(&s->b, now)) {
			pr_debug("budget %d: %.3f s: the lock baseline cost %.4f s: ended early\n",
				 s->t->pid, now - s->t0, s->b.spent_s);
			s->maps_at = now;
			s->meta.lock_baseline_cut = true;
		}
		s->next_step = fmin(now + 0.01, s->maps_at);
	}
	if (!s->maps && now >= s->maps_at) {
		s->maps = true;
		s->next_step = now;
		m->baseline_ns = s->maps_at > s->t0 ? mono_ns() - m->start_ns : 0;
		s->meta.lock_baseline_s = (double)m->baseline_ns / 1e9;
	}
	if (s->maps && now >= s->next_step) {
		tick(s, now);
		if (apply(s, budget_step(&s->b, now, attach_closing(s->at) > 0, &s->next_step)))
			return s->failed;
		budget_attached(&s->b, mono_s());	/* a window runs from its attach */
		if (s->sets & ATTACH_WRITES)
			s->ready = true;
	}
	if (now >= s->next_refresh) {
		/*
		 * Maps written since the last re-read; every map once writes are watched in
		 * windows (a map written between them changes unseen).
		 */
		model_refresh(m, attach_mem_read, (void *)&s->t->pid, mono_ns(), s->b.windows > 0);
		s->next_refresh = now + 1;
	}
	return NULL;
}

void session_stop(struct session *s, const char *end_reason, double wait_s)
{
	struct capture_meta *meta = &s->meta;
	struct mw_model *m = &s->model;
	uint64_t st[MW_STAT__MAX];
	double d0;

	meta->end_reason = end_reason;
	/* The session ends now; detaching (which can take a while) is not part of it. */
	meta->duration_s = mono_s() - s->t0;
	s->end_ns = mono_ns();
	tick(s, mono_s());
	/*
	 * Detach first, then drain, then read the counters: with probes still on, calls made
	 * after the drain would be counted as hits but neither received nor counted as lost.
	 */
	meta->multi = s->at->multi;
	d0 = mono_s();
	if (!s->at->multi && wait_s >= 0)
		pr_info("mapwatch: detaching %d uprobes one by one (no uprobe_multi here)...\n",
			s->at->nlinks);
	attach_detach(s->at, ATTACH_ALL & ~s->keep);
	if (wait_s >= 0 && !attach_detach_wait_for(s->at, wait_s)) {
		pr_info("mapwatch: detaching: the kernel is still closing %d probe links...\n",
			attach_closing(s->at));
		attach_detach_wait(s->at);
	}
	meta->detach_s = mono_s() - d0;
	if (s->sets & SESSION_HOT_SETS || s->hot_closing)
		model_hot_probes(m, s->end_ns, false);
	if (s->sets & SESSION_RECORD_SETS || s->rec_closing)
		model_rec_probes(m, s->end_ns, false);
	model_lock_probes(m, s->end_ns, false);
	if (!s->at->shared)
		while (attach_poll(s->at, 0) > 0)
			;
	if (s->present & ATTACH_TALLY)
		attach_tally_drain(s->at);
	attach_stats(s->at, st);
	/* Every map's state as the session ends (if the target lives). */
	model_refresh(m, attach_mem_read, (void *)&s->t->pid, s->end_ns, true);
	model_finish(m, s->end_ns, (uint64_t)(detect_recent_s(meta->duration_s) * 1e9));
	/* lock waits are the program's own only while the hot map probes were off */
	m->baseline_ns = model_hot_off_ns(m, m->start_ns, s->end_ns);
	m->unnamed_ns = model_unnamed_ns(m, m->start_ns, s->end_ns);

	meta->pid = s->t->pid;
	meta->exe = s->t->exe;
	meta->go_version = s->t->gb.bi.version;
	meta->map_impl = impl_name(s->t->layout->impl);
	meta->stripped = !s->t->gb.img.has_symtab;
	meta->pie = s->t->gb.img.pie;
	meta->offsets = s->t->layout_from_dwarf ? "dwarf" : "catalogue";
	meta->validation = goheap_ready(&m->heap) ? "heap" : "structure";
	meta->events_total = m->records + m->rejected;
	memcpy(meta->stats, st, sizeof(st));
	meta->events_lost = s->at->shared ? attach_lost(s->at) :
					    st[MW_STAT_RB_DROPS] + st[MW_STAT_INFLIGHT_FULL] +
						    st[MW_STAT_TALLY_FULL];
	meta->budget = &s->b;
	meta->handler_entry_s = s->ht.entry_runs ?
					(double)s->ht.entry_ns * 1e-9 / (double)s->ht.entry_runs : -1;
	meta->handler_ret_s = s->ht.ret_runs ?
				      (double)s->ht.ret_ns * 1e-9 / (double)s->ht.ret_runs : -1;
	meta->plan = s->plan;
	attach_fn_hits(s->at, meta->fn_hits);
	/*
	 * This process's hits, from its own counters: the global ones (stats) also count other
	 * processes of the same file, which the uprobes trap as well, and in the daemon every
	 * process shares them.
	 */
	meta->probe_hits = 0;
	for (int i = 0; i < MW_MAX_FN * 2; i++) {
		meta->fn_hits[i] -= s->hits0[i];
		meta->probe_hits += meta->fn_hits[i];
	}
	meta->probes_off_s = (double)m->baseline_ns / 1e9;
	meta->uprobes = s->plan->uprobes;
	meta->attach_s = s->attaches ? s->attach_s_sum / s->attaches : 0;
	meta->attach_max_s = s->attach_s_max;
}

json_object *session_report(struct session *s, const struct detect_opts *thresholds,
			    json_object **findings)
{
	struct detect_ctx dc = { .m = &s->model, .o = thresholds,
				 .duration_s = s->meta.duration_s,
				 .start_ns = s->model.start_ns, .end_ns = s->end_ns };

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		dc.observed[c] = report_observed_fraction(&s->meta, c);
	*findings = detect_all(&dc);
	return report_build(&s->model, &s->meta, json_object_get(*findings));
}

void session_free(struct session *s)
{
	if (s->model.maps)	/* started */
		model_free(&s->model);
}
