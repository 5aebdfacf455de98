// SPDX-License-Identifier: MIT
/*
 * no_shrink: Go maps never give memory back after deletes. Flag a map whose capacity is at
 * least shrink_ratio times its live count and whose tables hold at least shrink_min_mib.
 */
#include <stdio.h>
#include "detect.h"

void detect_no_shrink(const struct detect_ctx *c, json_object *out)
{
	const struct detect_opts *o = c->o;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, c->m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_map *mp = v;
		uint64_t len = mp->hdr.count, cap = mp->capacity;
		double wasted;
		char label[512], sum[2048];
		json_object *f, *e;

		if (!map_is_durable(mp))
			continue;	/* ended, never written, not shown alive, sync.Map internals */
		if (!cap || !mp->bytes || (double)cap < o->shrink_ratio * (double)(len ? len : 1) ||
		    (double)mp->bytes < o->shrink_min_mib * 1048576.0)
			continue;
		wasted = (double)mp->bytes * (1.0 - (double)len / (double)cap);
		map_label(mp, label, sizeof(label));
		snprintf(sum, sizeof(sum),
			 "%s holds %llu entries in room for %llu (%.1f MiB, %.1f MiB unused%s): Go "
			 "maps never shrink; copy the live entries into a fresh map (and drop the "
			 "old one) after large deletions",
			 label, (unsigned long long)len, (unsigned long long)cap,
			 (double)mp->bytes / 1048576.0, wasted / 1048576.0,
			 mp->peak_len > len ? ", once full" : "");
		f = finding_new("no_shrink", "warning", mp->addr, sum);
		finding_add_sites(f, mp->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "len", json_object_new_uint64(len));
		json_object_object_add(e, "peak_len", json_object_new_uint64(mp->peak_len));
		json_object_object_add(e, "capacity", json_object_new_uint64(cap));
		json_object_object_add(e, "bytes", json_object_new_uint64(mp->bytes));
		json_object_object_add(e, "bytes_wasted_estimate",
				       json_object_new_uint64(wasted <= 0 ? 0 :
							      wasted >= 1.8e19 ? UINT64_MAX :
									       (uint64_t)wasted));
		finding_add_alive(f, mp);
		json_object_array_add(out, f);
	}
}
