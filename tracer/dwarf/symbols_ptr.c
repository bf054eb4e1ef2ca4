/*
 * symbols_ptr — name the bytes an instruction reaches through a pointer
 * held in a register (sym_name_through_ptr(), symbols.h): which variable or
 * parameter is in the base register at that pc, the type it points to, and
 * the member at the displacement.
 *
 * The index sym_open() builds keeps no location lists (symbols_vars.c:
 * reading them all would dominate the indexing time), so this file reopens
 * the module's DWARF on its first call and keeps it open in st->ptr until
 * sym_close():
 *
 *   1. once: the top-level subprograms of every unit, as sorted pc spans;
 *   2. once per function asked about: its slots, the pointer variables and
 *      the registers holding them pc by pc (symbols_ptr_slots.c);
 *   3. per call: the innermost slot for (pc, register), its pointee type
 *      built in full (symbols_types.c, into a scratch symtab's arena, so
 *      st's own index stays as sym_open() left it), and the member path at
 *      the offset (sym_type_path(), symbols_path.c).
 *
 * Cost: the first call reads every unit's top-level DIEs; a function's
 * first call reads its DIE subtree and location lists; after that a call
 * is two binary searches and a scan of the function's slots.  libdwarf
 * keeps the sections it read (.debug_info, .debug_loclists...) in memory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols_ptr.h"

/* A pc range of a function (a function may have several: hot/cold). */
struct ptr_span {
	uint64_t lo, hi;
	size_t fn;
};

struct symi_ptr {
	int fd;
	Dwarf_Debug dbg;	/* NULL: the DWARF could not be reopened */
	struct symi_dwobj *obj;	/* the sections dbg reads (symbols_obj.c) */
	struct symtab *scratch;	/* owns the types and strings built here */
	struct symi_types *types;
	struct ptr_fn *fns;
	size_t nfns, capfns;
	struct ptr_span *spans;	/* sorted by lo */
	size_t nspans, capspans;
	int oom;
	int opened;		/* open_dwarf() has run */
	int crashed;		/* libdwarf crashed on the file: no more tries */
};

void symi_ptr_free(struct symi_ptr *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfns; i++)
		free(p->fns[i].slots);
	free(p->fns);
	free(p->spans);
	symi_types_free(p->types);
	sym_close(p->scratch);
	if (p->dbg)
		symi_dwarf_close(p->dbg, p->obj);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* ---- 1. functions ---------------------------------------------------- */

static int add_span(void *arg, uint64_t lo, uint64_t hi)
{
	struct symi_ptr *p = arg;
	struct ptr_span *s = symi_push((void **)&p->spans, &p->capspans,
				       p->nspans, sizeof(*s));

	if (!s) {
		p->oom = 1;
		return 0;
	}
	s->lo = lo;
	s->hi = hi;
	s->fn = p->nfns;
	p->nspans++;
	return 1;
}

static void index_fns(struct symi_ptr *p, Dwarf_Die parent, Dwarf_Half version,
		      uint64_t base, int depth)
{
	Dwarf_Error e = NULL;
	Dwarf_Die c = NULL;
	Dwarf_Half tag;
	Dwarf_Off off;

	if (depth > 8 || !symi_ok(p->dbg, dwarf_child(parent, &c, &e), &e))
		return;
	for (; c && !p->oom; c = symi_next_sibling(p->dbg, c)) {
		if (!symi_ok(p->dbg, dwarf_tag(c, &tag, &e), &e))
			continue;
		if (tag == DW_TAG_namespace) {
			index_fns(p, c, version, base, depth + 1);
		} else if (tag == DW_TAG_subprogram &&
			   !symi_flag(p->dbg, c, DW_AT_declaration) &&
			   symi_ok(p->dbg, dwarf_dieoffset(c, &off, &e), &e) &&
			   symi_ranges(p->dbg, c, version, base, add_span, p)) {
			struct ptr_fn *f = symi_push((void **)&p->fns, &p->capfns,
						     p->nfns, sizeof(*f));

			if (!f) {
				p->oom = 1;
				break;
			}
			f->die = off;
			f->version = version;
			f->cubase = base;
			p->nfns++;
		}
	}
	if (c)
		dwarf_dealloc_die(c);
}

static int cmp_span(const void *a, const void *b)
{
	const struct ptr_span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/*
 * Open the DWARF again and list the functions; p->dbg stays NULL if not.
 * Precondition: path is the file sym_open() read the DWARF from (when the
 * index learns to read separate debug files, this must open the same one).
 */
static void open_dwarf(struct symi_ptr *p, const char *path)
{
	Dwarf_Error e = NULL;

	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return;
	/* Not dwarf_init_b(): once called, libdwarf 20210528 keeps a global
	 * hook into its own ELF reader that dwarf_object_init_b() then calls
	 * with symbols_obj.c's object, and crashes. */
	if (symi_dwarf_open(p->fd, &p->dbg, &p->obj, &e) != DW_DLV_OK) {
		symi_ok(NULL, DW_DLV_ERROR, &e);
		p->dbg = NULL;
		return;
	}
	p->types = symi_types_new(p->scratch, p->dbg);
	if (!p->types) {
		p->oom = 1;
		return;
	}
	for (;;) {
		Dwarf_Half ver = 0, utype, tag;
		Dwarf_Unsigned next;
		Dwarf_Die cu = NULL;
		Dwarf_Addr lo;
		int res;

		res = dwarf_next_cu_header_d(p->dbg, 1, NULL, &ver, NULL, NULL, NULL,
					     NULL, NULL, NULL, &next, &utype, &e);
		if (res != DW_DLV_OK) {
			symi_ok(p->dbg, res, &e);
			break;
		}
		if (!symi_ok(p->dbg, dwarf_siblingof_b(p->dbg, NULL, 1, &cu, &e), &e))
			continue;
		if (symi_ok(p->dbg, dwarf_tag(cu, &tag, &e), &e) &&
		    tag == DW_TAG_compile_unit)
			index_fns(p, cu, ver, symi_ok(p->dbg, dwarf_lowpc(cu, &lo, &e),
						      &e) ? lo : 0, 0);
		dwarf_dealloc_die(cu);
		if (p->oom)
			break;
	}
	qsort(p->spans, p->nspans, sizeof(*p->spans), cmp_span);
}

/* The libdwarf part of a query: open the DWARF once, read the slots of
 * the function at pc once.  Run by symi_guard_check() in a child first. */
struct prepare {
	struct symi_ptr *p;
	const char *path;
	uint64_t pc;
};

static struct ptr_fn *fn_at(struct symi_ptr *p, uint64_t pc);

static void prepare(void *arg)
{
	struct prepare *pr = arg;
	struct symi_ptr *p = pr->p;
	struct ptr_fn *f;

	if (!p->opened) {
		p->opened = 1;
		open_dwarf(p, pr->path);
	}
	if (p->dbg && (f = fn_at(p, pr->pc)) && !f->built &&
	    symi_ptr_slots(p->dbg, f) < 0)
		p->oom = 1;
}

/* st->ptr, made on first use; NULL on OOM. */
static struct symi_ptr *state(const struct symtab *st)
{
	struct symi_ptr *p = st->ptr;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = -1;
	p->scratch = calloc(1, sizeof(*p->scratch));
	/* The cache is the one mutable part of a symtab (symbols_int.h);
	 * st was allocated by sym_open() and is not really const. */
	((struct symtab *)st)->ptr = p;
	return p;
}

static struct ptr_fn *fn_at(struct symi_ptr *p, uint64_t pc)
{
	size_t lo = 0, hi = p->nspans;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->spans[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A span whose function could not be stored (OOM) has fn == nfns. */
	if (lo == 0 || pc >= p->spans[lo - 1].hi || p->spans[lo - 1].fn >= p->nfns)
		return NULL;
	return &p->fns[p->spans[lo - 1].fn];
}

/* ---- 3. the query ---------------------------------------------------- */

/*
 * "struct account.balance": the pointee's name as declared (a typedef's
 * name stays, qualifiers go) and the path to bytes [off, off + size).  Only
 * structs, unions and arrays are named: through a long * the name would be
 * "long", which tells a reader nothing about which object it is.
 */
static int name_in(const struct sym_type *t, int64_t off, unsigned size,
		   char *out, size_t outlen)
{
	const struct sym_type *base = symi_strip(t);
	size_t n;
	int w;

	for (int i = 0; t && i < SYMI_MAX_HOPS && symi_is_qual(t->kind) &&
	     t->kind != T_TYPEDEF; i++)
		t = t->target;
	if (!t || !base || off < 0 || (base->kind != T_STRUCT &&
	    base->kind != T_UNION && base->kind != T_ARRAY) || base->incomplete)
		return -1;
	w = snprintf(out, outlen, "%s", symi_tname(t));
	if (w < 0 || (size_t)w >= outlen)
		return -1;
	n = (size_t)w;
	return sym_type_path(base, (uint64_t)off, size, out + n, outlen - n);
}

int sym_name_through_ptr(const struct symtab *st, uint64_t pc, int base_dwreg,
			 int64_t disp, unsigned size, char *out, size_t outlen)
{
	struct symi_ptr *p;
	struct ptr_fn *f;

	if (!st->has_dwarf || base_dwreg < 0 || outlen == 0)
		return -1;
	p = state(st);
	if (!p || !p->scratch || p->crashed)
		return -1;
	if (!p->opened || (p->dbg && (f = fn_at(p, pc)) && !f->built)) {
		/* libdwarf work ahead: let a child try it first. */
		struct prepare pr = { p, sym_path(st), pc };

		if (symi_guard_check(pr.path, prepare, &pr) < 0) {
			p->crashed = 1;
			return -1;
		}
		prepare(&pr);
	}
	if (!p->dbg || !(f = fn_at(p, pc)))
		return -1;
	/* Later slots are the more deeply nested ones: an inlined callee's
	 * pointer is more precise than its caller's for the same register. */
	for (size_t i = f->nslots; i-- > 0;) {
		const struct ptr_slot *s = &f->slots[i];

		if (s->reg != base_dwreg || pc < s->lo || pc >= s->hi)
			continue;
		if (name_in(symi_type_at(p->types, s->toff), disp - s->bias,
			    size, out, outlen) == 0)
			return 0;
	}
	return -1;
}

