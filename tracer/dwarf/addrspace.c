/*
 * addrspace — /proc/PID/maps grouped into modules, each opened lazily with
 * sym_open() and given its load bias.  See addrspace.h.
 *
 * A module is a run of consecutive mappings of one file (the loader maps an
 * ELF file as several adjacent mappings with increasing offsets; the .bss
 * after them is anonymous and does not end the run).  The same file loaded
 * twice, or mapped again as data, makes two modules sharing one symtab.
 *
 * Load bias: a mapping at run-time start with file offset off shows the
 * bytes the PT_LOAD segment containing off maps at link-time address
 * p_vaddr - p_offset + off, so bias = start - (p_vaddr - p_offset + off).
 * For the offset-0 mapping of a PIE or shared library that is the mapping
 * start minus the lowest p_vaddr (0 for the usual layout); for a non-PIE
 * executable it is 0.  Unsigned wrap-around makes the arithmetic exact
 * whichever side is bigger.
 *
 * Lifetime: every symtab opened stays owned by the addrspace until
 * as_close(), even when a refresh no longer shows its file (dlclose), so
 * the strings frames point to never dangle.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "addrspace.h"

#define DELETED " (deleted)"

struct as_map {
	uint64_t start, end, off;	/* anon: off continues the file mapping before it */
	size_t mod;		/* index into addrspace.mods */
	int anon;		/* the module's .bss tail, anonymous memory */
};

struct as_mod {
	char *path;		/* as the maps show it, without " (deleted)" */
	int deleted;		/* the file was unlinked or replaced since mapped */
	uint64_t ino;
	dev_t dev;
	uint64_t start, end, off;	/* the mapping with the lowest offset */
	struct symtab *st;	/* NULL until opened, or if it cannot be */
	int tried;		/* an open was attempted */
	uint64_t bias;
};

/* A file opened once; st == NULL records that it is not usable. */
struct as_file {
	char *path;
	uint64_t ino;
	dev_t dev;
	struct symtab *st;
};

struct addrspace {
	pid_t pid;
	struct symtab *exe;
	char *exe_path;		/* the executable's path as the maps show it */
	uint64_t exe_ino;
	dev_t exe_dev;

	struct as_mod *mods;
	size_t nmods;
	size_t exe_mod;		/* index of the executable in mods, or nmods */
	struct as_map *maps;	/* file-backed mappings and the .bss tails
				 * after them, sorted by start */
	size_t nmaps;

	struct as_file *files;
	size_t nfiles;
};

static void free_mods(struct as_mod *mods, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(mods[i].path);
	free(mods);
}

/*
 * One maps line: "start-end perms offset major:minor inode   path".
 * Mappings of files (path starting with '/') give 1 with every field set;
 * writable anonymous memory (no path, inode 0) gives 2 with *start and
 * *end set;
 * [heap], [stack], [vdso] and "anon_inode:" ones give 0.
 */
static int parse_line(char *line, uint64_t *start, uint64_t *end, uint64_t *off,
		      dev_t *dev, uint64_t *ino, char **path, int *deleted)
{
	unsigned long long s, e, o, i;
	unsigned maj, min;
	char perms[8];
	int n = 0;
	size_t len;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &s, &e, perms, &o,
		   &maj, &min, &i, &n) < 7 || n == 0)
		return 0;
	*path = line + n;
	len = strcspn(*path, "\n");
	(*path)[len] = 0;
	if ((*path)[0] == 0 && i == 0 && perms[1] == 'w') {
		*start = s;
		*end = e;
		return 2;
	}
	if ((*path)[0] != '/')
		return 0;
	*deleted = len > strlen(DELETED) &&
		   strcmp(*path + len - strlen(DELETED), DELETED) == 0;
	if (*deleted)
		(*path)[len - strlen(DELETED)] = 0;
	*start = s;
	*end = e;
	*off = o;
	*ino = i;
	*dev = makedev(maj, min);
	return 1;
}

static int read_maps(pid_t pid, struct as_mod **modsp, size_t *nmodsp,
		     struct as_map **mapsp, size_t *nmapsp, char *err, size_t errlen)
{
	struct as_mod *mods = NULL;
	struct as_map *maps = NULL;
	size_t nmods = 0, nmaps = 0, capmods = 0, capmaps = 0;
	char fn[64], *line = NULL, *path;
	size_t cap = 0;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
	f = fopen(fn, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", fn, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		uint64_t s, e, o, ino;
		dev_t dev;
		int del;
		struct as_mod *m = nmods ? &mods[nmods - 1] : NULL;
		int kind = parse_line(line, &s, &e, &o, &dev, &ino, &path, &del);

		if (kind == 0)
			continue;
		/* Anonymous memory that starts where the last module's last
		 * file mapping ends is that module's .bss past its file-backed
		 * pages (the kernel and ld.so map the zero-fill tail so): its
		 * variables belong to the module.  Any other anonymous memory
		 * belongs to none. */
		if (kind == 2) {
			if (!nmaps || maps[nmaps - 1].mod != nmods - 1 || maps[nmaps - 1].end != s ||
			    maps[nmaps - 1].anon)
				continue;
			o = maps[nmaps - 1].off + (maps[nmaps - 1].end - maps[nmaps - 1].start);
			goto add_map;
		}
		/* A different file than the previous file mapping, or this
		 * file's offset 0 mapped a second time: a new module. */
		if (!m || m->ino != ino || m->dev != dev || strcmp(m->path, path) != 0 ||
		    (o == 0 && m->off == 0)) {
			if (nmods == capmods) {
				size_t nc = capmods ? capmods * 2 : 32;
				struct as_mod *nm = realloc(mods, nc * sizeof(*nm));

				if (!nm)
					goto oom;
				mods = nm;
				capmods = nc;
			}
			m = &mods[nmods];
			memset(m, 0, sizeof(*m));
			m->path = strdup(path);
			if (!m->path)
				goto oom;
			m->deleted = del;
			m->ino = ino;
			m->dev = dev;
			m->start = s;
			m->end = e;
			m->off = o;
			nmods++;
		} else if (o < m->off) {
			m->start = s;
			m->end = e;
			m->off = o;
		}
add_map:
		if (nmaps == capmaps) {
			size_t nc = capmaps ? capmaps * 2 : 64;
			struct as_map *nm = realloc(maps, nc * sizeof(*nm));

			if (!nm)
				goto oom;
			maps = nm;
			capmaps = nc;
		}
		maps[nmaps++] = (struct as_map){ s, e, o, nmods - 1, kind == 2 };
	}
	free(line);
	fclose(f);
	*modsp = mods;
	*nmodsp = nmods;
	*mapsp = maps;
	*nmapsp = nmaps;
	return 0;
oom:
	free(line);
	fclose(f);
	free_mods(mods, nmods);
	free(maps);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Which module is the executable: by path, else by device and inode. */
static size_t find_exe(const struct addrspace *as)
{
	for (size_t i = 0; i < as->nmods; i++)
		if (strcmp(as->mods[i].path, as->exe_path) == 0)
			return i;
	for (size_t i = 0; i < as->nmods; i++)
		if (as->exe_ino && as->mods[i].ino == as->exe_ino &&
		    as->mods[i].dev == as->exe_dev)
			return i;
	return as->nmods;
}

static uint64_t compute_bias(const struct symtab *st, uint64_t start, uint64_t off)
{
	const struct sym_segment *sg;
	size_t n = sym_segments(st, &sg);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), low = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		uint64_t first = sg[i].offset & ~(page - 1);

		if (off >= first && off < sg[i].offset + (sg[i].filesz ? sg[i].filesz : 1))
			return start - (sg[i].vaddr - sg[i].offset + off);
		if (sg[i].vaddr < low)
			low = sg[i].vaddr;
	}
	/* No segment holds that offset (not mapped by the loader). */
	return n ? start - (low & ~(page - 1)) : start - off;
}

static struct as_file *find_file(struct addrspace *as, const char *path,
				 uint64_t ino, dev_t dev)
{
	for (size_t i = 0; i < as->nfiles; i++)
		if (as->files[i].ino == ino && as->files[i].dev == dev &&
		    strcmp(as->files[i].path, path) == 0)
			return &as->files[i];
	return NULL;
}

static struct as_file *add_file(struct addrspace *as, const char *path,
				uint64_t ino, dev_t dev, struct symtab *st)
{
	struct as_file *nf = realloc(as->files, (as->nfiles + 1) * sizeof(*nf));
	char *p = strdup(path);

	if (!nf || !p) {
		free(p);
		if (nf)
			as->files = nf;
		return NULL;
	}
	as->files = nf;
	nf = &as->files[as->nfiles++];
	nf->path = p;
	nf->ino = ino;
	nf->dev = dev;
	nf->st = st;
	return nf;
}

/*
 * Open module m once.  A deleted file is read through
 * /proc/PID/map_files/, which shows the mapped file itself (the name may
 * now be a different, rebuilt file: never open that one); that needs
 * privileges a plain tracer may lack, and then the module stays nameless.
 */
static struct symtab *mod_open(struct addrspace *as, struct as_mod *m)
{
	struct as_file *f;
	struct symtab *st = NULL;
	char err[256], alt[PATH_MAX + 64];

	if (m->tried)
		return m->st;
	m->tried = 1;
	f = find_file(as, m->path, m->ino, m->dev);
	if (f) {
		st = f->st;
	} else {
		if (m->deleted) {
			snprintf(alt, sizeof(alt), "/proc/%d/map_files/%llx-%llx",
				 (int)as->pid, (unsigned long long)m->start,
				 (unsigned long long)m->end);
			st = sym_open(alt, err, sizeof(err));
		} else if (access(m->path, F_OK) == 0) {
			st = sym_open(m->path, err, sizeof(err));
		} else {
			/* Not here: the process lives in another mount
			 * namespace (a container). */
			snprintf(alt, sizeof(alt), "/proc/%d/root%s",
				 (int)as->pid, m->path);
			st = sym_open(alt, err, sizeof(err));
		}
		if (!add_file(as, m->path, m->ino, m->dev, st)) {
			sym_close(st);
			st = NULL;
		}
	}
	m->st = st;
	if (st)
		m->bias = compute_bias(st, m->start, m->off);
	return st;
}

struct addrspace *as_open(pid_t pid, const char *exe_path, char *err, size_t errlen)
{
	struct addrspace *as = calloc(1, sizeof(*as));
	char link[PATH_MAX];
	struct stat sb;
	ssize_t n;

	if (!as) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	as->pid = pid;
	as->exe = sym_open(exe_path, err, errlen);
	if (!as->exe)
		goto fail;

	/* /proc/PID/exe reads back exactly as the maps name the file
	 * (with " (deleted)"); another path is resolved to compare. */
	n = readlink(exe_path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if ((size_t)n > strlen(DELETED) &&
		    strcmp(link + n - strlen(DELETED), DELETED) == 0)
			link[n - strlen(DELETED)] = 0;
		as->exe_path = strdup(link);
	} else {
		as->exe_path = realpath(exe_path, NULL);
		if (!as->exe_path)
			as->exe_path = strdup(exe_path);
	}
	if (!as->exe_path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (stat(exe_path, &sb) == 0) {
		as->exe_ino = sb.st_ino;
		as->exe_dev = sb.st_dev;
	}
	if (read_maps(pid, &as->mods, &as->nmods, &as->maps, &as->nmaps,
		      err, errlen) < 0)
		goto fail;
	as->exe_mod = find_exe(as);
	if (as->exe_mod == as->nmods) {
		snprintf(err, errlen, "process %d does not map %s (has it "
			 "completed exec?)", (int)pid, exe_path);
		goto fail;
	}
	if (!add_file(as, as->mods[as->exe_mod].path, as->mods[as->exe_mod].ino,
		      as->mods[as->exe_mod].dev, as->exe)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	mod_open(as, &as->mods[as->exe_mod]);
	return as;
fail:
	if (as->nfiles == 0)
		sym_close(as->exe);
	as->exe = NULL;
	as_close(as);
	return NULL;
}

void as_close(struct addrspace *as)
{
	if (!as)
		return;
	for (size_t i = 0; i < as->nfiles; i++) {
		sym_close(as->files[i].st);
		free(as->files[i].path);
	}
	free(as->files);
	free_mods(as->mods, as->nmods);
	free(as->maps);
	free(as->exe_path);
	free(as);
}

void as_refresh(struct addrspace *as)
{
	struct as_mod *mods;
	struct as_map *maps;
	size_t nmods, nmaps;
	char err[256];

	/* On failure (the process is gone) keep the last picture. */
	if (read_maps(as->pid, &mods, &nmods, &maps, &nmaps, err, sizeof(err)) < 0)
		return;
	free_mods(as->mods, as->nmods);
	free(as->maps);
	as->mods = mods;
	as->nmods = nmods;
	as->maps = maps;
	as->nmaps = nmaps;
	as->exe_mod = find_exe(as);
	if (as->exe_mod < as->nmods) {
		struct as_mod *m = &as->mods[as->exe_mod];

		m->tried = 1;
		m->st = as->exe;
		m->bias = compute_bias(as->exe, m->start, m->off);
	}
}

struct symtab *as_exe(struct addrspace *as, uint64_t *bias)
{
	if (bias)
		*bias = as->exe_mod < as->nmods ? as->mods[as->exe_mod].bias : 0;
	return as->exe;
}

static const struct as_map *map_at(const struct addrspace *as, uint64_t addr)
{
	size_t lo = 0, hi = as->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (as->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < as->maps[lo - 1].end)
		return &as->maps[lo - 1];
	return NULL;
}

struct symtab *as_module_at(struct addrspace *as, uint64_t addr, uint64_t *bias)
{
	const struct as_map *mp = map_at(as, addr);
	struct symtab *st;

	if (!mp) {
		as_refresh(as);
		mp = map_at(as, addr);
		if (!mp)
			return NULL;
	}
	st = mod_open(as, &as->mods[mp->mod]);
	if (st && bias)
		*bias = as->mods[mp->mod].bias;
	return st;
}

const char *as_func_at(struct addrspace *as, uint64_t pc, uint64_t *start, uint64_t *size)
{
	uint64_t bias = 0, s = 0, z = 0;
	struct symtab *st = as_module_at(as, pc, &bias);
	const char *name = st ? sym_func_at(st, pc - bias, &s, &z) : NULL;

	if (name) {
		if (start)
			*start = s + bias;
		if (size)
			*size = z;
	}
	return name;
}

int as_frames_at(struct addrspace *as, uint64_t pc, struct sym_frame *out, int max)
{
	uint64_t bias = 0;
	struct symtab *st = as_module_at(as, pc, &bias);
	const char *name;
	int n;

	if (!st || max <= 0)
		return 0;
	n = sym_frames_at(st, pc - bias, out, max);
	if (n > 0)
		return n;
	name = sym_func_at(st, pc - bias, NULL, NULL);
	if (!name)
		return 0;
	out[0] = (struct sym_frame){ name, NULL, 0, 0 };
	return 1;
}

int as_module_count(const struct addrspace *as)
{
	return (int)as->nmods;
}

/* Index 0 is the executable; the others keep their maps order. */
static size_t mod_index(const struct addrspace *as, int i)
{
	if (as->exe_mod >= as->nmods)
		return (size_t)i;
	if (i == 0)
		return as->exe_mod;
	return (size_t)i <= as->exe_mod ? (size_t)i - 1 : (size_t)i;
}

const char *as_module_path(const struct addrspace *as, int i)
{
	if (i < 0 || (size_t)i >= as->nmods)
		return NULL;
	return as->mods[mod_index(as, i)].path;
}

struct symtab *as_module(struct addrspace *as, int i, uint64_t *bias)
{
	size_t k;
	struct symtab *st;

	if (i < 0 || (size_t)i >= as->nmods)
		return NULL;
	k = mod_index(as, i);
	st = mod_open(as, &as->mods[k]);
	if (st && bias)
		*bias = as->mods[k].bias;
	return st;
}

pid_t as_pid(const struct addrspace *as)
{
	return as->pid;
}
