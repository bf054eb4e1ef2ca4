/*
 * rawcost — the raw cost on this machine of one watchpoint hit served by a
 * ptrace tracer, without racewatch: the floor its per-trap service cost is
 * compared against.
 *
 * A child runs an access HITS times in a loop; a watchpoint or a code
 * breakpoint on it stops the child at every hit and this tracer resumes it.
 *   ptrace: a hardware watchpoint set with PTRACE_POKEUSER (DR0 + DR7) on a
 *           variable the child stores to; each hit is a SIGTRAP stop;
 *           waitpid, PTRACE_CONT 0.
 *   perf:   perf_event_open(PERF_TYPE_BREAKPOINT, sigtrap=1) on the traced
 *           child; each hit is a SIGTRAP (TRAP_PERF) stop, suppressed by
 *           PTRACE_CONT 0.
 *   perf-urg: the same event without sigtrap, its fasync signal F_SETSIG'd
 *           to SIGURG and owned by the child's thread (what racewatch's
 *           perf backend uses since c1690b5); each hit is a SIGURG stop.
 *   int3:   an int3 written with PTRACE_POKETEXT over a one-byte nop the
 *           child calls; each hit is a SIGTRAP stop, emulated by simply
 *           continuing (what `racewatch probe` measures).  The floor of one
 *           code-breakpoint stop.
 *   int3-ool: an int3 over a store `mov %rdi,(%rsi)`, the store executed
 *           out of line the way racewatch's code backend does it: at the
 *           site stop the tracer moves rip to a copy [store][int3] in a page
 *           of the child, at the second stop moves it back past the site
 *           (GETREGS + SETREGS at each).  Two stops per hit: the floor of
 *           one hit served by --backend code.
 *   uprobe: a perf `uprobe` event (config1 = path, config2 = file offset of
 *           the same store) opened on the child's thread, its fasync signal
 *           F_SETSIG'd to SIGURG; the kernel runs the store out of line
 *           itself and each hit is one SIGURG stop after it.
 *   uprobe-open: no hits: the latency of opening that event on the stopped
 *           child (perf_event_open + fasync set-up) and of closing it,
 *           HITS times; prints "first U us open median U ... close median U".
 * The hit figure is the interval between successive site stops, i.e. one
 * whole round trip: tracer resumes, child runs the access, stops, tracer
 * wakes.
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
 * Usage: rawcost MECH [HITS [bare|regs|poll [default|same|split]]]
 * Prints one line: "rawcost: MECH LOOP PLACE hits N median U us p10 U p90 U mean U",
 * or "rawcost: MECH unavailable: WHY" (exit 3) where this machine lacks it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 200

enum mech { M_PTRACE, M_PERF, M_PERF_URG, M_INT3, M_INT3_OOL, M_UPROBE, M_UPROBE_OPEN, M_COUNT };
static const char *const mech_names[M_COUNT] = {
	[M_PTRACE] = "ptrace", [M_PERF] = "perf", [M_PERF_URG] = "perf-urg", [M_INT3] = "int3",
	[M_INT3_OOL] = "int3-ool", [M_UPROBE] = "uprobe", [M_UPROBE_OPEN] = "uprobe-open",
};

static volatile long target;	/* the watched variable, same address in the child */

/*
 * The code sites, in their own functions so the child calls them and a
 * breakpoint can sit on their first instruction:
 *   rawcost_nop_site:   nop; ret            (int3 over the nop: just continue)
 *   rawcost_store_site: mov %rdi,(%rsi); ret  (3 bytes, no rip-relative
 *                       operand: its copy runs the same anywhere)
 */
__asm__(".text\n"
	".globl rawcost_nop_site\n"
	".type rawcost_nop_site, @function\n"
	"rawcost_nop_site:\n"
	"\tnop\n"
	"\tret\n"
	".size rawcost_nop_site, .-rawcost_nop_site\n"
	".globl rawcost_store_site\n"
	".type rawcost_store_site, @function\n"
	"rawcost_store_site:\n"
	"\tmov %rdi, (%rsi)\n"
	"\tret\n"
	".size rawcost_store_site, .-rawcost_store_site\n");
void rawcost_nop_site(void);
void rawcost_store_site(long value, volatile long *where);
#define STORE_LEN 3		/* 48 89 3e */

static uint8_t *ool;		/* [store][int3]: mapped before the fork, so the child has it too */

static void die(const char *what)
{
	fprintf(stderr, "rawcost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void unavailable(enum mech m, const char *why)
{
	printf("rawcost: %s unavailable: %s\n", mech_names[m], why);
	exit(3);
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

static void child(enum mech m, long hits, int cpu)
{
	if (cpu >= 0)
		pin(cpu);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(1);
	raise(SIGSTOP);	/* the tracer arms the watchpoint here */
	for (long i = 0; i < hits; i++) {
		if (m == M_INT3)
			rawcost_nop_site();
		else if (m == M_INT3_OOL || m == M_UPROBE)
			rawcost_store_site(i, &target);
		else
			target = i;
	}
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

/* Route fd's fasync signal to pid's thread as SIGURG. */
static void fasync_urg(int fd, pid_t pid)
{
	struct f_owner_ex owner = { F_OWNER_TID, pid };

	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, SIGURG) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC) < 0)
		die("fcntl fasync SIGURG");
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
	if (urg)
		fasync_urg(fd, pid);
}

/* Write an int3 over the first byte of the code at addr in pid. */
static void plant_int3(pid_t pid, uintptr_t addr)
{
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, NULL);
	if (errno || ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)((word & ~0xffL) | 0xcc)) < 0)
		die("PTRACE_POKETEXT int3");
}

/* The uprobe PMU's type, the executable's path and the file offset of
 * rawcost_store_site in it (from our own mappings: the child is a fork). */
struct uprobe_site {
	int type;
	char path[PATH_MAX];
	uint64_t offset;
};

static void uprobe_find(struct uprobe_site *u)
{
	uintptr_t site = (uintptr_t)rawcost_store_site;
	char line[PATH_MAX + 128];
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	ssize_t n;
	int found = 0;

	if (!f || fscanf(f, "%d", &u->type) != 1)
		unavailable(M_UPROBE, "no uprobe PMU (/sys/bus/event_source/devices/uprobe/type)");
	fclose(f);
	n = readlink("/proc/self/exe", u->path, sizeof(u->path) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe");
	u->path[n] = '\0';
	f = fopen("/proc/self/maps", "r");
	if (!f)
		die("/proc/self/maps");
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t lo, hi, off;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64, &lo, &hi, &off) == 3 &&
		    site >= lo && site < hi) {
			u->offset = site - lo + off;
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		die("the store site is in no mapping");
}

/* Open the uprobe on pid's thread, its hits as SIGURG; returns the fd, or
 * exits with "unavailable" when the kernel refuses (no CAP_PERFMON...). */
static int open_uprobe(const struct uprobe_site *u, pid_t pid)
{
	struct perf_event_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.type = (uint32_t)u->type;
	a.size = sizeof(a);
	a.config1 = (uint64_t)(uintptr_t)u->path;
	a.config2 = u->offset;
	a.sample_period = 1;
	a.wakeup_events = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		char why[128];

		snprintf(why, sizeof(why), "perf_event_open uprobe: %s", strerror(errno));
		unavailable(M_UPROBE, why);
	}
	fasync_urg(fd, pid);
	return fd;
}

/* uprobe-open: open and close the event on the stopped child n times. */
static void uprobe_open_cost(const struct uprobe_site *u, pid_t pid, long n)
{
	uint64_t *op = calloc((size_t)n, sizeof(*op)), *cl = calloc((size_t)n, sizeof(*cl)), first;

	if (!op || !cl)
		die("calloc");
	for (long i = 0; i < n; i++) {
		uint64_t t0 = now_ns(), t1, t2;
		int fd = open_uprobe(u, pid);

		t1 = now_ns();
		close(fd);
		t2 = now_ns();
		op[i] = t1 - t0;
		cl[i] = t2 - t1;
	}
	first = op[0];
	qsort(op, (size_t)n, sizeof(*op), cmp_u64);
	qsort(cl, (size_t)n, sizeof(*cl), cmp_u64);
	printf("rawcost: uprobe-open times %ld first %.2f us open median %.2f us p90 %.2f close median %.2f us p90 %.2f\n",
	       n, first / 1e3, op[n / 2] / 1e3, op[n * 9 / 10] / 1e3, cl[n / 2] / 1e3, cl[n * 9 / 10] / 1e3);
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

/* Move the stopped pid's rip: to the out-of-line copy at the site stop,
 * back past the site at the copy's int3.  Returns 1 at the site stop (the
 * start of a hit), 0 at the copy's. */
static int ool_step(pid_t pid)
{
	uintptr_t site = (uintptr_t)rawcost_store_site;
	struct user_regs_struct regs;
	int at_site;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
		die("PTRACE_GETREGS");
	at_site = regs.rip == site + 1;
	if (at_site)
		regs.rip = (uintptr_t)ool;
	else if (regs.rip == (uintptr_t)ool + STORE_LEN + 1)
		regs.rip = site + STORE_LEN;
	else {
		fprintf(stderr, "rawcost: int3-ool: stop at unexpected rip 0x%llx\n", regs.rip);
		exit(1);
	}
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs) < 0)
		die("PTRACE_SETREGS");
	return at_site;
}

int main(int argc, char **argv)
{
	static const char *loops[] = { "bare", "regs", "poll" };
	static const char *places[] = { "default", "same", "split" };
	const char *name = argc > 1 ? argv[1] : "ptrace";
	long hits = argc > 2 ? atol(argv[2]) : 20000;
	int loop = 0, place = 0, status, sfd = -1, hit_sig;
	enum mech m = M_COUNT;
	struct uprobe_site up;
	uint64_t *lat, prev, sum = 0;
	long n = 0;
	pid_t pid;

	for (int i = 0; i < M_COUNT; i++)
		if (!strcmp(name, mech_names[i]))
			m = (enum mech)i;
	for (int i = 0; i < 3; i++) {
		if (argc > 3 && !strcmp(argv[3], loops[i]))
			loop = i + 1;
		if (argc > 4 && !strcmp(argv[4], places[i]))
			place = i + 1;
	}
	if (m == M_COUNT || hits < 10 || (argc > 3 && !loop) || (argc > 4 && !place)) {
		fprintf(stderr, "usage: rawcost ptrace|perf|perf-urg|int3|int3-ool|uprobe|uprobe-open "
			"[HITS [bare|regs|poll [default|same|split]]]\n");
		return 2;
	}
	loop = loop ? loop - 1 : 0;
	place = place ? place - 1 : 0;
	hit_sig = (m == M_PERF_URG || m == M_UPROBE) ? SIGURG : SIGTRAP;
	lat = calloc((size_t)hits + WARMUP, sizeof(*lat));
	if (!lat)
		die("calloc");
	if (m == M_UPROBE || m == M_UPROBE_OPEN)
		uprobe_find(&up);
	if (m == M_INT3_OOL) {
		ool = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ool == MAP_FAILED)
			die("mmap");
		memcpy(ool, (const void *)(uintptr_t)rawcost_store_site, STORE_LEN);
		ool[STORE_LEN] = 0xcc;
		if (mprotect(ool, 4096, PROT_READ | PROT_EXEC) < 0)
			die("mprotect");
	}

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
		child(m, m == M_UPROBE_OPEN ? 0 : hits + WARMUP, place == 2 ? 1 : -1);
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		die("child did not stop");
	switch (m) {
	case M_PTRACE:
		arm_ptrace(pid);
		break;
	case M_PERF:
	case M_PERF_URG:
		arm_perf(pid, m == M_PERF_URG);
		break;
	case M_INT3:
		plant_int3(pid, (uintptr_t)rawcost_nop_site);
		break;
	case M_INT3_OOL:
		plant_int3(pid, (uintptr_t)rawcost_store_site);
		break;
	case M_UPROBE:
		(void)open_uprobe(&up, pid);
		break;
	case M_UPROBE_OPEN:
		uprobe_open_cost(&up, pid, hits);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 0;
	default:
		break;
	}
	ptrace(PTRACE_CONT, pid, NULL, NULL);

	prev = now_ns();
	for (;;) {
		status = next_stop(pid, loop, sfd);
		if (!WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != hit_sig) {
			ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
			continue;
		}
		if (loop >= 1) {
			struct user_regs_struct regs;
			siginfo_t si;

			if (ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) < 0 ||
			    ptrace(PTRACE_GETREGS, pid, NULL, &regs) < 0)
				die("PTRACE_GETSIGINFO/GETREGS");
		}
		if (m != M_INT3_OOL || ool_step(pid)) {
			uint64_t t = now_ns();

			if (n < hits + WARMUP)
				lat[n] = t - prev;
			n++;
			prev = t;
		}
		if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0)
			die("PTRACE_CONT");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n != hits + WARMUP) {
		fprintf(stderr, "rawcost: child ended badly after %ld of %ld hits (status 0x%x)%s\n",
			n, hits + WARMUP, status,
			n == 0 && (m == M_PTRACE || m == M_PERF || m == M_PERF_URG) ?
			": no hit at all, does this machine deliver hardware breakpoints? (racewatch probe)" : "");
		return 1;
	}
	/* The first stops pay for page faults and cold caches: drop them. */
	for (long i = WARMUP; i < n; i++)
		sum += lat[i];
	qsort(lat + WARMUP, (size_t)hits, sizeof(*lat), cmp_u64);
	printf("rawcost: %s %s %s hits %ld median %.2f us p10 %.2f p90 %.2f mean %.2f\n",
	       name, loops[loop], places[place], hits,
	       lat[WARMUP + hits / 2] / 1e3, lat[WARMUP + hits / 10] / 1e3,
	       lat[WARMUP + hits * 9 / 10] / 1e3, sum / 1e3 / (double)hits);
	return 0;
}
