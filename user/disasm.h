/* SPDX-License-Identifier: MIT */
/* Where to put the probes of one function: found by decoding it whole (capstone). */
#ifndef MW_DISASM_H
#define MW_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISASM_MAX_RETS 16

struct probe_points {
	uint64_t entry;		/* where the entry probe goes */
	bool after_stack_check;	/* entry is past the morestack check (fires once per call) */
	/*
	 * The kernel emulates the instruction at entry (PUSH reg, NOP): one exception per hit.
	 * Any other is single-stepped out of line, as every RET is: two, about twice the cost.
	 */
	bool entry_emulated;
	/*
	 * The stack check's conditional jump (0: none found), which the kernel emulates: where an
	 * entry-only probe goes when the instruction at entry is single-stepped (Go 1.19's SUBQ
	 * $n, SP). It runs again for a call that grew its stack (morestack restarts the function).
	 */
	uint64_t check_jump;
	int nrets;
	uint64_t rets[DISASM_MAX_RETS];
	int ninsns;
};

/*
 * Pure: decode code[0..len) located at addr. Refuses (returns -1, message in err) a function
 * that does not decode cleanly or leaves through a jump to another function (its RET probes
 * would miss those exits). A function without RET is the caller's to judge.
 */
int disasm_probe_points(const uint8_t *code, size_t len, uint64_t addr, struct probe_points *pp,
			char *err, size_t errlen);

/*
 * Pure: the addresses that 8-byte RIP-relative loads into a register (MOV r64, [RIP+d]) read,
 * in code order, for the first max of them. Returns how many, or -1 if the code does not
 * decode.
 */
/* Pure: the address of the first RET in code[0..len) at addr. 0, or -1 if none decodes. */
int disasm_first_ret(const uint8_t *code, size_t len, uint64_t addr, uint64_t *ret);

int disasm_rip_loads(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, int max);

#endif
