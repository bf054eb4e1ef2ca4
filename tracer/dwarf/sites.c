/*
 * sites — find the code sites of data ranges in an ELF file (sites.h):
 * read its executable sections and function symbols with libelf, sweep
 * each section linearly with sites_classify(), keep what the mode asks for.
 *
 * The sweep is linear, not recursive: x86-64 compilers put no data in
 * .text (jump tables live in .rodata), so the only ways to lose step are
 * padding between functions and hand-written oddities; restarting at every
 * function symbol bounds any desynchronisation to one function's tail.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sites.h"

/* One watched range, sorted by address for the overlap search. */
struct rng {
	uint64_t lo, hi;	/* [lo, hi) */
	uint64_t maxhi;		/* max hi of this and every earlier entry */
	int idx;		/* index in the caller's ranges[] */
};

struct sweep {
	int pie;
	unsigned flags;
	struct rng *r;
	size_t nr;
	uint64_t *fstart;	/* function symbol addresses, sorted, unique */
	size_t nf;
	struct site *out;
	size_t n, cap;
	int oom;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_site(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int cmp_rng(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int build_ranges(struct sweep *s, const struct site_range *ranges, int nranges)
{
	if (nranges <= 0)
		return 0;
	s->r = calloc((size_t)nranges, sizeof(*s->r));
	if (!s->r)
		return -1;
	for (int i = 0; i < nranges; i++) {
		if (!ranges[i].len || ranges[i].addr + ranges[i].len < ranges[i].addr)
			continue;	/* empty or wrapping: can never be hit */
		s->r[s->nr++] = (struct rng){ ranges[i].addr, ranges[i].addr + ranges[i].len,
					      0, i };
	}
	qsort(s->r, s->nr, sizeof(*s->r), cmp_rng);
	for (size_t i = 0; i < s->nr; i++)
		s->r[i].maxhi = i && s->r[i - 1].maxhi > s->r[i].hi ? s->r[i - 1].maxhi
								     : s->r[i].hi;
	return 0;
}

/*
 * The lowest caller index among the ranges overlapping [lo, lo + len), or
 * -1.  Walks back from the last range starting below the end and stops as
 * soon as no earlier range reaches lo (maxhi): O(log n + overlaps).
 */
static int match(const struct sweep *s, uint64_t lo, uint64_t len)
{
	uint64_t hi = lo + (len ? len : 1);
	size_t a = 0, b = s->nr;
	int best = -1;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (s->r[mid].lo < hi)
			a = mid + 1;
		else
			b = mid;
	}
	for (size_t j = a; j-- > 0 && s->r[j].maxhi > lo;)
		if (s->r[j].hi > lo && (best < 0 || s->r[j].idx < best))
			best = s->r[j].idx;
	return best;
}

static void emit(struct sweep *s, const struct site *site)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct site *v = realloc(s->out, cap * sizeof(*v));

		if (!v) {
			s->oom = 1;
			return;
		}
		s->out = v;
		s->cap = cap;
	}
	s->out[s->n++] = *site;
}

/* Keep the instruction if the mode wants it (sites.h, sites_find). */
static void consider(struct sweep *s, struct site *site)
{
	int r;

	if (s->flags & SITES_ALL_MEM) {
		if (!site->sampleable)
			return;
		if (site->indexed)
			site->ea = 0;
		emit(s, site);
		return;
	}
	if (site->type && site->ea && (r = match(s, site->ea, site->indexed ? 1 : site->size)) >= 0) {
		site->range = r;
	} else if (site->addr_taken && (r = match(s, site->ea, 1)) >= 0) {
		site->range = r;
	} else if (site->imm && (r = match(s, site->imm, 1)) >= 0) {
		site->range = r;	/* mov [x], $var: takes var's address */
		site->addr_taken = 1;
		site->ea = site->imm;
	} else {
		return;
	}
	emit(s, site);
}

/*
 * Decode [addr, addr + size) whose bytes are code.  An instruction may not
 * run over the next function start: if it would, the sweep is out of step
 * and restarts there.  Undecodable bytes are skipped one at a time.
 */
static void sweep_section(struct sweep *s, const uint8_t *code, uint64_t addr, uint64_t size)
{
	uint64_t pc = addr, end = addr + size;
	size_t fi = 0, a = 0, b = s->nf;
	struct site site;

	while (a < b) {		/* first function start >= addr */
		size_t mid = a + (b - a) / 2;

		if (s->fstart[mid] < addr)
			a = mid + 1;
		else
			b = mid;
	}
	fi = a;
	while (pc < end && !s->oom) {
		uint64_t limit;
		unsigned len;
		int classified;

		while (fi < s->nf && s->fstart[fi] <= pc)
			fi++;
		limit = fi < s->nf && s->fstart[fi] < end ? s->fstart[fi] : end;
		len = sites_step(code + (pc - addr), limit - pc, pc, s->pie, s->flags, &site,
				 &classified);
		if (!len) {
			pc++;
			continue;
		}
		if (classified)
			consider(s, &site);
		pc += len;
	}
}

/* Every function symbol's address, from .symtab and .dynsym (stripped files). */
static int load_fstarts(struct sweep *s, Elf *elf)
{
	size_t cap = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
			int t;

			if (!gelf_getsym(d, (int)i, &sym))
				break;
			t = GELF_ST_TYPE(sym.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
			    !sym.st_value)
				continue;
			if (s->nf == cap) {
				uint64_t *v = realloc(s->fstart, (cap = cap ? cap * 2 : 1024) *
							 sizeof(*v));
				if (!v)
					return -1;
				s->fstart = v;
			}
			s->fstart[s->nf++] = sym.st_value;
		}
	}
	if (s->nf)
		qsort(s->fstart, s->nf, sizeof(*s->fstart), cmp_u64);
	size_t j = 0;

	for (size_t i = 0; i < s->nf; i++)
		if (!j || s->fstart[j - 1] != s->fstart[i])
			s->fstart[j++] = s->fstart[i];
	s->nf = j;
	return 0;
}

int sites_find(const char *elf_path, const struct site_range *ranges, int nranges,
	       unsigned flags, struct site **out, size_t *nout, char *err, size_t errlen)
{
	struct sweep s = { .flags = flags };
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	int fd, rc = -1;

	*out = NULL;
	*nout = 0;
	fd = open(elf_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", elf_path, strerror(errno));
		return -1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE ||
	    !(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) || elf_kind(elf) != ELF_K_ELF ||
	    !gelf_getehdr(elf, &eh)) {
		snprintf(err, errlen, "%s: not an ELF file", elf_path);
		goto done;
	}
	if (eh.e_machine != EM_X86_64 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen, "%s: not an x86-64 ELF file", elf_path);
		goto done;
	}
	s.pie = eh.e_type != ET_EXEC;
	if (build_ranges(&s, ranges, nranges) < 0 || load_fstarts(&s, elf) < 0)
		goto oom;
	while ((scn = elf_nextscn(elf, scn)) && !s.oom) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR))
			continue;
		d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < sh.sh_size) {
			snprintf(err, errlen, "%s: cannot read section %zu: %s", elf_path,
				 elf_ndxscn(scn), elf_errmsg(-1));
			goto done;
		}
		sweep_section(&s, d->d_buf, sh.sh_addr, sh.sh_size);
	}
	if (s.oom)
		goto oom;
	/* Sections come in file order, which is nearly always address order. */
	for (size_t i = 1; i < s.n; i++) {
		if (s.out[i - 1].pc > s.out[i].pc) {
			qsort(s.out, s.n, sizeof(*s.out), cmp_site);
			break;
		}
	}
	*out = s.out;
	*nout = s.n;
	s.out = NULL;
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	free(s.out);
	free(s.r);
	free(s.fstart);
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}
