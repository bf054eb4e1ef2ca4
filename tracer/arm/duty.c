#include "duty.h"
#include "arm.h"
#include "counters.h"
#include "options.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define TRAP_COST_NS 25000ull	/* one hit served (DESIGN.md section 9) */
#define BURST 128.0		/* traps a (thread, slot) may take before the budget bites */

/* A slot switched off, to be switched on at `when`. */
struct off {
	struct thread *t;
	int slot;
	uint64_t when;
};

static struct off *offs;
static int noffs, capoffs;
static int timer_fd = -1;
static uint64_t min_gap_ns;	/* per thread: time between two traps at budget */

int duty_init(const struct options *o, int can_toggle)
{
	double stall_ns, share;

	if (!o->overhead_pct || !can_toggle)
		return -1;
	/* Sampled traps open a window: charge each trap ~3/4 of --delay too. */
	stall_ns = o->sample <= 1 ? 0.75 * o->delay_us * 1000.0 : 0.75 * o->delay_us * 1000.0 / o->sample;
	share = o->overhead_pct / 100.0;
	min_gap_ns = (uint64_t)(((double)TRAP_COST_NS + stall_ns) / share);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	rw_debug("duty cycle: at most one trap per %llu us per thread and slot",
		 (unsigned long long)(min_gap_ns / 1000));
	return timer_fd;
}

static void rearm_timer(void)
{
	struct itimerspec its;
	uint64_t first = 0;

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
	if (t->perf_fd[slot] >= 0)
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

	if (timer_fd < 0 || slot < 0 || slot >= HWBP_SLOTS)
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

void duty_force_on(struct proc *p, int watch, const struct thread *except)
{
	if (timer_fd < 0)
		return;
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

void duty_expire(void)
{
	uint64_t buf, now = now_ns();

	while (read(timer_fd, &buf, sizeof(buf)) > 0)
		;
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
	if (timer_fd < 0)
		return;
	for (int i = 0; i < noffs;)
		if (offs[i].t == t)
			drop(i);
		else
			i++;
	t->duty_off = 0;
	rearm_timer();
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
