/*
 * symbols_lazy — index a module's DWARF one compilation unit at a time, as
 * the queries need them (issue 15 item 3: start-up that does not grow with
 * the binary).
 *
 * sym_open() reads only the ELF symbols and the unit directory
 * (symbols_cudir.c).  A query first says what it is about:
 *
 *   a name      the units that define it at top level (directory);
 *   a pc        the units whose ranges hold it (.debug_aranges or the unit
 *               DIE's low/high pc);
 *   an address  the units of the ELF data symbols that cover it: by name,
 *               or, for a compiler-made local ("count.0", a function's
 *               static), by the STT_FILE before it against the units' names;
 *   everything  listings and "did you mean".
 *
 * Each step indexes the missing units with symi_dwarf_index(), in the
 * guard's child like the eager open (symbols_guard.c), appends their
 * variables, scopes and lines to the symtab's vectors, and sorts and
 * merges again.  A step that fails (libdwarf crashed, the file changed)
 * leaves the module with its ELF symbols only, as an eager open would.
 *
 * The symtab changes under const pointers here: the only mutation after
 * sym_open() besides symbols_ptr.c's, and, like it, not thread-safe.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols_int.h"

struct lazy_stage {
	const char *path;
	const struct symi_want *offs;
	size_t n;
	int fd;
};

/* A symi_stage_fn: index the units at offs, precheck first as sym_open(). */
static int lazy_stage(struct symtab *st, struct symi_objs *objs, void *arg,
		      char *err, size_t errlen)
{
	struct lazy_stage *ls = arg;
	Elf *elf = elf_begin(ls->fd, ELF_C_READ_MMAP, NULL);
	int r = -1;

	(void)objs;
	symi_guard_stage(ls->path);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		snprintf(err, errlen, "%s: not an ELF file any more", ls->path);
	else if (symi_test_knob("nocheck") || symi_dwarf_precheck(elf, err, errlen) == 0)
		r = symi_dwarf_index(st, ls->fd, ls->offs, ls->n, err, errlen);
	if (elf)
		elf_end(elf);
	return r;
}

static void drop_dwarf(struct symtab *st)
{
	st->nvars = st->nlines = st->nscopes = st->nranges = st->ntops = 0;
	st->has_dwarf = 0;
	st->lazy->failed = 1;
}

/* Index what of the units cus[0..n) is not yet (what: SYMI_DIES and / or
 * SYMI_ROWS). */
static void index_units(struct symtab *st, const uint32_t *cus, size_t n, int what)
{
	struct symi_lazy *lz = st->lazy;
	struct symi_objs none = { 0 };
	struct lazy_stage ls = { lz->path, NULL, 0, -1 };
	struct symi_want *offs;
	char err[256];
	int r;

	if (lz->failed || !n || !(offs = malloc(n * sizeof(*offs))))
		return;
	for (size_t i = 0; i < n; i++) {
		struct symi_cu *c = &lz->cus[cus[i]];
		int more = what & ~c->indexed;

		if (more) {
			if (!(c->indexed & SYMI_DIES) && (more & SYMI_DIES))
				lz->nindexed++;
			c->indexed |= more;	/* also marks duplicates in cus[] */
			offs[ls.n++] = (struct symi_want){ c->off, more };
		}
	}
	if (!ls.n) {
		free(offs);
		return;
	}
	ls.offs = offs;
	ls.fd = open(lz->path, O_RDONLY | O_CLOEXEC);
	if (ls.fd < 0)
		r = -1;
	else if (symi_test_knob("noguard"))
		r = lazy_stage(st, &none, &ls, err, sizeof(err));
	else
		r = symi_guard_index(st, ls.fd, &none, lazy_stage, &ls, err, sizeof(err));
	if (ls.fd >= 0)
		close(ls.fd);
	symi_vfree(st, none.v);
	free(offs);
	/* st->lazy is the same object after the guard's adopt(). */
	if (r < 0 || st->oom || st->arena.failed)
		drop_dwarf(st);
	symi_add_elf_objects(st, &lz->objs);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The units whose DW_AT_name has the same last component as file (a
 * local symbol's STT_FILE); how many there are. */
static size_t need_file(struct symtab *st, const char *file)
{
	struct symi_lazy *lz = st->lazy;
	const char *b = base_name(file);
	size_t k = 0;

	for (uint32_t i = 0; i < lz->ncus && !lz->failed; i++)
		if (lz->cus[i].name && !strcmp(base_name(lz->cus[i].name), b)) {
			index_units(st, &i, 1, SYMI_DIES);
			k++;
		}
	return k;
}

/* The units holding a global's address in a location; how many. */
static size_t need_data(struct symtab *st, struct symi_obj *o)
{
	uint32_t cus[16];
	size_t k = symi_cudir_addr(st->lazy, o->addr, cus, 16);

	index_units(st, cus, k, SYMI_DIES);
	if (!k && !o->nodwarf) {
		o->nodwarf = 1;	/* from assembly, or code built without -g */
		symi_add_elf_objects(st, &st->lazy->objs);
	}
	return k;
}

/* Index the units of the ELF data object o; 0 if it cannot tell. */
static size_t need_obj(struct symtab *st, struct symi_obj *o)
{
	if (o->tls)
		return 0;	/* no DW_OP_addr: the names tell */
	if (o->file && !o->global) {
		size_t k = need_file(st, o->file);

		if (k)
			return k;
	}
	return need_data(st, o);
}

static size_t need_code(struct symtab *st, uint64_t pc, int what)
{
	uint32_t cus[16];
	size_t k = symi_cudir_at(st->lazy, pc, cus, 16);

	index_units(st, cus, k, what);
	return k;
}

/*
 * The units of name as the ELF symbols tell: a local's STT_FILE names its
 * unit, a global variable's address is in its unit's DW_OP_addr, a
 * function's address in its unit's ranges.  1 if every symbol called name
 * led to a unit, 0 if some did not or none is called name.
 */
static int need_by_elf(struct symtab *st, const char *name)
{
	struct symi_lazy *lz = st->lazy;
	const char *n = symi_lookup(st, name);
	int found = 0, ok = 1;

	if (!n || lz->elf_partial)
		return 0;
	for (size_t i = 0; i < lz->objs.n; i++) {
		struct symi_obj *o = &lz->objs.v[i];

		if (o->name != n)
			continue;
		found = 1;
		if (!need_obj(st, o))
			ok = 0;
	}
	for (size_t i = 0; i < st->nfns; i++) {
		if (st->fns[i].name != n)
			continue;
		found = 1;
		if (!need_code(st, st->fns[i].start, SYMI_DIES))
			ok = 0;
	}
	return found && ok;
}

void symi_need_static(const struct symtab *cst, const char *name)
{
	struct symtab *st = (struct symtab *)cst;

	if (!st->lazy || st->lazy->failed || !name)
		return;
	if (st->lazy->elf_partial)
		symi_need_name(st, name);
	else
		need_by_elf(st, name);
}

/*
 * Every unit defining name at top level.  The ELF symbols first; when they
 * do not tell (a thread-local, something without a symbol: optimized out,
 * an inline-only function), the names of all units' top-level DIEs.
 */
void symi_need_name(const struct symtab *cst, const char *name)
{
	struct symtab *st = (struct symtab *)cst;
	const struct symi_curef *c;
	uint32_t cus[64];
	size_t n = 0;

	if (!st->lazy || st->lazy->failed || !name || need_by_elf(st, name))
		return;
	if (symi_cudir_names(st) < 0) {
		symi_need_all(st);
		return;
	}
	for (c = symi_cudir_named(st->lazy, symi_lookup(st, name)); c; c = c->next) {
		if (n == sizeof(cus) / sizeof(cus[0])) {
			index_units(st, cus, n, SYMI_DIES);
			n = 0;
		}
		cus[n++] = c->cu;
	}
	index_units(st, cus, n, SYMI_DIES);
}

void symi_need_pc(const struct symtab *cst, uint64_t pc)
{
	struct symtab *st = (struct symtab *)cst;

	if (st->lazy && !st->lazy->failed)
		need_code(st, pc, SYMI_DIES | SYMI_ROWS);
}

void symi_need_rows(const struct symtab *cst, uint64_t pc)
{
	struct symtab *st = (struct symtab *)cst;

	if (st->lazy && !st->lazy->failed)
		need_code(st, pc, SYMI_ROWS);
}

void symi_need_addr(const struct symtab *cst, uint64_t addr)
{
	struct symtab *st = (struct symtab *)cst;
	struct symi_lazy *lz = st->lazy;

	if (!lz || lz->failed)
		return;
	for (size_t i = 0; i < lz->objs.n && !lz->failed; i++) {
		struct symi_obj *o = &lz->objs.v[i];

		if (addr >= o->addr && addr - o->addr < (o->size ? o->size : 1))
			need_obj(st, o);
	}
}

void symi_need_all(const struct symtab *cst)
{
	struct symtab *st = (struct symtab *)cst;
	struct symi_lazy *lz = st->lazy;
	uint32_t *all;
	size_t n = 0;

	if (!lz || lz->failed || lz->nindexed == lz->ncus)
		return;
	if (!(all = malloc(lz->ncus * sizeof(*all))))
		return;
	for (uint32_t i = 0; i < lz->ncus; i++)
		if (!(lz->cus[i].indexed & SYMI_DIES))
			all[n++] = i;
	index_units(st, all, n, SYMI_DIES);
	free(all);
}
