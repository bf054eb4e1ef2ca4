/*
 * concurrent_write_rcu — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Accesses" (the access may race with any other access: no lock at all).
 *
 * Row "Writes", RCU column: WRITE_ONCE(a, 1);  Two lockless writers, a
 * READ_ONCE() reader.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Rest-of-kernel column: concurrent_write.c.
 *
 * Usage: concurrent_write_rcu [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);

static long done;		/* loop iterations, all threads */

__named void write_a(int v)
{
	WRITE_ONCE(a, v);
}

__named int read_a(void)
{
	return READ_ONCE(a);
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
	void *(*const threads[])(void *) = { writer, writer, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("concurrent_write_rcu: done %ld\n", done);
	return 0;
}
