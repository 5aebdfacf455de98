/* SPDX-License-Identifier: MIT */
/*
 * The probe budget: how much CPU mapwatch's probes may cost the target, and which probes are
 * attached when so that they do.
 *
 * A uprobe hit costs the target microseconds (a trap into the kernel), a Go map write ~10 ns,
 * and the kernel cannot sample a uprobe: only a detached probe costs nothing. So each cost
 * class of probes (user/probes.h) is either kept attached, when its measured cost fits the
 * budget, or attached in windows: attach, observe, detach. The controller sizes the windows
 * from the measured cost of the classes in them and spaces them (about one a second) so that
 * what was spent never runs ahead of the budget by more than one window, from the first
 * second to the last.
 *
 * Pure: the caller tells it the time, the probe CPU it measured per class, and attaches
 * what it asks for. Times in seconds, costs in CPU seconds.
 */
#ifndef MW_BUDGET_H
#define MW_BUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include "probes.h"

#define BUDGET_DEFAULT_PCT 2.0	/* % of one CPU: 20 ms of probe CPU per second */
#define BUDGET_AIM 0.8	/* the controller spends at this part of the budget: a hit's price is
			 * calibrated on a tight loop, and map-heavy code felt about 1.25x
			 * it (tools/bench benchmark 3: 2.5% slower at 1.95% priced) */
#define BUDGET_PERIOD_S 1.0	/* aimed-for time from one window's start to the next */
#define BUDGET_MIN_WINDOW_S 0.02	/* shorter windows see little beyond their own start */
#define BUDGET_FIRST_WINDOW_S 0.01	/* classes of unknown cost are first measured this long */
#define BUDGET_MIN_GAP_S 0.15	/* the kernel closes a detached link in ~0.1 s */
#define BUDGET_TAIL_S 0.05	/* a window's tail, at its classes' rate, until one is measured */
#define BUDGET_WORK_MIN_LEFT 0.5	/* work fraction: the target's CPU in windows less the probes'
					 * price, at least this times that price (a calibration: a
					 * loop that traps all the time ran 16.5 us a write, priced
					 * at 11.9, and seemed to have 28% of its CPU left) */
#define BUDGET_WORK_MIN_CPU_S 0.05	/* ... and its CPU in all, less the probes' */
#define BUDGET_WORK_MIN_PACE 0.5	/* ... and its pace while recording, against outside */
#define BUDGET_PRICE_ERROR 0.3	/* how far off a hit's price may be (calibrated on another
				 * function: 16.5 us a write measured against 11.9 priced) */

struct budget_class {
	bool present;		/* the plan has probes of this class */
	bool windowed;		/* attached in windows; else kept attached */
	double rate;		/* probe CPU per second attached (moving average); < 0 unknown */
	double attached_s;	/* how long it was attached in all */
	double window_s;	/* of it, in windows (and their closing tails); the rest kept */
	double spent_s;		/* probe CPU it cost */
	uint64_t hits;
	unsigned windows;	/* windows it was attached in (0: attached throughout, or never) */
	double acc_s, acc_cost;	/* attached time and cost not yet folded into rate */
};

struct budget {
	double share;		/* of one CPU (0.02 = 2%); <= 0: off, everything always attached */
	double aim;		/* what the controller spends at: share, or a part of it
				 * (budget_aim) */
	double t0;		/* when the budget started */
	double spent_s;		/* probe CPU measured, every class */
	/*
	 * What may be spent now: earned at the budget's rate from the start, spent as measured,
	 * and capped at about one period's earnings so that unused budget is not spent in one
	 * burst.
	 */
	double level, level_t;
	struct budget_class cls[MW_CLASS__COUNT];
	int pinned;		/* sets never windowed (ATTACH_SET bits): the core class */
	int provisional;	/* pinned only until the budget is overspent (budget_pin_while) */
	int apart;		/* sets also windowed alone, every other window (the lock class:
				 * its waits must be measured with the map-write probes off) */
	int hot;		/* sets that stretch the apart classes' measurements (map writes):
				 * while an apart class sees activity, never kept attached, and
				 * detached at least half the time */
	/*
	 * alt sets count what the full sets record, cheaper (map writes tallied in BPF at entry
	 * against the writes' entry and RET probes): never attached with them and never kept
	 * attached; of the windows that could have both, every other one has the alt sets
	 * instead. None when the full sets are kept attached, or without a budget.
	 */
	int full, alt;
	unsigned alt_turn;
	bool open;		/* a window is open: open_sets attached */
	bool starting;		/* it opened at the last step: budget_attached not yet told */
	int open_sets;
	unsigned turn;		/* windows: everything, then the apart classes alone, ... */
	double open_at, close_at, next_open;
	unsigned windows;	/* windows opened */
	double windowed_s;	/* time the windowed classes were attached */
	/*
	 * A window's tail: after it is detached its probes trap on until the kernel has removed
	 * every breakpoint (it takes tens of ms to close a link). What that costs is measured.
	 */
	double tail_cost, tail_acc, closed_at;
	/*
	 * What the open window may cost (its estimate, or what the bucket holds for a first look)
	 * and the spend when it opened: a window whose classes cost more than measured before is
	 * closed as soon as it has spent that.
	 */
	double open_cost, spent_at_open;
};

/* present, pinned, apart and hot: ATTACH_SET(class) bit masks. share <= 0: no budget. */
void budget_init(struct budget *b, double share, double t0, int present, int pinned, int apart,
		 int hot);
/*
 * The controller spends at a part of the budget (BUDGET_AIM for a capture: the price of a hit
 * is an estimate, and the budget is what the target may feel). Default: all of it.
 */
void budget_aim(struct budget *b, double part);
/*
 * Keep SETS attached from the start, whatever their first measurements say, until what they
 * cost by themselves goes past most of what the budget allows by then: then they are windowed
 * like any other class. For what cannot be seen again: a program that has just started makes its
 * long-lived maps now, while its start-up (thousands of writes to the runtime's own tables)
 * makes every class look dear, and a creation missed names nothing later.
 */
void budget_pin_while(struct budget *b, int sets);
/* The alt sets and the full sets they stand in for (struct budget's full, alt). */
void budget_alternate(struct budget *b, int full, int alt);
/*
 * What was measured for one class over an interval: how long it was attached in it, its hits
 * and the probe CPU they cost.
 */
void budget_account(struct budget *b, int cls, double attached_s, uint64_t hits, double cost_s);
/*
 * The sets to have attached at time now (ATTACH_SET bits). *next is when to ask again at the
 * latest. closing: detached links still being closed by the kernel (no window opens before).
 */
int budget_step(struct budget *b, double now, bool closing, double *next);
/*
 * The window budget_step opened is attached now (attaching takes milliseconds): it runs its
 * length from here. Called after every step; only the first call after a window opened
 * counts.
 */
void budget_attached(struct budget *b, double now);
/*
 * Before the budget's first step (the lock baseline: classes attached whatever they cost), has
 * the spend gone past what the budget allows by now (its rate since t0, plus half a period's
 * allowance)? Then the baseline must end: the controller windows what costs too much.
 */
bool budget_overspent(const struct budget *b, double now);
/* The share of the capture the windowed classes were attached, so far (1 if none is). */
double budget_observed(const struct budget *b, double now);
/*
 * What windows saw of the program's work. Probes slow a busy program while attached (a write
 * that costs 10 ns traps for microseconds), so a window's share of the time overstates its
 * share of the work done: counts scaled by time come out low, by 35x on a message broker.
 * The target's own CPU clock, while a class was attached and while it was not, less what the
 * probes cost it meanwhile, is the work each part did.
 */
struct budget_work {
	bool known;		/* the target's CPU clock was read */
	double in_cpu, in_cost, in_s;	/* class recording: target CPU, probe CPU, time */
	double tail_cpu, tail_cost, tail_s;	/* switched off, its links still being closed:
					 * it traps on, but records nothing */
	double out_cpu, out_cost, out_s;	/* ... detached */
};
/*
 * The share of the program's work done while the class recorded; -1 when the time is the
 * measure (the CPU unread or next to none, or the program did as much work a second while
 * recording as outside: the traps took its idle time); 0 when the probes took almost all of
 * its CPU while recording (what is left is within the error of their price), or slowed it to
 * under half its pace (unevenly: a lock they stretch holds some paths up far more), and no
 * count seen then can be scaled.
 */
double budget_work_fraction(const struct budget_work *w);
/* Parse "2%", "2", "0.5%" or "off" into a share of one CPU (0 for off). 0, or -1. */
int budget_parse(const char *s, double *share);

#endif
