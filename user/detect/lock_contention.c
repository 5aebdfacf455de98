// SPDX-License-Identifier: MIT
/*
 * lock_contention: goroutines queued in a mutex slow path and then wrote a map while holding
 * the lock; flagged when the summed waits reach contention_pct of the capture or contention_ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include "detect.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void detect_lock_contention(const struct detect_ctx *c, json_object *out)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, c->m->mutexes);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_mutex *mx = v;
		double total_s = (double)mx->total_ns / 1e9, pct;
		uint64_t best_ns = 0, best_map = 0, *w, p99;
		const struct mw_map *mp;
		char label[512], site[512], sum[2048], addr[32];
		GHashTableIter mi;
		gpointer k, ns;
		json_object *f, *e;

		pct = c->duration_s > 0 ? 100.0 * total_s / c->duration_s : 0;
		if (pct < c->o->contention_pct && total_s * 1000 < c->o->contention_ms)
			continue;
		g_hash_table_iter_init(&mi, mx->maps);
		while (g_hash_table_iter_next(&mi, &k, &ns))
			if (GPOINTER_TO_SIZE(ns) > best_ns || !best_map) {
				best_ns = GPOINTER_TO_SIZE(ns);
				best_map = GPOINTER_TO_SIZE(k);
			}
		mp = best_map ? g_hash_table_lookup(c->m->maps, GSIZE_TO_POINTER(best_map)) : NULL;
		if (!mp)
			continue;	/* no map written under it: not a map problem */
		w = g_memdup2(mx->waits->data, mx->waits->len * sizeof(uint64_t));
		qsort(w, mx->waits->len, sizeof(uint64_t), cmp_u64);
		p99 = w[(mx->waits->len * 99) / 100 < mx->waits->len ? (mx->waits->len * 99) / 100 :
									 mx->waits->len - 1];
		g_free(w);
		map_label(mp, label, sizeof(label));
		site_label(&g_array_index(mx->sites, struct mw_site, 0).sym, site, sizeof(site));
		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)mx->addr);
		snprintf(sum, sizeof(sum),
			 "%u goroutines waited %.3f s in total (%.0f%% of the capture) for mutex %s, "
			 "taken in %s, to write %s: shorten the critical section, or shard the map "
			 "so writers do not queue on one lock",
			 g_hash_table_size(mx->waiters), total_s, pct, addr, site, label);
		f = finding_new("lock_contention", "warning", mp->addr, sum);
		finding_add_sites(f, mx->sites, 3);
		finding_add_sites(f, mp->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "mutex", json_object_new_string(addr));
		json_object_object_add(e, "waiters",
				       json_object_new_int((int)g_hash_table_size(mx->waiters)));
		json_object_object_add(e, "waits", json_object_new_int((int)mx->waits->len));
		json_object_object_add(e, "total_wait_s", json_object_new_double(total_s));
		json_object_object_add(e, "wait_pct_of_capture", json_object_new_double(pct));
		json_object_object_add(e, "p99_wait_ms", json_object_new_double((double)p99 / 1e6));
		json_object_object_add(e, "wait_before_writing_this_map_s",
				       json_object_new_double((double)best_ns / 1e9));
		json_object_array_add(out, f);
	}
}
