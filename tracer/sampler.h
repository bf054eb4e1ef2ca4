/*
 * sampler — stall windows, the KCSAN idea in hardware (DESIGN.md section 4).
 *
 * A sampled access opens a window: its thread stays stopped for a randomized
 * delay while every other thread runs on; an access by another thread to the
 * same bytes during that time is concurrent with it.  When the window
 * expires, a value that changed without a trapped writer to explain it is a
 * race of unknown origin.  Windows expire through one timerfd, armed for the
 * earliest deadline; nothing here sleeps or polls.
 */
#ifndef RACEWATCH_SAMPLER_H
#define RACEWATCH_SAMPLER_H

#include "access.h"
#include "tracee.h"

struct window {
	struct thread *owner;	/* stopped for the whole window */
	struct access acc;	/* the owner's access */
	uint8_t before[64];	/* the accessed bytes when the window opened */
	unsigned vlen;
	uint64_t deadline_ns;
	int explained;		/* a trapped write by another thread landed inside */
	int graced;		/* times held longer, waiting for a late writer's trap */
	int interrupted;	/* --strict: the owner runs a signal handler inside it */
	int met;		/* accesses of other threads that fell inside it */
	struct winhw_ev *hw;	/* its watchpoints in the other threads (window_hw.h) */
	int nhw;
	struct window *next;
};

struct options;

/* Returns the timerfd to poll, or -1 with errno set. */
int sampler_init(const struct options *o);
int sampler_fd(void);

/*
 * Windows of other threads whose accessed bytes overlap acc; up to max of
 * them in out.  Returns how many.
 */
int sampler_match(const struct proc *p, const struct access *acc,
		  struct window **out, int max);

/*
 * --strict's interrupt watcher: is acc, by the owner of window w, made from
 * a signal handler that interrupted w's access (a deeper stack, or another
 * stack altogether), rather than by the owner's mainline code?
 */
int sampler_in_handler(const struct window *w, const struct access *acc);

/* Should this access open a window?  Rolls the --sample dice and keeps at
 * least one other thread of the process running. */
int sampler_want(const struct proc *p);

/*
 * The same for an access at pc, with the fruitless-site policy: a window
 * that closed having met nobody and seen its bytes unchanged makes its
 * site skip its next 2^k - 1 chances (k grows by one each time, up to
 * FRUITLESS_MAX; any window of that site that meets something resets it).
 * A stall that catches nothing mostly makes the threads waiting for what
 * the stalled one holds (a lock) wait longer: lock-heavy code is where
 * windows are fruitless, so that is where they get rare.
 */
int sampler_want_at(const struct proc *p, uint64_t pc);

/*
 * Open a window for t's access.  Precondition: t is stopped right after acc
 * and has no window.  Postcondition: t stays stopped (TF_WINDOW) until the
 * window closes; the caller must not resume it.
 */
void sampler_open(struct thread *t, const struct access *acc);

/* The timerfd fired: close every window whose deadline has passed.
 * Precondition: every stop already reported by waitpid was dispatched. */
void sampler_expire(void);

/* t's window (if any) ends now: closed and, if resume, t resumed. */
void sampler_close(struct thread *t, int resume);

/* Is a window open in p on watch? */
int sampler_watch_open(const struct proc *p, int watch);

/* Number of open windows in p. */
int sampler_open_in(const struct proc *p);

/* Close every window (exit): owners are resumed. */
void sampler_close_all(void);

/* Close every window leaving its owner stopped (detach stops everyone). */
void sampler_drop_all(void);

/* The open windows, for walking their ->next chain. */
struct window *sampler_first(void);

/* Little-endian value of up to 8 bytes, for "value changed" lines. */
uint64_t sampler_value(const uint8_t *b, unsigned n);

#endif
