/*
 * exclusive_atomic_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Buggy twin of exclusive_atomic.c: add_a_unlocked() does its RMW without
 * a_lock.  Two atomics never make a data race; only the assertion sees it.
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: assert: race in add_a / add_a_unlocked
 * and never a "data-race" report; exit 66.
 *
 * Usage: exclusive_atomic_buggy [ITERATIONS]
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

__named void add_a_unlocked(void)
{
	RMW(&a);		/* BUG: a_lock not held */
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

static void *sloppy_adder(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		add_a_unlocked();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { adder, sloppy_adder };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("exclusive_atomic_buggy: done %ld\n", done);
	return 0;
}
