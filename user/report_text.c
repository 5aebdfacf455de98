// SPDX-License-Identifier: MIT
/*
 * Text view of a report document: what a person reads at the end of a capture. Total over any
 * JSON: a member of another type than expected reads as absent, and strings are shown with
 * control characters replaced (a report file can come from anywhere).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, k, &v);
	return v;
}

/* An array member, or NULL: the loops below index only what is an array. */
static json_object *arr(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return json_object_is_type(v, json_type_array) ? v : NULL;
}

static size_t arr_len(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

/*
 * A string member for printing, or dflt. Control characters become '?' so that a report
 * cannot drive the terminal; the copy lives in one of a few rotating buffers, enough for
 * the strings of one line.
 */
static const char *str(json_object *o, const char *k, const char *dflt)
{
	static char ring[8][1024];
	static unsigned next;
	json_object *v = get(o, k);
	const char *s;
	char *b;
	size_t i;

	if (!json_object_is_type(v, json_type_string))
		return dflt;
	s = json_object_get_string(v);
	b = ring[next++ % 8];
	for (i = 0; s[i] && i < sizeof(ring[0]) - 1; i++)
		b[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	b[i] = 0;
	return b;
}

static uint64_t u64(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ?
		       json_object_get_uint64(v) : 0;
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void print_map(json_object *mp, bool sampled, FILE *out)
{
	json_object *sites = arr(mp, "sites"), *cap = get(mp, "capacity"), *b = get(mp, "B");
	json_object *bytes = get(mp, "bytes");
	char hb[32];

	json_object *cr = get(mp, "created_at");

	fprintf(out, "  map %s  %s\n", str(mp, "id", "?"), str(mp, "type", "(type unknown)"));
	if (cr)
		fprintf(out, "    made in %s (%s:%" PRIu64 ")\n", str(cr, "function", "?"),
			str(cr, "file", "?"), u64(cr, "line"));
	fprintf(out, "    len %" PRIu64 "%s (peak %" PRIu64 ")", u64(mp, "len"),
		json_object_get_boolean(get(mp, "len_before_last_write")) ? " before its last write" :
									   "",
		u64(mp, "peak_len"));
	if (cap)
		fprintf(out, "  capacity %" PRIu64, u64(mp, "capacity"));
	if (bytes) {
		human_bytes(u64(mp, "bytes"), hb, sizeof(hb));
		fprintf(out, "  %s", hb);
	}
	if (b)
		fprintf(out, "  B=%" PRIu64, u64(mp, "B"));
	fprintf(out, "  growths %" PRIu64 "\n", u64(mp, "growths"));
	if (str(mp, "ended", NULL))
		fprintf(out, "    no longer followed: %s (last known state above)\n",
			str(mp, "ended", ""));
	fprintf(out, "    assigns %" PRIu64 "  deletes %" PRIu64 "  clears %" PRIu64,
		u64(mp, "assigns"), u64(mp, "deletes"), u64(mp, "clears"));
	if (get(mp, "writers"))
		fprintf(out, "  writer goroutines %" PRIu64, u64(mp, "writers"));
	else
		fprintf(out, "  writer goroutines unseen (writes counted in BPF)");
	if (get(mp, "estimated_writes") && u64(mp, "estimated_writes"))
		fprintf(out, "  (sampled: ~%" PRIu64 " writes in all)", u64(mp, "estimated_writes"));
	else if (sampled)
		fprintf(out, "  (sampled)");
	fputc('\n', out);
	for (size_t i = 0; i < arr_len(sites); i++) {
		json_object *s = json_object_array_get_idx(sites, i);

		fprintf(out, "    %10" PRIu64 "  %-6s  %s (%s:%" PRIu64 ")\n", u64(s, "count"),
			str(s, "op", "?"), str(s, "function", "?"), str(s, "file", "?"),
			u64(s, "line"));
	}
}

/* How the write counts of a budgeted capture were scaled into totals, and why. */
static void print_scaling(json_object *ov, double wf, FILE *out)
{
	double ef = json_object_get_double(get(ov, "write_estimate_fraction"));
	json_object *w = get(ov, "write_work");
	double in_cpu = json_object_get_double(get(w, "target_cpu_recording_s"));
	double in_cost = json_object_get_double(get(w, "probe_cpu_recording_s"));

	fprintf(out, "\n  map writes were watched %.1f%% of the time after the lock baseline (not in "
		     "the windows' closing tails): write counts above are samples", 100 * wf);
	if (ef <= 0)
		fprintf(out, ";\n  the probes took %.0f%% of the program's CPU while recording and "
			     "slowed it too much, and too unevenly, to scale its counts into totals",
			in_cpu > 0 ? 100 * in_cost / in_cpu : 100.0);
	else if (get(w, "work_fraction"))
		fprintf(out, ";\n  the program did %.1f%% of its work then (its CPU, less the "
			     "probes'; they slow it while attached): estimated totals, marked ~, are "
			     "scaled by that", 100 * ef);
	else
		fprintf(out, "; estimated totals are marked ~");
}

/* A map seen only growing: no write, no creation, and no finding names it. */
/* The observed fraction of a budget class by name: 1 if it is not in the report. */
static double class_observed(json_object *cls, const char *name)
{
	for (size_t i = 0; i < arr_len(cls); i++) {
		json_object *c = json_object_array_get_idx(cls, i);

		if (!strcmp(str(c, "class", ""), name) && get(c, "observed_fraction"))
			return json_object_get_double(get(c, "observed_fraction"));
	}
	return 1;
}

static bool only_grown(json_object *mp, json_object *findings)
{
	const char *id = str(mp, "id", "");

	if (u64(mp, "assigns") + u64(mp, "deletes") + u64(mp, "clears") || get(mp, "created_at"))
		return false;
	for (size_t i = 0; i < arr_len(findings); i++)
		if (!strcmp(str(json_object_array_get_idx(findings, i), "map", ""), id))
			return false;
	return true;
}

void report_print_text(json_object *doc, FILE *out)
{
	json_object *t = get(doc, "target"), *maps = arr(doc, "maps"), *ev = get(doc, "events");
	json_object *ov = get(doc, "overhead"), *findings = arr(doc, "findings");
	json_object *bud = get(ov, "budget"), *cls = arr(bud, "classes");
	double wf = get(ov, "write_observed_fraction") ?
			    json_object_get_double(get(ov, "write_observed_fraction")) : 1;
	json_object *stripped = get(t, "stripped"), *pie = get(t, "pie");
	size_t nmaps = arr_len(maps), growth_only = 0;
	json_object *sms = arr(doc, "sync_maps"), *sl = arr(doc, "short_lived");

	fprintf(out, "mapwatch capture of PID %" PRIu64 " (%s)\n", u64(t, "pid"),
		str(t, "exe", "?"));
	fprintf(out, "  %s, %s maps%s%s; %.1f s from %s, ended by %s\n",
		str(t, "go_version", "?"), str(t, "map_impl", "?"),
		stripped && json_object_get_boolean(stripped) ? ", stripped" : "",
		pie && json_object_get_boolean(pie) ? ", PIE" : "",
		json_object_get_double(get(doc, "duration_s")), str(doc, "started_at", "?"),
		str(doc, "ended_by", "?"));

	if (get(doc, "lock_baseline_cut") && json_object_get_boolean(get(doc, "lock_baseline_cut")))
		fprintf(out, "  lock waits measured alone for %.2f s of the %.1f s asked: their probes "
			     "cost more than the budget allows,\n  so they were measured between the "
			     "budget's windows, with the map probes off, %.2f s in all\n",
			json_object_get_double(get(doc, "lock_baseline_s")),
			json_object_get_double(get(doc, "lock_baseline_planned_s")),
			json_object_get_double(get(get(doc, "overhead"), "probes_off_s")));
	else if (json_object_get_double(get(doc, "lock_baseline_s")) > 0)
		fprintf(out, "  lock waits measured for %.1f s before the map probes went on\n",
			json_object_get_double(get(doc, "lock_baseline_s")));
	if (get(doc, "target_died"))
		fprintf(out, "  THE TARGET DIED: runtime.fatal(\"%s\") in %s\n",
			str(get(doc, "target_died"), "message", "?"),
			str(get(get(doc, "target_died"), "site"), "function", "?"));
	fprintf(out, "\nFINDINGS (%zu)\n", arr_len(findings));
	if (!arr_len(findings))
		fprintf(out, "  none\n");
	for (size_t i = 0; i < arr_len(findings); i++) {
		json_object *f = json_object_array_get_idx(findings, i), *sites = arr(f, "sites");

		fprintf(out, "  [%s] %s: %s\n", str(f, "severity", "?"), str(f, "kind", "?"),
			str(f, "summary", ""));
		for (size_t k = 0; k < arr_len(sites); k++) {
			json_object *st = json_object_array_get_idx(sites, k);

			/* what each site did: a lock taken, a write, a creation */
			fprintf(out, "      %-6s at %s (%s:%" PRIu64 ")\n", str(st, "op", ""),
				str(st, "function", "?"), str(st, "file", "?"), u64(st, "line"));
		}
	}

	/*
	 * Maps known only from a growth (made before, written while their writes were not
	 * watched) are counted, not listed, unless a finding names them: per-request maps of a
	 * server grow by the dozen, each a row of unknowns.
	 */
	for (size_t i = 0; i < nmaps; i++)
		growth_only += only_grown(json_object_array_get_idx(maps, i), findings);
	fprintf(out, "\nMAPS WRITTEN (%zu)\n", nmaps - growth_only);
	if (!nmaps)
		fprintf(out, "  no map writes seen\n");
	for (size_t i = 0; i < nmaps; i++)
		if (!only_grown(json_object_array_get_idx(maps, i), findings))
			print_map(json_object_array_get_idx(maps, i), wf < 1, out);
	if (growth_only)
		fprintf(out, "  and %zu map%s seen only in a growth (none of %s writes was watched, "
			     "nor %s creation): not listed\n",
			growth_only, growth_only == 1 ? "" : "s", growth_only == 1 ? "its" : "their",
			growth_only == 1 ? "its" : "their");

	for (size_t i = 0; i < arr_len(sl); i++) {
		json_object *s = json_object_array_get_idx(sl, i), *cr = get(s, "created_at");
		double life = json_object_get_double(get(s, "median_life_ms"));
		bool stack = json_object_get_boolean(get(s, "on_stack"));
		char lb[96];

		/*
		 * From creation (or first write, on a stack) to the last sign of it seen (a write
		 * or a re-read): a lower bound, over the maps seen after their creation.
		 */
		if (!get(s, "median_life_ms") || life <= 0)
			snprintf(lb, sizeof(lb), "none seen after %s", stack ? "its first write" :
									 "creation");
		else if (!get(s, "lives_seen"))	/* an older report */
			snprintf(lb, sizeof(lb), life < 1 ? "at least %.0f us" : "at least %.1f ms",
				 life < 1 ? life * 1e3 : life);
		else
			snprintf(lb, sizeof(lb),
				 life < 1 ? "at least %.0f us (of %" PRIu64 " seen after %s)" :
					    "at least %.1f ms (of %" PRIu64 " seen after %s)",
				 life < 1 ? life * 1e3 : life, u64(s, "lives_seen"),
				 stack ? "their first write" : "creation");
		if (!i) {
			double mf = class_observed(cls, "make");

			fprintf(out, "\nSHORT-LIVED MAPS, BY CREATION SITE (%zu)\n", arr_len(sl));
			if (mf < 0.999)
				fprintf(out, "  (counts are samples: creations were watched "
					     "%.1f%% of the capture)\n", 100 * mf);
		}
		/* a map on a stack has no creation call: it is known from its first write */
		fprintf(out, "  %s %s %s (%s:%" PRIu64 "): %" PRIu64 " %s, %" PRIu64
			     " ended during the capture, median life: %s, peak %" PRIu64
			     " entr%s\n",
			str(s, "type", "(type unknown)"),
			stack ? "on a goroutine stack, first written in" : "made in",
			str(cr, "function", "?"), str(cr, "file", "?"),
			u64(cr, "line"), u64(s, "made"), stack ? "seen" : "made", u64(s, "ended"),
			lb, u64(s, "peak_len"), u64(s, "peak_len") == 1 ? "y" : "ies");
	}

	for (size_t i = 0; i < arr_len(sms); i++) {
		json_object *sm = json_object_array_get_idx(sms, i), *sites = arr(sm, "sites");

		if (!i)
			fprintf(out, "\nSYNC.MAPS WRITTEN (%zu)\n", arr_len(sms));
		fprintf(out, "  sync.Map %s  writes %s  dirty-map rebuilds %" PRIu64
			     " (%" PRIu64 " entries copied)\n",
			str(sm, "id", "?"), json_object_to_json_string(get(sm, "writes")),
			u64(sm, "dirty_rebuilds"), u64(sm, "entries_copied"));
		for (size_t k = 0; k < arr_len(sites); k++) {
			json_object *s = json_object_array_get_idx(sites, k);

			fprintf(out, "    %10" PRIu64 "  %-15s  %s (%s:%" PRIu64 ")\n",
				u64(s, "count"), str(s, "op", "?"), str(s, "function", "?"),
				str(s, "file", "?"), u64(s, "line"));
		}
	}

	fprintf(out, "\nCOST\n  %" PRIu64 " probe hits on %" PRIu64 " uprobes; they cost the target "
		     "about %.3f s of CPU (%.1f us a trap%s, plus %.1f us in mapwatch's program)",
		u64(ov, "probe_hits"), u64(ov, "uprobes"),
		json_object_get_double(get(ov, "estimated_target_cpu_s")),
		json_object_get_double(get(ov, "trap_stepped_us")),
		json_object_get_boolean(get(ov, "trap_measured")) ? ", measured on this host" :
								    ", not measured here: a typical figure",
		json_object_get_double(get(ov, "handler_ret_us")));
	if (get(bud, "pct")) {
		fprintf(out, "\n  budget %.3g%% of one CPU (%.3f s)",
			json_object_get_double(get(bud, "pct")),
			json_object_get_double(get(bud, "allowed_cpu_s")));
		if (get(bud, "aim_pct"))
			fprintf(out, ", aimed at %.3g%%",
				json_object_get_double(get(bud, "aim_pct")));
		fprintf(out, ": spent %.3f s (%.2f%%)",
			json_object_get_double(get(bud, "spent_cpu_s")),
			json_object_get_double(get(bud, "spent_pct")));
	} else if (bud) {
		fprintf(out, "\n  no budget (--budget off): every probe attached throughout");
	}
	for (size_t i = 0; i < arr_len(cls); i++) {
		json_object *c = json_object_array_get_idx(cls, i);

		double att = json_object_get_double(get(c, "attached_s")), kept = 0;

		if (get(c, "window_s"))
			kept = att - json_object_get_double(get(c, "window_s"));
		if (json_object_get_boolean(get(c, "windowed"))) {
			fprintf(out, "\n  %-6s probes: in %" PRIu64 " window%s, attached %.2f s "
				     "(%.1f%% of the capture), %.3f s of CPU",
				str(c, "class", "?"), u64(c, "windows"),
				u64(c, "windows") == 1 ? "" : "s", att,
				100 * json_object_get_double(get(c, "observed_fraction")),
				json_object_get_double(get(c, "cpu_s")));
			/* a class kept attached while it was cheap, windowed while it was not */
			if (kept >= 0.01)
				fprintf(out, " (%.2f s of it kept attached, outside windows)",
					kept);
		} else {
			fprintf(out, "\n  %-6s probes: attached %.2f s, %.3f s of CPU",
				str(c, "class", "?"), att, json_object_get_double(get(c, "cpu_s")));
		}
		if (!strcmp(str(c, "class", ""), "tally"))
			fprintf(out, " (map writes counted in BPF at entry alone: %" PRIu64
				     " of the %" PRIu64 " writes seen)", u64(ov, "writes_tallied"),
				u64(ov, "writes_seen"));
	}
	if (wf < 1 && !get(ov, "write_estimate_fraction"))	/* an older report */
		fprintf(out, "\n  map writes were watched %.1f%% of the time after the lock baseline: "
			     "write counts above are samples; estimated totals are marked ~",
			100 * wf);
	else if (wf < 1)
		print_scaling(ov, wf, out);
	fprintf(out, "\n  events %" PRIu64 ", lost %" PRIu64 "\n", u64(ev, "total"),
		u64(ev, "lost"));
	if (u64(ev, "lost") > u64(get(ev, "counters"), "tally_table_full"))
		fprintf(out, "  some events were lost: raise --ringbuf-mb or shorten the capture\n");
	if (u64(get(ev, "counters"), "tally_table_full"))
		fprintf(out, "  %" PRIu64 " writes were not counted: BPF's tally table filled between "
			     "two reads\n", u64(get(ev, "counters"), "tally_table_full"));
}
