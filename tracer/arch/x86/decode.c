/*
 * decode — which x86-64 instruction raised a data-breakpoint trap, and what
 * it did to memory.  Implements tracer/arch.h on top of Zydis 4.
 *
 * Data breakpoints trap *after* the access, so the tracer only knows the
 * address of the next instruction and the registers as the accessing
 * instruction left them.  This file turns that into one struct access_insn:
 * the instruction, the memory operand that matters, read/write/RMW, size,
 * atomicity and, when the registers allow, the effective address.
 *
 * Zydis facts this file relies on (checked against libzydis 4.0.0):
 *  - NOP with a ModRM memory operand (0f 1f /0) reports that operand as a
 *    READ of type MEM; it touches no memory, so NOP/prefetch are excluded
 *    by mnemonic/category, not by operand type.
 *  - The hidden stack operand of PUSH/CALL and of POP/RET is [rsp] with no
 *    displacement: the slot below the decremented RSP for a push, the slot
 *    at the not-yet-incremented RSP for a pop.
 *  - REPE/REPNE CMPS does not list RSI/RDI among its written registers, so
 *    string operations are recognised by category, not by register writes.
 *  - ZydisCalcAbsoluteAddressEx ignores segment bases; FS/GS (TLS) are added
 *    here from fs_base/gs_base.
 *  - XLAT's memory operand omits its AL index; its EA is never computed.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "arch.h"
#include "hwbp.h"

#define EFLAGS_DF	(1ull << 10)	/* direction flag: string ops go down */
#define SYNC_WINDOW	64		/* bytes before trap_pc decoded to find boundaries */

/* Read-only after the first use; pthread_once makes the first use safe. */
static ZydisDecoder decoder;
static ZydisFormatter formatter;
static int zydis_ok;
static pthread_once_t zydis_once = PTHREAD_ONCE_INIT;

static void zydis_init(void)
{
	zydis_ok = ZYAN_SUCCESS(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64,
						 ZYDIS_STACK_WIDTH_64)) &&
		   ZYAN_SUCCESS(ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL));
}

static int zydis_ready(void)
{
	pthread_once(&zydis_once, zydis_init);
	return zydis_ok;
}

/* One fully decoded instruction and where it sits in the target. */
struct insn {
	uint64_t pc;				/* run-time address of its first byte */
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

static int decode_at(const uint8_t *code, size_t avail, uint64_t pc, struct insn *in)
{
	in->pc = pc;
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, code, avail, &in->zi, in->op)) ? 0 : -1;
}

/* Length of the instruction at code, or 0 if avail bytes do not hold one. */
static unsigned decode_len(const uint8_t *code, size_t avail)
{
	ZydisDecodedInstruction zi;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, NULL, code, avail, &zi)))
		return 0;
	return zi.length;
}

/*
 * Does operand i really access memory?  AGEN (LEA) and MIB (BNDLDX...)
 * operands only compute addresses; VSIB (gather/scatter) operands do access
 * memory, one element at a time.
 */
static int is_access_op(const struct insn *in, int i)
{
	const ZydisDecodedOperand *o = &in->op[i];

	if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return 0;
	if (o->mem.type != ZYDIS_MEMOP_TYPE_MEM && o->mem.type != ZYDIS_MEMOP_TYPE_VSIB)
		return 0;
	return (o->actions & (ZYDIS_OPERAND_ACTION_MASK_READ | ZYDIS_OPERAND_ACTION_MASK_WRITE)) != 0;
}

/* Does the instruction touch memory at all?  Hints (NOP, PREFETCHh) do not. */
static int touches_memory(const struct insn *in)
{
	if (in->zi.mnemonic == ZYDIS_MNEMONIC_NOP)
		return 0;
	switch (in->zi.meta.category) {
	case ZYDIS_CATEGORY_NOP:
	case ZYDIS_CATEGORY_WIDENOP:
	case ZYDIS_CATEGORY_PREFETCH:
	case ZYDIS_CATEGORY_PREFETCHWT1:
		return 0;
	default:
		break;
	}
	for (int i = 0; i < in->zi.operand_count; i++)
		if (is_access_op(in, i))
			return 1;
	return 0;
}

/* REP/REPE/REPNE string instruction: the only kind that can trap mid-way. */
static int is_rep_string(const struct insn *in)
{
	return in->zi.meta.category == ZYDIS_CATEGORY_STRINGOP &&
	       (in->zi.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
				     ZYDIS_ATTRIB_HAS_REPNE));
}

static ZydisRegister widest(ZydisRegister r)
{
	if (r == ZYDIS_REGISTER_NONE)
		return r;
	return ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
}

/* Registers at the trap, in the two shapes the code below needs. */
struct regctx {
	const struct user_regs_struct *regs;
	ZydisRegisterContext ctx;	/* values[] of every 64/32/16-bit GPR */
	int before;		/* regs are from before the instruction ran */
};

#define GPR(name, field) { ZYDIS_REGISTER_##name, offsetof(struct user_regs_struct, field) }
static const struct {
	ZydisRegister reg;
	size_t off;
} gpr_map[] = {
	GPR(RAX, rax), GPR(RCX, rcx), GPR(RDX, rdx), GPR(RBX, rbx),
	GPR(RSP, rsp), GPR(RBP, rbp), GPR(RSI, rsi), GPR(RDI, rdi),
	GPR(R8, r8),   GPR(R9, r9),   GPR(R10, r10), GPR(R11, r11),
	GPR(R12, r12), GPR(R13, r13), GPR(R14, r14), GPR(R15, r15),
};
#undef GPR

static void regctx_init(struct regctx *rc, const struct user_regs_struct *regs)
{
	memset(&rc->ctx, 0, sizeof(rc->ctx));
	rc->regs = regs;
	rc->before = 0;
	if (!regs)
		return;
	for (size_t i = 0; i < sizeof(gpr_map) / sizeof(gpr_map[0]); i++) {
		uint64_t v;
		ZyanI8 id = ZydisRegisterGetId(gpr_map[i].reg);

		memcpy(&v, (const char *)regs + gpr_map[i].off, sizeof(v));
		rc->ctx.values[gpr_map[i].reg] = v;
		rc->ctx.values[ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, id)] = (uint32_t)v;
		rc->ctx.values[ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, id)] = (uint16_t)v;
	}
}

/* Does the instruction (possibly) write register r (compared by widest alias)? */
static int writes_reg(const struct insn *in, ZydisRegister r)
{
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->op[i];

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) && widest(o->reg.value) == r)
			return 1;
	}
	return 0;
}

/* Bytes one push/pop moves RSP by: the size of the hidden stack operand. */
static uint64_t stack_slot(const struct insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &in->op[i];

		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
		    widest(o->mem.base) == ZYDIS_REGISTER_RSP)
			return o->size / 8;
	}
	return 8;
}

/* RET imm16 releases imm16 more bytes after popping the return address. */
static uint64_t ret_release(const struct insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->op[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return in->op[i].imm.value.u & 0xffff;
	return 0;
}

/*
 * The value register r (widest alias) had when operand i of the instruction
 * formed its address, given the registers after the instruction.  Returns 1
 * and sets *val when that is known:
 *  1. r not written by the instruction: the value at the trap.
 *  2. String ops: RSI/RDI moved by one element, up or down by EFLAGS.DF.
 *     (Also right for a REP op that trapped mid-way: the trap follows the
 *     iteration that accessed.)
 *  3. RSP of PUSH/CALL: the hidden slot is at the new RSP; an explicit
 *     operand used the old RSP (SDM: address computed before the push).
 *  4. RSP of POP/RET: the hidden slot is at the old RSP; an explicit
 *     operand of POP uses the new RSP (SDM: computed after the increment).
 *  5. RBP of LEAVE: the old RBP is the new RSP minus the slot.
 * Anything else (mov rax,[rax], cmpxchg16b [rdx], ENTER...) is unknown.
 */
static int reg_before(const struct insn *in, int i, ZydisRegister r,
		      const struct regctx *rc, uint64_t *val)
{
	const ZydisDecodedOperand *o = &in->op[i];
	int hidden = o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN;
	uint64_t now = rc->ctx.values[r];
	uint64_t slot;

	if (rc->before) {
		*val = now;	/* nothing has run yet: the value is the one used */
		return 1;
	}

	if (in->zi.meta.category == ZYDIS_CATEGORY_STRINGOP &&
	    (r == ZYDIS_REGISTER_RSI || r == ZYDIS_REGISTER_RDI)) {
		uint64_t step = o->size / 8;

		*val = (rc->regs->eflags & EFLAGS_DF) ? now + step : now - step;
		return 1;
	}
	if (!writes_reg(in, r)) {
		*val = now;
		return 1;
	}
	if (r == ZYDIS_REGISTER_RSP) {
		slot = stack_slot(in);
		switch (in->zi.meta.category) {
		case ZYDIS_CATEGORY_PUSH:
		case ZYDIS_CATEGORY_CALL:
			*val = hidden ? now : now + slot;
			return 1;
		case ZYDIS_CATEGORY_POP:
		case ZYDIS_CATEGORY_RET:
			*val = hidden ? now - slot - ret_release(in) : now;
			return 1;
		default:
			return 0;
		}
	}
	if (r == ZYDIS_REGISTER_RBP && in->zi.mnemonic == ZYDIS_MNEMONIC_LEAVE) {
		*val = rc->ctx.values[ZYDIS_REGISTER_RSP] - o->size / 8;
		return 1;
	}
	return 0;
}

/* Floor division of a signed bit offset, for BT* with a register offset. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

/*
 * Effective address of memory operand i as the instruction used it.
 * Returns 1 and sets *ea when known; 0 when not (no registers, a base or
 * index the instruction overwrote, a vector index, XLAT).  Takes rc as
 * non-const only to patch the context for one call; it is restored.
 */
static int operand_ea(const struct insn *in, int i, struct regctx *rc, uint64_t *ea)
{
	const ZydisDecodedOperand *o = &in->op[i];
	ZydisRegister base = o->mem.base, idx = o->mem.index;
	ZydisRegister segment = o->mem.segment;
	uint64_t a, bval = 0, ival = 0;

	if (o->mem.type == ZYDIS_MEMOP_TYPE_VSIB || in->zi.mnemonic == ZYDIS_MNEMONIC_XLAT)
		return 0;
	if ((segment == ZYDIS_REGISTER_FS || segment == ZYDIS_REGISTER_GS) && !rc->regs)
		return 0;

	if (base == ZYDIS_REGISTER_RIP || base == ZYDIS_REGISTER_EIP ||
	    (base == ZYDIS_REGISTER_NONE && idx == ZYDIS_REGISTER_NONE)) {
		if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in->zi, o, in->pc, &a)))
			return 0;
	} else {
		ZydisRegisterContext *ctx = &rc->ctx;
		ZyanU64 save_b = ctx->values[base], save_i = ctx->values[idx];
		int ok;

		if (!rc->regs)
			return 0;
		if (base && !reg_before(in, i, widest(base), rc, &bval))
			return 0;
		if (idx && !reg_before(in, i, widest(idx), rc, &ival))
			return 0;
		/*
		 * Patch the pre-instruction values in for this one call, then
		 * restore (index first: base == index restores the same value).
		 * Zydis truncates to the address width itself (67 prefix).
		 */
		ctx->values[base] = bval;
		ctx->values[idx] = ival;
		ok = ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&in->zi, o, in->pc, ctx, &a));
		ctx->values[idx] = save_i;
		ctx->values[base] = save_b;
		if (!ok)
			return 0;
	}

	/*
	 * BT/BTS/BTR/BTC with a register bit offset address a bit string: the
	 * operand-sized word actually accessed is offset / width words away.
	 */
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_BT:
	case ZYDIS_MNEMONIC_BTS:
	case ZYDIS_MNEMONIC_BTR:
	case ZYDIS_MNEMONIC_BTC:
		if (in->zi.operand_count > 1 && in->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
			int64_t off, bits = o->size;

			if (!rc->regs)
				return 0;
			off = (int64_t)rc->ctx.values[widest(in->op[1].reg.value)];
			if (bits == 32)
				off = (int32_t)off;
			else if (bits == 16)
				off = (int16_t)off;
			a += (uint64_t)(floor_div(off, bits) * (bits / 8));
		}
		break;
	default:
		break;
	}

	if (segment == ZYDIS_REGISTER_FS)
		a += rc->regs->fs_base;
	else if (segment == ZYDIS_REGISTER_GS)
		a += rc->regs->gs_base;
	*ea = a;
	return 1;
}

/* How well an operand's address matches the watched range. */
enum evidence {
	EV_MISS,	/* address known and outside the range */
	EV_UNKNOWN,	/* address unknown, or no range to compare with */
	EV_HIT,		/* address known and overlapping the range */
};

struct watch {
	uint64_t addr, len;	/* len 0: nothing to compare with */
};

/* The memory operand chosen for an instruction, and why. */
struct pick {
	int opi;		/* operand index, -1 if none */
	int ea_known;
	uint64_t ea;
	enum evidence ev;
};

/*
 * Choose the memory operand that describes the access.  Best evidence first
 * (an operand whose address overlaps the watched range), then explicit
 * before hidden operands (push [x] / pop [x]: the variable, not the stack
 * slot), then operand order (MOVS: destination [rdi] before source [rsi];
 * CMPS: [rsi]).  Without registers or a range every operand is EV_UNKNOWN
 * and only the last two rules apply.
 */
static struct pick pick_operand(const struct insn *in, struct regctx *rc,
				const struct watch *w)
{
	struct pick best = { .opi = -1 };
	int best_explicit = 0;

	for (int i = 0; i < in->zi.operand_count; i++) {
		struct pick p = { .opi = i, .ev = EV_UNKNOWN };
		int is_explicit = in->op[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT;

		if (!is_access_op(in, i))
			continue;
		p.ea_known = operand_ea(in, i, rc, &p.ea);
		if (p.ea_known && w->len)
			p.ev = range_overlap(p.ea, in->op[i].size / 8, w->addr, w->len) ?
			       EV_HIT : EV_MISS;
		if (best.opi < 0 || p.ev > best.ev ||
		    (p.ev == best.ev && is_explicit > best_explicit)) {
			best = p;
			best_explicit = is_explicit;
		}
	}
	return best;
}

static void describe(const struct insn *in, const struct pick *p, struct access_insn *out)
{
	const ZydisDecodedOperand *o = &in->op[p->opi];
	int r = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_READ);
	int w = !!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);

	memset(out, 0, sizeof(*out));
	out->pc = in->pc;
	out->len = in->zi.length;
	out->type = (r && w) ? ACCESS_RMW : w ? ACCESS_WRITE : ACCESS_READ;
	out->size = o->size / 8;
	out->ea = p->ea_known ? p->ea : 0;
	/* XCHG with memory is locked by the CPU with or without the prefix. */
	out->atomic = (in->zi.attributes & ZYDIS_ATTRIB_HAS_LOCK) ||
		      in->zi.mnemonic == ZYDIS_MNEMONIC_XCHG;
	out->rep = is_rep_string(in);
	if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &in->zi, in->op,
							  in->zi.operand_count_visible,
							  out->text, sizeof(out->text),
							  in->pc, NULL)))
		out->text[0] = '\0';
}

/*
 * Postcondition: out->rep is 1 for any REP-prefixed string instruction
 * (it *can* leave RIP on itself); arch_find_access narrows that to "did".
 * ea is filled only for RIP-relative and absolute operands (no registers).
 */
int arch_decode_one(const uint8_t *code, size_t n, uint64_t pc, struct access_insn *out)
{
	struct insn in;
	struct regctx rc;
	struct watch none = { 0, 0 };
	struct pick p;

	if (!code || !out || !zydis_ready() || decode_at(code, n, pc, &in) < 0 ||
	    !touches_memory(&in))
		return -1;
	regctx_init(&rc, NULL);
	p = pick_operand(&in, &rc, &none);
	describe(&in, &p, out);
	return 0;
}

int arch_decode_before(const uint8_t *code, size_t n, uint64_t pc,
		       const struct user_regs_struct *regs, struct access_insn *out)
{
	struct insn in;
	struct regctx rc;
	struct watch none = { 0, 0 };
	struct pick p;

	if (!code || !out || !regs || !zydis_ready() || decode_at(code, n, pc, &in) < 0 ||
	    !touches_memory(&in))
		return -1;
	regctx_init(&rc, regs);
	rc.before = 1;
	p = pick_operand(&in, &rc, &none);
	describe(&in, &p, out);
	return 0;
}

/*
 * A candidate that ends at trap_pc must have fallen through to trap_pc.
 * Privileged instructions never run in user space, RET returns to a call
 * site and relative CALL/JMP go to their target: impossible unless that
 * target is trap_pc.  An indirect CALL/JMP goes where memory says: doubtful
 * but possible (a lazy PLT slot jumps to the next instruction).
 */
enum fall {
	FALL_NEVER,
	FALL_INDIRECT,
	FALL_ALWAYS,
};

/* Where a candidate for the trapping instruction came from, least sure first. */
enum origin {
	FROM_BACKWARD,	/* some length 1..15 that ends at trap_pc */
	FROM_REP,	/* REP string op at trap_pc, RCX != 0 */
	FROM_FORWARD,	/* linear decode from the function start */
};

struct cand {
	struct insn in;
	struct pick pick;
	enum fall fall;		/* how it could have reached trap_pc */
	enum origin origin;
	int reach;		/* backward only: bytes of consistent decode before it */
};

static enum fall falls_through(const struct insn *in, uint64_t trap_pc)
{
	if (in->zi.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return FALL_NEVER;
	switch (in->zi.meta.category) {
	case ZYDIS_CATEGORY_RET:
		return FALL_NEVER;
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_UNCOND_BR:
		for (int i = 0; i < in->zi.operand_count; i++) {
			uint64_t target;

			if (in->op[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
			    in->op[i].imm.is_relative)
				return ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in->zi, &in->op[i],
									     in->pc, &target)) &&
				       target == trap_pc ? FALL_ALWAYS : FALL_NEVER;
		}
		return FALL_INDIRECT;
	default:
		return FALL_ALWAYS;
	}
}

/*
 * Candidate ranking, most important first:
 *  1. an ordinary instruction over an indirect CALL/JMP (see falls_through)
 *  2. address evidence: overlaps the watched range > unknown > outside it
 *     (registers are post-instruction, so "outside" is weak evidence only)
 *  3. origin: forward decode > REP at trap_pc > backward guess
 *  4. backward only: the one reached by linear decoding from further back
 *  5. the longer instruction (a short candidate is usually a suffix of it)
 */
static int better(const struct cand *a, const struct cand *b)
{
	if (a->fall != b->fall)
		return a->fall > b->fall;
	if (a->pick.ev != b->pick.ev)
		return a->pick.ev > b->pick.ev;
	if (a->origin != b->origin)
		return a->origin > b->origin;
	if (a->reach != b->reach)
		return a->reach > b->reach;
	return a->in.zi.length > b->in.zi.length;
}

struct search {
	const uint8_t *code;
	size_t n;
	uint64_t code_base, trap_pc;
	struct watch w;
	struct regctx rc;
	struct cand best, tmp;
	int have;
};

/* Decode avail bytes at pc as a candidate; keep it if it beats the best. */
static void consider(struct search *s, uint64_t pc, size_t avail, enum origin origin, int reach)
{
	struct cand *c = &s->tmp;

	if (decode_at(s->code + (pc - s->code_base), avail, pc, &c->in) < 0 ||
	    !touches_memory(&c->in))
		return;
	if (origin != FROM_REP && pc + c->in.zi.length != s->trap_pc)
		return;
	c->fall = origin == FROM_REP ? FALL_ALWAYS : falls_through(&c->in, s->trap_pc);
	if (c->fall == FALL_NEVER)
		return;
	c->pick = pick_operand(&c->in, &s->rc, &s->w);
	c->origin = origin;
	c->reach = reach;
	if (!s->have || better(c, &s->best)) {
		s->best = *c;
		s->have = 1;
	}
}

/* (a) Start of the instruction that ends at trap_pc, decoding from 'from'. */
static int forward_walk(const struct search *s, uint64_t from, uint64_t *start)
{
	uint64_t pc = from;

	while (pc < s->trap_pc) {
		unsigned len = decode_len(s->code + (pc - s->code_base), s->trap_pc - pc);

		if (!len)
			return -1;	/* undecodable, or straddles trap_pc */
		if (pc + len == s->trap_pc) {
			*start = pc;
			return 0;
		}
		pc += len;
	}
	return -1;
}

/* (b) A REP string op at trap_pc with iterations left (RCX or ECX != 0). */
static void consider_rep(struct search *s)
{
	uint64_t avail = s->code_base + s->n - s->trap_pc;
	const struct user_regs_struct *regs = s->rc.regs;
	uint64_t count;

	if (!regs || !avail)
		return;
	if (decode_at(s->code + (s->trap_pc - s->code_base), avail, s->trap_pc, &s->tmp.in) < 0 ||
	    !is_rep_string(&s->tmp.in))
		return;
	count = s->tmp.in.zi.address_width == 64 ? regs->rcx : (uint32_t)regs->rcx;
	if (count)
		consider(s, s->trap_pc, avail, FROM_REP, 0);
}

/*
 * (c) Every length 1..15 that decodes to exactly that length and ends at
 * trap_pc.  Tie-break by reach: x86 decoding resynchronises within a few
 * instructions, so the linear decode that lands on trap_pc from the
 * furthest-back start in the window is the most likely to be in step with
 * the real boundaries.  (Counting landing starts instead is fooled by runs
 * of zero bytes, which carry a second, self-consistent stream; measured on
 * the .text of bash, python3 and libZydis: furthest-start is right for all
 * but 1 in ~50,000 memory instructions without register evidence.)
 */
static void consider_backward(struct search *s)
{
	uint64_t lo = s->trap_pc - s->code_base >= SYNC_WINDOW ?
		      s->trap_pc - SYNC_WINDOW : s->code_base;
	unsigned span = s->trap_pc - lo;
	unsigned len[SYNC_WINDOW] = { 0 };
	int reach[SYNC_WINDOW] = { 0 };

	for (unsigned k = 0; k < span; k++)
		len[k] = decode_len(s->code + (lo + k - s->code_base), span - k);
	/* Starts in address order: the first to land on an instruction sets its reach. */
	for (unsigned k = 0; k < span; k++) {
		unsigned p = k, last = k;

		while (p < span && len[p]) {
			last = p;
			p += len[p];
		}
		if (p == span && len[k] && !reach[last])
			reach[last] = span - k;
	}
	for (unsigned l = 1; l <= ZYDIS_MAX_INSTRUCTION_LENGTH && l <= span; l++)
		if (len[span - l] == l)
			consider(s, s->trap_pc - l, l, FROM_BACKWARD, reach[span - l]);
}

/*
 * Decision rules (better() ranks the candidates):
 *  (a) func_start inside the buffer and before trap_pc: decode linearly.
 *      If that lands exactly on trap_pc the boundaries are known: the
 *      instruction before is the candidate if it touches memory, and no
 *      backward guess is made even if it does not (after a SYSCALL the
 *      kernel did the access; at a function entry a CALL through memory
 *      did: guessing would invent an instruction).
 *  (b) A REP string op at trap_pc with RCX != 0 is a candidate too; its
 *      address is checked one element back, where the last iteration was.
 *  (c) Only if (a) did not land (no usable func_start, or it is not an
 *      instruction boundary): every length 1..15 ending at trap_pc that
 *      decodes to exactly that length and touches memory.
 * Candidates that cannot fall through to trap_pc (RET, privileged, a
 * relative branch elsewhere) are dropped.  rep is set only when the REP
 * candidate wins.
 */
int arch_find_access(const uint8_t *code, size_t n, uint64_t code_base,
		     uint64_t trap_pc, uint64_t func_start,
		     uint64_t watch_addr, uint64_t watch_len,
		     const struct user_regs_struct *regs,
		     struct access_insn *out)
{
	struct search s;	/* ~5 KiB, mostly the Zydis register context */
	uint64_t start;
	int landed;

	if (!code || !out || !zydis_ready() || trap_pc < code_base || trap_pc - code_base > n)
		return -1;
	s.code = code;
	s.n = n;
	s.code_base = code_base;
	s.trap_pc = trap_pc;
	s.w.addr = watch_addr;
	s.w.len = watch_len;
	s.have = 0;
	regctx_init(&s.rc, regs);

	landed = func_start >= code_base && func_start < trap_pc &&
		 forward_walk(&s, func_start, &start) == 0;
	if (landed)
		consider(&s, start, trap_pc - start, FROM_FORWARD, 0);
	consider_rep(&s);
	if (!landed)
		consider_backward(&s);
	if (!s.have)
		return -1;

	describe(&s.best.in, &s.best.pick, out);
	out->rep = s.best.origin == FROM_REP;
	return 0;
}
