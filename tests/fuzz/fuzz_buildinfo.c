// SPDX-License-Identifier: MIT
/* Go build information: the blob parser, the version parser, the catalogue lookup. */
#include <stdio.h>
#include "fuzz.h"
#include "gobin/buildinfo.h"
#include "probes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_copy(data, size);
	struct go_buildinfo bi;
	struct go_version v;
	char err[256], s[160];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	if (!p)
		return 0;
	if (!go_buildinfo_parse(p, size, &bi, err, sizeof(err))) {
		fuzz_use(go_layout_for(&bi, err, sizeof(err)));
		fuzz_use((void *)(uintptr_t)go_buildinfo_has_experiment(&bi, "noswissmap"));
	}
	/* the version parser on its own, from the first bytes as a string */
	memcpy(s, data, n);
	s[n] = 0;
	go_version_parse(s, &v);
	free(p);
	return 0;
}
