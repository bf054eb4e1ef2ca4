/*
 * registry — variables the program registers itself (include/racewatch.h):
 * RACEWATCH_WATCH names read at exec, and racewatch_watch() calls at run
 * time through the registry in the program's memory and a SIGURG doorbell.
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

/* Without -w: watch every RACEWATCH_WATCH(var) of the executable. */
void registry_watch_registered(struct proc *p)
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
void registry_open(struct proc *p)
{
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;
	unsigned long magic = 0, me = (unsigned long)getpid();
	struct sym_var v;

	/* Only a fixed-address definition will do (and asking for just those
	 * spares a lazily indexed program the search for other kinds). */
	if (!exe || sym_find_vars(exe, "racewatch_registry", &v, 1) < 1 || v.kind != SYM_STATIC)
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
void registry_close(struct proc *p)
{
	unsigned long zero = 0;

	if (p->registry)
		proc_write(p, p->registry + offsetof(struct registry, active), &zero, sizeof(zero));
	p->registry = 0;
}

/* Resume every thread held at a doorbell once no re-arm is outstanding. */
void registry_release_held(struct proc *p)
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
void proc_rearm_all(struct proc *p)
{
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *o = E.hash[h]; o; o = o->hnext) {
			if (o->proc != p)
				continue;
			if ((o->flags & (TF_STOPPED | TF_WINDOW)) || E.arm == &arm_perf || E.arm == &arm_uprobe) {
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
int registry_doorbell(struct thread *t)
{
	struct proc *p = t->proc;
	unsigned long head, tail;
	int from = p->nwatches;
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
	/* Code sites: the new watches' instructions get theirs now (a heap
	 * object reached through pointers has none: code sites cannot see it). */
	if (E.arm == &arm_code && p->nwatches > from && code_add(t, from, err, sizeof(err)) < 0)
		rw_warn("%s", err);
	proc_rearm_all(p);
	t->flags |= TF_HELD;
	registry_release_held(p);
	return 1;
}
