// SPDX-License-Identifier: MIT
/* The one bounds check of the readers (user/gobin/span.h), at the edges where sums wrap. */
#include "check.h"
#include "gobin/span.h"

static void spans_never_wrap(void)
{
	EXPECT(span_ok(0, 0, 0) && span_ok(0, 8, 8) && span_ok(8, 0, 8));
	EXPECT(!span_ok(1, 8, 8) && !span_ok(9, 0, 8));
	/* offset + len wraps to something small: refused */
	EXPECT(!span_ok(UINT64_MAX - 3, 8, 64) && !span_ok(8, UINT64_MAX - 3, 64));
	EXPECT(!span_ok(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1));
	EXPECT(span_ok(UINT64_MAX, 0, UINT64_MAX));
}

static void arrays_never_overflow(void)
{
	EXPECT(span_array_ok(0, 9, 8, 72) && !span_array_ok(0, 10, 8, 72));
	EXPECT(span_array_ok(64, 1, 8, 72) && !span_array_ok(68, 1, 8, 72));
	/* n * elem overflows 64 bits: refused, not wrapped */
	EXPECT(!span_array_ok(0, (UINT64_MAX / 8) + 2, 8, 64));
	EXPECT(!span_array_ok(73, 0, 8, 72));
}

static void loads_and_strings(void)
{
	static const uint8_t b[] = { 1, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0, 'c' };
	uint32_t v32;
	uint64_t v64;

	EXPECT(!span_u32(b, sizeof(b), 4, &v32) && v32 == 2);
	EXPECT(span_u32(b, sizeof(b), 9, &v32) && v32 == 0);
	EXPECT(!span_u64(b, sizeof(b), 0, &v64) && v64 == 0x200000001ULL);
	EXPECT(span_u64(b, sizeof(b), UINT64_MAX - 2, &v64));
	EXPECT(span_str(b, sizeof(b), 8) && !strcmp(span_str(b, sizeof(b), 8), "ab"));
	EXPECT(!span_str(b, sizeof(b), 11));	/* "c" has no NUL before the end */
	EXPECT(!span_str(b, sizeof(b), sizeof(b)) && !span_str(b, sizeof(b), UINT64_MAX));
	EXPECT(span_at(b, sizeof(b), 12, 0) && !span_at(b, sizeof(b), 12, 1));
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(spans_never_wrap), CASE(arrays_never_overflow), CASE(loads_and_strings),
	};

	return check_run("span", cases, sizeof(cases) / sizeof(cases[0]));
}
