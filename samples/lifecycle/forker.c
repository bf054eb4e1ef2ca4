/*
 * forker — a data race that happens only in a forked (or vforked and
 * exec'd) child, or only after an exec: the target of lifecycle.sh's
 * --follow-fork and exec checks.
 *
 * The race is on `child_hot`: child_write() stores to it while child_read()
 * loads it, in two threads, with no synchronisation.  The parent touches
 * child_hot only while it is single-threaded, so the parent never races.
 *
 * Usage: forker [-a] [-n ITER] MODE
 *   -a       first print "forker: ready pid=P" and wait (up to 60 s) until a
 *            tracer is attached (TracerPid in /proc/self/status), so that
 *            `racewatch attach` sees the fork or exec happen
 *   -n ITER  iterations per racing thread (default 2000)
 *   MODE     fork   fork; the child races, the parent waits for it
 *            vfork  vfork; the child execs this program in mode `race`
 *            exec   exec this program in mode `race` (no child)
 *            race   race in this process
 *
 * Every racing process first prints "race: traced" or "race: untraced"
 * (its TracerPid), then "race: done"; the parent "parent: child exited 0".
 * Exit status 0.
 *
 * Expected outcome under racewatch -w child_hot:
 *   race, exec                   BUG: racewatch: data-race in child_read /
 *                                child_write (exec: after the exec)
 *   fork, vfork + --follow-fork  the same report; the child says "traced"
 *   fork, vfork without it       never a report; the child says "untraced"
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int child_hot;			/* raced on in the child only */
static long iterations = 2000;
static pthread_barrier_t start;

#define compiler_barrier() __asm__ volatile("" ::: "memory")

static long tracer_pid(void)
{
	char line[256];
	long pid = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			pid = atol(line + 10);
	fclose(f);
	return pid;
}

__attribute__((noinline)) void child_write(int v)
{
	child_hot = v;	/* RACE-WRITE */
	compiler_barrier();
}

__attribute__((noinline)) int child_read(void)
{
	int v = child_hot;	/* RACE-READ */

	compiler_barrier();
	return v;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++)
		child_write((int)i);
	return NULL;
}

static void *reader(void *arg)
{
	long sum = 0;

	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++)
		sum += child_read();
	return (void *)sum;
}

static int race(void)
{
	pthread_t w, r;

	printf("race: %s\n", tracer_pid() > 0 ? "traced" : "untraced");
	fflush(stdout);
	pthread_barrier_init(&start, NULL, 2);
	if (pthread_create(&w, NULL, writer, NULL) || pthread_create(&r, NULL, reader, NULL)) {
		fprintf(stderr, "forker: pthread_create failed\n");
		return 1;
	}
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	printf("race: done\n");
	return 0;
}

static void exec_race(void)
{
	char n[32];

	snprintf(n, sizeof(n), "%ld", iterations);
	execl("/proc/self/exe", "forker", "-n", n, "race", (char *)NULL);
	_exit(127);
}

int main(int argc, char **argv)
{
	int opt, wait_traced = 0, status;
	const char *mode;
	pid_t pid;

	while ((opt = getopt(argc, argv, "an:")) != -1) {
		switch (opt) {
		case 'a': wait_traced = 1; break;
		case 'n': iterations = atol(optarg); break;
		default: goto usage;
		}
	}
	if (optind >= argc || iterations < 1)
		goto usage;
	mode = argv[optind];
	child_hot = 1;		/* single-threaded: no race in the parent */
	if (wait_traced) {
		printf("forker: ready pid=%d\n", (int)getpid());
		fflush(stdout);
		for (int i = 0; i < 60000 && tracer_pid() <= 0; i++)
			usleep(1000);
	}
	if (!strcmp(mode, "race"))
		return race();
	if (!strcmp(mode, "exec")) {
		fflush(stdout);
		exec_race();
	}
	if (strcmp(mode, "fork") && strcmp(mode, "vfork"))
		goto usage;
	fflush(stdout);
	pid = strcmp(mode, "fork") ? vfork() : fork();
	if (pid < 0) {
		perror("forker: fork");
		return 1;
	}
	if (pid == 0) {
		if (strcmp(mode, "fork"))
			exec_race();
		exit(race());
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("forker: waitpid");
		return 1;
	}
	child_hot = 2;
	if (WIFEXITED(status))
		printf("parent: child exited %d\n", WEXITSTATUS(status));
	else
		printf("parent: child killed by signal %d\n", WTERMSIG(status));
	return 0;
usage:
	fprintf(stderr, "usage: forker [-a] [-n ITER] fork|vfork|exec|race\n");
	return 2;
}
