/*
 * symbols_ptr_slots — one function's pointer variables and the registers
 * that hold them, pc by pc (symi_ptr_slots(), symbols_ptr.h), for
 * sym_name_through_ptr().
 *
 * A variable's DW_AT_location is either one expression, valid wherever the
 * enclosing scope (function, lexical block, inlined subroutine) has code,
 * or a location list (DWARF 4 .debug_loc, DWARF 5 .debug_loclists) whose
 * entries each cover a pc range.  libdwarf's dwarf_get_loclist_c() reads
 * both; its "cooked" entry bounds are absolute link-time pcs (the unit's
 * base address and DW_LLE_base_address entries already applied), and the
 * entries that only set a base or carry location views are left out
 * because their expressions are empty.
 *
 * Recognised expressions, the ones gcc and clang give a pointer that lives
 * in a register:
 *   1. DW_OP_regN, DW_OP_regx N: the register holds the pointer;
 *   2. DW_OP_bregN k, DW_OP_stack_value (and bregx): the pointer is the
 *      register plus k (after p++, or a pointer to a member: &a->ops).
 * Anything else (spilled to the stack, DW_OP_entry_value, pieces) gives no
 * slot: naming bytes wrongly would be worse than not naming them.
 */
#include <stdlib.h>

#include "symbols_ptr.h"

#define MAX_NEST 64		/* lexical block / inline nesting guard */

/* What collecting one function needs. */
struct walk {
	Dwarf_Debug dbg;
	struct ptr_fn *fn;
	int oom;
	const struct sym_range *scope;	/* the enclosing scope's ranges */
	size_t nscope;
};

static void add_slot(struct walk *w, uint64_t lo, uint64_t hi, int reg,
		     int64_t bias, Dwarf_Off toff)
{
	struct ptr_fn *f = w->fn;
	struct ptr_slot *s;

	if (hi <= lo)
		return;
	s = symi_push((void **)&f->slots, &f->capslots, f->nslots, sizeof(*s));
	if (!s) {
		w->oom = 1;
		return;
	}
	*s = (struct ptr_slot){ .lo = lo, .hi = hi, .reg = reg, .bias = bias,
				 .toff = toff };
	f->nslots++;
}

/*
 * The DWARF register an expression puts the pointer in, and the bias (the
 * pointer is the register's value + bias); -1 if it is anything else.
 */
static int expr_reg(Dwarf_Debug dbg, Dwarf_Locdesc_c desc, Dwarf_Unsigned nops,
		    int64_t *bias)
{
	Dwarf_Small atom[2];
	Dwarf_Unsigned o1[2], o2[2], o3, r1, r2, r3, br;
	Dwarf_Error e = NULL;

	if (nops < 1 || nops > 2)
		return -1;
	for (Dwarf_Unsigned i = 0; i < nops; i++)
		if (!symi_ok(dbg, dwarf_get_location_op_value_d(desc, i, &atom[i],
				&o1[i], &o2[i], &o3, &r1, &r2, &r3, &br, &e), &e))
			return -1;
	*bias = 0;
	if (nops == 1 && atom[0] >= DW_OP_reg0 && atom[0] <= DW_OP_reg31)
		return atom[0] - DW_OP_reg0;
	if (nops == 1 && atom[0] == DW_OP_regx)
		return o1[0] < 128 ? (int)o1[0] : -1;
	if (nops != 2 || atom[1] != DW_OP_stack_value)
		return -1;
	if (atom[0] >= DW_OP_breg0 && atom[0] <= DW_OP_breg31) {
		*bias = (int64_t)o1[0];
		return atom[0] - DW_OP_breg0;
	}
	if (atom[0] == DW_OP_bregx && o1[0] < 128) {
		*bias = (int64_t)o2[0];
		return (int)o1[0];
	}
	return -1;
}

/* The pointee type of a pointer-typed DIE (through typedefs, qualifiers
 * and the DIE's abstract origin); -1 if it is not a pointer or is void *. */
static int pointee(Dwarf_Debug dbg, Dwarf_Die var, Dwarf_Off *out)
{
	Dwarf_Error e = NULL;
	Dwarf_Off off, org;
	Dwarf_Die d = NULL;
	Dwarf_Half tag = 0;
	int hops, r = -1;

	for (hops = 0; symi_ref(dbg, var, DW_AT_type, &off) < 0; hops++) {
		if (hops >= 4 || symi_ref(dbg, d ? d : var, DW_AT_abstract_origin, &org) < 0)
			goto out;
		if (d)
			dwarf_dealloc_die(d);
		d = NULL;
		if (!symi_ok(dbg, dwarf_offdie_b(dbg, org, 1, &d, &e), &e))
			return -1;
		var = d;
	}
	for (hops = 0; hops < SYMI_MAX_HOPS; hops++) {
		if (d)
			dwarf_dealloc_die(d);
		d = NULL;
		if (!symi_ok(dbg, dwarf_offdie_b(dbg, off, 1, &d, &e), &e) ||
		    !symi_ok(dbg, dwarf_tag(d, &tag, &e), &e))
			goto out;
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type &&
		    tag != DW_TAG_atomic_type)
			break;
		if (symi_ref(dbg, d, DW_AT_type, &off) < 0)
			goto out;
	}
	if (tag == DW_TAG_pointer_type && symi_ref(dbg, d, DW_AT_type, out) == 0)
		r = 0;
out:
	if (d)
		dwarf_dealloc_die(d);
	return r;
}

static void do_var(struct walk *w, Dwarf_Die var)
{
	Dwarf_Debug dbg = w->dbg;
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	Dwarf_Loc_Head_c head;
	Dwarf_Unsigned cnt;
	unsigned kind = DW_LKIND_unknown;
	Dwarf_Off toff;

	if (pointee(dbg, var, &toff) < 0 || !symi_attr(dbg, var, DW_AT_location, &a))
		return;
	if (!symi_ok(dbg, dwarf_get_loclist_c(a, &head, &cnt, &e), &e)) {
		dwarf_dealloc_attribute(a);
		return;
	}
	symi_ok(dbg, dwarf_get_loclist_head_kind(head, &kind, &e), &e);
	for (Dwarf_Unsigned i = 0; i < cnt; i++) {
		Dwarf_Small lle, src;
		Dwarf_Unsigned rlo, rhi, nops, eoff, doff;
		Dwarf_Bool unavail = 0;
		Dwarf_Addr lo, hi;
		Dwarf_Locdesc_c desc;
		int64_t bias;
		int reg;

		if (!symi_ok(dbg, dwarf_get_locdesc_entry_d(head, i, &lle, &rlo, &rhi,
				&unavail, &lo, &hi, &nops, &desc, &src, &eoff,
				&doff, &e), &e))
			break;
		if (unavail || (reg = expr_reg(dbg, desc, nops, &bias)) < 0)
			continue;
		if (kind != DW_LKIND_expression)
			add_slot(w, lo, hi, reg, bias, toff);	/* cooked: absolute */
		else
			for (size_t k = 0; k < w->nscope; k++)
				add_slot(w, w->scope[k].lo, w->scope[k].hi, reg,
					 bias, toff);
	}
	dwarf_loc_head_c_dealloc(head);
	dwarf_dealloc_attribute(a);
}

/* A scope's ranges, for the variables located by a single expression. */
struct scope_buf {
	struct sym_range *v;
	size_t n, cap;
};

static int add_scope(void *arg, uint64_t lo, uint64_t hi)
{
	struct scope_buf *b = arg;
	struct sym_range *r = symi_push((void **)&b->v, &b->cap, b->n, sizeof(*r));

	if (!r)
		return 0;
	r->lo = lo;
	r->hi = hi;
	b->n++;
	return 1;
}

/* The variables under die, whose scope is w->scope. */
static void collect(struct walk *w, Dwarf_Die die, int depth)
{
	Dwarf_Debug dbg = w->dbg;
	Dwarf_Error e = NULL;
	Dwarf_Die c = NULL;
	Dwarf_Half tag;

	if (depth > MAX_NEST || !symi_ok(dbg, dwarf_child(die, &c, &e), &e))
		return;
	for (; c && !w->oom; c = symi_next_sibling(dbg, c)) {
		if (!symi_ok(dbg, dwarf_tag(c, &tag, &e), &e))
			continue;
		if (tag == DW_TAG_formal_parameter || tag == DW_TAG_variable) {
			do_var(w, c);
		} else if (tag == DW_TAG_lexical_block ||
			   tag == DW_TAG_inlined_subroutine) {
			struct scope_buf b = { 0 };
			struct walk inner = *w;

			/* No ranges (an abstract block): its single-expression
			 * variables have no pc at which they can be named. */
			symi_ranges(dbg, c, w->fn->version, w->fn->cubase, add_scope, &b);
			inner.scope = b.v;
			inner.nscope = b.n;
			collect(&inner, c, depth + 1);
			w->oom |= inner.oom;
			free(b.v);
		}
	}
	if (c)
		dwarf_dealloc_die(c);
}

int symi_ptr_slots(Dwarf_Debug dbg, struct ptr_fn *f)
{
	struct scope_buf b = { 0 };
	struct walk w = { .dbg = dbg, .fn = f };
	Dwarf_Error e = NULL;
	Dwarf_Die die;

	f->built = 1;
	if (!symi_ok(dbg, dwarf_offdie_b(dbg, f->die, 1, &die, &e), &e))
		return 0;
	symi_ranges(dbg, die, f->version, f->cubase, add_scope, &b);
	w.scope = b.v;
	w.nscope = b.n;
	collect(&w, die, 0);
	free(b.v);
	dwarf_dealloc_die(die);
	return w.oom ? -1 : 0;
}
