/*
 * duty — the adaptive sampler's duty cycle (DESIGN.md section 4, issue 8).
 *
 * An armed watchpoint that is not hit costs nothing; a hit costs the thread
 * a debug exception, a round trip to us (~20-25 us) and, if sampled, a stall
 * window.  A variable written a billion times a second cannot be trapped on
 * every hit, so after a trap on a hot (thread, slot) the perf event is
 * switched off by ioctl -- the thread keeps running -- until the budget
 * allows its next trap.  When a window opens, every other thread's events on
 * that variable are switched back on at once: an access that could race with
 * the stalled one is never missed because of the duty cycle.
 *
 * Budget: --overhead PCT of each thread's time.  Each trap is charged its
 * service cost plus the expected stall, so one thread may take at most
 * PCT/100 / (cost + stall) traps per second, shared among its slots.
 * Only the perf backend can do this without stopping threads; with ptrace
 * (and with --overhead 0) every hit traps.
 */
#ifndef RACEWATCH_DUTY_H
#define RACEWATCH_DUTY_H

#include "tracee.h"

struct options;

/* Returns the timerfd for re-enabling, or -1 (duty cycling off). */
int duty_init(const struct options *o, int can_toggle);

/* t just trapped on slot (and is stopped): switch the slot off if it is hot. */
void duty_after_trap(struct thread *t, int slot);

/* A window opened on watch w of p: every thread but except gets w's slots on. */
void duty_force_on(struct proc *p, int watch, const struct thread *except);

/* The timerfd fired: switch back on what is due. */
void duty_expire(void);

/* t's events were replaced or closed: forget its off slots. */
void duty_forget(struct thread *t);

#endif
