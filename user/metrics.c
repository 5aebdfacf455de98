// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

const double mx_lock_bounds[MX_LOCK_BUCKETS] = { 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10 };
/* The same bounds as the exposition spells them (le is compared as text by PromQL users). */
static const char *const lock_le[MX_LOCK_BUCKETS + 1] = {
	"1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "+Inf",
};

static const char *const op_names[MX_OP__MAX] = { "assign", "delete", "clear" };

void mx_hist_observe(struct mx_hist *h, double seconds)
{
	size_t i = 0;

	while (i < MX_LOCK_BUCKETS && !(seconds <= mx_lock_bounds[i]))
		i++;
	h->bucket[i]++;
	h->sum += seconds;
}

void mx_label_value(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; s && *s; s++) {
		if (*s == '\\')
			g_string_append(out, "\\\\");
		else if (*s == '"')
			g_string_append(out, "\\\"");
		else if (*s == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *s);
	}
	g_string_append_c(out, '"');
}

/* HELP text escapes only backslash and newline. */
static void family(GString *o, const char *name, const char *type, const char *help)
{
	g_string_append_printf(o, "# HELP %s ", name);
	for (const char *s = help; *s; s++) {
		if (*s == '\\')
			g_string_append(o, "\\\\");
		else if (*s == '\n')
			g_string_append(o, "\\n");
		else
			g_string_append_c(o, *s);
	}
	g_string_append_printf(o, "\n# TYPE %s %s\n", name, type);
}

/* The shortest decimal that reads back as the same double; NaN and infinities as spelled. */
static void num(GString *o, double v)
{
	char buf[64];

	if (isnan(v)) {
		g_string_append(o, "NaN");
		return;
	}
	if (isinf(v)) {
		g_string_append(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, sizeof(buf), "%.17g", v);
	g_string_append(o, buf);
}

/* name{pid="P"[,extra]} */
static void series(GString *o, const char *name, int pid, const char *extra)
{
	g_string_append_printf(o, "%s{pid=\"%d\"", name, pid);
	if (extra && *extra)
		g_string_append_printf(o, ",%s", extra);
	g_string_append_c(o, '}');
}

static void sample_u64(GString *o, const char *name, int pid, const char *extra, uint64_t v)
{
	series(o, name, pid, extra);
	g_string_append_printf(o, " %" PRIu64 "\n", v);
}

static void sample_dbl(GString *o, const char *name, int pid, const char *extra, double v)
{
	series(o, name, pid, extra);
	g_string_append_c(o, ' ');
	num(o, v);
	g_string_append_c(o, '\n');
}

/* The maps of one target with the same labels, summed; labels is their rendered label text. */
struct group {
	char *labels;
	uint64_t maps, entries, capacity, bytes, growths, writes[MX_OP__MAX], concurrent;
};

static uint64_t group_writes(const struct group *g)
{
	return g->writes[MX_OP_ASSIGN] + g->writes[MX_OP_DELETE] + g->writes[MX_OP_CLEAR];
}

/* Largest first (memory, then writes, then entries); the labels make the order total. */
static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (group_writes(x) != group_writes(y))
		return group_writes(x) > group_writes(y) ? -1 : 1;
	if (x->entries != y->entries)
		return x->entries > y->entries ? -1 : 1;
	return strcmp(x->labels, y->labels);
}

static void group_add(struct group *g, const struct group *m)
{
	g->maps += m->maps;
	g->entries += m->entries;
	g->capacity += m->capacity;
	g->bytes += m->bytes;
	g->growths += m->growths;
	for (int op = 0; op < MX_OP__MAX; op++)
		g->writes[op] += m->writes[op];
	g->concurrent += m->concurrent;
}

static char *map_labels(const struct mx_map *m)
{
	GString *s = g_string_new("function=");

	mx_label_value(s, m->function);
	g_string_append(s, ",file=");
	mx_label_value(s, m->function ? m->file : NULL);
	g_string_append(s, ",line=");
	if (m->function && m->line > 0)
		g_string_append_printf(s, "\"%d\"", m->line);
	else
		g_string_append(s, "\"\"");
	g_string_append(s, ",type=");
	mx_label_value(s, m->type);
	return g_string_free(s, FALSE);
}

/* Sum a target's maps by labels, keep the max largest, fold the rest into "_other". */
static GArray *target_groups(const struct mx_target *t, size_t max)
{
	GHashTable *idx = g_hash_table_new(g_str_hash, g_str_equal);
	GArray *gs = g_array_new(FALSE, TRUE, sizeof(struct group));
	struct group other = { 0 };

	for (size_t i = 0; i < t->nmaps; i++) {
		const struct mx_map *m = &t->maps[i];
		struct group one = { .labels = map_labels(m), .maps = 1, .entries = m->entries,
				     .capacity = m->capacity, .bytes = m->bytes,
				     .growths = m->growths, .concurrent = m->concurrent_writes };
		gpointer at;

		memcpy(one.writes, m->writes, sizeof(one.writes));
		if (g_hash_table_lookup_extended(idx, one.labels, NULL, &at)) {
			group_add(&g_array_index(gs, struct group, GPOINTER_TO_SIZE(at)), &one);
			g_free(one.labels);
			continue;
		}
		g_array_append_val(gs, one);
		g_hash_table_insert(idx, one.labels, GSIZE_TO_POINTER(gs->len - 1));
	}
	g_hash_table_destroy(idx);
	g_array_sort(gs, group_cmp);
	if (!max || gs->len <= max)
		return gs;
	for (size_t i = max; i < gs->len; i++) {
		struct group *g = &g_array_index(gs, struct group, i);

		group_add(&other, g);
		g_free(g->labels);
	}
	g_array_set_size(gs, max);
	other.labels = g_strdup("function=\"" MX_OTHER "\",file=\"\",line=\"\",type=\"\"");
	g_array_append_val(gs, other);
	return gs;
}

enum map_field { MF_MAPS, MF_ENTRIES, MF_CAPACITY, MF_BYTES, MF_GROWTHS, MF_CONCURRENT };

static const struct {
	const char *name, *type, *help;
} map_families[] = {
	[MF_MAPS] = { "mapwatch_maps", "gauge",
		      "Live maps made at this site with this type (site empty: made before "
		      "mapwatch attached; function \"_other\": the sites past the per-target "
		      "limit, summed)." },
	[MF_ENTRIES] = { "mapwatch_map_entries", "gauge", "Entries in these maps (len)." },
	[MF_CAPACITY] = { "mapwatch_map_capacity", "gauge",
			  "Entries these maps have room for before they grow." },
	[MF_BYTES] = { "mapwatch_map_bytes", "gauge",
		       "Memory of these maps' tables (bucket arrays, Swiss directories and "
		       "tables), in bytes." },
	[MF_GROWTHS] = { "mapwatch_map_growths_total", "counter",
			 "Times these maps grew their tables." },
	[MF_CONCURRENT] = { "mapwatch_map_concurrent_writes_total", "counter",
			    "Writes to these maps that overlapped another goroutine's write "
			    "(a missing lock)." },
};

static uint64_t map_field(const struct group *g, enum map_field f)
{
	switch (f) {
	case MF_MAPS: return g->maps;
	case MF_ENTRIES: return g->entries;
	case MF_CAPACITY: return g->capacity;
	case MF_BYTES: return g->bytes;
	case MF_GROWTHS: return g->growths;
	case MF_CONCURRENT: return g->concurrent;
	}
	return 0;
}

static void render_maps(GString *o, const struct mx_daemon *d, GArray **groups)
{
	for (size_t f = 0; f < G_N_ELEMENTS(map_families); f++) {
		family(o, map_families[f].name, map_families[f].type, map_families[f].help);
		for (size_t t = 0; t < d->ntargets; t++)
			for (guint i = 0; i < groups[t]->len; i++) {
				const struct group *g = &g_array_index(groups[t], struct group, i);

				sample_u64(o, map_families[f].name, d->targets[t].pid, g->labels,
					   map_field(g, (enum map_field)f));
			}
	}
	family(o, "mapwatch_map_writes_total", "counter",
	       "Writes to these maps, by operation (assign, delete, clear).");
	for (size_t t = 0; t < d->ntargets; t++)
		for (guint i = 0; i < groups[t]->len; i++) {
			const struct group *g = &g_array_index(groups[t], struct group, i);

			for (int op = 0; op < MX_OP__MAX; op++) {
				char *l = g_strdup_printf("%s,op=\"%s\"", g->labels, op_names[op]);

				sample_u64(o, "mapwatch_map_writes_total", d->targets[t].pid, l,
					   g->writes[op]);
				g_free(l);
			}
		}
}

static void render_lock_waits(GString *o, const struct mx_daemon *d)
{
	family(o, "mapwatch_lock_wait_seconds", "histogram",
	       "Time goroutines waited for a mutex that guards a map (measured with the map "
	       "probes detached).");
	for (size_t t = 0; t < d->ntargets; t++) {
		const struct mx_hist *h = &d->targets[t].lock_wait;
		uint64_t cum = 0;

		for (int i = 0; i <= MX_LOCK_BUCKETS; i++) {
			char le[32];

			cum += h->bucket[i];
			snprintf(le, sizeof(le), "le=\"%s\"", lock_le[i]);
			sample_u64(o, "mapwatch_lock_wait_seconds_bucket", d->targets[t].pid, le,
				   cum);
		}
		sample_dbl(o, "mapwatch_lock_wait_seconds_sum", d->targets[t].pid, NULL, h->sum);
		sample_u64(o, "mapwatch_lock_wait_seconds_count", d->targets[t].pid, NULL, cum);
	}
}

static void render_findings(GString *o, const struct mx_daemon *d)
{
	family(o, "mapwatch_findings", "gauge",
	       "Findings mapwatch currently reports for the target, by kind.");
	for (size_t t = 0; t < d->ntargets; t++) {
		const struct mx_target *tg = &d->targets[t];

		for (size_t i = 0; i < tg->nfindings; i++) {
			GString *l = g_string_new("kind=");

			mx_label_value(l, tg->findings[i].name);
			sample_u64(o, "mapwatch_findings", tg->pid, l->str, tg->findings[i].n);
			g_string_free(l, TRUE);
		}
	}
}

/* The counters every target has: a field of struct mx_target each, uint64_t or seconds. */
static const struct {
	const char *name, *help;
	size_t off;
	bool seconds;
} target_counters[] = {
	{ "mapwatch_probe_hits_total",
	  "Uprobe hits in the target (each costs it microseconds of CPU).",
	  offsetof(struct mx_target, probe_hits), false },
	{ "mapwatch_probe_cpu_seconds_total",
	  "Estimated CPU time the probes cost the target, from per-hit costs measured on this "
	  "host.", offsetof(struct mx_target, probe_cpu_seconds), true },
	{ "mapwatch_attached_seconds_total",
	  "Time the target's map-write probes were attached (recording or tallying).",
	  offsetof(struct mx_target, attached_seconds), true },
	{ "mapwatch_lost_events_total", "Probe records lost (ring buffer or in-flight table full).",
	  offsetof(struct mx_target, lost_events), false },
};

static void render_targets(GString *o, const struct mx_daemon *d)
{
	family(o, "mapwatch_target_info", "gauge",
	       "A Go process mapwatch watches: its executable and Go release (value 1).");
	for (size_t t = 0; t < d->ntargets; t++) {
		GString *l = g_string_new("exe=");

		mx_label_value(l, d->targets[t].exe);
		g_string_append(l, ",go_version=");
		mx_label_value(l, d->targets[t].go_version);
		sample_u64(o, "mapwatch_target_info", d->targets[t].pid, l->str, 1);
		g_string_free(l, TRUE);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(target_counters); i++) {
		family(o, target_counters[i].name, "counter", target_counters[i].help);
		for (size_t t = 0; t < d->ntargets; t++) {
			const char *f = (const char *)&d->targets[t] + target_counters[i].off;

			if (target_counters[i].seconds)
				sample_dbl(o, target_counters[i].name, d->targets[t].pid, NULL,
					   *(const double *)f);
			else
				sample_u64(o, target_counters[i].name, d->targets[t].pid, NULL,
					   *(const uint64_t *)f);
		}
	}
	render_findings(o, d);
}

static void render_daemon(GString *o, const struct mx_daemon *d)
{
	family(o, "mapwatch_targets", "gauge", "Go processes mapwatch watches.");
	g_string_append_printf(o, "mapwatch_targets %zu\n", d->ntargets);
	family(o, "mapwatch_attach_errors_total", "counter",
	       "Go processes mapwatch could not watch, by reason.");
	for (size_t i = 0; i < d->nattach_errors; i++) {
		g_string_append(o, "mapwatch_attach_errors_total{reason=");
		mx_label_value(o, d->attach_errors[i].name);
		g_string_append_printf(o, "} %" PRIu64 "\n", d->attach_errors[i].n);
	}
	family(o, "mapwatch_scrape_duration_seconds", "gauge",
	       "Time taken to collect the numbers of this scrape.");
	g_string_append(o, "mapwatch_scrape_duration_seconds ");
	num(o, d->scrape_duration_seconds);
	g_string_append_c(o, '\n');
}

void mx_render(GString *out, const struct mx_daemon *d)
{
	GArray **groups = g_new0(GArray *, d->ntargets + 1);

	for (size_t t = 0; t < d->ntargets; t++)
		groups[t] = target_groups(&d->targets[t], d->max_maps);
	render_daemon(out, d);
	render_targets(out, d);
	render_lock_waits(out, d);
	render_maps(out, d, groups);
	for (size_t t = 0; t < d->ntargets; t++) {
		for (guint i = 0; i < groups[t]->len; i++)
			g_free(g_array_index(groups[t], struct group, i).labels);
		g_array_free(groups[t], TRUE);
	}
	g_free(groups);
}
