/*
 * symbols_obj — hand libdwarf the module's sections through its object
 * access interface (dwarf_object_init_b) instead of letting it read the
 * file itself (dwarf_init_b).
 *
 * Measured on bench/genbig.sh's program (2.2 MB of .debug_info, 3.8 MB of
 * debug sections), indexing one unit: libdwarf's own reader copies every
 * debug section it touches into malloc'd memory with read() and loads the
 * ELF symbol table for relocations it never applies to an executable;
 * the copies alone fault in ~950 fresh pages.  Here a section is the
 * libelf mapping of the file (page cache, mapped read-only), so only what
 * is read is touched.  A compressed section (SHF_COMPRESSED, as in
 * Debian's -dbg packages) is inflated by libelf, once, on first use.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "symbols_int.h"

struct symi_dwobj {
	Elf *elf;
	size_t shstr;
	size_t nsec;
	Dwarf_Obj_Access_Interface iface;
};

static int obj_section_info(void *obj, Dwarf_Half idx, Dwarf_Obj_Access_Section *out, int *error)
{
	struct symi_dwobj *o = obj;
	Elf_Scn *scn = elf_getscn(o->elf, idx);
	GElf_Shdr sh;
	GElf_Chdr ch;
	const char *name;

	(void)error;
	memset(out, 0, sizeof(*out));
	if (!scn || !gelf_getshdr(scn, &sh))
		return DW_DLV_NO_ENTRY;
	name = elf_strptr(o->elf, o->shstr, sh.sh_name);
	out->addr = sh.sh_addr;
	out->type = sh.sh_type;
	out->name = name ? name : "";
	out->link = sh.sh_link;
	out->info = sh.sh_info;
	out->entrysize = sh.sh_entsize;
	if (sh.sh_type == SHT_NOBITS)
		out->size = 0;
	else if (sh.sh_flags & SHF_COMPRESSED)
		out->size = gelf_getchdr(scn, &ch) ? ch.ch_size : 0;
	else
		out->size = sh.sh_size;
	return DW_DLV_OK;
}

static Dwarf_Endianness obj_byte_order(void *obj)
{
	const char *id = elf_getident(((struct symi_dwobj *)obj)->elf, NULL);

	return id && id[EI_DATA] == ELFDATA2MSB ? DW_OBJECT_MSB : DW_OBJECT_LSB;
}

static Dwarf_Small obj_length_size(void *obj)
{
	(void)obj;
	return 4;	/* DWARF32 offsets; a unit header says its own */
}

static Dwarf_Small obj_pointer_size(void *obj)
{
	return gelf_getclass(((struct symi_dwobj *)obj)->elf) == ELFCLASS32 ? 4 : 8;
}

static Dwarf_Unsigned obj_section_count(void *obj)
{
	return ((struct symi_dwobj *)obj)->nsec;
}

static int obj_load_section(void *obj, Dwarf_Half idx, Dwarf_Small **data, int *error)
{
	struct symi_dwobj *o = obj;
	Elf_Scn *scn = elf_getscn(o->elf, idx);
	GElf_Shdr sh;
	Elf_Data *d;

	(void)error;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
		return DW_DLV_NO_ENTRY;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return DW_DLV_NO_ENTRY;
	d = (sh.sh_flags & SHF_COMPRESSED) ? elf_getdata(scn, NULL) : elf_rawdata(scn, NULL);
	if (!d || !d->d_buf)
		return DW_DLV_NO_ENTRY;
	*data = d->d_buf;
	return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods obj_methods = {
	obj_section_info,
	obj_byte_order,
	obj_length_size,
	obj_pointer_size,
	obj_section_count,
	obj_load_section,
	NULL,	/* no relocations: executables and shared objects only */
};

int symi_dwarf_open(int fd, Dwarf_Debug *dbg, struct symi_dwobj **out, Dwarf_Error *e)
{
	struct symi_dwobj *o = calloc(1, sizeof(*o));
	int res;

	*out = NULL;
	if (!o)
		return DW_DLV_NO_ENTRY;
	o->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF ||
	    elf_getshdrstrndx(o->elf, &o->shstr) < 0 || elf_getshdrnum(o->elf, &o->nsec) < 0 ||
	    o->nsec > 0xffff) {
		if (o->elf)
			elf_end(o->elf);
		free(o);
		return DW_DLV_NO_ENTRY;
	}
	o->iface.object = o;
	o->iface.methods = &obj_methods;
	res = dwarf_object_init_b(&o->iface, NULL, NULL, DW_GROUPNUMBER_ANY, dbg, e);
	if (res != DW_DLV_OK) {
		elf_end(o->elf);
		free(o);
		return res;
	}
	*out = o;
	return DW_DLV_OK;
}

void symi_dwarf_close(Dwarf_Debug dbg, struct symi_dwobj *o)
{
	Dwarf_Error e = NULL;

	if (dbg)
		dwarf_object_finish(dbg, &e);
	if (e)
		dwarf_dealloc_error(NULL, e);
	if (o) {
		elf_end(o->elf);
		free(o);
	}
}
