// SPDX-License-Identifier: MIT
/* mapwatch info: can this binary be watched, and how. */
#include <stdio.h>
#include "commands.h"
#include "log.h"
#include "mwerr.h"
#include "probeplan.h"
#include "target.h"

int cmd_info(pid_t pid, const char *binary)
{
	struct probe_plan plan;
	struct target t;
	char err[512];
	int rc;

	rc = pid ? target_open_pid(&t, pid, err, sizeof(err)) :
		   target_open_file(&t, binary, err, sizeof(err));
	if (rc) {
		pr_err("%s\n", err);
		return rc;
	}
	probeplan_build(&t.gb, t.layout->impl, &plan);
	if (pid)
		printf("process:      %d\n", pid);
	printf("executable:   %s\n", t.exe);
	printf("go version:   %s%s\n", t.gb.bi.version, t.gb.bi.cgo ? " (CGO_ENABLED=1)" : "");
	printf("maps:         %s\n", impl_name(t.layout->impl));
	printf("stripped:     %s\n", t.gb.img.has_symtab ? "no" : "yes (symbols from pclntab)");
	printf("PIE:          %s", t.gb.img.pie ? "yes" : "no");
	if (pid && t.gb.img.pie)
		printf(" (loaded at bias %#llx)", (unsigned long long)t.bias);
	printf("\nDWARF:        %s\n", t.gb.img.has_dwarf ? "yes" : "no");
	printf("pclntab:      %s at %#llx, %zu functions, text at %#llx\n", t.gb.pcln_where,
	       (unsigned long long)t.gb.pcln.vaddr, t.gb.pcln.nfuncs,
	       (unsigned long long)t.gb.pcln.text_start);
	printf("offsets:      %s\n", t.layout_from_dwarf ?
					  "read from the binary's DWARF (release not in the catalogue)" :
					  "probe catalogue (probes/layouts.def)");
	printf("goroutine id: runtime.g+%d\n", t.layout->goid);
	printf("\n%-44s %-10s %-10s %-12s %s\n", "probe point", "address", "offset", "entry probe",
	       "RETs");
	for (int i = 0; i < plan.n; i++) {
		const struct planned_probe *pp = &plan.p[i];

		printf("%-44s %#-10llx %#-10llx ", probe_defs[pp->id].symbol,
		       (unsigned long long)pp->fn->entry,
		       (unsigned long long)elfimg_vaddr_to_offset(&t.gb.img, pp->fn->entry));
		if (pp->error[0]) {
			printf("not probed: %s\n", pp->error);
			continue;
		}
		printf("%-12s %d%s\n",
		       pp->pts.after_stack_check ? "after check" : "at entry", pp->pts.nrets,
		       pp->duplicates > 1 ? " (name appears twice: largest body used)" : "");
	}
	printf("\n%d of %d runtime functions can be probed (%d uprobes).\n", plan.usable, plan.n,
	       plan.uprobes);
	rc = plan.usable ? MW_EXIT_OK : MW_EXIT_UNSUPPORTED;
	/* the table above is on stdout; the failure, like every failure, is one line here */
	if (!plan.n)
		pr_err("%s: none of the runtime functions mapwatch probes is in its function "
		       "table\n", t.exe);
	else if (!plan.usable)
		pr_err("%s: none of the %d runtime functions to probe can be (first: %s: %s)\n",
		       t.exe, plan.n, probe_defs[plan.p[0].id].symbol, plan.p[0].error);
	target_close(&t);
	return rc;
}
