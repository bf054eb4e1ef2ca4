/*
 * rawcost — the raw cost on this machine of one watchpoint hit served by a
 * ptrace tracer, without racewatch: the floor its per-trap service cost is
 * compared against.
 *
 * A child stores to a variable HITS times in a loop; a hardware watchpoint
 * on it stops the child after every store and this tracer resumes it.
 *   ptrace: the watchpoint is set with PTRACE_POKEUSER (DR0 + DR7); each
 *           hit is a SIGTRAP stop; waitpid, PTRACE_CONT 0.
 *   perf:   perf_event_open(PERF_TYPE_BREAKPOINT, sigtrap=1) on the traced
 *           child; each hit is a SIGTRAP (TRAP_PERF) stop, suppressed by
 *           PTRACE_CONT 0.
 *   perf-urg: the same event without sigtrap, its fasync signal F_SETSIG'd
 *           to SIGURG and owned by the child's thread (what racewatch's
 *           perf backend uses since c1690b5); each hit is a SIGURG stop.
 * The figure is the interval between successive waitpid returns, i.e. one
 * whole round trip: tracer resumes, child stores, traps, tracer wakes.
 *
 * LOOP says how the tracer waits and what it does per hit, to split the
 * cost the way racewatch's event loop spends it:
 *   bare:   waitpid, PTRACE_CONT                            (the floor)
 *   regs:   + PTRACE_GETSIGINFO + PTRACE_GETREGS            (what a trap needs)
 *   poll:   + poll on a signalfd for SIGCHLD, read it, waitpid WNOHANG
 *             until empty                                   (racewatch's loop)
 * PLACE pins the two: default (the scheduler decides), same (both on
 * CPU 0), split (tracer on CPU 0, child on CPU 1).
 *
 * Usage: rawcost ptrace|perf|perf-urg [HITS [bare|regs|poll [default|same|split]]]
 * Prints one line: "rawcost: BACKEND LOOP PLACE hits N median U us p10 U p90 U mean U".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 200

static volatile long target;	/* the watched variable, same address in the child */

static void die(const char *what)
{
	fprintf(stderr, "rawcost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void child(long hits, int cpu)
{
	if (cpu >= 0)
		pin(cpu);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(1);
	raise(SIGSTOP);	/* the tracer arms the watchpoint here */
	for (long i = 0; i < hits; i++)
		target = i;
	_exit(0);
}

static void arm_ptrace(pid_t pid)
{
	/* DR7: L0 enable, R/W0 = 01 (write), LEN0 = 11 (8 bytes). */
	unsigned long dr7 = 1ul | (1ul << 16) | (3ul << 18);

	if (ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]), (void *)&target) < 0 ||
	    ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]), (void *)dr7) < 0)
		die("PTRACE_POKEUSER debug registers");
}

static void arm_perf(pid_t pid, int urg)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = (uint64_t)(uintptr_t)&target;
	a.bp_len = HW_BREAKPOINT_LEN_8;
	a.sample_period = 1;
	a.wakeup_events = 1;
	a.sigtrap = !urg;
	a.remove_on_exec = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		die("perf_event_open breakpoint");
	if (urg) {
		struct f_owner_ex owner = { F_OWNER_TID, pid };

		if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, SIGURG) < 0 ||
		    fcntl(fd, F_SETFL, O_ASYNC) < 0)
			die("fcntl fasync SIGURG");
	}
}

/* Wait for the next stop of pid the way `loop` says; returns its status. */
static int next_stop(pid_t pid, int loop, int sfd)
{
	int status;

	if (loop == 2) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;
		pid_t got;

		for (;;) {
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
			got = waitpid(-1, &status, __WALL | WNOHANG);
			if (got == pid)
				break;
			if (got < 0)
				die("waitpid");
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				die("poll");
		}
		/* racewatch drains with WNOHANG until empty before polling again */
		(void)waitpid(-1, &(int){ 0 }, __WALL | WNOHANG);
		return status;
	}
	if (waitpid(pid, &status, __WALL) != pid)
		die("waitpid");
	return status;
}

int main(int argc, char **argv)
{
	static const char *loops[] = { "bare", "regs", "poll" };
	static const char *places[] = { "default", "same", "split" };
	const char *backend = argc > 1 ? argv[1] : "ptrace";
	long hits = argc > 2 ? atol(argv[2]) : 20000;
	int loop = 0, place = 0, status, sfd = -1;
	uint64_t *lat, prev, sum = 0;
	long n = 0;
	pid_t pid;

	for (int i = 0; i < 3; i++) {
		if (argc > 3 && !strcmp(argv[3], loops[i]))
			loop = i + 1;
		if (argc > 4 && !strcmp(argv[4], places[i]))
			place = i + 1;
	}
	if ((strcmp(backend, "ptrace") && strcmp(backend, "perf") && strcmp(backend, "perf-urg")) || hits < 10 ||
	    (argc > 3 && !loop) || (argc > 4 && !place)) {
		fprintf(stderr, "usage: rawcost ptrace|perf|perf-urg [HITS [bare|regs|poll [default|same|split]]]\n");
		return 2;
	}
	loop = loop ? loop - 1 : 0;
	place = place ? place - 1 : 0;
	lat = calloc((size_t)hits + WARMUP, sizeof(*lat));
	if (!lat)
		die("calloc");

	if (place > 0)
		pin(0);
	if (loop == 2) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
		sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sfd < 0)
			die("signalfd");
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		child(hits + WARMUP, place == 2 ? 1 : -1);
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		die("child did not stop");
	if (!strcmp(backend, "ptrace"))
		arm_ptrace(pid);
	else
		arm_perf(pid, !strcmp(backend, "perf-urg"));
	ptrace(PTRACE_CONT, pid, NULL, NULL);

	prev = now_ns();
	for (;;) {
		status = next_stop(pid, loop, sfd);
		if (!WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != (strcmp(backend, "perf-urg") ? SIGTRAP : SIGURG)) {
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
			continue;
		}
		uint64_t t = now_ns();

		lat[n++] = t - prev;
		prev = t;
		if (loop >= 1) {
			struct user_regs_struct regs;
			siginfo_t si;

			if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0 ||
			    ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
				die("PTRACE_GETSIGINFO/GETREGS");
		}
		if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0)
			die("PTRACE_CONT");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != hits + WARMUP) {
		fprintf(stderr, "rawcost: child ended badly after %ld of %ld hits (status 0x%x)\n",
			n, hits + WARMUP, status);
		return 1;
	}
	/* The first stops pay for page faults and cold caches: drop them. */
	for (long i = WARMUP; i < n; i++)
		sum += lat[i];
	qsort(lat + WARMUP, (size_t)hits, sizeof(*lat), cmp_u64);
	printf("rawcost: %s %s %s hits %ld median %.2f us p10 %.2f p90 %.2f mean %.2f\n",
	       backend, loops[loop], places[place], hits,
	       lat[WARMUP + hits / 2] / 1e3, lat[WARMUP + hits / 10] / 1e3,
	       lat[WARMUP + hits * 9 / 10] / 1e3, sum / 1e3 / (double)hits);
	return 0;
}
