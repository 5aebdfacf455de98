// SPDX-License-Identifier: MIT
/*
 * lock_contention: goroutines queued in a mutex slow path and then wrote a map while holding
 * the lock.
 *
 * mapwatch's own map probes cost microseconds each and run inside the critical sections they
 * observe: they stretch them, and a lock that the program holds for a microsecond at 1% load
 * queues its goroutines while probed. So contention is judged only on waits measured while the
 * map probes were detached (the capture's lock baseline, during which only the lock slow
 * paths are probed); the probed part of the capture names the map written under the lock and
 * says how much of the waits mapwatch caused. A lock is flagged when its baseline waits reach
 * contention_pct of the baseline and, scaled to the whole capture, contention_ms, and when it
 * guards the map: of its waits seen while map writes were watched, at least contention_map_pct
 * came just before a write of that map by the goroutine that waited (a subscriber's mutex
 * taken on the way to writing the publisher's own map is not that map's lock).
 */
#include <stdio.h>
#include <stdlib.h>
#include "detect.h"

/* The upper bound of the log2 bucket holding the 99th percentile wait, ns. */
static uint64_t p99_ns(const struct mw_mutex *mx)
{
	uint64_t want = mx->nwaits - mx->nwaits / 100, seen = 0;

	for (int b = 0; b < MW_WAIT_BUCKETS; b++) {
		seen += mx->hist[b];
		if (seen >= want && mx->hist[b])
			return 2ULL << b;
	}
	return 0;
}

void detect_lock_contention(const struct detect_ctx *c, json_object *out)
{
	const struct mw_model *m = c->m;
	/* probed: with the map probes recording (not while only ones that name no map were on) */
	double base_s = (double)m->baseline_ns / 1e9;
	double probed_s = c->duration_s - base_s - (double)m->unnamed_ns / 1e9;
	GHashTableIter it;
	gpointer v;

	if (base_s <= 0)
		return;	/* no waits measured without map probes: contention cannot be judged */
	g_hash_table_iter_init(&it, m->mutexes);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_mutex *mx = v;
		double base_wait_s = (double)mx->base_ns / 1e9, pct = 100.0 * base_wait_s / base_s;
		double projected_s = base_wait_s * c->duration_s / base_s, total_s, probed_rate;
		double share = 0, probed_wait_ns, map_pct;
		uint64_t best_ns = 0, best_map = 0;
		const struct mw_map *mp;
		char label[512], site[512], sum[2048], addr[32];
		GHashTableIter mi;
		gpointer k, ns;
		json_object *f, *e;

		if (pct < c->o->contention_pct || projected_s * 1000 < c->o->contention_ms)
			continue;
		g_hash_table_iter_init(&mi, mx->maps);
		while (g_hash_table_iter_next(&mi, &k, &ns))
			if (GPOINTER_TO_SIZE(ns) > best_ns || !best_map) {
				best_ns = GPOINTER_TO_SIZE(ns);
				best_map = GPOINTER_TO_SIZE(k);
			}
		mp = best_map ? g_hash_table_lookup(m->maps, GSIZE_TO_POINTER(best_map)) : NULL;
		if (!mp)
			continue;	/* no live map written under it: not a map problem */
		probed_wait_ns = (double)(mx->total_ns - mx->base_ns - mx->unnamed_ns);
		map_pct = probed_wait_ns > 0 ? 100.0 * (double)best_ns / probed_wait_ns : 0;
		if (map_pct < c->o->contention_map_pct)
			continue;	/* its waits mostly lead elsewhere: it does not guard the map */
		total_s = (double)mx->total_ns / 1e9;
		probed_rate = probed_s > 0 ? probed_wait_ns / 1e9 / probed_s : 0;
		if (probed_rate > base_wait_s / base_s)
			share = 100.0 * (1.0 - (base_wait_s / base_s) / probed_rate);
		map_label(mp, label, sizeof(label));
		site_label(&g_array_index(mx->sites, struct mw_site, 0).sym, site, sizeof(site));
		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)mx->addr);
		snprintf(sum, sizeof(sum),
			 "goroutines waited %.3f s in all for mutex %s, taken in %s, in the %.1f s its "
			 "waits were measured with the map probes off (%.0f%% of that time; over 100%% "
			 "when several wait at once; %u goroutines waited on it during the capture), to "
			 "write %s: shorten the critical section, or shard the map so writers do not "
			 "queue on one lock",
			 base_wait_s, addr, site, base_s, pct, g_hash_table_size(mx->waiters), label);
		f = finding_new("lock_contention", "warning", mp->addr, sum);
		finding_add_sites(f, mx->sites, 3);
		finding_add_sites(f, mp->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "mutex", json_object_new_string(addr));
		json_object_object_add(e, "waiters",
				       json_object_new_int((int)g_hash_table_size(mx->waiters)));
		json_object_object_add(e, "waits", json_object_new_uint64(mx->nwaits));
		json_object_object_add(e, "baseline_s", json_object_new_double(base_s));
		json_object_object_add(e, "baseline_wait_s", json_object_new_double(base_wait_s));
		json_object_object_add(e, "baseline_waits", json_object_new_uint64(mx->base_waits));
		json_object_object_add(e, "wait_pct_of_baseline", json_object_new_double(pct));
		json_object_object_add(e, "total_wait_s", json_object_new_double(total_s));
		json_object_object_add(e, "wait_pct_of_capture",
				       json_object_new_double(c->duration_s > 0 ?
								      100.0 * total_s / c->duration_s : 0));
		json_object_object_add(e, "waits_caused_by_mapwatch_pct",
				       json_object_new_double(share));
		/* a log2 histogram: the bound of the bucket the 99th percentile falls in */
		json_object_object_add(e, "p99_wait_ms_at_most",
				       json_object_new_double((double)p99_ns(mx) / 1e6));
		json_object_object_add(e, "wait_before_writing_this_map_s",
				       json_object_new_double((double)best_ns / 1e9));
		json_object_object_add(e, "wait_before_writing_this_map_pct",
				       json_object_new_double(map_pct));
		json_object_array_add(out, f);
	}
}
