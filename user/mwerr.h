/* SPDX-License-Identifier: MIT */
/* Exit statuses: one per kind of failure a user must act on differently (see --help). */
#ifndef MW_ERR_H
#define MW_ERR_H

enum mw_exit {
	MW_EXIT_OK = 0,
	MW_EXIT_FAIL = 1,		/* anything else (I/O, out of memory, report not written) */
	MW_EXIT_USAGE = 2,		/* bad command line */
	MW_EXIT_PRIV = 3,		/* not privileged, or BPF/uprobes unavailable */
	MW_EXIT_NOPROC = 4,		/* no such process */
	MW_EXIT_NOTGO = 5,		/* not a Go binary */
	MW_EXIT_UNSUPPORTED = 6,	/* Go version or layout not supported */
	MW_EXIT_ATTACH = 7,		/* attaching a probe failed */
	MW_EXIT_BADREPORT = 8,		/* report: the file is not a well-formed mapwatch capture */
};

#endif
