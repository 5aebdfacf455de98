// SPDX-License-Identifier: MIT
/* mapwatch report: re-render a saved capture as text. */
#include "commands.h"
#include "log.h"
#include "mwerr.h"
#include "report.h"

int cmd_report(const char *path)
{
	char err[512];
	json_object *doc;
	int r = report_read(path, &doc, err, sizeof(err));

	if (r) {
		pr_err("%s\n", err);
		return r == REPORT_ERR_MALFORMED ? MW_EXIT_BADREPORT : MW_EXIT_FAIL;
	}
	report_print_text(doc, stdout);
	json_object_put(doc);
	return MW_EXIT_OK;
}
