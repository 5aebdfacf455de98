// SPDX-License-Identifier: MIT
/*
 * unbounded_growth: the live count only rises (a cache without eviction): it rose by at least
 * growth_min entries (or growth_pct percent from at least growth_base), inserts outnumber
 * deletes by growth_insert_ratio, it never fell back by more than a tenth of the rise, and it
 * was still reaching new highs in the last part of the capture (a map that filled up to a
 * bound and stayed there is not unbounded). Only maps alive at the end are judged.
 */
#include <stdio.h>
#include "detect.h"

void detect_unbounded_growth(const struct detect_ctx *c, json_object *out)
{
	const struct detect_opts *o = c->o;
	double recent = detect_recent_s(c->duration_s);
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, c->m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_map *mp = v;
		uint64_t from = mp->first_len, to = mp->hdr.count, rise;
		double span, rate, bps;
		char label[512], site[512], sum[2048];
		json_object *f, *e;

		if (!map_is_durable(mp))
			continue;	/* ended, never written, not shown alive, sync.Map internals */
		if (to <= from)
			continue;
		rise = to - from;
		if (!((double)rise >= o->growth_min ||
		      ((double)from >= o->growth_base && (double)rise * 100 >= o->growth_pct * (double)from)))
			continue;
		if ((double)mp->inserts < o->growth_insert_ratio * (double)mp->removals)
			continue;
		if (mp->max_drop * 10 > rise)
			continue;
		if (!mp->peak_ns || (double)(c->end_ns - mp->peak_ns) / 1e9 > recent)
			continue;	/* stopped growing: bounded, or done */
		/*
		 * The rate over the time the map was watched growing, from inserts seen; when
		 * writes were sampled in windows, from the re-read count alone.
		 */
		if (rise > mp->inserts && mp->inserts && detect_observed(c, MW_CLASS_WRITE) >= 1)
			rise = mp->inserts;
		/* Over at least a second (the re-read period): no extrapolation from a burst. */
		span = mp->peak_ns > mp->first_ns ? (double)(mp->peak_ns - mp->first_ns) / 1e9 : 0;
		if (span < 1)
			span = 1;
		rate = (double)rise / span;
		bps = to && mp->bytes ? rate * (double)mp->bytes / (double)to : 0;
		map_label(mp, label, sizeof(label));
		if (mp->sites->len)
			site_label(&g_array_index(mp->sites, struct mw_site, 0).sym, site,
				   sizeof(site));
		else
			snprintf(site, sizeof(site), "?");
		snprintf(sum, sizeof(sum),
			 "%s grew from %llu to %llu entries (+%.0f/s) and was still growing at the "
			 "end; it is written in %s: bound it (evict old entries, LRU or TTL) or delete "
			 "what is no longer needed",
			 label, (unsigned long long)from, (unsigned long long)mp->hdr.count, rate, site);
		f = finding_new("unbounded_growth", "warning", mp->addr, sum);
		finding_add_sites(f, mp->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "len_first_seen", json_object_new_uint64(from));
		json_object_object_add(e, "len", json_object_new_uint64(mp->hdr.count));
		json_object_object_add(e, "inserts", json_object_new_uint64(mp->inserts));
		json_object_object_add(e, "removals", json_object_new_uint64(mp->removals));
		json_object_object_add(e, "entries_per_s", json_object_new_double(rate));
		json_object_object_add(e, "bytes_per_s_estimate", json_object_new_double(bps));
		json_object_object_add(e, "last_new_high_s_before_end",
				       json_object_new_double((double)(c->end_ns - mp->peak_ns) / 1e9));
		finding_add_alive(f, mp);
		json_object_array_add(out, f);
	}
}
