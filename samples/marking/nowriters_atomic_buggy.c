/*
 * nowriters_atomic_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Reads, Excluded Writes" (readers may run together, writers must not run
 * with anyone).
 *
 * Buggy twin of nowriters_atomic.c: add_a_unlocked() does its RMW without
 * a_lock.  The seed: the assertion "causes KCSAN to warn if there are
 * concurrent writers" -- and only writers: the reader stays unreported.
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: assert: race in add_a / add_a_unlocked
 * and no report naming read_a, no "data-race" report; exit 66.
 *
 * Usage: nowriters_atomic_buggy [ITERATIONS]
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
	ASSERT_EXCLUSIVE_WRITER(a);
	spin_unlock(&a_lock);
}

__named void add_a_unlocked(void)
{
	RMW(&a);		/* BUG: a_lock not held */
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

static void *sloppy_adder(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		add_a_unlocked();
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
	void *(*const threads[])(void *) = { adder, sloppy_adder, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("nowriters_atomic_buggy: done %ld\n", done);
	return 0;
}
