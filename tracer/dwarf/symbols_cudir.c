/*
 * symbols_cudir — the cheap directory of a module's compilation units that
 * lets sym_open() leave the DWARF unindexed until a query needs one unit
 * (issue 15 item 3; symbols_lazy.c does the indexing on demand).
 *
 * Read straight from the raw sections, without libdwarf, in one pass that
 * decodes abbreviations and skips attribute values by their form:
 *
 *   - each unit's header offset and DW_AT_name;
 *   - its pc ranges: .debug_aranges when the unit is listed there, else
 *     the unit DIE's DW_AT_low_pc / DW_AT_high_pc (a unit that has only
 *     DW_AT_ranges, or an indexed address, is "anywhere": a pc no other
 *     unit claims indexes it);
 *   - later, only when the ELF symbols cannot tell which unit defines a
 *     name (symbols_lazy.c), the names all units' top-level DIEs define:
 *     variables and subprograms that are not declarations, named by
 *     DW_AT_name or through DW_AT_specification / DW_AT_abstract_origin,
 *     namespaces descended.  Children are skipped by DW_AT_sibling where
 *     the producer gave one.  ~20 ms on genbig's 2.2 MB of .debug_info,
 *     where the directory alone takes well under 1 ms.
 *
 * And, for a global variable at a known address, which units hold the
 * bytes DW_OP_addr <address> (a location expression naming it): one pass of
 * memmem() over .debug_info, mapped 1 MB at a time.
 *
 * Every read is bounds-checked against its section, so this runs in the
 * tracer itself; anything it does not understand (an unknown form, a
 * string index it cannot resolve, a reference into another unit) makes it
 * give up, and sym_open() indexes the whole module the old way.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symbols_int.h"

struct sec {
	const uint8_t *p;
	size_t n;
};

struct sects {
	struct sec info, abbrev, str, line_str, aranges, str_offsets;
};

/* A cursor over one section; bad is set by any read past its end. */
struct rd {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t rd_u(struct rd *r, int n)
{
	uint64_t v = 0;

	if (r->bad || (size_t)(r->end - r->p) < (size_t)n) {
		r->bad = 1;
		return 0;
	}
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | r->p[i];
	r->p += n;
	return v;
}

static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; !r->bad; shift += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			break;
		}
		uint8_t b = *r->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

static void rd_skip(struct rd *r, uint64_t n)
{
	if (r->bad || (uint64_t)(r->end - r->p) < n)
		r->bad = 1;
	else
		r->p += n;
}

/* The NUL-terminated string at off in s, or NULL. */
static const char *str_at(const struct sec *s, uint64_t off)
{
	if (!s->p || off >= s->n || !memchr(s->p + off, '\0', s->n - off))
		return NULL;
	return (const char *)s->p + off;
}

/* ---- abbreviations ----------------------------------------------------- */

struct abattr {
	uint16_t at, form;
	int64_t implicit;	/* DW_FORM_implicit_const's value */
};

struct abbrev {
	uint64_t code;
	uint16_t tag;
	uint8_t children;
	uint32_t first, n;	/* into the table's attrs */
};

struct abtab {
	uint64_t off;		/* in .debug_abbrev; UINT64_MAX: none read */
	struct abbrev *v;
	size_t n, cap;
	struct abattr *attrs;
	size_t nattrs, capattrs;
};

static int ab_read(struct abtab *t, const struct sec *s, uint64_t off)
{
	struct rd r;

	t->n = t->nattrs = 0;
	t->off = UINT64_MAX;
	if (!s->p || off >= s->n)
		return -1;
	r = (struct rd){ s->p, s->p + s->n, 0 };
	r.p += off;
	for (;;) {
		uint64_t code = rd_uleb(&r);
		struct abbrev *a;

		if (r.bad)
			return -1;
		if (code == 0)
			break;
		if (!(a = symi_push((void **)&t->v, &t->cap, t->n, sizeof(*a))))
			return -1;
		a->code = code;
		a->tag = (uint16_t)rd_uleb(&r);
		a->children = (uint8_t)rd_u(&r, 1);
		a->first = (uint32_t)t->nattrs;
		for (;;) {
			uint64_t at = rd_uleb(&r), form = rd_uleb(&r);
			struct abattr *x;

			if (r.bad)
				return -1;
			if (at == 0 && form == 0)
				break;
			if (!(x = symi_push((void **)&t->attrs, &t->capattrs, t->nattrs,
					    sizeof(*x))))
				return -1;
			x->at = (uint16_t)at;
			x->form = (uint16_t)form;
			if (form == DW_FORM_implicit_const)
				x->implicit = (int64_t)rd_uleb(&r);	/* sign not needed */
			t->nattrs++;
		}
		a->n = (uint32_t)t->nattrs - a->first;
		t->n++;
	}
	t->off = off;
	return 0;
}

static const struct abbrev *ab_find(const struct abtab *t, uint64_t code)
{
	/* Producers number them 1, 2, 3...: try the direct slot first. */
	if (code >= 1 && code <= t->n && t->v[code - 1].code == code)
		return &t->v[code - 1];
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].code == code)
			return &t->v[i];
	return NULL;
}

/* ---- one unit ------------------------------------------------------------ */

struct unit {
	const struct sects *s;
	struct abtab *ab;
	uint64_t off, end;	/* [header, end) in .debug_info */
	int version, osz, asz;	/* offset and address sizes */
	uint64_t str_off_base;
	int no_str_base;	/* strx seen before DW_AT_str_offsets_base */
};

/* What one DIE says that the directory uses. */
struct dieval {
	uint16_t tag;
	int children;
	const char *name;
	uint64_t strx;		/* name by string index, resolved later */
	int has_strx;
	int decl;
	uint64_t ref;		/* specification / abstract origin, section offset */
	int has_ref;
	uint64_t sibling;	/* section offset, 0 if none */
	uint64_t lo, hi;
	int has_lo, has_hi, hi_is_len, has_ranges, lo_indexed;
	uint64_t str_base;
	int has_str_base;
};

static int fixed_size(int form, const struct unit *u)
{
	switch (form) {
	case DW_FORM_flag_present: case DW_FORM_implicit_const: return 0;
	case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1:
	case DW_FORM_addrx1: return 1;
	case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2:
		return 2;
	case DW_FORM_strx3: case DW_FORM_addrx3: return 3;
	case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_strx4: case DW_FORM_addrx4:
	case DW_FORM_ref_sup4: return 4;
	case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8:
		return 8;
	case DW_FORM_data16: return 16;
	case DW_FORM_addr: return u->asz;
	case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_sec_offset:
	case DW_FORM_strp_sup: case DW_FORM_GNU_ref_alt: case DW_FORM_GNU_strp_alt:
		return u->osz;
	case DW_FORM_ref_addr: return u->version <= 2 ? u->asz : u->osz;
	}
	return -1;
}

/* Read one attribute value into *v per its name; -1 on a form not known. */
static int read_attr(struct unit *u, struct rd *r, uint16_t at, uint16_t form,
		     int64_t implicit, struct dieval *v)
{
	uint64_t val = 0;
	const char *str = NULL;
	int is_ref = 0, is_cref = 0, is_strx = 0, is_const = 0;
	int n;

	if (form == DW_FORM_indirect) {
		form = (uint16_t)rd_uleb(r);
		if (form == DW_FORM_indirect)
			return -1;
		return read_attr(u, r, at, form, implicit, v);
	}
	switch (form) {
	case DW_FORM_string: {
		const uint8_t *z = r->bad ? NULL : memchr(r->p, '\0', (size_t)(r->end - r->p));

		if (!z)
			return -1;
		str = (const char *)r->p;
		r->p = z + 1;
		break;
	}
	case DW_FORM_block1: rd_skip(r, rd_u(r, 1)); break;
	case DW_FORM_block2: rd_skip(r, rd_u(r, 2)); break;
	case DW_FORM_block4: rd_skip(r, rd_u(r, 4)); break;
	case DW_FORM_block: case DW_FORM_exprloc: rd_skip(r, rd_uleb(r)); break;
	case DW_FORM_sdata: case DW_FORM_udata: case DW_FORM_loclistx:
	case DW_FORM_rnglistx: case DW_FORM_addrx: case DW_FORM_GNU_addr_index:
		val = rd_uleb(r);
		is_const = 1;
		break;
	case DW_FORM_strx: case DW_FORM_GNU_str_index:
		val = rd_uleb(r);
		is_strx = 1;
		break;
	case DW_FORM_ref_udata:
		val = rd_uleb(r);
		is_cref = 1;
		break;
	default:
		if ((n = fixed_size(form, u)) < 0)
			return -1;
		val = form == DW_FORM_implicit_const ? (uint64_t)implicit :
		      form == DW_FORM_flag_present ? 1 : rd_u(r, n);
		if (form == DW_FORM_strp)
			str = str_at(&u->s->str, val);
		else if (form == DW_FORM_line_strp)
			str = str_at(&u->s->line_str, val);
		else if (form == DW_FORM_ref1 || form == DW_FORM_ref2 ||
			 form == DW_FORM_ref4 || form == DW_FORM_ref8)
			is_cref = 1;
		else if (form == DW_FORM_ref_addr)
			is_ref = 1;
		else if (form >= DW_FORM_strx1 && form <= DW_FORM_strx4)
			is_strx = 1;
		else
			is_const = 1;
		/* A string elsewhere (supplementary file) names nothing here. */
		if ((form == DW_FORM_strp_sup || form == DW_FORM_GNU_strp_alt) &&
		    at == DW_AT_name)
			return -1;
	}
	if (r->bad)
		return -1;
	if (is_cref) {
		val += u->off;
		is_ref = 1;
	}
	switch (at) {
	case DW_AT_name:
		if (str)
			v->name = str;
		else if (is_strx) {
			v->strx = val;
			v->has_strx = 1;
		} else
			return -1;
		break;
	case DW_AT_declaration:
		v->decl = val != 0;
		break;
	case DW_AT_specification:
	case DW_AT_abstract_origin:
		if (!is_ref)
			return -1;
		v->ref = val;
		v->has_ref = 1;
		break;
	case DW_AT_sibling:
		if (is_ref && !(form == DW_FORM_ref_addr))
			v->sibling = val;
		break;
	case DW_AT_low_pc:
		v->has_lo = 1;
		v->lo = val;
		v->lo_indexed = form != DW_FORM_addr;
		break;
	case DW_AT_high_pc:
		v->has_hi = 1;
		v->hi = val;
		v->hi_is_len = form != DW_FORM_addr;
		break;
	case DW_AT_ranges:
		v->has_ranges = 1;
		break;
	case DW_AT_str_offsets_base:
		v->str_base = val;
		v->has_str_base = 1;
		break;
	}
	(void)is_const;
	return 0;
}

/* Read the DIE at r (its abbreviation code first); 1 read, 0 a null entry,
 * -1 malformed or not understood. */
static int read_die(struct unit *u, struct rd *r, struct dieval *v)
{
	uint64_t code = rd_uleb(r);
	const struct abbrev *a;

	memset(v, 0, sizeof(*v));
	if (r->bad)
		return -1;
	if (code == 0)
		return 0;
	if (!(a = ab_find(u->ab, code)))
		return -1;
	v->tag = a->tag;
	v->children = a->children;
	for (uint32_t i = 0; i < a->n; i++) {
		const struct abattr *x = &u->ab->attrs[a->first + i];

		if (read_attr(u, r, x->at, x->form, x->implicit, v) < 0)
			return -1;
	}
	return 1;
}

static const char *strx_name(struct unit *u, uint64_t idx)
{
	const struct sec *so = &u->s->str_offsets;
	uint64_t at = u->str_off_base + idx * (uint64_t)u->osz;
	struct rd r;

	if (u->no_str_base || !so->p || at >= so->n || so->n - at < (uint64_t)u->osz)
		return NULL;
	r = (struct rd){ so->p + at, so->p + so->n, 0 };
	return str_at(&u->s->str, rd_u(&r, u->osz));
}

static const char *die_name(struct unit *u, struct dieval *v)
{
	if (v->name)
		return v->name;
	if (v->has_strx)
		return strx_name(u, v->strx);
	return NULL;
}

/* The name of the DIE at section offset off (in this unit), following
 * specification / abstract origin chains like symi_die_name(). */
static int name_at(struct unit *u, uint64_t off, int hops, const char **out)
{
	struct rd r;
	struct dieval v;

	*out = NULL;
	if (off <= u->off || off >= u->end)
		return -1;	/* another unit's DIE: not followed here */
	r = (struct rd){ u->s->info.p + off, u->s->info.p + u->end, 0 };
	if (read_die(u, &r, &v) <= 0)
		return -1;
	if (v.name || v.has_strx) {
		*out = die_name(u, &v);
		return *out ? 0 : -1;
	}
	if (v.has_ref && hops < 4)
		return name_at(u, v.ref, hops + 1, out);
	return 0;
}

/* ---- the directory -------------------------------------------------------- */

struct build {
	struct symtab *st;
	struct symi_lazy *lz;
	uint32_t cu;		/* index of the unit being read */
	int names;		/* 0: the directory (open); 1: the names (later) */
};

static int add_name(struct build *b, const char *name)
{
	const char *n = symi_intern(b->st, name);
	struct symi_curef *head, *c;

	if (!n)
		return -1;
	head = symi_map_get(&b->lz->names, (uint64_t)(uintptr_t)n);
	if (head && head->cu == b->cu)
		return 0;
	if (!(c = symi_alloc(&b->st->arena, sizeof(*c))))
		return -1;
	c->cu = b->cu;
	c->next = head;
	return symi_map_put(&b->lz->names, (uint64_t)(uintptr_t)n, c);
}

/* Skip the children of a DIE: every DIE up to the matching null entry. */
static int skip_children(struct unit *u, struct rd *r)
{
	struct dieval v;

	for (long depth = 1; depth > 0;) {
		int k = read_die(u, r, &v);

		if (k < 0)
			return -1;
		if (k == 0)
			depth--;
		else if (v.children)
			depth++;
	}
	return 0;
}

/* The children of a unit or namespace at r: record what they define. */
static int scan_children(struct build *b, struct unit *u, struct rd *r, int depth)
{
	struct dieval v;
	int k;

	if (depth > 32)
		return -1;
	while ((k = read_die(u, r, &v)) > 0) {
		const char *name = NULL;

		if ((v.tag == DW_TAG_variable || v.tag == DW_TAG_subprogram) && !v.decl) {
			name = die_name(u, &v);
			if (!name && v.has_strx)
				return -1;
			if (!name && v.has_ref && name_at(u, v.ref, 1, &name) < 0)
				return -1;
			if (name && add_name(b, name) < 0)
				return -1;
		}
		if (!v.children)
			continue;
		if (v.tag == DW_TAG_namespace) {
			if (scan_children(b, u, r, depth + 1) < 0)
				return -1;
		} else if (v.sibling > (uint64_t)(r->p - u->s->info.p) && v.sibling < u->end) {
			r->p = u->s->info.p + v.sibling;
		} else if (skip_children(u, r) < 0) {
			return -1;
		}
	}
	return k < 0 ? -1 : 0;
}

static int add_range(struct symi_lazy *lz, uint64_t lo, uint64_t hi, uint32_t cu)
{
	struct symi_curange *g;

	if (lo == 0 || hi <= lo)
		return 0;
	if (!(g = symi_push((void **)&lz->ranges, &lz->capranges, lz->nranges, sizeof(*g))))
		return -1;
	g->lo = lo;
	g->hi = hi;
	g->cu = cu;
	lz->nranges++;
	return 0;
}

/* Read the unit at off; *next is where the following one starts. */
static int read_unit(struct build *b, const struct sects *s, struct abtab *ab,
		     uint64_t off, uint64_t *next)
{
	struct rd r = { s->info.p + off, s->info.p + s->info.n, 0 };
	struct unit u = { .s = s, .ab = ab, .off = off, .osz = 4 };
	uint64_t len = rd_u(&r, 4), aboff;
	int utype = DW_UT_compile;
	struct dieval v;
	struct symi_cu *cu;

	if (len == 0xffffffff) {
		len = rd_u(&r, 8);
		u.osz = 8;
	}
	if (r.bad || len > (uint64_t)(r.end - r.p))
		return -1;
	u.end = (uint64_t)(r.p - s->info.p) + len;
	*next = u.end;
	r.end = s->info.p + u.end;
	u.version = (int)rd_u(&r, 2);
	if (u.version < 2 || u.version > 5)
		return -1;
	if (u.version >= 5) {
		utype = (int)rd_u(&r, 1);
		u.asz = (int)rd_u(&r, 1);
		aboff = rd_u(&r, u.osz);
	} else {
		aboff = rd_u(&r, u.osz);
		u.asz = (int)rd_u(&r, 1);
	}
	if (r.bad || (u.asz != 4 && u.asz != 8))
		return -1;
	/* Type, skeleton and split units hold nothing the index reads. */
	if (utype != DW_UT_compile && utype != DW_UT_partial)
		return 0;
	if (ab->off != aboff && ab_read(ab, &s->abbrev, aboff) < 0)
		return -1;
	if (read_die(&u, &r, &v) <= 0)
		return -1;
	if (v.tag != DW_TAG_compile_unit)
		return 0;	/* partial units: symi_dwarf_index skips them too */
	u.str_off_base = v.has_str_base ? v.str_base : 8;
	u.no_str_base = 0;
	if (b->names) {
		/* The same file as at open, or the names would be wrong. */
		if (b->cu >= b->lz->ncus || b->lz->cus[b->cu].off != off)
			return -1;
		if (v.children && scan_children(b, &u, &r, 0) < 0)
			return -1;
		b->cu++;
		return 0;
	}
	cu = symi_push((void **)&b->lz->cus, &b->lz->capcus, b->lz->ncus, sizeof(*cu));
	if (!cu)
		return -1;
	cu->off = off;
	if (die_name(&u, &v) && !(cu->name = symi_intern(b->st, die_name(&u, &v))))
		return -1;
	if (v.has_lo && !v.lo_indexed && v.has_hi) {
		cu->lo = v.lo;
		cu->hi = v.hi_is_len ? v.lo + v.hi : v.hi;
	} else if (v.has_ranges || (v.has_lo && v.lo_indexed)) {
		cu->anywhere = 1;
	}
	b->lz->ncus++;
	return 0;
}

static uint32_t cu_by_off(const struct symi_lazy *lz, uint64_t off)
{
	size_t lo = 0, hi = lz->ncus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lz->cus[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < lz->ncus && lz->cus[lo].off == off ? (uint32_t)lo : UINT32_MAX;
}

/* .debug_aranges: the ranges of the units it lists (they stop being
 * "anywhere"); then the low/high pc of those it does not. */
static int read_aranges(struct symi_lazy *lz, const struct sec *s)
{
	/* No section: an empty reader (pointer arithmetic on NULL is undefined). */
	struct rd r = { s->p, s->p ? s->p + s->n : NULL, 0 };
	uint8_t *listed = calloc(lz->ncus + 1, 1);

	if (!listed)
		return -1;
	while (s->p && r.p < r.end && !r.bad) {
		const uint8_t *start = r.p;
		uint64_t len = rd_u(&r, 4), info;
		int osz = 4, asz, ssz;
		uint32_t cu;

		if (len == 0xffffffff) {
			len = rd_u(&r, 8);
			osz = 8;
		}
		if (r.bad || len > (uint64_t)(r.end - r.p))
			break;
		struct rd set = { r.p, r.p + len, 0 };

		r.p += len;
		rd_u(&set, 2);
		info = rd_u(&set, osz);
		asz = (int)rd_u(&set, 1);
		ssz = (int)rd_u(&set, 1);
		if (set.bad || (asz != 4 && asz != 8) || ssz != 0)
			continue;
		/* Tuples start at a multiple of twice the address size. */
		size_t hdr = (size_t)(set.p - start), pad = (2 * (size_t)asz - hdr % (2 * asz)) % (2 * asz);

		rd_skip(&set, pad);
		if ((cu = cu_by_off(lz, info)) == UINT32_MAX)
			continue;
		listed[cu] = 1;
		lz->cus[cu].anywhere = 0;
		while (!set.bad && set.p < set.end) {
			uint64_t a = rd_u(&set, asz), n = rd_u(&set, asz);

			if (set.bad || (a == 0 && n == 0))
				break;
			if (add_range(lz, a, a + n, cu) < 0) {
				free(listed);
				return -1;
			}
		}
	}
	for (uint32_t i = 0; i < lz->ncus; i++)
		if (!listed[i] && lz->cus[i].hi && add_range(lz, lz->cus[i].lo, lz->cus[i].hi, i) < 0) {
			free(listed);
			return -1;
		}
	free(listed);
	return 0;
}

/* The raw sections, compressed ones inflated; -1 when one is unreadable.
 * *info_off is where .debug_info starts in the file (UINT64_MAX: it is
 * compressed there). */
static int get_sections(Elf *elf, struct sects *s, uint64_t *info_off)
{
	size_t shstr;
	Elf_Scn *scn = NULL;

	memset(s, 0, sizeof(*s));
	if (elf_getshdrstrndx(elf, &shstr) < 0)
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		struct sec *to = NULL;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstr, sh.sh_name)))
			continue;
		if (!strcmp(name, ".debug_info"))
			to = &s->info;
		else if (!strcmp(name, ".debug_abbrev"))
			to = &s->abbrev;
		else if (!strcmp(name, ".debug_str"))
			to = &s->str;
		else if (!strcmp(name, ".debug_line_str"))
			to = &s->line_str;
		else if (!strcmp(name, ".debug_aranges"))
			to = &s->aranges;
		else if (!strcmp(name, ".debug_str_offsets"))
			to = &s->str_offsets;
		else if (!strncmp(name, ".zdebug_", 8))
			return -1;
		if (!to || sh.sh_type == SHT_NOBITS)
			continue;
		if (sh.sh_flags & SHF_COMPRESSED) {
			/* Debian's -dbg files: inflated here (libelf keeps the
			 * copy until elf_end()); no file offset to pread. */
			if (elf_compress(scn, 0, 0) < 0 || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
				return -1;
			if (to == &s->info)
				*info_off = UINT64_MAX;
		} else {
			if (!(d = elf_rawdata(scn, NULL)) || !d->d_buf || d->d_size != sh.sh_size)
				return -1;
			if (to == &s->info)
				*info_off = sh.sh_offset;
		}
		to->p = d->d_buf;
		to->n = d->d_size;
	}
	return s->info.p && s->abbrev.p ? 0 : -1;
}

void symi_lazy_free(struct symi_lazy *lz)
{
	if (!lz)
		return;
	free(lz->path);
	free(lz->cus);
	free(lz->ranges);
	symi_map_free(&lz->names);
	free(lz->objs.v);
	free(lz);
}

struct symi_lazy *symi_cudir_read(struct symtab *st, void *elfp)
{
	struct symi_lazy *lz = calloc(1, sizeof(*lz));
	struct abtab ab = { .off = UINT64_MAX };
	struct build b = { st, lz, 0, 0 };
	struct sects s;
	uint64_t off = 0, next;

	if (!lz || get_sections(elfp, &s, &lz->info_off) < 0)
		goto fail;
	lz->info_size = s.info.n;
	while (off < s.info.n) {
		if (read_unit(&b, &s, &ab, off, &next) < 0 || next <= off)
			goto fail;
		off = next;
	}
	if (lz->ncus == 0 || read_aranges(lz, &s.aranges) < 0)
		goto fail;
	free(ab.v);
	free(ab.attrs);
	return lz;
fail:
	free(ab.v);
	free(ab.attrs);
	symi_lazy_free(lz);
	return NULL;
}

int symi_cudir_names(struct symtab *st)
{
	struct symi_lazy *lz = st->lazy;
	struct abtab ab = { .off = UINT64_MAX };
	struct build b = { st, lz, 0, 1 };
	struct sects s;
	uint64_t off = 0, next, info_off = 0;
	int fd, r = -1;
	Elf *elf = NULL;

	if (lz->names_read)
		return lz->names_read > 0 ? 0 : -1;
	lz->names_read = -1;
	if ((fd = open(lz->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || get_sections(elf, &s, &info_off) < 0 ||
	    s.info.n != lz->info_size)
		goto out;
	while (off < s.info.n) {
		if (read_unit(&b, &s, &ab, off, &next) < 0 || next <= off)
			goto out;
		off = next;
	}
	if (b.cu == lz->ncus) {
		lz->names_read = 1;
		r = 0;
	}
out:
	free(ab.v);
	free(ab.attrs);
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}

/* The unit whose bytes hold .debug_info offset off. */
static uint32_t cu_holding(const struct symi_lazy *lz, uint64_t off)
{
	size_t lo = 0, hi = lz->ncus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lz->cus[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (uint32_t)(lo - 1) : UINT32_MAX;
}

size_t symi_cudir_addr(const struct symi_lazy *lz, uint64_t addr, uint32_t *out, size_t max)
{
	/* Mapped a window at a time, not read(): no copy, a page fault per
	 * 64 KB of page cache, and at most one window resident. */
	enum { WINDOW = 1 << 20, PAT = 9 };
	uint64_t start, end;
	uint8_t pat[PAT];
	size_t k = 0;
	int fd;

	pat[0] = DW_OP_addr;
	for (int i = 0; i < 8; i++)
		pat[1 + i] = (uint8_t)(addr >> (8 * i));
	if (!lz->info_size || lz->info_off == UINT64_MAX ||
	    (fd = open(lz->path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	start = lz->info_off;
	end = lz->info_off + lz->info_size;
	/* Windows overlap by PAT - 1 bytes so no match is cut in two. */
	for (uint64_t pos = start; pos < end && k < max;) {
		uint64_t base = pos & ~(uint64_t)4095;
		size_t len = end - base < WINDOW ? (size_t)(end - base) : WINDOW;
		uint8_t *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)base);

		if (m == MAP_FAILED)
			break;
		for (const uint8_t *p = m + (pos - base), *e = m + len;
		     (p = memmem(p, (size_t)(e - p), pat, PAT)) && k < max; p++) {
			uint32_t cu = cu_holding(lz, base + (uint64_t)(p - m) - start);
			int dup = 0;

			for (size_t i = 0; i < k; i++)
				dup |= out[i] == cu;
			if (cu != UINT32_MAX && !dup)
				out[k++] = cu;
		}
		munmap(m, len);
		if (base + len >= end)
			break;
		pos = base + len - (PAT - 1);
	}
	close(fd);
	return k;
}

/* ---- lookups ---------------------------------------------------------- */

const struct symi_curef *symi_cudir_named(const struct symi_lazy *lz, const char *interned)
{
	return interned ? symi_map_get(&lz->names, (uint64_t)(uintptr_t)interned) : NULL;
}

size_t symi_cudir_at(const struct symi_lazy *lz, uint64_t pc, uint32_t *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < lz->nranges && k < max; i++)
		if (pc >= lz->ranges[i].lo && pc < lz->ranges[i].hi)
			out[k++] = lz->ranges[i].cu;
	if (k)
		return k;
	for (uint32_t i = 0; i < lz->ncus && k < max; i++)
		if (lz->cus[i].anywhere)
			out[k++] = i;
	return k;
}
