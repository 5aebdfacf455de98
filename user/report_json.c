// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "report.h"

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *jhex(uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%#llx", (unsigned long long)v);
	return json_object_new_string(b);
}

/* An estimate of a count seen in windows that covered a fraction f of the time, or null. */
static json_object *estimate(uint64_t seen, double f)
{
	return f > 0 && f < 1 ? json_object_new_uint64((uint64_t)((double)seen / f + 0.5)) : NULL;
}

static json_object *site_json(const struct mw_site *s, double f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "function", json_object_new_string(s->sym.function));
	json_object_object_add(o, "file", json_object_new_string(s->sym.file));
	json_object_object_add(o, "line", json_object_new_int(s->sym.line));
	json_object_object_add(o, "op", json_object_new_string(op_name(s->op)));
	json_object_object_add(o, "count", json_object_new_uint64(s->count));
	if (f < 1)
		json_object_object_add(o, "estimated_count", estimate(s->count, f));
	json_object_object_add(o, "pc", jhex(s->pc));
	return o;
}

static json_object *sym_json(const struct frame_sym *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "function", json_object_new_string(s->function));
	json_object_object_add(o, "file", json_object_new_string(s->file));
	json_object_object_add(o, "line", json_object_new_int(s->line));
	return o;
}

/* f: the fraction of the capture the map-write probes were attached (1: all of it). */
static json_object *map_json(struct mw_map *mp, double f)
{
	json_object *o = json_object_new_object(), *sites = json_object_new_array();
	uint64_t cap = mp->capacity, bytes = mp->bytes;

	json_object_object_add(o, "id", jhex(mp->addr));
	json_object_object_add(o, "type", jstr_or_null(mp->type));
	json_object_object_add(o, "created_at", mp->created_seen || mp->created_carried ?
						      sym_json(&mp->created_at) : NULL);
	json_object_object_add(o, "size_hint", mp->created_seen && mp->hint ?
						      json_object_new_uint64(mp->hint) : NULL);
	json_object_object_add(o, "len", json_object_new_uint64(mp->hdr.count));
	/* the len read at the entry of its last write, counted in BPF (its effect unseen) */
	json_object_object_add(o, "len_before_last_write", json_object_new_boolean(mp->hdr_pre_write));
	json_object_object_add(o, "peak_len", json_object_new_uint64(mp->peak_len));
	json_object_object_add(o, "len_first_seen", json_object_new_uint64(mp->first_len));
	json_object_object_add(o, "inserts", json_object_new_uint64(mp->inserts));
	json_object_object_add(o, "removals", json_object_new_uint64(mp->removals));
	json_object_object_add(o, "capacity", cap ? json_object_new_uint64(cap) : NULL);
	json_object_object_add(o, "bytes", bytes ? json_object_new_uint64(bytes) : NULL);
	json_object_object_add(o, "B", mp->hdr.B >= 0 ? json_object_new_int(mp->hdr.B) : NULL);
	json_object_object_add(o, "growths", json_object_new_uint64(mw_map_growths(mp)));
	json_object_object_add(o, "assigns", json_object_new_uint64(mp->assigns));
	json_object_object_add(o, "deletes", json_object_new_uint64(mp->deletes));
	json_object_object_add(o, "clears", json_object_new_uint64(mp->clears));
	if (f < 1)
		json_object_object_add(o, "estimated_writes",
				       estimate(mp->assigns + mp->deletes + mp->clears, f));
	/* null: its writes were only counted in BPF, which sees no goroutine */
	json_object_object_add(o, "writers",
			       g_hash_table_size(mp->writers) ||
					       !(mp->assigns + mp->deletes + mp->clears) ?
				       json_object_new_int((int)g_hash_table_size(mp->writers)) :
				       NULL);
	json_object_object_add(o, "writes_finding_flag_set",
			       json_object_new_uint64(mp->writing_at_entry));
	json_object_object_add(o, "concurrent_writes", json_object_new_uint64(mp->overlaps));
	json_object_object_add(o, "on_stack", json_object_new_boolean(mp->on_stack));
	json_object_object_add(o, "gone", json_object_new_boolean(mp->gone));
	json_object_object_add(o, "ended", jstr_or_null(mp->gone ? mp->end_reason : NULL));
	json_object_object_add(o, "alive_at_end",
			       mp->gone ? NULL : json_object_new_string(mw_alive_name(mp->alive)));
	for (guint i = 0; i < mp->sites->len; i++)
		json_object_array_add(sites,
				      site_json(&g_array_index(mp->sites, struct mw_site, i), f));
	json_object_object_add(o, "sites", sites);
	return o;
}

/* Maps made during the capture at sites that make many short-lived ones, per site. */
static json_object *short_lived_json(const struct mw_model *m)
{
	json_object *a = json_object_new_array();
	GPtrArray *made = model_made_sorted(m);

	for (guint i = 0; i < made->len; i++) {
		const struct mw_made *md = g_ptr_array_index(made, i);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "type", jstr_or_null(md->type));
		/* a map on a stack has no creation call: its site is where it was written */
		json_object_object_add(o, "created_at", sym_json(&md->site));
		json_object_object_add(o, "on_stack", json_object_new_boolean(md->on_stack));
		json_object_object_add(o, "made", json_object_new_uint64(md->made));
		json_object_object_add(o, "ended", json_object_new_uint64(md->ended));
		json_object_object_add(o, "alive_at_end", json_object_new_uint64(md->alive_at_end));
		json_object_object_add(o, "writes", json_object_new_uint64(md->writes));
		json_object_object_add(o, "peak_len", json_object_new_uint64(md->peak_len));
		/* of the maps seen after their creation (a write or a re-read): a lower bound */
		json_object_object_add(o, "median_life_ms",
				       md->nlife ? json_object_new_double(
							   (double)mw_made_median_life(md) / 1e6) :
						   NULL);
		json_object_object_add(o, "lives_seen", json_object_new_uint64(md->nlife));
		json_object_array_add(a, o);
	}
	g_ptr_array_unref(made);
	return a;
}

/* Each probe point: its class, its uprobes, how long they were attached, their hits. */
static json_object *probes_json(const struct capture_meta *meta)
{
	json_object *a = json_object_new_array();

	for (int i = 0; meta->plan && i < meta->plan->n; i++) {
		const struct planned_probe *pp = &meta->plan->p[i];
		enum mw_class c = op_class(probe_defs[pp->id].op);
		json_object *o;

		if (pp->error[0])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "function", json_object_new_string(probe_defs[pp->id].symbol));
		json_object_object_add(o, "class", json_object_new_string(class_name(c)));
		json_object_object_add(o, "rets", json_object_new_int(pp->pts.nrets));
		json_object_object_add(o, "entry_emulated",
				       json_object_new_boolean(pp->pts.entry_emulated));
		json_object_object_add(o, "attached_s",
				       json_object_new_double(meta->budget ?
								      meta->budget->cls[c].attached_s : 0));
		json_object_object_add(o, "entry_hits", json_object_new_uint64(meta->fn_hits[pp->id * 2]));
		json_object_object_add(o, "ret_hits",
				       json_object_new_uint64(meta->fn_hits[pp->id * 2 + 1]));
		if (c == MW_CLASS_WRITE) {	/* its tally probe */
			json_object_object_add(o, "tally_hits",
					       json_object_new_uint64(
						       meta->fn_hits[(pp->id + MW_FN_TALLY) * 2]));
			json_object_object_add(o, "tally_emulated",
					       json_object_new_boolean(pp->tally_emulated));
		}
		json_object_array_add(a, o);
	}
	return a;
}

/* The budget: what each class of probes cost, and whether it ran in windows. */
static json_object *budget_json(const struct capture_meta *meta)
{
	const struct budget *b = meta->budget;
	json_object *o = json_object_new_object(), *cls = json_object_new_array();
	double d = meta->duration_s;

	json_object_object_add(o, "pct", b->share > 0 ? json_object_new_double(b->share * 100) : NULL);
	json_object_object_add(o, "allowed_cpu_s",
			       b->share > 0 ? json_object_new_double(b->share * d) : NULL);
	json_object_object_add(o, "aim_pct",
			       b->share > 0 ? json_object_new_double(b->aim * 100) : NULL);
	json_object_object_add(o, "spent_cpu_s", json_object_new_double(b->spent_s));
	json_object_object_add(o, "spent_pct", json_object_new_double(d > 0 ? 100 * b->spent_s / d : 0));
	json_object_object_add(o, "windows", json_object_new_uint64(b->windows));
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		const struct budget_class *k = &b->cls[c];
		json_object *x;

		if (!k->present)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "class", json_object_new_string(class_name(c)));
		/* windowed at any time: its counts are samples */
		json_object_object_add(x, "windowed", json_object_new_boolean(k->windows > 0));
		json_object_object_add(x, "windows", json_object_new_uint64(k->windows));
		json_object_object_add(x, "attached_s", json_object_new_double(k->attached_s));
		json_object_object_add(x, "window_s", json_object_new_double(k->window_s));
		json_object_object_add(x, "observed_fraction",
				       json_object_new_double(d > 0 ? k->attached_s / d : 0));
		json_object_object_add(x, "hits", json_object_new_uint64(k->hits));
		json_object_object_add(x, "cpu_s", json_object_new_double(k->spent_s));
		json_object_array_add(cls, x);
	}
	json_object_object_add(o, "classes", cls);
	return o;
}

/*
 * The share of the capture a class of probes was attached and recording, after the lock
 * baseline: the fraction a count was seen in (1: every call was seen).
 */
double report_observed_fraction(const struct capture_meta *meta, int cls)
{
	const struct budget *b = meta->budget;
	const struct budget_work *w = &meta->work;
	double span = meta->duration_s - meta->lock_baseline_s, f;

	if (!b || b->share <= 0 || !b->windows || span <= 0)
		return 1;
	/*
	 * Map writes are seen while their class records: not in a window's closing tail, where it
	 * traps on but is switched off (most of a short window's attached time).
	 */
	if (cls == MW_CLASS_WRITE && w->known && w->in_s + w->tail_s + w->out_s > 0)
		f = w->in_s / (w->in_s + w->tail_s + w->out_s);
	else if (cls == MW_CLASS_WRITE)	/* recorded, or tallied in BPF */
		f = (b->cls[cls].attached_s + b->cls[MW_CLASS_TALLY].attached_s) / span;
	else
		f = b->cls[cls].attached_s / span;
	return f >= 0.999 ? 1 : f;
}

/*
 * The target's CPU clock, and the probes' price, with the map-write probes recording, being
 * closed, and detached (after the lock baseline).
 */
static json_object *work_json(const struct budget_work *w)
{
	json_object *o;
	double f = budget_work_fraction(w);

	if (!w->known)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "recording_s", json_object_new_double(w->in_s));
	json_object_object_add(o, "target_cpu_recording_s", json_object_new_double(w->in_cpu));
	json_object_object_add(o, "probe_cpu_recording_s", json_object_new_double(w->in_cost));
	json_object_object_add(o, "closing_s", json_object_new_double(w->tail_s));
	json_object_object_add(o, "target_cpu_closing_s", json_object_new_double(w->tail_cpu));
	json_object_object_add(o, "probe_cpu_closing_s", json_object_new_double(w->tail_cost));
	json_object_object_add(o, "detached_s", json_object_new_double(w->out_s));
	json_object_object_add(o, "target_cpu_detached_s", json_object_new_double(w->out_cpu));
	json_object_object_add(o, "probe_cpu_detached_s", json_object_new_double(w->out_cost));
	/*
	 * the share of its work done while writes were recorded; null where the time is the
	 * measure, 0 where the probes left too little of its CPU to tell
	 */
	json_object_object_add(o, "work_fraction", f >= 0 ? json_object_new_double(f) : NULL);
	return o;
}

double report_estimate_fraction(const struct capture_meta *meta, int cls)
{
	double t = report_observed_fraction(meta, cls), w;

	if (t >= 1 || (cls != MW_CLASS_WRITE && cls != MW_CLASS_SYNCOP))
		return t;
	w = budget_work_fraction(&meta->work);
	if (w == 0)
		return 0;
	return w > 0 ? (w < 1 ? w : 1) : t;
}

/* BPF's counters, by name: what was lost, dropped as stale, or could not be read. */
static json_object *counters_json(const uint64_t *st)
{
	static const char *const names[MW_STAT__MAX] = {
		[MW_STAT_ENTRY_HITS] = "entry_hits",
		[MW_STAT_RET_HITS] = "ret_hits",
		[MW_STAT_RB_DROPS] = "ring_buffer_full",
		[MW_STAT_RET_NO_ENTRY] = "ret_without_entry",
		[MW_STAT_INFLIGHT_FULL] = "inflight_table_full",
		[MW_STAT_REENTRY] = "entry_reentered",
		[MW_STAT_NO_TARGET] = "hits_in_other_processes",
		[MW_STAT_WRITERS_FULL] = "writer_table_full",
		[MW_STAT_UNWOUND] = "calls_unwound_by_panic",
		[MW_STAT_STALE] = "stale_entries_dropped",
		[MW_STAT_GOID_FAIL] = "goroutine_unreadable",
		[MW_STAT_HDR_FAIL] = "header_unreadable",
		[MW_STAT_TALLY_FULL] = "tally_table_full",
	};
	json_object *o = json_object_new_object();

	for (int i = 0; i < MW_STAT__MAX; i++)
		if (names[i])
			json_object_object_add(o, names[i], json_object_new_uint64(st[i]));
	return o;
}

/* sync.Maps written during the capture: writes by method, dirty-map rebuilds, sites. */
static json_object *syncmaps_json(const struct mw_model *m, double f)
{
	json_object *a = json_object_new_array();
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, m->syncmaps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct mw_syncmap *sm = v;
		json_object *o = json_object_new_object(), *ops = json_object_new_object();
		json_object *sites = json_object_new_array();

		for (int id = 0; id < PROBE__COUNT; id++)
			if (sm->ops[id])
				json_object_object_add(ops, probe_method(id),
						       json_object_new_uint64(sm->ops[id]));
		json_object_object_add(o, "id", jhex(sm->addr));
		json_object_object_add(o, "writes", ops);
		json_object_object_add(o, "dirty_rebuilds", json_object_new_uint64(sm->rebuilds));
		json_object_object_add(o, "entries_copied", json_object_new_uint64(sm->copied));
		for (guint i = 0; i < sm->sites->len; i++)
			json_object_array_add(sites, site_json(&g_array_index(sm->sites,
									 struct mw_site, i), f));
		json_object_object_add(o, "sites", sites);
		json_object_array_add(a, o);
	}
	return a;
}

json_object *report_build(const struct mw_model *m, const struct capture_meta *meta,
			  json_object *findings)
{
	json_object *doc = json_object_new_object(), *t = json_object_new_object();
	json_object *maps = json_object_new_array(), *ev = json_object_new_object();
	json_object *ov = json_object_new_object();
	GPtrArray *sorted = model_maps_sorted(m);
	char when[64];
	struct tm tm;

	json_object_object_add(doc, "schema", json_object_new_string(REPORT_SCHEMA));
	json_object_object_add(t, "pid", json_object_new_int(meta->pid));
	json_object_object_add(t, "exe", json_object_new_string(meta->exe));
	json_object_object_add(t, "go_version", json_object_new_string(meta->go_version));
	json_object_object_add(t, "map_impl", json_object_new_string(meta->map_impl));
	json_object_object_add(t, "stripped", json_object_new_boolean(meta->stripped));
	json_object_object_add(t, "pie", json_object_new_boolean(meta->pie));
	json_object_object_add(t, "offsets", jstr_or_null(meta->offsets));
	json_object_object_add(t, "map_validation", jstr_or_null(meta->validation));
	json_object_object_add(doc, "target", t);
	gmtime_r(&meta->started.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(doc, "started_at", json_object_new_string(when));
	json_object_object_add(doc, "duration_s", json_object_new_double(meta->duration_s));
	json_object_object_add(doc, "ended_by", json_object_new_string(meta->end_reason));
	json_object_object_add(doc, "lock_baseline_s", json_object_new_double(meta->lock_baseline_s));
	/* cut short: its lock probes cost more than the budget allows (a lock contended all along) */
	json_object_object_add(doc, "lock_baseline_cut", json_object_new_boolean(meta->lock_baseline_cut));
	json_object_object_add(doc, "lock_baseline_planned_s",
			       json_object_new_double(meta->lock_baseline_planned_s));

	for (guint i = 0; i < sorted->len; i++)
		json_object_array_add(maps, map_json(g_ptr_array_index(sorted, i),
						     report_estimate_fraction(meta, MW_CLASS_WRITE)));
	g_ptr_array_unref(sorted);
	json_object_object_add(doc, "maps", maps);
	json_object_object_add(doc, "short_lived", short_lived_json(m));
	json_object_object_add(doc, "maps_ended", json_object_new_uint64(m->ended_maps));
	json_object_object_add(doc, "sync_maps", syncmaps_json(m, report_estimate_fraction(meta, MW_CLASS_SYNCOP)));
	json_object_object_add(doc, "findings", findings ? findings : json_object_new_array());
	if (m->fatal) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "message", json_object_new_string(m->fatal_msg));
		json_object_object_add(d, "goroutine", json_object_new_uint64(m->fatal_goid));
		json_object_object_add(d, "site", sym_json(&m->fatal_site));
		json_object_object_add(doc, "target_died", d);
	} else {
		json_object_object_add(doc, "target_died", NULL);
	}

	json_object_object_add(ev, "total", json_object_new_uint64(meta->events_total));
	json_object_object_add(ev, "lost", json_object_new_uint64(meta->events_lost));
	json_object_object_add(ev, "rejected", json_object_new_uint64(m->rejected));
	/* writes whose (map, caller) stack was not known: their site is their caller */
	json_object_object_add(ev, "stacks_missed", json_object_new_uint64(m->stacks_missed));
	/* ring buffer full or in-flight table full: records that never reached us */
	json_object_object_add(ev, "counters", counters_json(meta->stats));
	json_object_object_add(doc, "events", ev);
	json_object_object_add(ov, "probe_hits", json_object_new_uint64(meta->probe_hits));
	/* every hit priced: its trap (by instruction kind) plus our program's measured run time */
	json_object_object_add(ov, "estimated_target_cpu_s",
			       json_object_new_double(meta->budget ? meta->budget->spent_s : 0));
	json_object_object_add(ov, "trap_emulated_us",
			       json_object_new_double(meta->trap_emulated_s * 1e6));
	json_object_object_add(ov, "trap_stepped_us", json_object_new_double(meta->trap_stepped_s * 1e6));
	json_object_object_add(ov, "trap_measured", json_object_new_boolean(meta->trap_measured));
	json_object_object_add(ov, "handler_entry_us",
			       meta->handler_entry_s >= 0 ?
				       json_object_new_double(meta->handler_entry_s * 1e6) : NULL);
	json_object_object_add(ov, "handler_ret_us",
			       meta->handler_ret_s >= 0 ?
				       json_object_new_double(meta->handler_ret_s * 1e6) : NULL);
	if (meta->budget)
		json_object_object_add(ov, "budget", budget_json(meta));
	json_object_object_add(ov, "write_observed_fraction",
			       json_object_new_double(report_observed_fraction(meta, MW_CLASS_WRITE)));
	/* what write counts are scaled by: the program's work while watched (0: not scaled) */
	json_object_object_add(ov, "write_estimate_fraction",
			       json_object_new_double(report_estimate_fraction(meta, MW_CLASS_WRITE)));
	json_object_object_add(ov, "write_work", work_json(&meta->work));
	/* writes seen in all, and of them those counted in BPF at entry (the tally probes) */
	json_object_object_add(ov, "writes_seen", json_object_new_uint64(m->writes));
	json_object_object_add(ov, "writes_tallied", json_object_new_uint64(m->tallied));
	json_object_object_add(ov, "probes_off_s", json_object_new_double(meta->probes_off_s));
	json_object_object_add(ov, "probes", probes_json(meta));
	json_object_object_add(ov, "uprobes", json_object_new_int(meta->uprobes));
	json_object_object_add(ov, "links", json_object_new_string(meta->multi ? "uprobe_multi" :
										 "one per uprobe"));
	json_object_object_add(ov, "attach_ms", json_object_new_double(meta->attach_s * 1e3));
	json_object_object_add(ov, "attach_max_ms", json_object_new_double(meta->attach_max_s * 1e3));
	json_object_object_add(ov, "detach_ms", json_object_new_double(meta->detach_s * 1e3));
	json_object_object_add(doc, "overhead", ov);
	return doc;
}

int write_atomic(const char *path, const char *s, size_t len, char *err, size_t errlen)
{
	size_t off = 0;
	char tmp[4096];
	int fd;

	if (!strcmp(path, "-")) {
		fwrite(s, 1, len, stdout);
		return fflush(stdout) ? -1 : 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int report_write_json(json_object *doc, const char *path, char *err, size_t errlen)
{
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	char *t = g_strconcat(s, "\n", NULL);
	int rc = write_atomic(path, t, strlen(t), err, errlen);

	g_free(t);
	return rc;
}
