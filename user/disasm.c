// SPDX-License-Identifier: MIT
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "disasm.h"

static bool is(const cs_insn *i, const char *mn, const char *ops)
{
	return !strcmp(i->mnemonic, mn) && (!ops || !strncmp(i->op_str, ops, strlen(ops)));
}

/*
 * Go's prologue: CMPQ SP, 16(R14) or LEAQ -x(SP), R12; CMPQ R12, 16(R14), then JBE to a
 * morestack call that jumps back to the entry. A probe after the JBE fires once per call.
 */
static void find_stack_check(const cs_insn *ins, int n, int first, struct probe_points *pp)
{
	int i = first;

	pp->entry = ins[first].address;
	if (i < n && is(&ins[i], "lea", "r12, [rsp - "))
		i++;
	if (i + 1 >= n)
		return;
	if (!(is(&ins[i], "cmp", "rsp, qword ptr [r14 + 0x10]") ||
	      (i > first && is(&ins[i], "cmp", "r12, qword ptr [r14 + 0x10]"))))
		return;
	if (!is(&ins[i + 1], "jbe", NULL))
		return;
	pp->entry = ins[i + 1].address + ins[i + 1].size;
	pp->check_jump = ins[i + 1].address;
	pp->after_stack_check = true;
}

int disasm_probe_points(const uint8_t *code, size_t len, uint64_t addr, struct probe_points *pp,
			char *err, size_t errlen)
{
	const uint8_t *p = code;
	uint64_t a = addr, end = addr + len;
	size_t left = len;
	cs_insn *ins = NULL, *one;
	int n = 0, cap = 0, first = 0, rc = -1;
	csh h;

	memset(pp, 0, sizeof(*pp));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(err, errlen, "capstone: cannot open an x86-64 decoder");
		return -1;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	one = cs_malloc(h);
	while (left > 0) {
		if (!cs_disasm_iter(h, &p, &left, &a, one)) {
			snprintf(err, errlen, "undecodable instruction at %#llx",
				 (unsigned long long)a);
			goto out;
		}
		if (n == cap) {
			cs_insn *ni;

			cap = cap ? cap * 2 : 256;
			ni = realloc(ins, (size_t)cap * sizeof(*ins));
			if (!ni) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			ins = ni;
		}
		ins[n] = *one;
		ins[n].detail = NULL;	/* the detail buffer is reused by the next decode */

		if (cs_insn_group(h, one, X86_GRP_JUMP) && one->detail->x86.op_count == 1 &&
		    one->detail->x86.operands[0].type == X86_OP_IMM) {
			uint64_t t = (uint64_t)one->detail->x86.operands[0].imm;

			if (t < addr || t >= end) {
				snprintf(err, errlen, "jump at %#llx leaves the function (to %#llx)",
					 (unsigned long long)one->address, (unsigned long long)t);
				goto out;
			}
		}
		if (one->id == X86_INS_RET) {
			if (pp->nrets == DISASM_MAX_RETS) {
				snprintf(err, errlen, "more than %d RET instructions",
					 DISASM_MAX_RETS);
				goto out;
			}
			pp->rets[pp->nrets++] = one->address;
		}
		n++;
	}
	if (n && ins[0].id == X86_INS_ENDBR64)
		first = 1;
	if (first >= n) {
		snprintf(err, errlen, "empty function");
		goto out;
	}
	find_stack_check(ins, n, first, pp);
	for (int i = first; i < n; i++)
		if (ins[i].address == pp->entry) {
			pp->entry_emulated = ins[i].id == X86_INS_NOP ||
					     (ins[i].id == X86_INS_PUSH && ins[i].size <= 2 &&
					      strchr(ins[i].op_str, '[') == NULL &&
					      !strncmp(ins[i].op_str, "r", 1));
			break;
		}
	pp->ninsns = n;
	rc = 0;
out:
	free(ins);
	cs_free(one, 1);
	cs_close(&h);
	return rc;
}

int disasm_rip_loads(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, int max)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t left = len;
	cs_insn *one;
	int n = 0;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	one = cs_malloc(h);
	while (left > 0 && n < max) {
		const cs_x86 *x;

		if (!cs_disasm_iter(h, &p, &left, &a, one)) {
			n = -1;
			break;
		}
		x = &one->detail->x86;
		if (one->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
		    x->operands[1].type != X86_OP_MEM || x->operands[1].size != 8 ||
		    x->operands[1].mem.base != X86_REG_RIP || x->operands[1].mem.index != X86_REG_INVALID)
			continue;
		out[n++] = one->address + one->size + (uint64_t)x->operands[1].mem.disp;
	}
	cs_free(one, 1);
	cs_close(&h);
	return n;
}

int disasm_first_ret(const uint8_t *code, size_t len, uint64_t addr, uint64_t *ret)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t left = len;
	cs_insn *one;
	int rc = -1;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	one = cs_malloc(h);
	while (left > 0 && cs_disasm_iter(h, &p, &left, &a, one)) {
		if (one->id == X86_INS_RET) {
			*ret = one->address;
			rc = 0;
			break;
		}
	}
	cs_free(one, 1);
	cs_close(&h);
	return rc;
}
