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
	"contention_pct=10 contention_ms=100 shrink_ratio=16 shrink_min_mib=1 stall_s=5 "
	"churn_rebuilds_per_s=1 churn_copied_per_s=10000";

int detect_set(struct detect_opts *o, const char *arg, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} names[] = {
#define T(n) { #n, offsetof(struct detect_opts, n) }
		T(growth_min), T(growth_base), T(growth_pct), T(growth_insert_ratio),
		T(contention_pct), T(contention_ms), T(shrink_ratio), T(shrink_min_mib),
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

json_object *detect_all(const struct detect_ctx *c)
{
	json_object *out = json_object_new_array();

	detect_concurrent_write(c, out);
	detect_lock_contention(c, out);
	detect_unbounded_growth(c, out);
	detect_no_shrink(c, out);
	detect_stalled_evacuation(c, out);
	detect_syncmap_churn(c, out);
	json_object_array_sort(out, by_severity);
	return out;
}
