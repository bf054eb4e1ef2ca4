/*
 * sites_x86 — one x86-64 instruction of an ELF file, as the site finder
 * sees it (sites_classify() of sites.h): does it access memory, where if
 * that is known before the program runs, does it compute a data address
 * without accessing it, and can it be executed out of line.
 *
 * Zydis facts relied on (libzydis 4.0.0, as in decode.c):
 *  - LEA's operand is ZYDIS_MEMOP_TYPE_AGEN: an address, not an access.
 *  - NOP with a ModRM operand and PREFETCHh report a MEM operand they never
 *    touch: they are recognised by category/mnemonic.
 *  - PUSH/POP/CALL/RET have a hidden [rsp] operand; an explicit operand of
 *    push [x] / pop [x] is the one that names a variable.
 *  - raw.disp.offset is where the displacement sits in the instruction: the
 *    out-of-line copy of a RIP-relative instruction patches those 4 bytes.
 *
 * Also here, sharing the decoder: arch_mem_base() (arch.h), how an
 * instruction's memory operand is addressed, with the base register in
 * DWARF's numbering, for sym_name_through_ptr().
 */
#include <pthread.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "arch.h"
#include "sites.h"

/* Smallest address an immediate or displacement must have to be taken for
 * a data address in a non-PIE file (Linux refuses mappings below 64 KiB). */
#define MIN_ADDR	0x10000ull

static ZydisDecoder decoder;
static int decoder_ok;
static pthread_once_t decoder_once = PTHREAD_ONCE_INIT;

static void decoder_init(void)
{
	decoder_ok = ZYAN_SUCCESS(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64,
						   ZYDIS_STACK_WIDTH_64));
}

static int is_mem(const ZydisDecodedOperand *o)
{
	return o->type == ZYDIS_OPERAND_TYPE_MEMORY;
}

/* A memory operand the instruction really reads or writes (not AGEN/MIB). */
static int is_access(const ZydisDecodedOperand *o)
{
	return is_mem(o) &&
	       (o->mem.type == ZYDIS_MEMOP_TYPE_MEM || o->mem.type == ZYDIS_MEMOP_TYPE_VSIB) &&
	       (o->actions & (ZYDIS_OPERAND_ACTION_MASK_READ | ZYDIS_OPERAND_ACTION_MASK_WRITE));
}

static int is_stack_base(ZydisRegister r)
{
	r = r == ZYDIS_REGISTER_NONE ? r :
	    ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	return r == ZYDIS_REGISTER_RSP || r == ZYDIS_REGISTER_RBP;
}

/* Hints and cache control: a memory operand, but no data access. */
static int is_hint(const ZydisDecodedInstruction *zi)
{
	switch (zi->meta.category) {
	case ZYDIS_CATEGORY_NOP:
	case ZYDIS_CATEGORY_WIDENOP:
	case ZYDIS_CATEGORY_PREFETCH:
	case ZYDIS_CATEGORY_PREFETCHWT1:
	case ZYDIS_CATEGORY_CLFLUSHOPT:
	case ZYDIS_CATEGORY_CLWB:
	case ZYDIS_CATEGORY_CLDEMOTE:
		return 1;
	default:
		return zi->mnemonic == ZYDIS_MNEMONIC_NOP || zi->mnemonic == ZYDIS_MNEMONIC_CLFLUSH;
	}
}

/*
 * Must the instruction run at its own address?  Control transfers (their
 * target or return address would be wrong), anything that reads RIP other
 * than through a RIP-relative memory operand (whose displacement the copy
 * can patch), and what traps or enters the kernel (the reported pc would
 * be the copy's).
 */
static int is_flow(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *op)
{
	switch (zi->meta.category) {
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_COND_BR:
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSRET:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSTEM:
		return 1;
	default:
		break;
	}
	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_UD0:
	case ZYDIS_MNEMONIC_UD1:
	case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_HLT:
	case ZYDIS_MNEMONIC_XBEGIN:
	case ZYDIS_MNEMONIC_XABORT:
	case ZYDIS_MNEMONIC_XEND:
		return 1;
	default:
		break;
	}
	if (zi->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return 1;
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];

		if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o->imm.is_relative)
			return 1;
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (o->reg.value == ZYDIS_REGISTER_RIP || o->reg.value == ZYDIS_REGISTER_EIP))
			return 1;
	}
	return 0;
}

/*
 * The memory operand that describes the instruction: the first explicit
 * one not based on the stack (push [x]: x, not the stack slot; movs: the
 * destination), else the first at all.  want_access picks among accessing
 * operands, else among AGEN ones (lea).  -1 if none.
 */
static int pick(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *op,
		int want_access)
{
	int first = -1;

	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];

		if (want_access ? !is_access(o) :
		    !(is_mem(o) && o->mem.type == ZYDIS_MEMOP_TYPE_AGEN))
			continue;
		if (o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
		    !is_stack_base(o->mem.base))
			return i;
		if (first < 0)
			first = i;
	}
	return first;
}

/*
 * The static address of memory operand o, with out->riprel / indexed set:
 * RIP-relative always; absolute (no base, no index) and disp + registers
 * (indexed) only in a non-PIE file, where link-time addresses are run-time
 * addresses and fit a disp32.  0 if not static.
 */
static uint64_t static_ea(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *o,
			  uint64_t pc, int pie, struct site *out)
{
	ZyanU64 a;

	if (o->mem.segment == ZYDIS_REGISTER_FS || o->mem.segment == ZYDIS_REGISTER_GS)
		return 0;
	if (o->mem.base == ZYDIS_REGISTER_RIP || o->mem.base == ZYDIS_REGISTER_EIP) {
		out->riprel = 1;
		out->disp_off = (int8_t)zi->raw.disp.offset;
		return ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(zi, o, pc, &a)) ? a : 0;
	}
	if (pie || o->mem.type == ZYDIS_MEMOP_TYPE_VSIB || !o->mem.disp.has_displacement ||
	    o->mem.disp.value < (int64_t)MIN_ADDR)
		return 0;
	if (o->mem.base == ZYDIS_REGISTER_NONE && o->mem.index == ZYDIS_REGISTER_NONE)
		return (uint64_t)o->mem.disp.value;
	if (is_stack_base(o->mem.base))
		return 0;
	out->indexed = 1;
	return (uint64_t)o->mem.disp.value;
}

/* Non-PIE: an immediate of MOV/PUSH big enough to be a data address. */
static uint64_t address_imm(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *op,
			    int pie)
{
	if (pie || (zi->mnemonic != ZYDIS_MNEMONIC_MOV && zi->mnemonic != ZYDIS_MNEMONIC_PUSH))
		return 0;
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];

		if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !o->imm.is_relative &&
		    o->imm.value.u >= MIN_ADDR && o->imm.value.u < (1ull << 47))
			return o->imm.value.u;
	}
	return 0;
}

/*
 * The cheap first look, on the instruction decoded without operands (most
 * of Zydis's time goes into operands): can it become a site in mode flags?
 * A static address needs a ModRM memory operand (RIP-relative: mod 0,
 * rm 5), a moffs operand or, in non-PIE, an immediate; every other data
 * access outside ModRM is a stack, string or flow instruction (excluded
 * from SITES_ALL_MEM), XLAT or MASKMOV*.
 */
static int maybe_site(const ZydisDecodedInstruction *zi, int pie, unsigned flags)
{
	int modrm_mem = (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM) && zi->raw.modrm.mod != 3;
	int riprel = modrm_mem && zi->raw.modrm.mod == 0 && zi->raw.modrm.rm == 5;
	int moffs = zi->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
		    zi->opcode >= 0xa0 && zi->opcode <= 0xa3;

	if (flags & SITES_ALL_MEM)
		return modrm_mem || moffs || zi->mnemonic == ZYDIS_MNEMONIC_XLAT ||
		       zi->mnemonic == ZYDIS_MNEMONIC_MASKMOVQ ||
		       zi->mnemonic == ZYDIS_MNEMONIC_MASKMOVDQU ||
		       zi->mnemonic == ZYDIS_MNEMONIC_VMASKMOVDQU;
	if (pie)
		return riprel;
	return modrm_mem || moffs || zi->raw.imm[0].size >= 32 || zi->raw.imm[1].size >= 32;
}

/* Fill *out from the fully decoded instruction (sites_classify's contract). */
static void classify(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *op,
		     const uint8_t *code, uint64_t pc, int pie, struct site *out)
{
	int m;

	out->pc = pc;
	out->len = zi->length;
	memcpy(out->bytes, code, zi->length);
	out->flow = (uint8_t)is_flow(zi, op);
	out->string = zi->meta.category == ZYDIS_CATEGORY_STRINGOP;
	out->imm = address_imm(zi, op, pie);

	if (!is_hint(zi) && (m = pick(zi, op, 1)) >= 0) {
		const ZydisDecodedOperand *o = &op[m];
		int r = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_READ);
		int w = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);

		out->type = (r && w) ? ACCESS_RMW : w ? ACCESS_WRITE : ACCESS_READ;
		out->size = o->size / 8 <= 255 ? (uint8_t)(o->size / 8) : 0;
		/* XCHG with memory is locked by the CPU with or without the prefix. */
		out->atomic = (zi->attributes & ZYDIS_ATTRIB_HAS_LOCK) ||
			      zi->mnemonic == ZYDIS_MNEMONIC_XCHG;
		out->stack = (uint8_t)is_stack_base(o->mem.base);
		out->tls = o->mem.segment == ZYDIS_REGISTER_FS ||
			   o->mem.segment == ZYDIS_REGISTER_GS;
		out->ea = static_ea(zi, o, pc, pie, out);
		out->sampleable = !out->stack && !out->tls && !out->string && !out->flow;
	} else if (zi->mnemonic == ZYDIS_MNEMONIC_LEA && (m = pick(zi, op, 0)) >= 0) {
		out->ea = static_ea(zi, &op[m], pc, pie, out);
		out->addr_taken = out->ea != 0;
	} else if (out->imm) {
		out->addr_taken = 1;	/* mov reg, $var */
		out->ea = out->imm;
	}
}

unsigned sites_step(const uint8_t *code, size_t n, uint64_t pc, int pie, unsigned flags,
		    struct site *out, int *classified)
{
	ZydisDecoderContext ctx;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];

	*classified = 0;
	memset(out, 0, sizeof(*out));
	out->disp_off = -1;
	out->range = -1;
	pthread_once(&decoder_once, decoder_init);
	if (!decoder_ok ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, &ctx, code, n, &zi)))
		return 0;
	if (flags & SITES_CLASSIFY_ALL || maybe_site(&zi, pie, flags)) {
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&decoder, &ctx, &zi, op,
							     ZYDIS_MAX_OPERAND_COUNT)))
			return 0;
		classify(&zi, op, code, pc, pie, out);
		*classified = 1;
	}
	return zi.length;
}

unsigned sites_classify(const uint8_t *code, size_t n, uint64_t pc, int pie,
			struct site *out)
{
	int classified;

	return sites_step(code, n, pc, pie, SITES_CLASSIFY_ALL, out, &classified);
}

/* ---- arch_mem_base --------------------------------------------------- */

/* The 64-bit general-purpose registers by DWARF number: the System V
 * x86-64 psABI order (figure 3.36), not the encoding's (rax rcx rdx rbx
 * rsp rbp rsi rdi). */
static const ZydisRegister dwarf_gpr[16] = {
	ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RBX,
	ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSP,
	ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
	ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
};

static int dwarf_reg(ZydisRegister r)
{
	for (int i = 0; i < 16; i++)
		if (dwarf_gpr[i] == r)
			return i;
	return -1;
}

int arch_mem_base(const uint8_t *code, size_t n, int *dwreg, int64_t *disp)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];

	pthread_once(&decoder_once, decoder_init);
	if (!decoder_ok || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code, n, &zi, op)))
		return -1;
	for (int i = 0; i < zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];

		/* Hidden operands are push/pop/call's stack slot and string
		 * instructions' [rsi]/[rdi]: no pointer variable's access.
		 * Only plain MEM operands go through a base (not LEA's AGEN,
		 * not MIB or VSIB). */
		if (!is_access(o) || o->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
		    o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		if (o->mem.index != ZYDIS_REGISTER_NONE ||
		    o->mem.segment == ZYDIS_REGISTER_FS ||
		    o->mem.segment == ZYDIS_REGISTER_GS)
			return -1;
		*dwreg = dwarf_reg(o->mem.base);
		*disp = o->mem.disp.has_displacement ? o->mem.disp.value : 0;
		return *dwreg < 0 ? -1 : 0;
	}
	return -1;
}
