/*
 * lifecycle — a program whose every observable behaviour must be the same
 * with and without the tracer: threads, fork, vfork + exec, exec of itself,
 * signals (SIGTRAP from raise() and from an int3 instruction included),
 * blocked signals, stdout and stderr, exit status, death by signal.
 *
 * Expected outcome under `racewatch run -w counter -- lifecycle-O1|-O2 MODE`:
 * stdout, stderr and exit status identical to a run without the tracer, and
 * never a `BUG: racewatch` report (`counter` is only touched under
 * counter_lock, by one thread, or by a forked child in its own address space).
 *
 * Modes (argv[1]):
 *   all            threads + fork + vfork/exec + signals, then exec of itself
 *                  in mode after-exec, which exits with status 3
 *   after-exec     threads and an int3 in the freshly exec'd image, exit 3
 *   kill segv|abrt|trap|int3
 *                  die by SIGSEGV (a real fault), SIGABRT (abort()), SIGTRAP
 *                  (raise() with the default action) or SIGTRAP (int3 with
 *                  the default action); RLIMIT_CORE is 0 so no core file
 *   exit N         exit with status N
 *
 * Output is deterministic: no pids, no addresses, stdout flushed after each
 * line so that its order relative to children's output is fixed.
 */
#define _GNU_SOURCE		/* TRAP_* si_codes */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int counter;			/* the watched variable: under counter_lock */
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;

/* NULL, but the compiler cannot know: the store through it must fault. */
volatile int *volatile segv_target;

static volatile sig_atomic_t usr1_code, usr2_hits, trap_hits, trap_code;

static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *si_code_name(int code)
{
	switch (code) {
	case SI_USER:		return "SI_USER";
	case SI_TKILL:		return "SI_TKILL";
	case SI_KERNEL:		return "SI_KERNEL";
	case SI_QUEUE:		return "SI_QUEUE";
	case TRAP_BRKPT:	return "TRAP_BRKPT";
	case TRAP_TRACE:	return "TRAP_TRACE";
	case TRAP_HWBKPT:	return "TRAP_HWBKPT";
	default:		return "other";
	}
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	usr1_code = si->si_code;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2_hits++;
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	trap_hits++;
	trap_code = si->si_code;
}

/* ---- threads ----------------------------------------------------------- */

struct work {
	int rounds;
};

static void *bump(void *arg)
{
	const struct work *w = arg;

	for (int i = 0; i < w->rounds; i++) {
		pthread_mutex_lock(&counter_lock);
		counter++;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

/* nthreads threads each add rounds to counter under counter_lock. */
static void run_threads(int nthreads, int rounds)
{
	pthread_t t[8];
	struct work w = { rounds };

	counter = 0;		/* single-threaded here */
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, bump, &w)) {
			err("lifecycle: pthread_create failed");
			exit(1);
		}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	out("threads: %d x %d -> counter=%d", nthreads, rounds, counter);
}

static void report_status(const char *who, int status)
{
	if (WIFEXITED(status))
		out("%s exited with status %d", who, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		out("%s killed by signal %d", who, WTERMSIG(status));
	else
		out("%s: unexpected wait status", who);
}

/* ---- mode all ---------------------------------------------------------- */

static void do_fork(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err("lifecycle: fork failed");
		exit(1);
	}
	if (pid == 0) {
		/* The child's own copy of counter: no race with the parent. */
		for (int i = 0; i < 100; i++)
			counter++;
		printf("fork child: counter=%d\n", counter);
		exit(5);
	}
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&counter_lock);
		counter--;
		pthread_mutex_unlock(&counter_lock);
	}
	if (waitpid(pid, &status, 0) != pid) {
		err("lifecycle: waitpid failed");
		exit(1);
	}
	report_status("fork child", status);
	out("fork parent: counter=%d", counter);
}

static void do_vfork_exec(void)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = vfork();
	if (pid < 0) {
		err("lifecycle: vfork failed");
		exit(1);
	}
	if (pid == 0) {
		execl("/bin/echo", "echo", "vfork child: echo ran", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid) {
		err("lifecycle: waitpid failed");
		exit(1);
	}
	report_status("vfork child", status);
}

static void do_signals(void)
{
	struct sigaction sa;
	sigset_t set, pending;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	signal(SIGUSR2, on_usr2);

	raise(SIGUSR1);
	out("SIGUSR1 handled: si_code=%s", si_code_name(usr1_code));

	raise(SIGTRAP);
	out("SIGTRAP from raise: handled %d time(s), si_code=%s",
	    (int)trap_hits, si_code_name(trap_code));

	__asm__ volatile("int3");
	out("SIGTRAP from int3: handled %d time(s), si_code=%s",
	    (int)trap_hits, si_code_name(trap_code));

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	sigpending(&pending);
	out("SIGUSR2 blocked: pending=%s handled=%d",
	    sigismember(&pending, SIGUSR2) ? "yes" : "no", (int)usr2_hits);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	out("SIGUSR2 unblocked: handled=%d", (int)usr2_hits);
}

static int mode_all(void)
{
	out("lifecycle: start");
	err("lifecycle: stderr at start");
	run_threads(4, 250);
	do_fork();
	do_vfork_exec();
	do_signals();
	err("lifecycle: stderr before exec");
	out("exec: after-exec");
	fflush(NULL);
	execl("/proc/self/exe", "lifecycle", "after-exec", (char *)NULL);
	err("lifecycle: exec failed");
	return 1;
}

static int mode_after_exec(void)
{
	struct sigaction sa;

	out("after-exec: start");
	run_threads(2, 100);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO;
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	__asm__ volatile("int3");
	out("after-exec: SIGTRAP from int3: handled %d time(s), si_code=%s",
	    (int)trap_hits, si_code_name(trap_code));
	err("after-exec: stderr, exiting with status 3");
	out("after-exec: exit 3");
	return 3;
}

/* ---- mode kill --------------------------------------------------------- */

static int mode_kill(const char *how)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	out("kill: %s", how);
	err("kill: dying by %s", how);
	if (!strcmp(how, "segv")) {
		*segv_target = 1;
	} else if (!strcmp(how, "abrt")) {
		abort();
	} else if (!strcmp(how, "trap")) {
		signal(SIGTRAP, SIG_DFL);
		raise(SIGTRAP);
	} else if (!strcmp(how, "int3")) {
		signal(SIGTRAP, SIG_DFL);
		__asm__ volatile("int3");
	} else {
		err("lifecycle: kill segv|abrt|trap|int3");
		return 2;
	}
	out("kill: survived %s", how);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "all";

	if (!strcmp(mode, "all"))
		return mode_all();
	if (!strcmp(mode, "after-exec"))
		return mode_after_exec();
	if (!strcmp(mode, "kill"))
		return mode_kill(argc > 2 ? argv[2] : "segv");
	if (!strcmp(mode, "exit") && argc > 2) {
		int n = (int)strtol(argv[2], NULL, 0);

		out("exit: %d", n);
		return n;
	}
	err("usage: lifecycle all | after-exec | kill segv|abrt|trap|int3 | exit N");
	return 2;
}
