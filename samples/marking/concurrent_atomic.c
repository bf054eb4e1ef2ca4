/*
 * concurrent_atomic — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Accesses" (the access may race with any other access: no lock at all).
 *
 * Row "Atomics", both columns: RMW(&a);  Two lockless adders, a READ_ONCE()
 * reader.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Buggy twin: concurrent_atomic_buggy.c.
 *
 * Usage: concurrent_atomic [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);

static long done;		/* loop iterations, all threads */

__named void add_a(void)
{
	RMW(&a);
}

__named int read_a(void)
{
	return READ_ONCE(a);
}

static void *adder(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		add_a();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
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

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { adder, adder, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("concurrent_atomic: done %ld\n", done);
	return 0;
}
