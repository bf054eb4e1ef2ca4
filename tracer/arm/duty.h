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
 *
 * Armed time (issue 15): an armed slot costs even when it never fires --
 * the kernel reloads the debug registers at every context switch of the
 * thread, ~13 us per slot and switch in a VM that intercepts the writes
 * (`racewatch probe` measures it).  So with perf the slots of a thread that
 * switches often are armed only for a share f of each ARM_PERIOD: every
 * ~100 ms the thread's switch rate is read from /proc (voluntary +
 * nonvoluntary ctxt_switches), and f is chosen so that
 *     rate x cost per switch x armed slots x f <= --overhead.
 * Every thread's on part starts at the same instant of the period, so the
 * threads are armed together (a race needs two of them looking); a window
 * that opens switches every other thread of the process on at once and
 * keeps it on while any window of the process is open.  ptrace: not
 * duty-cycled (toggling needs the thread stopped; see duty.c).
 */
#ifndef RACEWATCH_DUTY_H
#define RACEWATCH_DUTY_H

#include "tracee.h"

struct options;

/*
 * Returns the timerfd for re-enabling, or -1 (duty cycling off).
 * can_toggle: the backend switches slots by ioctl (perf); slots: it uses
 * debug-register slots at all (perf, ptrace: their armed time is counted
 * for --stats); switch_us: the probe's per-switch cost, < 0 if unknown.
 */
int duty_init(const struct options *o, int can_toggle, int slots, double switch_us);

/* t now carries its process's slots (armed or re-armed, t stopped). */
void duty_armed(struct thread *t);

/* t is gone: its armed time is counted, and it is forgotten. */
void duty_gone(struct thread *t);

/*
 * The share of each period a thread's slots are armed: rate switches a
 * second, switch_s seconds per switch and slot, nslots slots, budget the
 * share of its time they may cost.  Between 0.02 and 1; 1 when armed all
 * the time would cost within ~5% of the budget (toggling is not worth it).
 */
double duty_armed_share(double rate, double switch_s, int nslots, double budget);

/*
 * --backend auto, with hardware that delivers: would the slots the -w set
 * takes (one per -w, at most 4) cost so much per context switch that code
 * sites (nothing armed between hits) are the better choice?  Each armed
 * slot costs every switch of every traced thread, hit or not; the duty
 * cycle holds that within --overhead only by leaving the slots off most of
 * the time in a program that switches often.  Yes when the measured cost
 * (probe.h; measured now if need be) is 40 us a switch or more and every
 * -w names a variable itself.  *per_switch_us: the cost, for the note.
 */
int duty_slots_too_dear(const struct options *o, double *per_switch_us);

/* Count every thread's armed time up to now into the counters. */
void duty_flush(void);

/* t just trapped on slot (and is stopped): switch the slot off if it is hot. */
void duty_after_trap(struct thread *t, int slot);

/* A window opened on watch w of p: every thread but except gets w's slots on. */
void duty_force_on(struct proc *p, int watch, const struct thread *except);

/* The timerfd fired: switch back on what is due. */
void duty_expire(void);

/* t's events were replaced or closed: forget its off slots. */
void duty_forget(struct thread *t);

#endif
