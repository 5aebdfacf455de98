// SPDX-License-Identifier: MIT
/*
 * syncmap_churn (Go <= 1.23 sync.Map): a write-heavy sync.Map promotes its dirty map and
 * then rebuilds it, copying every entry, again and again. Flag churn_rebuilds_per_s rebuilds
 * or churn_copied_per_s entries copied per second of capture.
 */
#include <stdio.h>
#include "detect.h"

void detect_syncmap_churn(const struct detect_ctx *c, json_object *out)
{
	/* rebuilds are counted while the rebuild probe is attached: rates over that time */
	double seen = detect_observed(c, MW_CLASS_MAKE);
	double d = c->duration_s > 0 ? c->duration_s * seen : 1;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, c->m->syncmaps);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct mw_syncmap *sm = v;
		double rps = (double)sm->rebuilds / d, cps = (double)sm->copied / d;
		char site[512], sum[2048];
		json_object *f, *e;

		if (rps < c->o->churn_rebuilds_per_s && cps < c->o->churn_copied_per_s)
			continue;
		site_label(&g_array_index(sm->sites, struct mw_site, 0).sym, site, sizeof(site));
		if (seen < 1)
			snprintf(sum, sizeof(sum),
				 "sync.Map at %#llx rebuilt its dirty map %llu times, copying %llu "
				 "entries, in the %.1f s it was watched (about %.1f rebuilds/s), driven "
				 "by stores in %s: sync.Map suits keys written once and read many "
				 "times; for write-heavy use a plain map with a mutex (or sharded maps)",
				 (unsigned long long)sm->addr, (unsigned long long)sm->rebuilds,
				 (unsigned long long)sm->copied, d, rps, site);
		else
			snprintf(sum, sizeof(sum),
				 "sync.Map at %#llx rebuilt its dirty map %llu times (%.1f/s), copying "
				 "%llu entries, driven by stores in %s: sync.Map suits keys written "
				 "once and read many times; for write-heavy use a plain map with a "
				 "mutex (or sharded maps)",
				 (unsigned long long)sm->addr, (unsigned long long)sm->rebuilds, rps,
				 (unsigned long long)sm->copied, site);
		f = finding_new("syncmap_churn", "warning", sm->addr, sum);
		finding_add_sites(f, sm->sites, 3);
		e = finding_evidence(f);
		json_object_object_add(e, "rebuilds", json_object_new_uint64(sm->rebuilds));
		json_object_object_add(e, "entries_copied", json_object_new_uint64(sm->copied));
		json_object_object_add(e, "rebuilds_per_s", json_object_new_double(rps));
		json_object_object_add(e, "entries_copied_per_s", json_object_new_double(cps));
		/* counted in windows: the counts are a sample, the rates estimates */
		json_object_object_add(e, "rebuilds_observed_fraction", json_object_new_double(seen));
		json_object_array_add(out, f);
	}
}
