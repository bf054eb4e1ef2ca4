#include "engine_int.h"
#include "addrspace.h"
#include "arm.h"
#include "counters.h"
#include "coverage.h"
#include "duty.h"
#include "dynlink.h"
#include "frontend.h"
#include "marks.h"
#include "policy.h"
#include "probe.h"
#include "report.h"
#include "sampler.h"
#include "sites.h"
#include "trap.h"
#include "util.h"
#include "watchset.h"
#include "window_hw.h"

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

/*
 * engine — the tracer's event loop and the events it dispatches: one loop,
 * readable in one screen (engine_loop); each event handler says how the
 * thread is resumed.  Threads and processes live in tracee.c, attach and
 * detach in attach.c, run-time registrations in registry.c.
 */
struct engine E;

/* ---- what the program registered (include/racewatch.h) ------------------ */

/* ---- events ------------------------------------------------------------- */

long engine_trace_options(void);

/*
 * Nothing named, nothing registered: sample the program's own accesses
 * (code sites, whatever backend watched variables would have used).
 */
#define SAMPLE_SITES 8
#define SAMPLE_WATCHES_MAX 4096

/*
 * The code backend plants its sites at the exec stop.  The thread is still
 * inside execve there (a register change would be undone by the syscall's
 * return), so it is first single-stepped into user mode.
 */
static int code_setup_at_exec(struct thread *t, int sampling)
{
	char err[512];
	int status;

	if (ptrace(PTRACE_SINGLESTEP, t->tid, NULL, NULL) < 0 ||
	    waitpid(t->tid, &status, __WALL) != t->tid || !WIFSTOPPED(status)) {
		rw_error("--backend code: cannot step process %d out of exec", t->proc->pid);
		return -1;
	}
	if (WSTOPSIG(status) != SIGTRAP && !((unsigned)status >> 16))
		t->pending_sig = WSTOPSIG(status);	/* the program's: delivered below */
	if ((sampling ? code_setup_sampling(t, SAMPLE_SITES, err, sizeof(err)) :
			code_setup(t, err, sizeof(err))) < 0) {
		rw_error("%s", err);
		return -1;
	}
	return 0;
}

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
	code_free(p);		/* and the sites: a new image */
	uprobe_free(p);
	p->dl_brk = 0;		/* and the dynamic linker */
	p->code_setup_due = 0;	/* planted below, for the new image */
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
	E.any_exec = 1;
	proc_remember_watches(p);
	watchset_clear(p);
	if (E.o->nwatch) {
		/* A new image: every -w is looked for again. */
		if (E.wstate)
			memset(E.wstate, W_PENDING, (size_t)E.o->nwatch);
		if (engine_resolve(p, t, first) < 0) {
			E.fatal = 1;
			return;
		}
		if (first && p->nwatches)
			engine_warn_no_dwarf(p);
		/* Some wait for a library: follow the dynamic linker. */
		if (engine_pending() && dynlink_plant(p) == 0 && !E.dl_used) {
			E.dl_used = 1;
			ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)engine_trace_options());
		}
	} else if (E.o->watch_all) {
		if (engine_watch_all(p) && first && p->pid == E.main_pid)
			rw_note("--watch-all: watching %d variables", p->nwatches);
	} else {
		registry_watch_registered(p);
	}
	if (first && p->pid == E.main_pid && !p->nwatches && !E.o->nwatch && !E.o->watch_all)
		engine_start_sampling(p);
	else if (first && p->pid == E.main_pid && !p->nwatches && !engine_pending())
		rw_note("nothing to watch: no variable resolved (see racewatch vars PROG)");
	E.auto_backend = 0;
	if (E.arm == &arm_code && (p->nwatches || E.sampling) &&
	    code_setup_at_exec(t, E.sampling) < 0 && first) {
		E.fatal = 1;
		return;
	}
	if (E.arm == &arm_uprobe && p->nwatches && uprobe_add(p, 0, err, sizeof(err)) < 0) {
		rw_error("%s", err);
		if (first) {
			E.fatal = 1;
			return;
		}
	}
	if (E.sampling && p->code)
		rw_note("no -w: sampling the program's own memory accesses (%llu candidate "
			"instructions, %d armed at a time%s)", (unsigned long long)counters[CTR_SITES],
			SAMPLE_SITES, winhw_available() ? "; windows watch the other threads with "
			"hardware breakpoints" : "");
	/* --modules: the libraries come later; follow the dynamic linker. */
	if (E.sampling && E.o->modules && dynlink_plant(p) == 0 && !E.dl_used) {
		E.dl_used = 1;
		ptrace(PTRACE_SETOPTIONS, t->tid, NULL, (void *)engine_trace_options());
	}
	registry_open(p);
	if (first && p->pid == E.main_pid)
		report_begin();	/* the run has started: report files may be replaced now */
	thread_arm(t);
	thread_resume(t, t->pending_sig);
	t->pending_sig = 0;
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
	w->met++;
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

/*
 * t stopped right after acc (a watchpoint trap in slot `unit`, or a code
 * site's hit, unit = the site): match it against open windows, report, and
 * either open a window (t stays stopped) or resume t.
 */
static void on_access(struct thread *t, struct access *acc, int unit)
{
	struct window *match[8];
	int n;

	t->proc->watches[acc->watch].hits++;
	coverage_site(t->proc->watches[acc->watch].t.name, acc);
	scopes_on_trap(t, acc);
	/* Back in mainline code after the handler: its window is over. */
	if (t->window && !sampler_in_handler(t->window, acc))
		sampler_close(t, 0);
	n = sampler_match(t->proc, acc, match, (int)ARRAY_SIZE(match));
	rw_debug("trap: thread %d %s %u bytes at 0x%llx pc 0x%llx (%s): %d window(s)", t->tid,
		 access_is_write(acc) ? "write" : "read", acc->size, (unsigned long long)acc->addr,
		 (unsigned long long)acc->pc, acc->insn, n);
	for (int i = 0; i < n; i++)
		judge_window(t, match[i], acc);
	/* A window's own watchpoint (unit -1): judged, never a window itself. */
	if (unit < 0) {
		thread_resume(t, 0);
		return;
	}
	/* The budget: never off what someone's window is listening on. */
	if (E.arm->after_hit)
		E.arm->after_hit(t, unit, acc->watch, sampler_watch_open(t->proc, acc->watch));
	if (n == 0 && !t->window && (!E.arm->may_open || E.arm->may_open(t, unit)) &&
	    sampler_want_at(t->proc, acc->pc)) {
		/* Others' watchpoints on first, then the snapshot: no write slips between. */
		if (E.arm->opening)
			E.arm->opening(t, unit, acc->watch);
		sampler_open(t, acc);	/* t stays stopped until the window closes */
		return;
	}
	thread_resume(t, 0);
}

/*
 * The dynamic linker mapped or unmapped objects (t stopped at its
 * rendezvous, the ret already emulated).  Watches whose object is gone are
 * dropped and wait again; pending ones are looked for in what is new and
 * armed now, before the new code runs.  t is resumed.
 */
static void on_dynlink(struct thread *t)
{
	struct proc *p = t->proc;
	int from = p->nwatches;
	char err[512];

	as_refresh(p->as);
	engine_sample_modules(p, t);
	for (int i = 0; i < p->nwatches && !E.sampling; i++) {
		struct watch *w = &p->watches[i];
		uint64_t bias;

		if (!w->active || as_module_at(p->as, w->t.addr, &bias))
			continue;
		rw_debug("%s: its object was unloaded", w->t.name);
		for (int k = 0; E.wstate && k < E.o->nwatch; k++)
			if (!strcmp(E.o->watch[k], w->expr))
				E.wstate[k] = W_PENDING;
		code_drop_watch(p, i);
		watchset_remove(p, w->t.addr);
	}
	if (engine_pending() && engine_resolve(p, t, 0) == 0 && p->nwatches > from) {
		if (E.arm == &arm_code) {
			if (code_add(t, from, err, sizeof(err)) < 0)
				rw_warn("%s", err);
		} else {
			if (E.arm == &arm_uprobe && uprobe_add(p, from, err, sizeof(err)) < 0)
				rw_warn("%s", err);
			proc_rearm_all(p);
		}
	}
	thread_resume(t, 0);
}

/* Signal-delivery stop: ours (a watchpoint trap) or the program's own. */
static void on_signal(struct thread *t, int sig)
{
	struct access acc;
	int unit = -1, verdict;

	if (sig == SIGTRAP && t->proc->dl_brk && dynlink_hit(t)) {
		on_dynlink(t);
		return;
	}
	/* Sampling: a window's watchpoint in another thread (window_hw.h);
	 * else the backend's own trap.  unit stays -1 for a window's. */
	verdict = sig == ARM_PERF_SIGNAL && winhw_used() ? winhw_on_stop(t, sig, &acc) : ARM_FOREIGN;
	if (verdict == ARM_FOREIGN)
		verdict = E.arm->on_stop(t, sig, &acc, &unit);
	switch (verdict) {
	case ARM_ACCESS:
		ctr_inc(CTR_TRAPS);
		on_access(t, &acc, unit);
		return;
	case ARM_CONSUMED:
		thread_resume(t, 0);
		return;
	default:
		break;
	}
	if (sig == REGISTRY_DOORBELL && t->proc->registry && registry_doorbell(t))
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

/*
 * A clone/fork/vfork event.  The child gets its record from its own first
 * stop (thread_adopt()), not from here: that stop may come before this event, and
 * the child may even have run, exited and been reaped by now -- a record
 * made here would then wait forever for a thread that is gone.
 */
static void on_clone(struct thread *t, int event)
{
	(void)event;
	thread_resume(t, 0);
}

void on_exit_status(pid_t tid, int status)
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

/*
 * Plant p's code sites (or its sample) through t, stopped in user mode.
 * A failure is fatal under attach: nothing would be watched.
 */
static void code_setup_now(struct thread *t)
{
	struct proc *p = t->proc;
	char err[512];

	p->code_setup_due = 0;
	if ((E.sampling ? code_setup_sampling(t, SAMPLE_SITES, err, sizeof(err)) :
			  code_setup(t, err, sizeof(err))) < 0) {
		rw_error("attach: %s", err);
		E.fatal = 1;
		return;
	}
	engine_sample_modules(p, t);	/* --modules: they are all mapped already */
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
	if (!t && !(t = thread_adopt(tid)))
		return;
	t->flags |= TF_STOPPED;
	thread_arm(t);	/* every stop of a thread that lacks the layout arms it */
	if (t->flags & TF_REARM) {
		t->flags &= ~TF_REARM;
		t->proc->rearm_pending--;
		registry_release_held(t->proc);
	}

	sig = WSTOPSIG(status);
	event = (unsigned)status >> 16;
	if (event != PTRACE_EVENT_STOP)
		t->flags &= ~TF_GROUP_STOP;	/* running again (SIGCONT) */
	/* attach: code sites wait for a stop in user mode (attach.c says why). */
	if (t->proc->code_setup_due && (event == 0 || (event == PTRACE_EVENT_STOP &&
	    sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)))
		code_setup_now(t);
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
	case PTRACE_EVENT_VFORK_DONE:
		/* The vfork child is done with our memory: its cleaning undone. */
		if (t->proc->code)
			code_replant_all(t->proc);
		if (t->proc->dl_brk)
			proc_write(t->proc, t->proc->dl_brk, "\xcc", 1);
		thread_resume(t, 0);
		break;
	default:
		thread_resume(t, 0);
		break;
	}
}

/* ---- the tracer's own signals ------------------------------------------- */

/*
 * Ctrl-Z (or SIGTTIN/SIGTTOU): the whole program must stop, then us, as
 * without the tracer.  The terminal sent the signal to the program too (it
 * shares our process group); its threads enter group-stop one by one
 * (on_event_stop parks them), and only when every one has do we stop
 * ourselves, so the shell sees the job stopped.  `fg` continues both.
 * Attached, the process is not ours to stop: we just get out of its way
 * (no window holds a thread) and stop.
 */
static void job_stop(const struct signalfd_siginfo *si)
{
	if (E.attached) {
		sampler_close_all();
		kill(getpid(), SIGSTOP);
		return;
	}
	if (si->ssi_code == SI_USER || si->ssi_code == SI_QUEUE)
		kill(E.main_pid, (int)si->ssi_signo);
	E.tstp_since = now_ns();
}

/* Called from the loop: has the program finished stopping?  Then stop. */
static void job_stop_check(void)
{
	struct proc *p = proc_find(E.main_pid);
	int all = p != NULL;

	if (!E.tstp_since)
		return;
	for (int h = 0; all && h < HASH_SIZE; h++)
		for (struct thread *t = E.hash[h]; t; t = t->hnext)
			if (t->proc == p && !(t->flags & TF_GROUP_STOP))
				all = 0;
	if (all) {
		E.tstp_since = 0;
		kill(getpid(), SIGSTOP);	/* until fg / SIGCONT */
	} else if (now_ns() - E.tstp_since > 2000000000ull) {
		E.tstp_since = 0;	/* the program chose not to stop */
	}
}

static void on_tracer_signal(const struct signalfd_siginfo *si)
{
	if (si->ssi_signo == SIGCHLD)
		return;
	if (si->ssi_signo == SIGTSTP || si->ssi_signo == SIGTTIN || si->ssi_signo == SIGTTOU) {
		job_stop(si);
		return;
	}
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
long engine_trace_options(void)
{
	long o = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;

	if (E.o->follow_fork)
		o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	/* Code sites are in memory a child copies: it must be cleaned or followed. */
	if (E.arm == &arm_code || E.dl_used)
		o |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE;
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
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)engine_trace_options()) < 0) {
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
	/* Job control: we stop only once the program has (on_tracer_signal). */
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
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

void engine_loop(void)
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

		/* Code sites: refill the budget and look at waitpid every 20 ms
		 * (a stop's SIGCHLD can be merged away under load). */
		if (E.arm == &arm_code) {
			for (struct proc *p = E.procs; p; p = p->next)
				code_tick(p);
			if (timeout < 0 || timeout > 20)
				timeout = 20;
		}
		job_stop_check();
		if (E.tstp_since && (timeout < 0 || timeout > 20))
			timeout = 20;

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

/* The front end is one more report sink: it takes the text sink's place. */
static int fe_race(const struct race *r)
{
	if (E.fe && E.fe->on_race)
		E.fe->on_race(r, 1);
	return 0;
}

static void fe_repeat(struct race *r)
{
	if (E.fe && E.fe->on_race)
		E.fe->on_race(r, 0);
}

static const struct report_sink fe_sink = {
	.name = "front end",
	.race = fe_race,
	.repeat = fe_repeat,
};

void engine_set_frontend(const struct frontend *fe)
{
	E.fe = fe;
	report_remove_sink(fe ? &report_sink_text : &fe_sink);
	report_add_sink(fe ? &fe_sink : &report_sink_text);
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

/* The -w expression behind the k-th pending entry of the list, or -1. */
static int pending_at(int k)
{
	for (int i = 0; E.wstate && i < E.o->nwatch; i++)
		if (E.wstate[i] == W_PENDING && k-- == 0)
			return i;
	return -1;
}

int engine_watch_count(void)
{
	struct proc *p = main_proc();

	return (p ? p->nwatches : 0) + engine_pending();
}

int engine_watch_get(int i, const char **expr, const char **name,
		     uint64_t *addr, uint64_t *len, int *active)
{
	struct proc *p = main_proc();
	int k;

	if (!p || i < 0)
		return -1;
	if (i >= p->nwatches) {
		/* Names waiting for a library or an exec that defines them. */
		if ((k = pending_at(i - p->nwatches)) < 0)
			return -1;
		*expr = E.o->watch[k];
		*name = "(waiting for its object)";
		*addr = 0;
		*len = 0;
		*active = 2;
		return 0;
	}
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
	proc_rearm_all(p);
	return 0;
}

int engine_watch_remove(int i)
{
	struct proc *p = main_proc();
	int k;

	if (p && i >= p->nwatches && (k = pending_at(i - p->nwatches)) >= 0) {
		E.wstate[k] = W_FAILED;	/* no longer wanted: stop waiting for it */
		return 0;
	}
	if (!p || i < 0 || i >= p->nwatches || !p->watches[i].active)
		return -1;
	if (E.paused)
		p->slot_mask = E.saved_mask;
	watchset_remove(p, p->watches[i].t.addr);
	if (E.paused) {
		E.saved_mask = p->slot_mask;
		p->slot_mask = 0;
	}
	proc_rearm_all(p);
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
	proc_rearm_all(p);
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
/*
 * Pick how accesses are seen, trusting only what the self-test saw
 * delivered (probe.h).  An explicit backend that does not deliver is an
 * error before anything runs.  0, or -1 after a one-line error.
 */
static int choose_backend(const struct options *o)
{
	static const struct { enum backend_kind kind; enum probe_mech mech;
			      const struct arm_backend *arm; const char *opt; } order[] = {
		{ BACKEND_PERF, PROBE_PERF, &arm_perf, "perf" },
		{ BACKEND_PTRACE, PROBE_DR, &arm_ptrace, "ptrace" },
		{ BACKEND_CODE, PROBE_INT3, &arm_code, "code" },
	};
	char why[ARRAY_SIZE(order)][256], all[900] = "";

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (o->backend != BACKEND_AUTO && o->backend != order[i].kind)
			continue;
		/* Every variable of a program never fits four debug registers. */
		if (o->watch_all && o->backend == BACKEND_AUTO && order[i].kind != BACKEND_CODE)
			continue;
		why[i][0] = '\0';
		if (o->backend == BACKEND_AUTO && order[i].kind != BACKEND_CODE &&
		    probe_works(order[i].mech, why[i], sizeof(why[i])) && probe_works(PROBE_INT3, NULL, 0)) {
			double us;

			if (duty_slots_too_dear(o, &us)) {
				if (order[i].kind == BACKEND_PERF)	/* said once; ptrace is as dear */
					rw_note("backend code: %d debug-register slot(s) would cost %.0f us per context "
						"switch here (racewatch probe); code sites cost nothing per "
						"switch (--backend perf to keep perf)",
						o->nwatch < HWBP_SLOTS ? o->nwatch : HWBP_SLOTS, us);
				continue;
			}
		}
		if (probe_works(order[i].mech, why[i], sizeof(why[i]))) {
			E.arm = order[i].arm;
			if (E.arm == &arm_code && o->code_via_uprobe) {
				if (!probe_works(PROBE_UPROBE, why[i], sizeof(why[i]))) {
					rw_error("--code-via uprobe: uprobe: %s; use --code-via int3", why[i]);
					return -1;
				}
				E.arm = &arm_uprobe;
			}
			watchset_slotless = E.arm == &arm_code || E.arm == &arm_uprobe;
			E.auto_backend = o->backend == BACKEND_AUTO;
			return 0;
		}
		if (o->backend != BACKEND_AUTO) {
			rw_error("--backend %s: %s: %s; use %s", order[i].opt, probe_mech_names[order[i].mech],
				 why[i], order[i].kind == BACKEND_CODE ? "--backend perf or ptrace" :
				 "--backend code (or auto)");
			return -1;
		}
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s: %s", i ? "; " : "",
			 probe_mech_names[order[i].mech], why[i]);
	}
	rw_error("no way to see memory accesses works on this machine (%s)", all);
	return -1;
}

int engine_init(const struct options *o)
{
	double switch_us;

	E.o = o;
	E.start_ns = now_ns();
	code_sample_watch = engine_sample_watch;
	if (o->watch_all && o->nwatch) {
		rw_error("--watch-all and -w: choose one (--watch-all already watches every variable)");
		return 2;
	}
	code_set_options(o);
	uprobe_set_options(o);
	if (choose_backend(o) < 0)
		return 2;
	rand_seed(o->seed ? o->seed : (now_ns() ^ ((uint64_t)getpid() << 32)));
	if (o->coverage)
		coverage_enable();
	if (watchset_check_syntax(o->watch, o->nwatch) < 0)
		return 2;
	report_summary.backend = E.arm->name;
	/* The armed-time budget needs the per-switch cost: measured here once
	 * per boot if need be, before the signals are ours (a forked child). */
	switch_us = E.arm == &arm_perf && o->overhead_pct && !rw_debug_flag("armed-always") ?
		    probe_switch_cost_us(1) : -1;
	raise_fd_limit();
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);	/* windows close on time */
	if (setup_signals() < 0 || sampler_init(o) < 0) {
		rw_error("cannot set up the event loop: %s", strerror(errno));
		return 2;
	}
	E.duty_fd = duty_init(o, E.arm == &arm_perf, E.arm == &arm_perf || E.arm == &arm_ptrace, switch_us);
	return 0;
}

/*
 * The end of every run, in the spirit of TSan's and valgrind's summaries:
 * what was watched, what was seen, and a warning for each watched variable
 * that no access ever reached.
 */
static void summary(void)
{
	uint64_t never = 0;

	/* The program never ran (the kernel refused to exec it): its error
	 * said everything; there is nothing to sum up. */
	if (!E.attached && !E.any_exec)
		return;
	engine_report_never_defined();
	for (int i = 0; i < E.nseen && !E.sampling; i++) {
		char name[200];

		if (E.seen[i].hits)
			continue;
		never++;
		rw_escape(name, sizeof(name), E.seen[i].name);
		if (!rw_quiet)	/* -q: the program's stderr as it would be */
			rw_warn("%s was watched but no access to it was seen%s", name,
				E.arm == &arm_code ? " (accesses through pointers are not seen by --backend code)" :
				" (if the program does touch it, see whether racewatch probe says traps are delivered)");
	}
	report_summary.watched = E.sampling ? 0 : E.nseen;
	report_summary.backend = E.sampling ? "code (sampling)" : E.arm->name;
	if (E.sampling && !counters[CTR_TRAPS])
		snprintf(report_summary.notice, sizeof(report_summary.notice),
			 "sampling: no sampled access was seen");
	else if (E.sampling)
		;
	else if (E.nseen && !counters[CTR_TRAPS])
		snprintf(report_summary.notice, sizeof(report_summary.notice),
			 "%d variable(s) watched with backend %s, but no access was seen: nothing "
			 "could be checked", E.nseen, E.arm->name);
	else if (never)
		snprintf(report_summary.notice, sizeof(report_summary.notice),
			 "%llu of %d watched variable(s) saw no access", (unsigned long long)never, E.nseen);
	rw_note("summary: %d race%s (%llu suppressed), %d watched, %llu traps, %llu windows, "
		"%llu threads, %.2f s; backend %s", report_count(), report_count() == 1 ? "" : "s",
		(unsigned long long)counters[CTR_SUPPRESSED], report_summary.watched,
		(unsigned long long)counters[CTR_TRAPS], (unsigned long long)counters[CTR_WINDOWS],
		(unsigned long long)counters[CTR_THREADS_SEEN], (double)(now_ns() - E.start_ns) / 1e9,
		report_summary.backend);
}

int engine_finish(void)
{
	if (E.fe && E.fe->finish)
		E.fe->finish();
	summary();
	if (!E.cov_as && main_proc())
		E.cov_as = main_proc()->as;	/* attach: the process is still there */
	coverage_print(stderr, E.cov_as);
	duty_flush();
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

	engine_loop();
	if (E.fatal) {
		if (E.fe && E.fe->finish)
			E.fe->finish();
		kill_launched();
		return 2;
	}
	if ((rc = engine_finish()) >= 0)
		return rc;
	if (!E.main_done)
		return 2;
	if (WIFSIGNALED(E.main_status))
		return 128 + WTERMSIG(E.main_status);
	return WEXITSTATUS(E.main_status);
}

