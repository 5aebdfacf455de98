/* SPDX-License-Identifier: MIT */
/*
 * Prometheus text exposition (format 0.0.4) of what the daemon measures, from plain structs.
 * Pure: no I/O, no clock; the caller fills the structs from its model and serves the text.
 *
 * Per-map series are keyed by creation site and type, not by address: a site is stable
 * across restarts of the target and across the short-lived maps a site keeps making, so
 * maps with the same labels are summed into one series. At most max_maps such series per
 * target are written (largest first); the rest are summed into one series whose function
 * label is "_other" (no Go function has that name), so that a sum over a family is still the
 * target's total. Counters are the caller's to keep monotonic per series: a site that moves
 * in or out of the "_other" fold changes both series, like any counter reset.
 */
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define MX_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define MX_OTHER "_other"

enum mx_op { MX_OP_ASSIGN, MX_OP_DELETE, MX_OP_CLEAR, MX_OP__MAX };

/* Lock waits, in seconds: fixed upper bounds (1 us to 10 s), then +Inf. */
#define MX_LOCK_BUCKETS 8
extern const double mx_lock_bounds[MX_LOCK_BUCKETS];

struct mx_hist {
	uint64_t bucket[MX_LOCK_BUCKETS + 1];	/* per bucket, not cumulative; last: > 10 s */
	double sum;				/* seconds */
};

struct mx_map {
	const char *function, *file;	/* creation site; NULL if made before mapwatch saw it */
	int line;
	const char *type;		/* Go type, e.g. "map[string]int" */
	uint64_t entries, capacity, bytes, growths;
	uint64_t writes[MX_OP__MAX];
	uint64_t concurrent_writes;
};

/* A count by name: findings by kind, attach errors by reason. */
struct mx_count {
	const char *name;
	uint64_t n;
};

struct mx_target {
	int pid;
	const char *exe, *go_version;
	const struct mx_map *maps;
	size_t nmaps;
	struct mx_hist lock_wait;
	const struct mx_count *findings;	/* current findings, by kind */
	size_t nfindings;
	uint64_t probe_hits;
	double probe_cpu_seconds;	/* estimated CPU the probes cost the target */
	double attached_seconds;	/* time probes were attached (the budget's windows) */
	uint64_t lost_events;
};

struct mx_daemon {
	const struct mx_target *targets;
	size_t ntargets;
	const struct mx_count *attach_errors;	/* by reason */
	size_t nattach_errors;
	double scrape_duration_seconds;	/* collecting this scrape's numbers */
	size_t max_maps;		/* per target; 0: no limit */
};

void mx_hist_observe(struct mx_hist *h, double seconds);
/* Append the whole exposition, ending in a newline. */
void mx_render(GString *out, const struct mx_daemon *d);
/* A label value between double quotes: backslash, double quote and newline escaped. */
void mx_label_value(GString *out, const char *s);

#endif
