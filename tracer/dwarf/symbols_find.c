/*
 * symbols_find — the variable queries of symbols.h: by name (with the
 * function or source file that scopes it, compiler-made clone names
 * understood), every file-scope definition of a name (to tell an
 * ambiguous name), a function's local by name alone, the variable at an
 * address, and "is this a function".  Each first has the units it needs
 * indexed (symbols_lazy.c), then reads the sorted index.
 */
#include <stdio.h>
#include <string.h>

#include "symbols_int.h"

static void fill(const struct sym_varent *v, struct sym_var *out)
{
	out->name = v->name;
	out->func = v->func;
	out->kind = v->kind;
	out->addr = v->addr;
	out->size = v->size;
	out->type = v->type;
	out->decl_file = v->decl_file;
	out->decl_line = (int)v->decl_line;
	out->cu = v->cu;
	out->external = v->rank == RANK_GLOBAL;
}

/* The entry named n (interned) inside function f (interned, NULL: file
 * scope), best first by the sort order; NULL if none. */
static const struct sym_varent *in_func(const struct symtab *st, const char *n, const char *f)
{
	const struct sym_varent *v = symi_first_named(st, n);
	/* No variables at all: vars is NULL, and NULL + 0 is not C. */
	const struct sym_varent *end = st->nvars ? st->vars + st->nvars : NULL;

	for (; v && v < end && v->name == n; v++)
		if (v->func == f)
			return v;
	return NULL;
}

/*
 * func, or what the compiler made it from: GCC names clones and outlined
 * bodies after their function ("f.part.0", "f.constprop.0", "f.isra.0",
 * "main._omp_fn.0"), while DWARF keeps f's statics under f.  Cut one
 * ".suffix" at a time from the right until a function with the variable
 * is found.
 */
int sym_find_var(const struct symtab *st, const char *func, const char *name,
		 struct sym_var *out)
{
	const struct sym_varent *v;
	const char *n;
	char f[256];

	if (!func) {
		symi_need_name(st, name);
		if (!(n = symi_lookup(st, name)))
			return -1;
		v = in_func(st, n, NULL);
	} else {
		snprintf(f, sizeof(f), "%s", func);
		for (v = NULL; !v;) {
			const char *fi;
			char *dot;

			/* The unit of f first (lazy), then the names in it. */
			symi_need_name(st, f);
			fi = symi_lookup(st, f);
			n = symi_lookup(st, name);
			if (fi && n)
				v = in_func(st, n, fi);
			if (v || !(dot = strrchr(f, '.')) || dot == f)
				break;
			*dot = '\0';
		}
	}
	if (!v)
		return -1;
	fill(v, out);
	return 0;
}

int sym_find_vars(const struct symtab *st, const char *name, struct sym_var *out, int max)
{
	symi_need_static(st, name);

	const char *n = symi_lookup(st, name);
	const struct sym_varent *v = symi_first_named(st, n);
	/* No variables at all: vars is NULL, and NULL + 0 is not C. */
	const struct sym_varent *end = st->nvars ? st->vars + st->nvars : NULL;
	int k = 0;

	for (; v && v < end && v->name == n && !v->func; v++) {
		int dup = 0;

		if (v->kind != SYM_STATIC)
			continue;
		/* One definition seen twice (LTO, or ELF and DWARF) is one. */
		for (const struct sym_varent *w = symi_first_named(st, n); w < v; w++)
			dup |= !w->func && w->kind == SYM_STATIC && w->addr == v->addr;
		if (dup)
			continue;
		if (k < max)
			fill(v, &out[k]);
		k++;
	}
	return k;
}

int sym_find_local(const struct symtab *st, const char *name, struct sym_var *out)
{
	symi_need_all(st);	/* an error message's detail: may take long */

	const char *n = symi_lookup(st, name);
	const struct sym_varent *v = symi_first_named(st, n);
	/* No variables at all: vars is NULL, and NULL + 0 is not C. */
	const struct sym_varent *end = st->nvars ? st->vars + st->nvars : NULL;

	for (; v && v < end && v->name == n; v++) {
		if (v->func && v->kind != SYM_STATIC) {
			fill(v, out);
			return 0;
		}
	}
	return -1;
}

/* sym_var_at() among what is indexed now. */
static int var_at_indexed(const struct symtab *st, uint64_t addr, struct sym_var *out)
{
	const struct sym_varent *best = NULL;

	for (size_t i = 0; i < st->nvars; i++) {
		const struct sym_varent *v = &st->vars[i];

		if (v->kind != SYM_STATIC || addr < v->addr || addr - v->addr >= (v->size ? v->size : 1))
			continue;
		/* The innermost: the smallest; then one with a declaration. */
		if (!best || v->size < best->size || (v->size == best->size && !best->decl_file))
			best = v;
	}
	if (!best)
		return -1;
	fill(best, out);
	return 0;
}

int sym_var_at(const struct symtab *st, uint64_t addr, struct sym_var *out)
{
	symi_need_addr(st, addr);
	return var_at_indexed(st, addr, out);
}

int sym_static_at(const struct symtab *cst, uint64_t addr, struct sym_var *out)
{
	struct symtab *st = (struct symtab *)cst;
	const struct symi_obj *best = NULL;
	char name[256];

	if (!st->lazy || st->lazy->failed || var_at_indexed(st, addr, out) == 0)
		return st->lazy && !st->lazy->failed ? 0 : sym_var_at(st, addr, out);
	for (size_t i = 0; i < st->lazy->objs.n; i++) {
		const struct symi_obj *o = &st->lazy->objs.v[i];

		if (o->tls || !o->size || addr < o->addr || addr - o->addr >= o->size)
			continue;
		if (!best || o->size < best->size)
			best = o;
	}
	if (!best)
		return -1;
	/* "count.0", a function's static: DWARF calls it "count". */
	snprintf(name, sizeof(name), "%s", best->name);
	if (best->hidden && strchr(name + 1, '.'))
		*strchr(name + 1, '.') = '\0';
	memset(out, 0, sizeof(*out));
	if (!(out->name = symi_intern(st, name)))
		return -1;
	out->kind = SYM_STATIC;
	out->addr = best->addr;
	out->size = best->size;
	out->external = best->global;
	return 0;
}

int sym_is_function(const struct symtab *st, const char *name)
{
	const char *n = symi_lookup(st, name);

	if (!n)
		return 0;
	for (size_t i = 0; i < st->nfns; i++)
		if (st->fns[i].name == n)
			return 1;
	symi_need_name(st, name);
	for (size_t i = 0; i < st->nscopes; i++)
		if (st->scopes[i].name == n && !st->scopes[i].inlined)
			return 1;
	return 0;
}

size_t sym_var_count(const struct symtab *st)
{
	symi_need_all(st);
	return st->nvars;
}

size_t sym_var_count_named(const struct symtab *st, const char *name)
{
	symi_need_static(st, name);
	return st->nvars;
}

int sym_var_index(const struct symtab *st, size_t i, struct sym_var *out)
{
	if (i >= st->nvars)
		return -1;
	fill(&st->vars[i], out);
	return 0;
}
