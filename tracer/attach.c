/*
 * attach — `racewatch attach`: seize a running process, and leave it (or the
 * one we launched, on a fatal error) exactly as found: every thread stopped,
 * our queued hits swallowed, watchpoints and code bytes removed, detached.
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

/* t is in a signal-delivery stop for sig: is it a hit of ours (swallowed)? */
static int ours_at_detach(struct thread *t, int sig)
{
	siginfo_t si;

	if (sig == SIGTRAP && t->proc->code)
		return code_swallow(t);
	if (winhw_ours(t, sig))
		return 1;	/* a window's watchpoint, queued before it closed */
	return sig == E.arm->trap_signal && ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) == 0 &&
	       E.arm->trap_slot(t, &si) != TRAP_FOREIGN;
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
	for (int tries = 0; tries < 4 && (thread_sig_pending(t->tid, E.arm->trap_signal) ||
	     (winhw_used() && thread_sig_pending(t->tid, ARM_PERF_SIGNAL))); tries++) {
		int status, sig;

		if (ptrace(PTRACE_CONT, t->tid, NULL, NULL) < 0 || !wait_one(t->tid, &status) ||
		    !WIFSTOPPED(status)) {
			t->flags &= ~TF_STOPPED;
			return;
		}
		sig = WSTOPSIG(status);
		if ((unsigned)status >> 16)
			continue;	/* an event stop: still stopped, look again */
		if (ours_at_detach(t, sig))
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
void engine_detach_all(void)
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
			if ((t = thread_adopt(tid)))
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
			if (ours_at_detach(t, sig))
				continue;	/* our trap: swallowed */
			t->pending_sig = sig;	/* the program's: delivered on detach */
		}
	}
	/* Code sites: every thread out of the scratch page, every byte back. */
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *t = E.hash[h]; t; t = t->hnext)
			if ((t->flags & TF_STOPPED) && t->proc->code) {
				flush_our_traps(t);
				code_detach_thread(t);
			}
	for (struct proc *p = E.procs; p; p = p->next)
		code_leave(p);
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
	/* Field 9, the flags: PF_KTHREAD (0x00200000) marks a kernel thread. */
	if (rp) {
		unsigned long flags = 0;
		char state;
		int ppid, pgrp, session, tty, tpgid;

		if (sscanf(rp + 2, "%c %d %d %d %d %d %lu", &state, &ppid, &pgrp, &session, &tty,
			   &tpgid, &flags) == 7 && (flags & 0x00200000ul)) {
			rw_error("attach: %d is a kernel thread: it has no user-space memory to watch", pid);
			return 2;
		}
	}
	{
		long long tracer = proc_status_field(pid, "TracerPid", 10);

		if (tracer > 0) {
			char comm[64] = "?";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%lld/comm", tracer);
			if ((f = fopen(path, "r"))) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			rw_escape(buf, sizeof(buf), comm);
			rw_error("attach: process %d is already traced by %lld (%s): a process has only "
				 "one tracer; detach that one first", pid, tracer, buf);
			return 2;
		}
	}
	return 0;
}

/* Has pid gone (exited, or only a zombie left) since we looked? */
static int target_gone(pid_t pid)
{
	char path[64], buf[512], *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
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
			rw_error("attach: process %d exited while racewatch attached to it", p->pid);
			return -1;
		}
		added = 0;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);

			if (tid <= 0 || thread_find(tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)engine_trace_options()) == 0) {
				thread_new(p, tid);
				added++;
				continue;
			}
			if (errno == ESRCH)
				continue;	/* exited meanwhile */
			if (errno == EPERM && proc_status_field(tid, "TracerPid", 10) == getpid())
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

/* Plant the code sites through the main thread, stopped for the purpose. */
/*
 * Code sites are planted through a thread of the process, which must be
 * stopped in user mode: not inside a system call, where a fork, clone or
 * vfork event stop may catch it (borrowing it there would change what the
 * call returns, and a vfork parent waits for a child only our loop can
 * release).  So attach only asks: the main thread is interrupted, and the
 * first stop of any thread of the process where it is safe (an interrupt
 * stop or a signal-delivery stop) plants them (engine_code_setup_due).
 */
static int attach_code_setup(struct proc *p)
{
	if (ptrace(PTRACE_INTERRUPT, p->pid, NULL, NULL) < 0) {
		rw_error("attach: cannot stop thread %d to plant code sites: %s", p->pid, strerror(errno));
		return -1;
	}
	p->code_setup_due = 1;
	return 0;
}

/* "attached to PID (N threads), watching a, b" */
static void attach_note(struct proc *p)
{
	char list[600] = "";
	size_t n = 0;

	for (int i = 0; i < p->nwatches && n < sizeof(list) - 1; i++) {
		char name[200];

		rw_escape(name, sizeof(name), p->watches[i].t.name);
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", name);
		if (n >= sizeof(list))
			n = sizeof(list) - 1;
	}
	if (E.sampling) {
		rw_note("attached to %d (%d thread%s), no -w: sampling the program's own memory "
			"accesses (%d armed at a time)", p->pid, p->nthreads,
			p->nthreads == 1 ? "" : "s", SAMPLE_SITES);
		return;
	}
	rw_note("attached to %d (%d thread%s), %s%s; backend %s", p->pid, p->nthreads,
		p->nthreads == 1 ? "" : "s", p->nwatches ? "watching " : "watching nothing",
		list, E.arm->name);
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
	/*
	 * Debug info and -w first: a bad name is an error before a single
	 * thread is seized, and the process waits for nothing while we index.
	 * Only where reading it needs the attach itself (another user's
	 * process, say) does the seize go first, for its clearer reason.
	 */
	if (proc_load(p, err, sizeof(err)) < 0) {
		if (target_gone(o->pid)) {
			rw_error("attach: process %d exited while racewatch attached to it", o->pid);
			return 2;
		}
		proc_unload(p);
		if (seize_all(p) < 0) {
			engine_detach_all();
			return 2;
		}
		if (proc_load(p, err, sizeof(err)) < 0) {
			rw_error("attach: %s", target_gone(o->pid) ?
				 "the process exited while racewatch attached to it" : err);
			engine_detach_all();
			return 2;
		}
	}
	if (E.arm == &arm_ptrace)
		rw_warn("--backend ptrace: the debug registers outlive racewatch; if racewatch is "
			"killed with SIGKILL, process %d dies of SIGTRAP at its next watched access "
			"(the perf backend has no such risk)", o->pid);

	p->exec_seen = 1;
	if (o->nwatch) {
		rc = watchset_resolve(p, o->watch, o->nwatch, err, sizeof(err));
		if (rc < 0 && E.auto_backend && E.arm != &arm_code && strstr(err, "hardware watchpoint") &&
		    probe_works(PROBE_INT3, NULL, 0)) {
			E.arm = &arm_code;
			watchset_slotless = 1;
			rc = watchset_resolve(p, o->watch, o->nwatch, err, sizeof(err));
		}
		if (rc < 0) {
			rw_error("%s", err);
			engine_detach_all();
			return 2;
		}
		engine_warn_no_dwarf(p);
	} else if (o->watch_all) {
		engine_watch_all(p);
	} else {
		registry_watch_registered(p);
		if (!p->nwatches)
			engine_start_sampling(p);
	}
	E.auto_backend = 0;
	if (!p->nthreads && seize_all(p) < 0) {
		if (target_gone(o->pid))
			rw_error("attach: process %d exited while racewatch attached to it", o->pid);
		engine_detach_all();
		return 2;
	}
	if (E.arm == &arm_uprobe && p->nwatches && uprobe_add(p, 0, err, sizeof(err)) < 0) {
		rw_error("attach: %s", err);
		engine_detach_all();
		return 2;
	}
	if (E.arm == &arm_code && (p->nwatches || E.sampling) && attach_code_setup(p) < 0) {
		engine_detach_all();
		return 2;
	}
	registry_open(p);
	report_begin();
	proc_rearm_all(p);
	attach_note(p);

	engine_loop();
	engine_detach_all();
	rw_note("detached from %d", o->pid);
	if (E.fatal) {
		if (E.fe && E.fe->finish)
			E.fe->finish();
		return 2;
	}
	rc = engine_finish();
	return rc >= 0 ? rc : 0;
}
