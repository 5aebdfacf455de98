/* SPDX-License-Identifier: MIT */
/* The capture report: a JSON document (schema mapwatch.capture/v1) and its text rendering. */
#ifndef MW_REPORT_H
#define MW_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>
#include "model.h"
#include "budget.h"
#include "probeplan.h"

#define REPORT_SCHEMA "mapwatch.capture/v1"

struct capture_meta {
	pid_t pid;
	const char *exe;
	const char *go_version;
	const char *map_impl;
	bool stripped, pie;
	const char *offsets;		/* "catalogue" or "dwarf" */
	const char *validation;		/* "heap" (span metadata) or "structure" */
	double lock_baseline_s;		/* lock waits measured without map probes, 0 none */
	double lock_baseline_planned_s;	/* ... as asked for */
	bool lock_baseline_cut;		/* ended early: the lock probes cost more than the budget */
	uint64_t stats[MW_STAT__MAX];	/* BPF's counters */
	struct timespec started;	/* CLOCK_REALTIME */
	double duration_s;
	const char *end_reason;		/* "duration", "signal", "target exited" */
	uint64_t events_total, events_lost;
	uint64_t probe_hits;
	/* the price of a hit: the trap, by instruction kind, and our programs' own run time */
	bool trap_measured;		/* calibrated on this host (else a typical figure) */
	double trap_emulated_s, trap_stepped_s;
	double handler_entry_s, handler_ret_s;	/* as the kernel timed them; < 0 unknown */
	const struct budget *budget;	/* what was attached when, and what it cost */
	const struct probe_plan *plan;	/* the probe points, with their hits: */
	uint64_t fn_hits[MW_MAX_FN * 2];	/* [id * 2] entry, [id * 2 + 1] RET */
	double probes_off_s;		/* time with the hot map probes detached */
	int uprobes;
	bool multi;			/* uprobe_multi links */
	double attach_s, attach_max_s;	/* attaching a set of probes: mean, longest */
	double detach_s;		/* detaching everything at the end */
	struct budget_work work;	/* the target's CPU with the map-write probes on and off */
};

/*
 * The share of the capture (after the lock baseline) a class of probes was attached: 1, all
 * of it; less, what it counted are samples.
 */
double report_observed_fraction(const struct capture_meta *meta, int cls);
/*
 * What a class's counts are scaled by into estimated totals: for the map-write classes, the
 * share of the program's work done while they were attached (budget_work_fraction), else of
 * the time; 0 when nothing can be scaled (the probes took almost all the program's CPU while
 * attached: it did next to nothing else); 1 when every call was seen.
 */
double report_estimate_fraction(const struct capture_meta *meta, int cls);
/* Pure: the report document for a model; takes findings. Caller puts it (json_object_put). */
json_object *report_build(const struct mw_model *m, const struct capture_meta *meta,
			  json_object *findings);
/* Folded stacks of map writes and lock waits (flamegraph.pl, speedscope). 0 or -1. */
int report_write_folded(const struct mw_model *m, const char *path, char *err, size_t errlen);
/* Graphviz: sites -> maps <- mutexes, with counts. 0 or -1. */
int report_write_dot(const struct mw_model *m, const char *path, char *err, size_t errlen);
/* Write s to path through a temp file and rename. 0 or -1. */
int write_atomic(const char *path, const char *s, size_t len, char *err, size_t errlen);
/* Write atomically (temp file + rename). 0 or -1 with a message. */
int report_write_json(json_object *doc, const char *path, char *err, size_t errlen);
/*
 * Render a report document as text: one built here, one read back, or any JSON at all (what
 * does not have the expected type is shown as unknown).
 */
void report_print_text(json_object *doc, FILE *out);

/* report_read(): the file could not be read; it is not a well-formed mapwatch capture. */
enum { REPORT_ERR_IO = -1, REPORT_ERR_MALFORMED = -2 };
/* Read a saved report into *doc (caller puts it). 0, or REPORT_ERR_* with one line in err. */
int report_read(const char *path, json_object **doc, char *err, size_t errlen);
/* Pure: the report in buf (name for messages), or NULL with one line in err. */
json_object *report_parse(const char *buf, size_t len, const char *name, char *err,
			  size_t errlen);
/* Pure: does doc have the schema, and every member the type the text view expects? 0 or -1. */
int report_check(json_object *doc, char *err, size_t errlen);

#endif
