/*
 * The perf backend: one PERF_TYPE_BREAKPOINT event per thread and slot.
 *
 * Why per slot and not one event: each event watches one address range, and
 * sig_data (echoed back in si_perf_data) tells which one fired.  Why
 * sample_period 1: every hit must stop the thread so the engine can look.
 */
#include "arm.h"
#include "counters.h"
#include "util.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif
#ifndef TRAP_PERF_FLAG_ASYNC
#define TRAP_PERF_FLAG_ASYNC 1u
#endif

/* sig_data: a cookie in the top 32 bits, the layout generation, the slot. */
#define COOKIE		0x52415745ull	/* "RAWE" */
#define SIGDATA(gen, slot) ((COOKIE << 32) | ((uint64_t)((gen) & 0xffffff) << 8) | (uint64_t)(slot))

/*
 * glibc's siginfo_t does not name the TRAP_PERF fields; the kernel's layout
 * (include/uapi/asm-generic/siginfo.h) puts them right after si_addr:
 * unsigned long data at byte 24, u32 type at 32, u32 flags at 36 on x86-64.
 */
struct perf_sigfields {
	uint64_t data;
	uint32_t type;
	uint32_t flags;
};
_Static_assert(sizeof(siginfo_t) >= 24 + sizeof(struct perf_sigfields), "siginfo layout");

static void perf_close_all(struct thread *t)
{
	for (int i = 0; i < HWBP_SLOTS; i++) {
		if (t->perf_fd[i] >= 0)
			close(t->perf_fd[i]);
		t->perf_fd[i] = -1;
	}
	t->flags &= ~TF_ARMED;
}

static int perf_open_slot(struct thread *t, int slot, char *err, size_t errlen)
{
	const struct hwbp_slot *s = &t->proc->slots[slot];
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = s->kind == HWBP_WRITE ? HW_BREAKPOINT_W : HW_BREAKPOINT_RW;
	a.bp_addr = s->addr;
	a.bp_len = s->len;
	a.sample_period = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.sig_data = SIGDATA(t->proc->gen, slot);

	fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "perf_event_open(breakpoint at 0x%llx, %u bytes) on thread %d: %s%s",
			 (unsigned long long)s->addr, s->len, t->tid, strerror(e),
			 e == EACCES || e == EPERM ? " (see /proc/sys/kernel/perf_event_paranoid, or use --backend ptrace)" :
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
		if (perf_open_slot(t, i, err, errlen) < 0) {
			perf_close_all(t);
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

static int perf_trap_slot(struct thread *t, const siginfo_t *si)
{
	struct perf_sigfields f;
	unsigned slot, gen;

	if (si->si_code != TRAP_PERF)
		return TRAP_FOREIGN;
	memcpy(&f, (const char *)si + 24, sizeof(f));
	if ((f.data >> 32) != COOKIE || f.type != PERF_TYPE_BREAKPOINT)
		return TRAP_FOREIGN;	/* the program's own perf sigtrap event */
	slot = (unsigned)(f.data & 0xff);
	gen = (unsigned)((f.data >> 8) & 0xffffff);
	/*
	 * Delivered asynchronously: the program had SIGTRAP blocked, so the
	 * thread is no longer right after the access.  Or from a layout we
	 * have since replaced.  Either way the pc says nothing: drop it.
	 */
	if ((f.flags & TRAP_PERF_FLAG_ASYNC) || slot >= HWBP_SLOTS ||
	    gen != (t->proc->gen & 0xffffff) || !(t->proc->slot_mask & (1u << slot)))
		return TRAP_STALE;
	return (int)slot;
}

const struct arm_backend arm_perf = {
	.name = "perf",
	.arm = perf_arm,
	.disarm = perf_disarm,
	.forget = perf_close_all,
	.trap_slot = perf_trap_slot,
};
