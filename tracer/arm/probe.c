/*
 * probe — real round trips, never "arming succeeded" (probe.h says why).
 *
 * Each test forks a child of racewatch itself (same code, same addresses),
 * seizes it, arms the mechanism while the child waits on a pipe, lets it
 * touch probe_target (and call rw_probe_site) `tries` times, and counts the
 * stops of ours that arrive before it exits.  A hit is delivered before the
 * child runs its next instruction, so when the child has exited every hit
 * there was to see has been seen: no deadline to tune.  The child also
 * carries an alarm, so nothing can hang if it never gets going.
 */
#include "probe.h"
#include "hwbp.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_SIGNAL SIGURG	/* what arm_perf.c routes hits to */

const char *const probe_mech_names[PROBE_MECH_COUNT] = {
	[PROBE_PERF] = "perf-breakpoint",
	[PROBE_DR] = "debug-registers",
	[PROBE_INT3] = "int3",
	[PROBE_UPROBE] = "uprobe",
};

static volatile long probe_target;

/* A code site whose first instruction is one byte: an int3 over it is
 * emulated by simply continuing (the nop it replaced does nothing). */
__asm__(".text\n"
	".globl rw_probe_site\n"
	".type rw_probe_site, @function\n"
	"rw_probe_site:\n"
	"\tnop\n"
	"\tret\n"
	".size rw_probe_site, .-rw_probe_site\n");
void rw_probe_site(void);

static void child_body(int rfd, unsigned tries)
{
	char c;

	alarm(5);
	if (read(rfd, &c, 1) != 1)
		_exit(3);
	for (unsigned i = 0; i < tries; i++) {
		probe_target = (long)i;
		rw_probe_site();
	}
	_exit(0);
}

/* The address the hardware mechanisms arm: the real one, or under
 * RACEWATCH_DEBUG=hw-silent one nothing ever touches (see util.h). */
static uint64_t hw_addr(void)
{
	return rw_hw_silent() ? HW_SILENT_ADDR : (uint64_t)(uintptr_t)&probe_target;
}

static int arm_perf_event(pid_t pid, char *why, size_t whylen)
{
	struct f_owner_ex owner = { F_OWNER_TID, pid };
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_RW;
	a.bp_addr = hw_addr();
	a.bp_len = sizeof(long);
	a.sample_period = 1;
	a.wakeup_events = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "perf_event_open: %s", strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, PROBE_SIGNAL) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC) < 0) {
		snprintf(why, whylen, "cannot route breakpoint signals: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int arm_dr(pid_t pid, char *why, size_t whylen)
{
	size_t dr0 = offsetof(struct user, u_debugreg);

	/* DR0 = the address; DR7: L0, read-or-write, 8 bytes. */
	if (ptrace(PTRACE_POKEUSER, pid, (void *)dr0, (void *)hw_addr()) < 0 ||
	    ptrace(PTRACE_POKEUSER, pid, (void *)(dr0 + 7 * sizeof(long)), (void *)0xb0001UL) < 0) {
		snprintf(why, whylen, "cannot set debug registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int arm_int3(pid_t pid, char *why, size_t whylen)
{
	uint64_t site = (uint64_t)(uintptr_t)rw_probe_site;
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)site, NULL);
	if (errno || ptrace(PTRACE_POKETEXT, pid, (void *)site, (void *)((word & ~0xffL) | 0xcc)) < 0) {
		snprintf(why, whylen, "cannot write a breakpoint: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A uprobe on rw_probe_site in our own file (the child is a fork of us). */
static int arm_uprobe_event(pid_t pid, char *why, size_t whylen)
{
	struct f_owner_ex owner = { F_OWNER_TID, pid };
	uint64_t site = (uint64_t)(uintptr_t)rw_probe_site, lo, hi, off = 0;
	static const char self[] = "/proc/self/exe";
	struct perf_event_attr a;
	char line[512];
	int type = -1, fd, found = 0;
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	if (type < 0) {
		snprintf(why, whylen, "this kernel has no uprobe PMU");
		return -1;
	}
	if ((f = fopen("/proc/self/maps", "r"))) {
		while (!found && fgets(line, sizeof(line), f))
			if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &lo, &hi, &off) == 3 &&
			    site >= lo && site < hi)
				found = 1, off += site - lo;
		fclose(f);
	}
	if (!found) {
		snprintf(why, whylen, "cannot find racewatch's own code in its maps");
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.type = (uint32_t)type;
	a.size = sizeof(a);
	a.config1 = (uint64_t)(uintptr_t)self;
	a.config2 = off;
	a.sample_period = 1;
	a.wakeup_events = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "perf_event_open(uprobe): %s%s", strerror(errno),
			 errno == EACCES || errno == EPERM ? " (needs CAP_PERFMON or CAP_SYS_ADMIN)" : "");
		return -1;
	}
	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, PROBE_SIGNAL) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC) < 0) {
		snprintf(why, whylen, "cannot route uprobe signals: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Is this signal-delivery stop one of m's hits?  Consumes it if so. */
static int is_hit(enum probe_mech m, pid_t pid, int sig, int fd)
{
	size_t dr6 = offsetof(struct user, u_debugreg) + 6 * sizeof(long);
	struct user_regs_struct regs;
	siginfo_t si;

	switch (m) {
	case PROBE_PERF:
	case PROBE_UPROBE:
		return sig == PROBE_SIGNAL && ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 &&
		       si.si_fd == fd;
	case PROBE_DR:
		if (sig != SIGTRAP || !(ptrace(PTRACE_PEEKUSER, pid, (void *)dr6, NULL) & 1))
			return 0;
		ptrace(PTRACE_POKEUSER, pid, (void *)dr6, NULL);
		return 1;
	case PROBE_INT3:
		return sig == SIGTRAP && ptrace(PTRACE_GETREGS, pid, NULL, &regs) == 0 &&
		       regs.rip == (uint64_t)(uintptr_t)rw_probe_site + 1;
	default:
		return 0;
	}
}

void probe_mechanism(enum probe_mech m, unsigned tries, struct probe_result *r)
{
	int pfd[2], status, fd = -1;
	uint64_t t0 = 0, t1;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->tries = tries;
	if (pipe2(pfd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		snprintf(r->why, sizeof(r->why), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(pfd[1]);
		child_body(pfd[0], tries);
	}
	close(pfd[0]);
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_EXITKILL) < 0) {
		snprintf(r->why, sizeof(r->why), "needs ptrace: %s", strerror(errno));
		close(pfd[1]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return;
	}
	/* Bring it into a ptrace stop (it waits in read) so it can be armed. */
	ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status)) {
		snprintf(r->why, sizeof(r->why), "the test child did not stop");
		goto out;
	}
	if ((m == PROBE_PERF && (fd = arm_perf_event(pid, r->why, sizeof(r->why))) < 0) ||
	    (m == PROBE_DR && arm_dr(pid, r->why, sizeof(r->why)) < 0) ||
	    (m == PROBE_INT3 && arm_int3(pid, r->why, sizeof(r->why)) < 0) ||
	    (m == PROBE_UPROBE && (fd = arm_uprobe_event(pid, r->why, sizeof(r->why))) < 0))
		goto out;

	t0 = now_ns();
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (write(pfd[1], "g", 1) != 1)
		goto out;
	while (waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status)) {
		int sig = WSTOPSIG(status);

		if ((unsigned)status >> 16) {
			ptrace(PTRACE_CONT, pid, NULL, NULL);	/* an event stop */
		} else if (is_hit(m, pid, sig, fd)) {
			r->hits++;
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		} else {
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig);
		}
	}
	t1 = now_ns();
	pid = -1;	/* reaped */
	if (r->hits)
		r->us_per_hit = (double)(t1 - t0) / 1e3 / r->hits;
	r->ok = r->hits == tries;
	if (r->hits == 0)
		snprintf(r->why, sizeof(r->why), m == PROBE_INT3 || m == PROBE_UPROBE ?
			 "planted, but 0 of %u hits stopped the thread" :
			 "armed, but 0 of %u accesses trapped: this machine does not deliver "
			 "debug-register breakpoints, as some virtual machines do not", tries);
	else if (!r->ok)
		snprintf(r->why, sizeof(r->why), "only %u of %u accesses trapped", r->hits, tries);
out:
	if (fd >= 0)
		close(fd);
	close(pfd[1]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
	}
}
