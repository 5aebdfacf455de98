// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "../bpf/mapwatch.h"
#include "probes.h"

#define ASSIGN MW_OP_ASSIGN
#define DELETE MW_OP_DELETE
#define CLEAR MW_OP_CLEAR
#define CREATE MW_OP_CREATE
#define GROW MW_OP_GROW
#define LOCK MW_OP_LOCK
#define SYNCMAP MW_OP_SYNCMAP
#define SYNCMAP_OP MW_OP_SYNCMAP_OP
#define FATAL MW_OP_FATAL
const struct probe_def probe_defs[PROBE__COUNT] = {
#define PROBE(id, sym, op, impls, reg, delta) [PROBE_##id] = { sym, op, impls, reg, delta },
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
	if (!dflt)
		snprintf(err, errlen, "Go version %s is not in the probe catalogue "
				      "(supported: go1.19, go1.21 ... go1.26)", bi->version);
	return dflt;
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
	return c;
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
	}
	return "?";
}
