// SPDX-License-Identifier: MIT
/* Probe placement on hand-assembled x86-64 functions. */
#include "check.h"
#include "disasm.h"

#define BASE 0x401000ULL

static int run(const uint8_t *code, size_t n, struct probe_points *pp, char *err)
{
	return disasm_probe_points(code, n, BASE, pp, err, 256);
}

static void short_stack_check(void)
{
	static const uint8_t f[] = {
		0x49, 0x3b, 0x66, 0x10,		/* 0: cmp rsp, [r14+0x10] */
		0x76, 0x06,			/* 4: jbe 12 */
		0x55,				/* 6: push rbp */
		0x48, 0x89, 0xe5,		/* 7: mov rbp, rsp */
		0x5d,				/* 10: pop rbp */
		0xc3,				/* 11: ret */
		0xe8, 0x00, 0x00, 0x00, 0x00,	/* 12: call morestack (outside is fine) */
		0xeb, 0xed,			/* 17: jmp 0 (back to the entry) */
		0xcc,				/* 19: padding */
	};
	struct probe_points pp;
	char err[256];

	EXPECT(!run(f, sizeof(f), &pp, err));
	EXPECT(pp.after_stack_check && pp.entry == BASE + 6 && pp.entry_emulated);
	EXPECT(pp.check_jump == BASE + 4);
	EXPECT(pp.nrets == 1 && pp.rets[0] == BASE + 11);
}

static void lea_stack_check_and_endbr(void)
{
	static const uint8_t f[] = {
		0xf3, 0x0f, 0x1e, 0xfa,			/* 0: endbr64 */
		0x4c, 0x8d, 0x64, 0x24, 0xf8,		/* 4: lea r12, [rsp-8] */
		0x4d, 0x3b, 0x66, 0x10,			/* 9: cmp r12, [r14+0x10] */
		0x0f, 0x86, 0x02, 0x00, 0x00, 0x00,	/* 13: jbe 21 */
		0xc3,					/* 19: ret */
		0xc3,					/* 20: ret */
		0xeb, 0xe9,				/* 21: jmp 0 */
	};
	struct probe_points pp;
	char err[256];

	EXPECT(!run(f, sizeof(f), &pp, err));
	EXPECT(pp.after_stack_check && pp.entry == BASE + 19 && !pp.entry_emulated);
	EXPECT(pp.check_jump == BASE + 13);	/* the tally goes there: the kernel emulates it */
	EXPECT(pp.nrets == 2 && pp.rets[0] == BASE + 19 && pp.rets[1] == BASE + 20);
}

static void c3_inside_an_instruction_is_not_a_ret(void)
{
	static const uint8_t f[] = {
		0xb8, 0xc3, 0x00, 0x00, 0x00,	/* mov eax, 0xc3 */
		0x48, 0x83, 0xc3, 0x08,		/* add rbx, 8 */
		0xc3,				/* ret */
	};
	struct probe_points pp;
	char err[256];

	EXPECT(!run(f, sizeof(f), &pp, err));
	EXPECT(pp.nrets == 1 && pp.rets[0] == BASE + 9);
	EXPECT(!pp.after_stack_check && pp.entry == BASE && !pp.check_jump);	/* no check */
}

static void refuses_tail_jump(void)
{
	static const uint8_t f[] = { 0x90, 0xe9, 0x00, 0x10, 0x00, 0x00, 0xc3 };
	struct probe_points pp;
	char err[256];

	EXPECT(run(f, sizeof(f), &pp, err) && strstr(err, "leaves"));
}

static void refuses_undecodable(void)
{
	static const uint8_t f[] = { 0x90, 0x06, 0xc3 };	/* 0x06 is invalid in 64-bit */
	struct probe_points pp;
	char err[256];

	EXPECT(run(f, sizeof(f), &pp, err) && strstr(err, "undecodable"));
}

static void refuses_truncated_instruction(void)
{
	static const uint8_t f[] = { 0xc3, 0x48, 0x8b };	/* mov cut short */
	struct probe_points pp;
	char err[256];

	EXPECT(run(f, sizeof(f), &pp, err));
}

static void no_ret_is_reported(void)
{
	static const uint8_t f[] = { 0x90, 0x90, 0xcc };	/* like runtime.fatal's end */
	struct probe_points pp;
	char err[256];

	EXPECT(!run(f, sizeof(f), &pp, err) && pp.nrets == 0);
}

int main(void)
{
	static const struct check_case cases[] = {
		CASE(short_stack_check), CASE(lea_stack_check_and_endbr),
		CASE(c3_inside_an_instruction_is_not_a_ret), CASE(refuses_tail_jump),
		CASE(refuses_undecodable), CASE(refuses_truncated_instruction), CASE(no_ret_is_reported),
	};

	return check_run("disasm", cases, sizeof(cases) / sizeof(cases[0]));
}
