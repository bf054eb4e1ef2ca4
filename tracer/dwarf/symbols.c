/*
 * symbols — open one module: read its ELF symbol tables and program
 * headers and the directory of its DWARF units; units are indexed later,
 * as queries need them (symbols_lazy.c), or, when the directory cannot be
 * read, all here through symbols_dwarf.c; sort and merge the result.  See
 * symbols.h for the contract and symbols_int.h for the layout; the queries
 * are in symbols_lookup.c and symbols_find.c.
 *
 * A symtab changes only by growing (a lazy step appends a unit's entries
 * and sorts again); strings and types a query returned stay valid until
 * sym_close().
 *
 *   symbols.c         open, ELF, sort, close
 *   symbols_cudir.c   the unit directory, read from the raw sections
 *   symbols_lazy.c    which units a query needs; indexing them
 *   symbols_obj.c     libdwarf's view of the sections (libelf's mapping)
 *   symbols_dwarf.c   units, DIE walk, scopes (subprograms, inlines)
 *   symbols_vars.c    variables and where they live
 *   symbols_types.c   types and the member / index / marking queries
 *   symbols_lines.c   file tables, line rows, raw section checks
 *   symbols_lookup.c  function, frames, variable, suggestions
 *   symbols_ptr.c     naming bytes reached through a pointer in a register
 *   symbols_debuglink.c  the separate debug file of a stripped module
 *   symbols_util.c    arena, arrays, hash map, string interning
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols_int.h"

/* ---- ELF ------------------------------------------------------------- */

/* C identifiers only: compiler-made names ("count.0") cannot be typed in a
 * watch expression and would only clutter "did you mean". */
static int is_ident(const char *s)
{
	if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int fn_rank(const GElf_Sym *sym, const char *name)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int r = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;

	if (name[0] == '_')
		r += 4;		/* "malloc" over "__libc_malloc" */
	if (sym->st_size == 0)
		r += 8;
	return r;
}

static void load_symbols(struct symtab *st, Elf *elf, Elf_Scn *scn,
			 const GElf_Shdr *sh, const uint64_t *sec_end,
			 size_t nsec, struct symi_objs *objs)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *file = NULL;	/* the STT_FILE the locals that follow are from */
	GElf_Sym sym;

	if (!data || sh->sh_entsize == 0)
		return;
	size_t n = sh->sh_size / sh->sh_entsize;

	if (symi_strs_reserve(st, n) < 0) {
		st->oom = 1;
		return;
	}

	for (size_t i = 1; i < n; i++) {
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		int type = GELF_ST_TYPE(sym.st_info);

		if (type == STT_FILE) {
			const char *f = sym.st_name ? elf_strptr(elf, sh->sh_link, sym.st_name) : NULL;

			file = f && *f ? symi_intern(st, f) : NULL;
			objs->nfiles++;
			continue;
		}

		if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC &&
		    type != STT_OBJECT && type != STT_TLS)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);

		if (!name || !*name)
			continue;
		if (type == STT_FUNC || type == STT_GNU_IFUNC) {
			struct sym_fn *f;

			if (sym.st_value == 0)
				continue;
			f = symi_push((void **)&st->fns, &st->capfns, st->nfns,
				      sizeof(*f));
			if (!f || !(f->name = symi_intern(st, name))) {
				st->oom = 1;
				return;
			}
			f->start = sym.st_value;
			f->size = sym.st_size;
			f->sec_end = sym.st_shndx < nsec ? sec_end[sym.st_shndx] : 0;
			f->rank = fn_rank(&sym, name);
			st->nfns++;
		} else {
			struct symi_obj *o = symi_push((void **)&objs->v, &objs->cap,
						      objs->n, sizeof(*o));

			if (!o || !(o->name = symi_intern(st, name))) {
				st->oom = 1;
				return;
			}
			o->addr = sym.st_value;
			o->size = sym.st_size;
			o->tls = type == STT_TLS;
			o->global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
			o->hidden = !is_ident(name);
			o->file = o->global ? NULL : file;
			objs->n++;
		}
	}
}

/*
 * Read the PT_LOAD program headers.  A file whose headers point past its
 * end is refused here: a truncated file is a broken build or a copy in
 * progress, and libdwarf should never see one.
 */
static int load_segments(struct symtab *st, Elf *elf, uint64_t fsize, char *err, size_t errlen)
{
	size_t nph = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &nph) < 0) {
		snprintf(err, errlen, "bad ELF headers: %s", elf_errmsg(-1));
		return -1;
	}
	for (size_t i = 0; i < nph; i++) {
		struct sym_segment *s;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			snprintf(err, errlen, "bad program header %zu: %s", i,
				 elf_errmsg(-1));
			return -1;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset) {
			snprintf(err, errlen, "truncated ELF file: segment at "
				 "offset 0x%llx ends past the file's %llu bytes",
				 (unsigned long long)ph.p_offset,
				 (unsigned long long)fsize);
			return -1;
		}
		s = symi_push((void **)&st->segs, &st->capsegs, st->nsegs,
			      sizeof(*s));
		if (!s) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		st->nsegs++;
	}
	return 0;
}

/*
 * Read the symbol tables (.symtab, .dynsym) of the module or of its
 * separate debug file, after checking that no section reaches past the
 * end of the file.
 */
static int load_sections(struct symtab *st, Elf *elf, uint64_t fsize,
			 struct symi_objs *objs, char *err, size_t errlen)
{
	size_t nsec = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrnum(elf, &nsec) < 0) {
		snprintf(err, errlen, "bad ELF headers: %s", elf_errmsg(-1));
		return -1;
	}
	uint64_t *sec_end = calloc(nsec ? nsec : 1, sizeof(*sec_end));

	if (!sec_end)
		goto oom;
	while ((scn = elf_nextscn(elf, scn))) {
		size_t idx = elf_ndxscn(scn);

		if (!gelf_getshdr(scn, &sh)) {
			free(sec_end);
			snprintf(err, errlen, "bad section header: %s", elf_errmsg(-1));
			return -1;
		}
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > fsize || sh.sh_size > fsize - sh.sh_offset)) {
			free(sec_end);
			snprintf(err, errlen, "truncated ELF file: section %zu "
				 "ends past the file's %llu bytes", idx,
				 (unsigned long long)fsize);
			return -1;
		}
		if (idx < nsec)
			sec_end[idx] = sh.sh_addr + sh.sh_size;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			load_symbols(st, elf, scn, &sh, sec_end, nsec, objs);
	}
	free(sec_end);
	if (st->oom)
		goto oom;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * The module has no DWARF of its own: index its separate debug file if
 * one is installed (symbols_debuglink.c), symbol table included (a
 * stripped library keeps only .dynsym; its statics and local functions are
 * in the debug file's .symtab).  Returns symi_dwarf_index's result, 0 when
 * there is no debug file.
 */
static int index_debug_file(struct symtab *st, Elf *elf, struct symi_objs *objs,
			    char *err, size_t errlen)
{
	char dpath[4096];
	struct stat sb;
	Elf *delf;
	int dfd, r = 0;

	dfd = symi_debug_file(elf, st->path, dpath, sizeof(dpath));
	if (dfd < 0)
		return 0;
	delf = elf_begin(dfd, ELF_C_READ_MMAP, NULL);
	if (delf && elf_kind(delf) == ELF_K_ELF && fstat(dfd, &sb) == 0 &&
	    load_sections(st, delf, (uint64_t)sb.st_size, objs, err, errlen) == 0 &&
	    (symi_test_knob("nocheck") || symi_dwarf_precheck(delf, err, errlen) == 0)) {
		symi_guard_stage(dpath);
		r = symi_dwarf_index(st, dfd, NULL, 0, err, errlen);
		if (r > 0 && !(st->debug_path = strdup(dpath)))
			st->oom = 1;
	}
	if (delf)
		elf_end(delf);
	close(dfd);
	return r;
}

/* What dwarf_stage() reads: the module open as elf on fd. */
struct dwarf_stage {
	Elf *elf;
	int fd;
};

/*
 * The part of sym_open() that hands the file to libdwarf: the module's
 * own DWARF, else its separate debug file's.  A symi_stage_fn, run by the
 * guard in a child process (symbols_guard.c).
 */
static int dwarf_stage(struct symtab *st, struct symi_objs *objs, void *arg,
		       char *err, size_t errlen)
{
	struct dwarf_stage *ds = arg;
	int r = -1;

	if (symi_test_knob("nocheck") || symi_dwarf_precheck(ds->elf, err, errlen) == 0)
		r = symi_dwarf_index(st, ds->fd, NULL, 0, err, errlen);
	if (r == 0)
		r = index_debug_file(st, ds->elf, objs, err, errlen);
	return r;
}

/* ---- lazy open ------------------------------------------------------- */

static int has_section(Elf *elf, const char *want)
{
	size_t shstr;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstr) < 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstr, sh.sh_name)) && !strcmp(name, want))
			return 1;
	}
	return 0;
}

/*
 * Open the module without indexing its DWARF (symbols_lazy.c indexes one
 * unit at a time as queries need them): read the directory of its units
 * from its own DWARF or its separate debug file's, with that file's symbol
 * table.  Returns 1 if st is now lazy; 0 to index it all the old way (no
 * DWARF, compressed sections, or forms the directory reader does not know).
 */
static int open_lazy(struct symtab *st, Elf *elf, struct symi_objs *objs)
{
	char dpath[4096];
	struct stat sb;
	Elf *delf = NULL;
	int dfd = -1, ok = 0;
	struct symi_lazy *lz = NULL;

	if (symi_test_knob("eager"))
		return 0;
	if (has_section(elf, ".debug_info")) {
		lz = symi_cudir_read(st, elf);
		if (lz && !(lz->path = strdup(st->path)))
			st->oom = 1;
	} else if ((dfd = symi_debug_file(elf, st->path, dpath, sizeof(dpath))) >= 0) {
		char err[256];

		delf = elf_begin(dfd, ELF_C_READ_MMAP, NULL);
		/* The symbols first: inflating a compressed section (the
		 * directory) changes its header, which load_sections() checks
		 * against the file.  They are dropped with the module if the
		 * directory cannot be read: sym_open() fails over to the eager
		 * path, which reads them again. */
		size_t nobjs = objs->n;

		if (delf && elf_kind(delf) == ELF_K_ELF && fstat(dfd, &sb) == 0 &&
		    load_sections(st, delf, (uint64_t)sb.st_size, objs, err, sizeof(err)) == 0 &&
		    (lz = symi_cudir_read(st, delf))) {
			if (!(lz->path = strdup(dpath)) || !(st->debug_path = strdup(dpath)))
				st->oom = 1;
		} else {
			symi_lazy_free(lz);
			lz = NULL;
			objs->n = nobjs;
		}
	}
	if (lz && lz->path && !st->oom) {
		/* Without the locals' STT_FILE symbols (stripped with -x, or no
		 * .symtab) the ELF cannot tell a static's unit. */
		lz->elf_partial = objs->nfiles == 0;
		st->lazy = lz;
		st->has_dwarf = 1;
		ok = 1;
	} else {
		symi_lazy_free(lz);
	}
	if (delf)
		elf_end(delf);
	if (dfd >= 0)
		close(dfd);
	return ok;
}

/* ---- sorting and merging --------------------------------------------- */

static int cmp_fn(const void *a, const void *b)
{
	const struct sym_fn *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

/*
 * Sort functions, keep one name per address, and give size-0 symbols (hand
 * written assembly) the extent up to the next symbol within their section.
 */
static void finish_fns(struct symtab *st)
{
	size_t j = 0;

	if (st->nfns > 1)
		qsort(st->fns, st->nfns, sizeof(*st->fns), cmp_fn);
	for (size_t i = 0; i < st->nfns; i++)
		if (j == 0 || st->fns[j - 1].start != st->fns[i].start)
			st->fns[j++] = st->fns[i];
	st->nfns = j;
	for (size_t i = 0; i < st->nfns; i++) {
		struct sym_fn *f = &st->fns[i];
		uint64_t end = f->sec_end > f->start ? f->sec_end : f->start + 1;

		if (f->size)
			continue;
		if (i + 1 < st->nfns && st->fns[i + 1].start < end)
			end = st->fns[i + 1].start;
		f->size = end - f->start;
	}
}

/*
 * Variables sort by interned name pointer, not by strcmp: lookups intern
 * the query first (symi_lookup), and comparing pointers keeps sorting a
 * large module's hundred thousand locals cheap.  Within one name: file
 * scope first, then by function, then best rank, then discovery order.
 */
static int cmp_ptr(const void *a, const void *b)
{
	return (uintptr_t)a < (uintptr_t)b ? -1 : (uintptr_t)a > (uintptr_t)b;
}

static int cmp_var(const void *a, const void *b)
{
	const struct sym_varent *x = a, *y = b;
	int c = cmp_ptr(x->name, y->name);

	if (c)
		return c;
	if (!x->func != !y->func)
		return x->func ? 1 : -1;
	if ((c = cmp_ptr(x->func, y->func)))
		return c;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_obj_addr(const void *a, const void *b)
{
	const struct symi_obj *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Fold the ELF data symbols in: all of them when there is no DWARF, else
 * only exported ones DWARF does not describe (objects from assembly or from
 * code built without -g), and use their st_size where DWARF gave no size.
 * Leaves st->vars sorted.
 */
void symi_add_elf_objects(struct symtab *st, struct symi_objs *objs)
{
	struct sym_varent *extra = NULL, *merged;
	size_t nextra = 0, capextra = 0, ndw;

	/* Again after a lazy step: the ELF-only entries of the last merge go
	 * first, and whether DWARF describes a name is the directory's say
	 * (its unit may not be indexed yet). */
	for (size_t i = 0; i < st->nvars; i++)
		if (st->vars[i].seq == SEQ_ELF)
			st->vars[i--] = st->vars[--st->nvars];
	ndw = st->nvars;
	if (st->nvars > 1)
		qsort(st->vars, st->nvars, sizeof(*st->vars), cmp_var);
	for (size_t i = 0; i < objs->n; i++) {
		struct symi_obj *o = &objs->v[i];
		struct sym_varent *v;
		/* Lazy: a global with a unit not read yet stays out too (its
		 * unit is read before any query about it returns). */
		int described = st->lazy && st->lazy->nindexed < st->lazy->ncus ? !o->nodwarf :
				symi_first_named(st, o->name) != NULL;

		if (o->hidden || (st->has_dwarf && (!o->global || described)))
			continue;
		v = symi_push((void **)&extra, &capextra, nextra, sizeof(*v));
		if (!v) {
			st->oom = 1;
			break;
		}
		v->name = o->name;
		v->kind = o->tls ? SYM_TLS : SYM_STATIC;
		v->addr = o->addr;
		v->size = o->size;
		v->rank = o->tls ? RANK_TLS : o->global ? RANK_GLOBAL : RANK_FILE_STATIC;
		v->seq = SEQ_ELF;
		nextra++;
	}

	if (objs->n > 1)
		qsort(objs->v, objs->n, sizeof(*objs->v), cmp_obj_addr);
	for (size_t i = 0; i < ndw; i++) {
		struct sym_varent *v = &st->vars[i];
		size_t lo = 0, hi = objs->n;

		if (v->kind != SYM_STATIC || v->size)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (objs->v[mid].addr < v->addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < objs->n && objs->v[lo].addr == v->addr && !objs->v[lo].tls)
			v->size = objs->v[lo].size;
	}

	/* Merge the (few) ELF-only entries into the sorted DWARF ones. */
	if (!nextra)
		return;
	if (nextra > 1)
		qsort(extra, nextra, sizeof(*extra), cmp_var);
	merged = malloc((ndw + nextra) * sizeof(*merged));
	if (!merged) {
		st->oom = 1;
		free(extra);
		return;
	}
	for (size_t i = 0, j = 0, k = 0; k < ndw + nextra; k++) {
		if (j == nextra || (i < ndw && cmp_var(&st->vars[i], &extra[j]) <= 0))
			merged[k] = st->vars[i++];
		else
			merged[k] = extra[j++];
	}
	symi_vfree(st, st->vars);
	free(extra);
	st->vars = merged;
	st->nvars = st->capvars = ndw + nextra;
}

/* ---- open / close ---------------------------------------------------- */

/* Give back the slack of a grown array: a module's index lives long.
 * The guard's vectors (in st's region) are left as they are. */
static void shrink(struct symtab *st, void **v, size_t *cap, size_t n, size_t elsz)
{
	void *nv;

	if (symi_in_region(st, *v))
		return;
	if (n == 0 || n == *cap || !(nv = realloc(*v, n * elsz)))
		return;
	*v = nv;
	*cap = n;
}

static void shrink_all(struct symtab *st)
{
	shrink(st, (void **)&st->fns, &st->capfns, st->nfns, sizeof(*st->fns));
	shrink(st, (void **)&st->vars, &st->capvars, st->nvars, sizeof(*st->vars));
	shrink(st, (void **)&st->lines, &st->caplines, st->nlines, sizeof(*st->lines));
	shrink(st, (void **)&st->files, &st->capfiles, st->nfiles, sizeof(*st->files));
	shrink(st, (void **)&st->scopes, &st->capscopes, st->nscopes, sizeof(*st->scopes));
	shrink(st, (void **)&st->ranges, &st->capranges, st->nranges, sizeof(*st->ranges));
	shrink(st, (void **)&st->tops, &st->captops, st->ntops, sizeof(*st->tops));
}

/* Do the program or section header tables reach past the end of the file? */
static int headers_past_eof(const GElf_Ehdr *eh, uint64_t fsize)
{
	/* e_shnum 0 with e_shoff set: the count is in section 0 (>= 0xff00
	 * sections); at least that first header must be there. */
	uint64_t shn = eh->e_shnum ? eh->e_shnum : 1;

	if (eh->e_phoff &&
	    (eh->e_phoff > fsize ||
	     (uint64_t)eh->e_phnum * eh->e_phentsize > fsize - eh->e_phoff))
		return 1;
	if (eh->e_shoff &&
	    (eh->e_shoff > fsize || shn * eh->e_shentsize > fsize - eh->e_shoff))
		return 1;
	return 0;
}

struct symtab *sym_open(const char *path, char *err, size_t errlen)
{
	struct symi_objs objs = { 0 };
	struct symtab *st = NULL;
	Elf *elf = NULL;
	GElf_Ehdr eh;
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		goto fail;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		goto fail;
	}
	if (headers_past_eof(&eh, (uint64_t)sb.st_size)) {
		snprintf(err, errlen, "%s: truncated ELF file (headers end past "
			 "its %llu bytes)", path, (unsigned long long)sb.st_size);
		goto fail;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		snprintf(err, errlen, "%s: not an executable or shared library "
			 "(ELF type %u)", path, (unsigned)eh.e_type);
		goto fail;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	st->is_pie = eh.e_type == ET_DYN;
	st->entry = eh.e_entry;
	if (load_segments(st, elf, (uint64_t)sb.st_size, err, errlen) < 0 ||
	    load_sections(st, elf, (uint64_t)sb.st_size, &objs, err, errlen) < 0)
		goto fail;

	/* Broken DWARF costs lines and types, not the module: keep the ELF
	 * symbols so frames still get function names. */
	char derr[256];
	struct dwarf_stage ds = { elf, fd };
	int r;

	if (open_lazy(st, elf, &objs))
		r = 1;
	else if (symi_test_knob("noguard"))
		r = dwarf_stage(st, &objs, &ds, derr, sizeof(derr));
	else
		r = symi_guard_index(st, fd, &objs, dwarf_stage, &ds, derr, sizeof(derr));
	elf_end(elf);
	elf = NULL;

	if (r <= 0) {
		st->nvars = st->nlines = st->nscopes = st->nranges = st->ntops = 0;
		st->has_dwarf = 0;
	} else {
		st->has_dwarf = 1;
	}
	finish_fns(st);
	symi_add_elf_objects(st, &objs);
	if (st->oom || st->arena.failed) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	shrink_all(st);
	if (st->lazy) {
		/* Kept: every lazy step merges them in again. */
		st->lazy->objs = objs;
		objs.v = NULL;
	}
	symi_vfree(st, objs.v);
	close(fd);
	return st;
fail:
	symi_vfree(st, objs.v);
	if (elf)
		elf_end(elf);
	sym_close(st);
	close(fd);
	return NULL;
}

void sym_close(struct symtab *st)
{
	if (!st)
		return;
	symi_ptr_free(st->ptr);
	free(st->path);
	free(st->debug_path);
	symi_vfree(st, st->strs);
	symi_vfree(st, st->segs);
	symi_vfree(st, st->fns);
	symi_vfree(st, st->vars);
	symi_vfree(st, st->lines);
	symi_vfree(st, st->files);
	symi_vfree(st, st->scopes);
	symi_vfree(st, st->ranges);
	symi_vfree(st, st->tops);
	symi_arena_free(&st->arena);
	symi_lazy_free(st->lazy);
	for (size_t i = 0; i < st->nregions; i++)
		munmap(st->regions[i].p, st->regions[i].len);
	free(st->regions);
	free(st);
}

const char *sym_path(const struct symtab *st)
{
	return st->path;
}

const char *sym_debug_path(const struct symtab *st)
{
	return st->debug_path;
}

int sym_has_dwarf(const struct symtab *st)
{
	return st->has_dwarf;
}

int sym_dwarf_crashed(const struct symtab *st)
{
	return st->dwarf_crashed;
}

int sym_is_pie(const struct symtab *st)
{
	return st->is_pie;
}

uint64_t sym_entry(const struct symtab *st)
{
	return st->entry;
}

size_t sym_segments(const struct symtab *st, const struct sym_segment **segs)
{
	*segs = st->segs;
	return st->nsegs;
}
