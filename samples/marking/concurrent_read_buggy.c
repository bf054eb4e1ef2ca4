/*
 * concurrent_read_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Accesses" (the access may race with any other access: no lock at all).
 *
 * Buggy twin of concurrent_read.c: read_a() uses a plain read of a variable
 * that is concurrently written.
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in read_a / write_a
 * exit 66.
 *
 * Usage: concurrent_read_buggy [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);

static long done;		/* loop iterations, all threads */

__named int read_a(void)
{
	int r1;

	r1 = a;			/* BUG: should be READ_ONCE(a) */
	barrier();
	return r1;
}

__named void write_a(int v)
{
	WRITE_ONCE(a, v);
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		keep(read_a());
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *writer(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		write_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { reader, writer };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("concurrent_read_buggy: done %ld\n", done);
	return 0;
}
