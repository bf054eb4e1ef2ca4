/*
 * The code backend through perf uprobe events (--code-via uprobe): the same
 * sites as arm_code.c, but the kernel plants and executes the breakpoints.
 *
 * One event per (thread, site), opened at the thread's first stop (an
 * inherited uprobe event makes the kernel re-read the path pointer in the
 * child at clone, which fails), sample_period 1, hits delivered as the
 * event's fasync signal (SIGURG, owned by the thread) like the perf
 * backend's.  The signal arrives after the kernel has single-stepped the
 * displaced instruction, so the thread stops right after the access, as
 * with a data breakpoint.  What this buys: the events die with our file
 * descriptors, so a SIGKILLed racewatch leaves nothing in the program.
 * What it costs (racewatch probe and bench/ measure it): a slower hit, and
 * opening and closing a uprobe takes the kernel milliseconds, so threads
 * that come and go are slow; closes happen on a helper thread so the event
 * loop never waits for them.  LOCK-prefixed instructions cannot take a
 * uprobe (the kernel refuses them); they are reported and not watched.
 */
#include "arm.h"
#include "addrspace.h"
#include "counters.h"
#include "options.h"
#include "sites.h"
#include "symbols.h"
#include "trap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <unistd.h>

#ifndef POLL_IN
#define POLL_IN 1
#endif

struct usite {
	uint64_t pc;		/* run-time */
	uint64_t offset;	/* in its file, for the event */
	const char *path;	/* its file (owned by the set) */
	struct site s;
	int watch;
	int dead;		/* the kernel refused it */
};

struct usiteset {
	struct usite *v;
	size_t n;
	char **paths;
	int npaths;
};

static int pmu_type = -2;
static const struct options *uopts;

void uprobe_set_options(const struct options *o)
{
	uopts = o;
}

static int uprobe_pmu(void)
{
	FILE *f;

	if (pmu_type != -2)
		return pmu_type;
	pmu_type = -1;
	f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	if (f) {
		if (fscanf(f, "%d", &pmu_type) != 1)
			pmu_type = -1;
		fclose(f);
	}
	return pmu_type;
}

/* ---- closing on the side: a uprobe's close takes the kernel ~0.1 s ------ */

static int close_pipe[2] = { -1, -1 };

static void *closer(void *arg)
{
	int fd;

	(void)arg;
	while (read(close_pipe[0], &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	return NULL;
}

static void close_later(int fd)
{
	static int started;
	pthread_t th;

	if (!started) {
		started = 1;
		if (pipe2(close_pipe, O_CLOEXEC) == 0 && pthread_create(&th, NULL, closer, NULL) == 0)
			pthread_detach(th);
	}
	if (close_pipe[1] < 0 || write(close_pipe[1], &fd, sizeof(fd)) != sizeof(fd))
		close(fd);
}

/* ---- the sites -------------------------------------------------------------- */

static const char *intern(struct usiteset *us, const char *path)
{
	for (int i = 0; i < us->npaths; i++)
		if (!strcmp(us->paths[i], path))
			return us->paths[i];
	us->paths = xrealloc(us->paths, sizeof(*us->paths) * (size_t)(us->npaths + 1));
	return us->paths[us->npaths++] = xstrdup(path);
}

/* File offset of link-time address a in st, or (uint64_t)-1. */
static uint64_t file_offset(const struct symtab *st, uint64_t a)
{
	const struct sym_segment *seg;
	size_t n = sym_segments(st, &seg);

	for (size_t i = 0; i < n; i++)
		if (a >= seg[i].vaddr && a < seg[i].vaddr + seg[i].filesz)
			return a - seg[i].vaddr + seg[i].offset;
	return (uint64_t)-1;
}

void uprobe_free(struct proc *p)
{
	struct usiteset *us = p->up;

	if (!us)
		return;
	for (int i = 0; i < us->npaths; i++)
		free(us->paths[i]);
	free(us->paths);
	free(us->v);
	free(us);
	p->up = NULL;
}

int uprobe_add(struct proc *p, int from, char *err, size_t errlen)
{
	struct usiteset *us;
	int atomics = 0;

	if (uprobe_pmu() < 0) {
		snprintf(err, errlen, "--code-via uprobe: this kernel has no uprobe PMU "
			 "(/sys/bus/event_source/devices/uprobe)");
		return -1;
	}
	if (!p->up)
		p->up = xcalloc(1, sizeof(*p->up));
	us = p->up;
	for (int w = from; w < p->nwatches; w++) {
		uint64_t bias = 0;
		struct symtab *st;
		struct site_range r;
		struct site *s = NULL;
		size_t n = 0;
		const char *path;

		if (!p->watches[w].active || !p->as ||
		    !(st = as_module_at(p->as, p->watches[w].t.addr, &bias)))
			continue;
		path = intern(us, sym_path(st));
		r.addr = p->watches[w].t.addr - bias;
		r.len = p->watches[w].t.len;
		if (sites_find(path, &r, 1, 0, &s, &n, err, errlen) < 0)
			return -1;
		us->v = xrealloc(us->v, sizeof(*us->v) * (us->n + n + 1));
		for (size_t i = 0; i < n; i++) {
			struct usite *u;

			if (s[i].addr_taken || s[i].flow)
				continue;
			if (s[i].atomic) {
				atomics++;	/* the kernel refuses LOCK-prefixed probes */
				continue;
			}
			u = &us->v[us->n++];
			memset(u, 0, sizeof(*u));
			u->s = s[i];
			u->pc = s[i].pc + bias;
			u->offset = file_offset(st, s[i].pc);
			u->path = path;
			u->watch = w;
			if (u->offset == (uint64_t)-1)
				us->n--;
		}
		free(s);
	}
	if (atomics)
		rw_warn("--code-via uprobe: %d atomic (LOCK-prefixed) access site(s) cannot take a "
			"uprobe and are not watched (--code-via int3 watches them)", atomics);
	counters[CTR_SITES] = (uint64_t)us->n;
	return 0;
}

/* ---- per thread ---------------------------------------------------------------- */

static void close_all(struct thread *t)
{
	for (int i = 0; i < t->up_n; i++)
		if (t->up_fd[i] >= 0)
			close_later(t->up_fd[i]);
	free(t->up_fd);
	t->up_fd = NULL;
	t->up_n = 0;
	t->flags &= ~TF_ARMED;
}

static int open_site(struct thread *t, const struct usite *u)
{
	struct f_owner_ex owner = { F_OWNER_TID, t->tid };
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = (uint32_t)uprobe_pmu();
	a.size = sizeof(a);
	a.config1 = (uint64_t)(uintptr_t)u->path;
	a.config2 = u->offset;
	a.sample_period = 1;
	a.wakeup_events = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, ARM_PERF_SIGNAL) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static int uprobe_arm(struct thread *t, char *err, size_t errlen)
{
	struct usiteset *us = t->proc->up;

	if (!us || ((t->flags & TF_ARMED) && t->up_n == (int)us->n))
		return 0;
	t->up_fd = xrealloc(t->up_fd, sizeof(*t->up_fd) * (us->n + 1));
	for (size_t i = (size_t)t->up_n; i < us->n; i++) {
		int fd = us->v[i].dead ? -1 : open_site(t, &us->v[i]);

		if (fd == -ESRCH) {
			t->up_n = (int)i;
			return -2;
		}
		if (fd < 0 && !us->v[i].dead) {
			if (fd == -EACCES || fd == -EPERM) {
				snprintf(err, errlen, "--code-via uprobe: perf uprobe events need "
					 "CAP_PERFMON or CAP_SYS_ADMIN here (%s); use --code-via int3",
					 strerror(-fd));
				t->up_n = (int)i;
				return -1;
			}
			us->v[i].dead = 1;
			rw_debug("uprobe at 0x%llx refused: %s", (unsigned long long)us->v[i].pc,
				 strerror(-fd));
		}
		t->up_fd[i] = fd;
		ctr_inc(CTR_ARM_OPS);
	}
	t->up_n = (int)us->n;
	t->armed_gen = t->proc->gen;
	t->flags |= TF_ARMED;
	return 0;
}

static int site_of_fd(const struct thread *t, int fd)
{
	for (int i = 0; i < t->up_n; i++)
		if (t->up_fd[i] == fd && fd >= 0)
			return i;
	return -1;
}

static int uprobe_trap_slot(struct thread *t, const siginfo_t *si)
{
	if (si->si_signo != ARM_PERF_SIGNAL || si->si_code != POLL_IN)
		return TRAP_FOREIGN;
	return site_of_fd(t, si->si_fd) >= 0 ? 0 : TRAP_FOREIGN;
}

int uprobe_on_signal(struct thread *t, const siginfo_t *si, struct access *acc)
{
	struct usiteset *us = t->proc->up;
	struct user_regs_struct regs;
	struct access_insn insn;
	const struct usite *u;
	const struct watch *w;
	int i;

	if (!us || si->si_code != POLL_IN || (i = site_of_fd(t, si->si_fd)) < 0)
		return CODE_FOREIGN;
	u = &us->v[i];
	w = &t->proc->watches[u->watch];
	if (!w->active || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return CODE_STALE;
	/* After the access: decode the file's bytes (memory shows the probe). */
	if (regs.rip != u->pc + u->s.len ||
	    arch_find_access(u->s.bytes, u->s.len, u->pc, regs.rip, u->pc, w->t.addr, w->t.len,
			     &regs, &insn) < 0)
		return CODE_STALE;
	trap_fill(t, &regs, &insn, u->watch, w->t.addr, w->t.len, acc);
	return i;
}

/*
 * No site is switched off (a disabled uprobe still costs the kernel its
 * trap): only windows are budgeted, at what --overhead allows for a hit
 * plus a stall, in one bucket.
 */
static int uprobe_may_open(struct thread *t, int unit)
{
	static double tokens = 64;
	static uint64_t last;
	uint64_t now = now_ns();
	double rate;

	(void)unit;
	if (!uopts || !uopts->overhead_pct)
		return 1;
	rate = (double)uopts->overhead_pct / 100.0 * (t->proc->nthreads > 0 ? t->proc->nthreads : 1) /
	       (60e-6 + 0.75 * uopts->delay_us * 1e-6);
	tokens += last ? rate * (double)(now - last) / 1e9 : 0;
	tokens = tokens > 64 ? 64 : tokens;
	last = now;
	if (tokens < 1)
		return 0;
	tokens -= 1;
	return 1;
}

static int uprobe_on_stop(struct thread *t, int sig, struct access *acc, int *unit)
{
	siginfo_t si;
	int r;

	if (sig != ARM_PERF_SIGNAL || !t->proc->up || ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) < 0)
		return ARM_FOREIGN;
	r = uprobe_on_signal(t, &si, acc);
	if (r == CODE_FOREIGN)
		return ARM_FOREIGN;
	if (r == CODE_STALE) {
		ctr_inc(CTR_TRAPS_STALE);
		return ARM_CONSUMED;
	}
	*unit = r;
	return ARM_ACCESS;
}

const struct arm_backend arm_uprobe = {
	.name = "code (uprobe)",
	.trap_signal = ARM_PERF_SIGNAL,
	.arm = uprobe_arm,
	.disarm = close_all,
	.forget = close_all,
	.trap_slot = uprobe_trap_slot,
	.on_stop = uprobe_on_stop,
	.may_open = uprobe_may_open,
};
