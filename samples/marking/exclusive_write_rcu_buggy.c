/*
 * exclusive_write_rcu_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Buggy twin of exclusive_write_rcu.c: set_a_unlocked() writes a with
 * WRITE_ONCE() and no lock.  Without the assertion only the RCU rules catch
 * it: "use of a C-language write indicates that the variable being written
 * is guaranteed not to be concurrently accessed (at all!)"; the default rules
 * assume the plain write atomic -- which is why the rest-of-kernel column
 * adds ASSERT_EXCLUSIVE_ACCESS() (exclusive_write_buggy.c).
 *
 * Expected:
 *   default   no report, exit 0.
 *   --strict  BUG: racewatch: data-race in set_a / set_a_unlocked; exit 66.
 *
 * Usage: exclusive_write_rcu_buggy [ITERATIONS]
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
	printf("exclusive_write_rcu_buggy: done %ld\n", done);
	return 0;
}
