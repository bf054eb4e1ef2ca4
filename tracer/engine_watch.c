/*
 * engine_watch — what gets watched besides -w: every variable
 * (--watch-all), or, with nothing named, samples of the program's own
 * accesses (DataCollider) and the names their bytes get.
 */
#include "engine_int.h"
#include "addrspace.h"
#include "arm.h"
#include "counters.h"
#include "coverage.h"
#include "duty.h"
#include "frontend.h"
#include "marks.h"
#include "probe.h"
#include "report.h"
#include "sampler.h"
#include "sites.h"
#include "symbols.h"
#include "trap.h"
#include "util.h"
#include "watchset.h"
#include "dynlink.h"
#include "watchexpr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * A program without DWARF still works: -w NAME falls back to the ELF symbol
 * table and frames to symbol+offset; say so once, when it matters.
 */
void engine_warn_no_dwarf(struct proc *p)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;
	char link[64], path[512], shown[512];
	ssize_t n;

	if (!exe || sym_has_dwarf(exe) || sym_dwarf_crashed(exe) || !E.o->nwatch)
		return;
	snprintf(link, sizeof(link), "/proc/%d/exe", p->pid);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	rw_escape(shown, sizeof(shown), n > 0 ? path : sym_path(exe));
	rw_warn("%s has no DWARF debug info: variables come from the ELF symbol table "
		"and reports show no source lines (build with -g)", shown);
}

/*
 * --watch-all: every variable `racewatch vars` lists, as one watch each.
 * Returns how many were added.
 */
int engine_watch_all(struct proc *p)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;
	struct sym_var *v = NULL;
	char err[512];
	size_t n = 0;
	int added = 0;

	if (!exe || sites_watchable(exe, &v, &n, err, sizeof(err)) < 0) {
		rw_warn("--watch-all: %s", exe ? err : "the executable could not be read");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct watch_target wt;

		memset(&wt, 0, sizeof(wt));
		wt.addr = v[i].addr + p->exe_bias;
		wt.len = v[i].size;
		wt.marked = v[i].type && sym_type_is_marked(v[i].type);
		snprintf(wt.name, sizeof(wt.name), "%s", v[i].name);
		if (watchset_add(p, &wt, v[i].name, err, sizeof(err)) >= 0)
			added++;
	}
	free(v);
	return added;
}

void engine_start_sampling(struct proc *p)
{
	struct thread *t = thread_find(p->pid);

	if (!probe_works(PROBE_INT3, NULL, 0)) {
		rw_note("nothing to watch: no -w given, the program registers no variable, and "
			"code breakpoints (needed to sample unnamed accesses) do not work here");
		return;
	}
	E.sampling = 1;
	E.arm = &arm_code;
	watchset_slotless = 1;
	if (t)
		ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)engine_trace_options());
}

/*
 * The static variable holding addr, in whichever object maps it: its name
 * (with " (libfoo.so)" for a library's) in out and its range, or -1.
 */
static int wanted_module(const char *path);

static int static_var_at(struct proc *p, uint64_t addr, char *out, size_t outlen,
			 uint64_t *lo, uint64_t *len)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL, *st = NULL;
	uint64_t bias = 0;
	const char *b;
	struct sym_var v;
	int i;

	/* The executable, and the objects --modules samples: never a lookup
	 * that would open (and index) every library for a heap address. */
	for (i = 0; p->as && i < as_module_count(p->as); i++) {
		st = i == 0 ? exe : NULL;
		if (i == 0)
			bias = p->exe_bias;
		else if (E.o->modules && as_module_path(p->as, i) && wanted_module(as_module_path(p->as, i)))
			st = as_module(p->as, i, &bias);
		if (st && addr >= bias && sym_static_at(st, addr - bias, &v) == 0 && v.kind == SYM_STATIC &&
		    v.size)
			break;
	}
	if (!p->as || i == as_module_count(p->as))
		return -1;
	*lo = v.addr + bias;
	*len = v.size;
	b = strrchr(sym_path(st), '/');
	if (st == exe)
		snprintf(out, outlen, "%s", v.name);
	else
		snprintf(out, outlen, "%s (%s)", v.name, b ? b + 1 : sym_path(st));
	return 0;
}

/*
 * code_sample_watch: the watch that names a sampled access's bytes, made on
 * demand.  A static variable by its DWARF name; anything else is "heap"
 * (reports give the address), so repeats on other objects by the same two
 * instructions are one race.
 */
int engine_sample_watch(struct proc *p, uint64_t ea, unsigned size, uint64_t pc,
			const uint8_t *insn, unsigned len)
{
	struct watch_target wt;
	char err[256];
	uint64_t bias = 0;

	for (int i = p->nwatches - 1; i >= 0; i--)
		if (p->watches[i].active && p->watches[i].t.addr <= ea &&
		    ea + size <= p->watches[i].t.addr + p->watches[i].t.len)
			return i;
	if (p->nwatches >= SAMPLE_WATCHES_MAX)
		return -1;
	memset(&wt, 0, sizeof(wt));
	if (static_var_at(p, ea, wt.name, sizeof(wt.name), &wt.addr, &wt.len) < 0) {
		/* What DWARF says the base pointer points to, at that pc. */
		struct symtab *st = p->as ? as_module_at(p->as, pc, &bias) : NULL;
		char what[128];
		int64_t disp;
		int reg;

		wt.addr = ea;
		wt.len = size;
		if (st && arch_mem_base(insn, len, &reg, &disp) == 0 &&
		    sym_name_through_ptr(st, pc - bias, reg, disp, size, what, sizeof(what)) == 0)
			snprintf(wt.name, sizeof(wt.name), "heap %s", what);
		else
			snprintf(wt.name, sizeof(wt.name), "heap");
	}
	return watchset_add(p, &wt, NULL, err, sizeof(err));
}

/* ---- -w across execs and dlopens ------------------------------------------ */

static void note_searched(struct proc *p)
{
	for (int i = 0; p->as && i < as_module_count(p->as); i++) {
		/* By name only: opening a library would index its DWARF. */
		const char *path = as_module_path(p->as, i), *b;
		char shown[600], exe[512], link[64], magic[4];
		ssize_t got;
		int fd;

		if (!path)
			continue;
		/* Objects only: the maps also show data files (ld.so.cache). */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		got = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;
		if (fd >= 0)
			close(fd);
		if (got != 4 || memcmp(magic, "\177ELF", 4))
			continue;
		if (i == 0) {
			/* The executable by its real name, not /proc/PID/exe. */
			snprintf(link, sizeof(link), "/proc/%d/exe", p->pid);
			got = readlink(link, exe, sizeof(exe) - 1);
			if (got > 0) {
				exe[got] = '\0';
				path = exe;
			}
		}
		b = strrchr(path, '/');
		rw_escape(shown, sizeof(shown), i == 0 || !b ? path : b + 1);
		/* Whole entries only: ", NAME," or at either end. */
		{
			size_t n = strlen(shown), len = strlen(E.searched);
			const char *f = E.searched;
			int have = 0;

			while ((f = strstr(f, shown))) {
				if ((f == E.searched || f[-1] == ' ') && (f[n] == ',' || f[n] == '\0')) {
					have = 1;
					break;
				}
				f += n;
			}
			if (!have && len + n + 3 < sizeof(E.searched))
				snprintf(E.searched + len, sizeof(E.searched) - len, "%s%s", len ? ", " : "", shown);
		}
	}
}

int engine_pending(void)
{
	int n = 0;

	for (int i = 0; E.wstate && i < E.o->nwatch; i++)
		n += E.wstate[i] == W_PENDING;
	return n;
}

static unsigned char *wnoted;	/* per -w: its "waiting" line was printed */

int engine_resolve(struct proc *p, struct thread *t, int first)
{
	char err[800], why[512];

	if (!E.wstate) {
		E.wstate = xcalloc((size_t)E.o->nwatch + 1, 1);
		E.wever = xcalloc((size_t)E.o->nwatch + 1, 1);
		wnoted = xcalloc((size_t)E.o->nwatch + 1, 1);
	}
	for (int i = 0; i < E.o->nwatch; i++) {
		const char *x = E.o->watch[i];
		struct watch_target wt;
		struct wexpr e;
		int rc;

		if (E.wstate[i] != W_PENDING)
			continue;
		if (wexpr_parse(x, &e, why, sizeof(why)) < 0 || wexpr_resolve(&e, p->as, &wt, why, sizeof(why)) < 0) {
			/*
			 * Not defined anywhere yet: a library or a later exec may.
			 * But a near miss of a name the program does define is a
			 * typo, said at once (the first exec: nothing has run).
			 */
			if (strstr(why, "unknown variable") && first && strstr(why, "did you mean")) {
				snprintf(err, sizeof(err), "-w %s: %s", x, why);
				goto bad;
			}
			if (strstr(why, "unknown variable")) {
				note_searched(p);
				if (p->pid == E.main_pid && !wnoted[i]) {
					const char *hint = strstr(why, " (did you mean");
					char shown[600];

					wnoted[i] = 1;
					rw_escape(shown, sizeof(shown), hint ? hint : "");
					rw_note("-w %s: not defined by the program or the objects loaded so "
						"far%s; waiting for a library or a later exec that defines it",
						x, shown);
				}
				continue;
			}
			snprintf(err, sizeof(err), "-w %s: %s", x, why);
			goto bad;
		}
		rc = watchset_add(p, &wt, x, why, sizeof(why));
		/* auto: more than the debug registers hold moves to code sites,
		 * while nothing is armed yet. */
		if (rc < 0 && first && E.auto_backend && E.arm != &arm_code &&
		    strstr(why, "hardware watchpoint") && probe_works(PROBE_INT3, NULL, 0)) {
			E.arm = E.o->code_via_uprobe ? &arm_uprobe : &arm_code;
			watchset_slotless = 1;
			if (t)
				ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)engine_trace_options());
			rw_note("backend code: the watch set needs more than the %d debug-register slots",
				HWBP_SLOTS);
			rc = watchset_add(p, &wt, x, why, sizeof(why));
		}
		if (rc < 0) {
			snprintf(err, sizeof(err), "-w %s: %s", x, why);
			goto bad;
		}
		E.wstate[i] = W_RESOLVED;
		E.wever[i] = 1;
		continue;
bad:
		if (first) {
			rw_error("%s", err);
			return -1;
		}
		if (p->pid == E.main_pid)
			rw_warn("%s; not watching it", err);
		E.wstate[i] = W_FAILED;
	}
	return 0;
}

void engine_report_never_defined(void)
{
	for (int i = 0; E.wever && i < E.o->nwatch; i++)
		if (!E.wever[i] && E.wstate[i] == W_PENDING)
			rw_error("-w %s: not found in %s", E.o->watch[i],
				 E.searched[0] ? E.searched : "the program");
}

void engine_clean_child(struct proc *parent, pid_t child)
{
	char path[64];
	int fd;

	if (parent->code)
		code_clean_child(parent, child);
	if (!parent->dl_brk)
		return;
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dynlink_unplant(parent, fd);
		close(fd);
	}
}

/* Does object path (a file name) match one of --modules' names? */
static int wanted_module(const char *path)
{
	const char *b = strrchr(path, '/'), *l = E.o->modules;

	b = b ? b + 1 : path;
	while (l && *l) {
		size_t n = strcspn(l, ",");

		if (n && !strncmp(b, l, n))
			return 1;
		l += n + (l[n] == ',');
	}
	return 0;
}

void engine_sample_modules(struct proc *p, struct thread *t)
{
	char err[512];

	if (!E.sampling || !E.o->modules || !p->as)
		return;
	for (int i = 1; i < as_module_count(p->as); i++) {
		uint64_t bias = 0;
		const char *mp = as_module_path(p->as, i);
		struct symtab *st = mp && wanted_module(mp) ? as_module(p->as, i, &bias) : NULL;
		const char *path = st ? sym_path(st) : NULL;
		size_t len = strlen(E.sampled_mods);

		if (!path || strstr(E.sampled_mods, path))
			continue;
		if (code_sample_module(t, path, bias, 0, err, sizeof(err)) < 0) {
			rw_warn("--modules: %s", err);
			continue;
		}
		snprintf(E.sampled_mods + len, sizeof(E.sampled_mods) - len, "%s%s", len ? "\n" : "", path);
		rw_note("sampling %s too (%llu candidate instructions in all)", strrchr(path, '/') ?
			strrchr(path, '/') + 1 : path, (unsigned long long)counters[CTR_SITES]);
	}
}
