/*
 * sites_vars — the watchable variables of an executable (sites_watchable(),
 * the set --watch-all watches) and `racewatch vars PROG [PATTERN]`, which
 * lists them with their code sites, the way gdb's `info variables` does.
 *
 * What is watchable is decided on the ELF file as well as on DWARF: DWARF
 * says a variable is file-scope data with a fixed address, the program
 * headers say whether that address is written at run time.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sites.h"
#include "util.h"

/* What the ELF file says about data addresses. */
struct layout {
	struct site_range *rw;		/* writable PT_LOAD extents */
	size_t nrw;
	struct site_range *skip;	/* RELRO, .racewatch_* sections, COPY targets */
	size_t nskip;
};

static int push(struct site_range **v, size_t *n, uint64_t addr, uint64_t len)
{
	struct site_range *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	nv[*n] = (struct site_range){ addr, len };
	*v = nv;
	(*n)++;
	return 0;
}

static int in_any(const struct site_range *v, size_t n, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < n; i++)
		if (addr < v[i].addr + v[i].len && v[i].addr < addr + len)
			return 1;
	return 0;
}

/* R_X86_64_COPY targets of one SHT_RELA section: data a library owns. */
static int add_copies(struct layout *l, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Rela r;

	if (!d || !sh->sh_entsize)
		return 0;
	for (size_t i = 0; i < sh->sh_size / sh->sh_entsize; i++)
		if (gelf_getrela(d, (int)i, &r) && GELF_R_TYPE(r.r_info) == R_X86_64_COPY &&
		    push(&l->skip, &l->nskip, r.r_offset, 1) < 0)
			return -1;
	return 0;
}

static int read_layout(const char *path, struct layout *l, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	size_t nph = 0, shstr = 0;
	GElf_Phdr ph;
	GElf_Shdr sh;

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE ||
	    !(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || elf_kind(elf) != ELF_K_ELF ||
	    elf_getphdrnum(elf, &nph) < 0 || elf_getshdrstrndx(elf, &shstr) < 0) {
		snprintf(err, errlen, "%s: cannot read ELF headers", path);
		goto done;
	}
	for (size_t i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) &&
		    push(&l->rw, &l->nrw, ph.p_vaddr, ph.p_memsz) < 0)
			goto oom;
		if (ph.p_type == PT_GNU_RELRO && push(&l->skip, &l->nskip, ph.p_vaddr, ph.p_memsz) < 0)
			goto oom;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstr, sh.sh_name);
		if (name && !strncmp(name, ".racewatch", 10) && (sh.sh_flags & SHF_ALLOC) &&
		    push(&l->skip, &l->nskip, sh.sh_addr, sh.sh_size) < 0)
			goto oom;
		if (sh.sh_type == SHT_RELA && add_copies(l, scn, &sh) < 0)
			goto oom;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Names C reserves to the implementation (__x, _X), and compiler-made ones
 * (completed.0) which no watch expression can name. */
static int is_junk_name(const char *s)
{
	if (s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z')))
		return 1;
	return strchr(s, '.') != NULL || strchr(s, '@') != NULL;
}

static int watchable(const struct layout *l, const struct sym_var *v)
{
	if (v->kind != SYM_STATIC || v->func || !v->size || !v->addr)
		return 0;
	if (!in_any(l->rw, l->nrw, v->addr, v->size) || in_any(l->skip, l->nskip, v->addr, v->size))
		return 0;
	if (!strcmp(v->name, "racewatch_registry"))
		return 0;
	/* Only the ELF symbol is known: code without -g, or the C runtime's. */
	return v->type || v->decl_file || !is_junk_name(v->name);
}

static int cmp_addr(const void *a, const void *b)
{
	const struct sym_var *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_name(const void *a, const void *b)
{
	const struct sym_var *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return strcmp(x->decl_file ? x->decl_file : "", y->decl_file ? y->decl_file : "");
}

int sites_watchable(const struct symtab *st, struct sym_var **out, size_t *n,
		    char *err, size_t errlen)
{
	return sites_watchable_named(st, NULL, out, n, err, errlen);
}

int sites_watchable_named(const struct symtab *st, const char *name, struct sym_var **out,
			  size_t *n, char *err, size_t errlen)
{
	size_t count;

	struct layout l = { 0 };
	struct sym_var v, *res = NULL;
	size_t nres = 0, j = 0;

	*out = NULL;
	*n = 0;
	if (read_layout(sym_path(st), &l, err, errlen) < 0)
		goto fail;
	count = name ? sym_var_count_named(st, name) : sym_var_count(st);
	res = malloc((count + 1) * sizeof(*res));
	if (!res) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < count && sym_var_index(st, i, &v) == 0; i++)
		if ((!name || !strcmp(v.name, name)) && watchable(&l, &v))
			res[nres++] = v;
	/* One entry per address: a tentative definition in several units, or
	 * DWARF and ELF naming the same object, keeps the described one. */
	qsort(res, nres, sizeof(*res), cmp_addr);
	for (size_t i = 0; i < nres; i++) {
		if (j && res[j - 1].addr == res[i].addr) {
			if (!res[j - 1].decl_file && res[i].decl_file)
				res[j - 1] = res[i];
			continue;
		}
		res[j++] = res[i];
	}
	qsort(res, j, sizeof(*res), cmp_name);
	*out = res;
	*n = j;
	free(l.rw);
	free(l.skip);
	return 0;
fail:
	free(res);
	free(l.rw);
	free(l.skip);
	return -1;
}
