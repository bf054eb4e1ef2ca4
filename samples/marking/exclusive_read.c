/*
 * exclusive_read — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Row "Reads", both columns: r1 = a; ASSERT_EXCLUSIVE_ACCESS(a);
 * Two checkers read a under a_lock and assert exclusivity; a setter writes
 * it under a_lock (row "Writes", rest-of-kernel form).
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Buggy twin: exclusive_read_buggy.c.
 *
 * Usage: exclusive_read [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_SPINLOCK(a_lock);

static long done;		/* loop iterations, all threads */

__named int check_a(void)
{
	int r1;

	spin_lock(&a_lock);
	r1 = a;
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
	return r1;
}

__named void set_a(int v)
{
	spin_lock(&a_lock);
	a = v;
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
}

static void *checker(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		keep(check_a());
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
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
	void *(*const threads[])(void *) = { checker, checker, setter };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("exclusive_read: done %ld\n", done);
	return 0;
}
