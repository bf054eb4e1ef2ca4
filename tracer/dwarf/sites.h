/*
 * sites — the static site finder: which instructions of an ELF file touch
 * (or take the address of) given data ranges, found before the program runs
 * by decoding the file's own executable bytes.  The code-site backend plants
 * a breakpoint on each site (DESIGN.md 3b, issue 12); the unnamed-access
 * sampler draws a uniform sample of all memory-accessing instructions
 * (SITES_ALL_MEM, issue 13).
 *
 * Everything here is link-time: pcs, ranges and operand addresses are file
 * vaddrs (add the module's load bias for run-time addresses).  The bytes are
 * always the file's, never target memory, where breakpoints may already sit.
 *
 *   sites.c              ELF: executable sections, function starts, sweep
 *   arch/x86/sites_x86.c one instruction -> struct site (Zydis)
 *   sites_vars.c         the watchable variables of an executable
 */
#ifndef RACEWATCH_SITES_H
#define RACEWATCH_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "symbols.h"

struct site_range { uint64_t addr, len; };	/* link-time (file vaddr) ranges */

struct site {
	uint64_t pc;		/* link-time address of the instruction */
	uint8_t len;		/* instruction length */
	uint8_t bytes[15];	/* the instruction's bytes as in the file */
	uint8_t type;		/* enum access_type: ACCESS_READ / WRITE / RMW (arch.h);
				 * 0: no memory access (lea, mov reg,imm...) */
	uint8_t size;		/* memory operand size in bytes (0 unknown) */
	uint8_t atomic;		/* LOCK prefix or XCHG with memory */
	uint8_t riprel;		/* memory operand is RIP-relative */
	int8_t  disp_off;	/* riprel: offset of the 32-bit displacement in bytes[], else -1 */
	uint8_t flow;		/* cannot be executed out of line followed by a jmp back:
				 * branches, calls, ret, anything reading/pushing RIP other
				 * than a plain riprel memory operand, syscall, int3, etc. */
	uint8_t addr_taken;	/* not an access to the range: computes its address
				 * (lea, mov $imm); type/size still describe any other
				 * memory operand the instruction has */
	uint64_t ea;		/* static operand address (link-time) if known, else 0;
				 * addr_taken: the address computed */
	int range;		/* index into ranges[] it hits, -1 in SITES_ALL_MEM mode */

	/* Added for the callers' policies; sites_classify() fills them all. */
	uint8_t indexed;	/* non-PIE only: ea is the displacement of an operand with
				 * base/index registers (arr[i]); the real address is only
				 * known from the registers at the hit */
	uint8_t stack;		/* memory operand based on RSP or RBP */
	uint8_t tls;		/* memory operand is FS- or GS-relative */
	uint8_t string;		/* string instruction (movs, stos, cmps...; rep or not) */
	uint8_t sampleable;	/* a real memory access SITES_ALL_MEM keeps: not stack,
				 * TLS, string, flow, lea, nop or prefetch */
	uint64_t imm;		/* non-PIE: an immediate that may be an address (>= 64 KiB),
				 * else 0 (mov [x], $var takes var's address) */
};

#define SITES_ALL_MEM	0x1	/* every memory-accessing instruction (see sites_find), ignore ranges */

/*
 * Decode the executable sections of the ELF file at elf_path (sections with
 * SHF_EXECINSTR, linearly, resynchronising at every function symbol) and
 * return the sites in *out (malloc'd, free() it; sorted by pc, one per pc),
 * their number in *nout.
 *
 * Default mode: a site per instruction whose static memory operand
 * [ea, ea + size) overlaps one of the ranges (RIP-relative; in non-PIE also
 * absolute and, with indexed = 1, disp + registers); else a site with
 * addr_taken = 1 per instruction that computes an address inside a range
 * without accessing it there (lea [rip+x]; mov reg/mem, $imm in non-PIE).
 * range is the lowest index among the ranges the operand overlaps.
 *
 * SITES_ALL_MEM: a site per instruction with sampleable = 1, ranges ignored
 * (may be NULL), range = -1, ea the static address when RIP-relative (or
 * absolute, non-PIE) else 0 (indexed operands too).
 *
 * Returns 0, or -1 with a one-line reason in err (unreadable, not ELF, not
 * x86-64, out of memory).  A file with no executable section gives 0 sites.
 */
int sites_find(const char *elf_path, const struct site_range *ranges, int nranges,
	       unsigned flags, struct site **out, size_t *nout, char *err, size_t errlen);

/*
 * Pure: classify the one instruction at code (n bytes available) that lives
 * at link-time address pc of a PIE (pie = 1: absolute operands and
 * immediates are never addresses) or non-PIE file.  Fills every field of
 * *out except range (set to -1).  Returns the instruction length, or 0 if
 * the bytes do not decode (out is then zeroed).  Implemented per arch
 * (tracer/arch/x86/sites_x86.c).
 */
unsigned sites_classify(const uint8_t *code, size_t n, uint64_t pc, int pie,
			struct site *out);

/*
 * Pure: the step of the sweep.  Decodes the instruction at code and
 * classifies it as sites_classify() does when it could be a site in mode
 * flags (*classified = 1), else only measures it (*classified = 0, *out
 * zeroed but for disp_off = range = -1): most instructions never need
 * their operands decoded, which is most of the decoding time.  Returns the
 * length, 0 if the bytes do not decode.  SITES_CLASSIFY_ALL classifies
 * every instruction.
 */
#define SITES_CLASSIFY_ALL	0x100
unsigned sites_step(const uint8_t *code, size_t n, uint64_t pc, int pie, unsigned flags,
		    struct site *out, int *classified);

/*
 * The watchable variables of an executable, the set `racewatch vars` lists
 * and --watch-all watches: file-scope data with a fixed address (globals and
 * file statics, from DWARF, plus ELF-only data objects of code built without
 * -g), size > 0, in a writable, non-RELRO PT_LOAD segment.  Left out:
 * thread-local, read-only (.rodata, .data.rel.ro), racewatch's own
 * racewatch_registry and .racewatch_* sections, data copied from shared
 * libraries by R_X86_64_COPY (stdout...), ELF-only names reserved to the
 * implementation (__dso_handle, _IO_stdin_used) and compiler-made ones
 * (completed.0).  Function statics are left out too (they are watched as
 * func::name).
 *
 * *out (malloc'd, free() it; strings owned by st) is sorted by name, then
 * declaration file; *n is its length.  Returns 0, or -1 with a reason in
 * err if the ELF file cannot be read again.
 */
int sites_watchable(const struct symtab *st, struct sym_var **out, size_t *n,
		    char *err, size_t errlen);
/* The same for the variables called name only (NULL: all), without
 * indexing the units that do not define it. */
int sites_watchable_named(const struct symtab *st, const char *name, struct sym_var **out,
			  size_t *n, char *err, size_t errlen);

/*
 * `racewatch vars PROG [PATTERN]`: print the watchable variables of prog
 * whose name matches the fnmatch() glob pattern (all if NULL), one aligned
 * line each.  Returns the exit status: 0, 1 when nothing matched, 2 after a
 * one-line error (prog missing, not ELF).
 */
int sites_vars_main(const char *prog, const char *pattern);

#endif
