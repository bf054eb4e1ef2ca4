/*
 * symbols_dwarf — one pass over a module's .debug_info and .debug_line
 * through libdwarf, filling struct symtab (symbols_int.h) with:
 *
 *   1. variables: file-scope DW_TAG_variable (definitions, including the
 *      DW_AT_specification kind), and every variable / parameter inside a
 *      function, tagged with the function's name, with where it lives;
 *   2. scopes: subprograms and DW_TAG_inlined_subroutine with their pc
 *      ranges and call sites, in pre-order, for inline frame chains;
 *   3. line rows, one per address, sorted, for pc -> file:line.
 *
 * This file walks the units and DIE trees and builds the scopes; the
 * variables are classified in symbols_vars.c, types built in
 * symbols_types.c, file tables and line rows read in symbols_lines.c.
 *
 * Nothing libdwarf returns outlives symi_dwarf_index(): names are interned,
 * types are copied into the symtab's arena, DIEs are freed as the walk goes
 * so memory stays flat on large modules.
 *
 * Error policy: a malformed attribute is treated as absent; only a failure
 * to read the unit headers fails the whole index (the caller then keeps the
 * ELF symbols alone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

/* ---- libdwarf calls (shared by the symbols_*.c files) ---------------- */

/* libdwarf returns errors as objects that must be freed. */
int symi_ok(Dwarf_Debug dbg, int res, Dwarf_Error *e)
{
	if (res == DW_DLV_ERROR && *e) {
		dwarf_dealloc_error(dbg, *e);
		*e = NULL;
	}
	return res == DW_DLV_OK;
}

Dwarf_Die symi_next_sibling(Dwarf_Debug dbg, Dwarf_Die c)
{
	Dwarf_Die next = NULL;
	Dwarf_Error e = NULL;

	if (!symi_ok(dbg, dwarf_siblingof_b(dbg, c, 1, &next, &e), &e))
		next = NULL;
	dwarf_dealloc_die(c);
	return next;
}

int symi_attr(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *a)
{
	Dwarf_Error e = NULL;

	return symi_ok(dbg, dwarf_attr(die, at, a, &e), &e);
}

int symi_udata(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, uint64_t *out)
{
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	int r = -1;

	if (!symi_attr(dbg, die, at, &a))
		return -1;
	if (symi_ok(dbg, dwarf_formudata(a, &u, &e), &e)) {
		*out = u;
		r = 0;
	} else if (symi_ok(dbg, dwarf_formsdata(a, &s, &e), &e) && s >= 0) {
		*out = (uint64_t)s;
		r = 0;
	}
	dwarf_dealloc_attribute(a);
	return r;
}

int symi_sdata(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, int64_t *out)
{
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	Dwarf_Half form = 0;
	int r = -1;

	if (!symi_attr(dbg, die, at, &a))
		return -1;
	symi_ok(dbg, dwarf_whatform(a, &form, &e), &e);
	/* Only sdata and implicit_const carry a sign; data1..8 are unsigned. */
	if ((form == DW_FORM_sdata || form == DW_FORM_implicit_const) &&
	    symi_ok(dbg, dwarf_formsdata(a, &s, &e), &e)) {
		*out = s;
		r = 0;
	} else if (symi_ok(dbg, dwarf_formudata(a, &u, &e), &e)) {
		*out = (int64_t)u;
		r = 0;
	}
	dwarf_dealloc_attribute(a);
	return r;
}

int symi_ref(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *out)
{
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	int r;

	if (!symi_attr(dbg, die, at, &a))
		return -1;
	r = symi_ok(dbg, dwarf_global_formref(a, out, &e), &e) ? 0 : -1;
	dwarf_dealloc_attribute(a);
	return r;
}

int symi_flag(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half at)
{
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	Dwarf_Bool b = 0;

	if (!symi_attr(dbg, die, at, &a))
		return 0;
	if (!symi_ok(dbg, dwarf_formflag(a, &b, &e), &e))
		b = 0;
	dwarf_dealloc_attribute(a);
	return b != 0;
}

const char *symi_name(struct symtab *st, Dwarf_Debug dbg, Dwarf_Die die)
{
	Dwarf_Error e = NULL;
	char *s;

	/* The string points into .debug_str: interned, never freed. */
	if (!symi_ok(dbg, dwarf_diename(die, &s, &e), &e))
		return NULL;
	return symi_intern(st, s);
}

/* ---- one indexing run ------------------------------------------------ */

static const char no_name[] = "";	/* cached "this DIE has no name" */

static const char *name_at(struct dw *d, Dwarf_Off off, int hops)
{
	const char *n = symi_map_get(&d->names, off);
	Dwarf_Error e = NULL;
	Dwarf_Die die;

	if (n)
		return n == no_name ? NULL : n;
	if (symi_ok(d->dbg, dwarf_offdie_b(d->dbg, off, 1, &die, &e), &e)) {
		n = symi_die_name(d, die, hops);
		dwarf_dealloc_die(die);
	}
	symi_map_put(&d->names, off, (void *)(n ? n : no_name));
	return n;
}

/*
 * A DIE's name, or its origin's: concrete inlined copies and out-of-line
 * instances name nothing themselves (DW_AT_abstract_origin), nor do
 * definitions of declared things (DW_AT_specification).
 */
const char *symi_die_name(struct dw *d, Dwarf_Die die, int hops)
{
	const char *n = symi_name(d->st, d->dbg, die);
	Dwarf_Off off;

	if (n || hops >= 4)
		return n;
	if (symi_ref(d->dbg, die, DW_AT_abstract_origin, &off) == 0 ||
	    symi_ref(d->dbg, die, DW_AT_specification, &off) == 0)
		return name_at(d, off, hops + 1);
	return NULL;
}

/* ---- scopes ---------------------------------------------------------- */

static int add_range(void *arg, uint64_t lo, uint64_t hi)
{
	struct dw *d = arg;
	struct symtab *st = d->st;
	struct sym_range *r;

	r = symi_push((void **)&st->ranges, &st->capranges, st->nranges, sizeof(*r));
	if (!r) {
		st->oom = 1;
		return 0;
	}
	r->lo = lo;
	r->hi = hi;
	st->nranges++;
	return 1;
}

/* Address 0: code the linker discarded (gc-sections, COMDAT). */
static uint32_t give(symi_range_fn *add, void *arg, uint64_t lo, uint64_t hi)
{
	if (lo == 0 || hi <= lo)
		return 0;
	return add(arg, lo, hi) ? 1 : 0;
}

/* DWARF 5 DW_AT_ranges: .debug_rnglists, entries already made absolute. */
static uint32_t rnglists(Dwarf_Debug dbg, Dwarf_Attribute a, symi_range_fn *add,
			 void *arg)
{
	Dwarf_Error e = NULL;
	Dwarf_Rnglists_Head head;
	Dwarf_Unsigned val = 0, count, goff;
	Dwarf_Half form = 0;
	Dwarf_Off off;
	uint32_t n = 0;

	if (!symi_ok(dbg, dwarf_whatform(a, &form, &e), &e))
		return 0;
	if (form == DW_FORM_rnglistx) {
		if (!symi_ok(dbg, dwarf_formudata(a, &val, &e), &e))
			return 0;
	} else {
		if (!symi_ok(dbg, dwarf_global_formref(a, &off, &e), &e))
			return 0;
		val = off;
	}
	if (!symi_ok(dbg, dwarf_rnglists_get_rle_head(a, form, val, &head, &count,
						    &goff, &e), &e))
		return 0;
	for (Dwarf_Unsigned i = 0; i < count; i++) {
		unsigned len, code;
		Dwarf_Unsigned r1, r2, c1, c2;
		Dwarf_Bool unavail = 0;

		if (!symi_ok(dbg, dwarf_get_rnglists_entry_fields_a(head, i, &len,
				&code, &r1, &r2, &unavail, &c1, &c2, &e), &e))
			break;
		if (code == DW_RLE_end_of_list)
			break;
		if (code == DW_RLE_base_address || code == DW_RLE_base_addressx ||
		    unavail)
			continue;
		n += give(add, arg, c1, c2);
	}
	dwarf_dealloc_rnglists_head(head);
	return n;
}

/* DWARF 2-4 DW_AT_ranges: .debug_ranges, offsets from the unit's base. */
static uint32_t ranges_v4(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Attribute a,
			  uint64_t base, symi_range_fn *add, void *arg)
{
	Dwarf_Error e = NULL;
	Dwarf_Ranges *buf;
	Dwarf_Signed cnt;
	Dwarf_Unsigned bytes, u;
	Dwarf_Off off, real;
	uint32_t n = 0;

	if (!symi_ok(dbg, dwarf_global_formref(a, &off, &e), &e)) {
		if (!symi_ok(dbg, dwarf_formudata(a, &u, &e), &e))
			return 0;
		off = u;
	}
	if (!symi_ok(dbg, dwarf_get_ranges_b(dbg, off, die, &real, &buf, &cnt,
					   &bytes, &e), &e))
		return 0;
	for (Dwarf_Signed i = 0; i < cnt; i++) {
		if (buf[i].dwr_type == DW_RANGES_END)
			break;
		if (buf[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
			base = buf[i].dwr_addr2;
		else
			n += give(add, arg, base + buf[i].dwr_addr1,
				  base + buf[i].dwr_addr2);
	}
	dwarf_ranges_dealloc(dbg, buf, cnt);
	return n;
}

uint32_t symi_ranges(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Half version,
		     uint64_t base, symi_range_fn *add, void *arg)
{
	Dwarf_Error e = NULL;
	Dwarf_Addr lo, hi;
	Dwarf_Half form;
	enum Dwarf_Form_Class cls;
	Dwarf_Attribute a;
	uint32_t n;

	if (symi_ok(dbg, dwarf_lowpc(die, &lo, &e), &e)) {
		if (!symi_ok(dbg, dwarf_highpc_b(die, &hi, &form, &cls, &e), &e))
			return 0;
		if (cls == DW_FORM_CLASS_CONSTANT)
			hi += lo;	/* DWARF 4+: a length */
		return give(add, arg, lo, hi);
	}
	if (!symi_attr(dbg, die, DW_AT_ranges, &a))
		return 0;
	n = version >= 5 ? rnglists(dbg, a, add, arg) :
			   ranges_v4(dbg, die, a, base, add, arg);
	dwarf_dealloc_attribute(a);
	return n;
}

/* Append die's pc ranges to st->ranges; returns how many. */
static uint32_t read_ranges(struct dw *d, Dwarf_Die die)
{
	return symi_ranges(d->dbg, die, d->version, d->base, add_range, d);
}

const char *symi_cu_file(struct dw *d, uint64_t fileno)
{
	int64_t i = (int64_t)fileno - d->fbase;

	if (i < 0 || (uint64_t)i >= d->ncufiles)
		return NULL;
	return d->st->files[d->cufiles[i]];
}

static int64_t new_scope(struct dw *d, const char *name, uint32_t rfirst,
			 uint32_t nr, int inlined)
{
	struct symtab *st = d->st;
	struct sym_scope *s;

	s = symi_push((void **)&st->scopes, &st->capscopes, st->nscopes, sizeof(*s));
	if (!s) {
		st->oom = 1;
		return -1;
	}
	s->name = name;
	s->rfirst = rfirst;
	s->nranges = nr;
	s->inlined = inlined;
	s->end = (uint32_t)st->nscopes + 1;
	return (int64_t)st->nscopes++;
}

static void walk(struct dw *d, Dwarf_Die die, int64_t scope, const char *func);

static void do_subprogram(struct dw *d, Dwarf_Die die)
{
	struct symtab *st = d->st;
	uint32_t rfirst = (uint32_t)st->nranges, nr;
	const char *name;
	int64_t idx;

	if (symi_flag(d->dbg, die, DW_AT_declaration))
		return;
	name = symi_die_name(d, die, 0);
	if (!name)
		name = symi_intern(st, "<anonymous>");
	nr = read_ranges(d, die);
	if (nr == 0) {
		/* Abstract instance or no code: only its statics matter. */
		walk(d, die, -1, name);
		return;
	}
	idx = new_scope(d, name, rfirst, nr, 0);
	if (idx < 0)
		return;
	for (uint32_t i = 0; i < nr; i++) {
		struct sym_top *t = symi_push((void **)&st->tops, &st->captops,
					      st->ntops, sizeof(*t));

		if (!t) {
			st->oom = 1;
			return;
		}
		t->lo = st->ranges[rfirst + i].lo;
		t->hi = st->ranges[rfirst + i].hi;
		t->scope = (uint32_t)idx;
		st->ntops++;
	}
	walk(d, die, idx, name);
	st->scopes[idx].end = (uint32_t)st->nscopes;
}

static void do_inlined(struct dw *d, Dwarf_Die die, int64_t parent)
{
	struct symtab *st = d->st;
	uint32_t rfirst = (uint32_t)st->nranges, nr;
	uint64_t cfile = 0, cline = 0;
	const char *name = symi_die_name(d, die, 0);
	int64_t idx;

	if (!name)
		name = symi_intern(st, "<inlined>");
	nr = read_ranges(d, die);
	if (parent < 0 || nr == 0) {
		st->nranges = rfirst;
		walk(d, die, parent, name);
		return;
	}
	idx = new_scope(d, name, rfirst, nr, 1);
	if (idx < 0)
		return;
	if (symi_udata(d->dbg, die, DW_AT_call_file, &cfile) == 0)
		st->scopes[idx].call_file = symi_cu_file(d, cfile);
	if (symi_udata(d->dbg, die, DW_AT_call_line, &cline) == 0)
		st->scopes[idx].call_line = (uint32_t)cline;
	walk(d, die, idx, name);
	st->scopes[idx].end = (uint32_t)st->nscopes;
}

static void defer(struct dw *d, Dwarf_Die die)
{
	Dwarf_Error e = NULL;
	Dwarf_Off off;
	Dwarf_Off *p;

	if (!symi_ok(d->dbg, dwarf_dieoffset(die, &off, &e), &e))
		return;
	p = symi_push((void **)&d->pending, &d->cappending, d->npending, sizeof(*p));
	if (!p) {
		d->st->oom = 1;
		return;
	}
	*p = off;
	d->npending++;
}

/*
 * Visit the children of die.  scope is the innermost scope with code (-1:
 * none), func the enclosing function's name (NULL: file scope).  A function
 * nested in another (GNU C nested functions, C++ local classes) is deferred
 * so it does not land inside its parent's scope subtree.
 */
static void walk(struct dw *d, Dwarf_Die die, int64_t scope, const char *func)
{
	Dwarf_Error e = NULL;
	Dwarf_Die c = NULL;
	Dwarf_Half tag;

	if (d->depth >= 128 || d->st->oom)
		return;
	if (!symi_ok(d->dbg, dwarf_child(die, &c, &e), &e))
		return;
	d->depth++;
	while (c) {
		if (symi_ok(d->dbg, dwarf_tag(c, &tag, &e), &e)) {
			switch (tag) {
			case DW_TAG_variable:
				symi_do_var(d, c, func);
				break;
			case DW_TAG_formal_parameter:
				if (func)
					symi_do_var(d, c, func);
				break;
			case DW_TAG_lexical_block:
			case DW_TAG_try_block:
			case DW_TAG_catch_block:
				if (func)
					walk(d, c, scope, func);
				break;
			case DW_TAG_inlined_subroutine:
				if (func)
					do_inlined(d, c, scope);
				break;
			case DW_TAG_subprogram:
				if (func)
					defer(d, c);
				else
					do_subprogram(d, c);
				break;
			case DW_TAG_namespace:
				if (!func)
					walk(d, c, -1, NULL);
				break;
			}
		}
		c = symi_next_sibling(d->dbg, c);
	}
	d->depth--;
}

/* ---- units ----------------------------------------------------------- */

static int cmp_top(const void *a, const void *b)
{
	const struct sym_top *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->scope < y->scope ? -1 : x->scope > y->scope;
}

void symi_sort_tops(struct symtab *st)
{
	if (st->ntops > 1)
		qsort(st->tops, st->ntops, sizeof(*st->tops), cmp_top);
}

static void do_cu(struct dw *d, Dwarf_Die cu, int what)
{
	Dwarf_Error e = NULL;
	Dwarf_Line_Context lctx = NULL;
	Dwarf_Unsigned lver;
	Dwarf_Small tcount;
	Dwarf_Addr lo;

	d->base = symi_ok(d->dbg, dwarf_lowpc(cu, &lo, &e), &e) ? lo : 0;
	d->cuname = symi_name(d->st, d->dbg, cu);
	if (!(what & SYMI_ROWS) ||
	    !symi_ok(d->dbg, dwarf_srclines_b(cu, &lver, &tcount, &lctx, &e), &e))
		lctx = NULL;
	symi_cu_files(d, cu, lctx);
	if (what & SYMI_DIES)
		walk(d, cu, -1, NULL);
	while (d->npending && !d->st->oom) {
		Dwarf_Off off = d->pending[--d->npending];
		Dwarf_Die sub;

		if (symi_ok(d->dbg, dwarf_offdie_b(d->dbg, off, 1, &sub, &e), &e)) {
			do_subprogram(d, sub);
			dwarf_dealloc_die(sub);
		}
	}
	if (lctx) {
		symi_cu_lines(d, lctx);
		dwarf_srclines_dealloc_b(lctx);
	}
}

/* What of the unit at off is wanted (SYMI_DIES | SYMI_ROWS), 0 nothing. */
static int wanted(const struct symi_want *only, size_t nonly, uint64_t off)
{
	if (!only)
		return SYMI_DIES | SYMI_ROWS;
	for (size_t i = 0; i < nonly; i++)
		if (only[i].off == off)
			return only[i].what;
	return 0;
}

int symi_dwarf_index(struct symtab *st, int fd, const struct symi_want *only, size_t nonly,
		     char *err, size_t errlen)
{
	struct dw d = { .st = st };
	Dwarf_Error e = NULL;
	int res, ncu = 0, ret = 0;
	Dwarf_Unsigned here = 0;
	struct symi_dwobj *obj = NULL;
	size_t left = only ? nonly : SIZE_MAX;

	/*
	 * libdwarf's leak tracker (a search tree of every allocation) costs a
	 * third of the indexing time on a large module.  Everything this file
	 * allocates through libdwarf is freed explicitly, so it can go.  The
	 * flag is process-wide; this is the only libdwarf user in racewatch.
	 */
	dwarf_set_de_alloc_flag(0);
	res = symi_dwarf_open(fd, &d.dbg, &obj, &e);
	if (res == DW_DLV_NO_ENTRY)
		return 0;
	if (res != DW_DLV_OK) {
		snprintf(err, errlen, "DWARF: %s", e ? dwarf_errmsg(e) : "unreadable");
		if (e)
			dwarf_dealloc_error(NULL, e);
		return -1;
	}
	d.types = symi_types_new(st, d.dbg);
	if (!d.types) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	for (;;) {
		Dwarf_Half ver = 0, asz, osz, utype;
		Dwarf_Unsigned next;
		Dwarf_Die cu = NULL;
		Dwarf_Half tag;

		if (left == 0)
			break;	/* the units asked for are done */
		res = dwarf_next_cu_header_d(d.dbg, 1, NULL, &ver, NULL, &asz, &osz,
					     NULL, NULL, NULL, &next, &utype, &e);
		if (res == DW_DLV_NO_ENTRY)
			break;
		if (res != DW_DLV_OK) {
			snprintf(err, errlen, "DWARF: %s",
				 e ? dwarf_errmsg(e) : "bad unit header");
			symi_ok(d.dbg, res, &e);
			ret = -1;
			goto out;
		}
		Dwarf_Unsigned off = here;
		int what = wanted(only, nonly, off);

		here = next;
		if (!what)
			continue;
		left--;
		if (!symi_ok(d.dbg, dwarf_siblingof_b(d.dbg, NULL, 1, &cu, &e), &e))
			continue;
		if (symi_ok(d.dbg, dwarf_tag(cu, &tag, &e), &e) &&
		    tag == DW_TAG_compile_unit) {
			d.version = ver;
			/* Units indexed apart still sort in file order. */
			d.seq = (uint64_t)off << 20;
			do_cu(&d, cu, what);
			ncu++;
		}
		dwarf_dealloc_die(cu);
		if (st->oom)
			break;
	}
	if (!st->delta) {
		symi_finish_lines(st);
		symi_sort_tops(st);
	}
	ret = ncu > 0;
out:
	symi_types_free(d.types);
	symi_map_free(&d.names);
	symi_map_free(&d.fileids);
	free(d.cufiles);
	free(d.pending);
	symi_dwarf_close(d.dbg, obj);
	return ret;
}
