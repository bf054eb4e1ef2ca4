/*
 * exclusive_write_rcu — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Row "Writes", RCU column: a = 1;  -- under the RCU (--strict) rules a plain
 * write already says "no concurrent access at all", so no assertion is
 * needed.  Two setters, both under a_lock.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Rest-of-kernel column: exclusive_write.c.  Buggy twin:
 * exclusive_write_rcu_buggy.c.
 *
 * Usage: exclusive_write_rcu [ITERATIONS]
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
	printf("exclusive_write_rcu: done %ld\n", done);
	return 0;
}
