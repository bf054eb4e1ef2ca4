/*
 * arm — how watchpoints get into the hardware, behind one small interface
 * with two implementations:
 *
 *   perf   perf_event_open(PERF_TYPE_BREAKPOINT) per thread and slot, with
 *          sigtrap=1 and remove_on_exec=1.  Traps arrive as SIGTRAP
 *          (si_code TRAP_PERF, si_perf_data = our cookie).  The events die
 *          with the tracer's file descriptors, so a dead tracer leaves an
 *          unharmed target.  The default.
 *   ptrace PTRACE_POKEUSER into u_debugreg: DR0-DR3, then DR7; DR6 says
 *          which slot fired (si_code TRAP_HWBKPT).  The registers outlive
 *          the tracer, so every exit path must clear DR7.
 */
#ifndef RACEWATCH_ARM_H
#define RACEWATCH_ARM_H

#include <signal.h>
#include <stddef.h>

#include "tracee.h"

struct arm_backend {
	const char *name;
	/*
	 * Make t carry exactly t->proc's slot layout.  Precondition: t is in a
	 * ptrace stop (the perf backend does not need it, ptrace does).
	 * Returns 0, or -1 with a one-line reason in err.
	 */
	int (*arm)(struct thread *t, char *err, size_t errlen);
	/* Remove every watchpoint of ours from t.  Precondition: as for arm. */
	void (*disarm)(struct thread *t);
	/* t no longer exists: drop what we hold for it without touching it. */
	void (*forget)(struct thread *t);
	/*
	 * Is this SIGTRAP (t is in its signal-delivery stop) one of ours?
	 * Returns the slot that fired, TRAP_FOREIGN when it belongs to the
	 * program, or TRAP_STALE when it is ours but cannot be trusted (it
	 * was delivered late because the program had SIGTRAP blocked).
	 */
	int (*trap_slot)(struct thread *t, const siginfo_t *si);
};

#define TRAP_FOREIGN	(-1)
#define TRAP_STALE	(-2)

extern const struct arm_backend arm_perf;
extern const struct arm_backend arm_ptrace;

#endif
