/* SPDX-License-Identifier: MIT */
#ifndef MW_LOG_H
#define MW_LOG_H

#include <stdio.h>

extern int mw_verbose;

#define pr_err(...) fprintf(stderr, "mapwatch: " __VA_ARGS__)
#define pr_info(...) fprintf(stderr, __VA_ARGS__)
#define pr_debug(...)                                  \
	do {                                           \
		if (mw_verbose)                        \
			fprintf(stderr, __VA_ARGS__);  \
	} while (0)

#endif
