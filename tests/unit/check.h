/* SPDX-License-Identifier: MIT */
/* A few lines of test harness: each case prints "ok - name" or "not ok - name". */
#ifndef MW_CHECK_H
#define MW_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_case_failed;

#define EXPECT(cond)                                                                   \
	do {                                                                           \
		if (!(cond)) {                                                         \
			check_case_failed++;                                           \
			fprintf(stderr, "  %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
		}                                                                      \
	} while (0)

#define EXPECT_MSG(cond, ...)                                                          \
	do {                                                                           \
		if (!(cond)) {                                                         \
			check_case_failed++;                                           \
			fprintf(stderr, "  %s:%d: expected %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                  \
			fputc('\n', stderr);                                           \
		}                                                                      \
	} while (0)

struct check_case {
	const char *name;
	void (*fn)(void);
};

#define CASE(f) { #f, f }

static inline int check_run(const char *suite, const struct check_case *c, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		check_case_failed = 0;
		c[i].fn();
		printf("%s - %s: %s\n", check_case_failed ? "not ok" : "ok", suite, c[i].name);
		fflush(stdout);
		bad += check_case_failed != 0;
	}
	return bad ? 1 : 0;
}

/* Directory of fixture binaries built by tests/build-fixtures.sh. */
static inline const char *fixtures_dir(void)
{
	const char *d = getenv("MW_FIXTURES");

	return d ? d : ".output/fixtures";
}

#endif
