/*
 * symbols_peek — does an object define a name at all?  Asked before a
 * library is opened (and its DWARF indexed: ~0.4 s for libc's separate
 * debug info) just to look a -w name up in it.  Only the ELF symbol tables
 * are read: the file's own, and, when the file is stripped, its separate
 * debug file's.
 */
#include "symbols_int.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

/* 1: elf's symbol tables name it; 0: they do not; -1 no .symtab to tell
 * (only .dynsym, or nothing). */
static int scan(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	int have_symtab = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		have_symtab |= sh.sh_type == SHT_SYMTAB;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || !sym.st_name)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name))
				return 1;
		}
	}
	return have_symtab ? 0 : -1;
}

int sym_file_defines(const char *path, const char *name)
{
	char dbg[4096];
	int fd, dfd, r;
	Elf *elf, *delf;

	if (elf_version(EV_CURRENT) == EV_NONE || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	r = elf ? scan(elf, name) : -1;
	if (r < 0 && elf && (dfd = symi_debug_file(elf, path, dbg, sizeof(dbg))) >= 0) {
		/* Stripped: the debug file's full symbol table tells. */
		delf = elf_begin(dfd, ELF_C_READ, NULL);
		r = delf ? scan(delf, name) : -1;
		if (delf)
			elf_end(delf);
		close(dfd);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}
