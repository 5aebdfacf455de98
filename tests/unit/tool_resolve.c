// SPDX-License-Identifier: MIT
/* Test helper: read hex PCs on stdin, print "pc basename:line function" from our pclntab. */
#include <stdio.h>
#include <string.h>
#include "symbolize.h"
#include "target.h"

int main(int argc, char **argv)
{
	static struct target t;
	char err[512];
	unsigned long long pc;

	if (argc != 2 || target_open_file(&t, argv[1], err, sizeof(err))) {
		fprintf(stderr, "tool_resolve BINARY < pcs: %s\n", argc == 2 ? err : "usage");
		return 1;
	}
	while (scanf("%llx", &pc) == 1) {
		struct frame_sym s;
		const char *base;

		sym_pc(&t.gb, pc, &s);
		base = strrchr(s.file, '/');
		printf("%#llx %s:%d %s\n", pc, base ? base + 1 : s.file, s.line, s.function);
	}
	target_close(&t);
	return 0;
}
