/*
 * exclusive_write — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Row "Writes", rest-of-kernel column: a = 1; ASSERT_EXCLUSIVE_ACCESS(a);
 * ("the fact that normal C-language writes are treated the same as is
 * WRITE_ONCE() means that a call to the KCSAN ASSERT_EXCLUSIVE_ACCESS()
 * function is required").  Two setters, both under a_lock.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * RCU column: exclusive_write_rcu.c.  Buggy twin: exclusive_write_buggy.c.
 *
 * Usage: exclusive_write [ITERATIONS]
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

static void *setter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		set_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { setter, setter };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("exclusive_write: done %ld\n", done);
	return 0;
}
