/*
 * symbols_lines — a unit's file table and line program into the module's
 * sorted pc -> file:line rows, and the raw-section checks run before
 * libdwarf is let near a file.  Part of the DWARF indexing of
 * symbols_dwarf.c (struct dw is in symbols_int.h).
 */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

/* ---- lines ----------------------------------------------------------- */

static uint32_t file_id(struct dw *d, const char *path)
{
	struct symtab *st = d->st;
	void *v = symi_map_get(&d->fileids, (uintptr_t)path);
	const char **f;

	if (v)
		return (uint32_t)((uintptr_t)v - 1);
	f = symi_push((void **)&st->files, &st->capfiles, st->nfiles, sizeof(*f));
	if (!f || symi_map_put(&d->fileids, (uintptr_t)path,
			     (void *)(uintptr_t)(st->nfiles + 1)) < 0) {
		st->oom = 1;
		return LINE_END;
	}
	*f = path;
	return (uint32_t)st->nfiles++;
}

/*
 * libdwarf (20210528) joins a DWARF 5 file's directory 0 -- which already
 * is the unit's comp_dir -- to comp_dir once more: with a relative
 * comp_dir, as Debian's libc has ("./nptl"), pthread_create.c becomes
 * "./nptl/./nptl/pthread_create.c".  Drop the doubled prefix, so paths
 * read as gdb shows them ("./nptl/pthread_create.c").
 */
static const char *undouble(const char *f, const char *comp)
{
	size_t l = comp ? strlen(comp) : 0;

	if (!l || comp[0] == '/' || strncmp(f, comp, l) || f[l] != '/')
		return f;
	if (!strncmp(f + l + 1, comp, l) && f[2 * l + 1] == '/')
		return f + l + 1;
	return f;
}

/* The unit's file table, as full paths (libdwarf joins dir and comp_dir). */
void symi_cu_files(struct dw *d, Dwarf_Die cu, Dwarf_Line_Context lctx)
{
	Dwarf_Error e = NULL;
	Dwarf_Signed n = 0, b, c, end;
	char **files, *comp = NULL;

	d->ncufiles = 0;
	d->fbase = d->version >= 5 ? 0 : 1;
	if (lctx && symi_ok(d->dbg, dwarf_srclines_files_indexes(lctx, &b, &c, &end, &e), &e))
		d->fbase = b;
	if (!symi_ok(d->dbg, dwarf_srcfiles(cu, &files, &n, &e), &e))
		return;
	if (!symi_ok(d->dbg, dwarf_die_text(cu, DW_AT_comp_dir, &comp, &e), &e))
		comp = NULL;
	for (Dwarf_Signed i = 0; i < n; i++) {
		const char *p = symi_intern(d->st, undouble(files[i], comp));
		uint32_t *slot = symi_push((void **)&d->cufiles, &d->capcufiles,
					   d->ncufiles, sizeof(*slot));

		dwarf_dealloc(d->dbg, files[i], DW_DLA_STRING);
		if (!slot || !p) {
			d->st->oom = 1;
			continue;
		}
		*slot = file_id(d, p);
		if (*slot != LINE_END)
			d->ncufiles++;
	}
	dwarf_dealloc(d->dbg, files, DW_DLA_LIST);
}

static void emit_line(struct dw *d, uint64_t addr, uint32_t line, uint32_t file)
{
	struct symtab *st = d->st;
	struct sym_line *l;

	/* A row repeating the previous row's place adds nothing to lookups. */
	if (st->nlines && file != LINE_END) {
		struct sym_line *p = &st->lines[st->nlines - 1];

		if (p->file == file && p->line == line && p->addr <= addr)
			return;
	}
	l = symi_push((void **)&st->lines, &st->caplines, st->nlines, sizeof(*l));
	if (!l) {
		st->oom = 1;
		return;
	}
	l->addr = addr;
	l->line = line;
	l->file = file;
	st->nlines++;
}

/*
 * The unit's line program, one row per address.
 *
 * Several rows often share an address: gcc emits one per "view" as it
 * enters inlined calls and statements without emitting code.  Each row
 * covers [its address, the next row's address), so all but the last are
 * empty and the instruction belongs to the last row: that is what this
 * keeps (as addr2line and llvm-symbolizer do).  is_stmt is deliberately
 * not used to pick: it marks rows a debugger should stop at, and gdb's
 * "prefer the is_stmt row" can name an inlined callee's line at a pc the
 * inline tree says is not inside that callee (the entry of PyList_Append
 * in an -O3 libpython: object.h:969 instead of listobject.c:333).  A last
 * row with line 0 (compiler-made code) does not hide a real line before it.
 *
 * end_sequence rows become LINE_END markers so the bytes after a sequence
 * do not inherit its last line, and a sequence starting at address 0
 * (discarded by the linker) is dropped whole.
 */
void symi_cu_lines(struct dw *d, Dwarf_Line_Context lctx)
{
	Dwarf_Error e = NULL;
	Dwarf_Line *lines;
	Dwarf_Signed n;
	struct sym_line pend = { 0 };
	int have = 0, skip = 0, start = 1;

	if (!symi_ok(d->dbg, dwarf_srclines_from_linecontext(lctx, &lines, &n, &e), &e))
		return;
	for (Dwarf_Signed i = 0; i < n; i++) {
		Dwarf_Addr a;
		Dwarf_Unsigned ln = 0, fno = 0;
		Dwarf_Bool end = 0;

		if (!symi_ok(d->dbg, dwarf_lineaddr(lines[i], &a, &e), &e))
			continue;
		symi_ok(d->dbg, dwarf_lineendsequence(lines[i], &end, &e), &e);
		if (start) {
			skip = a == 0;
			start = 0;
		}
		if (end) {
			if (have && !skip && pend.addr < a)
				emit_line(d, pend.addr, pend.line, pend.file);
			if (!skip)
				emit_line(d, a, 0, LINE_END);
			have = 0;
			start = 1;
			continue;
		}
		if (skip)
			continue;
		symi_ok(d->dbg, dwarf_lineno(lines[i], &ln, &e), &e);
		symi_ok(d->dbg, dwarf_line_srcfileno(lines[i], &fno, &e), &e);

		int64_t fi = (int64_t)fno - d->fbase;
		struct sym_line row = { a, (uint32_t)ln, 0 };

		if (fi >= 0 && (uint64_t)fi < d->ncufiles)
			row.file = d->cufiles[fi];
		else
			row.line = 0;	/* no file: as good as no line */
		if (have && pend.addr == a) {
			if (row.line || !pend.line)
				pend = row;
			continue;
		}
		if (have)
			emit_line(d, pend.addr, pend.line, pend.file);
		pend = row;
		have = 1;
	}
	if (have && !skip)
		emit_line(d, pend.addr, pend.line, pend.file);
}

static int cmp_line(const void *a, const void *b)
{
	const struct sym_line *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if ((x->file == LINE_END) != (y->file == LINE_END))
		return x->file == LINE_END ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->file < y->file ? -1 : x->file > y->file;
}

/*
 * Sort the rows of all units together.  At one address keep one row: a
 * sequence starting where another ended drops the end marker.
 */
void symi_finish_lines(struct symtab *st)
{
	size_t j = 0;

	if (st->nlines > 1)
		qsort(st->lines, st->nlines, sizeof(*st->lines), cmp_line);
	for (size_t i = 0; i < st->nlines; i++) {
		struct sym_line *l = &st->lines[i];

		if (j && st->lines[j - 1].addr == l->addr) {
			if (st->lines[j - 1].file == LINE_END && l->file != LINE_END)
				st->lines[j - 1] = *l;
			continue;
		}
		if (j && l->file == LINE_END && st->lines[j - 1].file == LINE_END)
			continue;
		st->lines[j++] = *l;
	}
	st->nlines = j;
}

/* ---- raw section checks ---------------------------------------------- */

static uint64_t rd(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/*
 * The unit headers of a DWARF 5 .debug_rnglists / .debug_loclists section
 * must tile it exactly.  libdwarf 20210528 reads these headers as soon as
 * the first unit is opened, and some malformed ones make it free memory
 * twice (found by fuzzing; fixed in later libdwarf releases).
 */
static int lists_ok(const unsigned char *p, size_t n)
{
	while (n) {
		uint64_t len;
		int osz = 4, hdr = 4;

		if (n < 4)
			return 0;
		len = rd(p, 4);
		if (len == 0xffffffff) {
			if (n < 12)
				return 0;
			len = rd(p + 4, 8);
			osz = 8;
			hdr = 12;
		} else if (len >= 0xfffffff0) {
			return 0;
		}
		if (len > n - (size_t)hdr || len < 8)
			return 0;
		/* version, address size, segment selector size, offset count */
		if (rd(p + hdr, 2) != 5 || (p[hdr + 2] != 4 && p[hdr + 2] != 8) ||
		    p[hdr + 3] != 0 || rd(p + hdr + 4, 4) > (len - 8) / (uint64_t)osz)
			return 0;
		p += hdr + len;
		n -= hdr + (size_t)len;
	}
	return 1;
}

int symi_dwarf_precheck(void *elfp, char *err, size_t errlen)
{
	Elf *elf = elfp;
	Elf_Scn *scn = NULL;
	size_t shstr;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstr) < 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    (sh.sh_flags & SHF_COMPRESSED))
			continue;
		name = elf_strptr(elf, shstr, sh.sh_name);
		if (!name || (strcmp(name, ".debug_rnglists") != 0 &&
			      strcmp(name, ".debug_loclists") != 0))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || !lists_ok(data->d_buf, data->d_size)) {
			snprintf(err, errlen, "malformed %s", name);
			return -1;
		}
	}
	return 0;
}
