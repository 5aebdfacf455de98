// SPDX-License-Identifier: MIT
/* mapwatch report: re-render a saved capture as text. */
#include "commands.h"
#include "log.h"
#include "mwerr.h"
#include "report.h"

int cmd_report(const char *path)
{
	char err[512];
	json_object *doc = report_read(path, err, sizeof(err));

	if (!doc) {
		pr_err("%s\n", err);
		return MW_EXIT_FAIL;
	}
	report_print_text(doc, stdout);
	json_object_put(doc);
	return MW_EXIT_OK;
}
