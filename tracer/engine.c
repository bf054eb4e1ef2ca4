#include "engine.h"
#include "addrspace.h"
#include "arm.h"
#include "counters.h"
#include "coverage.h"
#include "duty.h"
#include "frontend.h"
#include "marks.h"
#include "policy.h"
#include "report.h"
#include "sampler.h"
#include "trap.h"
#include "util.h"
#include "watchset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HASH_SIZE 1024

/*
 * The program's registry, as include/racewatch.h lays it out (x86-64:
 * unsigned long and pointers are 8 bytes).  Mirrored rather than included so
 * the tracer never depends on the target's header being the same build.
 */
#define REGISTRY_MAGIC		0x5241434557415443ul
#define REGISTRY_QUEUE		64
#define REGISTRY_DOORBELL	SIGURG
#define REGISTRY_OP_WATCH	1
#define REGISTRY_OP_UNWATCH	2

struct registry_request {
	uint64_t op, addr, len, name;
};

struct registry {
	uint64_t magic, active, lock, head, tail;
	struct registry_request req[REGISTRY_QUEUE];
};

static struct {
	const struct options *o;
	const struct arm_backend *arm;
	struct proc *procs;
	struct thread *hash[HASH_SIZE];
	int nthreads;		/* every traced thread of every process */
	pid_t main_pid;		/* the program we launched */
	int main_status;	/* its wait status, once it is gone */
	int main_done;
	int fatal;		/* set by a fatal error inside the loop */
	int attached;		/* attach, not run: detach at the end, never kill */
	int stop_requested;	/* attach: a signal told us to detach */
	const struct frontend *fe;	/* the TUI, or NULL */
	struct addrspace *cov_as;	/* kept to name coverage sites at exit */
	int paused;		/* engine_pause(1): every slot disarmed */
	int quit_asked;		/* engine_quit() calls so far */
	unsigned saved_mask;	/* the slots in use when pausing */
	uint64_t tick_ns;	/* when the front end was last ticked */
	uint64_t rate_ns, rate_traps, rate_windows;	/* for traps/s and the estimate */
	double traps_per_s, overhead_pct;
	int sigfd;
	int duty_fd;		/* the duty cycle's timer, -1 when off */
	sigset_t orig_mask;
} E;

/* ---- threads and processes -------------------------------------------- */

struct thread *thread_find(pid_t tid)
{
	for (struct thread *t = E.hash[(unsigned)tid % HASH_SIZE]; t; t = t->hnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

static struct thread *thread_new(struct proc *p, pid_t tid)
{
	struct thread *t = xcalloc(1, sizeof(*t));
	unsigned h = (unsigned)tid % HASH_SIZE;

	t->tid = tid;
	t->proc = p;
	for (int i = 0; i < HWBP_SLOTS; i++)
		t->perf_fd[i] = -1;
	t->hnext = E.hash[h];
	E.hash[h] = t;
	p->nthreads++;
	E.nthreads++;
	ctr_inc(CTR_THREADS_SEEN);
	counters[CTR_THREADS_LIVE] = (uint64_t)E.nthreads;
	return t;
}

/* t is gone (exited, killed, or replaced by exec): forget it. */
static void release_held(struct proc *p);

static void thread_gone(struct thread *t)
{
	struct proc *p = t->proc;

	sampler_close(t, 0);
	duty_forget(t);
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
		release_held(p);
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

static int proc_write(struct proc *p, uint64_t addr, const void *buf, size_t len)
{
	if (p->memfd < 0 || addr > (uint64_t)LLONG_MAX)
		return -1;
	return pwrite(p->memfd, buf, len, (off_t)addr) == (ssize_t)len ? 0 : -1;
}

static struct proc *proc_new(pid_t pid)
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

static struct proc *proc_find(pid_t pid)
{
	for (struct proc *p = E.procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Drop the symbols and memory handle of p (exec replaced them, or p ended). */
static void proc_unload(struct proc *p)
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

static void proc_free(struct proc *p)
{
	for (struct proc **pp = &E.procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	proc_unload(p);
	free(p->watches);
	free(p);
}

/*
 * Open what we need of p's current image: its memory (read-write when the
 * registry must be written, else read-only), its address space and the
 * executable's load bias and marks.  Returns 0, or -1 with the reason in
 * err when the executable cannot be indexed (memory may still be open).
 */
static int proc_load(struct proc *p, char *err, size_t errlen)
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
static void thread_arm(struct thread *t)
{
	char err[512];
	int rc;

	if (!t->proc->exec_seen || ((t->flags & TF_ARMED) && t->armed_gen == t->proc->gen))
		return;
	duty_forget(t);		/* new events start switched on */
	rc = E.arm->arm(t, err, sizeof(err));
	if (rc == -2)
		return;		/* exited meanwhile: its exit event follows */
	if (rc < 0) {
		rw_error("%s", err);
		/* The first thread of a run is fatal: nothing would be watched. */
		if (E.nthreads == 1)
			E.fatal = 1;
	}
}

/*
 * A program without DWARF still works: -w NAME falls back to the ELF symbol
 * table and frames to symbol+offset; say so once, when it matters.
 */
static void warn_no_dwarf(struct proc *p)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;
	char link[64], path[512], shown[512];
	ssize_t n;

	if (!exe || sym_has_dwarf(exe) || !E.o->nwatch)
		return;
	snprintf(link, sizeof(link), "/proc/%d/exe", p->pid);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	rw_escape(shown, sizeof(shown), n > 0 ? path : sym_path(exe));
	rw_warn("%s has no DWARF debug info: variables come from the ELF symbol table "
		"and reports show no source lines (build with -g)", shown);
}

/* ---- what the program registered (include/racewatch.h) ------------------ */

/* Without -w: watch every RACEWATCH_WATCH(var) of the executable. */
static void watch_registered(struct proc *p)
{
	char err[512];

	if (!p->marks || !p->as)
		return;
	for (int i = 0; i < p->marks->nnames; i++) {
		const char *name = p->marks->names[i];
		struct watch_target wt;
		struct wexpr e;

		if (wexpr_parse(name, &e, err, sizeof(err)) < 0 ||
		    wexpr_resolve(&e, p->as, &wt, err, sizeof(err)) < 0 ||
		    watchset_add(p, &wt, name, err, sizeof(err)) < 0)
			rw_warn("RACEWATCH_WATCH(%s): %s; not watching it", name, err);
	}
}

/*
 * Find racewatch_registry in the executable and tell the program we are
 * here (active = our pid), so racewatch_watch() starts ringing the doorbell.
 */
static void registry_open(struct proc *p)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;
	unsigned long magic = 0, me = (unsigned long)getpid();
	struct sym_var v;

	if (!exe || sym_find_var(exe, NULL, "racewatch_registry", &v) < 0 || v.kind != SYM_STATIC)
		return;
	if (proc_read(p, v.addr + p->exe_bias, &magic, sizeof(magic)) < 0 ||
	    magic != REGISTRY_MAGIC)
		return;
	if (proc_write(p, v.addr + p->exe_bias + offsetof(struct registry, active), &me, sizeof(me)) < 0) {
		rw_warn("cannot enable run-time registration in %d: %s", p->pid, strerror(errno));
		return;
	}
	p->registry = v.addr + p->exe_bias;
	rw_debug("registry of %d at 0x%llx", p->pid, (unsigned long long)p->registry);
}

/* Tell the program we are gone (detach): racewatch_watch() goes quiet. */
static void registry_close(struct proc *p)
{
	unsigned long zero = 0;

	if (p->registry)
		proc_write(p, p->registry + offsetof(struct registry, active), &zero, sizeof(zero));
	p->registry = 0;
}

/* Resume every thread held at a doorbell once no re-arm is outstanding. */
static void release_held(struct proc *p)
{
	if (p->rearm_pending > 0)
		return;
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *o = E.hash[h]; o; o = o->hnext)
			if (o->proc == p && (o->flags & TF_HELD)) {
				o->flags &= ~TF_HELD;
				thread_resume(o, 0);
			}
}

/*
 * The layout of p changed: give it to every thread.  Stopped threads and,
 * with perf, running ones take it at once; with ptrace a running thread is
 * interrupted and takes it at its next stop (dispatch arms every stop).
 */
static void rearm_all(struct proc *p)
{
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *o = E.hash[h]; o; o = o->hnext) {
			if (o->proc != p)
				continue;
			if ((o->flags & (TF_STOPPED | TF_WINDOW)) || E.arm == &arm_perf) {
				thread_arm(o);
			} else if (!(o->flags & TF_REARM) &&
				   ptrace(PTRACE_INTERRUPT, o->tid, NULL, NULL) == 0) {
				o->flags |= TF_REARM;
				p->rearm_pending++;
			}
		}
}

/*
 * t stopped on RACEWATCH_DOORBELL.  If requests are queued, take them all,
 * re-arm, and hold t until every thread carries the new layout, so nothing
 * after racewatch_watch() returns is missed.  Returns 0 if nothing was
 * queued: then the signal is the program's own.
 */
static int doorbell(struct thread *t)
{
	struct proc *p = t->proc;
	unsigned long head, tail;
	char err[512];

	if (proc_read(p, p->registry + offsetof(struct registry, head), &head, sizeof(head)) < 0 ||
	    proc_read(p, p->registry + offsetof(struct registry, tail), &tail, sizeof(tail)) < 0 ||
	    head == tail)
		return 0;
	for (; tail != head; tail++) {
		struct registry_request rq;
		struct watch_target wt;
		char name[128] = "";

		if (proc_read(p, p->registry + offsetof(struct registry, req) +
			      (tail % REGISTRY_QUEUE) * sizeof(rq), &rq, sizeof(rq)) < 0)
			break;
		if (rq.op == REGISTRY_OP_UNWATCH) {
			watchset_remove(p, rq.addr);
			continue;
		}
		if (rq.op != REGISTRY_OP_WATCH || rq.len == 0 || rq.len > 4096)
			continue;
		/* The name is the program's: read it bounded, show it escaped. */
		if (rq.name) {
			for (size_t i = 0; i < sizeof(name) - 1; i++)
				if (proc_read(p, rq.name + i, &name[i], 1) < 0 || !name[i])
					break;
			name[sizeof(name) - 1] = '\0';
		}
		memset(&wt, 0, sizeof(wt));
		wt.addr = rq.addr;
		wt.len = rq.len;
		if (name[0])
			rw_escape(wt.name, sizeof(wt.name), name);
		else
			snprintf(wt.name, sizeof(wt.name), "0x%llx:%llu", (unsigned long long)rq.addr,
				 (unsigned long long)rq.len);
		if (watchset_add(p, &wt, NULL, err, sizeof(err)) < 0)
			rw_warn("racewatch_watch(%s): %s; not watching it", wt.name, err);
	}
	proc_write(p, p->registry + offsetof(struct registry, tail), &tail, sizeof(tail));
	rearm_all(p);
	t->flags |= TF_HELD;
	release_held(p);
	return 1;
}

/* ---- events ------------------------------------------------------------- */

/* exec replaced the image of t's process: reload symbols, re-resolve, re-arm. */
static void on_exec(struct thread *t)
{
	struct proc *p = t->proc;
	unsigned long former = 0;
	char err[512];
	int first = !p->exec_seen;

	/* A non-leader thread that execs takes over the leader's tid. */
	ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &former);
	if ((pid_t)former != t->tid) {
		struct thread *old = thread_find((pid_t)former);

		if (old)
			thread_gone(old);
	}
	/* Every other thread died in the exec. */
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *o = E.hash[h], *n; o; o = n) {
			n = o->hnext;
			if (o->proc == p && o != t)
				thread_gone(o);
		}
	E.arm->forget(t);	/* exec removed our events / cleared the registers */
	trap_cache_flush();
	proc_unload(p);
	ctr_inc(CTR_EXECS);

	if (proc_load(p, err, sizeof(err)) < 0) {
		if (first && E.o->nwatch) {
			rw_error("%s", err);
			E.fatal = 1;
			return;
		}
		rw_debug("no symbols after exec: %s", err);
	}
	p->exec_seen = 1;
	watchset_clear(p);
	if (E.o->nwatch) {
		if (watchset_resolve(p, E.o->watch, E.o->nwatch, err, sizeof(err)) < 0) {
			if (first) {
				rw_error("%s", err);
				E.fatal = 1;
				return;
			}
			if (p->pid == E.main_pid)
				rw_warn("after exec: %s; not watching it in this image", err);
			else
				rw_debug("process %d after exec: %s", p->pid, err);
		} else if (first) {
			warn_no_dwarf(p);
		}
	} else {
		watch_registered(p);
	}
	registry_open(p);
	thread_arm(t);
	thread_resume(t, 0);
}

/*
 * first (in a window, or a scope's opening) and acc (just trapped) touched
 * the same bytes concurrently: ask the rules, report if they say so.
 * before/now are the bytes of first's range when its window opened and now
 * (vlen 0 when unknown).
 */
static void judge(struct proc *p, const struct access *first, const struct access *acc,
		  const uint8_t *before, const uint8_t *now, unsigned vlen)
{
	enum value_change vc = VALUE_UNKNOWN;
	const struct access *changer = NULL;
	enum verdict v;
	struct race r;

	ctr_inc(CTR_CONCURRENT);
	coverage_pair(p->watches[acc->watch].t.name, first, acc);
	/*
	 * Did the pair's write(s) change the value?  The window's snapshot
	 * tells for a write by the trapping thread; each write's own
	 * before/after (trap.c's shadow) tells for the rest.  One change is
	 * enough; "same" needs every write to be known unchanged.
	 */
	if (vlen && access_is_write(acc) && memcmp(now, before, vlen))
		vc = VALUE_CHANGED;
	else if ((access_is_write(acc) && acc->change == 1) || (access_is_write(first) && first->change == 1))
		vc = VALUE_CHANGED, changer = acc->change == 1 ? acc : first;
	else if ((!access_is_write(acc) || acc->change == 0) && (!access_is_write(first) || first->change == 0))
		vc = VALUE_SAME;

	v = policy_judge(first, acc, vc, E.o->strict, NULL);
	if (v == VERDICT_NONE) {
		ctr_inc(vc == VALUE_SAME ? CTR_UNCHANGED : CTR_NOT_RACES);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.kind = v == VERDICT_ASSERT ? RACE_ASSERT : RACE_DATA;
	r.pid = p->pid;
	r.a = *first;
	r.b = *acc;
	snprintf(r.var, sizeof(r.var), "%s", p->watches[acc->watch].t.name);
	if (vc == VALUE_CHANGED && !changer && vlen <= 8) {
		r.value_known = 1;
		r.vsize = vlen;
		r.old_val = sampler_value(before, vlen);
		r.new_val = sampler_value(now, vlen);
	} else if (changer) {
		r.value_known = 1;
		r.vsize = changer->size < 8 ? changer->size : 8;
		r.old_val = changer->old_val;
		r.new_val = changer->new_val;
	}
	report_submit(&r, p->as);
}

static void judge_window(struct thread *t, struct window *w, const struct access *acc)
{
	uint8_t now[sizeof(w->before)];
	unsigned vlen = w->vlen;

	/* Both threads are stopped: what the later access found is still there. */
	if (vlen && proc_read(t->proc, w->acc.addr, now, vlen) < 0)
		vlen = 0;
	if (access_is_write(acc))
		w->explained = 1;
	judge(t->proc, &w->acc, acc, w->before, now, vlen);
}

/*
 * Scoped assertions: an opening pushes a scope for its thread, a closing
 * pops it (and takes the scope's kind); any access by another thread while
 * a scope is in force is checked against it.
 */
static void scopes_on_trap(struct thread *t, struct access *acc)
{
	struct proc *p = t->proc;

	if (acc->site == RWMARK_SCOPE_ACCESS || acc->site == RWMARK_SCOPE_WRITER) {
		struct scope *sc = xcalloc(1, sizeof(*sc));

		sc->tid = t->tid;
		sc->acc = *acc;
		sc->acc.stopped = 0;	/* the thread runs on inside its scope */
		sc->next = p->scopes;
		p->scopes = sc;
		return;
	}
	if (acc->site == RWMARK_SCOPE_END) {
		for (struct scope **pp = &p->scopes; *pp; pp = &(*pp)->next) {
			struct scope *sc = *pp;

			if (sc->tid == t->tid && range_overlap(sc->acc.addr, sc->acc.size, acc->addr, acc->size)) {
				acc->mark = sc->acc.mark;
				*pp = sc->next;
				free(sc);
				break;
			}
		}
	}
	for (struct scope *sc = p->scopes; sc; sc = sc->next)
		if (sc->tid != t->tid && range_overlap(sc->acc.addr, sc->acc.size, acc->addr, acc->size))
			judge(p, &sc->acc, acc, NULL, NULL, 0);
}

/* t stopped on one of our watchpoints, in slot. */
static void on_trap(struct thread *t, int slot)
{
	struct window *match[8];
	struct access acc;
	int n;

	ctr_inc(CTR_TRAPS);
	if (trap_decode(t, slot, &acc) < 0) {
		ctr_inc(CTR_TRAPS_STALE);
		thread_resume(t, 0);
		return;
	}
	coverage_site(t->proc->watches[acc.watch].t.name, &acc);
	scopes_on_trap(t, &acc);
	/* Back in mainline code after the handler: its window is over. */
	if (t->window && !sampler_in_handler(t->window, &acc))
		sampler_close(t, 0);
	n = sampler_match(t->proc, &acc, match, (int)ARRAY_SIZE(match));
	rw_debug("trap: thread %d %s %u bytes at 0x%llx pc 0x%llx (%s): %d window(s)", t->tid,
		 access_is_write(&acc) ? "write" : "read", acc.size, (unsigned long long)acc.addr,
		 (unsigned long long)acc.pc, acc.insn, n);
	for (int i = 0; i < n; i++)
		judge_window(t, match[i], &acc);
	/* Never switch off a slot someone's window is listening on. */
	if (!sampler_watch_open(t->proc, acc.watch))
		duty_after_trap(t, slot);
	if (n == 0 && !t->window && sampler_want(t->proc)) {
		/* Others' events on first, then the snapshot: no write slips between. */
		duty_force_on(t->proc, acc.watch, t);
		sampler_open(t, &acc);	/* t stays stopped until the window closes */
		return;
	}
	thread_resume(t, 0);
}

/* Signal-delivery stop: ours (a watchpoint trap) or the program's own. */
static void on_signal(struct thread *t, int sig)
{
	siginfo_t si;
	int slot;

	if (sig == E.arm->trap_signal && ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0) {
		slot = E.arm->trap_slot(t, &si);
		if (slot >= 0) {
			on_trap(t, slot);
			return;
		}
		if (slot == TRAP_STALE) {
			ctr_inc(CTR_TRAPS_STALE);
			thread_resume(t, 0);
			return;
		}
	}
	if (sig == REGISTRY_DOORBELL && t->proc->registry && doorbell(t))
		return;		/* ours: swallowed; t resumes once all threads are re-armed */
	ctr_inc(sig == SIGTRAP ? CTR_FOREIGN_SIGTRAPS : CTR_SIGNALS_PASSED);
	thread_resume(t, sig);	/* exactly what the program would have got */
}

/* PTRACE_EVENT_STOP: a group-stop, or a new thread's first stop. */
static void on_event_stop(struct thread *t, int sig)
{
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		/* Group-stop: stay stopped as the program would, but keep reporting. */
		t->flags |= TF_GROUP_STOP;
		t->flags &= ~TF_STOPPED;
		ptrace(PTRACE_LISTEN, t->tid, NULL, NULL);
		return;
	}
	t->flags &= ~TF_GROUP_STOP;
	thread_resume(t, 0);
}

/* A "Name:\tvalue" line of /proc/TID/status, as a number (base 10 or 16). */
static long long status_field(pid_t tid, const char *name, int base)
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
	return p;
}

/* A thread we do not know stopped: a new thread whose first stop won the race
 * with its creator's clone event, or (with --follow-fork) a new process. */
static struct thread *adopt(pid_t tid)
{
	pid_t tgid = (pid_t)status_field(tid, "Tgid", 10);
	struct proc *p = proc_find(tgid);

	if (!p && E.o->follow_fork && tgid == tid) {
		struct proc *parent = proc_find((pid_t)status_field(tid, "PPid", 10));

		if (parent)
			p = proc_fork(parent, tid);
	}
	if (!p) {
		rw_debug("stop of unknown thread %d (tgid %d): detaching", tid, tgid);
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return NULL;
	}
	return thread_new(p, tid);
}

/*
 * A clone/fork/vfork event.  The child gets its record from its own first
 * stop (adopt()), not from here: that stop may come before this event, and
 * the child may even have run, exited and been reaped by now -- a record
 * made here would then wait forever for a thread that is gone.
 */
static void on_clone(struct thread *t, int event)
{
	(void)event;
	thread_resume(t, 0);
}

static void on_exit_status(pid_t tid, int status)
{
	struct thread *t = thread_find(tid);
	struct proc *p = t ? t->proc : NULL;

	if (tid == E.main_pid) {
		E.main_status = status;
		E.main_done = 1;
	}
	if (!t)
		return;
	thread_gone(t);
	if (p->nthreads == 0 && tid == p->pid)
		proc_free(p);
}

static void dispatch(pid_t tid, int status)
{
	struct thread *t;
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		on_exit_status(tid, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	t = thread_find(tid);
	if (!t && !(t = adopt(tid)))
		return;
	t->flags |= TF_STOPPED;
	thread_arm(t);	/* every stop of a thread that lacks the layout arms it */
	if (t->flags & TF_REARM) {
		t->flags &= ~TF_REARM;
		t->proc->rearm_pending--;
		release_held(t->proc);
	}

	sig = WSTOPSIG(status);
	event = (unsigned)status >> 16;
	switch (event) {
	case 0:
		on_signal(t, sig);
		break;
	case PTRACE_EVENT_STOP:
		on_event_stop(t, sig);
		break;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		on_clone(t, event);
		break;
	case PTRACE_EVENT_EXEC:
		on_exec(t);
		break;
	default:
		thread_resume(t, 0);
		break;
	}
}

/* ---- the tracer's own signals ------------------------------------------- */

static void on_tracer_signal(const struct signalfd_siginfo *si)
{
	if (si->ssi_signo == SIGCHLD)
		return;
	if (E.attached) {
		/* Ctrl-C, kill, hangup: detach and leave the process running. */
		E.stop_requested = 1;
		return;
	}
	/*
	 * A signal the terminal sent (Ctrl-C, Ctrl-\, hangup) reached the
	 * program too, since it shares our process group: let it decide.  One
	 * sent to racewatch alone by kill(1) is passed on, as a transparent
	 * wrapper would.
	 */
	if (si->ssi_code == SI_USER || si->ssi_code == SI_QUEUE)
		kill(E.main_pid, (int)si->ssi_signo);
}

/* ---- launch ------------------------------------------------------------- */

/* What we ask ptrace to report: threads and exec always, forks on request. */
static long trace_options(void)
{
	long o = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;

	if (E.o->follow_fork)
		o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	return o;
}

/*
 * Find prog as execvp would (PATH unless it has a slash) and check that the
 * kernel can run it: an ELF file or a #! script.  execvp would hand anything
 * else to /bin/sh; we refuse it instead, since there is no program to watch.
 * Returns 0 with the path in out, or the exit status after a one-line error
 * (127 not found, 126 not runnable).
 */
static int find_program(const char *prog, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char magic[4];
	int seen = 0, fd;
	ssize_t n;

	if (strchr(prog, '/')) {
		snprintf(out, outlen, "%s", prog);
		if (access(out, F_OK) < 0) {
			rw_error("%s: %s", prog, strerror(errno));
			return 127;
		}
	} else {
		if (!path)
			path = "/usr/local/bin:/usr/bin:/bin";
		for (;;) {
			size_t len = strcspn(path, ":");
			struct stat st;

			snprintf(out, outlen, "%.*s/%s", (int)len, len ? path : ".", prog);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					break;
				seen = 1;
			}
			if (!path[len]) {
				rw_error("%s: %s", prog, seen ? "permission denied" : "command not found");
				return seen ? 126 : 127;
			}
			path += len + 1;
		}
	}
	if (access(out, X_OK) < 0) {
		rw_error("%s: %s", prog, strerror(errno));
		return 126;
	}
	fd = open(out, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		rw_error("%s: %s", prog, strerror(errno));
		return 126;
	}
	if (!(n == 4 && !memcmp(magic, "\177ELF", 4)) && !(n >= 2 && !memcmp(magic, "#!", 2))) {
		rw_error("%s: not an ELF executable or a #! script", prog);
		return 126;
	}
	return 0;
}

static pid_t launch(const char *path, char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		rw_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &E.orig_mask, NULL);
		if (E.fe && E.fe->child_setup)	/* hook: frontend.h */
			E.fe->child_setup();
		/* Wait for the tracer to seize us; exec is then the first event. */
		raise(SIGSTOP);
		execv(path, argv);
		fprintf(stderr, "racewatch: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (waitpid(pid, &status, WSTOPPED) != pid || !WIFSTOPPED(status)) {
		rw_error("the program did not start");
		return -1;
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)trace_options()) < 0) {
		int e = errno;

		rw_error("cannot trace the program: ptrace: %s%s", strerror(e),
			 e == EPERM ? " (needs CAP_SYS_PTRACE here, or a lower /proc/sys/kernel/yama/ptrace_scope)" : "");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	kill(pid, SIGCONT);
	return pid;
}

/* ---- the loop ----------------------------------------------------------- */

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &E.orig_mask) < 0)
		return -1;
	E.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return E.sigfd;
}

/* Give each thread as many perf fds as slots: lift the soft fd limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void drain_waits(void)
{
	int status;
	pid_t tid;

	while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
		dispatch(tid, status);
		if (E.fatal)
			return;
	}
}

/* The front end's tick: refresh the rates the status line shows, then draw. */
static void tick(void)
{
	uint64_t now = now_ns(), dt = now - E.rate_ns;

	if (dt >= 500000000ull) {
		double secs = (double)dt / 1e9;
		double traps = (double)(counters[CTR_TRAPS] - E.rate_traps) / secs;
		double windows = (double)(counters[CTR_WINDOWS] - E.rate_windows) / secs;
		/*
		 * Estimated slowdown: each trap costs a thread ~20 us (DESIGN.md
		 * section 9), each window stalls one for ~3/4 of --delay; spread
		 * over the program's threads.
		 */
		double busy = traps * 20e-6 + windows * 0.75 * E.o->delay_us * 1e-6;

		E.traps_per_s = traps;
		E.overhead_pct = 100.0 * busy / (E.nthreads > 0 ? E.nthreads : 1);
		E.rate_ns = now;
		E.rate_traps = counters[CTR_TRAPS];
		E.rate_windows = counters[CTR_WINDOWS];
	}
	E.tick_ns = now;
	if (E.fe && E.fe->tick)
		E.fe->tick();
}

static void loop(void)
{
	struct pollfd pfd[4] = {
		{ .fd = E.sigfd, .events = POLLIN },
		{ .fd = sampler_fd(), .events = POLLIN },
		{ .fd = E.fe ? E.fe->input_fd : -1, .events = POLLIN },
		{ .fd = E.duty_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;

	drain_waits();
	while (E.nthreads > 0 && !E.fatal && !E.stop_requested) {
		/* With a front end, wake at least every tick so the screen lives. */
		int timeout = E.fe && E.fe->tick_ms ? (int)E.fe->tick_ms : -1;

		if (poll(pfd, 4, timeout) < 0) {
			if (errno == EINTR)
				continue;
			rw_error("poll: %s", strerror(errno));
			E.fatal = 1;
			break;
		}
		while (read(E.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			on_tracer_signal(&si);
		/* Stops first: a trap already queued belongs inside the window. */
		drain_waits();
		if (pfd[1].revents & POLLIN)
			sampler_expire();	/* resumes the owners of expired windows */
		if (pfd[3].revents & POLLIN)
			duty_expire();		/* hot watchpoints back on; nobody stops */
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR) && E.fe->on_input)
			E.fe->on_input();
		if (pfd[2].revents & (POLLHUP | POLLERR | POLLNVAL))
			pfd[2].fd = -1;		/* the terminal is gone: stop polling it */
		if (E.fe && now_ns() - E.tick_ns >= (uint64_t)E.fe->tick_ms * 1000000ull)
			tick();
	}
}

/* ---- front end commands (frontend.h) -------------------------------------- */

static void fe_on_race(const struct race *r, int is_new)
{
	if (E.fe && E.fe->on_race)
		E.fe->on_race(r, is_new);
}

void engine_set_frontend(const struct frontend *fe)
{
	E.fe = fe;
	report_text_on = fe == NULL;
	report_listener = fe ? fe_on_race : NULL;
}

static struct proc *main_proc(void)
{
	return proc_find(E.main_pid);
}

void engine_status(struct engine_status *st)
{
	struct proc *p = main_proc();

	memset(st, 0, sizeof(*st));
	st->threads = E.nthreads;
	st->windows = p ? sampler_open_in(p) : 0;
	st->slots = (int)counters[CTR_SLOTS_ARMED];
	st->paused = E.paused;
	st->attached = E.attached;
	st->traps_per_s = E.traps_per_s;
	st->overhead_pct = E.overhead_pct;
	st->races = (uint64_t)report_count();
}

int engine_watch_count(void)
{
	struct proc *p = main_proc();

	return p ? p->nwatches : 0;
}

int engine_watch_get(int i, const char **expr, const char **name,
		     uint64_t *addr, uint64_t *len, int *active)
{
	struct proc *p = main_proc();

	if (!p || i < 0 || i >= p->nwatches)
		return -1;
	*expr = p->watches[i].expr[0] ? p->watches[i].expr : p->watches[i].t.name;
	*name = p->watches[i].t.name;
	*addr = p->watches[i].t.addr;
	*len = p->watches[i].t.len;
	*active = p->watches[i].active;
	return 0;
}

int engine_watch_add(const char *expr, char *err, size_t errlen)
{
	struct proc *p = main_proc();
	struct watch_target wt;
	char why[512];
	struct wexpr e;
	int i;

	if (!p || !p->as) {
		snprintf(err, errlen, "the program is not loaded yet");
		return -1;
	}
	if (wexpr_parse(expr, &e, why, sizeof(why)) < 0 ||
	    wexpr_resolve(&e, p->as, &wt, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", expr, why);
		return -1;
	}
	if (E.paused)
		p->slot_mask = E.saved_mask;
	i = watchset_add(p, &wt, expr, why, sizeof(why));
	if (E.paused) {
		E.saved_mask = p->slot_mask;
		p->slot_mask = 0;
	}
	if (i < 0) {
		snprintf(err, errlen, "%s: %s", expr, why);
		return -1;
	}
	rearm_all(p);
	return 0;
}

int engine_watch_remove(int i)
{
	struct proc *p = main_proc();

	if (!p || i < 0 || i >= p->nwatches || !p->watches[i].active)
		return -1;
	if (E.paused)
		p->slot_mask = E.saved_mask;
	watchset_remove(p, p->watches[i].t.addr);
	if (E.paused) {
		E.saved_mask = p->slot_mask;
		p->slot_mask = 0;
	}
	rearm_all(p);
	return 0;
}

void engine_pause(int on)
{
	struct proc *p = main_proc();

	if (!p || on == E.paused)
		return;
	E.paused = on;
	if (on) {
		sampler_close_all();	/* nobody stays stalled while paused */
		E.saved_mask = p->slot_mask;
		p->slot_mask = 0;
	} else {
		p->slot_mask = E.saved_mask;
	}
	p->gen++;
	rearm_all(p);
}

void engine_quit(void)
{
	if (E.attached)
		E.stop_requested = 1;
	else if (E.main_pid > 0)
		kill(E.main_pid, E.quit_asked++ ? SIGKILL : SIGTERM);	/* twice: no arguing */
}

/* Hook for front ends (frontend.h): how the traced program ended. */
int engine_program_status(int *wstatus)
{
	if (!E.main_done || E.fatal)
		return 0;
	*wstatus = E.main_status;
	return 1;
}

/* ---- detach ------------------------------------------------------------- */

/* Is sig pending for thread tid (its own queue or its process's)? */
static int sig_pending(pid_t tid, int sig)
{
	unsigned long long bit = 1ull << (sig - 1);
	long long own = status_field(tid, "SigPnd", 16), shared = status_field(tid, "ShdPnd", 16);

	return (own > 0 && (own & bit)) || (shared > 0 && (shared & bit));
}

int proc_signal_waiting(const struct thread *t)
{
	long long pnd = status_field(t->tid, "SigPnd", 16), shd = status_field(t->tid, "ShdPnd", 16);
	long long blk = status_field(t->tid, "SigBlk", 16), cgt = status_field(t->tid, "SigCgt", 16);
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
			if (t->proc == p && t != except && sig_pending(t->tid, E.arm->trap_signal))
				return 1;
	return 0;
}

/* Wait (up to a few seconds) for one stop or exit of tid; 0 if none came. */
static int wait_one(pid_t tid, int *status)
{
	for (int i = 0; i < 5000; i++) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);

		if (r == tid)
			return 1;
		if (r < 0)
			return 0;
		usleep(1000);
	}
	return 0;
}

/*
 * t is stopped.  A watchpoint trap of ours may still be queued for it (it
 * hit just before we stopped it): let it be dequeued now, while we still
 * recognise it, so it is not delivered to the program after we leave and
 * kill it.  Any other signal met on the way is kept for the detach.
 */
static void flush_our_traps(struct thread *t)
{
	for (int tries = 0; tries < 4 && sig_pending(t->tid, E.arm->trap_signal); tries++) {
		siginfo_t si;
		int status, sig;

		if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0 || !wait_one(t->tid, &status) ||
		    !WIFSTOPPED(status)) {
			t->flags &= ~TF_STOPPED;
			return;
		}
		sig = WSTOPSIG(status);
		if ((unsigned)status >> 16)
			continue;	/* an event stop: still stopped, look again */
		if (sig == E.arm->trap_signal && ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
		    E.arm->trap_slot(t, &si) != TRAP_FOREIGN)
			continue;	/* ours: swallowed */
		if (!t->pending_sig)
			t->pending_sig = sig;
	}
}

/*
 * Leave every traced process as we found it: each thread brought to a stop,
 * our queued traps swallowed, the watchpoints removed, the registry told we
 * are gone, the program's own signals handed back on PTRACE_DETACH.
 * Window owners are released with the rest.
 */
static void detach_all(void)
{
	int waiting = 0, status;
	pid_t tid;

	for (struct proc *p = E.procs; p; p = p->next)
		registry_close(p);
	sampler_drop_all();
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *t = E.hash[h]; t; t = t->hnext)
			if (!(t->flags & TF_STOPPED)) {
				ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
				waiting++;
			}
	/* Collect the stops; anything else that happens on the way is noted. */
	for (int i = 0; waiting > 0 && i < 5000;) {
		struct thread *t;
		int sig;

		tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid < 0)
			break;
		if (tid == 0) {
			usleep(1000);
			i++;
			continue;
		}
		t = thread_find(tid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (t && !(t->flags & TF_STOPPED))
				waiting--;
			on_exit_status(tid, status);
			continue;
		}
		if (!t) {
			/* A thread born while we were stopping the others. */
			if ((t = adopt(tid)))
				t->flags |= TF_STOPPED;
			continue;
		}
		if (!(t->flags & TF_STOPPED))
			waiting--;
		t->flags |= TF_STOPPED;
		sig = WSTOPSIG(status);
		if ((unsigned)status >> 16 == PTRACE_EVENT_STOP) {
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
				t->flags |= TF_GROUP_STOP;
		} else if (((unsigned)status >> 16) == 0) {
			siginfo_t si;

			if (sig == E.arm->trap_signal && ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
			    E.arm->trap_slot(t, &si) != TRAP_FOREIGN)
				continue;	/* our trap: swallowed */
			t->pending_sig = sig;	/* the program's: delivered on detach */
		}
	}
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *t = E.hash[h], *n; t; t = n) {
			n = t->hnext;
			if (!(t->flags & TF_STOPPED)) {
				rw_warn("thread %d did not stop; leaving it traced until we exit", t->tid);
				continue;
			}
			flush_our_traps(t);
			E.arm->disarm(t);
			ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->pending_sig);
			thread_gone(t);
		}
	while (E.procs)
		proc_free(E.procs);
}

/* Fatal error mid-run: the program we launched must not outlive us traced. */
static void kill_launched(void)
{
	int status;

	sampler_close_all();
	kill(E.main_pid, SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0)
		;
}

/* What run and attach share: signals, timer, limits, the random seed. */
static int engine_init(const struct options *o)
{
	E.o = o;
	E.arm = o->backend == BACKEND_PTRACE ? &arm_ptrace : &arm_perf;
	rand_seed(o->seed ? o->seed : (now_ns() ^ ((uint64_t)getpid() << 32)));
	if (o->coverage)
		coverage_enable();
	if (watchset_check_syntax(o->watch, o->nwatch) < 0)
		return 2;
	raise_fd_limit();
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);	/* windows close on time */
	if (setup_signals() < 0 || sampler_init(o) < 0) {
		rw_error("cannot set up the event loop: %s", strerror(errno));
		return 2;
	}
	E.duty_fd = duty_init(o, E.arm == &arm_perf);
	return 0;
}

static int finish(void)
{
	if (E.fe && E.fe->finish)
		E.fe->finish();
	if (!E.cov_as && main_proc())
		E.cov_as = main_proc()->as;	/* attach: the process is still there */
	coverage_print(stderr, E.cov_as);
	if (E.o->stats)
		counters_print(stderr);
	return report_count() > 0 ? E.o->exitcode : -1;
}

int engine_run(const struct options *o)
{
	char prog[PATH_MAX];
	int rc;

	if ((rc = engine_init(o)) != 0)
		return rc;
	if ((rc = find_program(o->argv[0], prog, sizeof(prog))) != 0)
		return rc;
	E.main_pid = launch(prog, o->argv);
	if (E.main_pid < 0)
		return 2;
	thread_new(proc_new(E.main_pid), E.main_pid);

	loop();
	if (E.fatal) {
		if (E.fe && E.fe->finish)
			E.fe->finish();
		kill_launched();
		return 2;
	}
	if ((rc = finish()) >= 0)
		return rc;
	if (!E.main_done)
		return 2;
	if (WIFSIGNALED(E.main_status))
		return 128 + WTERMSIG(E.main_status);
	return WEXITSTATUS(E.main_status);
}

/* Is pid something we can attach to?  0, or the exit status after the error. */
static int check_target(pid_t pid)
{
	char path[64], buf[512], *rp;
	ssize_t n;
	int fd;

	if (pid == getpid()) {
		rw_error("attach: %d is racewatch itself", pid);
		return 2;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rw_error("attach: no such process: %d", pid);
		return 2;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	rp = strrchr(buf, ')');
	if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X')) {
		rw_error("attach: process %d is a zombie: it has exited and only waits to be reaped", pid);
		return 2;
	}
	return 0;
}

/*
 * Seize every thread of pid, again and again until no new one shows up:
 * a thread started by one we had not seized yet is not auto-attached.
 */
static int seize_all(struct proc *p)
{
	char path[64];
	int added;

	snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d) {
			rw_error("attach: process %d is gone", p->pid);
			return -1;
		}
		added = 0;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);

			if (tid <= 0 || thread_find(tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)trace_options()) == 0) {
				thread_new(p, tid);
				added++;
				continue;
			}
			if (errno == ESRCH)
				continue;	/* exited meanwhile */
			if (errno == EPERM && status_field(tid, "TracerPid", 10) == getpid())
				continue;	/* auto-attached through a clone already */
			rw_error("attach: cannot trace process %d: %s%s", p->pid, strerror(errno),
				 errno == EPERM ? " (tracing another user's process needs CAP_SYS_PTRACE; "
				 "also check /proc/sys/kernel/yama/ptrace_scope, and whether a debugger "
				 "already traces it)" : "");
			closedir(d);
			return -1;
		}
		closedir(d);
	} while (added);
	return 0;
}

int engine_attach(const struct options *o)
{
	char err[512];
	struct proc *p;
	int rc;

	if ((rc = check_target(o->pid)) != 0)
		return rc;
	if ((rc = engine_init(o)) != 0)
		return rc;
	E.attached = 1;
	E.main_pid = o->pid;
	p = proc_new(o->pid);
	if (seize_all(p) < 0) {
		detach_all();
		return 2;
	}
	if (o->backend == BACKEND_PTRACE)
		rw_warn("--backend ptrace: the debug registers outlive racewatch; if racewatch is "
			"killed with SIGKILL, process %d dies of SIGTRAP at its next watched access "
			"(the default perf backend has no such risk)", o->pid);

	if (proc_load(p, err, sizeof(err)) < 0) {
		rw_error("attach: %s", err);
		detach_all();
		return 2;
	}
	p->exec_seen = 1;
	if (o->nwatch) {
		if (watchset_resolve(p, o->watch, o->nwatch, err, sizeof(err)) < 0) {
			rw_error("%s", err);
			detach_all();
			return 2;
		}
		warn_no_dwarf(p);
	} else {
		watch_registered(p);
	}
	registry_open(p);
	rearm_all(p);

	loop();
	detach_all();
	if (E.fatal) {
		if (E.fe && E.fe->finish)
			E.fe->finish();
		return 2;
	}
	rc = finish();
	return rc >= 0 ? rc : 0;
}
