/*
 * symbols_guard — keep libdwarf's crashes out of the tracer (issue 16).
 *
 * libdwarf 20210528 can free memory twice or read out of bounds on a
 * hostile debug section; in the tracer that would abort racewatch and,
 * under `run`, the program with it (under `attach` it would quietly corrupt
 * the heap).  symbols_lines.c's precheck turns away the malformations
 * known today; this file contains the unknown ones:
 *
 *   1. sym_open() indexes in a forked child.  Before the fork, a shared
 *      anonymous mapping (the region) is reserved; the child takes every
 *      arena block from it (symbols_util.c) and, at the end, copies the
 *      index's vectors and its struct symtab there.  The mapping sits at
 *      the same address in both processes, so the parent adopts the
 *      index where it lies (every interned string and type pointer stays
 *      valid): nothing is indexed or copied twice.  Cost, measured with
 *      bench/startup.sh: +30 ms (+10%) on a 5.6 MB program with 2.2 MB of
 *      .debug_info, +30 ms on libc's debug file, under 5 ms on a sample.
 *      A lazy step (symbols_lazy.c: one more unit of an open module) runs
 *      the same way, but its child copies to the region only what it
 *      appended to each vector and the strings it interned, and the parent
 *      appends those to its own vectors and sorts (adopt_delta()).
 *   2. Later libdwarf work (symbols_ptr.c) is verified first: the same
 *      call in a forked child, which starts as an exact copy of this
 *      process and so does exactly what this process will do next.
 *
 * A child killed by a signal means "debug info unreadable": one warning,
 * the module keeps its ELF symbol table, and the file's identity (device,
 * inode, size, mtime) is remembered so that it is not tried again.
 *
 * The child inherits the tracer's blocked signals (engine.c reads them
 * through a signalfd), so Ctrl-C is the parent's to handle; it never
 * touches a tracee (ptrace is not inherited) and leaves by _exit().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "symbols_int.h"
#include "util.h"

/* The vectors a lazy step appends to (delta_vec() lists them). */
enum { DV_VARS, DV_LINES, DV_FILES, DV_SCOPES, DV_RANGES, DV_TOPS, DV_STRLOG, DELTA_N };

/* The head of a region; the rest holds arena blocks, then the vectors. */
struct region_hdr {
	size_t len;		/* bytes mapped */
	size_t used;		/* next free byte, from the region's start */
	size_t populated;	/* bytes mapped in ahead (symi_region_alloc) */
	size_t arena_end;	/* the arena blocks end here; the vectors follow */
	int full;		/* an allocation did not fit */
	int done;		/* the child wrote everything below */
	int r;			/* the stage's result */
	char err[256];		/* the stage's reason when r < 0 */
	char stage[PATH_MAX];	/* the file being read, for the warning */
	struct symtab st;	/* the child's symtab; vectors in the region */
	struct symi_objs objs;
	/* A lazy step (st->lazy): only what the child appended to each vector,
	 * in the region, and the strings it interned. */
	void *tail[DELTA_N];
	size_t ntail[DELTA_N];
};

#define POPULATE_STEP ((size_t)2 << 20)

/* The region the child allocates from; NULL in the parent. */
static struct region_hdr *cur;

int symi_region_active(void)
{
	return cur != NULL;
}

void *symi_region_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!cur || cur->len - cur->used < n) {
		if (cur)
			cur->full = 1;
		return NULL;
	}
	p = (char *)cur + cur->used;
	cur->used += n;
	/* A page fault per 4 KB page of shared memory costs more than the
	 * indexing's own work on some machines (~20 us in a VM): map the
	 * region ahead, one call per 128 KB while the index is small, then
	 * per 2 MB. */
	while (cur->populated < cur->used && cur->populated < cur->len) {
		size_t step = cur->used < POPULATE_STEP ? POPULATE_STEP / 16 : POPULATE_STEP;

		if (step > cur->len - cur->populated)
			step = cur->len - cur->populated;

		madvise((char *)cur + cur->populated, step, MADV_POPULATE_WRITE);
		cur->populated += step;
	}
	return p;
}

void symi_guard_stage(const char *path)
{
	if (cur)
		snprintf(cur->stage, sizeof(cur->stage), "%s", path);
}

int symi_test_knob(const char *knob)
{
	const char *v = getenv("RACEWATCH_TEST_DWARF");
	size_t n = strlen(knob);

	for (; v && *v; v += strcspn(v, ","), v += *v == ',')
		if (strncmp(v, knob, n) == 0 && (v[n] == ',' || v[n] == '\0'))
			return 1;
	return 0;
}

/* ---- files known to crash libdwarf ------------------------------------- */

struct bad_file {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static struct bad_file *bad;
static size_t nbad, capbad;

static int same_file(const struct bad_file *b, const struct stat *sb)
{
	return b->dev == sb->st_dev && b->ino == sb->st_ino && b->size == sb->st_size &&
	       b->mtime.tv_sec == sb->st_mtim.tv_sec &&
	       b->mtime.tv_nsec == sb->st_mtim.tv_nsec;
}

static int known_bad(const struct stat *sb)
{
	for (size_t i = 0; i < nbad; i++)
		if (same_file(&bad[i], sb))
			return 1;
	return 0;
}

/* Remember sb's file and say once, in one line, what happened to it. */
static void crashed(const struct stat *sb, const char *path, int sig)
{
	struct bad_file *b = symi_push((void **)&bad, &capbad, nbad, sizeof(*b));
	const char *abbrev = sigabbrev_np(sig);
	char real[PATH_MAX];
	ssize_t n;

	/* Name the file, not the /proc link `run` and `attach` read it by. */
	if (strncmp(path, "/proc/", 6) == 0 &&
	    (n = readlink(path, real, sizeof(real) - 1)) > 0) {
		real[n] = '\0';
		path = real;
	}

	if (b) {
		b->dev = sb->st_dev;
		b->ino = sb->st_ino;
		b->size = sb->st_size;
		b->mtime = sb->st_mtim;
		nbad++;
	}
	rw_warn("debug info of %s unreadable: libdwarf crashed on it (SIG%s); "
		"using the symbol table", path, abbrev ? abbrev : "?");
}

/* ---- the child ----------------------------------------------------------- */

/* Start a child that has no core file to write; 0 in the child. */
static pid_t guard_fork(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit no = { 0, 0 };
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		setrlimit(RLIMIT_CORE, &no);
		/* A crash must end the child by its signal, which is how the
		 * parent tells it: no handler the process had (a test
		 * harness's, a crash reporter's) may catch it here. */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS };

		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		/* glibc's "double free detected" would be a second line: the
		 * parent's warning says it all. */
		if (null >= 0)
			dup2(null, STDERR_FILENO);
	}
	return pid;
}

/* The child's exit status, or -1 if waitpid failed. */
static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Move vector *v (n elements) into the region; 0, or -1 when it is full. */
static int to_region(void **v, size_t n, size_t elsz)
{
	void *p = NULL;

	if (n && !(p = symi_region_alloc(n * elsz)))
		return -1;
	if (n)
		memcpy(p, *v, n * elsz);
	*v = p;
	return 0;
}

#define TO_REGION(st, f, n) to_region((void **)&(st)->f, (st)->n, sizeof(*(st)->f))

static void child_index(struct region_hdr *h, struct symtab *st, struct symi_objs *objs,
			symi_stage_fn *stage, void *arg)
{
	cur = h;
	symi_arena_seal(&st->arena);
	h->r = stage(st, objs, arg, h->err, sizeof(h->err));
	h->arena_end = h->used;
	if (st->debug_path) {
		char *dp = symi_region_alloc(strlen(st->debug_path) + 1);

		if (!dp)
			_exit(3);
		strcpy(dp, st->debug_path);
		st->debug_path = dp;
	}
	if (TO_REGION(st, strs, strcap) || TO_REGION(st, segs, nsegs) ||
	    TO_REGION(st, fns, nfns) || TO_REGION(st, vars, nvars) ||
	    TO_REGION(st, lines, nlines) || TO_REGION(st, files, nfiles) ||
	    TO_REGION(st, scopes, nscopes) || TO_REGION(st, ranges, nranges) ||
	    TO_REGION(st, tops, ntops) || TO_REGION(objs, v, n) || h->full)
		_exit(3);
	h->st = *st;
	h->objs = *objs;
	h->done = 1;
	_exit(0);
}

/* Vector i of st: its address, its length, its capacity, its element size. */
static void delta_vec(struct symtab *st, int i, void ***v, size_t **n, size_t **cap, size_t *elsz)
{
	switch (i) {
	case DV_VARS: *v = (void **)&st->vars; *n = &st->nvars; *cap = &st->capvars;
		*elsz = sizeof(*st->vars); break;
	case DV_LINES: *v = (void **)&st->lines; *n = &st->nlines; *cap = &st->caplines;
		*elsz = sizeof(*st->lines); break;
	case DV_FILES: *v = (void **)&st->files; *n = &st->nfiles; *cap = &st->capfiles;
		*elsz = sizeof(*st->files); break;
	case DV_SCOPES: *v = (void **)&st->scopes; *n = &st->nscopes; *cap = &st->capscopes;
		*elsz = sizeof(*st->scopes); break;
	case DV_RANGES: *v = (void **)&st->ranges; *n = &st->nranges; *cap = &st->capranges;
		*elsz = sizeof(*st->ranges); break;
	case DV_TOPS: *v = (void **)&st->tops; *n = &st->ntops; *cap = &st->captops;
		*elsz = sizeof(*st->tops); break;
	default: *v = (void **)&st->strlog; *n = &st->nstrlog; *cap = &st->capstrlog;
		*elsz = sizeof(*st->strlog); break;
	}
}

/*
 * A lazy step's child: the vectors hold the parent's elements, then the
 * step's; the step sorts nothing (st->delta), so the parent's part is as
 * the parent has it, and only the appended part goes to the region.
 */
static void child_delta(struct region_hdr *h, struct symtab *st, symi_stage_fn *stage,
			void *arg)
{
	size_t base[DELTA_N];
	struct symi_objs none = { 0 };

	cur = h;
	symi_arena_seal(&st->arena);
	for (int i = 0; i < DELTA_N; i++) {
		void **v;
		size_t *n, *cap, elsz;

		delta_vec(st, i, &v, &n, &cap, &elsz);
		base[i] = *n;
	}
	st->delta = 1;
	h->r = stage(st, &none, arg, h->err, sizeof(h->err));
	h->arena_end = h->used;
	for (int i = 0; i < DELTA_N; i++) {
		void **v, *t;
		size_t *n, *cap, elsz;

		delta_vec(st, i, &v, &n, &cap, &elsz);
		t = (char *)*v + base[i] * elsz;
		h->ntail[i] = *n - base[i];
		if (to_region(&t, h->ntail[i], elsz))
			_exit(3);
		h->tail[i] = t;
	}
	if (h->full)
		_exit(3);
	h->st = *st;
	h->done = 1;
	_exit(0);
}

/* ---- the parent -------------------------------------------------------- */

/*
 * Record h's first keep bytes as one of st's regions (sym_close() unmaps
 * them) and give back the rest.  Shared memory outlives munmap() while a
 * part stays mapped, so the pages mapped ahead are removed first.  With no
 * room to record it, the region stays mapped (up to h->used) until exit.
 */
static void keep_region(struct symtab *st, struct region_hdr *h, size_t keep)
{
	struct symi_region *rg = symi_push((void **)&st->regions, &st->capregions,
					   st->nregions, sizeof(*rg));

	if (rg) {
		rg->p = h;
		rg->len = keep;
		st->nregions++;
	} else {
		st->oom = 1;
		keep = (h->used + 4095) & ~(size_t)4095;
	}
	if (h->len > keep) {
		madvise((char *)h + keep, h->len - keep, MADV_REMOVE);
		munmap((char *)h + keep, h->len - keep);
	}
}

/*
 * Take a lazy step's result: append the child's tails to this process's
 * vectors (the elements before them are this process's own), put its
 * strings in the set, take its arena (the new blocks in the region, linked
 * to ours), and sort.  The region keeps only the arena blocks.
 */
static int adopt_delta(struct symtab *st, struct region_hdr *h)
{
	size_t keep = (h->arena_end + 4095) & ~(size_t)4095;
	int r = h->r;

	for (int i = 0; i < DELTA_N && !st->oom; i++) {
		void **v;
		size_t *n, *cap, elsz;

		delta_vec(st, i, &v, &n, &cap, &elsz);
		if (!h->ntail[i])
			continue;
		if (!symi_push(v, cap, *n + h->ntail[i] - 1, elsz)) {
			st->oom = 1;
			break;
		}
		memcpy((char *)*v + *n * elsz, h->tail[i], h->ntail[i] * elsz);
		*n += h->ntail[i];
	}
	if (symi_strs_reserve(st, st->nstrlog) < 0)
		st->oom = 1;
	for (size_t i = 0; i < st->nstrlog && !st->oom; i++)
		if (symi_intern_ptr(st, st->strlog[i]) < 0)
			st->oom = 1;
	st->nstrlog = 0;
	st->arena = h->st.arena;
	st->oom |= h->st.oom;
	symi_finish_lines(st);
	symi_sort_tops(st);
	keep_region(st, h, keep);
	return r;
}


/*
 * Take over the child's index: its arena and its vectors stay where the
 * child wrote them, in the region (sym_close() frees only what is not
 * there, symi_vfree()); the parent's own vectors from before the fork go.
 */
static int adopt(struct symtab *st, struct symi_objs *objs, struct region_hdr *h)
{
	struct symtab old = *st;
	struct symi_objs oldobjs = *objs;

	*st = h->st;
	*objs = h->objs;
	st->path = old.path;
	st->debug_path = h->st.debug_path ? strdup(h->st.debug_path) : NULL;
	if (h->st.debug_path && !st->debug_path)
		st->oom = 1;
	free(old.debug_path);
	keep_region(st, h, (h->used + 4095) & ~(size_t)4095);
	st->capsegs = st->nsegs;
	st->capfns = st->nfns;
	st->capvars = st->nvars;
	st->caplines = st->nlines;
	st->capfiles = st->nfiles;
	st->capscopes = st->nscopes;
	st->capranges = st->nranges;
	st->captops = st->ntops;
	objs->cap = objs->n;
	free(old.strs);
	free(old.segs);
	free(old.fns);
	free(old.vars);
	free(old.lines);
	free(old.files);
	free(old.scopes);
	free(old.ranges);
	free(old.tops);
	free(oldobjs.v);
	return h->r;
}

/* A shared mapping big enough for any index: address space, not memory
 * (pages are made as the child touches them).  NULL if none could be had. */
static struct region_hdr *region_new(void)
{
	for (size_t len = (size_t)64 << 30; len >= ((size_t)256 << 20); len /= 4) {
		struct region_hdr *h = mmap(NULL, len, PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (h == MAP_FAILED)
			continue;
		h->len = len;
		h->used = (sizeof(*h) + 15) & ~(size_t)15;
		return h;
	}
	return NULL;
}

int symi_guard_index(struct symtab *st, int fd, struct symi_objs *objs,
		     symi_stage_fn *stage, void *arg, char *err, size_t errlen)
{
	struct region_hdr *h;
	struct stat sb = { 0 };
	pid_t pid;
	int status;

	if (fstat(fd, &sb) == 0 && known_bad(&sb)) {
		st->dwarf_crashed = 1;
		snprintf(err, errlen, "libdwarf crashed on it before");
		return -1;
	}
	/* No region or no process to spare: index here, as before the guard. */
	if (!(h = region_new()))
		return stage(st, objs, arg, err, errlen);
	snprintf(h->stage, sizeof(h->stage), "%s", st->path);
	if ((pid = guard_fork()) < 0) {
		munmap(h, h->len);
		return stage(st, objs, arg, err, errlen);
	}
	if (pid == 0) {
		if (st->lazy)
			child_delta(h, st, stage, arg);
		child_index(h, st, objs, stage, arg);
	}
	status = reap(pid);
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && h->done) {
		int r;

		/* One call maps the child's pages here too. */
		madvise(h, (h->used + 4095) & ~(size_t)4095, MADV_POPULATE_WRITE);
		r = st->lazy ? adopt_delta(st, h) : adopt(st, objs, h);

		if (r < 0)
			snprintf(err, errlen, "%s", h->err);
		return r;
	}
	if (status != -1 && WIFSIGNALED(status)) {
		crashed(&sb, h->stage, WTERMSIG(status));
		st->dwarf_crashed = 1;
		snprintf(err, errlen, "libdwarf crashed on it");
	} else
		snprintf(err, errlen, "the indexing process failed (status %d)", status);
	munmap(h, h->len);
	return -1;
}

int symi_guard_check(const char *path, void (*fn)(void *), void *arg)
{
	struct stat sb = { 0 };
	pid_t pid;
	int status;

	if (stat(path, &sb) == 0 && known_bad(&sb))
		return -1;
	if ((pid = guard_fork()) < 0)
		return 0;	/* cannot check: trust the file, as before */
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	status = reap(pid);
	if (status != -1 && WIFSIGNALED(status)) {
		crashed(&sb, path, WTERMSIG(status));
		return -1;
	}
	return 0;
}
