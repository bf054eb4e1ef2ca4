/*
 * The ptrace backend: PTRACE_POKEUSER into the thread's debug registers.
 *
 * Every call needs the thread in a ptrace stop.  Order matters: with DR7
 * cleared first, the kernel accepts any address in DR0-DR3; DR7 is written
 * last so no slot is ever enabled on a half-written layout.  A new thread's
 * PEEKUSER(DR7) may show its parent's value although nothing is armed in it,
 * so the engine never trusts what it reads back: it always writes.
 */
#include "arm.h"
#include "counters.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4
#endif

#define DR_OFFSET(i) (offsetof(struct user, u_debugreg) + (size_t)(i) * sizeof(long))

static int poke_dr(pid_t tid, int i, uint64_t v)
{
	return (int)ptrace(PTRACE_POKEUSER, tid, (void *)DR_OFFSET(i), (void *)v);
}

static int ptrace_arm(struct thread *t, char *err, size_t errlen)
{
	struct proc *p = t->proc;

	if ((t->flags & TF_ARMED) && t->armed_gen == p->gen)
		return 0;
	ctr_inc(CTR_ARM_OPS);
	if (poke_dr(t->tid, 7, 0) < 0)
		goto fail;
	for (int i = 0; i < HWBP_SLOTS; i++)
		if ((p->slot_mask & (1u << i)) && poke_dr(t->tid, i, rw_hw_silent() ? HW_SILENT_ADDR : p->slots[i].addr) < 0)
			goto fail;
	if (p->slot_mask && poke_dr(t->tid, 7, hwbp_dr7(p->slots, p->slot_mask)) < 0)
		goto fail;
	t->armed_gen = p->gen;
	t->flags |= TF_ARMED;
	return 0;
fail:
	if (errno == ESRCH) {
		t->flags &= ~TF_ARMED;
		return -2;	/* exited meanwhile */
	}
	snprintf(err, errlen, "cannot set debug registers of thread %d: %s", t->tid, strerror(errno));
	ctr_inc(CTR_ARM_FAILURES);
	poke_dr(t->tid, 7, 0);
	t->flags &= ~TF_ARMED;
	return -1;
}

static void ptrace_disarm(struct thread *t)
{
	poke_dr(t->tid, 7, 0);
	for (int i = 0; i < HWBP_SLOTS; i++)
		poke_dr(t->tid, i, 0);
	t->flags &= ~TF_ARMED;
}

static void ptrace_forget(struct thread *t)
{
	t->flags &= ~TF_ARMED;
}

static int ptrace_trap_slot(struct thread *t, const siginfo_t *si)
{
	long dr6;
	int slot;

	if (si->si_code != TRAP_HWBKPT || !(t->flags & TF_ARMED))
		return TRAP_FOREIGN;
	errno = 0;
	dr6 = ptrace(PTRACE_PEEKUSER, t->tid, (void *)DR_OFFSET(6), NULL);
	if (errno)
		return TRAP_FOREIGN;
	slot = hwbp_dr6_slot((uint64_t)dr6, t->proc->slot_mask);
	if (slot < 0)
		return TRAP_FOREIGN;
	/* The kernel keeps a virtual DR6; clear it so the next trap reads fresh. */
	poke_dr(t->tid, 6, 0);
	return slot;
}

static int ptrace_on_stop(struct thread *t, int sig, struct access *acc, int *unit)
{
	return arm_slot_on_stop(&arm_ptrace, t, sig, acc, unit);
}

const struct arm_backend arm_ptrace = {
	.name = "ptrace",
	.trap_signal = SIGTRAP,
	.arm = ptrace_arm,
	.disarm = ptrace_disarm,
	.forget = ptrace_forget,
	.trap_slot = ptrace_trap_slot,
	.on_stop = ptrace_on_stop,
	.after_hit = arm_duty_after_hit,
	.may_open = arm_duty_may_open,
	.opening = arm_duty_opening,
};
