/*
 * bench.h — what the bench workloads share: argument parsing and optional
 * CPU pinning.
 *
 * BENCH_CPU=N in the environment pins the whole program to CPU N before it
 * starts any thread (the threads inherit it).  run.sh uses it for the
 * placement experiments: `taskset -c A racewatch run -- PROG` with
 * BENCH_CPU=B puts the tracer on A and the program on B, with no race
 * against the tracer's fork (taskset alone is inherited by the program).
 */
#ifndef BENCH_H
#define BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* sched_setaffinity, CPU_SET */
#endif
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

/* The store must happen each iteration, but stays a plain access. */
#define compiler_barrier() __asm__ volatile("" ::: "memory")

/* argv[i] as a positive count, or def when absent; exits 2 on garbage. */
static inline long bench_arg(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (i >= argc)
		return def;
	errno = 0;
	v = strtol(argv[i], &end, 0);
	if (errno || *end || v < 0) {
		fprintf(stderr, "%s: argument %d: expected a count, got '%s'\n", argv[0], i, argv[i]);
		exit(2);
	}
	return v;
}

static inline void bench_pin(void)
{
	const char *s = getenv("BENCH_CPU");
	cpu_set_t set;

	if (!s || !*s)
		return;
	CPU_ZERO(&set);
	CPU_SET(atoi(s), &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		perror("BENCH_CPU: sched_setaffinity");
}

#endif
