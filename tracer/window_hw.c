#include "window_hw.h"
#include "engine_int.h"
#include "arm.h"
#include "counters.h"
#include "hwbp.h"
#include "probe.h"
#include "sampler.h"
#include "trap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef POLL_IN
#define POLL_IN 1
#endif
#ifndef POLL_HUP
#define POLL_HUP 6
#endif

/* Pieces of a window's bytes watched per thread: the four debug registers. */
#define PIECES_MAX HWBP_SLOTS
/* Wider accesses (SSE, rep movs) are watched on their first bytes only. */
#define WATCHED_MAX 32

static int available = -1;	/* winhw_available(), once known */
static int used;		/* some window had an event */

/*
 * Events closed lately, by thread and fd: a hit already queued when its
 * window closed still arrives as SIGURG, and must be known as ours then
 * (fd numbers are reused, so the thread is part of the key).
 */
#define RECENT 256
static struct { pid_t tid; int fd; } recent[RECENT];
static unsigned recent_next;

int winhw_available(void)
{
	char why[256] = "";

	if (available >= 0)
		return available;
	if (rw_hw_trust())
		available = 1;
	else
		available = probe_works(PROBE_PERF, why, sizeof(why));
	rw_debug("windows %s hardware watchpoints in the other threads%s%s",
		 available ? "get" : "get no", available ? "" : ": ", why);
	return available;
}

int winhw_used(void)
{
	return used;
}

/* One perf breakpoint on [s->addr, s->addr + s->len) in thread tid, its hits
 * signalled to that thread as SIGURG.  The fd, or -1 with errno set. */
static int open_event(pid_t tid, const struct hwbp_slot *s)
{
	int fd = arm_perf_open(tid, s);

	return fd < 0 ? -1 : fd;
}

int winhw_pieces(uint64_t addr, unsigned size, int write, struct hwbp_slot out[HWBP_SLOTS])
{
	struct hwbp_slot piece[WATCHED_MAX];
	int n;

	if (!size)
		return 0;
	/* A read races only with writes; a write with both. */
	n = hwbp_split(addr, size > WATCHED_MAX ? WATCHED_MAX : size, write ? HWBP_RW : HWBP_WRITE,
		       piece, WATCHED_MAX);
	if (n <= 0)
		return 0;
	if (n > PIECES_MAX)
		n = PIECES_MAX;
	memcpy(out, piece, (size_t)n * sizeof(*piece));
	return n;
}

void winhw_arm(struct window *w)
{
	struct thread *owner = w->owner;
	struct hwbp_slot piece[HWBP_SLOTS];
	int n;

	if (!E.sampling || !winhw_available())
		return;
	n = winhw_pieces(w->acc.addr, w->acc.size, access_is_write(&w->acc), piece);
	if (n == 0)
		return;
	for (int h = 0; h < HASH_SIZE; h++)
		for (struct thread *o = E.hash[h]; o; o = o->hnext) {
			if (o->proc != owner->proc || o == owner)
				continue;
			for (int i = 0; i < n; i++) {
				int fd = open_event(o->tid, &piece[i]);

				if (fd < 0 && errno == ESRCH)
					break;		/* exiting: its exit event follows */
				if (fd < 0 && errno != ENOSPC && errno != EBUSY) {
					/* Refused outright (paranoid level, no breakpoints):
					 * the rest of the run behaves as without them. */
					rw_debug("window watchpoint in thread %d: %s; windows go without",
						 o->tid, strerror(errno));
					available = 0;
					goto done;
				}
				if (fd < 0)
					continue;	/* its debug registers are all taken */
				w->hw = xrealloc(w->hw, (size_t)(w->nhw + 1) * sizeof(*w->hw));
				w->hw[w->nhw++] = (struct winhw_ev){ fd, o->tid, piece[i].addr, piece[i].len };
			}
		}
done:
	if (w->nhw) {
		used = 1;
		ctr_inc(CTR_WINDOW_HW_ARMED);
	}
}

void winhw_disarm(struct window *w)
{
	for (int i = 0; i < w->nhw; i++) {
		close(w->hw[i].fd);
		recent[recent_next % RECENT].tid = w->hw[i].tid;
		recent[recent_next % RECENT].fd = w->hw[i].fd;
		recent_next++;
	}
	free(w->hw);
	w->hw = NULL;
	w->nhw = 0;
}

/* Our event behind t's SIGURG stop (sig, with *si filled): its window and
 * event, or 1 for a closed one of ours, or 0 when not ours. */
static int find_event(struct thread *t, int sig, siginfo_t *si, struct window **wp,
		      const struct winhw_ev **ep)
{
	*wp = NULL;
	*ep = NULL;
	if (!used || sig != ARM_PERF_SIGNAL || ptrace(PTRACE_GETSIGINFO, t->tid, NULL, si) < 0 ||
	    (si->si_code != POLL_IN && si->si_code != POLL_HUP))
		return 0;
	for (struct window *w = sampler_first(); w; w = w->next)
		for (int i = 0; i < w->nhw; i++)
			if (w->hw[i].tid == t->tid && w->hw[i].fd == si->si_fd) {
				*wp = w;
				*ep = &w->hw[i];
				return 1;
			}
	for (unsigned i = 0; i < RECENT && i < recent_next; i++)
		if (recent[i].tid == t->tid && recent[i].fd == si->si_fd)
			return 1;
	return 0;
}

int winhw_on_stop(struct thread *t, int sig, struct access *acc)
{
	const struct winhw_ev *ev;
	struct window *w;
	siginfo_t si;

	if (!find_event(t, sig, &si, &w, &ev))
		return ARM_FOREIGN;
	/*
	 * t made the access from a sampled site's copy in the scratch page:
	 * the site's own stop, next, reports the same access from its real
	 * pc.  This hit would only count it twice, decoded at a scratch pc.
	 */
	if (w && t->code_site >= 0)
		return ARM_CONSUMED;
	/* Stale (its window closed), undecodable, or not on the window's bytes
	 * (a stale hit whose fd number a new window's event took over). */
	if (!w || w->acc.watch < 0 || trap_decode_at(t, w->acc.watch, ev->addr, ev->len, acc) < 0 ||
	    !range_overlap(acc->addr, acc->size, w->acc.addr, w->acc.size)) {
		ctr_inc(CTR_TRAPS_STALE);
		return ARM_CONSUMED;
	}
	ctr_inc(CTR_WINDOW_HW_HITS);
	return ARM_ACCESS;
}

int winhw_ours(struct thread *t, int sig)
{
	const struct winhw_ev *ev;
	struct window *w;
	siginfo_t si;

	return find_event(t, sig, &si, &w, &ev);
}
