// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "../bpf/mapwatch.h"
#include "probes.h"

_Static_assert(MW_CLASS__COUNT <= MW_CLASSES, "a cost class must fit in the cookie");
_Static_assert(PROBE__COUNT <= MW_FN_TALLY, "probe-point indexes run into the tally probes'");
_Static_assert(PROBE_MAPCLEAR + MW_FN_TALLY < MW_MAX_FN, "the map writes' tally probes must fit");

#define ASSIGN MW_OP_ASSIGN
#define DELETE MW_OP_DELETE
#define CLEAR MW_OP_CLEAR
#define CREATE MW_OP_CREATE
#define GROW MW_OP_GROW
#define LOCK MW_OP_LOCK
#define SYNCMAP MW_OP_SYNCMAP
#define SYNCMAP_OP MW_OP_SYNCMAP_OP
#define FATAL MW_OP_FATAL
#define UNWIND MW_OP_UNWIND
_Static_assert(PROBE__COUNT <= MW_MAX_FN, "BPF's unwind loop covers MW_MAX_FN probe points");
const struct probe_def probe_defs[PROBE__COUNT] = {
#define PROBE(id, sym, op, impls, reg, delta, treg) \
	[PROBE_##id] = { sym, op, impls, reg, delta, treg },
#include "../probes/functions.def"
#undef PROBE
};

#define HMAP IMPL_HMAP
#define SWISS IMPL_SWISS
static const struct go_layout layouts[] = {
#define LAYOUT(mi, ex, im, goid, slo, shi, cnt, wr, wm, seed, B, nov, bk, obk, nev, dp, dl, gd,  \
	       bsz, gsz, tcap, mdx, mdt, mdg, ttf, tst, smd)                               \
	{ mi, ex, im, goid, slo, shi, cnt, wr, wm, seed, B, nov, bk, obk, nev, dp, dl, gd, bsz,    \
	  gsz, tcap, mdx, mdt, mdg, ttf, tst, smd },
#include "../probes/layouts.def"
#undef LAYOUT
	{ .minor = -1 },	/* end */
};

/* Append to buf (bounded, always terminated). */
static void cat(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s", s);
}

const char *go_catalogue_releases(char *buf, size_t len)
{
	int minors[64], n = 0;
	char tmp[32];

	/* the table is in release order; one entry per release, whatever its experiments */
	for (const struct go_layout *l = layouts; l->minor >= 0 && n < 64; l++)
		if (!n || minors[n - 1] != l->minor)
			minors[n++] = l->minor;
	if (len)
		buf[0] = 0;
	for (int i = 0; i < n;) {
		int j = i;

		while (j + 1 < n && minors[j + 1] == minors[j] + 1)
			j++;
		/* a run of three or more releases is written "go1.21 ... go1.27" */
		if (j - i >= 2) {
			snprintf(tmp, sizeof(tmp), "%sgo1.%d ... go1.%d", i ? ", " : "", minors[i],
				 minors[j]);
			cat(buf, len, tmp);
			i = j + 1;
		} else {
			snprintf(tmp, sizeof(tmp), "%sgo1.%d", i ? ", " : "", minors[i]);
			cat(buf, len, tmp);
			i++;
		}
	}
	return buf;
}

const struct go_layout *go_layout_for(const struct go_buildinfo *bi, char *err, size_t errlen)
{
	const struct go_layout *dflt = NULL;

	if (bi->v.major == 1) {
		for (const struct go_layout *l = layouts; l->minor >= 0; l++) {
			if (l->minor != bi->v.minor)
				continue;
			if (!l->experiment[0])
				dflt = l;
			else if (go_buildinfo_has_experiment(bi, l->experiment))
				return l;
		}
	}
	if (!dflt) {
		char rel[256];

		snprintf(err, errlen, "Go version %s is not in the probe catalogue (supported: %s)",
			 bi->version, go_catalogue_releases(rel, sizeof(rel)));
	}
	return dflt;
}

static const struct go_heap_layout heap_layouts[] = {
#define HEAP(mi, ar, sg, has, st, np, ne, nes, fi, fis, ab, es, sta, ssg)                        \
	{ mi, ar, sg, has, st, np, ne, nes, fi, fis, ab, es, sta, ssg },
#include "../probes/heap.def"
#undef HEAP
	{ .minor = -1 },
};

const struct go_heap_layout *go_heap_layout_for(int minor)
{
	for (const struct go_heap_layout *h = heap_layouts; h->minor >= 0; h++)
		if (h->minor == minor)
			return h;
	return NULL;
}

unsigned long long probe_cookie(int id)
{
	const struct probe_def *d = &probe_defs[id];
	unsigned long long c = (unsigned long long)id | (unsigned long long)d->reg << 8;

	if (op_is_write(d->op))
		c |= MW_CK_WRITE;
	if (d->op == MW_OP_FATAL)
		c |= MW_CK_FATAL;
	if (d->op == MW_OP_CREATE)
		c |= MW_CK_RESULT;
	if (d->op == MW_OP_UNWIND)
		c |= MW_CK_UNWIND;
	return c | (unsigned long long)op_class(d->op) << 14;
}

unsigned long long probe_tally_cookie(int id)
{
	return (probe_cookie(id) & ~(0xffULL | (unsigned long long)(MW_CLASSES - 1) << 14)) |
	       (unsigned long long)(id + MW_FN_TALLY) | (unsigned long long)MW_CLASS_TALLY << 14;
}

const char *class_name(enum mw_class c)
{
	static const char *const names[MW_CLASS__COUNT] = { "core", "lock", "make", "write",
							     "syncop", "tally" };

	return c < MW_CLASS__COUNT ? names[c] : "?";
}

const char *probe_method(int id)
{
	const char *dot = strrchr(probe_defs[id].symbol, '.');

	return dot ? dot + 1 : probe_defs[id].symbol;
}

const char *impl_name(int impl)
{
	return impl == IMPL_SWISS ? "swiss" : "hmap";
}

const char *op_name(enum mw_op op)
{
	switch (op) {
	case MW_OP_ASSIGN: return "assign";
	case MW_OP_DELETE: return "delete";
	case MW_OP_CLEAR: return "clear";
	case MW_OP_CREATE: return "create";
	case MW_OP_GROW: return "grow";
	case MW_OP_LOCK: return "lock";
	case MW_OP_SYNCMAP: return "syncmap-rebuild";
	case MW_OP_SYNCMAP_OP: return "syncmap-write";
	case MW_OP_FATAL: return "fatal";
	case MW_OP_UNWIND: return "panic";
	}
	return "?";
}
