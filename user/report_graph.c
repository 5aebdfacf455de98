// SPDX-License-Identifier: MIT
/* The capture as folded stacks (flame graphs) and as a Graphviz graph. */
#include <stdio.h>
#include <string.h>
#include "report.h"

static gint by_key(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int report_write_folded(const struct mw_model *m, const char *path, char *err, size_t errlen)
{
	GHashTable *stacks = model_folded_stacks(m);
	GString *out = g_string_new(NULL);
	GPtrArray *keys = g_ptr_array_new();
	GHashTableIter it;
	gpointer k, v;
	int rc;

	g_hash_table_iter_init(&it, stacks);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(keys, k);
	g_ptr_array_sort(keys, by_key);
	for (guint i = 0; i < keys->len; i++) {
		k = g_ptr_array_index(keys, i);
		v = g_hash_table_lookup(stacks, k);
		g_string_append_printf(out, "%s %zu\n", (const char *)k, GPOINTER_TO_SIZE(v));
	}
	rc = write_atomic(path, out->str, out->len, err, errlen);
	g_ptr_array_unref(keys);
	g_string_free(out, TRUE);
	g_hash_table_unref(stacks);
	return rc;
}

/* Graphviz quoted string: escape quotes (labels use \n for line breaks). */
static void dot_str(GString *o, const char *s)
{
	g_string_append_c(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			g_string_append_c(o, '\\');
		g_string_append_c(o, *s);
	}
	g_string_append_c(o, '"');
}

int report_write_dot(const struct mw_model *m, const char *path, char *err, size_t errlen)
{
	GString *o = g_string_new("digraph mapwatch {\n\trankdir=LR;\n\tnode [fontname=\"monospace\"];\n");
	GPtrArray *maps = model_maps_sorted(m);
	GHashTableIter it;
	gpointer v, k, ns;
	int rc;

	for (guint i = 0; i < maps->len; i++) {
		const struct mw_map *mp = g_ptr_array_index(maps, i);
		char label[1024];

		char writers[48] = "writers unseen";	/* writes only counted in BPF */

		if (g_hash_table_size(mp->writers))
			snprintf(writers, sizeof(writers), "%u writer goroutines",
				 g_hash_table_size(mp->writers));
		snprintf(label, sizeof(label), "%s\\nlen %llu%s, %s%s",
			 mp->type[0] ? mp->type : "map", (unsigned long long)mp->hdr.count,
			 mp->hdr_pre_write ? " before its last write" : "", writers,
			 mp->overlaps ? "\\nCONCURRENT WRITES" : "");
		g_string_append_printf(o, "\tm%llx [shape=box%s, label=",
					(unsigned long long)mp->addr,
					mp->overlaps ? ", color=red" : "");
		dot_str(o, label);
		g_string_append(o, "];\n");
		for (guint s = 0; s < mp->sites->len; s++) {
			const struct mw_site *st = &g_array_index(mp->sites, struct mw_site, s);
			char sl[512], el[64];

			snprintf(sl, sizeof(sl), "%s\\n%s:%d", st->sym.function, st->sym.file,
				 st->sym.line);
			g_string_append_printf(o, "\ts%llx [shape=ellipse, label=",
					       (unsigned long long)st->pc);
			dot_str(o, sl);
			snprintf(el, sizeof(el), "%s x%llu", op_name(st->op),
				 (unsigned long long)st->count);
			g_string_append_printf(o, "];\n\ts%llx -> m%llx [label=",
					       (unsigned long long)st->pc,
					       (unsigned long long)mp->addr);
			dot_str(o, el);
			g_string_append(o, "];\n");
		}
	}
	g_hash_table_iter_init(&it, m->mutexes);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_mutex *mx = v;
		GHashTableIter mi;
		char label[256];

		snprintf(label, sizeof(label), "mutex %#llx\\n%u waiters, %.3f s waited",
			 (unsigned long long)mx->addr, g_hash_table_size(mx->waiters),
			 (double)mx->total_ns / 1e9);
		g_string_append_printf(o, "\tx%llx [shape=diamond, label=",
				       (unsigned long long)mx->addr);
		dot_str(o, label);
		g_string_append(o, "];\n");
		g_hash_table_iter_init(&mi, mx->maps);
		while (g_hash_table_iter_next(&mi, &k, &ns)) {
			if (!g_hash_table_contains(m->maps, k))
				continue;
			snprintf(label, sizeof(label), "waited %.3f s", (double)GPOINTER_TO_SIZE(ns) / 1e9);
			g_string_append_printf(o, "\tx%llx -> m%llx [style=dashed, label=",
					       (unsigned long long)mx->addr,
					       (unsigned long long)GPOINTER_TO_SIZE(k));
			dot_str(o, label);
			g_string_append(o, "];\n");
		}
	}
	g_string_append(o, "}\n");
	rc = write_atomic(path, o->str, o->len, err, errlen);
	g_ptr_array_unref(maps);
	g_string_free(o, TRUE);
	return rc;
}
