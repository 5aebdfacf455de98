/* SPDX-License-Identifier: MIT */
/*
 * Detectors: pure functions from the model to findings (JSON objects of the report's
 * "findings" array). One file per kind; thresholds are options (--threshold NAME=VALUE).
 */
#ifndef MW_DETECT_H
#define MW_DETECT_H

#include <json-c/json.h>
#include "model.h"

struct detect_opts {
	double growth_min;		/* live count rose by at least this many entries */
	double growth_base;		/*   or, from at least this many, */
	double growth_pct;		/*   by this many percent */
	double growth_insert_ratio;	/* inserts >= this x deletes */
	double contention_pct;		/* summed waits >= this % of the capture */
	double contention_ms;		/*   or >= this many ms */
	double contention_map_pct;	/* waits seen with map writes watched that came
					 * before a write of the map: >= this % */
	double shrink_ratio;		/* capacity >= this x live count */
	double shrink_min_mib;		/*   and table memory >= this many MiB */
	double stall_s;			/* old buckets held without progress this long */
	double churn_rebuilds_per_s;	/* sync.Map dirty-map rebuilds per second */
	double churn_copied_per_s;	/*   or entries copied per second */
};

struct detect_ctx {
	const struct mw_model *m;
	const struct detect_opts *o;
	double duration_s;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at the start of the capture */
	uint64_t end_ns;		/* CLOCK_MONOTONIC at the end (before detaching) */
	/*
	 * The share of the capture each class of probes was attached (user/probes.h): under a
	 * budget, hot probes run in windows and what they count is a sample. 0 (unset): 1.
	 */
	double observed[MW_CLASS__COUNT];
};

/* The share of the capture a class of probes was attached (1 if every call was seen). */
double detect_observed(const struct detect_ctx *c, int cls);

/* The last part of the capture in which growth must still be seen to be "unbounded". */
double detect_recent_s(double duration_s);

void detect_defaults(struct detect_opts *o);
/* "name=value"; 0, or -1 with a message. */
int detect_set(struct detect_opts *o, const char *arg, char *err, size_t errlen);
/* Names and meanings of the thresholds, for --help and the README. */
extern const char detect_threshold_help[];

/* Every finding, most severe first. */
json_object *detect_all(const struct detect_ctx *c);

/* One file each. */
void detect_concurrent_write(const struct detect_ctx *c, json_object *out);
void detect_lock_contention(const struct detect_ctx *c, json_object *out);
void detect_unbounded_growth(const struct detect_ctx *c, json_object *out);
void detect_no_shrink(const struct detect_ctx *c, json_object *out);
void detect_stalled_evacuation(const struct detect_ctx *c, json_object *out);
void detect_syncmap_churn(const struct detect_ctx *c, json_object *out);

/* Helpers shared by the detectors (finding.c). */
json_object *finding_new(const char *kind, const char *severity, uint64_t map,
			 const char *summary);
void finding_add_sites(json_object *f, const GArray *sites, int max);	/* struct mw_site */
/* The evidence that the map is alive at the end, in words, into the finding's evidence. */
void finding_add_alive(json_object *f, const struct mw_map *mp);
void finding_add_site(json_object *f, const struct frame_sym *s);
json_object *finding_evidence(json_object *f);
/* "map[string]int (created at main.f main.go:12)" or "map 0xc000... of unknown type" */
void map_label(const struct mw_map *mp, char *buf, size_t len);
/* "main.f (main.go:12)" with the file's base name */
void site_label(const struct frame_sym *s, char *buf, size_t len);

#endif
