// SPDX-License-Identifier: MIT
/*
 * The budget controller on simulated programs: given what each class of probes costs while
 * attached, the windows it schedules keep the spend within the budget and cover the capture.
 */
#include <math.h>
#include "check.h"
#include "budget.h"

#define ALL ((1 << MW_CLASS__COUNT) - 1)
#define PINNED (1 << MW_CLASS_CORE)
#define HOT ((1 << MW_CLASS_WRITE) | (1 << MW_CLASS_SYNCOP))
#define DT 0.005

struct sim {
	double rate[MW_CLASS__COUNT];	/* true probe CPU per second attached */
	double tail;			/* detached probes trap on this long (the kernel's close) */
	int pin;			/* budget_pin_while these sets */
	bool alt;			/* the tally alternates with the write class */
	double aim;			/* budget_aim's part; 0: none (all of the budget) */
	unsigned both;			/* steps with the write and the tally class attached */
	unsigned tally_opens;		/* tally windows */
	double attached_s[MW_CLASS__COUNT];
	double first_open, last_open, max_gap;	/* of the write class's windows */
	double lock_alone_s, max_lock_alone_s;	/* windowed lock class on without writes */
	unsigned opens;
};

/* Run a capture of T seconds; rate_after, if set, replaces the rates at T/2. */
static void simulate(struct budget *b, struct sim *s, double share, double T,
		     const double *rate_after)
{
	double now = 0, next = 0, closing_until = 0;
	int sets = 0, closing = 0;
	bool was_open = false;

	budget_init(b, share, 0, ALL, PINNED, 1 << MW_CLASS_LOCK, HOT);
	if (s->aim > 0)
		budget_aim(b, s->aim);
	budget_pin_while(b, s->pin);
	if (s->alt)
		budget_alternate(b, 1 << MW_CLASS_WRITE, 1 << MW_CLASS_TALLY);
	s->first_open = s->last_open = -1;
	s->max_gap = 0;
	s->opens = 0;
	for (; now < T; now += DT) {
		bool w;

		if (rate_after && now >= T / 2)
			memcpy(s->rate, rate_after, sizeof(s->rate));
		if (now >= closing_until)
			closing = 0;
		for (int c = 0; c < MW_CLASS__COUNT; c++) {
			bool on = (sets | closing) & (1 << c);

			budget_account(b, c, on ? DT : 0,
				       on ? (uint64_t)(s->rate[c] * DT * 1e5) : 0,
				       on ? s->rate[c] * DT : 0);
			s->attached_s[c] += on ? DT : 0;
		}
		if (now + 1e-9 < next)
			continue;
		{
			int want = budget_step(b, now, closing != 0, &next);

			if (sets & ~want) {
				closing |= sets & ~want;
				closing_until = now + s->tail;
			}
			if (want & ~sets & (1 << MW_CLASS_TALLY))
				s->tally_opens++;
			sets = want;
			/* as the session does after every step: attaching took a millisecond */
			budget_attached(b, now + 0.001);
		}
		if ((sets & (1 << MW_CLASS_WRITE)) && (sets & (1 << MW_CLASS_TALLY)))
			s->both++;
		if ((sets & (1 << MW_CLASS_LOCK)) && !(sets & (1 << MW_CLASS_WRITE)) &&
		    b->cls[MW_CLASS_LOCK].windowed)
			s->max_lock_alone_s = fmax(s->max_lock_alone_s, s->lock_alone_s += DT);
		else
			s->lock_alone_s = 0;
		w = sets & (1 << MW_CLASS_WRITE);
		if (w && !was_open) {
			if (s->first_open < 0)
				s->first_open = now;
			else
				s->max_gap = fmax(s->max_gap, now - s->last_open);
			s->last_open = now;
			s->opens++;
		}
		was_open = w;
	}
}

/*
 * A busy program: map writes cost a fifth of a CPU while probed, the rest little; detached
 * probes trap on for 50 ms.
 */
static void busy_writes_stay_within_budget(void)
{
	struct sim s = { .rate = { [MW_CLASS_CORE] = 0, [MW_CLASS_LOCK] = 0.001,
				   [MW_CLASS_MAKE] = 0.002, [MW_CLASS_WRITE] = 0.2,
				   [MW_CLASS_SYNCOP] = 0.05 }, .tail = 0.05 };
	struct budget b;
	const double T = 30;

	simulate(&b, &s, 0.02, T, NULL);
	EXPECT_MSG(b.spent_s <= 0.02 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.02 * T);
	EXPECT_MSG(b.spent_s >= 0.02 * T * 0.6, "spent only %.3f s of %.3f", b.spent_s, 0.02 * T);
	/* cheap classes stay attached; the write class runs in windows spread over the capture */
	EXPECT(!b.cls[MW_CLASS_LOCK].windowed && !b.cls[MW_CLASS_MAKE].windowed);
	EXPECT(s.attached_s[MW_CLASS_LOCK] >= T - 0.5);
	EXPECT(b.cls[MW_CLASS_WRITE].windowed);
	/* time in windows (tails included) against time kept attached */
	EXPECT_MSG(b.cls[MW_CLASS_LOCK].window_s < 0.5, "%.3f s", b.cls[MW_CLASS_LOCK].window_s);
	EXPECT_MSG(fabs(b.cls[MW_CLASS_WRITE].window_s - b.cls[MW_CLASS_WRITE].attached_s) < 1e-6,
		   "%.3f of %.3f s", b.cls[MW_CLASS_WRITE].window_s,
		   b.cls[MW_CLASS_WRITE].attached_s);
	EXPECT_MSG(s.first_open >= 0 && s.first_open < 0.2, "first window at %.2f s", s.first_open);
	EXPECT_MSG(s.last_open > T - 2.5, "last window at %.2f s", s.last_open);
	EXPECT_MSG(s.max_gap <= 2.5, "windows %.2f s apart", s.max_gap);
	EXPECT_MSG(s.opens >= T / 2.5, "%u windows", s.opens);
	EXPECT(budget_observed(&b, T) > 0.02 && budget_observed(&b, T) < 0.1);
}

/*
 * A capture aims at 80% of its budget (BUDGET_AIM): the same busy program spends about that
 * part, no more, and its windows still cover the capture.
 */
static void aim_spends_that_part(void)
{
	struct sim s = { .rate = { [MW_CLASS_LOCK] = 0.001, [MW_CLASS_MAKE] = 0.002,
				   [MW_CLASS_WRITE] = 0.2 }, .tail = 0.05, .aim = BUDGET_AIM };
	struct sim all = s;
	struct budget b;
	const double T = 30, part = BUDGET_AIM;

	all.aim = 0;
	simulate(&b, &all, 0.02, T, NULL);
	simulate(&b, &s, 0.02, T, NULL);
	EXPECT_MSG(b.spent_s <= 0.02 * part * T * 1.2, "spent %.3f s of %.3f aimed at", b.spent_s,
		   0.02 * part * T);
	EXPECT_MSG(b.spent_s >= 0.02 * part * T * 0.6, "spent only %.3f s", b.spent_s);
	EXPECT_MSG(s.attached_s[MW_CLASS_WRITE] < all.attached_s[MW_CLASS_WRITE] * 0.95,
		   "writes attached %.2f s, %.2f s at the whole budget", s.attached_s[MW_CLASS_WRITE],
		   all.attached_s[MW_CLASS_WRITE]);
	EXPECT_MSG(s.last_open > T - 3, "last window at %.2f s", s.last_open);
}

/*
 * A tight map-writing loop: probed, it spends all its time in traps, and a detached window
 * traps on for 0.1 s. A window at least as long as its tail costs over 0.2 s of CPU: at 2%
 * that is one every 10 s or more, and the spend still stays within the budget.
 */
static void saturated_loop_gets_rare_windows(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 1.0 }, .tail = 0.1 };
	struct budget b;
	const double T = 60;

	simulate(&b, &s, 0.02, T, NULL);
	EXPECT_MSG(b.spent_s <= 0.02 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.02 * T);
	EXPECT_MSG(b.spent_s >= 0.02 * T * 0.6, "spent only %.3f s of %.3f", b.spent_s, 0.02 * T);
	EXPECT_MSG(s.opens >= 4 && s.max_gap <= 16, "%u windows, %.1f s apart at most", s.opens,
		   s.max_gap);
	EXPECT_MSG(b.tail_cost > 0.08 && b.tail_cost < 0.15, "tail %.3f s", b.tail_cost);
}

/* A quiet program: everything fits, nothing is windowed after the first look. */
static void quiet_program_keeps_everything_attached(void)
{
	struct sim s = { .rate = { [MW_CLASS_LOCK] = 0.0005, [MW_CLASS_MAKE] = 0.0005,
				   [MW_CLASS_WRITE] = 0.004, [MW_CLASS_SYNCOP] = 0.0001 },
			 .tail = 0.1 };
	struct budget b;
	const double T = 10;

	simulate(&b, &s, 0.02, T, NULL);
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		EXPECT(!b.cls[c].windowed);
		EXPECT_MSG(s.attached_s[c] >= T - 0.5, "class %d attached %.2f s", c,
			   s.attached_s[c]);
	}
	EXPECT(b.spent_s <= 0.02 * T);
}

/*
 * The program gets busy halfway: the classes that no longer fit go into windows (what they
 * cost until that was seen is paid back before the next window).
 */
static void load_change_moves_classes_into_windows(void)
{
	struct sim s = { .rate = { [MW_CLASS_LOCK] = 0.0005, [MW_CLASS_MAKE] = 0.0005,
				   [MW_CLASS_WRITE] = 0.002 }, .tail = 0.05 };
	const double busy[MW_CLASS__COUNT] = { [MW_CLASS_LOCK] = 0.0005, [MW_CLASS_MAKE] = 0.3,
					       [MW_CLASS_WRITE] = 1.5 };
	struct budget b;
	const double T = 40;

	simulate(&b, &s, 0.01, T, busy);
	EXPECT(b.cls[MW_CLASS_WRITE].windowed && b.cls[MW_CLASS_MAKE].windowed);
	EXPECT(!b.cls[MW_CLASS_LOCK].windowed);
	EXPECT_MSG(b.spent_s <= 0.01 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.01 * T);
	/* a window costs 0.05 s x 2 x 1.8 CPU: 1% pays for one every 18 s */
	EXPECT_MSG(s.last_open > T / 2, "last window at %.2f s", s.last_open);
}

/*
 * A windowed class that becomes ten times dearer: the window that meets it closes as soon as
 * it has spent what was planned, and the spend stays within the budget.
 */
static void dearer_window_closes_early(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 0.05 }, .tail = 0.02 };
	const double busy[MW_CLASS__COUNT] = { [MW_CLASS_WRITE] = 2.0 };
	struct budget b;
	const double T = 8;

	simulate(&b, &s, 0.02, T, busy);
	EXPECT_MSG(b.spent_s <= 0.02 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.02 * T);
	EXPECT(s.last_open > T / 2);
}

/* More than the budget can pay for even in the shortest windows: they are spaced out. */
static void costly_windows_are_spaced_out(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 2.0 }, .tail = 0.05 };
	struct budget b;
	const double T = 200;

	simulate(&b, &s, 0.005, T, NULL);
	EXPECT_MSG(b.spent_s <= 0.005 * T * 1.2 + 2.0 * (BUDGET_FIRST_WINDOW_S + 0.05),
		   "spent %.3f s of %.3f", b.spent_s, 0.005 * T);
	EXPECT_MSG(s.opens >= 3, "%u windows", s.opens);
}

/*
 * A costly lock class is windowed alone every other window (its waits measured with the map
 * writes detached), and with the map writes in the others (to tie waits to maps).
 */
static void locks_are_windowed_apart(void)
{
	const double rate[MW_CLASS__COUNT] = { [MW_CLASS_LOCK] = 0.05, [MW_CLASS_WRITE] = 0.3 };
	double now = 0, next = 0;
	struct budget b;
	int sets = 0, together = 0, lock_only = 0, write_only = 0;

	budget_init(&b, 0.02, 0, ALL, PINNED, 1 << MW_CLASS_LOCK, HOT);
	for (; now < 30; now += DT) {
		for (int c = 0; c < MW_CLASS__COUNT; c++) {
			bool on = sets & (1 << c);

			budget_account(&b, c, on ? DT : 0, 0, on ? rate[c] * DT : 0);
		}
		if (now + 1e-9 < next)
			continue;
		sets = budget_step(&b, now, false, &next);
		if ((sets & (1 << MW_CLASS_LOCK)) && (sets & (1 << MW_CLASS_WRITE)))
			together++;
		else if (sets & (1 << MW_CLASS_LOCK))
			lock_only++;
		else if (sets & (1 << MW_CLASS_WRITE))
			write_only++;
	}
	EXPECT(b.cls[MW_CLASS_LOCK].windowed && b.cls[MW_CLASS_WRITE].windowed);
	EXPECT_MSG(together && lock_only && !write_only, "together %d, lock %d, write %d",
		   together, lock_only, write_only);
	EXPECT_MSG(b.spent_s <= 0.02 * 30 * 1.2, "spent %.3f", b.spent_s);
}

/*
 * influxdb under series creation: waits on its index lock, whose probes cost too much to stay
 * attached, and map writes at half a CPU. The lock class's own windows last their length (the
 * session tells the budget after every step that the probes are attached: only the first
 * time after a window opened counts; before, every step moved the window's end, and one
 * lock window ran from 4.7 s to the end of a 15 s capture with no map window after it).
 */
static void lock_windows_end(void)
{
	struct sim s = { .rate = { [MW_CLASS_LOCK] = 0.015, [MW_CLASS_MAKE] = 0.05,
				   [MW_CLASS_WRITE] = 0.5 }, .tail = 0.05 };
	struct budget b;
	const double T = 15;

	simulate(&b, &s, 0.02, T, NULL);
	EXPECT(b.cls[MW_CLASS_LOCK].windowed);
	EXPECT_MSG(s.max_lock_alone_s <= BUDGET_PERIOD_S + 0.1, "lock alone for %.2f s",
		   s.max_lock_alone_s);
	EXPECT_MSG(s.opens >= 4 && s.last_open > T - 4, "%u write windows, the last at %.2f s",
		   s.opens, s.last_open);
	EXPECT_MSG(b.spent_s <= 0.02 * T * 1.2, "spent %.3f s", b.spent_s);
}

/* --budget off: every class attached from the start, to the end. */
static void off_attaches_everything(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 1.0 } };
	struct budget b;

	simulate(&b, &s, 0, 5, NULL);
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		EXPECT(s.attached_s[c] >= 5 - DT * 2);
	EXPECT(budget_observed(&b, 5) == 1);
}

/*
 * A short capture (0.5 s, no lock baseline, the kernel taking 80 ms to close a link) still
 * opens a window of map writes: the first step must not spend the capture closing links.
 */
static void short_capture_opens_a_window(void)
{
	struct sim s = { .rate = { [MW_CLASS_CORE] = 0, [MW_CLASS_LOCK] = 0.001,
				   [MW_CLASS_MAKE] = 0.002, [MW_CLASS_WRITE] = 0.2,
				   [MW_CLASS_SYNCOP] = 0 },
			 .tail = 0.08 };
	struct budget b;

	simulate(&b, &s, 0.02, 0.5, NULL);
	EXPECT_MSG(s.opens >= 1 && s.first_open < 0.3, "opens %u, first at %.3f s", s.opens,
		   s.first_open);
	EXPECT_MSG(b.spent_s <= 0.02 * 0.5 * 1.2 + 0.01, "spent %.4f s", b.spent_s);
}

/* The lock baseline is priced too: past the budget's rate and half a period, it must end. */
static void baseline_overspend_is_seen(void)
{
	struct budget b;

	budget_init(&b, 0.02, 0, ALL, PINNED, 1 << MW_CLASS_LOCK, HOT);
	budget_account(&b, MW_CLASS_LOCK, 0.1, 1000, 0.005);
	EXPECT(!budget_overspent(&b, 0.1));	/* 5 ms: within 0.02 * (0.1 + 0.5) */
	budget_account(&b, MW_CLASS_LOCK, 0.1, 100000, 0.08);
	EXPECT(budget_overspent(&b, 0.2));	/* 85 ms: a lock contended all the time */
	budget_init(&b, 0, 0, ALL, PINNED, 1 << MW_CLASS_LOCK, HOT);
	budget_account(&b, MW_CLASS_LOCK, 0.1, 100000, 1);
	EXPECT(!budget_overspent(&b, 0.2));	/* no budget: nothing is too much */
}

static void parses_budgets(void)
{
	double v;

	EXPECT(!budget_parse("2%", &v) && fabs(v - 0.02) < 1e-12);
	EXPECT(!budget_parse("0.5", &v) && fabs(v - 0.005) < 1e-12);
	EXPECT(!budget_parse("off", &v) && v == 0);
	EXPECT(budget_parse("0", &v) && budget_parse("-1%", &v) && budget_parse("2%%", &v));
	EXPECT(budget_parse("", &v) && budget_parse("abc", &v) && budget_parse("101", &v));
	EXPECT(budget_parse("nan", &v) && budget_parse("inf", &v));
}

/*
 * A program that has just started (the daemon's first epoch): its creation probes cost 0.8%
 * of a CPU, more than the ordinary controller keeps attached (half the budget), but the budget
 * affords them: kept on all along, the map writes windowed in what is left.
 */
/*
 * Counts seen in windows are scaled by the program's work then, not by the time: a broker
 * whose CPU in windows went mostly to the probes did a sliver of its work in them.
 */
static void work_fraction_of_windows(void)
{
	/*
	 * a program that waits for its work (the leak fixture): the traps took 62% of its CPU
	 * while recording, but it did as much work a second as outside: the time is the measure
	 */
	struct budget_work w = { .known = true, .in_cpu = 0.152, .in_cost = 0.0946, .in_s = 1.22,
				 .tail_cpu = 0.017, .tail_cost = 0.0025, .tail_s = 0.39,
				 .out_cpu = 0.093, .out_s = 2.39 };
	double f = budget_work_fraction(&w);

	EXPECT_MSG(f == -1, "%f", f);
	/* the same with the traps priced 27% high: it only seems slowed, within the error */
	w.in_cost = 0.12;
	EXPECT(budget_work_fraction(&w) == -1);
	/* busy: 2 CPUs in 1 s of windows, 0.8 s of it the probes'; 38 s of CPU outside, and
	 * 0.5 s in the windows' closing tails (unwatched work) */
	w = (struct budget_work){ .known = true, .in_cpu = 2, .in_cost = 0.8, .in_s = 1,
				  .tail_cpu = 0.5, .tail_s = 0.3,
				  .out_cpu = 38, .out_cost = 0.02, .out_s = 18.7 };
	f = budget_work_fraction(&w);
	EXPECT_MSG(f > 0.0300 && f < 0.0305, "%f", f);	/* 1.2 / 39.68, against the time's 5% */
	/* the probes took 70% of its CPU: what is left is within their price's error */
	w.in_cost = 1.4;
	EXPECT(budget_work_fraction(&w) == 0);
	/*
	 * slowed to a third of its pace with the probes' price well below its CPU (the rest
	 * waited on a lock they stretched): uneven, not scaled
	 */
	w = (struct budget_work){ .known = true, .in_cpu = 1, .in_cost = 0.3, .in_s = 2,
				  .out_cpu = 20, .out_s = 19 };
	EXPECT(budget_work_fraction(&w) == 0);
	/* a loop that traps all the time, its price 30% low */
	w = (struct budget_work){ .known = true, .in_cpu = 0.232, .in_cost = 0.167, .in_s = 0.234,
				  .tail_cpu = 0.46, .tail_cost = 0.013, .tail_s = 0.46,
				  .out_cpu = 7.34, .out_s = 7.31 };
	EXPECT(budget_work_fraction(&w) == 0);
	/* unknown, or no CPU to speak of: the time decides */
	w.known = false;
	EXPECT(budget_work_fraction(&w) < 0);
	w = (struct budget_work){ .known = true, .in_cpu = 0.001, .in_s = 1, .out_cpu = 0.01,
				  .out_s = 19 };
	EXPECT(budget_work_fraction(&w) < 0);
	w.out_s = 0;
	EXPECT(budget_work_fraction(&w) < 0);
}

static void pinned_creation_stays_while_affordable(void)
{
	struct sim s = { .rate = { [MW_CLASS_LOCK] = 0.0005, [MW_CLASS_MAKE] = 0.008,
				   [MW_CLASS_WRITE] = 0.2 }, .tail = 0.05,
			 .pin = 1 << MW_CLASS_MAKE };
	struct sim u = s;
	struct budget b;
	const double T = 10;

	simulate(&b, &s, 0.01, T, NULL);
	EXPECT_MSG(s.attached_s[MW_CLASS_MAKE] >= T - 0.01, "creation attached %.2f s of %.0f",
		   s.attached_s[MW_CLASS_MAKE], T);
	EXPECT(!b.cls[MW_CLASS_MAKE].windowed && b.cls[MW_CLASS_WRITE].windowed);
	EXPECT_MSG(b.spent_s <= 0.01 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.01 * T);
	/* not pinned, the same class is windowed */
	u.pin = 0;
	simulate(&b, &u, 0.01, T, NULL);
	EXPECT_MSG(u.attached_s[MW_CLASS_MAKE] < T / 2, "unpinned: attached %.2f s",
		   u.attached_s[MW_CLASS_MAKE]);
}

/* Creation that costs 5% of a CPU is not affordable at 1%: the pin ends, and it is windowed. */
static void pinned_creation_too_dear_is_windowed(void)
{
	struct sim s = { .rate = { [MW_CLASS_MAKE] = 0.05, [MW_CLASS_WRITE] = 0.2 }, .tail = 0.05,
			 .pin = 1 << MW_CLASS_MAKE };
	struct budget b;
	const double T = 30;

	simulate(&b, &s, 0.01, T, NULL);
	EXPECT(b.cls[MW_CLASS_MAKE].windowed && !b.provisional);
	EXPECT_MSG(s.attached_s[MW_CLASS_MAKE] < T / 2, "attached %.2f s",
		   s.attached_s[MW_CLASS_MAKE]);
	EXPECT_MSG(b.spent_s <= 0.01 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.01 * T);
}

/*
 * A server whose writes cost a fifth of a CPU recorded, a tenth of that tallied in BPF: the
 * tally runs in every other window, never with the write class, in windows far longer for
 * the same spend; within the budget.
 */
static void tally_alternates_with_writes(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 0.2, [MW_CLASS_TALLY] = 0.02 }, .tail = 0.05,
			 .alt = true };
	struct budget b;
	const double T = 30;

	simulate(&b, &s, 0.02, T, NULL);
	EXPECT_MSG(s.both == 0, "%u steps with both attached", s.both);
	EXPECT_MSG(b.spent_s <= 0.02 * T * 1.2, "spent %.3f s of %.3f", b.spent_s, 0.02 * T);
	EXPECT_MSG(s.opens >= 5 && s.tally_opens >= 5, "%u write windows, %u tally windows",
		   s.opens, s.tally_opens);
	EXPECT_MSG(s.attached_s[MW_CLASS_TALLY] > 4 * s.attached_s[MW_CLASS_WRITE],
		   "tally attached %.2f s, writes %.2f s", s.attached_s[MW_CLASS_TALLY],
		   s.attached_s[MW_CLASS_WRITE]);
	EXPECT(b.cls[MW_CLASS_TALLY].windowed);
}

/* Writes cheap enough to keep attached count every write: no tally then; none without a budget. */
static void no_tally_when_writes_stay_or_no_budget(void)
{
	struct sim s = { .rate = { [MW_CLASS_WRITE] = 0.002, [MW_CLASS_TALLY] = 0.0002 },
			 .alt = true };
	struct sim off = { .rate = { [MW_CLASS_WRITE] = 1.0, [MW_CLASS_TALLY] = 0.1 },
			   .alt = true };
	struct budget b;

	simulate(&b, &s, 0.02, 10, NULL);
	EXPECT_MSG(s.attached_s[MW_CLASS_WRITE] >= 9, "writes attached %.2f s",
		   s.attached_s[MW_CLASS_WRITE]);
	EXPECT_MSG(s.attached_s[MW_CLASS_TALLY] < 0.1, "tally attached %.2f s",
		   s.attached_s[MW_CLASS_TALLY]);
	simulate(&b, &off, 0, 5, NULL);
	EXPECT(off.attached_s[MW_CLASS_WRITE] >= 5 - DT * 2);
	EXPECT(off.attached_s[MW_CLASS_TALLY] == 0 && off.both == 0);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(busy_writes_stay_within_budget), CASE(saturated_loop_gets_rare_windows),
		CASE(quiet_program_keeps_everything_attached), CASE(dearer_window_closes_early),
		CASE(load_change_moves_classes_into_windows), CASE(costly_windows_are_spaced_out),
		CASE(locks_are_windowed_apart), CASE(lock_windows_end),
		CASE(off_attaches_everything), CASE(parses_budgets),
		CASE(short_capture_opens_a_window), CASE(baseline_overspend_is_seen),
		CASE(pinned_creation_stays_while_affordable), CASE(aim_spends_that_part),
		CASE(pinned_creation_too_dear_is_windowed), CASE(work_fraction_of_windows),
		CASE(tally_alternates_with_writes), CASE(no_tally_when_writes_stay_or_no_budget),
	};

	return check_run("budget", cases, sizeof(cases) / sizeof(cases[0]));
}
