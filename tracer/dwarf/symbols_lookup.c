/*
 * symbols_lookup — the queries of symbols.h on an indexed module: function
 * at an address, inline frame chain with lines, variables by name, "did you
 * mean" suggestions, and type size / name / marking / member / element.  A query first has the units it reads
 * indexed (symbols_lazy.c), then only reads (see symbols.c and
 * symbols_dwarf.c for how the index is built).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

/* The first entry named name (an interned pointer), or NULL. */
const struct sym_varent *symi_first_named(const struct symtab *st, const char *name)
{
	size_t lo = 0, hi = st->nvars;

	if (!name)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)st->vars[mid].name < (uintptr_t)name)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < st->nvars && st->vars[lo].name == name)
		return &st->vars[lo];
	return NULL;
}

const char *sym_func_at(const struct symtab *st, uint64_t addr,
			uint64_t *start, uint64_t *size)
{
	size_t lo = 0, hi = st->nfns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->fns[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo - 1 is the last symbol starting at or before addr; a few more
	 * back cover a small symbol nested inside a bigger one. */
	for (size_t i = lo, k = 0; i > 0 && k < 16; i--, k++) {
		const struct sym_fn *f = &st->fns[i - 1];

		if (addr - f->start < f->size) {
			if (start)
				*start = f->start;
			if (size)
				*size = f->size;
			return f->name;
		}
	}
	return NULL;
}

/* The line row covering addr, or NULL. */
static const struct sym_line *line_at(const struct symtab *st, uint64_t addr)
{
	size_t lo = 0, hi = st->nlines;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->lines[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || st->lines[lo - 1].file == LINE_END)
		return NULL;
	return &st->lines[lo - 1];
}

static int scope_has(const struct symtab *st, uint32_t s, uint64_t addr)
{
	const struct sym_scope *sc = &st->scopes[s];

	for (uint32_t i = 0; i < sc->nranges; i++) {
		const struct sym_range *r = &st->ranges[sc->rfirst + i];

		if (addr >= r->lo && addr < r->hi)
			return 1;
	}
	return 0;
}

static int top_at(const struct symtab *st, uint64_t addr, uint32_t *scope)
{
	size_t lo = 0, hi = st->ntops;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->tops[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 16; i--, k++) {
		if (addr < st->tops[i - 1].hi) {
			*scope = st->tops[i - 1].scope;
			return 0;
		}
	}
	return -1;
}

int sym_line_at(const struct symtab *st, uint64_t addr, const char **file, int *line)
{
	symi_need_rows(st, addr);

	const struct sym_line *ln = line_at(st, addr);

	if (!ln || !ln->line)
		return -1;
	*file = st->files[ln->file];
	*line = (int)ln->line;
	return 0;
}

#define MAX_INLINE_DEPTH 64

int sym_frames_at(const struct symtab *st, uint64_t addr,
		  struct sym_frame *out, int max)
{
	symi_need_pc(st, addr);
	const struct sym_line *ln = line_at(st, addr);
	const char *file = ln && ln->line ? st->files[ln->file] : NULL;
	int line = ln ? (int)ln->line : 0;
	uint32_t chain[MAX_INLINE_DEPTH];
	int depth = 0;
	uint32_t cur;

	if (max <= 0)
		return 0;
	if (top_at(st, addr, &cur) < 0) {
		if (!file)
			return 0;
		out[0] = (struct sym_frame){ sym_func_at(st, addr, NULL, NULL),
					     file, line, 0 };
		return 1;
	}
	/* Descend from the subprogram to the innermost inlined call. */
	chain[depth++] = cur;
	for (;;) {
		uint32_t j = cur + 1, end = st->scopes[cur].end;

		while (j < end && !scope_has(st, j, addr))
			j = st->scopes[j].end;
		if (j >= end || depth == MAX_INLINE_DEPTH)
			break;
		chain[depth++] = cur = j;
	}

	/* Innermost frame: the line table; each caller: its callee's call site. */
	int n = 0;

	for (int k = depth - 1; k >= 0 && n < max; k--, n++) {
		const struct sym_scope *sc = &st->scopes[chain[k]];

		out[n].func = sc->name;
		out[n].inlined = sc->inlined;
		if (k == depth - 1) {
			out[n].file = file;
			out[n].line = line;
		} else {
			const struct sym_scope *callee = &st->scopes[chain[k + 1]];

			out[n].file = callee->call_file;
			out[n].line = (int)callee->call_line;
		}
		if (!out[n].func && k == 0)
			out[n].func = sym_func_at(st, addr, NULL, NULL);
	}
	return n;
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent swaps), or
 * limit + 1 as soon as it must exceed limit.
 */
static int edit_distance(const char *a, const char *b, int limit)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int prev2[64], prev[64], cur[64];

	if (la >= 63 || lb >= 63 || abs(la - lb) > limit)
		return limit + 1;
	for (int j = 0; j <= lb; j++)
		prev[j] = j;
	for (int i = 1; i <= la; i++) {
		int best = cur[0] = i;

		for (int j = 1; j <= lb; j++) {
			int c = a[i - 1] == b[j - 1] ? 0 : 1;
			int d = prev[j - 1] + c;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > limit)
			return limit + 1;
		memcpy(prev2, prev, sizeof(int) * (size_t)(lb + 1));
		memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
	}
	return prev[lb];
}

/*
 * Candidates are file-scope names and function statics (shown as
 * "func::name", matched on name), or only the latter, matched whole, when
 * the query has "::".  A name qualifies within a third of the query's
 * length in edits (at least 1, at most 3): "fooo" finds "foo" and "foo2",
 * while a short query does not drag in every short name.
 */
int sym_suggest(const struct symtab *st, const char *name,
		const char **out, int max)
{
	symi_need_all(st);
	int qualified = strstr(name, "::") != NULL;
	int limit = (int)strlen(name) / 3;
	int dist[16];
	int n = 0;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	if (max > 16)
		max = 16;
	for (size_t i = 0; i < st->nvars; i++) {
		const struct sym_varent *v = &st->vars[i];
		/* An unqualified query also finds function statics by their
		 * own name: "count" suggests "counter::count". */
		const char *cand = qualified || v->func ? v->qname : v->name;
		const char *cmp = qualified ? v->qname : v->name;
		int d, k;

		if (!cand)
			continue;
		for (k = 0; k < n && out[k] != cand; k++)
			;
		if (k < n)
			continue;	/* interned: same pointer, same name */
		d = edit_distance(name, cmp, limit);
		if (d > limit)
			continue;
		/* Insert sorted by (distance, name). */
		for (k = n; k > 0 && (dist[k - 1] > d ||
				      (dist[k - 1] == d && strcmp(out[k - 1], cand) > 0)); k--) {
			if (k < max) {
				out[k] = out[k - 1];
				dist[k] = dist[k - 1];
			}
		}
		if (k < max) {
			out[k] = cand;
			dist[k] = d;
			if (n < max)
				n++;
		}
	}
	return n;
}

/* ---- types ----------------------------------------------------------- */

uint64_t sym_type_size(const struct sym_type *t)
{
	const struct sym_type *s = symi_strip(t);

	return s ? s->size : 0;
}

const char *sym_type_name(const struct sym_type *t)
{
	return t ? symi_tname(t) : "(no type information)";
}

int sym_type_is_marked(const struct sym_type *t)
{
	/* A qualifier on an array applies to its elements, and the other
	 * way round: an array of volatile ints is marked as a whole. */
	for (int i = 0; t && i < SYMI_MAX_HOPS; i++, t = t->target) {
		if (t->kind == T_VOLATILE || t->kind == T_ATOMIC)
			return 1;
		if (!symi_is_qual(t->kind) && t->kind != T_ARRAY && t->kind != T_BITFIELD)
			return 0;
	}
	return 0;
}

static int find_member(const struct sym_type *s, const char *member, int depth,
		       uint64_t *off, const struct sym_type **mt)
{
	for (size_t i = 0; i < s->nmembers; i++) {
		if (s->members[i].name && strcmp(s->members[i].name, member) == 0) {
			*off = s->members[i].off;
			*mt = s->members[i].type;
			return 0;
		}
	}
	/* C11 anonymous struct/union members lend their members. */
	for (size_t i = 0; i < s->nmembers && depth < 8; i++) {
		const struct sym_type *a = symi_strip(s->members[i].type);
		uint64_t o;

		if (s->members[i].name || !a || (a->kind != T_STRUCT && a->kind != T_UNION))
			continue;
		if (find_member(a, member, depth + 1, &o, mt) == 0) {
			*off = s->members[i].off + o;
			return 0;
		}
	}
	return -1;
}

int sym_type_member(const struct sym_type *t, const char *member,
		    uint64_t *off, const struct sym_type **mt,
		    char *err, size_t errlen)
{
	const struct sym_type *s = symi_strip(t);

	if (!s) {
		snprintf(err, errlen, "no type information (no DWARF) to find "
			 "member %s in", member);
		return -1;
	}
	if (s->kind == T_POINTER) {
		snprintf(err, errlen, "%s is a pointer: write '->%s' to follow it",
			 symi_tname(t), member);
		return -1;
	}
	if (s->kind != T_STRUCT && s->kind != T_UNION) {
		snprintf(err, errlen, "%s is not a struct or union", symi_tname(t));
		return -1;
	}
	if (s->incomplete) {
		snprintf(err, errlen, "%s is incomplete here (declared, not defined)",
			 symi_tname(t));
		return -1;
	}
	if (find_member(s, member, 0, off, mt) < 0) {
		snprintf(err, errlen, "%s has no member %s", symi_tname(t), member);
		return -1;
	}
	return 0;
}

int sym_type_index(const struct sym_type *t, uint64_t i,
		   uint64_t *off, const struct sym_type **et,
		   char *err, size_t errlen)
{
	const struct sym_type *s = symi_strip(t);

	if (!s) {
		snprintf(err, errlen, "no type information (no DWARF) to index");
		return -1;
	}
	if (s->kind == T_POINTER) {
		snprintf(err, errlen, "%s is a pointer, not an array", symi_tname(t));
		return -1;
	}
	if (s->kind != T_ARRAY) {
		snprintf(err, errlen, "%s is not an array", symi_tname(t));
		return -1;
	}
	if (!s->bounded) {
		snprintf(err, errlen, "%s has no known bound", symi_tname(t));
		return -1;
	}
	if (i >= s->count) {
		snprintf(err, errlen, "index %llu out of bounds for %s",
			 (unsigned long long)i, symi_tname(t));
		return -1;
	}
	*off = i * sym_type_size(s->target);
	*et = s->target;
	return 0;
}

int sym_func_named(const struct symtab *st, const char *name, uint64_t *addr)
{
	for (size_t i = 0; i < st->nfns; i++)
		if (!strcmp(st->fns[i].name, name)) {
			*addr = st->fns[i].start;
			return 0;
		}
	return -1;
}

int sym_type_pointee(const struct sym_type *t, const struct sym_type **pt)
{
	const struct sym_type *s = symi_strip(t);

	if (!s || s->kind != T_POINTER)
		return -1;
	*pt = s->target;
	return 0;
}
