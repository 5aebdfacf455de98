// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "probes.h"

#define ASSIGN MW_OP_ASSIGN
#define DELETE MW_OP_DELETE
#define CLEAR MW_OP_CLEAR
const struct probe_def probe_defs[PROBE__COUNT] = {
#define PROBE(id, sym, op, impls) [PROBE_##id] = { sym, op, impls },
#include "../probes/functions.def"
#undef PROBE
};

#define HMAP IMPL_HMAP
#define SWISS IMPL_SWISS
static const struct go_layout layouts[] = {
#define LAYOUT(mi, ex, im, goid, cnt, wr, wm, seed, B, nov, bk, obk, nev, dp, dl, gd, bsz, gsz, \
	       tcap, mdt)                                                                  \
	{ mi, ex, im, goid, cnt, wr, wm, seed, B, nov, bk, obk, nev, dp, dl, gd, bsz, gsz, tcap, mdt },
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
	}
	return "?";
}
