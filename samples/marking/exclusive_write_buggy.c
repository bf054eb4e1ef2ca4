/*
 * exclusive_write_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Buggy twin of exclusive_write.c: set_a_unlocked() writes a with
 * WRITE_ONCE() and no lock.  access-marking.txt: the ASSERT_EXCLUSIVE_ACCESS()
 * "further allows KCSAN to flag buggy concurrent writes, even if: (1) Those
 * writes are marked or (2) The kernel was built with
 * CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=y."
 *
 * Expected:
 *   default   BUG: racewatch: assert: race in set_a / set_a_unlocked
 *             and no "data-race" report (plain aligned write vs marked
 *             write: assumed atomic); exit 66.
 *   --strict  the assertion report, and also
 *             BUG: racewatch: data-race in set_a / set_a_unlocked; exit 66.
 *
 * Usage: exclusive_write_buggy [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_SPINLOCK(a_lock);

static long done;		/* loop iterations, all threads */

__named void set_a(int v)
{
	spin_lock(&a_lock);
	a = v;
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
}

__named void set_a_unlocked(int v)
{
	WRITE_ONCE(a, v);	/* BUG: a_lock not held */
}

static void *setter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		set_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *sloppy_setter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		set_a_unlocked(-(int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { setter, sloppy_setter };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("exclusive_write_buggy: done %ld\n", done);
	return 0;
}
