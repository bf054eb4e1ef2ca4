/*
 * The perf backend: one PERF_TYPE_BREAKPOINT event per thread and slot.
 *
 * Why per slot and not one event: each event watches one address range, and
 * the event's fd (echoed back in si_fd) tells which one fired.  Why
 * sample_period 1: every hit must stop the thread so the engine can look.
 *
 * How a hit reaches us: not with sigtrap=1 but with the event's fasync
 * signal, F_SETSIG'd to SIGURG and owned by the thread itself.  On x86 it is
 * raised by the irq_work of the #DB exception and delivered before the
 * thread runs its next instruction (measured: 20000 of 20000 hits stopped
 * right after the accessing instruction), so it is as precise as sigtrap.
 * The difference is what happens when racewatch dies by SIGKILL while a
 * thread is stopped on, or about to stop on, a hit: the kernel then
 * delivers the signal to the program.  A SIGTRAP would kill it; SIGURG's
 * default action is to ignore it.  The events themselves die with our fds.
 */
#include "arm.h"
#include "counters.h"
#include "trap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef POLL_IN
#define POLL_IN 1
#endif
#ifndef POLL_HUP
#define POLL_HUP 6
#endif

static void perf_close_all(struct thread *t)
{
	for (int i = 0; i < HWBP_SLOTS; i++) {
		if (t->perf_fd[i] >= 0)
			close(t->perf_fd[i]);
		t->perf_fd[i] = -1;
	}
	t->flags &= ~TF_ARMED;
}

int arm_perf_open(pid_t tid, const struct hwbp_slot *s)
{
	struct perf_event_attr a;
	struct f_owner_ex owner = { F_OWNER_TID, tid };
	int fd, e;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = s->kind == HWBP_WRITE ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW;
	a.bp_addr = rw_hw_silent() ? HW_SILENT_ADDR : s->addr;
	a.bp_len = s->len;
	a.sample_period = 1;
	a.wakeup_events = 1;
	a.remove_on_exec = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;

	fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, ARM_PERF_SIGNAL) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -2;
	}
	return fd;
}

static int perf_open_slot(struct thread *t, int slot, char *err, size_t errlen)
{
	const struct hwbp_slot *s = &t->proc->slots[slot];
	int fd = arm_perf_open(t->tid, s);

	if (fd == -2) {
		snprintf(err, errlen, "cannot route breakpoint signals to thread %d: %s",
			 t->tid, strerror(errno));
		return -1;
	}
	if (fd < 0 && errno == ESRCH) {
		/* The thread exited between its stop and now: nothing to arm. */
		snprintf(err, errlen, "thread %d is gone", t->tid);
		return -2;
	}
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "perf_event_open(breakpoint at 0x%llx, %u bytes) on thread %d: %s%s",
			 (unsigned long long)s->addr, s->len, t->tid, strerror(e),
			 e == EACCES || e == EPERM ? " (see /proc/sys/kernel/perf_event_paranoid, or use --backend ptrace)" :
			 e == EMFILE ? " (too many open files: raise ulimit -n)" :
			 e == ENOSPC ? " (no free debug register)" :
			 e == ENOENT || e == EOPNOTSUPP ? " (no hardware breakpoints here: try --backend ptrace)" : "");
		return -1;
	}
	t->perf_fd[slot] = fd;
	return 0;
}

static int perf_arm(struct thread *t, char *err, size_t errlen)
{
	struct proc *p = t->proc;

	if ((t->flags & TF_ARMED) && t->armed_gen == p->gen)
		return 0;
	perf_close_all(t);
	ctr_inc(CTR_ARM_OPS);
	for (int i = 0; i < HWBP_SLOTS; i++) {
		if (!(p->slot_mask & (1u << i)))
			continue;
		int r = perf_open_slot(t, i, err, errlen);

		if (r < 0) {
			perf_close_all(t);
			if (r == -2)
				return -2;
			ctr_inc(CTR_ARM_FAILURES);
			return -1;
		}
	}
	t->armed_gen = p->gen;
	t->flags |= TF_ARMED;
	return 0;
}

static void perf_disarm(struct thread *t)
{
	perf_close_all(t);
}

static int is_our_perf_fd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return strstr(target, "perf_event") != NULL;
}

static int perf_trap_slot(struct thread *t, const siginfo_t *si)
{
	if (si->si_signo != ARM_PERF_SIGNAL || (si->si_code != POLL_IN && si->si_code != POLL_HUP))
		return TRAP_FOREIGN;
	for (int i = 0; i < HWBP_SLOTS; i++)
		if (t->perf_fd[i] >= 0 && t->perf_fd[i] == si->si_fd)
			return (t->proc->slot_mask & (1u << i)) ? i : TRAP_STALE;
	/*
	 * A perf event of ours that is no longer this thread's (a layout
	 * replaced since the hit): ours, but the pc says nothing now.  Rare,
	 * so a readlink here is fine.
	 */
	return is_our_perf_fd(si->si_fd) ? TRAP_STALE : TRAP_FOREIGN;
}

void arm_perf_toggle(struct thread *t, int slot, int on)
{
	if (t->perf_fd[slot] >= 0)
		ioctl(t->perf_fd[slot], on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

int arm_slot_on_stop(const struct arm_backend *b, struct thread *t, int sig,
		     struct access *acc, int *unit)
{
	siginfo_t si;
	int slot;

	if (sig != b->trap_signal || ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) < 0)
		return ARM_FOREIGN;
	slot = b->trap_slot(t, &si);
	if (slot == TRAP_FOREIGN)
		return ARM_FOREIGN;
	if (slot == TRAP_STALE || trap_decode(t, slot, acc) < 0) {
		ctr_inc(CTR_TRAPS_STALE);
		return ARM_CONSUMED;
	}
	*unit = slot;
	return ARM_ACCESS;
}

static int perf_on_stop(struct thread *t, int sig, struct access *acc, int *unit)
{
	return arm_slot_on_stop(&arm_perf, t, sig, acc, unit);
}

const struct arm_backend arm_perf = {
	.name = "perf",
	.trap_signal = ARM_PERF_SIGNAL,
	.arm = perf_arm,
	.disarm = perf_disarm,
	.forget = perf_close_all,
	.trap_slot = perf_trap_slot,
	.on_stop = perf_on_stop,
	.after_hit = arm_duty_after_hit,
	.may_open = arm_duty_may_open,
	.opening = arm_duty_opening,
};
