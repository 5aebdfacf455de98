// SPDX-License-Identifier: MIT
/*
 * concurrent_write: two goroutines inside a write to one map at once (their entry-to-RET
 * intervals overlap, seen in BPF at the second entry), or the map's write flag already set at
 * entry. In locked code these intervals lie inside the critical section, so an overlap proves
 * a writer without the lock. Also reports the runtime's own fatal error if it fired.
 */
#include <stdio.h>
#include <string.h>
#include "detect.h"

void detect_concurrent_write(const struct detect_ctx *c, json_object *out)
{
	const struct mw_model *m = c->m;
	/* ended maps too: two writers at once are proof whatever became of the map later */
	GPtrArray *all = model_maps_sorted(m);
	bool named = false;

	for (guint i = 0; i < all->len; i++) {
		const struct mw_map *mp = g_ptr_array_index(all, i);
		const struct mw_overlap *o = &mp->overlap;
		char label[512], a[512], b[512], sum[2048];
		json_object *f, *e;

		if (!mp->overlaps && !mp->writing_at_entry)
			continue;
		map_label(mp, label, sizeof(label));
		site_label(&o->first, a, sizeof(a));
		site_label(&o->second, b, sizeof(b));
		if (mp->overlaps && o->goid_first)
			snprintf(sum, sizeof(sum),
				 "%s was written by goroutines %llu and %llu at the same time, in %s "
				 "and %s%s: every write must hold the same lock (or use sync.Map)",
				 label, (unsigned long long)o->goid_first,
				 (unsigned long long)o->goid_second, a, b,
				 m->fatal ? "; the runtime then killed the process" : "");
		else
			snprintf(sum, sizeof(sum),
				 "%s had its write flag already set when %s wrote it: another "
				 "goroutine was writing it, or left the flag set after two unguarded "
				 "writes crossed; every write must hold the same lock (or use sync.Map)",
				 label, b);
		f = finding_new("concurrent_write", "critical", mp->addr, sum);
		if (mp->overlaps) {
			if (o->goid_first)
				finding_add_site(f, &o->first);
			finding_add_site(f, &o->second);
		} else {
			finding_add_sites(f, mp->sites, 3);
		}
		e = finding_evidence(f);
		json_object_object_add(e, "overlaps", json_object_new_uint64(mp->overlaps));
		json_object_object_add(e, "writes_finding_flag_set",
				       json_object_new_uint64(mp->writing_at_entry));
		json_object_object_add(e, "goroutines", json_object_new_array());
		if (o->goid_first)
			json_object_array_add(json_object_object_get(e, "goroutines"),
					      json_object_new_uint64(o->goid_first));
		if (o->goid_second)
			json_object_array_add(json_object_object_get(e, "goroutines"),
					      json_object_new_uint64(o->goid_second));
		json_object_object_add(e, "target_died", json_object_new_boolean(m->fatal));
		json_object_array_add(out, f);
		named = true;
	}
	g_ptr_array_unref(all);

	/* The runtime caught it first (or mapwatch did not see the pair): still say so. */
	if (m->fatal && !named && strstr(m->fatal_msg, "concurrent map")) {
		char s[512], sum[4096], a[512], b[512];
		const struct mw_carry *seen = NULL;
		uint64_t seen_addr = 0;
		GHashTableIter it;
		gpointer k, v;
		json_object *f;

		/* an earlier epoch of the daemon saw two writers in a map at once: name them */
		g_hash_table_iter_init(&it, m->carried);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			const struct mw_carry *c = v;

			if (c->overlap_known && (!seen || c->overlap_ns > seen->overlap_ns)) {
				seen = c;
				seen_addr = GPOINTER_TO_SIZE(k);
			}
		}
		site_label(&m->fatal_site, s, sizeof(s));
		if (seen) {
			site_label(&seen->overlap.first, a, sizeof(a));
			site_label(&seen->overlap.second, b, sizeof(b));
			char made[600] = "";

			if (seen->created) {
				char c[512];

				site_label(&seen->created_at, c, sizeof(c));
				snprintf(made, sizeof(made), " made in %s", c);
			}
			snprintf(sum, sizeof(sum),
				 "the runtime killed the process with \"%s\" in %s; earlier, %s at %#llx%s "
				 "was written by two goroutines at the same time, in %s and %s: every "
				 "write must hold the same lock (or use sync.Map)",
				 m->fatal_msg, s, seen->type[0] ? seen->type : "a map",
				 (unsigned long long)seen_addr, made, a, b);
		} else {
			snprintf(sum, sizeof(sum),
				 "the runtime killed the process with \"%s\" in %s: a map is written "
				 "without the lock that guards it", m->fatal_msg, s);
		}
		f = finding_new("concurrent_write", "critical", seen ? seen_addr : 0, sum);
		finding_add_site(f, &m->fatal_site);
		if (seen) {
			finding_add_site(f, &seen->overlap.first);
			finding_add_site(f, &seen->overlap.second);
		}
		json_object_object_add(finding_evidence(f), "target_died",
				       json_object_new_boolean(true));
		json_object_object_add(finding_evidence(f), "pair_seen_earlier",
				       json_object_new_boolean(seen != NULL));
		json_object_array_add(out, f);
	}
}
