// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

void detect_defaults(struct detect_opts *o)
{
	*o = (struct detect_opts){
		.growth_min = 10000, .growth_base = 1000, .growth_pct = 50,
		.growth_insert_ratio = 10, .contention_pct = 10, .contention_ms = 100,
		.contention_map_pct = 50,
		.shrink_ratio = 16, .shrink_min_mib = 1, .stall_s = 5,
		.churn_rebuilds_per_s = 1, .churn_copied_per_s = 10000,
	};
}

double detect_recent_s(double duration_s)
{
	return duration_s * 0.25 > 1.5 ? duration_s * 0.25 : 1.5;
}

const char detect_threshold_help[] =
	"growth_min=10000 growth_base=1000 growth_pct=50 growth_insert_ratio=10 "
	"contention_pct=10 contention_ms=100 contention_map_pct=50 shrink_ratio=16 shrink_min_mib=1 stall_s=5 "
	"churn_rebuilds_per_s=1 churn_copied_per_s=10000";

int detect_set(struct detect_opts *o, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
#define T(n) { #n, offsetof(struct detect_opts, n) }
		T(growth_min), T(growth_base), T(growth_pct), T(growth_insert_ratio),
		T(contention_pct), T(contention_ms), T(contention_map_pct), T(shrink_ratio), T(shrink_min_mib),
		T(stall_s), T(churn_rebuilds_per_s), T(churn_copied_per_s),
#undef T
	};
	const char *eq = strchr(arg, '=');
	char *end;
	double v;

	if (!eq) {
		snprintf(err, errlen, "--threshold wants NAME=VALUE, got '%s'", arg);
		return -1;
	}
	errno = 0;
	v = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || *end || !(v >= 0) || v > 1e15) {
		snprintf(err, errlen, "--threshold %s: not a finite number >= 0", arg);
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == (size_t)(eq - arg) &&
		    !strncmp(names[i].name, arg, (size_t)(eq - arg))) {
			*(double *)((char *)o + names[i].off) = v;
			return 0;
		}
	}
	snprintf(err, errlen, "--threshold: unknown name in '%s' (known: %s)", arg,
		 detect_threshold_help);
	return -1;
}

static int rank(json_object *f)
{
	json_object *s = NULL;
	const char *v;

	json_object_object_get_ex(f, "severity", &s);
	v = json_object_get_string(s);
	return !strcmp(v, "critical") ? 0 : !strcmp(v, "warning") ? 1 : 2;
}

static int by_severity(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;

	return rank(x) - rank(y);
}

double detect_observed(const struct detect_ctx *c, int cls)
{
	double f = cls >= 0 && cls < MW_CLASS__COUNT ? c->observed[cls] : 0;

	return f > 0 && f < 1 ? f : 1;
}

/* What a kind of finding stands on, in words: the reader judges a sampled finding by it. */
static const char *rests_on(const char *kind)
{
	static const struct {
		const char *kind, *what;
	} k[] = {
		{ "concurrent_write", "two writes to the map in flight at once, from two "
				      "goroutines, seen by the write probes" },
		{ "lock_contention", "lock waits measured while the map-write probes were "
				     "detached" },
		{ "unbounded_growth", "the map's header, re-read every second; the inserts seen "
				      "by the write probes" },
		{ "no_shrink", "the map's header and tables, re-read from the target" },
		{ "stalled_evacuation", "the map's growth state, re-read every second" },
		{ "syncmap_churn", "dirty-map rebuilds counted by the sync.Map probes" },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(k[i].kind, kind))
			return k[i].what;
	return "?";
}

/* Each finding says what its evidence rests on, and how much of the capture was watched. */
static void add_basis(const struct detect_ctx *c, json_object *out)
{
	for (size_t i = 0; i < json_object_array_length(out); i++) {
		json_object *f = json_object_array_get_idx(out, i), *kind = NULL, *e;

		json_object_object_get_ex(f, "kind", &kind);
		e = finding_evidence(f);
		json_object_object_add(e, "rests_on",
				       json_object_new_string(rests_on(json_object_get_string(kind))));
		json_object_object_add(e, "writes_observed_fraction",
				       json_object_new_double(detect_observed(c, MW_CLASS_WRITE)));
	}
}

json_object *detect_all(const struct detect_ctx *c)
{
	json_object *out = json_object_new_array();

	detect_concurrent_write(c, out);
	detect_lock_contention(c, out);
	detect_unbounded_growth(c, out);
	detect_no_shrink(c, out);
	detect_stalled_evacuation(c, out);
	detect_syncmap_churn(c, out);
	add_basis(c, out);
	json_object_array_sort(out, by_severity);
	return out;
}
