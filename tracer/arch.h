/*
 * arch — the architecture-specific half of the tracer behind one small
 * interface: which instruction caused a data-breakpoint trap and what it did,
 * and how hardware breakpoint slots are laid out.  x86-64 only today; the
 * implementation lives in tracer/arch/x86/.
 */
#ifndef RACEWATCH_ARCH_H
#define RACEWATCH_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

enum access_type {
	ACCESS_READ  = 1,
	ACCESS_WRITE = 2,
	ACCESS_RMW   = 3,	/* read-modify-write: READ | WRITE */
};

/* One decoded memory-accessing instruction. */
struct access_insn {
	uint64_t pc;		/* run-time address of the instruction's first byte */
	unsigned len;		/* instruction length in bytes */
	enum access_type type;	/* what it did to its memory operand */
	unsigned size;		/* bytes of the memory operand (0 if unknown) */
	uint64_t ea;		/* effective address when computable, else 0 */
	int atomic;		/* LOCK prefix, or XCHG with a memory operand */
	int rep;		/* REP string instruction that left RIP on itself */
	char text[96];		/* Intel-syntax disassembly, for messages */
};

/*
 * Find the instruction whose execution raised a data-breakpoint trap.
 *
 * Data breakpoints trap after the instruction, so trap_pc (RIP at the trap)
 * is normally the address of the *next* instruction; for a REP string
 * instruction with iterations left RIP stays on the instruction itself.
 *
 * code holds target memory [code_base, code_base + n).  Precondition: it
 * covers trap_pc - 15 .. trap_pc + 15, and from func_start when func_start
 * is non-zero (func_start = run-time start of the containing function, used
 * to decode forward instead of guessing backward).  watch_addr/watch_len is
 * the watched range that fired; regs are the thread's registers at the trap
 * (used to compute effective addresses and to choose among candidates).
 *
 * Returns 0 and fills *out, or -1 if no memory-accessing instruction can be
 * found that ends at trap_pc (or is a REP string op at trap_pc).
 */
int arch_find_access(const uint8_t *code, size_t n, uint64_t code_base,
		     uint64_t trap_pc, uint64_t func_start,
		     uint64_t watch_addr, uint64_t watch_len,
		     const struct user_regs_struct *regs,
		     struct access_insn *out);

/*
 * Decode the single instruction at code (run-time address pc) and describe
 * its memory operand.  Returns 0, or -1 if it does not decode or touches no
 * memory.  Pure: used by arch_find_access and by the unit tests.
 */
int arch_decode_one(const uint8_t *code, size_t n, uint64_t pc,
		    struct access_insn *out);

/*
 * The same for an instruction that has not run yet (a code breakpoint on
 * it): regs are the thread's registers as the instruction will use them
 * (RIP aside: pc is where it sits), so every effective address is known
 * except vector (VSIB) and XLAT operands.  Returns 0, or -1 as above.
 */
int arch_decode_before(const uint8_t *code, size_t n, uint64_t pc,
		       const struct user_regs_struct *regs, struct access_insn *out);

/*
 * How the memory operand of the instruction at code (n bytes available) is
 * addressed, for naming the bytes through the pointer in its base register
 * (sym_name_through_ptr()): *dwreg the base's DWARF register number, *disp
 * the displacement.  Returns 0, or -1 if the bytes do not decode, touch no
 * memory, or the operand has no 64-bit general-purpose base or has an
 * index register or an FS/GS segment (RIP-relative, absolute, [rax+rcx*8],
 * TLS).  Pure.
 */
int arch_mem_base(const uint8_t *code, size_t n, int *dwreg, int64_t *disp);

#endif
