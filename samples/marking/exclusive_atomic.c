/*
 * exclusive_atomic — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Row "Atomics", both columns: RMW(&a); ASSERT_EXCLUSIVE_ACCESS(a);
 * Two adders, both under a_lock.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Buggy twin: exclusive_atomic_buggy.c.
 *
 * Usage: exclusive_atomic [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_SPINLOCK(a_lock);

static long done;		/* loop iterations, all threads */

__named void add_a(void)
{
	spin_lock(&a_lock);
	RMW(&a);
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
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

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { adder, adder };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("exclusive_atomic: done %ld\n", done);
	return 0;
}
