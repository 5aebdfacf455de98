// SPDX-License-Identifier: MIT
/* The probe budget's controller (user/budget.h): pure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "budget.h"

/* A class's cost rate is averaged over about this much attached time, */
#define RATE_TIME_S 0.2
/* ... and not judged on less than this. */
#define RATE_MIN_S 0.005
/* Classes kept attached may use up to this part of the budget; the windows get the rest. */
#define ATTACHED_SHARE 0.5
/* All classes are kept attached when together they cost under this part of the budget. */
#define ALL_FIT_SHARE 0.8

void budget_init(struct budget *b, double share, double t0, int present, int pinned, int apart,
		 int hot)
{
	memset(b, 0, sizeof(*b));
	b->share = share;
	b->aim = share;
	b->t0 = t0;
	b->pinned = pinned & present;
	b->apart = apart & present & ~pinned;
	b->hot = hot & present & ~pinned;
	b->next_open = t0;
	b->tail_cost = -1;
	b->level = 0;	/* earned from the start: a short capture cannot overspend by a period */
	b->level_t = t0;
	for (int c = 0; c < MW_CLASS__COUNT; c++) {
		b->cls[c].present = present & (1 << c);
		b->cls[c].windowed = share > 0 && b->cls[c].present && !(b->pinned & (1 << c));
		b->cls[c].rate = -1;
	}
}

void budget_aim(struct budget *b, double part)
{
	b->aim = b->share * part;
}

void budget_pin_while(struct budget *b, int sets)
{
	if (b->share <= 0)
		return;
	sets &= ~b->pinned;
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->cls[c].present && (sets & (1 << c))) {
			b->cls[c].windowed = false;
			b->pinned |= 1 << c;
			b->provisional |= 1 << c;
		}
	b->apart &= ~b->provisional;
	b->hot &= ~b->provisional;
}

void budget_alternate(struct budget *b, int full, int alt)
{
	b->full = full & ~alt;
	b->alt = alt;
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->alt & (1 << c)) {
			b->cls[c].windowed = b->share > 0 && b->cls[c].present;
			b->pinned &= ~(1 << c);
			b->provisional &= ~(1 << c);
		}
}

/* Every set the plan has probes for. */
static int present_sets(const struct budget *b)
{
	int s = 0;

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->cls[c].present)
			s |= 1 << c;
	return s;
}

void budget_account(struct budget *b, int cls, double attached_s, uint64_t hits, double cost_s)
{
	struct budget_class *c;
	double w;

	if (cls < 0 || cls >= MW_CLASS__COUNT || attached_s < 0 || cost_s < 0)
		return;
	c = &b->cls[cls];
	c->attached_s += attached_s;
	if ((b->open || b->closed_at > 0) && (b->open_sets & (1 << cls)))
		c->window_s += attached_s;
	c->spent_s += cost_s;
	c->hits += hits;
	b->spent_s += cost_s;
	b->level -= cost_s;
	if (!b->open && b->closed_at > 0 && (b->open_sets & (1 << cls)))
		b->tail_acc += cost_s;	/* a closed window's probes, trapping on */
	/* rates are judged over at least RATE_MIN_S attached: a hit in a 1 ms slice says little */
	c->acc_s += attached_s;
	c->acc_cost += cost_s;
	if (c->acc_s < RATE_MIN_S)
		return;
	attached_s = c->acc_s;
	cost_s = c->acc_cost;
	c->acc_s = c->acc_cost = 0;
	/*
	 * A moving average over attached time: short intervals move it little, except that a
	 * class whose cost jumped (the program got busy) is believed at once.
	 */
	w = c->rate < 0 || cost_s / attached_s > 2 * c->rate ? 1 : fmin(1, attached_s / RATE_TIME_S);
	c->rate = c->rate < 0 ? cost_s / attached_s : (1 - w) * c->rate + w * cost_s / attached_s;
}

static int sets_where(const struct budget *b, bool windowed)
{
	int s = 0;

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->cls[c].present && b->cls[c].windowed == windowed)
			s |= 1 << c;
	return s;
}

static double rate_of(const struct budget *b, int sets)
{
	double r = 0;

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if ((sets & (1 << c)) && b->cls[c].rate > 0)
			r += b->cls[c].rate;
	return r;
}

static bool any_unknown(const struct budget *b, int sets)
{
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if ((sets & (1 << c)) && b->cls[c].rate < 0)
			return true;
	return false;
}

/* Has an apart class (locks) seen activity? Then the hot classes must leave it time alone. */
static bool apart_active(const struct budget *b)
{
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if ((b->apart & (1 << c)) && b->cls[c].hits)
			return true;
	return false;
}

/*
 * Keep attached the classes that cost least while they fit in part of the budget (all of
 * them if together they fit in most of it); window the rest. A class not measured yet is
 * windowed: its first window measures it.
 */
static void classify(struct budget *b)
{
	int order[MW_CLASS__COUNT], n = 0, all = 0;
	double sum = rate_of(b, b->pinned), total;

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->alt & (1 << c))
			b->cls[c].windowed = true;	/* in windows of its own, or none */
		else if (b->cls[c].present && !(b->pinned & (1 << c))) {
			all |= 1 << c;
			if (b->cls[c].rate >= 0)
				order[n++] = c;
			else
				b->cls[c].windowed = true;
		}
	total = sum + rate_of(b, all);
	/* insertion sort by rate: a handful of classes */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && b->cls[order[j]].rate < b->cls[order[j - 1]].rate; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		struct budget_class *c = &b->cls[order[i]];
		bool fits = (!any_unknown(b, all) && total <= ALL_FIT_SHARE * b->aim) ||
			    sum + c->rate <= ATTACHED_SHARE * b->aim;

		if (((1 << order[i]) & b->hot) && apart_active(b))
			fits = false;	/* the apart classes need time without it */

		c->windowed = !fits;
		if (fits)
			sum += c->rate;
	}
}

/*
 * How long the next window lasts, and what it will cost. A window costs its classes' rate
 * over its length plus its tail; it is made at least as long as its tail (so that at least
 * half of what it costs buys observation), and longer when the budget pays for a window a
 * period with room to spare. Classes of unknown cost get a short first window.
 */
static double window_len(const struct budget *b, int windowed, double *cost)
{
	double cw = rate_of(b, windowed), avail = b->aim - rate_of(b, sets_where(b, false));
	double tail = b->tail_cost >= 0 ? b->tail_cost : cw * BUDGET_TAIL_S, len;

	if (any_unknown(b, windowed) || cw <= 0) {
		*cost = 0;
		return BUDGET_FIRST_WINDOW_S;
	}
	if (avail < b->aim * 0.1)
		avail = b->aim * 0.1;
	len = fmax(BUDGET_MIN_WINDOW_S, tail / cw);
	len = fmax(len, (avail * BUDGET_PERIOD_S - tail) / cw);
	len = fmin(BUDGET_PERIOD_S, len);
	if ((windowed & b->hot) && apart_active(b))
		len = fmin(len, BUDGET_PERIOD_S / 2);
	*cost = cw * len + tail;
	return len;
}

bool budget_overspent(const struct budget *b, double now)
{
	return b->share > 0 && b->spent_s > b->aim * (now - b->t0 + BUDGET_PERIOD_S / 2);
}

/*
 * Have the provisionally pinned classes cost, by themselves, more than most of the budget
 * allows by now (its rate since t0, plus half a period's allowance)? Their own spend: a
 * start-up burst of creations costs little, a program that makes a map per request a lot.
 */
static bool provisional_overspent(const struct budget *b, double now)
{
	double spent = 0;

	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (b->provisional & (1 << c))
			spent += b->cls[c].spent_s;
	return spent > ALL_FIT_SHARE * b->aim * (now - b->t0 + BUDGET_PERIOD_S / 2);
}

int budget_step(struct budget *b, double now, bool closing, double *next)
{
	int attached, windowed;
	double tokens, len, cost, avail;

	if (b->share <= 0) {
		*next = now + BUDGET_PERIOD_S;
		return present_sets(b) & ~b->alt;
	}
	if (b->provisional && provisional_overspent(b, now)) {
		/* no longer affordable: windowed from now on, measured like the rest */
		for (int c = 0; c < MW_CLASS__COUNT; c++)
			if (b->provisional & (1 << c))
				b->cls[c].windowed = true;
		b->pinned &= ~b->provisional;
		b->provisional = 0;
	}
	attached = sets_where(b, false);
	if (b->open) {
		bool spent = b->spent_s - b->spent_at_open > b->open_cost;

		if (now < b->close_at && !spent) {
			/* looked at often: a window can cost more than its classes did before */
			*next = fmin(b->close_at, now + 0.01);
			return attached | b->open_sets;
		}
		/* The window ends: its classes' costs are known now. */
		b->open = false;
		b->windowed_s += now - b->open_at;
		b->closed_at = now;
		b->tail_acc = 0;
		classify(b);
		*next = now + 0.01;
		return sets_where(b, false);
	}
	if (b->closed_at > 0 && !closing) {
		/* the last window's probes are all gone: what its tail cost is known */
		b->tail_cost = b->tail_cost < 0 ? b->tail_acc : 0.5 * b->tail_cost + 0.5 * b->tail_acc;
		b->closed_at = 0;
	}
	classify(b);
	attached = sets_where(b, false);
	windowed = sets_where(b, true);
	/*
	 * Every other window has the apart classes alone (lock waits measured with the map-write
	 * probes off); the others have everything (waits tied to the maps written after them).
	 */
	if ((windowed & b->apart) && (windowed & ~b->apart) && (b->turn & 1))
		windowed &= b->apart;
	else if ((windowed & b->alt) && !(windowed & b->full))
		windowed &= ~b->alt;	/* the full sets are kept attached: they count it all */
	else if (windowed & b->alt)	/* not while locks wait: only recorded writes name their map */
		windowed &= (b->alt_turn & 1) && !apart_active(b) ? ~b->full : ~b->alt;
	/* soon enough that a kept class whose cost jumps is moved into windows quickly */
	*next = now + 0.05;
	if (!windowed || closing)
		return attached;
	/*
	 * A window opens when what it will cost has been earned: spend runs ahead of the budget
	 * by one period's allowance at most, and what was not spent is kept for a period or so.
	 */
	avail = b->aim - rate_of(b, attached);
	len = window_len(b, windowed, &cost);
	if (now > b->level_t) {
		b->level = fmin(fmax(b->aim * BUDGET_PERIOD_S, cost),
				b->level + b->aim * (now - b->level_t));
		b->level_t = now;
	}
	tokens = b->level;
	if (cost > 0 && tokens < cost) {
		double wait = (cost - tokens) / (avail > b->aim * 0.1 ? avail : b->aim * 0.1);

		*next = now + fmin(0.05, fmax(0.001, wait));
		return attached;
	}
	if (cost <= 0 && tokens <= 0)
		return attached;
	if (now < b->next_open) {
		*next = fmin(b->next_open, now + 0.05);
		return attached;
	}
	b->open = true;
	b->open_sets = windowed;
	b->spent_at_open = b->spent_s;
	/*
	 * The estimate with a margin; a first look may spend what the bucket holds, or half a
	 * period's allowance (a first window at a CPU's rate).
	 */
	b->open_cost = cost > 0 ? cost * 1.25 : fmax(tokens, b->aim * BUDGET_PERIOD_S / 2);
	b->turn++;
	if ((windowed & (b->alt | b->full)) && b->alt)
		b->alt_turn++;
	for (int c = 0; c < MW_CLASS__COUNT; c++)
		if (windowed & (1 << c))
			b->cls[c].windows++;
	b->open_at = now;
	b->close_at = now + len;
	b->starting = true;
	/* after a window of hot classes, as long again without them (see hot) */
	b->next_open = now + len + fmax(BUDGET_MIN_GAP_S,
					(windowed & b->hot) && apart_active(b) ? len : 0);
	b->windows++;
	*next = fmin(b->close_at, now + 0.01);
	return attached | windowed;
}

void budget_attached(struct budget *b, double now)
{
	if (!b->open || !b->starting)
		return;
	b->starting = false;	/* once a window: later steps leave it be */
	if (now <= b->open_at)
		return;
	b->close_at += now - b->open_at;
	b->open_at = now;
}

double budget_observed(const struct budget *b, double now)
{
	double w = b->windowed_s + (b->open ? now - b->open_at : 0), t = now - b->t0;

	if (!sets_where(b, true) && !b->windows)
		return 1;
	return t > 0 ? fmin(1, w / t) : 0;
}

double budget_work_fraction(const struct budget_work *w)
{
	double in = w->in_cpu - w->in_cost, out = w->out_cpu - w->out_cost;
	double tail = w->tail_cpu - w->tail_cost, slow, out_rate;

	if (!w->known || w->in_s <= 0 || w->out_s <= 0)
		return -1;
	/* work done unwatched: detached, or in a window's closing tail */
	out = (out > 0 ? out : 0) + (tail > 0 ? tail : 0);
	if (in + out < BUDGET_WORK_MIN_CPU_S)
		return -1;	/* next to no work: the time is as good a measure */
	/*
	 * As much work a second while recording as outside, within what the error of the
	 * probes' price allows: the traps took idle time, not the program's (a program that
	 * waits for its work absorbs them), and the time is the measure. (A program idle most of
	 * the time, whose CPU while recording is mostly the traps', would otherwise seem slowed
	 * by a price 30% high.)
	 */
	out_rate = out / (w->out_s + w->tail_s);
	if (in / w->in_s >= out_rate - BUDGET_PRICE_ERROR * w->in_cost / w->in_s)
		return -1;
	slow = (in / w->in_s) / out_rate;
	/*
	 * The probes' price is a calibration: what is left must stand well above its error.
	 * And a program slowed to less than half its pace was slowed unevenly: a lock the probes
	 * stretch holds up some paths far more than its CPU shows (nats-server's connection
	 * churn ran 30x slower while its CPU said 3x), so no scale is sure.
	 */
	if (in <= BUDGET_WORK_MIN_LEFT * w->in_cost || slow < BUDGET_WORK_MIN_PACE)
		return 0;
	return in / (in + out);
}

int budget_parse(const char *s, double *share)
{
	char *end;
	double v;

	if (!strcmp(s, "off")) {
		*share = 0;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || (*end && strcmp(end, "%")) || !(v > 0) || v > 100)
		return -1;
	*share = v / 100;
	return 0;
}
