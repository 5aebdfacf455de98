// SPDX-License-Identifier: MIT
/*
 * The reader behind `mapwatch report`: any bytes are either refused with one line or
 * rendered; and the text view must be total over any JSON, checked or not.
 */
#include <stdio.h>
#include "fuzz.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	char err[512];
	json_object *doc;
	json_tokener *tok;

	if (!out)
		out = fopen("/dev/null", "w");
	doc = report_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (doc) {
		report_print_text(doc, out);
		json_object_put(doc);
	} else if (strchr(err, '\n')) {
		abort();	/* an error is one line */
	}
	/* the renderer on whatever JSON the bytes are, without the checks */
	tok = json_tokener_new();
	if (tok && size <= INT32_MAX) {
		doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
		if (doc) {
			fuzz_use((void *)(uintptr_t)report_check(doc, err, sizeof(err)));
			report_print_text(doc, out);
			json_object_put(doc);
		}
	}
	if (tok)
		json_tokener_free(tok);
	return 0;
}
