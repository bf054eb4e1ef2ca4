/*
 * tracee — the engine's picture of the traced program (tracee.h): the thread
 * table, the processes, their memory and symbols, and how a new thread or
 * process is adopted.
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
#include "window_hw.h"

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

struct thread *thread_find(pid_t tid)
{
	for (struct thread *t = E.hash[(unsigned)tid % HASH_SIZE]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct thread *thread_new(struct proc *p, pid_t tid)
{
	struct thread *t = xcalloc(1, sizeof(*t));
	unsigned h = (unsigned)tid % HASH_SIZE;

	t->tid = tid;
	t->proc = p;
	for (int i = 0; i < HWBP_SLOTS; i++)
		t->perf_fd[i] = -1;
	t->code_site = -1;
	t->hnext = E.hash[h];
	E.hash[h] = t;
	p->nthreads++;
	E.nthreads++;
	ctr_inc(CTR_THREADS_SEEN);
	counters[CTR_THREADS_LIVE] = (uint64_t)E.nthreads;
	return t;
}

void thread_gone(struct thread *t)
{
	struct proc *p = t->proc;

	sampler_close(t, 0);
	duty_forget(t);
	duty_gone(t);
	for (struct scope **pp = &p->scopes; *pp;) {
		struct scope *sc = *pp;

		if (sc->tid == t->tid) {
			*pp = sc->next;
			free(sc);
		} else {
			pp = &sc->next;
		}
	}
	E.arm->forget(t);
	for (struct thread **pp = &E.hash[(unsigned)t->tid % HASH_SIZE]; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	}
	p->nthreads--;
	E.nthreads--;
	counters[CTR_THREADS_LIVE] = (uint64_t)E.nthreads;
	/* An interrupted thread that died instead of stopping owes no re-arm. */
	if (t->flags & TF_REARM) {
		p->rearm_pending--;
		t->flags &= ~TF_HELD;
		free(t);
		registry_release_held(p);
		return;
	}
	free(t);
}

void thread_resume(struct thread *t, int sig)
{
	if (!(t->flags & TF_STOPPED))
		return;
	t->flags &= ~TF_STOPPED;
	if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)sig) < 0 && errno != ESRCH)
		rw_debug("PTRACE_CONT %d: %s", t->tid, strerror(errno));
}

int proc_read(struct proc *p, uint64_t addr, void *buf, size_t len)
{
	if (p->memfd < 0 || addr > (uint64_t)LLONG_MAX)
		return -1;
	return pread(p->memfd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

int proc_write(struct proc *p, uint64_t addr, const void *buf, size_t len)
{
	if (p->memfd < 0 || addr > (uint64_t)LLONG_MAX)
		return -1;
	return pwrite(p->memfd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

struct proc *proc_new(pid_t pid)
{
	struct proc *p = xcalloc(1, sizeof(*p));

	p->pid = pid;
	p->memfd = -1;
	for (int i = 0; i < HWBP_SLOTS; i++)
		p->slot_watch[i] = -1;
	p->next = E.procs;
	E.procs = p;
	return p;
}

struct proc *proc_find(pid_t pid)
{
	for (struct proc *p = E.procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Drop the symbols and memory handle of p (exec replaced them, or p ended). */
void proc_unload(struct proc *p)
{
	while (p->scopes) {
		struct scope *sc = p->scopes;

		p->scopes = sc->next;
		free(sc);
	}
	marks_free(p->marks);
	p->marks = NULL;
	p->registry = 0;
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	if (p->as && E.o && E.o->coverage && p->pid == E.main_pid) {
		/* Coverage names its sites at exit, after the program is gone. */
		if (E.cov_as)
			as_close(E.cov_as);
		E.cov_as = p->as;
	} else if (p->as) {
		as_close(p->as);
	}
	p->as = NULL;
}

/* Keep the main program's watches and their hit counts for the exit. */
void proc_remember_watches(struct proc *p)
{
	if (p->pid != E.main_pid)
		return;
	for (int i = 0; i < p->nwatches; i++) {
		int j;

		for (j = 0; j < E.nseen; j++)
			if (!strcmp(E.seen[j].name, p->watches[i].t.name))
				break;
		if (j == E.nseen) {
			E.seen = xrealloc(E.seen, sizeof(*E.seen) * (size_t)(E.nseen + 1));
			snprintf(E.seen[j].name, sizeof(E.seen[j].name), "%s", p->watches[i].t.name);
			E.seen[j].hits = 0;
			E.nseen++;
		}
		E.seen[j].hits += p->watches[i].hits;
	}
}

void proc_free(struct proc *p)
{
	for (struct proc **pp = &E.procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	proc_remember_watches(p);
	proc_unload(p);
	code_free(p);
	uprobe_free(p);
	free(p->watches);
	free(p);
}

/*
 * Open what we need of p's current image: its memory (read-write when the
 * registry must be written, else read-only), its address space and the
 * executable's load bias and marks.  Returns 0, or -1 with the reason in
 * err when the executable cannot be indexed (memory may still be open).
 */
int proc_load(struct proc *p, char *err, size_t errlen)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", p->pid);
	p->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (p->memfd < 0)
		p->memfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
	p->as = as_open(p->pid, path, err, errlen);
	if (!p->as)
		return -1;
	as_exe(p->as, &p->exe_bias);
	p->marks = marks_load(path);
	return 0;
}

/* Arm t with its process's current layout if it does not carry it yet. */
void thread_arm(struct thread *t)
{
	char err[512];
	int rc;

	if (!t->proc->exec_seen || ((t->flags & TF_ARMED) && t->armed_gen == t->proc->gen))
		return;
	duty_forget(t);		/* new events start switched on */
	rc = E.arm->arm(t, err, sizeof(err));
	if (rc == -2)
		return;		/* exited meanwhile: its exit event follows */
	if (rc == 0 && (E.arm == &arm_perf || E.arm == &arm_ptrace))
		duty_armed(t);	/* its armed time is counted (and duty-cycled) */
	if (rc < 0) {
		rw_error("%s", err);
		/* The first thread of a run is fatal: nothing would be watched. */
		if (E.nthreads == 1)
			E.fatal = 1;
	}
}

/* A "Name:\tvalue" line of /proc/TID/status, as a number (base 10 or 16). */
long long proc_status_field(pid_t tid, const char *name, int base)
{
	char path[64], line[256];
	size_t n = strlen(name);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, base);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * --follow-fork: child is a copy of parent, so it inherits the same symbols
 * and the same watch layout at the same addresses (and the registry's
 * `active`, copied with the memory).  Its threads are armed at their first
 * stop like any new thread.
 */
static struct proc *proc_fork(struct proc *parent, pid_t child)
{
	struct proc *p = proc_new(child);
	char err[512];

	if (proc_load(p, err, sizeof(err)) < 0)
		rw_debug("forked process %d: %s", child, err);
	p->exec_seen = parent->exec_seen;
	p->registry = parent->registry;
	if (parent->nwatches) {
		p->watches = xcalloc((size_t)parent->nwatches, sizeof(*p->watches));
		memcpy(p->watches, parent->watches, sizeof(*p->watches) * (size_t)parent->nwatches);
	}
	p->nwatches = parent->nwatches;
	memcpy(p->slots, parent->slots, sizeof(p->slots));
	memcpy(p->slot_watch, parent->slot_watch, sizeof(p->slot_watch));
	p->slot_mask = parent->slot_mask;
	p->gen = 1;
	p->code = code_clone(parent->code);
	p->dl_brk = parent->dl_brk;
	return p;
}

/* A thread we do not know stopped: a new thread whose first stop won the race
 * with its creator's clone event, or (with --follow-fork) a new process. */
struct thread *thread_adopt(pid_t tid)
{
	pid_t tgid = (pid_t)proc_status_field(tid, "Tgid", 10);
	struct proc *p = proc_find(tgid);

	if (!p && E.o->follow_fork && tgid == tid) {
		struct proc *parent = proc_find((pid_t)proc_status_field(tid, "PPid", 10));

		if (parent)
			p = proc_fork(parent, tid);
	}
	if (!p && tgid == tid) {
		/* A child we do not follow: it must not meet our int3 bytes. */
		struct proc *parent = proc_find((pid_t)proc_status_field(tid, "PPid", 10));

		if (parent && (parent->code || parent->dl_brk))
			engine_clean_child(parent, tid);
	}
	if (!p) {
		rw_debug("stop of unknown thread %d (tgid %d): detaching", tid, tgid);
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return NULL;
	}
	return thread_new(p, tid);
}

/* Is sig pending for thread tid (its own queue or its process's)? */
int thread_sig_pending(pid_t tid, int sig)
{
	unsigned long long bit = 1ull << (sig - 1);
	long long own = proc_status_field(tid, "SigPnd", 16), shared = proc_status_field(tid, "ShdPnd", 16);

	return (own > 0 && (own & bit)) || (shared > 0 && (shared & bit));
}

int proc_signal_waiting(const struct thread *t)
{
	long long pnd = proc_status_field(t->tid, "SigPnd", 16), shd = proc_status_field(t->tid, "ShdPnd", 16);
	long long blk = proc_status_field(t->tid, "SigBlk", 16), cgt = proc_status_field(t->tid, "SigCgt", 16);
	unsigned long long ours = 1ull << (E.arm->trap_signal - 1);

	if (pnd < 0 || shd < 0 || blk < 0 || cgt < 0)
		return 0;
	return (((unsigned long long)(pnd | shd) & ~(unsigned long long)blk &
		 (unsigned long long)cgt) & ~ours) != 0;
}

int proc_hits_pending(struct proc *p, const struct thread *except)
{
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *t = E.hash[h]; t; t = t->hnext)
			if (t->proc == p && t != except && (thread_sig_pending(t->tid, E.arm->trap_signal) ||
			    (winhw_used() && thread_sig_pending(t->tid, ARM_PERF_SIGNAL))))
				return 1;
	return 0;
}
