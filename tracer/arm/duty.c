#include "duty.h"
#include "arm.h"
#include "counters.h"
#include "options.h"
#include "probe.h"
#include "sampler.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TRAP_COST_NS 25000ull	/* one hit served (DESIGN.md section 9) */
#define BURST 128.0		/* traps a (thread, slot) may take before the budget bites */

/*
 * The armed-time duty cycle.  ARM_PERIOD: 20 ms.  Shorter costs the tracer
 * more (two ioctls per slot and thread per period, each an IPI to the
 * thread's CPU when it runs: 100 a second per slot) for nothing the
 * program sees; longer makes the off part long enough that a variable
 * touched in bursts of a few ms is missed for whole bursts.  It must also
 * hold a stall window (--delay, 200 us by default) many times over.  With
 * many slots to toggle the period grows (period_ns) up to 100 ms.
 * ARM_F_MIN: however often a thread switches, it is armed 2% of the time
 * (0.4 ms a period), so it is never blind.  RATE_NS: how often switch
 * rates are read (one /proc read per thread).  HOLD_NS: while a window of
 * the process is open, a thread due off stays on and looks again this much
 * later.  SWITCH_US_DEFAULT: the per-switch cost when it could not be
 * measured (probe.h; the low end of what a KVM/Firecracker guest costs).
 */
#define ARM_PERIOD_NS 20000000ull
#define ARM_PERIOD_MAX_NS 100000000ull
#define TOGGLE_SHARE 0.01	/* of a CPU, for the tracer's toggling */
#define TOGGLE_NS_GUESS 20000.0	/* one ioctl, until measured */
#define ARM_F_MIN 0.02
#define ARM_F_FULL 0.95		/* above this the toggling is not worth it */
#define RATE_NS 100000000ull
#define HOLD_NS 1000000ull
#define SWITCH_US_DEFAULT 12.0

/* A slot switched off, to be switched on at `when`. */
struct off {
	struct thread *t;
	int slot;
	uint64_t when;
};

static struct off *offs;
static int noffs, capoffs;
static int timer_fd = -1;
static int trap_duty;		/* hot traps are thinned out */
static uint64_t min_gap_ns;	/* per thread: time between two traps at budget */

/* The armed-time duty cycle: the threads that carry slots. */
static struct thread **lst;
static int nlst, caplst;
static int slot_backend;	/* count armed time at all */
static int armtime;		/* ... and duty-cycle it */
static double budget;		/* --overhead as a share */
static double switch_s;		/* kernel seconds per switch per armed slot */
static uint64_t next_period, next_rate;
static uint64_t armed_ns, traced_ns;
static uint64_t toggle_ns;	/* the tracer's time in phase_set (debug) */

int duty_init(const struct options *o, int can_toggle, int slots, double switch_us)
{
	double stall_ns, share;

	slot_backend = slots;
	if (!o->overhead_pct || !can_toggle)
		return -1;
	/* Sampled traps open a window: charge each trap ~3/4 of --delay too. */
	stall_ns = o->sample <= 1 ? 0.75 * o->delay_us * 1000.0 : 0.75 * o->delay_us * 1000.0 / o->sample;
	share = o->overhead_pct / 100.0;
	min_gap_ns = (uint64_t)(((double)TRAP_COST_NS + stall_ns) / share);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (timer_fd < 0)
		return -1;	/* nothing could switch slots back on: no duty cycle */
	trap_duty = 1;
	rw_debug("duty cycle: at most one trap per %llu us per thread and slot",
		 (unsigned long long)(min_gap_ns / 1000));
	armtime = !rw_debug_flag("armed-always");
	budget = share;
	switch_s = (switch_us >= 0 ? switch_us : SWITCH_US_DEFAULT) * 1e-6;
	if (armtime)
		rw_debug("armed-time duty cycle: %.2f us per switch and slot (%s), budget %u%%",
			 switch_s * 1e6, switch_us >= 0 ? "measured" : "not measured: a default",
			 o->overhead_pct);
	return timer_fd;
}

static uint64_t armtime_next(void);

static void rearm_timer(void)
{
	struct itimerspec its;
	uint64_t first = armtime_next();

	if (timer_fd < 0)
		return;
	for (int i = 0; i < noffs; i++)
		if (!first || offs[i].when < first)
			first = offs[i].when;
	memset(&its, 0, sizeof(its));
	if (first) {
		its.it_value.tv_sec = (time_t)(first / 1000000000ull);
		its.it_value.tv_nsec = (long)(first % 1000000000ull);
	}
	timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void drop(int i)
{
	offs[i] = offs[--noffs];
}

static void set_on(struct thread *t, int slot, int on)
{
	/* A thread in the off part of its period gets the slot at its next on. */
	if (t->perf_fd[slot] >= 0 && !(on && t->ad_off))
		arm_perf_toggle(t, slot, on);
	if (on)
		t->duty_off &= ~(1u << slot);
	else
		t->duty_off |= 1u << slot;
}

/*
 * A token bucket per (thread, slot): BURST traps to start with (a short
 * program, or a variable that wakes up, gets full attention), refilled at
 * the budget's rate; when it runs dry the slot is switched off until the
 * next token is due.
 */
void duty_after_trap(struct thread *t, int slot)
{
	uint64_t now = now_ns(), gap;
	double *tok = &t->duty_tokens[slot];
	int nslots = 0;

	if (!trap_duty || slot < 0 || slot >= HWBP_SLOTS)
		return;
	for (int i = 0; i < HWBP_SLOTS; i++)
		nslots += !!(t->proc->slot_mask & (1u << i));
	/* The thread's budget is shared by its slots. */
	gap = min_gap_ns * (uint64_t)(nslots ? nslots : 1);
	if (!t->last_trap_ns[slot])
		*tok = BURST;
	else
		*tok += (double)(now - t->last_trap_ns[slot]) / (double)gap;
	if (*tok > BURST)
		*tok = BURST;
	t->last_trap_ns[slot] = now;
	*tok -= 1.0;
	if (*tok >= 1.0 || (t->duty_off & (1u << slot)))
		return;
	set_on(t, slot, 0);
	ctr_inc(CTR_DUTY_OFF);
	if (noffs == capoffs) {
		capoffs = capoffs ? 2 * capoffs : 64;
		offs = xrealloc(offs, sizeof(*offs) * (size_t)capoffs);
	}
	offs[noffs++] = (struct off){ t, slot, now + (uint64_t)((1.0 - *tok) * (double)gap) };
	rearm_timer();
}

static void phase_set(struct thread *t, int on, uint64_t now);

void duty_force_on(struct proc *p, int watch, const struct thread *except)
{
	uint64_t now = now_ns();

	if (timer_fd < 0)
		return;
	/* Threads in the off part of their period: on, while the window lasts. */
	for (int i = 0; i < nlst; i++) {
		struct thread *t = lst[i];

		if (t->proc == p && t != except && t->ad_off) {
			phase_set(t, 1, now);
			t->ad_next = now + HOLD_NS;
		}
	}
	for (int i = 0; i < noffs;) {
		struct thread *t = offs[i].t;

		if (t->proc == p && t != except && p->slot_watch[offs[i].slot] == watch) {
			set_on(t, offs[i].slot, 1);
			drop(i);
		} else {
			i++;
		}
	}
	rearm_timer();
}

static void armtime_tick(uint64_t now);

void duty_expire(void)
{
	uint64_t buf, now = now_ns();

	while (read(timer_fd, &buf, sizeof(buf)) > 0)
		;
	armtime_tick(now);
	for (int i = 0; i < noffs;) {
		if (offs[i].when <= now) {
			set_on(offs[i].t, offs[i].slot, 1);
			drop(i);
		} else {
			i++;
		}
	}
	rearm_timer();
}

void duty_forget(struct thread *t)
{
	if (!trap_duty)
		return;
	for (int i = 0; i < noffs;)
		if (offs[i].t == t)
			drop(i);
		else
			i++;
	t->duty_off = 0;
	rearm_timer();
}

/* ---- the armed-time duty cycle -------------------------------------------- */

/* t's time since its last mark, counted as traced and, if on, as armed. */
static void account(struct thread *t, uint64_t now)
{
	if (now > t->ad_mark) {
		traced_ns += now - t->ad_mark;
		if (!t->ad_off)
			armed_ns += now - t->ad_mark;
	}
	t->ad_mark = now;
}

/* Every slot of t on (but those the trap budget holds off) or off. */
static void phase_set(struct thread *t, int on, uint64_t now)
{
	int n = 0;

	account(t, now);
	for (int i = 0; i < HWBP_SLOTS; i++)
		if (t->perf_fd[i] >= 0 && (t->proc->slot_mask & (1u << i)) &&
		    !(on && (t->duty_off & (1u << i)))) {
			arm_perf_toggle(t, i, on);
			n++;
		}
	ctr_add(CTR_ARM_TOGGLES, n);
	toggle_ns += now_ns() - now;
	t->ad_off = !on;
	if (!on)
		t->ad_next = 0;
}

double duty_armed_share(double rate, double per_switch_s, int nslots, double allowed)
{
	double cost = rate * per_switch_s * nslots;	/* share of the thread's time, armed all along */
	double f = cost > 0 ? allowed / cost : 1.0;

	return f < ARM_F_MIN ? ARM_F_MIN : f > ARM_F_FULL ? 1.0 : f;
}

/* Voluntary + nonvoluntary context switches of t so far, or -1. */
static int64_t read_switches(const struct thread *t)
{
	char path[64], buf[8192];	/* the status file is ~1.5 kB; the counts come last */
	const char *v, *n;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)t->proc->pid, (int)t->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
#define VOL "\nvoluntary_ctxt_switches:"
#define NONVOL "\nnonvoluntary_ctxt_switches:"
	v = strstr(buf, VOL);
	n = strstr(buf, NONVOL);
	if (!v || !n)
		return -1;
	return strtoll(v + sizeof(VOL) - 1, NULL, 10) + strtoll(n + sizeof(NONVOL) - 1, NULL, 10);
#undef VOL
#undef NONVOL
}

/* t's switch rate since the last read decides its armed share. */
static void rate_update(struct thread *t, uint64_t now)
{
	int64_t c = read_switches(t);
	int nslots = __builtin_popcount(t->proc->slot_mask);

	if (c < 0)
		return;
	if (t->ad_csw_ns && now > t->ad_csw_ns && (uint64_t)c >= t->ad_csw && nslots) {
		double rate = (double)((uint64_t)c - t->ad_csw) * 1e9 / (double)(now - t->ad_csw_ns);
		double f = duty_armed_share(rate, switch_s, nslots, budget);

		if (f < t->ad_f * 0.8 || f > t->ad_f * 1.25)	/* said when it moves */
			rw_debug("thread %d: %.0f switches/s, %d slot(s): armed %.0f%% of the time",
				 (int)t->tid, rate, nslots, 100.0 * f);
		t->ad_f = f;
	}
	t->ad_csw = (uint64_t)c;
	t->ad_csw_ns = now;
}

/*
 * The period: ARM_PERIOD_NS, longer when many slots are toggled, so that
 * the tracer's own ioctls (two per slot and period, each an IPI when the
 * thread runs elsewhere: 20-50 us measured in this VM) stay within
 * TOGGLE_SHARE of a CPU; at most ARM_PERIOD_MAX_NS.
 */
static uint64_t period_ns(void)
{
	double each = counters[CTR_ARM_TOGGLES] >= 16 ?
		      (double)toggle_ns / (double)counters[CTR_ARM_TOGGLES] : TOGGLE_NS_GUESS;
	double want;
	int n = 0;

	for (int i = 0; i < nlst; i++)
		if (lst[i]->ad_f < 1.0)
			n += __builtin_popcount(lst[i]->proc->slot_mask);
	want = 2.0 * n * each / TOGGLE_SHARE;
	return want <= ARM_PERIOD_NS ? ARM_PERIOD_NS : want >= ARM_PERIOD_MAX_NS ? ARM_PERIOD_MAX_NS :
	       (uint64_t)want;
}

static void armtime_tick(uint64_t now)
{
	int held;

	if (!armtime || !nlst)
		return;
	if (now >= next_rate) {
		for (int i = 0; i < nlst; i++)
			rate_update(lst[i], now);
		next_rate = now + RATE_NS;
	}
	if (now >= next_period) {
		uint64_t period = period_ns();

		/* A new period: everyone on; those with f < 1 due off at f. */
		for (int i = 0; i < nlst; i++) {
			struct thread *t = lst[i];

			if (t->ad_off)
				phase_set(t, 1, now);
			t->ad_next = t->ad_f < 1.0 ? now + (uint64_t)(t->ad_f * (double)period) : 0;
		}
		next_period += period;
		if (next_period <= now)
			next_period = now + period;
	}
	for (int i = 0; i < nlst; i++) {
		struct thread *t = lst[i];

		if (!t->ad_next || t->ad_next > now)
			continue;
		/* No access may slip past an open window: on a while longer. */
		held = sampler_open_in(t->proc) > 0;
		if (held)
			t->ad_next = now + HOLD_NS;
		else
			phase_set(t, 0, now);
	}
}

/* When armtime_tick has something to do next, or 0. */
static uint64_t armtime_next(void)
{
	uint64_t first = 0;
	int partial = 0;

	if (!armtime || !nlst)
		return 0;
	for (int i = 0; i < nlst; i++) {
		partial |= lst[i]->ad_f < 1.0;
		if (lst[i]->ad_next && (!first || lst[i]->ad_next < first))
			first = lst[i]->ad_next;
	}
	if (!first || next_rate < first)
		first = next_rate;
	/* A period boundary matters only when someone is switched off part of it. */
	if (partial && next_period < first)
		first = next_period;
	return first;
}

void duty_armed(struct thread *t)
{
	uint64_t now = now_ns();

	if (!slot_backend)
		return;
	if (!t->ad_listed) {
		if (nlst == caplst) {
			caplst = caplst ? 2 * caplst : 16;
			lst = xrealloc(lst, sizeof(*lst) * (size_t)caplst);
		}
		lst[nlst++] = t;
		t->ad_listed = nlst;
		t->ad_off = 0;
		t->ad_f = 1.0;
		t->ad_next = 0;
		t->ad_mark = now;
		t->ad_csw_ns = 0;
		if (armtime) {
			rate_update(t, now);
			if (!next_rate) {
				next_rate = now + RATE_NS;
				next_period = now + ARM_PERIOD_NS;
			}
			rearm_timer();
		}
	} else if (t->ad_off) {
		phase_set(t, 0, now);	/* new events start enabled */
	}
}

void duty_gone(struct thread *t)
{
	int i = t->ad_listed - 1;

	if (i < 0 || i >= nlst || lst[i] != t)
		return;
	account(t, now_ns());
	lst[i] = lst[--nlst];
	if (i < nlst)
		lst[i]->ad_listed = i + 1;
	t->ad_listed = 0;
}

void duty_flush(void)
{
	uint64_t now = now_ns();

	for (int i = 0; i < nlst; i++)
		account(lst[i], now);
	counters[CTR_ARMED_MS] = armed_ns / 1000000ull;
	counters[CTR_TRACED_MS] = traced_ns / 1000000ull;
	if (counters[CTR_ARM_TOGGLES])
		rw_debug("armed-time duty cycle: %llu toggles, %.1f us each",
			 (unsigned long long)counters[CTR_ARM_TOGGLES],
			 (double)toggle_ns / 1e3 / (double)counters[CTR_ARM_TOGGLES]);
}

/* ---- --backend auto: slots or code sites? -------------------------------- */

/*
 * 40 us a switch: at only 1250 switches a second that alone is 5% of a
 * thread.  It takes a hypervisor that intercepts debug-register writes
 * (~12-20 us per slot measured in a Firecracker guest); bare metal is
 * ~0.2-1 us per slot and never gets there.
 */
#define AUTO_SWITCH_LIMIT_US 40.0

int duty_slots_too_dear(const struct options *o, double *per_switch_us)
{
	int n = o->nwatch < HWBP_SLOTS ? o->nwatch : HWBP_SLOTS;
	double us = n ? probe_switch_cost_us(1) : -1;

	*per_switch_us = us * n;
	if (us < 0 || *per_switch_us < AUTO_SWITCH_LIMIT_US)
		return 0;
	/* Code sites do not see a heap object reached through a pointer. */
	for (int i = 0; i < o->nwatch; i++)
		if (strchr(o->watch[i], '*') || strstr(o->watch[i], "->"))
			return 0;
	return 1;
}

/* ---- the slot backends' budget hooks (arm.h) ------------------------------ */

void arm_duty_after_hit(struct thread *t, int unit, int watch, int listening)
{
	(void)watch;
	if (!listening)
		duty_after_trap(t, unit);
}

int arm_duty_may_open(struct thread *t, int unit)
{
	(void)t;
	(void)unit;
	return 1;	/* the duty cycle already thinned the traps out */
}

void arm_duty_opening(struct thread *t, int unit, int watch)
{
	(void)unit;
	duty_force_on(t->proc, watch, t);
}
