/*
 * symbols_vars — one DW_TAG_variable or DW_TAG_formal_parameter into the
 * module's variable list: its name (through its origin when it has none),
 * where it lives (static address, thread-local, register, stack, nowhere)
 * and, when it can be watched, its type.  Part of the DWARF indexing of
 * symbols_dwarf.c (struct dw is in symbols_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

/* The DIE a definition completes (DW_AT_specification) or a concrete copy
 * instantiates (DW_AT_abstract_origin): it holds the type and linkage. */
static int die_origin(struct dw *d, Dwarf_Die die, Dwarf_Die *out)
{
	Dwarf_Error e = NULL;
	Dwarf_Off off;

	if (symi_ref(d->dbg, die, DW_AT_specification, &off) < 0 &&
	    symi_ref(d->dbg, die, DW_AT_abstract_origin, &off) < 0)
		return -1;
	return symi_ok(d->dbg, dwarf_offdie_b(d->dbg, off, 1, out, &e), &e) ? 0 : -1;
}

static enum sym_var_kind classify_ops(struct dw *d, Dwarf_Locdesc_c desc,
				      Dwarf_Unsigned nops, uint64_t *addr)
{
	Dwarf_Small op0 = 0;
	uint64_t v0 = 0, plus = 0;
	int extra = 0;

	if (nops == 0)
		return SYM_OPTIMIZED_OUT;
	for (Dwarf_Unsigned i = 0; i < nops; i++) {
		Dwarf_Small atom;
		Dwarf_Unsigned o1, o2, o3, r1, r2, r3, br;
		Dwarf_Error e = NULL;

		if (!symi_ok(d->dbg, dwarf_get_location_op_value_d(desc, i, &atom, &o1,
				&o2, &o3, &r1, &r2, &r3, &br, &e), &e))
			return SYM_OPTIMIZED_OUT;
		switch (atom) {
		case DW_OP_form_tls_address:
		case DW_OP_GNU_push_tls_address:
			return SYM_TLS;
		case DW_OP_stack_value:
		case DW_OP_implicit_value:
		case DW_OP_implicit_pointer:
		case DW_OP_GNU_implicit_pointer:
			/* Only the value is known: there is no storage. */
			return SYM_OPTIMIZED_OUT;
		}
		if (i == 0) {
			op0 = atom;
			v0 = o1;
		} else if (i == 1 && atom == DW_OP_plus_uconst) {
			plus = o1;
		} else {
			extra = 1;
		}
	}
	if (op0 == DW_OP_addr || op0 == DW_OP_addrx || op0 == DW_OP_GNU_addr_index) {
		/* A linker-discarded definition keeps address 0. */
		if (extra || v0 + plus == 0)
			return SYM_OPTIMIZED_OUT;
		*addr = v0 + plus;
		return SYM_STATIC;
	}
	if ((op0 >= DW_OP_reg0 && op0 <= DW_OP_reg31) || op0 == DW_OP_regx)
		return SYM_REGISTER;
	if ((op0 >= DW_OP_breg0 && op0 <= DW_OP_breg31) || op0 == DW_OP_bregx ||
	    op0 == DW_OP_fbreg || op0 == DW_OP_call_frame_cfa)
		return SYM_STACK;
	return SYM_OPTIMIZED_OUT;
}

/*
 * Where a DW_AT_location says the variable lives.  A location list (its
 * place changes with the pc: registers, at best spilled) is not parsed: it
 * can only be a register or stack variable, and parsing the thousands of
 * them in a large library would dominate the indexing time.
 */
static enum sym_var_kind classify(struct dw *d, Dwarf_Attribute a, uint64_t *addr)
{
	enum sym_var_kind kind = SYM_OPTIMIZED_OUT;
	Dwarf_Error e = NULL;
	Dwarf_Loc_Head_c head;
	Dwarf_Unsigned cnt;
	Dwarf_Half form = 0;

	if (!symi_ok(d->dbg, dwarf_whatform(a, &form, &e), &e))
		return SYM_OPTIMIZED_OUT;
	if (form == DW_FORM_sec_offset || form == DW_FORM_loclistx ||
	    form == DW_FORM_data4 || form == DW_FORM_data8)
		return SYM_REGISTER;
	if (!symi_ok(d->dbg, dwarf_get_loclist_c(a, &head, &cnt, &e), &e))
		return SYM_OPTIMIZED_OUT;
	if (cnt >= 1) {
		Dwarf_Small lle, src;
		Dwarf_Unsigned rlo, rhi, nops, eoff, doff;
		Dwarf_Bool unavail;
		Dwarf_Addr lo, hi;
		Dwarf_Locdesc_c desc;

		if (symi_ok(d->dbg, dwarf_get_locdesc_entry_d(head, 0, &lle, &rlo, &rhi,
				&unavail, &lo, &hi, &nops, &desc, &src, &eoff,
				&doff, &e), &e))
			kind = classify_ops(d, desc, nops, addr);
	}
	dwarf_loc_head_c_dealloc(head);
	return kind;
}

/*
 * One DW_TAG_variable or DW_TAG_formal_parameter.  func is the enclosing
 * function (NULL at file scope).  Declarations are skipped: the definition
 * (possibly in another unit) is what has an address.
 */
void symi_do_var(struct dw *d, Dwarf_Die die, const char *func)
{
	struct symtab *st = d->st;
	enum sym_var_kind kind = SYM_OPTIMIZED_OUT;
	struct sym_varent *v;
	Dwarf_Attribute loc;
	uint64_t addr = 0;
	Dwarf_Off toff = 0;
	const char *name, *dfile = NULL;
	uint64_t fno = 0, dline = 0;
	int have_type, external;

	if (symi_flag(d->dbg, die, DW_AT_declaration))
		return;
	name = symi_die_name(d, die, 0);
	if (!name)
		return;
	if (symi_attr(d->dbg, die, DW_AT_location, &loc)) {
		kind = classify(d, loc, &addr);
		dwarf_dealloc_attribute(loc);
	}

	/* Type and linkage matter only for what can be watched or named in
	 * an error; locals (most DIEs in optimized code) skip the lookups. */
	if (kind == SYM_STATIC || kind == SYM_TLS) {
		if (symi_udata(d->dbg, die, DW_AT_decl_file, &fno) == 0)
			dfile = symi_cu_file(d, fno);
		symi_udata(d->dbg, die, DW_AT_decl_line, &dline);
		have_type = symi_ref(d->dbg, die, DW_AT_type, &toff) == 0;
		external = !func && symi_flag(d->dbg, die, DW_AT_external);
		if (!have_type || (!func && !external) || !dfile) {
			Dwarf_Die o;

			if (die_origin(d, die, &o) == 0) {
				/* The definition's own place wins over its
				 * declaration's (in a header, usually). */
				if (!dfile && symi_udata(d->dbg, o, DW_AT_decl_file, &fno) == 0) {
					dfile = symi_cu_file(d, fno);
					symi_udata(d->dbg, o, DW_AT_decl_line, &dline);
				}
				if (!have_type)
					have_type = symi_ref(d->dbg, o, DW_AT_type,
							     &toff) == 0;
				external = external || (!func &&
					symi_flag(d->dbg, o, DW_AT_external));
				dwarf_dealloc_die(o);
			}
		}
	} else {
		have_type = external = 0;
	}

	v = symi_push((void **)&st->vars, &st->capvars, st->nvars, sizeof(*v));
	if (!v) {
		st->oom = 1;
		return;
	}
	v->name = name;
	v->func = func;
	v->kind = kind;
	v->addr = addr;
	v->seq = d->seq++;
	v->decl_file = dfile;
	v->decl_line = dfile ? (uint32_t)dline : 0;
	v->cu = func ? NULL : d->cuname;
	switch (kind) {
	case SYM_STATIC:
		v->rank = !func && external ? RANK_GLOBAL : RANK_FILE_STATIC;
		break;
	case SYM_TLS:
		v->rank = RANK_TLS;
		break;
	case SYM_REGISTER:
	case SYM_STACK:
		v->rank = RANK_LOCAL;
		break;
	default:
		v->rank = RANK_GONE;
	}
	if (func && kind == SYM_STATIC)
		v->qname = symi_internf(st, "%s::%s", func, name);
	if (have_type && (kind == SYM_STATIC || kind == SYM_TLS)) {
		v->type = symi_type_at(d->types, toff);
		v->size = sym_type_size(v->type);
	}
	st->nvars++;
}
