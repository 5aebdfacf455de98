// SPDX-License-Identifier: MIT
/*
 * The function table reader on a bare .gopclntab: header, functions, names, lines, pc-value,
 * pcdata and funcdata tables.
 */
#include "fuzz.h"
#include "gobin/pclntab.h"

#define MAX_FUNCS 512	/* bound the work per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = fuzz_copy(data, size);
	struct pclntab t;
	char err[256];

	if (!p)
		return 0;
	if (pclntab_parse_header(&t, p, size, 0x4d0000, err, sizeof(err)) ||
	    pclntab_load_funcs(&t, t.hdr_text_start ? t.hdr_text_start : 0x401000, err,
			       sizeof(err))) {
		free(p);
		return 0;
	}
	for (size_t i = 0; i < t.nfuncs && i < MAX_FUNCS; i++) {
		const struct go_func *f = &t.funcs[i];
		uint64_t mid = f->entry + (f->end - f->entry) / 2;
		const char *file;
		int line;
		int32_t v;
		uint32_t off;

		fuzz_use(pclntab_func_at(&t, f->entry));
		fuzz_use(pclntab_func_at(&t, mid));
		fuzz_use(pclntab_func_named(&t, f->name, NULL));
		pclntab_line(&t, f, f->entry, &file, &line);
		pclntab_line(&t, f, mid, &file, &line);
		for (int k = 0; k < 4; k++) {
			if (!pclntab_pcdata(&t, f, k, &off))
				pclntab_pcvalue(&t, f, off, mid, &v);
			if (!pclntab_funcdata(&t, f, k, &off))
				fuzz_use(&off);
		}
		fuzz_use(pclntab_name(&t, (int32_t)(i * 7)));
	}
	pclntab_rebase(&t, 0x800000);
	fuzz_use(pclntab_func_at(&t, 0x800000));
	pclntab_free(&t);
	free(p);
	return 0;
}
