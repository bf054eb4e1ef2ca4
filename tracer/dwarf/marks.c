#include "marks.h"
#include "util.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_SIZE 12

size_t marks_parse(const uint8_t *data, size_t size, uint64_t base,
		   struct mark_range *out, size_t max)
{
	size_t n = 0;

	for (size_t off = 0; off + RECORD_SIZE <= size && n < max; off += RECORD_SIZE) {
		int32_t rel;
		uint32_t len, kind;

		memcpy(&rel, data + off, 4);
		memcpy(&len, data + off + 4, 4);
		memcpy(&kind, data + off + 8, 4);
		if (kind < RWMARK_ONCE || kind > RWMARK_SCOPE_END || len > 4096)
			continue;	/* not something the header writes */
		out[n].begin = base + off + (uint64_t)(int64_t)rel;
		out[n].end = out[n].begin + len;
		out[n].kind = kind;
		n++;
	}
	return n;
}

static int by_begin(const void *a, const void *b)
{
	const struct mark_range *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static void load_names(struct marks *m, const uint8_t *d, size_t size)
{
	size_t i = 0;

	while (i < size) {
		size_t len = strnlen((const char *)d + i, size - i);

		if (len && i + len < size) {
			m->names = xrealloc(m->names, sizeof(char *) * (size_t)(m->nnames + 1));
			m->names[m->nnames] = xcalloc(1, len + 1);
			memcpy(m->names[m->nnames++], d + i, len);
		}
		i += len + 1;
	}
}

struct marks *marks_load(const char *path)
{
	struct marks *m;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *elf;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		if (elf)
			elf_end(elf);
		close(fd);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".racewatch_exempt")) {
			m->exempt_begin = sh.sh_addr;
			m->exempt_end = sh.sh_addr + sh.sh_size;
			continue;
		}
		if (sh.sh_type != SHT_PROGBITS || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		if (!strcmp(name, ".racewatch_marks")) {
			size_t max = d->d_size / RECORD_SIZE;

			m->r = xrealloc(m->r, sizeof(*m->r) * (m->n + max));
			m->n += marks_parse(d->d_buf, d->d_size, sh.sh_addr, m->r + m->n, max);
		} else if (!strcmp(name, ".racewatch_watch")) {
			load_names(m, d->d_buf, d->d_size);
		}
	}
	elf_end(elf);
	close(fd);
	if (m->n)
		qsort(m->r, m->n, sizeof(*m->r), by_begin);
	return m;
}

void marks_free(struct marks *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nnames; i++)
		free(m->names[i]);
	free(m->names);
	free(m->r);
	free(m);
}

/* Which kind wins when sites nest: data_race(READ_ONCE(x)) is exempt. */
static int precedence(unsigned kind)
{
	switch (kind) {
	case RWMARK_DATA_RACE:
		return 3;
	case RWMARK_ONCE:
		return 1;
	default:
		return 2;	/* the assertions */
	}
}

unsigned marks_kind_at(const struct marks *m, uint64_t pc)
{
	unsigned best = 0;
	size_t lo = 0, hi;

	if (!m)
		return 0;
	if (pc >= m->exempt_begin && pc < m->exempt_end)
		return RWMARK_DATA_RACE;
	/* Find the first range starting after pc, then look back at the ones
	 * that may still cover it (sites are short; nesting is shallow). */
	hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->r[mid].begin <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && pc - m->r[i].begin < 4096;) {
		if (pc < m->r[i].end && (!best || precedence(m->r[i].kind) > precedence(best)))
			best = m->r[i].kind;
	}
	return best;
}
