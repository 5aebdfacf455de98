// SPDX-License-Identifier: MIT
/*
 * stalled_evacuation (bucket maps): growth moves old buckets only on later writes, so a map
 * that grew and is now only read keeps its old bucket array. Flag old buckets held without
 * progress for stall_s (or, in a shorter capture, for most of it).
 */
#include <stdio.h>
#include "detect.h"

void detect_stalled_evacuation(const struct detect_ctx *c, json_object *out)
{
	double need = c->o->stall_s;
	GHashTableIter it;
	gpointer v;

	if (c->m->layout->impl != IMPL_HMAP)
		return;
	if (c->duration_s > 0 && need > c->duration_s * 0.6)
		need = c->duration_s * 0.6;
	if (need < 1)
		need = 1;
	g_hash_table_iter_init(&it, c->m->maps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_map *mp = v;
		double held;
		char label[512], sum[2048];
		json_object *f, *e;

		if (!map_is_durable(mp) || mp->on_stack)
			continue;	/* ended, not shown alive, a stack copy, sync.Map internals */
		if (!mp->hdr.oldbuckets || !mp->evac_since_ns || c->end_ns < mp->evac_since_ns)
			continue;
		/* Seen stalled from the later of the capture's start and the last progress. */
		held = (double)(c->end_ns - (mp->evac_since_ns > c->start_ns ? mp->evac_since_ns :
									   c->start_ns)) / 1e9;
		if (held > c->duration_s)
			held = c->duration_s;
		if (held < need)
			continue;
		map_label(mp, label, sizeof(label));
		snprintf(sum, sizeof(sum),
			 "%s has been half-way through growing for %.1f s without progress: its old "
			 "bucket array (%.1f KiB) stays allocated until the map is written again; a "
			 "few writes, or copying the map, would free it",
			 label, held, (double)mp->old_bytes / 1024.0);
		f = finding_new("stalled_evacuation", "info", mp->addr, sum);
		finding_add_sites(f, mp->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "stalled_s", json_object_new_double(held));
		json_object_object_add(e, "old_bucket_bytes", json_object_new_uint64(mp->old_bytes));
		json_object_object_add(e, "nevacuate", json_object_new_uint64(mp->hdr.nevacuate));
		json_object_object_add(e, "B", json_object_new_int(mp->hdr.B));
		finding_add_alive(f, mp);
		json_object_array_add(out, f);
	}
}
