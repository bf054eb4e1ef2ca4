/*
 * symbols_types — DWARF types copied into the symtab's arena, with what
 * the watch language asks of them (symbols_lookup.c): size, display name,
 * volatile/_Atomic marking, struct/union members (bit-fields included) and
 * array elements.
 *
 * Only what a watch expression can reach is built in full: a variable's
 * type, its members' and elements' types, recursively, and the target of
 * the first pointer on the way (-w 'p->field' reads one pointer).  Targets
 * of further pointers are built "shallow" (name and size, no members),
 * since a struct reachable through pointers can pull in a whole library's
 * types.  Types are cached by DIE offset (full and shallow
 * separately) and entered in the cache before their parts are built, so
 * self-referencing structs terminate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

#define MAX_DEPTH 48		/* nesting guard against corrupt DWARF */
#define MAX_DIMS 16

struct symi_types {
	struct symtab *st;
	Dwarf_Debug dbg;
	struct symi_map cache;	/* (offset << 1 | shallow) -> struct sym_type */
	struct symi_map byname;	/* interned "struct foo" -> its full build */
	int depth;
	int under_ptr;		/* building the target of a pointer */
};

struct symi_types *symi_types_new(struct symtab *st, Dwarf_Debug dbg)
{
	struct symi_types *tc = calloc(1, sizeof(*tc));

	if (tc) {
		tc->st = st;
		tc->dbg = dbg;
	}
	return tc;
}

void symi_types_free(struct symi_types *tc)
{
	if (!tc)
		return;
	symi_map_free(&tc->cache);
	symi_map_free(&tc->byname);
	free(tc);
}

int symi_is_qual(enum symi_tkind k)
{
	return k == T_TYPEDEF || k == T_CONST || k == T_VOLATILE ||
	       k == T_ATOMIC || k == T_RESTRICT;
}

/* Look through typedefs and qualifiers. */
const struct sym_type *symi_strip(const struct sym_type *t)
{
	for (int i = 0; t && symi_is_qual(t->kind) && i < SYMI_MAX_HOPS; i++)
		t = t->target;
	return t;
}

static int ends_with_star(const char *s)
{
	size_t n = strlen(s);

	return n && s[n - 1] == '*';
}

/* "[3][4]" for an array of arrays, into buf. */
static const struct sym_type *dims(const struct sym_type *t, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; t && t->kind == T_ARRAY && i < SYMI_MAX_HOPS; i++, t = t->target) {
		int w = t->bounded ?
			snprintf(buf + used, len - used, "[%llu]", (unsigned long long)t->count) :
			snprintf(buf + used, len - used, "[]");

		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return t;
}

const char *symi_tname(const struct sym_type *t)
{
	return t && t->name ? t->name : "?";
}

/* Display names, C-like: "char [16]", "int *", "const char *", "int (*)[4]". */
static const char *make_name(struct symi_types *tc, struct sym_type *t)
{
	struct symtab *st = tc->st;
	const struct sym_type *x = t->target;
	char d[128];

	switch (t->kind) {
	case T_POINTER:
		if (!x)
			return symi_intern(st, "void *");
		if (x->kind == T_FUNC)
			return symi_internf(st, "%s (*)()", x->target ? symi_tname(x->target) : "void");
		if (x->kind == T_ARRAY) {
			x = dims(x, d, sizeof(d));
			return symi_internf(st, "%s (*)%s", symi_tname(x), d);
		}
		return symi_internf(st, ends_with_star(symi_tname(x)) ? "%s*" : "%s *", symi_tname(x));
	case T_ARRAY:
		x = dims(t, d, sizeof(d));
		return symi_internf(st, ends_with_star(symi_tname(x)) ? "%s%s" : "%s %s", symi_tname(x), d);
	case T_FUNC:
		return symi_internf(st, "%s ()", x ? symi_tname(x) : "void");
	case T_CONST:
	case T_VOLATILE:
	case T_ATOMIC: {
		const char *q = t->kind == T_CONST ? "const" :
				t->kind == T_VOLATILE ? "volatile" : "_Atomic";

		if (x && x->kind == T_POINTER)
			return symi_internf(st, "%s %s", symi_tname(x), q);
		return symi_internf(st, "%s %s", q, x ? symi_tname(x) : "void");
	}
	case T_RESTRICT:
		return symi_internf(st, "%s restrict", symi_tname(x));
	default:
		return symi_intern(st, "?");
	}
}

static struct sym_type *build(struct symi_types *tc, Dwarf_Off off, int shallow);

static const struct sym_type *build_ref(struct symi_types *tc, Dwarf_Die die,
					int shallow)
{
	Dwarf_Off off;

	if (symi_ref(tc->dbg, die, DW_AT_type, &off) < 0)
		return NULL;	/* void */
	return build(tc, off, shallow);
}

/* DW_AT_data_member_location: a constant, or (DWARF 2) DW_OP_plus_uconst. */
static uint64_t member_offset(struct symi_types *tc, Dwarf_Die die)
{
	Dwarf_Error e = NULL;
	Dwarf_Attribute a;
	Dwarf_Loc_Head_c head;
	Dwarf_Unsigned cnt;
	uint64_t off = 0;

	if (symi_udata(tc->dbg, die, DW_AT_data_member_location, &off) == 0)
		return off;
	if (dwarf_attr(die, DW_AT_data_member_location, &a, &e) != DW_DLV_OK)
		goto out;
	if (dwarf_get_loclist_c(a, &head, &cnt, &e) == DW_DLV_OK) {
		Dwarf_Small lle, src, atom;
		Dwarf_Unsigned rlo, rhi, nops, eoff, doff, o1, o2, o3, r1, r2, r3, br;
		Dwarf_Bool unavail;
		Dwarf_Addr lo, hi;
		Dwarf_Locdesc_c desc;

		if (cnt >= 1 &&
		    dwarf_get_locdesc_entry_d(head, 0, &lle, &rlo, &rhi, &unavail,
					      &lo, &hi, &nops, &desc, &src, &eoff,
					      &doff, &e) == DW_DLV_OK && nops >= 1 &&
		    dwarf_get_location_op_value_d(desc, 0, &atom, &o1, &o2, &o3, &r1,
						  &r2, &r3, &br, &e) == DW_DLV_OK &&
		    atom == DW_OP_plus_uconst)
			off = o1;
		dwarf_loc_head_c_dealloc(head);
	}
	dwarf_dealloc_attribute(a);
out:
	if (e)
		dwarf_dealloc_error(tc->dbg, e);
	return off;
}

/*
 * A bit-field becomes a synthetic type covering the bytes that hold it.
 * DWARF 4+ gives DW_AT_data_bit_offset from the start of the aggregate;
 * DWARF 2/3 give DW_AT_bit_offset counted from the most significant bit
 * of a DW_AT_byte_size storage unit (so on little-endian x86 it has to be
 * flipped).
 */
static void bitfield(struct symi_types *tc, Dwarf_Die die, uint64_t bits,
		     struct sym_member *m)
{
	uint64_t pos, bo = 0, unit = 0, loc = member_offset(tc, die);
	struct sym_type *bt;

	if (symi_udata(tc->dbg, die, DW_AT_data_bit_offset, &pos) < 0) {
		if (symi_udata(tc->dbg, die, DW_AT_bit_offset, &bo) == 0) {
			if (symi_udata(tc->dbg, die, DW_AT_byte_size, &unit) < 0)
				unit = sym_type_size(m->type);
			pos = loc * 8 + unit * 8 - bo - bits;
		} else {
			pos = loc * 8;
		}
	}
	bt = symi_alloc(&tc->st->arena, sizeof(*bt));
	if (!bt)
		return;
	bt->kind = T_BITFIELD;
	bt->target = m->type;
	bt->size = (pos % 8 + bits + 7) / 8;
	bt->name = symi_internf(tc->st, "%s:%llu", symi_tname(m->type),
				(unsigned long long)bits);
	m->off = pos / 8;
	m->type = bt;
}

static void build_members(struct symi_types *tc, Dwarf_Die die, struct sym_type *t)
{
	struct sym_member *v = NULL;
	size_t n = 0, cap = 0;
	Dwarf_Error e = NULL;
	Dwarf_Die c = NULL;
	Dwarf_Half tag;

	if (dwarf_child(die, &c, &e) != DW_DLV_OK)
		goto out;
	while (c) {
		if (dwarf_tag(c, &tag, &e) == DW_DLV_OK && tag == DW_TAG_member &&
		    !symi_flag(tc->dbg, c, DW_AT_external)) {
			struct sym_member *m = symi_push((void **)&v, &cap, n, sizeof(*m));
			uint64_t bits;

			if (!m) {
				tc->st->oom = 1;
				dwarf_dealloc_die(c);
				break;
			}
			m->name = symi_name(tc->st, tc->dbg, c);
			m->type = build_ref(tc, c, 0);
			if (symi_udata(tc->dbg, c, DW_AT_bit_size, &bits) == 0 && bits)
				bitfield(tc, c, bits, m);
			else if (t->kind != T_UNION)
				m->off = member_offset(tc, c);
			n++;
		}
		if (e) {
			dwarf_dealloc_error(tc->dbg, e);
			e = NULL;
		}
		c = symi_next_sibling(tc->dbg, c);
	}
	if (n) {
		t->members = symi_alloc(&tc->st->arena, n * sizeof(*v));
		if (t->members) {
			memcpy(t->members, v, n * sizeof(*v));
			t->nmembers = n;
		}
	}
	free(v);
out:
	if (e)
		dwarf_dealloc_error(tc->dbg, e);
}

/*
 * DW_TAG_array_type: one DW_TAG_subrange_type per dimension, each with
 * DW_AT_count or DW_AT_upper_bound (lower bound 0 in C).  t becomes the
 * outermost dimension; inner ones are synthesized, so int [3][4] is an
 * array of 3 int [4].
 */
static void build_array(struct symi_types *tc, Dwarf_Die die, struct sym_type *t,
			int shallow)
{
	uint64_t count[MAX_DIMS];
	int bounded[MAX_DIMS], nd = 0;
	const struct sym_type *inner;
	Dwarf_Error e = NULL;
	Dwarf_Die c = NULL;
	Dwarf_Half tag;
	uint64_t sz;

	if (dwarf_child(die, &c, &e) == DW_DLV_OK) {
		while (c) {
			if (dwarf_tag(c, &tag, &e) == DW_DLV_OK &&
			    tag == DW_TAG_subrange_type && nd < MAX_DIMS) {
				uint64_t cnt;
				int64_t ub, lb = 0;

				bounded[nd] = 1;
				if (symi_udata(tc->dbg, c, DW_AT_count, &cnt) == 0) {
					count[nd] = cnt;
				} else if (symi_sdata(tc->dbg, c, DW_AT_upper_bound, &ub) == 0) {
					symi_sdata(tc->dbg, c, DW_AT_lower_bound, &lb);
					count[nd] = ub >= lb ? (uint64_t)(ub - lb) + 1 : 0;
				} else {
					bounded[nd] = 0;	/* int a[], or a VLA */
					count[nd] = 0;
				}
				nd++;
			}
			if (e) {
				dwarf_dealloc_error(tc->dbg, e);
				e = NULL;
			}
			c = symi_next_sibling(tc->dbg, c);
		}
	}
	if (e)
		dwarf_dealloc_error(tc->dbg, e);
	if (nd == 0) {
		bounded[0] = 0;
		count[0] = 0;
		nd = 1;
	}
	inner = build_ref(tc, die, shallow);
	for (int i = nd - 1; i >= 1; i--) {
		struct sym_type *a = symi_alloc(&tc->st->arena, sizeof(*a));

		if (!a)
			return;
		a->kind = T_ARRAY;
		a->target = inner;
		a->count = count[i];
		a->bounded = bounded[i];
		a->size = bounded[i] ? count[i] * sym_type_size(inner) : 0;
		a->name = make_name(tc, a);
		inner = a;
	}
	t->target = inner;
	t->count = count[0];
	t->bounded = bounded[0];
	t->size = bounded[0] ? count[0] * sym_type_size(inner) : 0;
	if (symi_udata(tc->dbg, die, DW_AT_byte_size, &sz) == 0)
		t->size = sz;
	t->name = make_name(tc, t);
}

static void build_die(struct symi_types *tc, Dwarf_Die die, Dwarf_Half tag,
		      struct sym_type *t, int shallow)
{
	struct symtab *st = tc->st;
	const char *n = symi_name(st, tc->dbg, die);
	uint64_t sz = 0;
	int have_size = symi_udata(tc->dbg, die, DW_AT_byte_size, &sz) == 0;

	t->size = sz;
	switch (tag) {
	case DW_TAG_base_type:
	case DW_TAG_unspecified_type:
		t->kind = T_BASE;
		t->name = n ? n : symi_intern(st, "?");
		break;
	case DW_TAG_enumeration_type:
		t->kind = T_ENUM;
		t->name = symi_internf(st, "enum %s", n ? n : "<anonymous>");
		break;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		t->kind = tag == DW_TAG_union_type ? T_UNION : T_STRUCT;
		t->name = symi_internf(st, "%s %s",
				       tag == DW_TAG_union_type ? "union" :
				       tag == DW_TAG_class_type ? "class" : "struct",
				       n ? n : "<anonymous>");
		t->incomplete = symi_flag(tc->dbg, die, DW_AT_declaration);
		if (!shallow && !t->incomplete)
			build_members(tc, die, t);
		break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		t->kind = T_POINTER;
		if (!have_size)
			t->size = 8;
		/* One level in full (what '->' and '*' can reach). */
		tc->under_ptr++;
		t->target = build_ref(tc, die, shallow || tc->under_ptr > 1);
		tc->under_ptr--;
		t->name = make_name(tc, t);
		break;
	case DW_TAG_typedef:
		t->kind = T_TYPEDEF;
		t->name = n ? n : symi_intern(st, "?");
		t->target = build_ref(tc, die, shallow);
		t->size = sym_type_size(t->target);
		break;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_atomic_type:
	case DW_TAG_restrict_type:
		t->kind = tag == DW_TAG_const_type ? T_CONST :
			  tag == DW_TAG_volatile_type ? T_VOLATILE :
			  tag == DW_TAG_atomic_type ? T_ATOMIC : T_RESTRICT;
		t->target = build_ref(tc, die, shallow);
		t->size = sym_type_size(t->target);
		t->name = make_name(tc, t);
		break;
	case DW_TAG_array_type:
		t->kind = T_ARRAY;
		build_array(tc, die, t, shallow);
		break;
	case DW_TAG_subroutine_type:
		t->kind = T_FUNC;
		t->target = build_ref(tc, die, 1);
		t->name = make_name(tc, t);
		break;
	default:
		t->kind = T_UNKNOWN;
		t->name = n ? n : symi_intern(st, "?");
	}
}

/*
 * Every unit that includes a header carries its own copy of the header's
 * structs.  A complete named struct of the same size is taken to be the
 * same type (C's one-definition practice) and built only once: this is most
 * of the type work in a large module.
 */
static struct sym_type *same_struct(struct symi_types *tc, Dwarf_Die die,
				    Dwarf_Half tag)
{
	const char *n, *full;
	struct sym_type *t;
	uint64_t sz;

	if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type &&
	    tag != DW_TAG_class_type)
		return NULL;
	n = symi_name(tc->st, tc->dbg, die);
	if (!n || symi_flag(tc->dbg, die, DW_AT_declaration) ||
	    symi_udata(tc->dbg, die, DW_AT_byte_size, &sz) < 0)
		return NULL;
	full = symi_internf(tc->st, "%s %s", tag == DW_TAG_union_type ? "union" :
			    tag == DW_TAG_class_type ? "class" : "struct", n);
	t = full ? symi_map_get(&tc->byname, (uintptr_t)full) : NULL;
	return t && t->size == sz ? t : NULL;
}

static struct sym_type *build(struct symi_types *tc, Dwarf_Off off, int shallow)
{
	struct sym_type *t = symi_map_get(&tc->cache, off << 1);
	Dwarf_Error e = NULL;
	Dwarf_Die die;
	Dwarf_Half tag;

	if (t)
		return t;	/* a full build serves shallow requests too */
	if (shallow && (t = symi_map_get(&tc->cache, off << 1 | 1)))
		return t;
	if (tc->depth >= MAX_DEPTH)
		return NULL;
	if (dwarf_offdie_b(tc->dbg, off, 1, &die, &e) != DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(tc->dbg, e);
		return NULL;
	}
	t = symi_alloc(&tc->st->arena, sizeof(*t));
	if (!t || symi_map_put(&tc->cache, off << 1 | (shallow != 0), t) < 0) {
		tc->st->oom = 1;
		dwarf_dealloc_die(die);
		return NULL;
	}
	tc->depth++;
	if (dwarf_tag(die, &tag, &e) == DW_DLV_OK) {
		struct sym_type *same = shallow ? NULL : same_struct(tc, die, tag);

		if (same) {
			symi_map_put(&tc->cache, off << 1, same);
			tc->depth--;
			dwarf_dealloc_die(die);
			return same;	/* t stays unused in the arena */
		}
		build_die(tc, die, tag, t, shallow);
		if (!shallow && (t->kind == T_STRUCT || t->kind == T_UNION) &&
		    !t->incomplete && !strstr(t->name, "<anonymous>"))
			symi_map_put(&tc->byname, (uintptr_t)t->name, t);
	} else {
		t->name = "?";
		if (e)
			dwarf_dealloc_error(tc->dbg, e);
	}
	if (!t->name)
		t->name = "?";
	tc->depth--;
	dwarf_dealloc_die(die);
	return t;
}

const struct sym_type *symi_type_at(struct symi_types *tc, uint64_t off)
{
	return build(tc, off, 0);
}
