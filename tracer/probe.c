/*
 * probe — can this machine do what racewatch needs?  Tries each thing for
 * real on a throw-away child: ptrace, a perf breakpoint with sigtrap, and
 * the debug registers through PTRACE_POKEUSER.  Tests skip on what fails.
 */
#include "probe.h"
#include "util.h"

#include <errno.h>
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

static volatile long probe_target;

int probe_main(void)
{
	struct perf_event_attr a;
	int status, fd, ok_ptrace = 0;
	pid_t pid = fork();

	if (pid < 0) {
		rw_error("fork: %s", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		raise(SIGSTOP);
		for (;;)
			pause();
	}
	waitpid(pid, &status, WSTOPPED);

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0) {
		ok_ptrace = 1;
		printf("ptrace: yes\n");
	} else {
		printf("ptrace: no (%s)\n", strerror(errno));
	}

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_RW;
	a.bp_addr = (unsigned long)&probe_target;
	a.bp_len = sizeof(long);
	a.sample_period = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		printf("perf-breakpoint: yes\n");
		close(fd);
	} else {
		printf("perf-breakpoint: no (%s)\n", strerror(errno));
	}

	if (ok_ptrace) {
		size_t dr0 = offsetof(struct user, u_debugreg), dr7 = dr0 + 7 * sizeof(long);

		/* Bring the seized child into a ptrace stop so its registers can be set. */
		ptrace(PTRACE_INTERRUPT, pid, NULL, NULL);
		waitpid(pid, &status, __WALL);
		if (ptrace(PTRACE_POKEUSER, pid, (void *)dr0, (void *)&probe_target) == 0 &&
		    ptrace(PTRACE_POKEUSER, pid, (void *)dr7, (void *)0xf0001UL) == 0) {
			printf("debug-registers: yes\n");
			ptrace(PTRACE_POKEUSER, pid, (void *)dr7, NULL);
		} else {
			printf("debug-registers: no (%s)\n", strerror(errno));
		}
	} else {
		printf("debug-registers: no (needs ptrace)\n");
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, __WALL);
	return 0;
}
