// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>
#include "probeplan.h"

static void plan_one(const struct gobin *gb, struct planned_probe *pp)
{
	const struct go_func *f = pp->fn;
	const uint8_t *code = elfimg_at(&gb->img, f->entry, f->end - f->entry);

	if (!code) {
		snprintf(pp->error, sizeof(pp->error), "code not in the file");
		return;
	}
	if (disasm_probe_points(code, f->end - f->entry, f->entry, &pp->pts, pp->error,
				sizeof(pp->error)))
		return;
	/* Calls are paired entry to RET; only fatal and panic are seen at entry alone. */
	if (!pp->pts.nrets && !op_entry_only(probe_defs[pp->id].op)) {
		snprintf(pp->error, sizeof(pp->error), "no RET instruction");
		return;
	}
	if (op_entry_only(probe_defs[pp->id].op))
		pp->pts.nrets = 0;
	pp->entry_off = elfimg_vaddr_to_offset(&gb->img, pp->pts.entry);
	pp->tally_emulated = pp->pts.entry_emulated || pp->pts.check_jump;
	pp->tally_off = pp->pts.entry_emulated || !pp->pts.check_jump ?
				pp->entry_off :
				elfimg_vaddr_to_offset(&gb->img, pp->pts.check_jump);
	for (int i = 0; i < pp->pts.nrets; i++)
		pp->ret_off[i] = elfimg_vaddr_to_offset(&gb->img, pp->pts.rets[i]);
}

void probeplan_build(const struct gobin *gb, int impl, struct probe_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct probe_def *d = &probe_defs[id];
		struct planned_probe *pp;
		const struct go_func *f;
		int dup;

		if (!(d->impls & impl))
			continue;
		f = pclntab_func_named(&gb->pcln, d->symbol, &dup);
		if (!f)
			continue;
		pp = &plan->p[plan->n++];
		pp->id = (enum probe_id)id;
		pp->fn = f;
		pp->duplicates = dup;
		plan_one(gb, pp);
		if (!pp->error[0]) {
			plan->usable++;
			plan->uprobes += 1 + pp->pts.nrets;
		}
	}
}
