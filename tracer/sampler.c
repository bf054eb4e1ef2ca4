#include "sampler.h"
#include "counters.h"
#include "hwbp.h"
#include "options.h"
#include "policy.h"
#include "report.h"
#include "util.h"
#include "window_hw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

static struct window *windows;
static int timer_fd = -1;
static const struct options *opts;

int sampler_init(const struct options *o)
{
	opts = o;
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return timer_fd;
}

int sampler_fd(void)
{
	return timer_fd;
}

struct window *sampler_first(void)
{
	return windows;
}

uint64_t sampler_value(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n > 8 ? 8 : n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

/* Arm the timerfd for the earliest deadline, or disarm it. */
static void rearm_timer(void)
{
	struct itimerspec its;
	uint64_t first = 0;

	for (struct window *w = windows; w; w = w->next)
		if (!first || w->deadline_ns < first)
			first = w->deadline_ns;
	memset(&its, 0, sizeof(its));
	if (first) {
		its.it_value.tv_sec = (time_t)(first / 1000000000ull);
		its.it_value.tv_nsec = (long)(first % 1000000000ull);
	}
	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

#define RED_ZONE 128		/* the x86-64 ABI's scratch area below %rsp */

int sampler_in_handler(const struct window *w, const struct access *acc)
{
	return w->interrupted && w->owner->tid == acc->tid &&
	       (acc->sp + RED_ZONE < w->acc.sp || acc->sp > w->acc.sp + (1u << 20));
}

int sampler_match(const struct proc *p, const struct access *acc,
		  struct window **out, int max)
{
	int n = 0;

	for (struct window *w = windows; w && n < max; w = w->next)
		if (w->owner->proc == p &&
		    (w->owner->tid != acc->tid || sampler_in_handler(w, acc)) &&
		    range_overlap(w->acc.addr, w->acc.size, acc->addr, acc->size))
			out[n++] = w;
	return n;
}

int sampler_watch_open(const struct proc *p, int watch)
{
	for (struct window *w = windows; w; w = w->next)
		if (w->owner->proc == p && w->acc.watch == watch)
			return 1;
	return 0;
}

int sampler_open_in(const struct proc *p)
{
	int n = 0;

	for (struct window *w = windows; w; w = w->next)
		n += w->owner->proc == p;
	return n;
}

int sampler_want(const struct proc *p)
{
	if (opts->sample > 1 && rand_next() % opts->sample)
		return 0;
	/* A window only finds something if another thread can run into it. */
	if (p->nthreads - sampler_open_in(p) < 2) {
		ctr_inc(CTR_WINDOWS_SKIPPED);
		return 0;
	}
	return 1;
}

#define FRUITLESS_SLOTS 1024
#define FRUITLESS_MAX 3		/* at most 7 chances skipped in a row */

static struct fruitless {
	uint64_t pc;
	uint8_t k;		/* windows in a row that met nothing */
	uint16_t skip;		/* chances still to skip */
} fruit[FRUITLESS_SLOTS];

static struct fruitless *fruit_at(uint64_t pc)
{
	struct fruitless *f = &fruit[(pc ^ (pc >> 13)) % FRUITLESS_SLOTS];

	if (f->pc != pc) {	/* a collision just forgets the other site */
		memset(f, 0, sizeof(*f));
		f->pc = pc;
	}
	return f;
}

int sampler_want_at(const struct proc *p, uint64_t pc)
{
	struct fruitless *f = fruit_at(pc);

	if (f->skip) {
		f->skip--;
		ctr_inc(CTR_WINDOWS_SKIPPED);
		return 0;
	}
	return sampler_want(p);
}

/* A window closes: teach its site's policy what it found. */
static void fruit_learn(const struct window *w, int changed)
{
	struct fruitless *f = fruit_at(w->acc.pc);

	if (w->met || changed || w->explained) {
		f->k = 0;
		return;
	}
	if (f->k < FRUITLESS_MAX)
		f->k++;
	f->skip = (uint16_t)((1u << f->k) - 1);
}

void sampler_open(struct thread *t, const struct access *acc)
{
	struct window *w = xcalloc(1, sizeof(*w));
	/* Randomized like KCSAN's delay: somewhere in [max/2, max]. */
	uint64_t us = rand_range(opts->delay_us / 2 > DELAY_MIN_US ? opts->delay_us / 2 : DELAY_MIN_US,
				 opts->delay_us);

	w->owner = t;
	w->acc = *acc;
	w->vlen = acc->size < sizeof(w->before) ? acc->size : sizeof(w->before);
	/* The other threads' watchpoints first, then the snapshot: no write
	 * slips between the two unseen. */
	winhw_arm(w);
	if (proc_read(t->proc, acc->addr, w->before, w->vlen))
		w->vlen = 0;
	w->deadline_ns = now_ns() + us * 1000;
	w->next = windows;
	windows = w;
	t->window = w;
	t->flags |= TF_WINDOW;
	ctr_inc(CTR_WINDOWS);
	rw_debug("window: thread %d for %llu us, value 0x%llx", t->tid, (unsigned long long)us,
		 (unsigned long long)sampler_value(w->before, w->vlen));
	rearm_timer();
}

/* The window's value moved and no trapped write explains it. */
static void report_unknown_origin(struct window *w, const uint8_t *after)
{
	struct proc *p = w->owner->proc;
	struct race r;

	/* Exempt and marked accesses cannot race with an unseen marked writer. */
	if (w->acc.mark == MARK_DATA_RACE || w->acc.mark == MARK_ONCE || w->acc.mark == MARK_ATOMIC)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = RACE_UNKNOWN_ORIGIN;
	r.pid = p->pid;
	r.a = w->acc;
	snprintf(r.var, sizeof(r.var), "%s", w->acc.watch >= 0 ? p->watches[w->acc.watch].t.name : "?");
	r.value_known = w->vlen <= 8;
	r.vsize = w->vlen;
	r.old_val = sampler_value(w->before, w->vlen);
	r.new_val = sampler_value(after, w->vlen);
	report_submit(&r, p->as);
}

static void unlink_window(struct window *w)
{
	for (struct window **pp = &windows; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/* Remove w and resume its owner if resume; after is the value read at the
 * end (NULL: not judged, e.g. the owner is gone). */
static void finish(struct window *w, const uint8_t *after, int resume)
{
	struct thread *t = w->owner;
	int interrupted = w->interrupted;

	if (after && !w->explained && memcmp(after, w->before, w->vlen))
		report_unknown_origin(w, after);
	if (after)
		fruit_learn(w, memcmp(after, w->before, w->vlen) != 0);
	rw_debug("window of thread %d closes%s", t->tid, resume ? "" : " (thread gone)");
	unlink_window(w);
	winhw_disarm(w);
	t->window = NULL;
	t->flags &= ~TF_WINDOW;
	free(w);
	/* An interrupted window's owner already runs (its handler, then on). */
	if (resume && !interrupted)
		thread_resume(t, 0);
}

/*
 * A window is due.  If its value moved and no trapped write explains it yet,
 * the writer's trap may still be on its way to us (a trap takes ~10-20 us
 * from the access to our waitpid): hold the window once more for GRACE_NS
 * so it can arrive and match.  The value is read once, so the decision and
 * the report speak of the same bytes.
 */
#define GRACE_NS 20000000ull
#define GRACES 3

static void expire_one(struct window *w)
{
	uint8_t after[sizeof(w->before)];
	int known = w->vlen && proc_read(w->owner->proc, w->acc.addr, after, w->vlen) == 0;

	/*
	 * A loaded machine can preempt the writer between its #DB and its stop
	 * for longer than one grace: hold on while some thread of the process
	 * still has one of our hits queued.
	 */
	/*
	 * --strict checks interrupts too (CONFIG_KCSAN_INTERRUPT_WATCHER): if
	 * a caught signal waits for the owner, let its handler run now, still
	 * inside the window, so its accesses meet the stalled one.  The window
	 * ends when the owner is back in mainline code or at the new deadline.
	 */
	if (opts->strict && !w->interrupted && proc_signal_waiting(w->owner)) {
		w->interrupted = 1;
		w->deadline_ns = now_ns() + (uint64_t)opts->delay_us * 1000;
		w->explained = 1;	/* the handler's writes are seen, not unknown */
		thread_resume(w->owner, 0);
		return;
	}
	if (known && !w->explained && memcmp(after, w->before, w->vlen) &&
	    (!w->graced || (w->graced < GRACES && proc_hits_pending(w->owner->proc, w->owner)))) {
		rw_debug("window of thread %d: value moved, no writer seen yet: grace", w->owner->tid);
		w->graced++;
		w->deadline_ns = now_ns() + GRACE_NS;
		return;
	}
	finish(w, known ? after : NULL, 1);
}

void sampler_close(struct thread *t, int resume)
{
	if (!t->window)
		return;
	finish(t->window, NULL, resume);
	rearm_timer();
}

void sampler_expire(void)
{
	uint64_t buf;

	while (read(timer_fd, &buf, sizeof(buf)) > 0)
		;
	/* Each round removes a due window or moves its deadline on: it ends. */
	for (;;) {
		uint64_t now = now_ns();
		struct window *w;

		for (w = windows; w && w->deadline_ns > now; w = w->next)
			;
		if (!w)
			break;
		expire_one(w);
	}
	rearm_timer();
}

void sampler_drop_all(void)
{
	while (windows)
		sampler_close(windows->owner, 0);
}

void sampler_close_all(void)
{
	while (windows)
		sampler_close(windows->owner, 1);
}
