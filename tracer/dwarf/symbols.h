/*
 * symbols — what the ELF and DWARF of one module (executable or shared
 * library) say: functions, source lines with inline frames, and variables
 * with their types.  Addresses here are link-time addresses ("unbiased");
 * struct addrspace (addrspace.h) adds the load bias of a running process.
 *
 * Built on libelf + libdwarf.  A module without DWARF still answers function
 * names and variable addresses from the ELF symbol table (lines are then
 * unknown: sym_has_dwarf() says so, so callers can warn).
 */
#ifndef RACEWATCH_SYMBOLS_H
#define RACEWATCH_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct symtab;			/* one loaded module, opaque */
struct sym_type;		/* a DWARF type, opaque; owned by its symtab */

/* One frame of the (possibly inlined) call chain at a pc. */
struct sym_frame {
	const char *func;	/* function name, or NULL if unknown */
	const char *file;	/* source path as DWARF gives it, or NULL */
	int line;		/* 0 if unknown */
	int inlined;		/* 1: this frame was inlined into the next one */
};

/* Where a variable lives; only SYM_STATIC can be watched. */
enum sym_var_kind {
	SYM_STATIC,		/* fixed address in the module (global, file or function static) */
	SYM_TLS,		/* thread-local (__thread / _Thread_local) */
	SYM_REGISTER,		/* lives in a register */
	SYM_STACK,		/* automatic variable on the stack */
	SYM_OPTIMIZED_OUT,	/* no location at all */
};

struct sym_var {
	const char *name;	/* as written in the source */
	const char *func;	/* enclosing function for a function-static, else NULL */
	enum sym_var_kind kind;
	uint64_t addr;		/* link-time address (SYM_STATIC only) */
	uint64_t size;		/* bytes, 0 if unknown */
	const struct sym_type *type;	/* NULL when only the ELF symbol is known */
	const char *decl_file;	/* where it is declared (DW_AT_decl_file), or NULL */
	int decl_line;		/* 0 if unknown */
	const char *cu;		/* file scope: the unit's name (DW_AT_name of the
				 * .c file), or NULL */
	int external;		/* a global (external linkage), not a static */
};

/*
 * Open path.  Its DWARF is indexed one compilation unit at a time, when a
 * query first needs that unit (symbols_lazy.c), or, for DWARF the unit
 * directory cannot read (compressed sections...), whole here.  Returns NULL with a one-line reason in err
 * ("not an ELF file", "cannot open: ...") on failure; never exits.
 */
struct symtab *sym_open(const char *path, char *err, size_t errlen);
void sym_close(struct symtab *st);

const char *sym_path(const struct symtab *st);
/* The separate debug file the DWARF was read from (a stripped library with
 * its -dbg package installed: /usr/lib/debug/.build-id/xx/yyyy.debug), or
 * NULL when the DWARF is the module's own or there is none. */
const char *sym_debug_path(const struct symtab *st);
int sym_has_dwarf(const struct symtab *st);
/* 1 when the module has DWARF that libdwarf crashed on: sym_open() said so
 * in a warning and the module answers from its ELF symbol table. */
int sym_dwarf_crashed(const struct symtab *st);
int sym_is_pie(const struct symtab *st);	/* ET_DYN */
uint64_t sym_entry(const struct symtab *st);	/* e_entry, link-time */

/* A PT_LOAD program header, for computing the load bias (addrspace.c). */
struct sym_segment {
	uint64_t vaddr;		/* p_vaddr, link-time */
	uint64_t memsz;		/* p_memsz */
	uint64_t offset;	/* p_offset in the file */
	uint64_t filesz;	/* p_filesz */
};

/* The PT_LOAD segments in file order; returns how many (*segs owned by st). */
size_t sym_segments(const struct symtab *st, const struct sym_segment **segs);

/*
 * The ELF function symbol containing addr: returns its name and sets
 * *start / *size (link-time), or returns NULL.
 */
const char *sym_func_at(const struct symtab *st, uint64_t addr,
			uint64_t *start, uint64_t *size);

/*
 * Without opening (indexing) it: does the object at path name `name` in its
 * ELF symbol tables (or its separate debug file's)?  1 yes, 0 no, -1 it
 * cannot tell (no full symbol table anywhere).  A -w lookup skips the
 * libraries that say 0.
 */
int sym_file_defines(const char *path, const char *name);

/* The link-time address of the function called name (symbol tables,
 * .dynsym included).  0, or -1 if there is none. */
int sym_func_named(const struct symtab *st, const char *name, uint64_t *addr);

/*
 * The source frames at addr, innermost first: out[0] is the function the
 * instruction belongs to (possibly inlined, then out[0].inlined = 1 and
 * out[1] is the function it was inlined into, with the call site's line).
 * Returns the number of frames written (0 if nothing is known).
 */
int sym_frames_at(const struct symtab *st, uint64_t addr,
		  struct sym_frame *out, int max);

/* Only the source line at addr (the innermost frame's, as sym_frames_at()'s
 * out[0]), cheaper on a lazily indexed module: its unit's line rows alone
 * are read.  0 with *file and *line, or -1 if unknown. */
int sym_line_at(const struct symtab *st, uint64_t addr, const char **file, int *line);

/*
 * Find a variable (symbols_find.c).  func == NULL: a global or file-static
 * named name (a global wins over a file-static of another CU; among
 * several file-statics the first CU wins: sym_find_vars tells when there
 * is a choice).  func != NULL: the static local `name` of function func,
 * or of the function a compiler-made name comes from ("f.part.0",
 * "f.constprop.0", "main._omp_fn.0" -> f, main).  Returns 0 and fills
 * *out, or -1 if there is no such variable.  Also finds TLS/register/stack
 * variables so callers can refuse them with the reason.
 */
int sym_find_var(const struct symtab *st, const char *func, const char *name,
		 struct sym_var *out);

/*
 * Every distinct file-scope definition of name with a fixed address
 * (globals and the file statics of each unit), best first.  Writes up to
 * max into out and returns how many there are.
 */
int sym_find_vars(const struct symtab *st, const char *name, struct sym_var *out, int max);

/* Some function's automatic local named name (not a static: those are
 * func::NAME), for "x is a stack local of f()": 0 and *out, or -1. */
int sym_find_local(const struct symtab *st, const char *name, struct sym_var *out);

/* The fixed-address variable whose bytes hold addr (link-time), the
 * smallest if several do: 0 and *out, or -1. */
int sym_var_at(const struct symtab *st, uint64_t addr, struct sym_var *out);
/* The same as cheaply as it is known, to name a sampled access while the
 * program runs: a lazily indexed module that has not read the unit answers
 * from its ELF symbols (name, address, size only; a function static's
 * "count.0" as "count") instead of indexing the unit there and then. */
int sym_static_at(const struct symtab *st, uint64_t addr, struct sym_var *out);

/* 1 if name is a function of the module (ELF symbol or DWARF subprogram). */
int sym_is_function(const struct symtab *st, const char *name);

/* Pointer t's target type (typedefs and qualifiers looked through): 0 and
 * *pt, or -1 if t is not a pointer.  *pt is NULL for void *. */
int sym_type_pointee(const struct sym_type *t, const struct sym_type **pt);

/*
 * Variable i of the module's index, for walking all of them (0 <= i <
 * sym_var_count(st)): every kind, file scope and function statics, in an
 * order that is stable for one symtab but otherwise unspecified.  Returns 0
 * and fills *out, or -1 when i is out of range.
 */
size_t sym_var_count(const struct symtab *st);
int sym_var_index(const struct symtab *st, size_t i, struct sym_var *out);
/* Like sym_var_count(), but only the variables named name are sure to be
 * among the first sym_var_count_named() entries (a lazily indexed module
 * reads just the units defining name, not all). */
size_t sym_var_count_named(const struct symtab *st, const char *name);

/*
 * Up to max known variable names closest to name (edit distance), best
 * first, for "did you mean" messages.  Returns how many were written.
 */
int sym_suggest(const struct symtab *st, const char *name,
		const char **out, int max);

/* Types.  Qualifiers and typedefs are looked through by every call. */
uint64_t sym_type_size(const struct sym_type *t);
/* "int", "struct foo", "char [16]"...: for messages. */
const char *sym_type_name(const struct sym_type *t);
/* 1 if t (or a typedef/qualifier chain of it) is volatile or _Atomic. */
int sym_type_is_marked(const struct sym_type *t);
/*
 * Member member of struct/union t: 0 and *off, *mt, or -1 with a reason in
 * err ("struct foo has no member bar", "int is not a struct").  A bit-field
 * member yields the bytes that contain it.
 */
int sym_type_member(const struct sym_type *t, const char *member,
		    uint64_t *off, const struct sym_type **mt,
		    char *err, size_t errlen);
/*
 * Element i of array t (arrays only: pointers are never followed): 0 and
 * *off (bytes from the start of t), *et; or -1 with a reason in err ("index
 * 16 out of bounds for char [16]", "int * is a pointer, not an array").
 * A multi-dimensional array is an array of arrays: m[1] of int [3][4] is
 * an int [4].
 */
int sym_type_index(const struct sym_type *t, uint64_t i,
		   uint64_t *off, const struct sym_type **et,
		   char *err, size_t errlen);
/*
 * The C path to bytes [off, off + size) inside an object of type t, to
 * append to the object's name: ".balance", ".pos.xy[1]", "[3].key"; "" for
 * padding or a scalar.  Descends into the member or element holding byte
 * off while the access fits in it; an access spanning several members or
 * elements ends at the first one it touches (symbols_path.c has the rules).
 * size 0 counts as 1.  Returns 0, or -1 if off is not inside t or out
 * (outlen bytes with the NUL) is too small.
 */
int sym_type_path(const struct sym_type *t, uint64_t off, uint64_t size,
		  char *out, size_t outlen);

/*
 * Name the bytes the instruction at link-time pc accesses through a
 * pointer held in a register: "struct account.balance", "struct node.hits",
 * "struct pos.xy[1]".
 *
 * base_dwreg is the DWARF register number of the memory operand's base
 * (x86-64: rax 0, rdx 1, rcx 2, rbx 3, rsi 4, rdi 5, rbp 6, rsp 7, r8-r15
 * 8-15; arch_mem_base() in arch.h gives it from the instruction's bytes),
 * disp the operand's displacement, size the access's bytes (0: unknown).
 * The pointer is the variable or formal parameter (of the function at pc
 * or of a scope nested in it: lexical block, inlined subroutine) whose
 * location at pc is that register (DW_OP_regN, or register + k as a value),
 * read from DW_AT_location: one expression or a DWARF 4/5 location list
 * entry covering pc.  Innermost scope first among several.  The name is its
 * pointee type (a struct, union or array; a typedef's name is kept) and
 * the path of sym_type_path() at disp: an access spanning members is named
 * by the first member it touches ("struct account.balance" for a 16-byte
 * vector add of balance and ops).
 *
 * Returns 0 with the name in out (outlen bytes with the NUL), or -1 when
 * DWARF does not tell: no such variable at pc, a pointer spilled to the
 * stack, a pointer to a scalar or to void, disp outside the pointee, an
 * indexed operand (the caller passes none), no DWARF.  The first call on a
 * symtab reopens the module's DWARF and keeps it until sym_close(); each
 * function's variables are read once, on its first call (not thread-safe).
 */
int sym_name_through_ptr(const struct symtab *st, uint64_t pc, int base_dwreg,
			 int64_t disp, unsigned size, char *out, size_t outlen);

#endif
