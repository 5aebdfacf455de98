/* SPDX-License-Identifier: MIT */
/*
 * One process watched under a budget, from the first probe to the report: the machinery
 * that `capture` runs once and the daemon runs for every target, epoch after epoch.
 *
 * A session owns its model and its budget; it borrows the target, the probe plan and the
 * attach (whose records the caller routes to session->model). It never polls: the caller's
 * event loop reads the ring buffer and calls session_step() when session_wake() says.
 */
#ifndef MW_SESSION_H
#define MW_SESSION_H

#include <json-c/json.h>
#include <stdbool.h>
#include "attach.h"
#include "budget.h"
#include "detect/detect.h"
#include "model.h"
#include "mono.h"
#include "probeplan.h"
#include "report.h"
#include "target.h"

/*
 * The sets that stretch the critical sections lock waits are measured in (map writes); the
 * one among them that records which map a goroutine writes after a wait.
 */
#define SESSION_HOT_SETS (ATTACH_WRITES | ATTACH_SYNCOPS | ATTACH_TALLY)
#define SESSION_RECORD_SETS ATTACH_WRITES
/* The sets that see map writes: recording them, or counting them in BPF. */
#define SESSION_WRITE_SETS (ATTACH_WRITES | ATTACH_TALLY)
/* BPF's table of tallies is read (and emptied) this often, s */
#define SESSION_DRAIN_S 0.1

struct session {
	struct attach *at;
	const struct target *t;
	const struct probe_plan *plan;
	struct mw_model model;
	struct budget b;
	struct capture_meta meta;	/* filled as the session goes, completed by _finish */
	int present;			/* ATTACH_* sets the plan has probes for */
	int sets;			/* ATTACH_* attached now */
	int closing;			/* detached, the kernel still closing them: still trapping */
	int keep;			/* sets session_stop leaves attached (for the next session) */
	bool hot_closing;		/* hot map probes detached, the kernel still closing them */
	bool rec_closing;		/* ... the recording ones (SESSION_RECORD_SETS) */
	double next_drain;		/* when BPF's tallies are next read */
	bool maps;			/* past the lock baseline: the budget decides */
	double t0, maps_at;		/* started; the map probes' turn (end of the baseline) */
	double last_tick, next_refresh, next_step;
	uint64_t hits[MW_MAX_FN * 2];	/* as last read */
	uint64_t cpu_ns;		/* the target's CPU clock at the last tick */
	bool cpu_ok;			/* ... read */
	uint64_t hits0[MW_MAX_FN * 2];	/* at the start (a slot's counters outlive a session) */
	struct handler_time ht;		/* as last read */
	double trap_entry[PROBE__COUNT];	/* seconds a hit, by what the entry probe is on */
	double trap_tally[PROBE__COUNT];	/* ... the tally probe */
	double trap_ret;
	double attach_s_sum, attach_s_max;
	unsigned attaches;
	bool ready;			/* the map-write probes have been attached once */
	const char *failed;		/* an attach failed mid-session: why */
	int fail_rc;
	uint64_t end_ns;
};

/*
 * Start watching t: configure it in BPF, attach the core and lock probes, and measure lock
 * waits alone for baseline_s before the budget (share of one CPU, 0: off) takes over. cost:
 * the host's calibrated trap prices. pin: sets kept attached while the budget affords them
 * (budget_pin_while), e.g. the creation probes of a program that has just started. MW_EXIT_*
 * status; one line in err.
 */
int session_start(struct session *s, struct attach *at, const struct target *t,
		  const struct probe_plan *plan, double share, struct hit_cost cost,
		  double baseline_s, int pin, char *err, size_t errlen);
/* When session_step() next has something to do (monotonic s). */
double session_wake(const struct session *s);
/*
 * Everything due at now: the budget's windows, re-reads of the target's maps, BPF's list of
 * deep callers. NULL, or why the session cannot go on ("target exited", "attach failed").
 */
const char *session_step(struct session *s, double now);
/*
 * The session ends now: detach everything (saying "detaching" after wait_s if the kernel is
 * slow; wait_s < 0: do not wait), re-read every map, finish the model and fill meta. Records
 * the caller still reads from the ring buffer after this are not counted.
 */
void session_stop(struct session *s, const char *end_reason, double wait_s);
/* The findings and the report of a stopped session (json_object_put it). */
json_object *session_report(struct session *s, const struct detect_opts *thresholds,
			    json_object **findings);
void session_free(struct session *s);

#endif
