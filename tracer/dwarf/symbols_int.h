/*
 * symbols_int — what the symbols*.c files share (see symbols.c for which
 * does what).  Private to them: nothing else includes it.  Exported names
 * here are prefixed symi_ so they stay apart from the public sym_ API.
 *
 * Ownership: every string, type and member lives in the symtab's arena and
 * dies with sym_close(); the arrays (functions, variables, lines, scopes) are
 * plain malloc'd vectors freed there too.  libdwarf is used only while
 * units are indexed (at sym_open(), or in a lazy step, symbols_lazy.c) and
 * is finished each time, so a symtab holds no libdwarf or libelf state in
 * between, with one exception: sym_name_through_ptr() reopens the DWARF on
 * its first call and keeps it (st->ptr) until sym_close().
 */
#ifndef RACEWATCH_SYMBOLS_INT_H
#define RACEWATCH_SYMBOLS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <dwarf.h>
#include <libdwarf.h>

#include "symbols.h"

/* ---- containers (symbols_util.c) -------------------------------------- */

struct arena_blk;

/* A bump allocator: many small objects, freed all at once. */
struct arena {
	struct arena_blk *head;
	int failed;		/* an allocation failed: the index is incomplete */
	int sealed;		/* the next allocation starts a new block */
};

void *symi_alloc(struct arena *a, size_t n);	/* zeroed, 8-aligned; NULL on OOM */
/* Start a new block at the next allocation (the guard's child does, so that
 * nothing it allocates lands in a block the parent owns). */
void symi_arena_seal(struct arena *a);
void symi_arena_free(struct arena *a);	/* blocks of a guard region stay */

/*
 * Grow *v (elements of elsz bytes) so that it holds at least n + 1.
 * Returns a pointer to element n (zeroed), or NULL on OOM.
 */
void *symi_push(void **v, size_t *cap, size_t n, size_t elsz);

struct symtab;
/* free(p) unless p lies in st's guard region (symbols_guard.c), which
 * sym_close() unmaps whole; st may be NULL. */
void symi_vfree(const struct symtab *st, void *p);
int symi_in_region(const struct symtab *st, const void *p);

/* uint64 -> pointer hash map (DIE offsets to names and types, file ids). */
struct symi_map {
	uint64_t *keys;
	void **vals;
	size_t cap, n;
};

void *symi_map_get(const struct symi_map *m, uint64_t key);
int symi_map_put(struct symi_map *m, uint64_t key, void *val);	/* -1 on OOM */
void symi_map_free(struct symi_map *m);

/* ---- the index ------------------------------------------------------- */

/* An ELF function symbol; size is the effective extent (see symbols.c). */
struct sym_fn {
	uint64_t start, size;
	uint64_t sec_end;	/* end of its section, bounds a size-0 symbol */
	const char *name;
	int rank;		/* lower is preferred among aliases */
};

/* Variable ranks for sym_find_var(): lower wins among same-named entries. */
enum {
	RANK_GLOBAL,		/* SYM_STATIC, external linkage */
	RANK_FILE_STATIC,	/* SYM_STATIC, internal linkage */
	RANK_TLS,
	RANK_LOCAL,		/* register / stack */
	RANK_GONE,		/* optimized out */
};

#define SEQ_ELF UINT64_MAX

struct sym_varent {
	const char *name;
	const char *func;	/* enclosing function, NULL at file scope */
	const char *qname;	/* "func::name" for function statics, else NULL */
	enum sym_var_kind kind;
	uint64_t addr, size;
	const struct sym_type *type;
	int rank;
	uint64_t seq;		/* discovery order: earlier CU first (the unit's
				 * offset << 20, then a count); SEQ_ELF: an ELF
				 * symbol DWARF does not describe */
	const char *decl_file;	/* DW_AT_decl_file (statics only), or NULL */
	uint32_t decl_line;
	const char *cu;		/* the unit's DW_AT_name (file statics), or NULL */
};

/* One pc -> line row; file == LINE_END marks the end of a sequence. */
#define LINE_END UINT32_MAX
struct sym_line {
	uint64_t addr;
	uint32_t line;
	uint32_t file;		/* index into symtab.files */
};

struct sym_range {
	uint64_t lo, hi;	/* [lo, hi) */
};

/*
 * A subprogram or inlined subroutine with code.  Scopes are stored in
 * pre-order: the scopes nested in scope i are i+1 .. end-1, so a lookup
 * descends by skipping whole subtrees that do not contain the pc.
 */
struct sym_scope {
	const char *name;
	const char *call_file;	/* inlined: where the call was written */
	uint32_t call_line;
	uint32_t end;		/* one past the last nested scope */
	uint32_t rfirst, nranges;	/* into symtab.ranges */
	int inlined;
};

/* A range of an outermost (non-inlined) scope, for the first lookup step. */
struct sym_top {
	uint64_t lo, hi;
	uint32_t scope;
};

struct symtab {
	char *path;
	char *debug_path;	/* the separate debug file DWARF came from, or NULL */
	int is_pie;
	int has_dwarf;
	int dwarf_crashed;	/* libdwarf crashed on it (symbols_guard.c) */
	uint64_t entry;

	struct arena arena;
	const char **strs;	/* interned strings: open-addressed set */
	size_t strcap, nstrs;

	struct sym_segment *segs;
	size_t nsegs, capsegs;

	struct sym_fn *fns;
	size_t nfns, capfns;

	struct sym_varent *vars;
	size_t nvars, capvars;

	struct sym_line *lines;
	size_t nlines, caplines;
	const char **files;
	size_t nfiles, capfiles;

	struct sym_scope *scopes;
	size_t nscopes, capscopes;
	struct sym_range *ranges;
	size_t nranges, capranges;
	struct sym_top *tops;
	size_t ntops, captops;

	int oom;		/* some allocation failed while indexing */

	/* sym_name_through_ptr()'s state (symbols_ptr.c): made on its first
	 * call, the one part of a symtab that changes after sym_open(). */
	struct symi_ptr *ptr;

	/* The shared mappings the guard's children indexed into
	 * (symbols_guard.c): they hold arena blocks, unmapped by sym_close(). */
	struct symi_region *regions;
	size_t nregions, capregions;

	/* The units not indexed yet (symbols_lazy.c), or NULL when sym_open()
	 * indexed everything. */
	struct symi_lazy *lazy;

	/* Set in the guard's child during a lazy step: the strings it interns
	 * are logged for the parent, and sorting is left to the parent, which
	 * takes only what the step appended (symbols_guard.c). */
	int delta;
	const char **strlog;
	size_t nstrlog, capstrlog;
};

struct symi_region {
	void *p;
	size_t len;
};

/* An ELF data object, kept until DWARF has been read (symbols.c's
 * add_elf_objects folds them in). */
struct symi_obj {
	const char *name;
	uint64_t addr, size;
	int tls, global;
	int hidden;		/* not an identifier ("count.0"): kept only to
				 * find the unit of an address (lazy mode) */
	const char *file;	/* a local's STT_FILE (lazy mode), or NULL */
	int nodwarf;		/* lazy: no unit holds its address (assembly) */
};

struct symi_objs {
	struct symi_obj *v;
	size_t n, cap;
	size_t nfiles;		/* STT_FILE symbols seen */
};

/* ---- the unit directory (symbols_cudir.c) and lazy indexing
 * (symbols_lazy.c) ------------------------------------------------------ */

/* A unit defining a name at top level; a list per name. */
struct symi_curef {
	uint32_t cu;
	struct symi_curef *next;
};

struct symi_cu {
	uint64_t off;		/* unit header in .debug_info */
	const char *name;	/* DW_AT_name, interned, or NULL */
	uint64_t lo, hi;	/* DW_AT_low_pc / high_pc, 0 if not given */
	int anywhere;		/* pc ranges unknown (DW_AT_ranges only) */
	int indexed;		/* SYMI_DIES | SYMI_ROWS read so far */
};

struct symi_curange {
	uint64_t lo, hi;
	uint32_t cu;
};

struct symi_lazy {
	char *path;		/* the file the DWARF is in (module or debug file) */
	struct symi_cu *cus;
	size_t ncus, capcus;
	struct symi_curange *ranges;
	size_t nranges, capranges;
	struct symi_map names;	/* interned name -> struct symi_curef list */
	struct symi_objs objs;	/* ELF data symbols, merged in after each step */
	size_t nindexed;
	int failed;		/* indexing failed: ELF symbols only from then on */
	int names_read;		/* names map: 0 not yet, 1 read, -1 failed */
	int elf_partial;	/* .symtab lacks locals' STT_FILEs: names go by DWARF */
	uint64_t info_off, info_size;	/* .debug_info in the file (info_off
					 * UINT64_MAX: compressed) */
};

/* Read the directory from elf (a libelf Elf *) into a new symi_lazy, names
 * interned in st; NULL when the DWARF is absent, compressed or uses
 * something the reader does not know (then index it all, the old way). */
struct symi_lazy *symi_cudir_read(struct symtab *st, void *elf);
void symi_lazy_free(struct symi_lazy *lz);
/* Read the names of every unit's top-level DIEs into lz->names (once);
 * 0, or -1 if the file cannot be read as at open. */
int symi_cudir_names(struct symtab *st);
/* The units defining interned name at top level, or NULL (after
 * symi_cudir_names()). */
const struct symi_curef *symi_cudir_named(const struct symi_lazy *lz, const char *interned);
/* Up to max units whose DIEs contain DW_OP_addr addr. */
size_t symi_cudir_addr(const struct symi_lazy *lz, uint64_t addr, uint32_t *out, size_t max);
/* Up to max units whose pc ranges hold pc (else those with unknown ranges). */
size_t symi_cudir_at(const struct symi_lazy *lz, uint64_t pc, uint32_t *out, size_t max);

/* Index what a query needs before it reads st (no-ops on an eager symtab):
 * the units defining name, the units holding pc, the units of the ELF
 * symbols covering a data address, everything. */
void symi_need_name(const struct symtab *st, const char *name);
/* The same for a name only wanted as a fixed-address variable: the ELF
 * symbols tell where (no unit defines one without a symbol). */
void symi_need_static(const struct symtab *st, const char *name);
void symi_need_pc(const struct symtab *st, uint64_t pc);
void symi_need_rows(const struct symtab *st, uint64_t pc);	/* line rows only */
void symi_need_addr(const struct symtab *st, uint64_t addr);
void symi_need_all(const struct symtab *st);

/* Fold objs into st->vars after DWARF (symbols.c); leaves vars sorted. */
void symi_add_elf_objects(struct symtab *st, struct symi_objs *objs);

/* ---- the guard (symbols_guard.c) -------------------------------------- */

/*
 * The DWARF stage of sym_open(): index st's DWARF (and its separate debug
 * file's symbols into objs), returning 1 / 0 / -1 as symi_dwarf_index().
 * It may call symi_guard_stage() to say which file it is reading.
 */
typedef int symi_stage_fn(struct symtab *st, struct symi_objs *objs, void *arg,
			  char *err, size_t errlen);

/*
 * Run stage in a forked child so that nothing libdwarf or libelf does with
 * a hostile file can reach this process: the child allocates the index in
 * a shared mapping at the same address in both processes, and this process
 * adopts it when the child exits normally.  Precondition: fd is st's file
 * open for reading.  Returns stage's result; -1 with has_dwarf left 0 when
 * the child crashed (one warning per file and run, and later opens of the
 * same file skip DWARF without forking) or could not be run.
 */
int symi_guard_index(struct symtab *st, int fd, struct symi_objs *objs,
		     symi_stage_fn *stage, void *arg, char *err, size_t errlen);
/* In the child: which file the stage now reads (named by the warning). */
void symi_guard_stage(const char *path);

/*
 * Verify-then-do for later libdwarf work on a module (symbols_ptr.c): run
 * fn(arg) in a forked child first, which starts as an exact copy of this
 * process, so the same call made here afterwards does the same thing.
 * Returns 0 if the child finished; -1 if it crashed (warned once for path)
 * or path is already known to crash.
 */
int symi_guard_check(const char *path, void (*fn)(void *), void *arg);

/* 1 while the guard's child indexes: arena blocks come from the region. */
int symi_region_active(void);
void *symi_region_alloc(size_t n);	/* NULL when the region is full */

/* Test and benchmark knobs from RACEWATCH_TEST_DWARF (a comma list):
 * "noguard" indexes in this process (the old way), "nocheck" skips
 * symi_dwarf_precheck().  1 if knob is set. */
int symi_test_knob(const char *knob);

/* Free st->ptr (sym_close()). */
void symi_ptr_free(struct symi_ptr *p);

/* The first variable named name (an interned pointer) in the sorted
 * st->vars, or NULL (symbols_lookup.c). */
const struct sym_varent *symi_first_named(const struct symtab *st, const char *name);

/* Make room for more strings at once (one rehash, not one per doubling);
 * 0, or -1 on OOM. */
int symi_strs_reserve(struct symtab *st, size_t more);
/* Put p, a string another process interned (a lazy step's child), in the
 * set as it is; 0, or -1 on OOM. */
int symi_intern_ptr(struct symtab *st, const char *p);
/* Sort st->tops by address (after a unit's scopes were added). */
void symi_sort_tops(struct symtab *st);
/* The one copy of s (NULL in, NULL out; NULL on OOM). */
const char *symi_intern(struct symtab *st, const char *s);
/* The interned copy of s if there is one; never adds. */
const char *symi_lookup(const struct symtab *st, const char *s);
const char *symi_internf(struct symtab *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- DWARF (symbols_dwarf.c, symbols_vars.c, symbols_lines.c) ------- */

/*
 * Attribute readers shared with symbols_types.c.  Each swallows libdwarf's
 * error object (a malformed attribute is just "absent") and returns 0 when
 * the attribute was read, -1 otherwise.
 */
int symi_udata(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, uint64_t *out);
int symi_sdata(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, int64_t *out);
int symi_ref(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *out);
int symi_flag(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at);	/* 1 if set */
const char *symi_name(struct symtab *st, Dwarf_Debug dbg, Dwarf_Die die);

/* The sibling DIE after c, or NULL at the end or on error; c is freed. */
Dwarf_Die symi_next_sibling(Dwarf_Debug dbg, Dwarf_Die c);
/* res == DW_DLV_OK; frees the error object libdwarf returned otherwise. */
int symi_ok(Dwarf_Debug dbg, int res, Dwarf_Error *e);
/* dwarf_attr() that is simply false when absent or malformed. */
int symi_attr(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *a);

/*
 * The pc ranges of die: DW_AT_low_pc/high_pc, or DW_AT_ranges read from
 * .debug_rnglists (version >= 5) or .debug_ranges (offsets from base, the
 * unit's DW_AT_low_pc).  add(arg, lo, hi) gets each non-empty [lo, hi) that
 * does not start at 0 (discarded code) and returns 1 if it kept it.
 * Returns how many were kept.
 */
typedef int symi_range_fn(void *arg, uint64_t lo, uint64_t hi);
uint32_t symi_ranges(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half version,
		     uint64_t base, symi_range_fn *add, void *arg);

struct symi_types;

/* The state of one symi_dwarf_index() run. */
struct dw {
	struct symtab *st;
	Dwarf_Debug dbg;
	struct symi_types *types;
	struct symi_map names;	/* DIE offset -> interned name, or a "none" mark */
	struct symi_map fileids;	/* interned path -> files[] index + 1 */

	/* The current compilation unit. */
	Dwarf_Half version;
	uint64_t base;		/* DW_AT_low_pc: base of DWARF 4 ranges */
	const char *cuname;	/* DW_AT_name, interned */
	uint32_t *cufiles;	/* file number - fbase -> files[] index */
	size_t ncufiles, capcufiles;
	int64_t fbase;		/* 0 for DWARF 5, 1 before */

	uint64_t seq;
	Dwarf_Off *pending;	/* nested subprograms, indexed after their parent */
	size_t npending, cappending;
	int depth;
};

/* File number fileno of the current unit's file table (DW_AT_call_file,
 * DW_AT_decl_file) as an interned path, or NULL. */
const char *symi_cu_file(struct dw *d, uint64_t fileno);
/* A DIE's name, or its abstract origin's / specification's. */
const char *symi_die_name(struct dw *d, Dwarf_Die die, int hops);
/* Index one variable or parameter; func is NULL at file scope. */
void symi_do_var(struct dw *d, Dwarf_Die die, const char *func);
/* The unit's file table (before its DIEs: DW_AT_call_file indexes it),
 * then its line rows (after), then all units' rows sorted once. */
void symi_cu_files(struct dw *d, Dwarf_Die cu, Dwarf_Line_Context lctx);
void symi_cu_lines(struct dw *d, Dwarf_Line_Context lctx);
void symi_finish_lines(struct symtab *st);

/*
 * Index the DWARF of the ELF file open on fd into st: variables, scopes and
 * lines; when only is not NULL, only what only[0..nonly) asks of the
 * units whose headers it names.  Returns 1 if there was DWARF, 0 if the file has none, -1 with a
 * reason in err if it is unreadable.  Sorting is left to the caller.
 */
#define SYMI_DIES 1	/* variables, types, scopes */
#define SYMI_ROWS 2	/* line rows */
struct symi_want {
	uint64_t off;		/* unit header in .debug_info */
	int what;		/* SYMI_DIES | SYMI_ROWS */
};
int symi_dwarf_index(struct symtab *st, int fd, const struct symi_want *only, size_t nonly,
		     char *err, size_t errlen);

/*
 * dwarf_init_b() with the sections given by libelf's mapping of fd
 * (symbols_obj.c): DW_DLV_OK with *dbg and *obj, which symi_dwarf_close()
 * ends together; DW_DLV_NO_ENTRY when there is no DWARF; DW_DLV_ERROR.
 */
struct symi_dwobj;
int symi_dwarf_open(int fd, Dwarf_Debug *dbg, struct symi_dwobj **obj, Dwarf_Error *e);
void symi_dwarf_close(Dwarf_Debug dbg, struct symi_dwobj *obj);

/*
 * The separate debug file of the module open as elf (a libelf Elf *) at
 * path: by build id under the debug directory, else by .gnu_debuglink
 * (CRC checked).  Returns an open fd and its path in out, or -1 if none is
 * installed (symbols_debuglink.c).
 */
int symi_debug_file(void *elf, const char *path, char *out, size_t outlen);

/*
 * Checks on the raw sections (elf is a libelf Elf *) that keep libdwarf
 * away from input it is known to mishandle.  0, or -1 with the reason.
 */
int symi_dwarf_precheck(void *elf, char *err, size_t errlen);

/* ---- types (symbols_types.c builds, symbols_lookup.c queries) -------- */

enum symi_tkind {
	T_UNKNOWN,
	T_BASE,
	T_ENUM,
	T_POINTER,
	T_STRUCT,
	T_UNION,
	T_ARRAY,
	T_FUNC,
	T_TYPEDEF,
	T_CONST,
	T_VOLATILE,
	T_ATOMIC,
	T_RESTRICT,
	T_BITFIELD,		/* a bit-field member: the bytes holding it */
};

struct sym_member {
	const char *name;	/* NULL: anonymous struct/union member */
	uint64_t off;		/* bytes from the start of the aggregate */
	const struct sym_type *type;
};

struct sym_type {
	enum symi_tkind kind;
	const char *name;
	uint64_t size;
	const struct sym_type *target;	/* typedef, qualifier, pointer, array
					 * element, function result, bit-field */
	uint64_t count;		/* T_ARRAY: elements in this dimension */
	int bounded;		/* T_ARRAY: count is known */
	int incomplete;		/* T_STRUCT/T_UNION: declaration only */
	struct sym_member *members;
	size_t nmembers;
};

#define SYMI_MAX_HOPS 64		/* typedef / qualifier chains */

int symi_is_qual(enum symi_tkind k);		/* typedef or qualifier */
/* Look through typedefs and qualifiers. */
const struct sym_type *symi_strip(const struct sym_type *t);
const char *symi_tname(const struct sym_type *t);	/* "?" for none */

/* struct symi_types: the type cache of one indexing run. */

struct symi_types *symi_types_new(struct symtab *st, Dwarf_Debug dbg);
void symi_types_free(struct symi_types *tc);
/* The type at .debug_info offset off, built with everything the watch
 * language can reach (members, array elements; pointees by name only). */
const struct sym_type *symi_type_at(struct symi_types *tc, uint64_t off);

#endif
