/*
 * exclusive_read_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * Buggy twin of exclusive_read.c: peek_a() reads a locklessly, with
 * READ_ONCE().  Two reads are never a data race, but access-marking.txt:
 * "ASSERT_EXCLUSIVE_ACCESS(foo) tells KCSAN that any concurrent access to
 * variable foo by any other CPU is an error, even if that concurrent access
 * is marked with READ_ONCE()."
 *
 * Expected:
 *   default   BUG: racewatch: assert: race in check_a / peek_a
 *             and no "data-race" report (set_a's plain aligned write is
 *             assumed atomic against the marked read); exit 66.
 *   --strict  the same assertion report, and also
 *             BUG: racewatch: data-race in peek_a / set_a; exit 66.
 *
 * Usage: exclusive_read_buggy [ITERATIONS]
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

__named int peek_a(void)
{
	return READ_ONCE(a);	/* BUG: a_lock not held */
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

static void *peeker(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		keep(peek_a());
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { checker, setter, peeker };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("exclusive_read_buggy: done %ld\n", done);
	return 0;
}
