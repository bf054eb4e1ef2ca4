/*
 * window_hw — the other side of a sampled access (DataCollider's data
 * breakpoint, DESIGN.md section 4).
 *
 * Sampling without -w finds accesses through code sites, so a window knows
 * only its owner's side; the other thread's is seen when its own
 * instruction happens to be sampled too.  Where perf breakpoints deliver
 * (the probe says so, or RACEWATCH_DEBUG=hw-trust), a window also gets, for
 * its length only, a hardware watchpoint on its bytes in every other thread
 * of its process: one perf breakpoint event per thread and aligned piece,
 * opened while the thread runs on and closed with the window.  A hit
 * arrives as the event's SIGURG, is decoded like a slot's trap and is
 * judged against the window with both sides known.
 */
#ifndef RACEWATCH_WINDOW_HW_H
#define RACEWATCH_WINDOW_HW_H

#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "hwbp.h"
#include "tracee.h"

/* One event of a window: piece [addr, addr + len) watched in thread tid. */
struct winhw_ev {
	int fd;
	pid_t tid;
	uint64_t addr;
	unsigned len;
};

struct window;

/*
 * The pieces a window on [addr, addr + size) is watched with in each other
 * thread: naturally aligned 1-8 byte chunks in address order, at most the
 * four debug registers (of the first 32 bytes of a wider access); on write
 * only when the window's access is a read (a read races only with writes),
 * else on read or write.  Returns how many (0 for size 0).  Pure.
 */
int winhw_pieces(uint64_t addr, unsigned size, int write, struct hwbp_slot out[HWBP_SLOTS]);

/* Do windows get watchpoints here (sampling, and perf breakpoints deliver
 * or are trusted to)?  Asked once; the answer holds for the run. */
int winhw_available(void);

/*
 * w (its owner stopped, w->acc filled) is opening: watch its bytes in every
 * other thread of the owner's process.  Threads where an event cannot be
 * opened (no free debug register, gone) are left out; the value comparison
 * still covers them.  Call before the window's snapshot is taken.
 */
void winhw_arm(struct window *w);

/* w is closing: its events are closed (no watchpoint outlives a window). */
void winhw_disarm(struct window *w);

/* Has any window had a watchpoint in this run?  (Then SIGURG may be ours.) */
int winhw_used(void);

/*
 * t is in a signal-delivery stop for SIGURG: a window's watchpoint?
 * ARM_ACCESS: *acc is the access (t stands right after it); ARM_CONSUMED:
 * ours, but stale (its window closed since) or undecodable; ARM_FOREIGN:
 * the program's own signal.
 */
int winhw_on_stop(struct thread *t, int sig, struct access *acc);

/* Detach: is t's SIGURG stop one of ours (to be swallowed)? */
int winhw_ours(struct thread *t, int sig);

#endif
