// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "detect.h"

json_object *finding_new(const char *kind, const char *severity, uint64_t map,
			 const char *summary)
{
	json_object *f = json_object_new_object();
	char id[32];

	snprintf(id, sizeof(id), "%#llx", (unsigned long long)map);
	json_object_object_add(f, "kind", json_object_new_string(kind));
	json_object_object_add(f, "severity", json_object_new_string(severity));
	json_object_object_add(f, "map", map ? json_object_new_string(id) : NULL);
	json_object_object_add(f, "sites", json_object_new_array());
	json_object_object_add(f, "summary", json_object_new_string(summary));
	json_object_object_add(f, "evidence", json_object_new_object());
	return f;
}

json_object *finding_evidence(json_object *f)
{
	json_object *e = NULL;

	json_object_object_get_ex(f, "evidence", &e);
	return e;
}

static json_object *site_obj(const struct frame_sym *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "function", json_object_new_string(s->function));
	json_object_object_add(o, "file", json_object_new_string(s->file));
	json_object_object_add(o, "line", json_object_new_int(s->line));
	return o;
}

void finding_add_site(json_object *f, const struct frame_sym *s)
{
	json_object *sites = NULL;

	json_object_object_get_ex(f, "sites", &sites);
	json_object_array_add(sites, site_obj(s));
}

/* The user's most frequent sites (the model sorts them by count), with their counts. */
void finding_add_sites(json_object *f, const GArray *sites, int max)
{
	json_object *a = NULL;

	json_object_object_get_ex(f, "sites", &a);
	for (guint i = 0; i < sites->len && (int)i < max; i++) {
		const struct mw_site *s = &g_array_index(sites, struct mw_site, i);
		json_object *o = site_obj(&s->sym);

		json_object_object_add(o, "op", json_object_new_string(op_name(s->op)));
		json_object_object_add(o, "count", json_object_new_uint64(s->count));
		json_object_array_add(a, o);
	}
}

void finding_add_alive(json_object *f, const struct mw_map *mp)
{
	json_object_object_add(finding_evidence(f), "alive_at_end",
			       json_object_new_string(mw_alive_name(mp->alive)));
}

void site_label(const struct frame_sym *s, char *buf, size_t len)
{
	const char *base = strrchr(s->file, '/');

	snprintf(buf, len, "%s (%s:%d)", s->function, base ? base + 1 : s->file, s->line);
}

void map_label(const struct mw_map *mp, char *buf, size_t len)
{
	char where[512];

	bool made = mp->created_seen || mp->created_carried;	/* here, or in an earlier epoch */

	if (made)
		site_label(&mp->created_at, where, sizeof(where));
	if (mp->type[0] && made)
		snprintf(buf, len, "%s made in %s", mp->type, where);
	else if (mp->type[0])
		snprintf(buf, len, "%s at %#llx", mp->type, (unsigned long long)mp->addr);
	else
		snprintf(buf, len, "map at %#llx", (unsigned long long)mp->addr);
}
